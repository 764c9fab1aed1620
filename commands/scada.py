"""`vac scada`: what the vacuum reads now, from the last-value topic."""

from __future__ import annotations

import csv
import fnmatch
import os
import re
import shutil
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from commands.context import cli_context, drop_none
from commands.output import TextOrJson, emit_json, quiet_on_closed_pipe, stderr, stdout
from vac.errors import UsageError
from vac.kafka.lastvalues import read_last_values
from vac.printable import printable
from vac.timegrammar import epoch_seconds, parse_iso_utc
from vac.units import decade_ticks, engineering

app = typer.Typer(
    help="SCADA values: every DPE's current value, a DPE's history, the pressure along a sector.\n\n"
    "Example: vac scada now 'VGPB_*'",
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
        seconds = max(0.0, now_s - epoch_seconds(timestamp))
    except (ValueError, OverflowError):
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


class HistoryOutput(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


@app.command()
def history(
    ctx: typer.Context,
    dpe: Annotated[str, typer.Argument(help="The DPE, e.g. VGPB_2_7L8_B.PR.")],
    since: Annotated[
        str, typer.Option(help="Start: 24h, 7d, 2026-12-01, ISO 8601 (local time unless a zone).")
    ] = "24h",
    until: Annotated[str, typer.Option(help="End (excluded), same forms; default now.")] = "now",
    limit: Annotated[int, typer.Option(min=1, max=10_000_000, help="At most this many changes.")] = 1_000_000,
    plot: Annotated[Path | None, typer.Option(help="Also write a PNG chart here (log axis for pressures).")] = None,
    chart: Annotated[
        bool | None, typer.Option(help="A terminal chart (default: on a terminal with text output).")
    ] = None,
    output: Annotated[HistoryOutput, typer.Option("--output", "-o", help="text, json or csv.")] = HistoryOutput.text,
) -> None:
    """A DPE's changes from Elasticsearch (what `vac index` wrote), oldest first: time, value,
    status; a chart with a log y axis for pressures.

    Example: vac scada history VGPB_2_7L8_B.PR --since 24h --plot p.png
    """
    from vac.es.client import make_client  # lazily: see commands/main.py
    from vac.search.scada_history import dpe_history
    from vac.timegrammar import parse_instant, zone

    if len(dpe) > 256 or not dpe.isprintable():
        raise UsageError("a DPE name must be printable and at most 256 characters")
    settings = cli_context(ctx).settings()
    now_at = datetime.now(UTC)
    local = zone(settings.query.timezone)
    start = parse_instant(since, now_at, local, option="--since")
    end = parse_instant(until, now_at, local, option="--until")
    if start >= end:
        raise UsageError(f"--since {since} is not before --until {until}")
    client = make_client(settings.elasticsearch)
    try:
        points = dpe_history(client, settings.index.scada_name_template, dpe, start, end, limit)
    finally:
        client.close()
    log_y = dpe.endswith(".PR")
    if plot is not None:
        from vac.search.scada_plot import plot_history

        plot_history(dpe, points, plot, log_y)
    with quiet_on_closed_pipe():
        if output is HistoryOutput.json:
            emit_json(
                {
                    "dpe": dpe,
                    "since": start.isoformat(),
                    "until": end.isoformat(),
                    "points": [p.to_json() for p in points],
                }
            )
        elif output is HistoryOutput.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["time", "value", "status", "flags", "seq"])
            for p in points:
                writer.writerow([p.at, "" if p.value is None else repr(p.value), p.status, " ".join(p.flags), p.seq])
        else:
            if chart if chart is not None else sys.stdout.isatty():
                _terminal_chart(printable(dpe, 80), [(p.at, p.value) for p in points], log_y)
            for p in points:
                value = "-" if p.value is None else engineering(p.value)
                stdout.print(f"{p.at}  {value:>10}  {' '.join(p.flags) or 'ok'}", markup=False)
    if not points:
        stderr.print(
            f"vac: no change of {printable(dpe, 80)} between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC",
            markup=False,
        )


@app.command()
def profile(
    ctx: typer.Context,
    sector: Annotated[str | None, typer.Option(help="The sector, e.g. S78 (default: the whole ring).")] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", help="The last-value topic (default: scada.last_topic).")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Also write a PNG chart here.")] = None,
    chart: Annotated[
        bool | None, typer.Option(help="A terminal chart (default: on a terminal with text output).")
    ] = None,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """The latest pressure of every gauge of a sector along the ring (DCUM order), from the
    last-value topic: where along the machine the pressure is up.

    Example: vac scada profile --sector S78
    """
    from vac.search.scada_history import sector_profile  # lazily: see commands/main.py

    if sector is not None and (len(sector) > 64 or not sector.isprintable()):
        raise UsageError("a sector must be printable and at most 64 characters, e.g. S78")
    settings = cli_context(ctx).settings(drop_none("scada", last_topic=topic))
    last_topic = settings.scada.last_topic
    if not last_topic:
        raise UsageError("no last-value topic: scada.last_topic is null", hint="give --topic or set scada.last_topic")
    points = sector_profile(settings, sector, last_topic)
    title = f"{'sector ' + sector if sector else 'the ring'}: {len(points):,} gauges"
    if plot is not None:
        from vac.search.scada_plot import plot_profile

        plot_profile(title, points, plot)
    with quiet_on_closed_pipe():
        if output is TextOrJson.json:
            emit_json([p.to_json() for p in points])
            return
        if chart if chart is not None else sys.stdout.isatty():
            _terminal_profile(title, points)
        for p in points:
            stdout.print(
                f"{p.dcum:>9.0f}  {printable(p.dpe, 80):<32} {engineering(p.value):>10}  "
                f"{printable(p.mainpart, 8):<5} {printable(p.status, 20)}",
                markup=False,
            )
    if not points:
        stderr.print(f"vac: no pressure gauge with a position in {printable(sector or 'the ring', 64)}", markup=False)


def _terminal_chart(title: str, points: list[tuple[str, float | None]], log_y: bool) -> None:
    import plotext as plt

    shown = [(at, v) for at, v in points if v is not None and (v > 0 or not log_y)]
    if not shown:
        return
    plt.clear_figure()
    plt.date_form("Y-m-d H:M:S")
    plt.plot([_plotext_time(at) for at, _ in shown], [v for _, v in shown], marker="braille")
    if log_y:
        _log_axis(plt, [v for _, v in shown])
    plt.title(title)
    plt.plotsize(min(shutil.get_terminal_size().columns, 160), 20)
    _show(plt)


def _terminal_profile(title: str, points: Any) -> None:
    import plotext as plt

    shown = [p for p in points if p.value > 0]
    if not shown:
        return
    plt.clear_figure()
    plt.scatter([p.dcum for p in shown], [p.value for p in shown], marker="braille")
    _log_axis(plt, [p.value for p in shown])
    plt.xlabel("DCUM (m)")
    plt.title(title)
    plt.plotsize(min(shutil.get_terminal_size().columns, 160), 20)
    _show(plt)


def _show(plt: Any) -> None:
    text = str(plt.build())
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # plotext colours whatever the theme
    sys.stdout.write(text + "\n")


def _log_axis(plt: Any, values: list[float]) -> None:
    """A log y axis labelled in decades (1e-9, 1e-8...), as vacuum people read pressures."""
    plt.yscale("log")
    decades = decade_ticks(min(values), max(values))
    plt.yticks([10.0**k for k in decades], [f"1e{k}" for k in decades])


def _plotext_time(at: str) -> str:
    return parse_iso_utc(at).strftime("%Y-%m-%d %H:%M:%S")
