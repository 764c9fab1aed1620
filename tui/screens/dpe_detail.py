"""One DPE over the SCADA screen: its latest record and its recent history as a chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets import DETAIL_CHARS, HistoryChart, dpe_value, plain

if TYPE_CHECKING:
    from tui.app import VacDash


class DpeDetail(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter", "dismiss", "Close", id="detail.close")]

    def __init__(self, dpe: str) -> None:
        super().__init__()
        self.dpe = dpe

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(id="detail-head")
            yield HistoryChart(id="history")
            yield Static("Esc closes", classes="hint")

    def on_mount(self) -> None:
        row = cast("VacDash", self.app).state.board.rows.get(self.dpe)
        head = plain(self.dpe, "bold", DETAIL_CHARS)
        if row is not None:
            head.append(f"  {dpe_value(row)} {row.unit}  ")
            head.append_text(plain(f"{row.status}  sector {row.sector}  {row.mainpart}  DCUM {row.dcum}"))
        self.query_one("#detail-head", Static).update(head)
        points = list(row.history) if row else []
        self.query_one(HistoryChart).show(self.dpe, points, log_scale=row is not None and row.unit == "mbar")
