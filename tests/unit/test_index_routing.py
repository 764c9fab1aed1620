"""The indexer's decode-and-route step (`vac.logs.routing`): whatever a log topic holds, each
message becomes a bulk item Elasticsearch can take, a dead letter with a reason, or a skipped
tombstone, and the step never raises (a raise would stop `vac index` on that message for good)."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vac.es.bulk import BulkItem
from vac.logs.routing import DeadLetter, Skip, route_message

TEMPLATE = "vacelastic-logs-scada-v1-{app}-{yyyy.MM}"
INDEX = re.compile(r"vacelastic-logs-scada-v1-[^\\/*?\"<>| ,#:A-Z]+-\d{4}\.(0[1-9]|1[0-2])")
GOOD: dict[str, Any] = {
    "@timestamp": "2019-08-03T12:53:25.608Z",
    "message": "WCCILpmon (1), 2019.08.03 14:53:25.608, SYS, INFO, 165, started",
    "fields": {"app_id": "vac_lhc_1_scada_logs"},
    "event": {"id": "abc-0"},
}


def route(value: bytes | None) -> BulkItem | DeadLetter | Skip:
    return route_message(value, "logs-0-42", TEMPLATE)


def assert_sound(result: BulkItem | DeadLetter | Skip) -> None:
    """What a bulk item must be for Elasticsearch to take the request it is in."""
    if isinstance(result, BulkItem):
        assert INDEX.fullmatch(result.index), result.index
        assert 0 < len(result.id.encode(errors="surrogatepass")) <= 512
        assert b"\n" not in result.source and b"\r" not in result.source
        assert isinstance(orjson.loads(result.source), dict)
    else:
        assert isinstance(result, DeadLetter | Skip) and result.reason


def test_a_shipped_record_goes_to_its_month_under_its_own_id() -> None:
    assert route(orjson.dumps(GOOD)) == BulkItem("vacelastic-logs-scada-v1-lhc_1-2019.08", "abc-0", orjson.dumps(GOOD))


def test_a_time_with_an_offset_names_the_index_by_its_utc_month() -> None:
    item = route(orjson.dumps({**GOOD, "@timestamp": "2019-09-01T01:00:00+02:00"}))
    assert isinstance(item, BulkItem) and item.index.endswith("-2019.08")


def test_a_record_without_an_event_id_is_named_by_its_place_in_kafka() -> None:
    item = route(orjson.dumps({"@timestamp": "2019-08-03T12:53:25Z", "message": "m"}))
    assert isinstance(item, BulkItem) and item.id == "logs-0-42" and item.index.endswith("-unknown-2019.08")


def test_a_record_spread_over_lines_is_written_again_on_one() -> None:
    item = route(orjson.dumps(GOOD, option=orjson.OPT_INDENT_2))
    assert isinstance(item, BulkItem) and orjson.loads(item.source) == GOOD and b"\n" not in item.source


def test_a_tombstone_is_skipped_and_an_empty_message_dead_lettered() -> None:
    assert isinstance(route(None), Skip)
    assert route(b"") == DeadLetter("empty message")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "not a JSON object but a list"),
        (b'"text"', "not a JSON object but text"),
        (orjson.dumps({**GOOD, "fields": None}), "fields is null, not an object"),
        (orjson.dumps({**GOOD, "fields": {"app_id": 7}}), "fields.app_id is a number, not text"),
        (orjson.dumps({**GOOD, "fields": {"app_id": "a/b"}}), "cannot be part of an index name"),
        (orjson.dumps({**GOOD, "event": "x"}), "event is text, not an object"),
        (orjson.dumps({**GOOD, "event": {"id": "x" * 513}}), "event.id is 513 bytes"),
        (orjson.dumps({**GOOD, "event": {"id": ""}}), "event.id is empty"),
        (orjson.dumps({**GOOD, "event": {"id": {"a": 1}}}), "event.id is an object"),
        (orjson.dumps({**GOOD, "@timestamp": "99999-01-01T00:00:00Z"}), "is not an ISO 8601 time"),
        (orjson.dumps({**GOOD, "@timestamp": "banana"}), "is not an ISO 8601 time"),
        (orjson.dumps({**GOOD, "@timestamp": 1564836805000}), "@timestamp is a number"),
        (orjson.dumps({"message": "m"}), "no @timestamp"),
    ],
)
def test_a_poison_message_is_dead_lettered_with_its_reason(value: bytes, reason: str) -> None:
    result = route(value)
    assert isinstance(result, DeadLetter) and reason in result.reason, result


# Bounded: a few seconds on a loaded machine, yet every branch of the step is reached.
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
times = st.datetimes().map(lambda t: t.isoformat()) | st.text(max_size=30) | json_values
records = st.fixed_dictionaries(
    {},
    optional={
        "@timestamp": times,
        "fields": json_values | st.fixed_dictionaries({"app_id": st.text(max_size=600) | json_values}),
        "event": json_values | st.fixed_dictionaries({"id": st.text(max_size=600) | json_values}),
        "message": json_values,
    },
)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_route_without_raising(value: bytes) -> None:
    assert_sound(route(value))


@FUZZ
@given(records, st.booleans())
def test_any_record_shaped_json_routes_without_raising(record: dict[str, Any], indented: bool) -> None:
    assert_sound(route(orjson.dumps(record, option=orjson.OPT_INDENT_2 if indented else 0)))
