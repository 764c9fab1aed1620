"""The probe's statistics on known inputs: open-loop timing, a stall in the tail, loss and
duplicates by sequence number, and the rule that marks a run invalid."""

from __future__ import annotations

import threading

from vac.probe.openloop import Schedule, send_open_loop
from vac.probe.stats import Receipts, invalid_reason, latency_ms


class FakeClock:
    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


def test_the_schedule_plans_every_message_from_the_start() -> None:
    schedule = Schedule(start_ns=1_000_000_000, rate=1000, count=10)
    assert schedule.planned_ns(3) == 1_003_000_000
    assert schedule.due(999_999_999) == 0
    assert schedule.due(1_000_000_000) == 1
    assert schedule.due(1_002_500_000) == 3
    assert schedule.due(5_000_000_000) == 10


def test_a_stall_shows_in_the_tail_percentiles_not_only_in_one_message() -> None:
    """1,000 messages/s for 10 s through a pipeline that takes 1 ms, except that sending
    message 5,000 hangs for one second. Measured from the planned times, the ~1,000 messages
    that should have gone out during the stall are all late; measured from the real send
    times (coordinated omission), only one would be."""
    clock = FakeClock(start_ns=10**12)
    schedule = Schedule(start_ns=clock.now, rate=1000, count=10_000)
    receipts = Receipts(schedule.count, measured_from=0)
    from_real_send = Receipts(schedule.count, measured_from=0)

    def send(seq: int) -> None:
        started = clock.now
        if seq == 5000:
            clock.now += 1_000_000_000  # the producer blocks for a second
        arrival = clock.now + 1_000_000  # 1 ms through the pipeline
        receipts.arrived(seq, (arrival - schedule.planned_ns(seq)) // 1000)
        from_real_send.arrived(seq, (arrival - started) // 1000)

    report = send_open_loop(schedule, send, threading.Event(), clock=clock, sleep=clock.sleep)
    assert report.sent == 10_000 and 990 <= report.max_lag_ms <= 1001
    figures = latency_ms(receipts.histogram)
    assert 0.9 <= figures["p50"] <= 1.1
    assert 400 <= receipts.histogram.get_value_at_percentile(95) / 1000 <= 600
    assert figures["p99"] >= 880 and figures["max"] >= 999
    assert 45 <= figures["mean"] <= 60  # ~1,000 messages late by 500 ms on average, over 10,000
    # The same run measured from the real send times hides the stall in one message.
    hidden = latency_ms(from_real_send.histogram)
    assert hidden["p99"] <= 1.1 and hidden["max"] >= 999


def test_loss_duplicates_and_other_runs_are_counted_apart() -> None:
    receipts = Receipts(expected=10, measured_from=2)
    for seq in (0, 1, 2, 3, 3, 5, 7, 42):
        receipts.arrived(seq, 1000)
    assert receipts.received == 6 and receipts.duplicated == 1 and receipts.foreign == 1
    assert receipts.missing(sent=10) == 4
    assert receipts.missing(sent=6) == 1  # seq 4; 6..9 were never sent
    assert receipts.histogram.get_total_count() == 4  # the warm-up (0, 1) is not measured


def test_a_run_that_could_not_keep_the_rate_is_invalid_and_says_why() -> None:
    assert invalid_reason(10_000, 9_850, 100_000) is None
    reason = invalid_reason(10_000, 9_700, 100_000)
    assert reason is not None and "9,700/s of the 10,000/s" in reason
    assert invalid_reason(50, 0, 0) == "nothing was sent"
