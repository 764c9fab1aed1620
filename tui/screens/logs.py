"""Screen 3: the live log stream, filtered by a query or to errors, with records per minute
by level and the most frequent message codes."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input

from tui.screens.base import DashScreen
from tui.screens.log_detail import LogDetail
from tui.widgets import DETAIL_CHARS, LEVEL_STYLES, Banner, LevelHistogram, plain
from vac.dash.log_window import LogFilter
from vac.dash.state import DashState
from vac.errors import UsageError
from vac.printable import printable
from vac.search.fields import field_value
from vac.timegrammar import parse_iso_utc

MAX_LOG_ROWS = 300
ERROR_LEVELS = {"FATAL", "SEVERE", "ERROR"}


class LogsScreen(DashScreen):
    AUTO_FOCUS = "#records"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="logs.filter"),
        Binding("e", "only_errors", "Errors only", id="logs.only_errors"),
        Binding("escape", "clear_filter", "Clear", show=False, id="logs.clear_filter"),
    ]
    always_redraw = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Banner(id="banner")
        yield Input(placeholder='/ KQL: level:SEVERE and manager:WCCOA* and "Connection lost"', id="log-filter")
        with Horizontal(id="log-summary"):
            yield LevelHistogram(id="log-histogram")
            yield DataTable(id="codes", cursor_type="row")
        yield DataTable(id="records", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#codes", DataTable).add_columns("code", "n", "text")
        self.query_one("#records", DataTable).add_columns("time", "host", "app", "level", "manager", "text")
        self.shown: list[dict[str, Any]] = []

    def action_focus_filter(self) -> None:
        self.query_one("#log-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#log-filter", Input).value = ""
        self._apply(LogFilter())
        self.query_one("#records", DataTable).focus()

    def action_only_errors(self) -> None:
        current = self.state.logs.filter
        levels = set() if current.levels else set(ERROR_LEVELS)
        self._apply(LogFilter(levels, current.app, current.host, current.manager, current.query))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "log-filter":
            self._apply(LogFilter(self.state.logs.filter.levels, query=event.value))
            self.query_one("#records", DataTable).focus()

    def _apply(self, log_filter: LogFilter) -> None:
        try:
            self.state.logs.set_filter(log_filter)
        except UsageError as exc:
            self.notify(printable(exc.message, DETAIL_CHARS), severity="error", markup=False)
            return
        self._tick(force=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "records" and 0 <= event.cursor_row < len(self.shown):
            self.app.push_screen(LogDetail(self.shown[event.cursor_row]))

    def redraw(self, state: DashState, tables: bool) -> None:
        super().redraw(state, tables)
        if not tables:
            return
        self.query_one(LevelHistogram).show(
            state.logs.per_minute(30, self.dash.now()), "records per minute by level (last 30 min)"
        )
        codes = self.query_one("#codes", DataTable)
        codes.clear()
        for code, count, example in state.logs.top_codes(8):
            codes.add_row(plain(code), str(count), plain(example.split("\n", 1)[0]))  # a cell is one line
        records = self.query_one("#records", DataTable)
        self.shown = state.logs.shown(MAX_LOG_ROWS)
        at_bottom = records.cursor_row >= records.row_count - 1
        records.clear()
        for doc in self.shown:
            level = str(doc.get("level", ""))
            text = str(doc.get("text") or doc.get("message") or "").split("\n", 1)[0]
            records.add_row(
                plain(_when(doc)), plain(field_value(doc, "host") or ""), plain(field_value(doc, "app") or ""),
                plain(level, LEVEL_STYLES.get(level, "")), plain(doc.get("manager", "")), plain(text, limit=500),
            )  # fmt: skip
        if at_bottom and records.row_count:
            records.move_cursor(row=records.row_count - 1, animate=False)


def _when(doc: dict[str, Any]) -> str:
    stamp = str(doc.get("@timestamp", ""))
    try:
        return parse_iso_utc(stamp).astimezone().strftime("%H:%M:%S")
    except (ValueError, OverflowError):  # not a time, or year 1 moved by a zone
        return stamp[:19]
