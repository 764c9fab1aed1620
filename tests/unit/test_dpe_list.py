"""The DPE list as an outsider may write it: a list with nothing usable is one error; an
entry that cannot be used is counted and skipped; no input makes a traceback."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vac.errors import ConfigError
from vac.records.badinput import BadInput
from vac.records.dpe import Dpe
from vac.scada.dpes import load_dpes
from vac.scada.encoding import ChangeEncoder

GOOD = {"sourceDPE": "VGI_1.PR", "topic": "vac.lhc.pressures", "type": "float", "DCUM": "125"}


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "dpes.json"
    path.write_bytes(content if isinstance(content, bytes) else orjson.dumps(content))
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not JSON"),
        (b"[]", "is empty"),
        ({"sourceDPE": "A.PR"}, "must be a JSON array"),
        ([{"sourceDPE": 5, "topic": "vac.lhc.x"}, None, "A.PR", []], "has no usable entry (all 4 skipped)"),
    ],
)
def test_a_list_without_a_usable_dpe_is_a_config_error(tmp_path: Path, content: object, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_dpes(write(tmp_path, content))
    assert message in raised.value.message


BAD_FIELDS = [
    ("sourceDPE", 5),
    ("sourceDPE", None),
    ("sourceDPE", ["A.PR"]),
    ("sourceDPE", {"name": "A.PR"}),
    ("sourceDPE", ""),
    ("sourceDPE", "A" * 100_000),
    ("sourceDPE", "[bold red]A.PR[/]"),
    ("sourceDPE", "A.PR\x1b[2J"),
    ("sourceDPE", "A PR"),
    ("kafkaId", 5),
    ("kafkaId", None),
    ("kafkaId", ["x"]),
    ("topic", 5),
    ("topic", None),
    ("topic", ["vac.lhc.pressures"]),
    ("topic", {"t": 1}),
    ("topic", "vac.lhc.no spaces"),
    ("topic", "vac.lhc." + "p" * 250),
    ("type", 1),
    ("type", "float\x00"),
    ("sector", None),
    ("sector", {"s": 1}),
    ("DCUM", True),
    ("DCUM", "1\x1b[31m"),
    ("validityBit", 64),
    ("validityBit", -1),
    ("validityBit", "six"),
    ("validityBit", [6]),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS, ids=lambda v: repr(v)[:30])
def test_an_entry_with_a_bad_field_is_counted_and_skipped(tmp_path: Path, field: str, value: object) -> None:
    bad = BadInput()
    entries = [GOOD, GOOD | {"sourceDPE": "VGI_2.PR", field: value}, GOOD | {"sourceDPE": "VGI_3.PR"}]
    dpes = load_dpes(write(tmp_path, entries), bad)
    assert [dpe.name for dpe in dpes] == ["VGI_1.PR", "VGI_3.PR"]
    assert bad.total == 1
    (kind,) = bad.counts
    assert field in kind
    assert "\x1b" not in bad.examples[kind]


def test_a_duplicate_is_skipped_and_the_first_kept(tmp_path: Path) -> None:
    bad = BadInput()
    dpes = load_dpes(write(tmp_path, [GOOD, GOOD | {"topic": "vac.lhc.other"}]), bad)
    assert [(dpe.name, dpe.topic) for dpe in dpes] == [("VGI_1.PR", "pressures")]
    assert bad.counts == {"DPE entry: duplicate sourceDPE VGI_1.PR (the first is kept)": 1}


def test_numbers_as_places_and_digits_as_validity_bit_are_kept(tmp_path: Path) -> None:
    (dpe,) = load_dpes(write(tmp_path, [GOOD | {"DCUM": 125, "sector": "S", "validityBit": "6"}]))
    assert (dpe.dcum, dpe.sector, dpe.validity_bit, dpe.kafka_id) == ("125", "S", 6, "VGI_1.PR")


# Fuzzing: every entry ends up a DPE or counted; a list is a ConfigError only when nothing is left.

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
fields = ["sourceDPE", "kafkaId", "topic", "type", "sector", "mainpart", "DCUM", "validityBit"]
entry_ish = st.dictionaries(
    st.sampled_from(fields),
    st.one_of(json_values, st.sampled_from(["VGI_1.PR", "VGI_2.PR", "vac.lhc.pressures", "float", "6", 6])),
)


def accounted(tmp_path: Path, content: bytes) -> None:
    bad = BadInput()
    try:
        dpes = load_dpes(write(tmp_path, content), bad)
    except ConfigError:
        return
    entries = orjson.loads(content)
    assert len(dpes) + bad.total == len(entries)
    assert len({dpe.name for dpe in dpes}) == len(dpes)
    encoder = ChangeEncoder()
    for dpe in dpes:
        assert isinstance(dpe, Dpe) and all(isinstance(text, str) for text in (dpe.name, dpe.topic, dpe.kafka_id))
        encoder.template(dpe)  # what the streamer does with each DPE first
        dpe.name.encode()


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    accounted(tmp_path_factory.mktemp("fuzz"), content)


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_json_values(tmp_path_factory: pytest.TempPathFactory, value: object) -> None:
    accounted(tmp_path_factory.mktemp("fuzz"), orjson.dumps(value))


@FUZZ
@given(st.lists(entry_ish, max_size=8))
def test_fuzz_entry_shaped_lists(tmp_path_factory: pytest.TempPathFactory, entries: list[object]) -> None:
    accounted(tmp_path_factory.mktemp("fuzz"), orjson.dumps(entries))
