"""`vac alarms watch | list | ack`: the headless evaluator, and the shared alarm list from the
command line (the `alarm_topic` every dashboard reads)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from enum import StrEnum
from typing import Annotated, Any

import typer

from commands.context import cli_context
from commands.output import TextOrJson, emit_json, quiet_on_closed_pipe, stdout
from vac.errors import UsageError, VacError
from vac.printable import printable

app = typer.Typer(
    help="Alarms shared through Kafka: evaluate them headless, list them, acknowledge them.\n\n"
    "Example: vac alarms watch -o jsonl",
    no_args_is_help=True,
)


class WatchOutput(StrEnum):
    text = "text"
    jsonl = "jsonl"


def _clock(at_s: Any) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at_s)) if isinstance(at_s, int | float) else "-"


@app.command()
def watch(
    ctx: typer.Context,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.", min=0)] = None,
    output: Annotated[
        WatchOutput, typer.Option("--output", "-o", help="text, or jsonl: one JSON object per change.")
    ] = WatchOutput.text,
) -> None:
    """Evaluate dash.alarms on the SCADA topics and publish every raise, clear and
    acknowledgement to the alarm topic; resume the open alarms it holds.

    Example: vac alarms watch -o jsonl | jq 'select(.event == "raised")'
    """
    from vac.alarms.watch import AlarmWatcher  # lazily: see commands/main.py

    settings = cli_context(ctx).settings()

    def emit(event: dict[str, Any]) -> None:
        if output is WatchOutput.jsonl:
            emit_json(event)
        else:
            alarm_id = f"{event['dpe']}/{event['kind']}"
            line = f"{_clock(event.get('raised_s'))}  {event['event']:<8} {alarm_id}  {event['message']}"
            if event.get("acked_by"):
                line += f"  (acked by {event['acked_by']})"
            stdout.print(printable(line), markup=False)

    cancelled = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancelled.set())
    with quiet_on_closed_pipe():
        watcher = AlarmWatcher(settings, emit)
        try:
            summary = watcher.run(cancelled, duration)
        except KeyboardInterrupt:
            cancelled.set()
            return
    if output is WatchOutput.text:
        sys.stderr.write(
            f"changes {summary.changes:,}  resumed {summary.resumed}  "
            + "  ".join(f"{name} {count}" for name, count in summary.events.items())
            + "\n"
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")] = TextOrJson.text,
) -> None:
    """The alarms listed now (unacknowledged first, then newest), from the alarm topic.

    Example: vac alarms list -o json
    """
    from vac.alarms.topic import current_book

    settings = cli_context(ctx).settings()
    listed = current_book(settings).listed()
    if output is TextOrJson.json:
        emit_json([_as_json(alarm) for alarm in listed])
        return
    with quiet_on_closed_pipe():
        for alarm in listed:
            acked = f"acked by {alarm.acked_by} at {_clock(alarm.acked_s)}" if alarm.acked else "NEW"
            state = "active" if alarm.active else f"cleared {_clock(alarm.cleared_s)}"
            stdout.print(
                printable(f"{_clock(alarm.raised_s)}  {alarm.id:<40} {state:<16} {acked:<28} {alarm.message}"),
                markup=False,
            )


def _as_json(alarm: Any) -> dict[str, Any]:
    return {"id": alarm.id, "dpe": alarm.dpe, "kind": alarm.kind, "message": alarm.message,
            "raised_s": alarm.raised_s, "cleared_s": alarm.cleared_s, "acked_by": alarm.acked_by,
            "acked_s": alarm.acked_s, "value": alarm.value}  # fmt: skip


@app.command()
def ack(
    ctx: typer.Context,
    alarm_id: Annotated[str, typer.Argument(metavar="ID", help="DPE/kind, as `vac alarms list` shows it.")],
    by: Annotated[str | None, typer.Option(help="Who acknowledges (default: the user name).")] = None,
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")] = TextOrJson.text,
) -> None:
    """Acknowledge an alarm for every dashboard (who and when go to the alarm topic).

    Example: vac alarms ack VGPB_2_7L8_B.PR/above
    """
    from vac.alarms.book import parse_alarm_id
    from vac.alarms.topic import AlarmTopic, current_book, default_user

    try:
        key = parse_alarm_id(alarm_id)
    except ValueError as problem:
        raise UsageError(str(problem), hint="see `vac alarms list`") from None
    who = default_user() if by is None else by
    if not who or len(who) > 64 or not who.isprintable():
        raise UsageError("--by: a name of 1-64 printable characters")
    settings = cli_context(ctx).settings()
    alarm = current_book(settings).acknowledge(key, who, time.time())
    if alarm is None:
        raise VacError(f"no alarm {printable(alarm_id)} is listed", hint="see `vac alarms list`")
    topic = AlarmTopic(settings)
    topic.publish_ack(alarm)
    if topic.flush():
        raise VacError("the acknowledgement was not confirmed by Kafka in time", hint="try again")
    if output is TextOrJson.json:
        emit_json(_as_json(alarm))
    else:
        stdout.print(printable(f"acknowledged {alarm.id} (raised {_clock(alarm.raised_s)}) as {who}"), markup=False)
