"""One probe run: start the path, send open-loop at the requested rate, wait for the
stragglers, and say what was measured. A sweep is one run per rate."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vac.errors import UsageError
from vac.probe.openloop import Schedule, send_open_loop
from vac.probe.paths import make_path
from vac.probe.stats import Receipts, RunResult, latency_ms, percentile_curve
from vac.settings import VacSettings

START_DELAY_S = 0.2
"""Between the path being ready and message 0: the sender starts on schedule, not late."""
PROGRESS_EVERY_S = 0.25

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class ProbeLoad:
    rate: float
    duration_s: float
    warmup_s: float = 2.0
    size: int = 200
    drain_s: float = 10.0
    """After the last send: how long to wait for the last arrivals before counting the rest lost."""

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.duration_s <= 0 or self.warmup_s < 0:
            raise UsageError("--rate and --duration must be above 0, --warmup not below 0")
        if (self.warmup_s + self.duration_s) * self.rate > 50_000_000:
            raise UsageError("over 50 million probe messages: shorten --duration or lower --rate")

    @property
    def count(self) -> int:
        return max(1, round(self.rate * (self.warmup_s + self.duration_s)))


def run_probe(
    settings: VacSettings,
    path_name: str,
    load: ProbeLoad,
    cancelled: threading.Event,
    progress: Progress | None = None,
    topic: str | None = None,
) -> RunResult:
    run = uuid.uuid4().hex[:8]
    path = make_path(path_name, settings, run, load.size, topic)
    receipts = Receipts(load.count, measured_from=round(load.rate * load.warmup_s))
    schedule_box: list[Schedule] = []

    def arrived(seq: int, received_ns: int) -> None:
        if schedule_box:
            receipts.arrived(seq, (received_ns - schedule_box[0].planned_ns(seq)) // 1000)

    try:
        path.start(arrived)  # a path that fails to start still cleans up what it began
        schedule = Schedule(time.time_ns() + int(START_DELAY_S * 1e9), load.rate, load.count)
        schedule_box.append(schedule)
        path.plan(schedule)
        next_report = [time.monotonic()]

        def idle() -> None:
            path.idle()
            if progress is not None and time.monotonic() >= next_report[0]:
                next_report[0] = time.monotonic() + PROGRESS_EVERY_S
                due = schedule.due(time.time_ns())
                progress({"phase": "sending", "done": due, "total": load.count, "received": receipts.received})

        report = send_open_loop(schedule, path.send, cancelled, idle)
        errors = path.flush()
        deadline = time.monotonic() + load.drain_s
        while receipts.received < report.sent and time.monotonic() < deadline and not cancelled.is_set():
            if progress is not None:
                progress(
                    {
                        "phase": "draining",
                        "done": receipts.received,
                        "total": report.sent,
                        "received": receipts.received,
                    }
                )
            time.sleep(0.05)
        # A few more moments for duplicates that arrive just after the last original.
        time.sleep(0.2)
    finally:
        path.close()
    result = RunResult(
        path=path_name,
        requested_rate=load.rate,
        duration_s=load.duration_s,
        warmup_s=load.warmup_s,
        size_bytes=load.size,
        sent=report.sent,
        achieved_rate=report.achieved_rate,
        received=receipts.received,
        lost=receipts.missing(report.sent),
        duplicated=receipts.duplicated,
        errors=errors,
        latency_ms=latency_ms(receipts.histogram),
        percentile_curve=percentile_curve(receipts.histogram),
        measured=receipts.histogram.get_total_count(),
        max_send_lag_ms=report.max_lag_ms,
    )
    if cancelled.is_set():
        result.notes.append("interrupted: figures cover the messages sent until then")
    if path_name == "scada":
        result.notes.append("--size does not apply: each change is the streamer's own JSON record")
    if path_name == "logs":
        result.notes.append(
            "searchable means found by a search every 0.1 s; the index refresh interval (5 s in the "
            "template), logs.idle_flush_s and index.batch_s dominate"
        )
    return result


def run_sweep(
    settings: VacSettings,
    path_name: str,
    rates: list[float],
    load: ProbeLoad,
    cancelled: threading.Event,
    progress: Callable[[float, dict[str, Any]], None] | None = None,
    topic: str | None = None,
) -> list[RunResult]:
    results = []
    for rate in rates:
        if cancelled.is_set():
            break
        step = ProbeLoad(rate, load.duration_s, load.warmup_s, load.size, load.drain_s)
        report = (lambda status, rate=rate: progress(rate, status)) if progress is not None else None
        results.append(run_probe(settings, path_name, step, cancelled, report, topic))
    return results
