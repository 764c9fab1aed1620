"""What a probe run measured: latency percentiles (HdrHistogram), achieved rate, and loss or
duplication by sequence number; and the rule that makes a run invalid."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

RATE_TOLERANCE = 0.02
"""A run whose sender achieved less than 98% of the requested rate is invalid."""
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9, "p9999": 99.99}
MAX_LATENCY_US = 3_600_000_000  # an hour: anything slower is lost, not late


class Receipts:
    """Arrivals of probe messages, by sequence number. Latency is taken from the message's
    planned send time, not from when it was really sent: a stalled sender or pipeline shows
    up in the tail instead of hiding (no coordinated omission)."""

    def __init__(self, expected: int, measured_from: int) -> None:
        self.histogram = HdrHistogram(1, MAX_LATENCY_US, 3)
        self._seen = bytearray(expected)
        self.measured_from = measured_from
        """Sequence numbers below this were the warm-up: counted, not measured."""
        self.received = 0
        self.duplicated = 0
        self.foreign = 0
        """Sequence numbers out of range (another run's messages)."""
        self.lock = threading.Lock()

    def arrived(self, seq: int, latency_us: int) -> None:
        with self.lock:
            if not 0 <= seq < len(self._seen):
                self.foreign += 1
                return
            if self._seen[seq]:
                self.duplicated += 1
                return
            self._seen[seq] = 1
            self.received += 1
            if seq >= self.measured_from:
                self.histogram.record_value(min(max(1, latency_us), MAX_LATENCY_US))

    def missing(self, sent: int) -> int:
        with self.lock:
            return sent - sum(self._seen[:sent])


def latency_ms(histogram: HdrHistogram) -> dict[str, float]:
    if histogram.get_total_count() == 0:
        return {name: 0.0 for name in [*PERCENTILES, "max", "mean"]}
    figures = {name: histogram.get_value_at_percentile(p) / 1000 for name, p in PERCENTILES.items()}
    figures["max"] = histogram.get_max_value() / 1000
    figures["mean"] = round(histogram.get_mean_value() / 1000, 3)
    return figures


CURVE_POINTS = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0)


def percentile_curve(histogram: HdrHistogram) -> list[tuple[float, float]]:
    """(percentile, latency ms) from the median out to the maximum, for the percentile plot."""
    if histogram.get_total_count() == 0:
        return []
    return [(p, histogram.get_value_at_percentile(p) / 1000) for p in CURVE_POINTS]


@dataclass
class RunResult:
    path: str
    requested_rate: float
    duration_s: float
    warmup_s: float
    size_bytes: int
    sent: int
    achieved_rate: float
    """Messages sent per second over the sending time (warm-up included)."""
    received: int
    lost: int
    duplicated: int
    errors: int
    latency_ms: dict[str, float]
    measured: int
    """Messages in the percentiles (after the warm-up)."""
    max_send_lag_ms: float
    """How far the sender fell behind its schedule at worst."""
    percentile_curve: list[tuple[float, float]] = field(default_factory=list)
    clock: dict[str, Any] = field(default_factory=lambda: {"mode": "one host, one clock", "offset_ms": 0.0})
    notes: list[str] = field(default_factory=list)

    @property
    def invalid_reason(self) -> str | None:
        return invalid_reason(self.requested_rate, self.achieved_rate, self.sent)

    def to_dict(self) -> dict[str, Any]:
        reason = self.invalid_reason
        return {
            "path": self.path,
            "requested_rate": self.requested_rate,
            "achieved_rate": round(self.achieved_rate, 1),
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "size_bytes": self.size_bytes,
            "sent": self.sent,
            "received": self.received,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "errors": self.errors,
            "measured": self.measured,
            "latency_ms": self.latency_ms,
            "percentile_curve": [{"percentile": p, "ms": ms} for p, ms in self.percentile_curve],
            "max_send_lag_ms": round(self.max_send_lag_ms, 3),
            "clock": self.clock,
            "valid": reason is None,
            "invalid_reason": reason,
            "notes": self.notes,
        }


def invalid_reason(requested_rate: float, achieved_rate: float, sent: int) -> str | None:
    """Why a run's figures do not describe the requested load, or None."""
    if sent == 0:
        return "nothing was sent"
    if achieved_rate < (1 - RATE_TOLERANCE) * requested_rate:
        return (
            f"the sender achieved {achieved_rate:,.0f}/s of the {requested_rate:,.0f}/s requested "
            f"(below {1 - RATE_TOLERANCE:.0%}): the load generator, not the pipeline, set the pace"
        )
    return None
