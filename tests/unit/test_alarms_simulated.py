"""The simulator and the default alarm rules together, at an accelerated pace: 30 simulated
minutes of the 9,927 LHC DPEs at the default settings raise alarms in proportion to the
events injected, only at the DPEs those events touched, and none from noise alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from vac.alarms.book import AlarmBook
from vac.records.dpe import Dpe
from vac.scada.dpes import load_dpes
from vac.settings import DashSettings
from vac.sources.simulator import DEFAULT_EVENTS_PER_HOUR, INVALID, Simulator

LHC = Path(__file__).resolve().parents[2] / "data" / "winccoa" / "LHC_KafkaStream.config"
RATE = 1000.0
"""`vac stream scada`'s default rate."""
MINUTES = 30


@pytest.fixture(scope="module")
def lhc() -> list[Dpe]:
    return load_dpes(LHC)


def simulate(
    dpes: list[Dpe], events_per_hour: float, seed: int, minutes: float = MINUTES
) -> tuple[Simulator, AlarmBook]:
    sim = Simulator(dpes, RATE, seed, events_per_hour)
    book = AlarmBook(list(DashSettings().alarms))
    raised: list[str] = []
    for block in sim.unpaced(minutes * 60, 1_800_000_000_000_000):
        for change in block:
            changes = book.evaluate(change.dpe, change.value, change.source_us / 1e6, change.status64 == INVALID)
            raised += [alarm.id for alarm in changes.raised]
    book.raised = raised  # type: ignore[attr-defined]
    return sim, book


def test_noise_alone_raises_no_alarm(lhc: list[Dpe]) -> None:
    _, book = simulate(lhc, 0.0, seed=1, minutes=10)  # 10 minutes: the levels are reached in seconds
    assert book.raised == []  # type: ignore[attr-defined]


def test_alarms_follow_the_injected_events(lhc: list[Dpe], seed: int = 1) -> None:
    sim, book = simulate(lhc, DEFAULT_EVENTS_PER_HOUR, seed)
    raised: list[str] = book.raised  # type: ignore[attr-defined]
    events = sim.injected
    touched = {name for event in events for name in event.affected}
    print(f"seed {seed}: {len(events)} events injected, {len(raised)} alarms raised")  # the figures of the report
    assert 2 <= len(events) <= 14  # 6 expected in 30 min
    assert all(alarm.split("/")[0] in touched for alarm in raised)  # none from noise
    noticed = [e for e in events if e.at_s < MINUTES * 60 - 120]  # long enough before the end to be seen
    raised_dpes = {alarm.split("/")[0] for alarm in raised}
    assert all(raised_dpes & set(e.affected) for e in noticed)  # every event is seen
    assert len(noticed) <= len(raised) <= 6 * len(events)  # in proportion: a handful per event, not a flood
