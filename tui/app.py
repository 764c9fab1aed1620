"""`vac dash`: the on-call screen. It draws what `vac.dash.state.DashState` holds; background
readers (`DashFeeds`) fill that state, and every screen redraws at most `dash.refresh_hz`
times a second, only when the state moved, whatever the input rate.

Everything shown that came from outside (topic data, log text, DPE names, hosts, server
errors) goes through `_plain`: a Rich `Text` (Textual parses a bare `str` in a cell or a
Static as markup, and `[/]` in a log line would end the app) with controls escaped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual_plotext import PlotextPlot

from vac.dash.log_window import LogFilter
from vac.dash.scada_board import SORT_KEYS, DpeRow
from vac.dash.state import DashFeeds, DashState
from vac.errors import UsageError
from vac.printable import printable
from vac.search.fields import field_value
from vac.units import engineering

LEVEL_STYLES = {"FATAL": "bold red", "SEVERE": "red", "ERROR": "red", "WARNING": "yellow", "WARN": "yellow"}
MAX_DPE_ROWS = 200
"""Rows of the DPE table; the filter narrows 10,000 DPEs down to what matters."""
MAX_LOG_ROWS = 300
MAX_ALARM_ROWS = 50
TABLES_EVERY_S = 1.0
"""A sector event can raise a thousand; the newest unacknowledged come first."""
CELL_CHARS = 200
"""A table cell shows at most this much of a value: a 1 MB log line costs what a screen shows."""
DETAIL_CHARS = 20_000
"""The most of one record the detail view shows."""
CHART_LIMIT = 1e200
"""The largest magnitude charted (pressures span 1e-13 to 1e3 mbar)."""


def _plain(value: object, style: str = "", limit: int = CELL_CHARS) -> Text:
    """Outside data as something to read: never markup, controls escaped, cut to `limit`."""
    return Text(printable(str(value), limit), style=style)


def _clock(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s).strftime("%H:%M:%S") if epoch_s else "-"


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def _value(row: DpeRow) -> str:
    if (row.type == "unsigned" or row.name.endswith(".RR1")) and math.isfinite(row.value):
        return f"0x{int(row.value):X}"
    return engineering(row.value)


def _vac_dash(app: App[Any]) -> VacDash:
    """The app every screen here belongs to, typed."""
    assert isinstance(app, VacDash)
    return app


class DashScreen(Screen[None]):
    """A screen that redraws from the shared state when it changed."""

    def on_mount(self) -> None:
        self._drawn_version = -1
        self._tables_at = 0.0
        self.set_interval(1 / self.dash.state.settings.dash.refresh_hz, self._tick)
        self._tick(force=True)

    @property
    def dash(self) -> VacDash:
        return _vac_dash(self.app)

    def _tick(self, force: bool = False) -> None:
        """Redraw; the big tables at most once a second unless the operator just asked for
        something (`force`): rebuilding them is what costs, and a second is what ages show."""
        state = self.dash.state
        if state.version == self._drawn_version and not self.always_redraw and not force:
            return
        tables = force or time.monotonic() - self._tables_at >= TABLES_EVERY_S
        if tables:
            self._tables_at = time.monotonic()
        with state.lock:
            self._drawn_version = state.version
            self.redraw(state, tables)

    always_redraw = True
    """Ages and connection states move with time, not only with data."""

    def redraw(self, state: DashState, tables: bool) -> None:
        """What every screen shows: the banner. Screens add theirs after calling this."""
        self.query_one("#banner", Static).update(self.banner_text(state))

    def banner_text(self, state: DashState) -> Text:
        """Connection problems and unacknowledged alarms, on every screen."""
        text = Text()
        pipeline = state.pipeline
        problem = self.dash.connection_problem()
        if problem:
            text.append(f" {printable(problem, CELL_CHARS)} ", style="bold white on red")
            text.append(" ")
        elif pipeline.es_status is None and pipeline.kafka_up is not None:
            text.append(" Elasticsearch: no connection ", style="bold white on red")
            text.append(" ")
        alarms = state.alarms.unacknowledged
        if alarms:
            text.append(
                f" {alarms} alarm{'s' if alarms != 1 else ''} to acknowledge (2, a) ", style="bold black on yellow"
            )
        elif not text:
            text.append(" all quiet ", style="bold black on green")
        return text


class OverviewScreen(DashScreen):
    AUTO_FOCUS = "#fleet"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="banner")
        yield Static(id="services")
        with Horizontal(id="overview-tables"):
            yield DataTable(id="topics", cursor_type="row")
            yield DataTable(id="fleet", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#topics", DataTable).add_columns("topic", "msg/s")
        self.query_one("#fleet", DataTable).add_columns("host", "component", "heartbeat", "rate/s", "behind", "errors")
        super().on_mount()

    def redraw(self, state: DashState, tables: bool) -> None:
        super().redraw(state, tables)
        pipeline = state.pipeline
        services = Text()
        if pipeline.kafka_up is None:
            services.append("Kafka: checking…  ")
        elif pipeline.kafka_up:
            services.append(f"Kafka: up, {pipeline.brokers} broker{'s' if pipeline.brokers != 1 else ''}  ", "green")
        else:
            services.append(f"Kafka: DOWN ({printable(pipeline.kafka_error or 'no answer', CELL_CHARS)})  ", "bold red")
        if pipeline.es_status is not None:
            style = {"green": "green", "yellow": "yellow"}.get(pipeline.es_status, "bold red")
            services.append(f"Elasticsearch: {printable(pipeline.es_status, CELL_CHARS)}  ", style)
        elif pipeline.kafka_up is not None:
            error = printable(pipeline.es_error or "no answer", CELL_CHARS)
            services.append(f"Elasticsearch: DOWN ({error})  ", "bold red")
        lag = "-" if pipeline.index_lag is None else f"{pipeline.index_lag:,}"
        services.append(f"indexer lag: {lag}  changes seen: {state.changes:,}  log records: {state.logs.received:,}")
        self.query_one("#services", Static).update(services)
        if not tables:
            return
        topics = self.query_one("#topics", DataTable)
        topics.clear()
        for topic in self.dash.state_topics():
            rate = pipeline.rates.get(topic)
            topics.add_row(_plain(topic), "-" if rate is None else f"{rate:,.0f}", key=topic)
        fleet = self.query_one("#fleet", DataTable)
        fleet.clear()
        now = self.dash.now()
        stale_after = state.settings.dash.stale_after_s
        for member in state.fleet.listed():
            age = member.age_s(now)
            style = "bold red" if age > stale_after else ""
            fleet.add_row(
                _plain(member.host, style), _plain(member.component, style), Text(_age(age), style),
                f"{member.rate:,.0f}", _plain(member.behind), _plain(member.errors),
                key=f"{member.host}/{member.component}",
            )  # fmt: skip


class ScadaScreen(DashScreen):
    AUTO_FOCUS = "#dpes"  # keys act on the table; the filter takes them only after /
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("a", "acknowledge", "Ack alarm"),
        Binding("A", "acknowledge_all", "Ack all", show=False),
        Binding("escape", "clear_filter", "Clear", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="banner")
        yield Input(placeholder="/ filter: VGPB*  sector:7R  mainpart:ARC  status:invalid", id="dpe-filter")
        yield Static(id="dpe-count")
        with Vertical():
            yield DataTable(id="dpes", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="alarms", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sort = "name"
        self.filter_text = ""
        self.query_one("#dpes", DataTable).add_columns(
            "DPE", "value", "unit", "age", "status", "sector", "mainpart", "DCUM"
        )
        self.query_one("#alarms", DataTable).add_columns("raised", "DPE", "alarm", "state")
        super().on_mount()

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
        state = self.dash.state
        alarms_table = self.query_one("#alarms", DataTable)
        with state.lock:
            if alarms_table.has_focus and alarms_table.row_count:
                key = alarms_table.coordinate_to_cell_key(alarms_table.cursor_coordinate).row_key.value
                dpe, _, kind = str(key).rpartition("|")  # a DPE name from outside may hold a "|"
                state.alarms.acknowledge((dpe, kind))
            else:
                dpe = self._selected_dpe()
                for alarm in list(state.alarms.alarms.values()):
                    if alarm.dpe == dpe or dpe is None:
                        state.alarms.acknowledge(alarm.key)
                        if dpe is None:
                            break
        self._tick(force=True)

    def action_acknowledge_all(self) -> None:
        with self.dash.state.lock:
            self.dash.state.alarms.acknowledge_all()
        self._tick(force=True)

    def _selected_dpe(self) -> str | None:
        table = self.query_one("#dpes", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "dpes":
            self.app.push_screen(DpeDetail(str(event.row_key.value)))

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
                _plain(row.name, style), Text(_value(row), style), row.unit, _age(row.age_s(now)),
                _plain(row.status, style), _plain(row.sector), _plain(row.mainpart), _plain(row.dcum), key=row.name,
            )  # fmt: skip
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        alarms = self.query_one("#alarms", DataTable)
        alarm_cursor = alarms.cursor_row
        alarms.clear()
        listed = state.alarms.listed()
        alarms.border_title = f"alarms: {len(listed):,} listed, {state.alarms.unacknowledged:,} to acknowledge"
        for alarm in listed[:MAX_ALARM_ROWS]:
            condition = "cleared" if alarm.cleared_s is not None else "active"
            acked = "acked" if alarm.acked else "NEW"
            style = "" if alarm.acked else ("bold red" if alarm.cleared_s is None else "yellow")
            alarms.add_row(
                _clock(alarm.raised_s), _plain(alarm.dpe, style), _plain(alarm.message, style),
                Text(f"{condition}, {acked}", style), key=f"{alarm.dpe}|{alarm.kind}",
            )  # fmt: skip
        if alarms.row_count:
            alarms.move_cursor(row=min(alarm_cursor, alarms.row_count - 1), animate=False)


class DpeDetail(ModalScreen[None]):
    """One DPE: its latest record and its recent history as a chart."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, dpe: str) -> None:
        super().__init__()
        self.dpe = dpe

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(id="detail-head")
            yield PlotextPlot(id="history")
            yield Static("Esc closes", classes="hint")

    def on_mount(self) -> None:
        state = _vac_dash(self.app).state
        with state.lock:
            row = state.board.rows.get(self.dpe)
            points = list(row.history) if row else []
        head = _plain(self.dpe, "bold", DETAIL_CHARS)
        if row is not None:
            head.append(f"  {_value(row)} {row.unit}  ")
            head.append_text(_plain(f"{row.status}  sector {row.sector}  {row.mainpart}  DCUM {row.dcum}"))
        self.query_one("#detail-head", Static).update(head)
        plot = self.query_one("#history", PlotextPlot).plt
        # plotext overflows on its axis ticks near float's limits (10 ** 308.5), which would end
        # the app: such values stay in the table but not on the chart.
        charted = [(at, value) for at, value in points if abs(value) <= CHART_LIMIT]
        if charted:
            start = charted[0][0]
            plot.plot([at - start for at, _ in charted], [value for _, value in charted], marker="braille")
            if row is not None and row.unit == "mbar" and all(value >= 1 / CHART_LIMIT for _, value in charted):
                plot.yscale("log")
            plot.xlabel(f"seconds since {_clock(start)}")
        dropped = len(points) - len(charted)
        left_out = f", {dropped} beyond ±{CHART_LIMIT:g} not drawn" if dropped else ""
        plot.title(f"{printable(self.dpe, CELL_CHARS)}: {len(points)} values{left_out}")


class LogsScreen(DashScreen):
    AUTO_FOCUS = "#records"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("e", "only_errors", "Errors only"),
        Binding("escape", "clear_filter", "Clear", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="banner")
        yield Input(placeholder='/ query: level:SEVERE manager:WCCOActrl "Connection lost"', id="log-filter")
        with Horizontal(id="log-summary"):
            yield PlotextPlot(id="log-histogram")
            yield DataTable(id="codes", cursor_type="row")
        yield DataTable(id="records", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#codes", DataTable).add_columns("code", "n", "text")
        self.query_one("#records", DataTable).add_columns("time", "host", "app", "level", "manager", "text")
        self.shown: list[dict[str, Any]] = []
        super().on_mount()

    def action_focus_filter(self) -> None:
        self.query_one("#log-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#log-filter", Input).value = ""
        self._apply(LogFilter())
        self.query_one("#records", DataTable).focus()

    def action_only_errors(self) -> None:
        state = self.dash.state
        current = state.logs.filter
        levels = set() if current.levels else {"FATAL", "SEVERE", "ERROR"}
        self._apply(LogFilter(levels, current.app, current.host, current.manager, current.query))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "log-filter":
            current = self.dash.state.logs.filter
            self._apply(LogFilter(current.levels, query=event.value))
            self.query_one("#records", DataTable).focus()

    def _apply(self, log_filter: LogFilter) -> None:
        state = self.dash.state
        try:
            with state.lock:
                state.logs.set_filter(log_filter)
        except UsageError as exc:
            self.notify(printable(exc.message, DETAIL_CHARS), severity="error", markup=False)
            return
        self._drawn_version = -1
        self._tick(force=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "records" and 0 <= event.cursor_row < len(self.shown):
            self.app.push_screen(LogDetail(self.shown[event.cursor_row]))

    always_redraw = False

    def redraw(self, state: DashState, tables: bool) -> None:
        super().redraw(state, tables)
        if not tables:
            return
        now = self.dash.now()
        minutes = state.logs.per_minute(30, now)
        plot_widget = self.query_one("#log-histogram", PlotextPlot)
        plot = plot_widget.plt
        plot.clear_data()
        levels = sorted({level for _, counts in minutes for level in counts}, key=_severity)
        if levels:
            # Numbers on the x axis, labels set apart: plotext orders string categories by hash.
            positions = list(range(len(minutes)))
            plot.stacked_bar(positions, [[counts.get(level, 0) for _, counts in minutes] for level in levels],
                             labels=[printable(level, 20) for level in levels])  # fmt: skip
            every = positions[::6]
            plot.xticks(every, [datetime.fromtimestamp(minutes[i][0]).strftime("%H:%M") for i in every])
        plot.title("records per minute by level (last 30 min)")
        plot_widget.refresh()
        codes = self.query_one("#codes", DataTable)
        codes.clear()
        for code, count, example in state.logs.top_codes(8):
            codes.add_row(_plain(code), str(count), _plain(example.split("\n", 1)[0]))  # a cell is one line
        records = self.query_one("#records", DataTable)
        self.shown = state.logs.shown(MAX_LOG_ROWS)
        at_bottom = records.cursor_row >= records.row_count - 1
        records.clear()
        for doc in self.shown:
            level = str(doc.get("level", ""))
            stamp = str(doc.get("@timestamp", ""))
            try:
                when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S")
            except (ValueError, OverflowError):  # not a time, or year 1 moved by a zone
                when = stamp[:19]
            text = str(doc.get("text") or doc.get("message") or "").split("\n", 1)[0]
            records.add_row(
                _plain(when), _plain(field_value(doc, "host") or ""), _plain(field_value(doc, "app") or ""),
                _plain(level, LEVEL_STYLES.get(level, "")), _plain(doc.get("manager", "")), _plain(text, limit=500),
            )  # fmt: skip
        if at_bottom and records.row_count:
            records.move_cursor(row=records.row_count - 1, animate=False)


def _severity(level: str) -> int:
    order = ["FATAL", "SEVERE", "ERROR", "WARNING", "WARN", "INFO"]
    return order.index(level) if level in order else len(order)


class LogDetail(ModalScreen[None]):
    """The whole record, with its continuation lines, between its neighbours in its file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, doc: dict[str, Any]) -> None:
        super().__init__()
        self.doc = doc

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(id="record")
            yield Static("Esc closes", classes="hint")

    def on_mount(self) -> None:
        state = _vac_dash(self.app).state
        with state.lock:
            before, after = state.logs.neighbours(self.doc)
        text = Text()
        for doc in before:
            text.append(_lines(doc.get("message", "")) + "\n", style="dim")
        text.append(
            _lines(self.doc.get("message", "")) + "\n", style="bold " + LEVEL_STYLES.get(str(self.doc.get("level")), "")
        )
        for doc in after:
            text.append(_lines(doc.get("message", "")) + "\n", style="dim")
        fields = {k: v for k, v in self.doc.items() if k != "message"}
        text.append("\n" + "\n".join(printable(f"{k}: {v}", DETAIL_CHARS) for k, v in fields.items()))
        self.query_one("#record", Static).update(text)


def _lines(message: object) -> str:
    """A record's message for reading: its own lines kept, everything else escaped."""
    return printable(str(message), DETAIL_CHARS, keep_newlines=True)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield Static(
            "vac dash\n\n"
            "1 overview   2 SCADA   3 logs   ? this help   Ctrl+P commands   q quit\n\n"
            "SCADA: / filter (VGPB*  sector:7R  mainpart:ARC  status:invalid)   s sort\n"
            "       Enter chart of the selected DPE   a acknowledge (the selected alarm,\n"
            "       or the selected DPE's)   A acknowledge all   Tab to the alarm list\n"
            'Logs:  / query (level:SEVERE manager:WCCOActrl "text")   e errors only\n'
            "       Enter the whole record and its neighbours\n\n"
            "Esc closes this help.",
            id="help",
        )


class VacDash(App[None]):
    TITLE = "vac dash"
    CSS = """
    #banner { height: 1; }
    #services { height: 1; }
    #dpe-count { height: 1; color: $text-muted; }
    #dpes { height: 2fr; }
    #alarms { height: 1fr; min-height: 4; border-top: solid $accent; }
    #overview-tables DataTable { width: 1fr; }
    #log-summary { height: 1fr; max-height: 14; }
    #log-histogram { width: 2fr; }
    #codes { width: 1fr; }
    #records { height: 2fr; }
    #dpe-filter, #log-filter { border: none; height: 1; padding: 0 1; }
    DpeDetail, LogDetail, HelpScreen { align: center middle; }
    #detail { width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1; }
    #history { height: 1fr; }
    #help { width: 80; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    .hint { color: $text-muted; }
    """
    MODES: ClassVar[dict[str, Any]] = {"overview": OverviewScreen, "scada": ScadaScreen, "logs": LogsScreen}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('overview')", "Overview"),
        Binding("2", "switch_mode('scada')", "SCADA"),
        Binding("3", "switch_mode('logs')", "Logs"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        state: DashState,
        feeds: DashFeeds | None,
        screen: str = "overview",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.state = state
        self.feeds = feeds
        self.start_screen = screen
        self.now = clock
        """Wall-clock seconds; tests pin it so ages and histograms stay put."""

    def on_mount(self) -> None:
        if self.feeds is not None:
            self.feeds.start()
        self.switch_mode(self.start_screen)

    def on_unmount(self) -> None:
        if self.feeds is not None:
            self.feeds.stop()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def connection_problem(self) -> str:
        """The pipeline check (every few seconds) decides, so the banner also goes away by
        itself; before its first answer, a reader that lost the brokers speaks."""
        pipeline = self.state.pipeline
        if pipeline.kafka_up is False:
            return "Kafka: no connection"
        if pipeline.kafka_up is None and self.feeds is not None and self.feeds.kafka_problem:
            return f"Kafka: {self.feeds.kafka_problem}"
        return ""

    def state_topics(self) -> list[str]:
        settings = self.state.settings
        return [*settings.dash.scada_topics, settings.logs.topic, settings.health_topic]
