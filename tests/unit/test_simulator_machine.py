"""The simulator behaves like the LHC vacuum: families at their levels, noise that stays
small, rare local events at the asked rate, the same story for the same seed; and its log
writer writes the real WinCC OA grammar, with the lines of its events."""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers import run_vac
from vac.errors import UsageError
from vac.parse.winccoa import WinccoaParser
from vac.records.change import Change
from vac.records.dpe import Dpe
from vac.records.positions import position_of
from vac.scada.dpes import generate_installation, load_dpes
from vac.sources.simlayout import place_of
from vac.sources.simlog import SimulatedLog, attach_log
from vac.sources.simulator import INVALID, NOISE_CAP_DECADES, Simulator

LHC = Path(__file__).resolve().parents[2] / "data" / "winccoa" / "LHC_KafkaStream.config"
T0_US = 1_764_000_000_000_000


@pytest.fixture(scope="module")
def lhc() -> list[Dpe]:
    return load_dpes(LHC)


def run(sim: Simulator, seconds: float) -> list[Change]:
    return [change for block in sim.unpaced(seconds, T0_US) for change in block]


def test_places_come_from_the_names() -> None:
    dpe = Dpe("VGPB_2_7L8_B.PR", "k", "pressures", "float", "VACSECPR123", "LSS1", "125")
    place = place_of(dpe, dcums_are_real=False)
    assert place.system == "B" and place.cell == 7 and place.point == 8
    assert place.position_m == position_of("VGPB_2_7L8_B.PR").dcum  # as everywhere else in vac
    assert place_of(Dpe("VGM_01UJ33_D.PR", "k", "p", "float", "", "", "125"), False).position_m is None


def test_each_family_sits_at_its_level_and_noise_alone_stays_within_its_cap(lhc: list[Dpe]) -> None:
    sim = Simulator(lhc, rate=20_000, seed=5, events_per_hour=0)
    readings: dict[str, list[float]] = defaultdict(list)
    for change in run(sim, 60):
        readings[change.dpe].append(math.log10(change.value))
        assert change.status64 != INVALID  # nothing goes invalid without an event
    arc_beam = [n for n in readings if n.startswith("VGPB") and place_of(_dpe(lhc, n), False).cell not in range(12)]
    assert arc_beam and all(min(readings[n]) >= -11.01 and max(readings[n]) <= -8.9 for n in arc_beam)
    assert max(max(readings[n]) for n in readings if n.startswith(("VGPB", "VGI"))) < -8.5  # far below 1e-8
    insulation = [n for n in readings if n.startswith("VGP_") and n.endswith("_M.PR")]
    assert insulation and all(min(readings[n]) >= -7.2 and max(readings[n]) <= -5.3 for n in insulation)
    pirani = [n for n in readings if n.startswith("VGR")]
    assert pirani and all(min(readings[n]) >= math.log10(5e-4) - 1e-9 for n in pirani)
    spread = max(max(values) - min(values) for values in readings.values())
    assert spread <= 2 * NOISE_CAP_DECADES + 0.01


def _dpe(dpes: list[Dpe], name: str) -> Dpe:
    return next(dpe for dpe in dpes if dpe.name == name)


def test_events_come_at_the_asked_rate_and_the_same_seed_tells_the_same_story(lhc: list[Dpe]) -> None:
    first = Simulator(lhc, rate=50, seed=11, events_per_hour=60)
    changes = run(first, 2 * 3600)
    assert 80 <= len(first.injected) <= 160  # 120 expected in 2 h
    assert {event.kind for event in first.injected} == {"bump", "valve", "pump_trip", "gauge_invalid"}
    again = Simulator(lhc, rate=50, seed=11, events_per_hour=60)
    assert run(again, 2 * 3600)[-1000:] == changes[-1000:]
    assert again.injected == first.injected
    other = Simulator(lhc, rate=50, seed=12, events_per_hour=60)
    run(other, 600)
    assert [e.dpe for e in other.injected] != [e.dpe for e in first.injected][: len(other.injected)]


def test_a_bump_is_local_spreads_within_its_vacuum_system_and_decays(lhc: list[Dpe]) -> None:
    sim = Simulator(lhc, rate=500, seed=2, events_per_hour=30)
    changes = run(sim, 1800)
    bump = next(e for e in sim.injected if e.kind == "bump" and e.at_s + e.duration_s + 120 < 1800)
    system = bump.dpe.rsplit(".", 1)[0][-1]
    assert 1 <= len(bump.affected) <= 8 and all(name.rsplit(".", 1)[0].endswith(f"_{system}") for name in bump.affected)
    own = [c for c in changes if c.dpe == bump.dpe]
    base = sim._base[list(sim._names).index(bump.dpe)]
    soon = [math.log10(c.value) for c in own if bump.at_us + 20e6 <= c.source_us <= bump.at_us + 60e6]
    assert soon and max(soon) - base >= 1.0  # the centre rose by more than a decade
    late = [math.log10(c.value) for c in own if c.source_us > bump.at_us + bump.duration_s * 1e6]
    assert late and abs(late[-1] - base) <= NOISE_CAP_DECADES + 0.15  # back to its level


def test_a_pump_trip_flags_the_pump_invalid_until_it_restarts(lhc: list[Dpe]) -> None:
    sim = Simulator(lhc, rate=2000, seed=3, events_per_hour=120)
    changes = run(sim, 600)
    trip = next(event for event in sim.injected if event.kind == "pump_trip")
    own = [c for c in changes if c.dpe == trip.dpe and c.source_us > trip.at_us]
    during = [c for c in own if c.source_us < trip.at_us + trip.cause_s * 1e6]
    assert during and all(c.status64 == INVALID for c in during)


def test_a_generated_installation_uses_its_dcums_as_positions() -> None:
    dpes = generate_installation(500, seed=1)
    sim = Simulator(dpes, rate=2000, seed=1, events_per_hour=600)
    run(sim, 600)
    assert sim.injected and all(event.affected for event in sim.injected)


def _records(path: Path) -> list:  # type: ignore[type-arg]
    data = path.read_bytes()
    offset, numbered = 0, []
    for raw in data.split(b"\n"):
        numbered.append((offset, raw))
        offset += len(raw) + 1
    return list(WinccoaParser().records(iter(numbered)))  # type: ignore[arg-type]


def test_the_log_writer_writes_the_real_grammar_and_the_lines_of_events(tmp_path: Path, lhc: list[Dpe]) -> None:
    path = tmp_path / "PVSS_II.log"
    clock = [1_764_000_000.0]
    log = SimulatedLog(path, seed=1, chatter_every_s=0.5, clock=lambda: clock[0])
    sim = Simulator(lhc, rate=1000, seed=3, events_per_hour=600)
    sim.listeners.append(log.event)
    run(sim, 300)
    trip = next(event for event in sim.injected if event.kind == "pump_trip")
    for _ in range(20):
        log._append(log.chatter(clock[0]))
    cancelled = threading.Event()
    clock[0] = trip.at_us / 1e6 + trip.cause_s + 1  # the pump restarts meanwhile
    thread = threading.Thread(target=log.run, args=(cancelled,))
    thread.start()
    cancelled.wait(0.5)
    cancelled.set()
    thread.join()
    assert path.read_bytes().endswith(b"\r\n") and b"\r\n\r\n" not in path.read_bytes()
    records = _records(path)
    assert records and not any({"parse_failure", "fragment"} & set(r.tags) for r in records)
    severe = [r for r in records if r.level == "SEVERE"]
    assert any(r.text == "Pump tripped" and r.params[0] == trip.device and r.catalog == "vacEqp" for r in severe)
    restart = [r for r in records if r.text == "Pump restarted" and r.params == [trip.device]]
    assert restart and restart[0].level == "INFO"
    tripped = next(r for r in severe if r.params[0] == trip.device)
    assert tripped.timestamp is not None and abs(tripped.timestamp.timestamp() - trip.at_us / 1e6) < 0.002
    assert {r.level for r in records} >= {"INFO", "WARNING", "SEVERE"}


def test_the_log_writer_rotates_like_winccoa(tmp_path: Path) -> None:
    path = tmp_path / "PVSS_II.log"
    log = SimulatedLog(path, seed=1, max_bytes=2000)
    for n in range(40):
        log._append(log.chatter(1_764_000_000.0 + n))
    assert (tmp_path / "PVSS_II.log.bak").stat().st_size <= 2000 and path.stat().st_size <= 2000


def test_an_unwritable_log_path_is_said_at_once(tmp_path: Path) -> None:
    sim = Simulator(generate_installation(10), rate=10)
    with pytest.raises(UsageError, match="cannot write the simulated log"):
        attach_log(sim, tmp_path / "missing" / "PVSS_II.log", 0, "Europe/Zurich", threading.Event())


@pytest.mark.parametrize("value", ["-1", "nan", "1e12", "inf", "many"])
def test_hostile_events_per_hour_is_a_usage_error(value: str) -> None:
    result = run_vac("stream", "scada", "--devices", "5", "--duration", "1", "--events-per-hour", value)
    assert result.returncode == 2
    assert "vac: error:" in result.stderr and "Traceback" not in result.stderr


def test_simulator_options_with_another_source_are_a_usage_error(tmp_path: Path) -> None:
    result = run_vac("stream", "scada", "--source", "jsonl:-", "--sim-log", str(tmp_path / "x.log"))
    assert result.returncode == 2 and "options of the simulator" in result.stderr
