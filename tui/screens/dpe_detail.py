"""One DPE over the SCADA screen: its latest record and its chart: the history Elasticsearch
holds over 1 h, 24 h or 7 d (`r` cycles, `h` `d` `w` choose) joined to the live values."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets import DETAIL_CHARS, HistoryChart, dpe_value, plain
from vac.dash.history import RANGES, chart_data, next_range
from vac.search.scada_history import BucketedHistory

if TYPE_CHECKING:
    from tui.app import VacDash

LIVE_REDRAW_S = 1.0
"""The live end of the chart moves this often."""
REREAD_S = 60.0
"""Elasticsearch is asked again this often while the chart is open (new slices were indexed)."""


class DpeDetail(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss", "Close", id="detail.close"),
        Binding("r", "cycle_range", "Range", id="detail.range"),
        Binding("h", "set_range('1h')", "1 h", show=False, id="detail.1h"),
        Binding("d", "set_range('24h')", "24 h", show=False, id="detail.24h"),
        Binding("w", "set_range('7d')", "7 d", show=False, id="detail.7d"),
    ]

    def __init__(self, dpe: str) -> None:
        super().__init__()
        self.dpe = dpe
        self.range_name = "1h"
        self.indexed: BucketedHistory | None = None
        self.note = "reading the history from Elasticsearch..."

    @property
    def dash(self) -> VacDash:
        return cast("VacDash", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(id="detail-head")
            yield HistoryChart(id="history")
            yield Static(id="detail-keys", classes="hint")

    def on_mount(self) -> None:
        self.draw()
        self.read_history()
        self.set_interval(LIVE_REDRAW_S, self.draw)
        self.set_interval(REREAD_S, self.read_history)

    def action_cycle_range(self) -> None:
        self.action_set_range(next_range(self.range_name))

    def action_set_range(self, name: str) -> None:
        if name in RANGES and name != self.range_name:
            self.range_name, self.indexed, self.note = name, None, "reading the history from Elasticsearch..."
            self.draw()
            self.read_history()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def read_history(self) -> None:
        """On a worker thread: the network must not hold the screen."""
        reader = self.dash.history
        if reader is None:
            self.app.call_from_thread(self._take, self.range_name, None, "no Elasticsearch: live values only")
            return
        asked = self.range_name
        now_s = self.dash.now()
        indexed, note = reader.read(self.dpe, now_s - RANGES[asked], now_s)
        self.app.call_from_thread(self._take, asked, indexed, note)

    def _take(self, asked: str, indexed: BucketedHistory | None, note: str) -> None:
        if asked != self.range_name:  # the operator chose another range meanwhile
            return
        self.indexed, self.note = indexed, note
        self.draw()

    def draw(self) -> None:
        row = self.dash.state.board.rows.get(self.dpe)
        head = plain(self.dpe, "bold", DETAIL_CHARS)
        if row is not None:
            head.append(f"  {dpe_value(row)} {row.unit}  ")
            head.append_text(plain(f"{row.status}  sector {row.sector}  {row.mainpart}  DCUM {row.dcum}"))
        self.query_one("#detail-head", Static).update(head)
        log_y = self.dpe.endswith(".PR")
        data = chart_data(
            self.dpe, self.range_name, self.dash.now(), self.indexed, row.history if row else None, log_y, self.note
        )
        self.query_one(HistoryChart).show(data, self.range_name)
        keys = "  ".join(f"[{name}]" if name == self.range_name else name for name in RANGES)
        self.query_one("#detail-keys", Static).update(Text(f"range: {keys}   r cycles, h d w choose   Esc closes"))
