"""`vac scada`: what the vacuum reads now, from the last-value topic."""

from __future__ import annotations

import fnmatch
import time
from datetime import datetime
from typing import Annotated, Any

import typer

from commands.context import cli_context, drop_none
from commands.output import TextOrJson, emit_json, quiet_on_closed_pipe, stderr, stdout
from vac.errors import UsageError
from vac.kafka.lastvalues import read_last_values
from vac.printable import printable
from vac.units import engineering

app = typer.Typer(
    help="SCADA values: every DPE's current value.\n\nExample: vac scada now 'VGPB_*'",
    no_args_is_help=True,
)
OutputOpt = Annotated[TextOrJson, typer.Option("--output", "-o", help="text (a table) or json.")]
MAX_PATTERN = 512


@app.command()
def now(
    ctx: typer.Context,
    patterns: Annotated[
        list[str] | None, typer.Argument(help="DPE name globs (default: every DPE), e.g. 'VGPB_*' '*_7L8_*'.")
    ] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", help="The last-value topic (default: scada.last_topic).")
    ] = None,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Every matching DPE's last value, silent ones included: read from the log-compacted
    last-value topic the streamer writes (key = DPE), beginning to end.

    Example: vac scada now 'VGPB_*' -o json
    """
    globs = patterns or ["*"]
    for glob in globs:
        if len(glob) > MAX_PATTERN or not glob.isprintable():
            raise UsageError(f"a DPE pattern must be printable and at most {MAX_PATTERN} characters")
    settings = cli_context(ctx).settings(drop_none("scada", last_topic=topic))
    last_topic = settings.scada.last_topic
    if not last_topic:
        raise UsageError("no last-value topic: scada.last_topic is null", hint="give --topic or set scada.last_topic")
    lowered = [glob.lower() for glob in globs]
    found = read_last_values(
        settings.kafka, last_topic, keep=lambda name: any(fnmatch.fnmatchcase(name.lower(), g) for g in lowered)
    )
    rows = found.rows()
    if found.unreadable:
        stderr.print(
            f"vac: {found.unreadable:,} message(s) of {last_topic} were not DPE records: skipped", markup=False
        )
    with quiet_on_closed_pipe():
        if output is TextOrJson.json:
            emit_json(rows)
            return
        _table(rows, time.time())
    if not rows:
        stderr.print(f"vac: no DPE matches {' '.join(globs)} in {last_topic}", markup=False)


def _table(rows: list[dict[str, Any]], now_s: float) -> None:
    width = max([len(printable(str(row["id"]), 80)) for row in rows] + [3])
    stdout.print(
        f"{'DPE':<{width}}  {'VALUE':>10}  {'AGE':>8}  {'STATUS':<10}  {'SECTOR':<12} {'MAINPART':<9} {'DCUM':>7}",
        markup=False,
    )
    for row in rows:
        name, age = printable(str(row["id"]), 80), _age(row.get("timestamp"), now_s)
        stdout.print(
            f"{name:<{width}}  {_value(row.get('value')):>10}  {age:>8}  {_status(row):<10}  "
            f"{printable(str(row.get('sector', '')), 12):<12} "
            f"{printable(str(row.get('mainpart', '')), 9):<9} {printable(str(row.get('DCUM', '')), 9):>7}",
            markup=False,
        )


def _value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return printable(str(value), 10)
    return engineering(float(value)) if isinstance(value, float) else str(value)


def _age(timestamp: Any, now_s: float) -> str:
    if not isinstance(timestamp, str):
        return "?"
    try:
        seconds = max(0.0, now_s - datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return "?"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.1f}s"


def _status(row: dict[str, Any]) -> str:
    status = row.get("status")
    if isinstance(status, dict):
        bad = [str(name) for name, on in status.items() if on is True and name != "from_general_query"]
        return printable(",".join(bad), 10) if bad else "ok"
    if "validityBit" in row:
        return "invalid" if row["validityBit"] == 0 else "ok"
    return "ok"
