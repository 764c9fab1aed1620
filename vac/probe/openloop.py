"""An open-loop sender: message `seq` is planned for `start + seq / rate`, whatever happened
to the messages before it. When the sender falls behind it sends the overdue messages at
once; their latency still counts from their planned time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    start_ns: int
    """Wall-clock time (time.time_ns) of message 0."""
    rate: float
    count: int

    @property
    def interval_ns(self) -> float:
        return 1e9 / self.rate

    def planned_ns(self, seq: int) -> int:
        return self.start_ns + int(seq * self.interval_ns)

    def due(self, now_ns: int) -> int:
        """How many messages are planned at or before `now_ns`."""
        if now_ns < self.start_ns:
            return 0
        return min(self.count, int((now_ns - self.start_ns) / self.interval_ns) + 1)


@dataclass
class SendReport:
    sent: int
    elapsed_s: float
    """From the first planned time to the last real send, plus one interval."""
    max_lag_ms: float
    errors: int = 0

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def send_open_loop(
    schedule: Schedule,
    send: Callable[[int], None],
    cancelled: threading.Event,
    idle: Callable[[], None] = lambda: None,
    clock: Callable[[], int] = time.time_ns,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Call `send(seq)` for every message when it is due; `idle()` runs between bursts
    (the producer's poll). Returns when all are sent or `cancelled` is set."""
    seq = 0
    max_lag_ns = 0
    last_send_ns = schedule.start_ns
    while seq < schedule.count and not cancelled.is_set():
        now = clock()
        due = schedule.due(now)
        if due <= seq:
            idle()
            wait_s = (schedule.planned_ns(seq) - clock()) / 1e9
            if wait_s > 0:
                sleep(min(wait_s, 0.002))
            continue
        max_lag_ns = max(max_lag_ns, now - schedule.planned_ns(seq))
        for next_seq in range(seq, due):
            send(next_seq)
        seq = due
        last_send_ns = clock()
    elapsed_s = (last_send_ns - schedule.start_ns + schedule.interval_ns) / 1e9
    return SendReport(sent=seq, elapsed_s=elapsed_s, max_lag_ms=max_lag_ns / 1e6)
