"""Screen 1: is the pipeline up (Kafka, Elasticsearch, indexer lag), messages per second per
topic, and the fleet of streamers and shippers by their heartbeats."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from tui.screens.base import DashScreen
from tui.widgets import CELL_CHARS, Banner, age, plain
from vac.dash.pipeline import PipelineSnapshot
from vac.dash.state import DashState
from vac.printable import printable


class OverviewScreen(DashScreen):
    AUTO_FOCUS = "#fleet"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Banner(id="banner")
        yield Static(id="services")
        with Horizontal(id="overview-tables"):
            yield DataTable(id="topics", cursor_type="row")
            yield DataTable(id="fleet", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#topics", DataTable).add_columns("topic", "msg/s")
        self.query_one("#fleet", DataTable).add_columns("host", "component", "heartbeat", "rate/s", "behind", "errors")

    def redraw(self, state: DashState, tables: bool) -> None:
        super().redraw(state, tables)
        self.query_one("#services", Static).update(_services(state))
        if not tables:
            return
        pipeline = state.pipeline
        topics = self.query_one("#topics", DataTable)
        topics.clear()
        for topic in state.topics():
            rate = pipeline.rates.get(topic)
            topics.add_row(plain(topic), "-" if rate is None else f"{rate:,.0f}", key=topic)
        fleet = self.query_one("#fleet", DataTable)
        fleet.clear()
        now = self.dash.now()
        for member in state.fleet.listed():
            style = "bold red" if state.is_stale(member, now) else ""
            fleet.add_row(
                plain(member.host, style), plain(member.component, style), Text(age(member.age_s(now)), style),
                f"{member.rate:,.0f}", plain(member.behind), plain(member.errors),
                key=f"{member.host}/{member.component}",
            )  # fmt: skip


def _services(state: DashState) -> Text:
    pipeline: PipelineSnapshot = state.pipeline
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
    return services
