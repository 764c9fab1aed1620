"""DPE config, deadband and heartbeat rules, status decoding and record encoding."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import orjson
import pytest

from tests.helpers import LHC_DPES
from vac.errors import ConfigError
from vac.records import status
from vac.records.change import Change
from vac.records.dpe import Dpe
from vac.scada.deadband import ChangeFilter, DeadbandRules
from vac.scada.dpes import generate_installation, load_dpes
from vac.scada.encoding import ChangeEncoder, IsoClock, encode
from vac.sources.simulator import Simulator

GAUGE = Dpe("VGI_1025_5L4_B.PR", "VGI_1025_5L4_B_PR", "pressures", "float", "VACSECPR123", "LSS1", "125")
WORD = Dpe("VVS_1.RR1", "VVS_1_RR1", "statuses", "unsigned", "S", "M", "1")
CURRENT = Dpe("VPI_1.I", "VPI_1_I", "currents", "float", "S", "M", "1")


def change(dpe: Dpe, value: object, status64: int = status.ACTIVE) -> Change:
    return Change(dpe.name, value, 1_700_000_000_123_456, status64)


def test_the_real_dpe_config_loads() -> None:
    path = LHC_DPES
    dpes = load_dpes(path)
    assert len(dpes) == 9927
    first = dpes[0]
    assert (first.name, first.topic, first.type, first.sector, first.dcum) == (
        "VGAPX_AP411_IP8_VE.PR",
        "pressures",
        "float",
        "S78",  # the config's placeholder VACSECPR123 / 125 gives way to the name's IP8
        "23315",
    )


def test_a_broken_dpe_entry_is_skipped_and_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "dpes.json"
    path.write_text('[{"sourceDPE": "A.PR", "topic": "vac.lhc.pressures"}, {"topic": "vac.lhc.pressures"}]')
    assert [dpe.name for dpe in load_dpes(path)] == ["A.PR"]
    assert "skipping bad input (DPE entry: sourceDPE or topic missing)" in caplog.text
    assert "entry 1:" in caplog.text
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="is not JSON"):
        load_dpes(path)


def test_equal_values_are_suppressed_and_status_changes_always_go() -> None:
    rules = ChangeFilter(DeadbandRules())
    assert rules.of(GAUGE).accept(change(GAUGE, 1e-9), 0.0)
    assert not rules.of(GAUGE).accept(change(GAUGE, 1e-9), 0.1)
    invalid = status.ACTIVE | 1 << status.BITS["aut_inv"]
    assert rules.of(GAUGE).accept(change(GAUGE, 1e-9, invalid), 0.2)


def test_a_repeated_nan_is_no_change_with_or_without_a_deadband() -> None:
    invalid = status.ACTIVE | 1 << status.BITS["aut_inv"]
    for rules in (ChangeFilter(DeadbandRules()), ChangeFilter(DeadbandRules(pressure_relative=0.1))):
        gauge = rules.of(GAUGE)
        assert gauge.accept(change(GAUGE, math.nan, invalid), 0)
        assert not gauge.accept(change(GAUGE, math.nan, invalid), 1)
        assert gauge.accept(change(GAUGE, 1e-9, invalid), 2)
        assert gauge.accept(change(GAUGE, math.nan, invalid), 3)


def test_pressures_use_a_relative_deadband_against_the_last_sent_value() -> None:
    rules = ChangeFilter(DeadbandRules(pressure_relative=0.05))
    assert rules.of(GAUGE).accept(change(GAUGE, 1.00e-9), 0)
    assert not rules.of(GAUGE).accept(change(GAUGE, 1.04e-9), 1)  # within 5%
    assert not rules.of(GAUGE).accept(change(GAUGE, 1.045e-9), 2)  # still within 5% of the last *sent*
    assert rules.of(GAUGE).accept(change(GAUGE, 1.06e-9), 3)  # a drift that adds up goes out
    assert rules.of(GAUGE).accept(change(GAUGE, 1.06e-7), 4)


def test_other_floats_use_an_absolute_deadband_and_words_none() -> None:
    rules = ChangeFilter(DeadbandRules(pressure_relative=0.5, float_absolute=0.1))
    assert rules.of(CURRENT).accept(change(CURRENT, 2.0), 0)
    assert not rules.of(CURRENT).accept(change(CURRENT, 2.05), 1)
    assert rules.of(CURRENT).accept(change(CURRENT, 2.2), 2)
    assert rules.of(WORD).accept(change(WORD, 0x101), 0)
    assert rules.of(WORD).accept(change(WORD, 0x103), 1)  # any bit counts
    assert not rules.of(WORD).accept(change(WORD, 0x103), 2)


def test_silent_dpes_get_a_heartbeat_once_per_silence() -> None:
    rules = ChangeFilter(DeadbandRules(max_silence_s=10))
    rules.of(GAUGE).accept(change(GAUGE, 1e-9), 0)
    rules.of(WORD).accept(change(WORD, 1), 5)
    assert rules.silent(9) == []
    assert [c.dpe for c in rules.silent(10)] == [GAUGE.name]
    assert rules.silent(11) == []  # its clock restarted
    assert [c.dpe for c in rules.silent(15)] == [WORD.name]


def test_status_words_decode() -> None:
    assert status.decode(status.ACTIVE) == {
        "invalid": False,
        "out_of_range": False,
        "default": False,
        "from_general_query": False,
        "inactive": False,
    }
    flags = status.decode(status.ACTIVE | 1 << 6 | 1 << 9 | 1 << 4)
    assert flags["invalid"] and flags["from_general_query"] and flags["out_of_range"]
    assert status.decode(0)["inactive"]


def test_records_keep_the_existing_fields_and_add_vacs() -> None:
    dpe = Dpe(GAUGE.name, GAUGE.kafka_id, GAUGE.topic, GAUGE.type, GAUGE.sector, GAUGE.mainpart, GAUGE.dcum, 1)
    clock = IsoClock()
    record = orjson.loads(encode(dpe, change(dpe, 1.2e-9), 7, 1_700_000_000_200_000, clock))
    assert record == {
        "id": "VGI_1025_5L4_B.PR",
        "value": 1.2e-9,
        "validityBit": 1,
        "timestamp": "2023-11-14T22:13:20.123456Z",
        "sector": "VACSECPR123",
        "mainpart": "LSS1",
        "DCUM": "125",
        "type": "float",
        "status": {
            "invalid": False,
            "out_of_range": False,
            "default": False,
            "from_general_query": False,
            "inactive": False,
            "word": 1,
        },
        "ingest_ts": "2023-11-14T22:13:20.200000Z",
        "seq": 7,
    }
    legacy = orjson.loads(encode(dpe, change(dpe, 1.2e-9, status.ACTIVE | 1 << 5), 7, 0, clock, legacy=True))
    assert legacy == {
        "id": "VGI_1025_5L4_B.PR",
        "value": 1.2e-9,
        "validityBit": 0,
        "timestamp": "2023-11-14T22:13:20.123456Z",
        "sector": "VACSECPR123",
        "mainpart": "LSS1",
        "DCUM": "125",
    }


def test_the_simulator_is_deterministic_per_seed() -> None:
    import threading

    dpes = generate_installation(200, seed=3)

    def first(seed: int) -> list[tuple[str, object]]:
        batches = Simulator(dpes, rate=50_000, seed=seed).batches(threading.Event())
        return [(c.dpe, c.value) for c in next(batches)][:50]

    assert first(1) == first(1)
    assert first(1) != first(2)
    pressures = [c for c in next(Simulator(dpes, 50_000, 1).batches(threading.Event())) if c.dpe.endswith(".PR")]
    assert pressures and all(1e-13 < float(c.value) < 1e-3 for c in pressures)  # type: ignore[arg-type]


@pytest.mark.parametrize("legacy", [False, True])
def test_the_fast_encoder_writes_exactly_what_the_reference_does(legacy: bool) -> None:
    rng = random.Random(7)
    dpes = generate_installation(200, seed=3)
    dpes[0] = Dpe("VGI_1%s.PR", "k", "pressures", "float", 'sec "7"', "ARC\\78 %d", "1.5", validity_bit=3)
    encoder, clock = ChangeEncoder(legacy), IsoClock()
    words = [status.ACTIVE, status.ACTIVE | 1 << 5, 0, status.ACTIVE | status.FROM_GI]
    for n in range(2000):
        dpe = dpes[n % len(dpes)]
        value: float | int = rng.randrange(1 << 32) if dpe.type == "unsigned" else rng.lognormvariate(-20, 3)
        moment = 1_700_000_000_000_000 + rng.randrange(10**9)
        one = Change(dpe.name, value, moment, rng.choice(words))
        heartbeat = n % 17 == 0
        expected = encode(dpe, one, n, moment + 5000, clock, legacy, heartbeat)
        assert encoder.encode(dpe, one, n, encoder.ingest_field(moment + 5000), heartbeat) == expected


def test_the_simulated_sequence_does_not_depend_on_how_time_cuts_it_into_batches() -> None:
    import threading

    dpes = generate_installation(300, seed=4)

    def first(count: int, pause_s: float) -> list[tuple[str, object, int]]:
        changes: list[Change] = []
        for batch in Simulator(dpes, 200_000, seed=9).batches(threading.Event()):
            changes += batch
            if len(changes) >= count:
                return [(c.dpe, c.value, c.status64) for c in changes[:count]]
            time.sleep(pause_s)  # other pauses, other batch sizes
        raise AssertionError("the simulator stopped")

    assert first(3000, 0.0) == first(3000, 0.004)
    words = [value for dpe, value, _ in first(3000, 0.0) if dpe.endswith(".RR1")]
    assert words and all(type(value) is int for value in words)
