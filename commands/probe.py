"""`vac probe latency`: end-to-end delay and throughput of the pipeline, open-loop."""

from __future__ import annotations

import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, info, stderr, stdout
from vac.errors import ExitStatus, UsageError

if TYPE_CHECKING:
    from vac.probe.stats import RunResult

app = typer.Typer(
    help="Measure the pipeline.\n\nExample: vac probe latency --path kafka --rate 10000 --duration 20",
    no_args_is_help=True,
)


class PathName(StrEnum):
    kafka = "kafka"
    scada = "scada"
    logs = "logs"


def _rates(sweep: str | None, rate: float) -> list[float]:
    if not sweep:
        return [rate]
    try:
        rates = [float(part) for part in sweep.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--sweep {sweep!r}: give rates separated by commas, e.g. 50,500,5000,10000") from None
    if not rates or min(rates) <= 0:
        raise UsageError("--sweep needs rates above 0")
    return rates


PATH_HELP = (
    "kafka: producer -> topic -> consumer; scada: through the streamer of `vac stream scada`; "
    "logs: file -> shipper -> Kafka -> indexer -> searchable in Elasticsearch."
)
PLOT_HELP = "Write a percentile plot (for a sweep also latency against rate, beside the thesis's figures)."


@app.command()
@kafka_options
def latency(
    ctx: typer.Context,
    path: Annotated[PathName, typer.Option(help=PATH_HELP)] = PathName.kafka,
    rate: Annotated[float, typer.Option(help="Messages per second, sent open-loop.")] = 1000.0,
    duration: Annotated[float, typer.Option(help="Seconds measured (after the warm-up).")] = 10.0,
    warmup: Annotated[float, typer.Option(help="Seconds sent first and not measured.")] = 2.0,
    size: Annotated[int, typer.Option(min=16, max=1_000_000, help="Bytes per probe message (kafka, logs).")] = 200,
    sweep: Annotated[
        str | None, typer.Option(metavar="RATES", help="Run each rate in turn, e.g. 50,500,5000,10000.")
    ] = None,
    drain: Annotated[
        float | None, typer.Option(help="Seconds to wait for the last arrivals (default 10; logs 30).")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Probe topic (kafka, scada; default vac.probe).")] = None,
    plot: Annotated[Path | None, typer.Option(metavar="FILE.png", help=PLOT_HELP)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    output: Annotated[
        TextOrJson, typer.Option("--output", "-o", help="A table, or one JSON object.")
    ] = TextOrJson.text,
) -> None:
    """Send timestamped probe messages through a path of the pipeline and measure when each
    comes out: percentiles from the planned send time (no coordinated omission), achieved
    rate, loss and duplicates by sequence number. One host, one clock.

    Example: vac probe latency --path kafka --rate 10000 --duration 20 -o json

    Example: vac probe latency --sweep 50,500,5000,10000 --duration 10 --plot sweep.png
    """
    from vac.probe.plot import write_plot
    from vac.probe.runner import ProbeLoad, run_sweep  # lazily: see commands/main.py

    settings = cli_context(ctx).settings()
    rates = _rates(sweep, rate)
    load = ProbeLoad(
        rates[0], duration, warmup, size, drain if drain is not None else (30.0 if path is PathName.logs else 10.0)
    )
    for each in rates:
        ProbeLoad(each, duration, warmup, size)  # every rate checked before the first run
    cancelled = threading.Event()
    show = not quiet and stderr.is_terminal
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=stderr, disable=not show, transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[float, Any] = {}

        def report(at_rate: float, status: dict[str, Any]) -> None:
            if at_rate not in tasks:
                tasks[at_rate] = bar.add_task(f"{path.value} {at_rate:,.0f}/s", total=status["total"])
            bar.update(tasks[at_rate], completed=status["done"], total=status["total"],
                       description=f"{path.value} {at_rate:,.0f}/s {status['phase']}")  # fmt: skip

        try:
            results = run_sweep(settings, path.value, rates, load, cancelled, report, topic)
        except KeyboardInterrupt:
            cancelled.set()
            raise
    if plot is not None and results:
        write_plot(results, plot)
        info(f"plot written to {plot}")
    if output is TextOrJson.json:
        runs = [result.to_dict() for result in results]
        emit_json(runs[0] if len(runs) == 1 and not sweep else {"path": path.value, "runs": runs})
    else:
        _table(results)
    if any(result.invalid_reason or result.lost for result in results):
        raise typer.Exit(ExitStatus.ERROR)


def _table(results: list[RunResult]) -> None:
    title = f"vac probe latency --path {results[0].path} (latency in ms)" if results else None
    table = Table(title=title, box=None, pad_edge=False)
    columns = ("rate/s", "achieved", "sent", "lost", "dup", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max")
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for result in results:
        ms = result.latency_ms
        table.add_row(
            f"{result.requested_rate:,.0f}",
            f"{result.achieved_rate:,.0f}",
            f"{result.sent:,}",
            f"{result.lost:,}",
            f"{result.duplicated:,}",
            *(f"{ms[name]:.1f}" for name in ("mean", "p50", "p90", "p99", "p999", "p9999", "max")),
        )
    stdout.print(table)
    for result in results:
        if result.invalid_reason:
            stdout.print(f"[bold red]invalid at {result.requested_rate:,.0f}/s:[/] {result.invalid_reason}")
        for note in result.notes:
            info(f"note: {note}")
