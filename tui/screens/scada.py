"""Screen 2: the live value of every DPE seen, filtered and sorted, and the alarm list."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Input, Static

from tui.screens.base import DashScreen
from tui.screens.dpe_detail import DpeDetail
from tui.screens.timeline import TimelineScreen
from tui.widgets import Banner, age, clock, dpe_value, plain
from vac.dash.scada_board import SORT_KEYS
from vac.dash.state import DashState

MAX_DPE_ROWS = 200
"""Rows of the DPE table; the filter narrows 10,000 DPEs down to what matters."""
MAX_ALARM_ROWS = 50
"""A sector event can raise a thousand; the newest unacknowledged come first."""


class ScadaScreen(DashScreen):
    AUTO_FOCUS = "#dpes"  # keys act on the table; the filter takes them only after /
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="scada.filter"),
        Binding("s", "cycle_sort", "Sort", id="scada.sort"),
        Binding("a", "acknowledge", "Ack alarm", id="scada.acknowledge"),
        Binding("A", "acknowledge_all", "Ack all", show=False, id="scada.acknowledge_all"),
        Binding("escape", "clear_filter", "Clear", show=False, id="scada.clear_filter"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Banner(id="banner")
        yield Input(placeholder="/ filter: VGPB*  sector:7R  mainpart:ARC  status:invalid", id="dpe-filter")
        yield Static(id="dpe-count")
        with Vertical():
            yield DataTable(id="dpes", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="alarms", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sort = "name"
        self.filter_text = ""
        self._alarm_keys: list[tuple[str, str]] = []
        """The (DPE, kind) of each row of the alarm table, in its order."""
        self.query_one("#dpes", DataTable).add_columns(
            "DPE", "value", "unit", "age", "status", "sector", "mainpart", "DCUM"
        )
        self.query_one("#alarms", DataTable).add_columns("raised", "DPE", "alarm", "state")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "dpe-filter":
            self.filter_text = event.value
            self._tick(force=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#dpes", DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#dpe-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#dpe-filter", Input).value = ""
        self.query_one("#dpes", DataTable).focus()

    def action_cycle_sort(self) -> None:
        self.sort = SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)]
        self._tick(force=True)  # the count line says what it is sorted by

    def action_acknowledge(self) -> None:
        """The alarm under the cursor when the alarm list has focus, else what the core's
        policy says for the selected DPE."""
        alarms_table = self.query_one("#alarms", DataTable)
        if alarms_table.has_focus and 0 <= alarms_table.cursor_row < len(self._alarm_keys):
            self.state.acknowledge(self._alarm_keys[alarms_table.cursor_row])
        else:
            self.state.acknowledge_dpe(self._selected_dpe())
        self._tick(force=True)

    def action_acknowledge_all(self) -> None:
        self.state.acknowledge_all()
        self._tick(force=True)

    def _selected_dpe(self) -> str | None:
        table = self.query_one("#dpes", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "dpes":
            self.app.push_screen(DpeDetail(str(event.row_key.value)))
        elif event.data_table.id == "alarms" and 0 <= event.cursor_row < len(self._alarm_keys):
            alarm = self.state.alarms.alarms.get(self._alarm_keys[event.cursor_row])
            if alarm is not None:  # the timeline around the moment it was raised
                self.app.push_screen(TimelineScreen(alarm.dpe, alarm.raised_s))

    def redraw(self, state: DashState, tables: bool) -> None:
        super().redraw(state, tables)
        if not tables:
            return
        now = self.dash.now()
        try:
            rows = state.board.matching(self.filter_text, self.sort, now)
        except Exception:  # a half-typed pattern matches nothing rather than failing
            rows = []
        shown = rows[:MAX_DPE_ROWS]
        counts = f"{len(shown):,} of {len(rows):,} matching DPEs ({len(state.board.rows):,} seen)"
        self.query_one("#dpe-count", Static).update(Text(f"{counts}, sorted by {self.sort}"))
        in_alarm = state.alarms.active_dpes()
        table = self.query_one("#dpes", DataTable)
        selected = self._selected_dpe()
        table.clear()
        for row in shown:
            style = "bold red" if row.name in in_alarm else ("yellow" if row.status != "ok" else "")
            table.add_row(
                plain(row.name, style), Text(dpe_value(row), style), row.unit, age(row.age_s(now)),
                plain(row.status, style), plain(row.sector), plain(row.mainpart), plain(row.dcum), key=row.name,
            )  # fmt: skip
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        alarms = self.query_one("#alarms", DataTable)
        alarm_cursor = alarms.cursor_row
        alarms.clear()
        listed = state.alarms.listed()[:MAX_ALARM_ROWS]
        alarms.border_title = (
            f"alarms: {len(state.alarms.alarms):,} listed, {state.alarms.unacknowledged:,} to acknowledge"
        )
        self._alarm_keys = [alarm.key for alarm in listed]
        for alarm in listed:
            style = "" if alarm.acked else ("bold red" if alarm.cleared_s is None else "yellow")
            alarms.add_row(
                clock(alarm.raised_s), plain(alarm.dpe, style), plain(alarm.message, style), Text(alarm.state, style),
            )  # fmt: skip
        if alarms.row_count:
            alarms.move_cursor(row=min(alarm_cursor, alarms.row_count - 1), animate=False)
