"""`vac timeline`: values, alarms and log records of one stretch of the machine, merged by time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from commands.context import cli_context
from commands.output import TextOrJson, emit_json, info, quiet_on_closed_pipe, stdout
from vac.errors import UsageError
from vac.printable import printable
from vac.timegrammar import parse_instant, zone
from vac.timewindow import parse_interval


def timeline(
    ctx: typer.Context,
    around: Annotated[str, typer.Option(help="The moment: 10m (ago), now, 2026-12-03T07:12:00 (local time).")],
    sector: Annotated[str | None, typer.Option(help="Only DPEs of this sector, e.g. S78 (from their names).")] = None,
    dpe: Annotated[str | None, typer.Option(help="Only DPEs matching this pattern, e.g. 'VGPB_*_7R7_*'.")] = None,
    window: Annotated[str, typer.Option(help="How far before and after --around to look.")] = "5m",
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")] = TextOrJson.text,
) -> None:
    """The DPEs' values, their alarms and the SCADA servers' log records around a moment, by time.

    One view of the values, the alarms raised, acknowledged and cleared, and the log records,
    merged by time.

    Example: vac timeline --around 10m --sector S78 --window 2m
    """
    from vac.alarms.timeline import parse_sector
    from vac.timeline.gather import timeline as gather

    settings = cli_context(ctx).settings()
    moment = parse_instant(around, datetime.now(UTC), zone(settings.query.timezone), option="--around")
    _, half_window_s = parse_interval(window)
    try:
        points = parse_sector(sector) if sector is not None else None
    except ValueError as bad:
        raise UsageError(f"--sector: {bad}") from None
    entries, problems = gather(settings, moment.timestamp(), half_window_s, points, dpe)
    for problem in problems:
        info(f"vac: warning: {problem}")
    if output is TextOrJson.json:
        emit_json([{"at": datetime.fromtimestamp(e.at_s, UTC).isoformat(), "source": e.source,
                    "subject": e.subject, "text": e.text, "level": e.level} for e in entries])  # fmt: skip
        return
    with quiet_on_closed_pipe():
        for entry in entries:
            clock = time.strftime("%H:%M:%S", time.localtime(entry.at_s)) + f".{int(entry.at_s % 1 * 1000):03d}"
            stdout.print(
                printable(f"{clock}  {entry.source:<5} {entry.level:<8} {entry.subject:<28} {entry.text}"), markup=False
            )
