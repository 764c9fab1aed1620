"""`vac stream scada`: stream value changes of datapoint elements into Kafka."""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, run_job
from vac.errors import ExitStatus, UsageError
from vac.records.job import StreamStatus, StreamSummary
from vac.scada.deadband import DeadbandRules
from vac.scada.dpes import generate_installation, load_dpes
from vac.scada.streamer import ScadaStreamer, StreamOptions
from vac.sources.registry import open_source

app = typer.Typer(
    help="Stream data into Kafka.\n\nExample: vac stream scada --rate 1000 --duration 60", no_args_is_help=True
)


MAX_EVENTS_PER_HOUR = 36_000


class Format(StrEnum):
    vac = "vac"
    legacy = "legacy"


def _status_line(status: StreamStatus) -> str:
    return (
        f"{status.rate:>9,.0f} changes/s  sent {status.sent:,}  acked {status.acked:,}  "
        f"in flight {status.in_flight:,}  failed {status.failed:,}  unknown {status.unknown:,}  "
        f"p99 ack {status.ack_latency_ms.p99:.1f} ms"
    )


def _summary_text(summary: StreamSummary) -> str:
    latency = summary.ack_latency_ms
    counts = "  ".join(
        f"{name.replace('_', ' ')} {getattr(summary, name):,}"
        for name in ("changes", "sent", "acked", "failed", "unknown", "suppressed", "invalid_input")
    )
    return (
        f"{counts}\nrate {summary.rate:,.0f}/s over {summary.duration_s:.1f} s  "
        f"ack latency p50 {latency.p50:.2f} ms  p99 {latency.p99:.2f} ms  max {latency.max:.2f} ms  "
        f"peak RSS {summary.rss_mb:.0f} MB"
    )


@app.command()
@kafka_options
def scada(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            help="sim (the simulator), jsonl:PATH or jsonl:- (JSON lines), tcp://:PORT (a bridge on this host; "
            "loopback only) or tcp://HOST:PORT (listen on HOST, e.g. 0.0.0.0: unauthenticated, anyone who can "
            "reach the port can write changes), opcua://HOST:PORT/PATH, mqtt://HOST:PORT/TOPIC-FILTER or mqtts://... "
            "(TLS; security of both from scada.opcua_security and scada.mqtt_security)."
        ),
    ] = "sim",
    dpes: Annotated[Path | None, typer.Option(help="DPE list in the WinCC OA streaming config format.")] = None,
    devices: Annotated[int, typer.Option(help="Without --dpes: simulate this many DPEs.")] = 1000,
    rate: Annotated[float, typer.Option(help="Simulated changes per second, in total.")] = 1000.0,
    seed: Annotated[int, typer.Option(help="Simulator seed: the same seed, the same changes and events.")] = 0,
    events_per_hour: Annotated[
        float | None,
        typer.Option(
            help="Simulator: pressure bumps, valves closing, pump trips, gauges invalid per hour (default 12)."
        ),
    ] = None,
    sim_log: Annotated[
        Path | None,
        typer.Option(help="Simulator: append a live WinCC OA log here (chatter, and the lines of its events)."),
    ] = None,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    topic: Annotated[str | None, typer.Option(help="Write to this topic instead of each DPE's own.")] = None,
    format_: Annotated[
        Format, typer.Option("--format", help="vac (adds status, ingest_ts, seq) or legacy.")
    ] = Format.vac,
    deadband: Annotated[float, typer.Option(help="Relative deadband of pressures (0.01 = 1%).")] = 0.0,
    max_silence: Annotated[
        float, typer.Option(help="Re-send a DPE's last value after this many silent seconds (0: off).")
    ] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live status line.")] = False,
    output: Annotated[
        TextOrJson, typer.Option("--output", "-o", help="The summary as text or one JSON object.")
    ] = TextOrJson.text,
) -> None:
    """Stream every value change of the DPEs into Kafka (key = DPE, timestamp = source time).

    Example: vac stream scada --dpes data/winccoa/LHC_KafkaStream.config --rate 20000 --duration 15 -o json

    Example (the demo's machine, with a live log): vac stream scada --dpes data/winccoa/LHC_KafkaStream.config
    --rate 2000 --events-per-hour 60 --sim-log /tmp/PVSS_II.log
    """
    if rate <= 0:
        raise UsageError(f"--rate {rate:g}: must be above 0")
    if events_per_hour is not None and not 0 <= events_per_hour <= MAX_EVENTS_PER_HOUR:
        raise UsageError(f"--events-per-hour {events_per_hour:g}: must be between 0 and {MAX_EVENTS_PER_HOUR:,}")
    if source != "sim" and (events_per_hour is not None or sim_log is not None):
        raise UsageError("--events-per-hour and --sim-log are options of the simulator", hint="add --source sim")
    settings = cli_context(ctx).settings()
    installation = load_dpes(dpes) if dpes else generate_installation(devices, seed)
    options = StreamOptions(
        topic=topic,
        legacy=format_ is Format.legacy,
        rules=DeadbandRules(pressure_relative=deadband, max_silence_s=max_silence),
        duration_s=duration,
        requested_rate=rate if source == "sim" else None,
    )
    changes = open_source(source, installation, settings, rate, seed, events_per_hour)
    streamer = ScadaStreamer(settings, installation, options, source=changes)
    log_stop = threading.Event()
    if sim_log is not None:
        from vac.sources.simlog import attach_log
        from vac.sources.simulator import Simulator

        assert isinstance(changes, Simulator)
        attach_log(changes, sim_log, seed, settings.logs.timezone, log_stop)
    try:
        summary = run_job(streamer, _status_line, quiet, output, _summary_text)
    finally:
        log_stop.set()
    if summary.unknown:
        # Not an error: they may all be there. Say what is known and how to find out.
        logging.getLogger("vac.stream").warning(
            "%s changes were sent but never acknowledged (%s): Kafka may or may not have stored "
            "them; read the topic (each DPE's seq numbers show gaps) to know",
            f"{summary.unknown:,}",
            summary.first_unknown,
        )
    if summary.failed or summary.unknown or summary.unflushed:
        raise typer.Exit(ExitStatus.ERROR)
