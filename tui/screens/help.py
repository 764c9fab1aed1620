"""The keys, on `?`."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(
            "vac dash\n\n"
            "1 overview  2 SCADA  3 logs  4 profile  ? this help  Ctrl+P commands  q quit\n\n"
            "SCADA: / filter (VGPB*  sector:7R  mainpart:ARC  status:invalid)   s sort\n"
            "       Enter chart of the selected DPE (r range, h 1 h, d 24 h, w 7 d)\n"
            "       a acknowledge (the selected alarm,\n"
            "       or the selected DPE's)   A acknowledge all   Tab to the alarm list\n"
            'Logs:  / query (level:SEVERE manager:WCCOActrl "text")   e errors only\n'
            "       Enter the whole record and its neighbours\n"
            "Profile: / filter (sector:S78  mainpart:ARC  VGPB*), Esc the whole ring:\n"
            "         the latest pressure of each gauge against DCUM, log axis\n\n"
            "Esc closes this help.",
            id="help",
        )
