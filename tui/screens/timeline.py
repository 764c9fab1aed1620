"""One DPE's timeline over the SCADA screen (Enter on an alarm): its values, its alarms raised,
acknowledged and cleared, and the log records of the SCADA servers around the alarm, merged
by time (`DashState.timeline`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.widgets import DETAIL_CHARS, LEVEL_STYLES, plain

if TYPE_CHECKING:
    from tui.app import VacDash

SOURCE_STYLES = {"value": "cyan", "alarm": "bold red", "log": ""}


class TimelineScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close", id="timeline.close")]

    def __init__(self, dpe: str, around_s: float) -> None:
        super().__init__()
        self.dpe, self.around_s = dpe, around_s

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(id="timeline-head")
            yield DataTable(id="timeline", cursor_type="row")
            yield Static("Esc closes", classes="hint")

    def on_mount(self) -> None:
        entries = cast("VacDash", self.app).state.timeline(self.dpe, self.around_s)
        head = plain(f"{self.dpe}: values, alarms and log records, 5 min either side", "bold", DETAIL_CHARS)
        self.query_one("#timeline-head", Static).update(head)
        table = self.query_one("#timeline", DataTable)
        table.add_columns("time", "from", "", "subject", "what")
        for entry in entries:
            clock = time.strftime("%H:%M:%S", time.localtime(entry.at_s))
            style = LEVEL_STYLES.get(entry.level, "") if entry.source == "log" else SOURCE_STYLES[entry.source]
            table.add_row(clock, entry.source, plain(entry.level, style), plain(entry.subject),
                          plain(entry.text, style))  # fmt: skip
        table.focus()
