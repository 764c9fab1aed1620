"""SCADA change -> compact Elasticsearch document: index per day of the source time, id time@DPE,
placeholders replaced by the name's position, and every hostile message a dead letter, never a
traceback."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vac.es.bulk import BulkItem
from vac.logs.routing import DeadLetter, Skip
from vac.logs.scada_routing import route_change

TEMPLATE = "vacelastic-scada-v1-{yyyy.MM.dd}"
CHANGE = {
    "id": "VGPB_2_7L8_B.PR",
    "value": 2.5e-10,
    "timestamp": "2026-12-03T06:37:19.251040Z",
    "sector": "VACSECPR123",
    "mainpart": "LSS1",
    "DCUM": "125",
    "type": "float",
    "status": {"invalid": True, "out_of_range": False, "default": False, "from_general_query": True, "word": 97},
    "ingest_ts": "2026-12-03T06:37:19.252040Z",
    "seq": 12,
}


def test_a_change_becomes_a_compact_document_in_its_days_index() -> None:
    item = route_change(orjson.dumps(CHANGE), TEMPLATE)
    assert isinstance(item, BulkItem)
    assert item.index == "vacelastic-scada-v1-2026.12.03"
    assert item.id == "2026-12-03T06:37:19.251040Z@VGPB_2_7L8_B.PR"  # time first: Lucene skips older segments
    doc = orjson.loads(item.source)
    assert doc == {
        "dpe": "VGPB_2_7L8_B.PR",
        "@timestamp": "2026-12-03T06:37:19.251040Z",
        "value": 2.5e-10,
        "status": 97,
        "flags": ["invalid"],
        "sector": "S78",
        "mainpart": "LSS",
        "dcum": 23047.0,
        "seq": 12,
        "type": "float",
        "ingested": "2026-12-03T06:37:19.252040Z",
    }


def test_legacy_records_and_other_zones_are_indexed_by_their_utc_day() -> None:
    legacy = {"id": "VGI_1025_5L4_B.PR", "value": 1e-9, "validityBit": 0, "timestamp": "2026-12-04T00:30:00+01:00"}
    item = route_change(orjson.dumps(legacy), TEMPLATE)
    assert isinstance(item, BulkItem)
    assert item.index == "vacelastic-scada-v1-2026.12.03"
    doc = orjson.loads(item.source)
    assert doc["@timestamp"] == "2026-12-03T23:30:00.000000Z" and doc["flags"] == ["invalid"]
    assert doc["sector"] == "S34"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json \x1b[2J", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (orjson.dumps(CHANGE | {"id": 5}), "id"),
        (orjson.dumps(CHANGE | {"id": "VGPB\x1b[31m.PR"}), "control"),
        (orjson.dumps(CHANGE | {"id": "V" * 10_000}), "id"),
        (orjson.dumps(CHANGE | {"value": "1e-9"}), "value"),
        (orjson.dumps(CHANGE | {"value": True}), "value"),
        (b'{"id": "A.PR", "value": 1e999, "timestamp": "2026-12-03T00:00:00Z"}', "not JSON"),
        (orjson.dumps(CHANGE | {"timestamp": "yesterday"}), "timestamp"),
        (orjson.dumps(CHANGE | {"timestamp": "1900-01-01T00:00:00Z"}), "out of range"),
        (orjson.dumps(CHANGE | {"timestamp": 1_700_000_000}), "timestamp"),
    ],
)
def test_what_cannot_be_a_document_is_a_dead_letter_with_the_reason(value: bytes, reason: str) -> None:
    route = route_change(value, TEMPLATE)
    assert isinstance(route, DeadLetter) and reason in route.reason


def test_a_tombstone_is_skipped_and_odd_side_fields_cost_only_themselves() -> None:
    assert isinstance(route_change(None, TEMPLATE), Skip)
    odd = CHANGE | {"seq": -1, "type": "x" * 100, "ingest_ts": "later", "status": {"word": 12345}, "DCUM": "nan"}
    huge_word = orjson.dumps(odd).replace(b"12345", str(1 << 70).encode())  # beyond ES's long
    item = route_change(huge_word, TEMPLATE)
    assert isinstance(item, BulkItem)
    doc = orjson.loads(item.source)
    assert "seq" not in doc and "type" not in doc and "ingested" not in doc and doc["status"] is None
    assert doc["dcum"] is None  # a real (not placeholder) DCUM that is no number: none, not NaN


@given(st.binary(max_size=300))
def test_any_bytes_route_without_raising(value: bytes) -> None:
    assert isinstance(route_change(value, TEMPLATE), BulkItem | DeadLetter | Skip)
