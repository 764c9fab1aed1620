"""`vac dash`: the Textual dashboard for on-call use."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, stdout
from vac.errors import VacError
from vac.printable import printable

if TYPE_CHECKING:
    from vac.dash.state import DashState


class ScreenName(StrEnum):
    overview = "overview"
    scada = "scada"
    logs = "logs"
    profile = "profile"


@kafka_options
def dash(
    ctx: typer.Context,
    screen: Annotated[ScreenName, typer.Option(help="The screen to open on.")] = ScreenName.overview,
    summary_after: Annotated[
        float, typer.Option(help="Without a terminal: watch this many seconds, print a summary and exit.")
    ] = 5.0,
    output: Annotated[
        TextOrJson, typer.Option("--output", "-o", help="The summary as text or JSON.")
    ] = TextOrJson.text,
) -> None:
    """Pipeline health, live SCADA values with alarms, and the live log stream, in a terminal.

    Keys: 1 overview, 2 SCADA, 3 logs, 4 pressure profile, / filter, ? help, q quit. Without a
    terminal (a pipe, a cron job) it watches for --summary-after seconds and prints what it saw
    instead.

    Example: vac dash --screen scada
    """
    from vac.dash.state import DashFeeds, DashState  # lazily: see commands/main.py
    from vac.dash.updates import Inbox
    from vac.heap import limit_arenas

    settings = cli_context(ctx).settings()
    limit_arenas()  # before the readers' threads start: each would get an arena of its own
    state = DashState(settings)
    feeds = DashFeeds(settings, check_every_s=1.0 if not sys.stdout.isatty() else 3.0)
    if sys.stdout.isatty() and sys.stdin.isatty():
        from tui.app import VacDash  # Textual loads only for the screen
        from vac.dash.history import HistoryReader

        app = VacDash(state, feeds, screen.value, history=HistoryReader(settings))
        app.run()
        if app.return_code:  # Textual printed the traceback when it left the screen
            raise VacError(
                f"the dashboard stopped on an internal error (status {app.return_code})",
                hint="its traceback is above; please report it",
            )
        return
    # Without a screen this loop owns the state, as the app's thread does with one.
    inbox = Inbox()
    feeds.start(inbox.post)
    try:
        deadline = time.monotonic() + summary_after
        while (left := deadline - time.monotonic()) > 0:
            for update in inbox.take(min(left, 0.2)):
                state.apply(update)
    finally:
        inbox.close()
        feeds.stop()
    summary = _summary(state)
    if output is TextOrJson.json:
        emit_json(summary)
    else:
        print_summary(summary)


def print_summary(summary: dict[str, Any]) -> None:
    """For people: DPE names and hosts come from the topics, so controls are shown escaped."""
    for key, value in summary.items():
        stdout.print(printable(f"{key}: {value}"), markup=False)


def _summary(state: DashState) -> dict[str, Any]:
    pipeline = state.pipeline
    return {
        "kafka": "up" if pipeline.kafka_up else "down",
        "elasticsearch": pipeline.es_status or "down",
        "topic_rates": {topic: round(rate, 1) for topic, rate in pipeline.rates.items()},
        "indexer_lag": pipeline.index_lag,
        "dpes_seen": len(state.board.rows),
        "changes_seen": state.changes,
        "alarms": [f"{a.dpe}: {a.message}" for a in state.alarms.listed()[:10]],
        "alarms_total": len(state.alarms.alarms),
        "log_records_seen": state.logs.received,
        "fleet": [
            {"host": m.host, "component": m.component, "age_s": round(time.time() - m.last_s, 1), "rate": m.rate}
            for m in state.fleet.listed()
        ],
    }
