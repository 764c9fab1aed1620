"""Whatever a user types as a filter, a query or a time, vac answers with its own error or a
result, never a traceback: the --where filter (compiled and applied to odd documents), the
live query-string of the dashboard and the highlight pattern of `vac query`, and the time
and position parsers of `vac query` and `vac tail`. Bounded: a few seconds in all."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commands.search_output import match_pattern
from vac.errors import VacError
from vac.jsonfilter import JsonFilter
from vac.kafka.positions import parse_position, parse_until
from vac.search.livequery import compile_query
from vac.search.logsearch import SearchScope
from vac.timegrammar import parse_instant, zone
from vac.timewindow import parse_interval

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 28, 3, 7, 30, tzinfo=UTC)

# Pieces that make the parsers go deep rather than fail at the first character.
JMESPATH_PIECES = st.sampled_from([
    "id", "value", "status.invalid", "@", "`1e-8`", "`\"S1\"`", "'VGPB'", "`null`", "`[]`", "`{}`", " > ", " < ",
    " == ", " != ", " && ", " || ", "!", "(", ")", "[", "]", "[*]", "[0]", "[?", "&", ",", ".", "|", "{a: b}",
    "starts_with(", "contains(", "length(", "to_number(", "sort_by(", "max_by(", "abs(", "foo(", "not_null(",
    "join(", "merge(", "sum(", "avg(", "keys(", "values(", "`99999999999999999999`", "`1e400`", "*", "-", "`",
])  # fmt: skip
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["id", "value", "a", "b"]), inner),
    max_leaves=12,
)
TIME_PIECES = st.sampled_from([
    "-", "@", "now", "now-", "1", "0", "99999999999999999999", "1000000000", "9999", "99999", "2019-08-03", "T",
    " ", ":", "03:07", "+02:00", "-05:00", "Z", "ms", "s", "m", "h", "d", "w", "M", "y", ".5", "e9", "beginning",
    "end", "-01-01", "23:59:59.999999", "/d", "/w", "/M", "/y", "/h", "||", "today", "yesterday", "+", "H",
])  # fmt: skip


KQL_PIECES = st.sampled_from([
    "level", "text", "lines", "@timestamp", "host", "tags", ":", " ", "(", ")", " and ", " OR ", "not ", "*", "\\",
    '"', "SEVERE", "conn*", ">=", "<", "now-1h", "2019-08-03", "1e400", "-5", "\x00", "\x1b[31m", "<b>", "é", "lucene:",
])  # fmt: skip


def expressions() -> st.SearchStrategy[str]:
    return st.lists(JMESPATH_PIECES, max_size=8).map("".join) | st.text(max_size=30)


def times() -> st.SearchStrategy[str]:
    return st.lists(TIME_PIECES, max_size=6).map("".join) | st.text(max_size=20)


@FUZZ
@given(expression=expressions(), documents=st.lists(DOCUMENTS, max_size=5))
@example("foo(bar)", [{}])
@example("starts_with(id, 'VGPB')", [{"id": "VGPB_1"}, {"id": 3}, {}, "not an object"])
def test_a_where_filter_is_a_usage_error_or_a_yes_or_no_on_every_document(
    expression: str, documents: list[Any]
) -> None:
    try:
        where = JsonFilter(expression)
    except VacError:
        return
    answers = [where.matches(document) for document in documents]
    assert all(isinstance(answer, bool) for answer in answers)
    assert where.failed <= len(documents)


@FUZZ
@given(
    query=st.text(max_size=40) | st.lists(KQL_PIECES, max_size=10).map("".join),
    documents=st.lists(DOCUMENTS, max_size=4),
)
def test_a_live_query_or_a_highlight_pattern_never_raises_anything_but_vac_errors(
    query: str, documents: list[Any]
) -> None:
    pattern = match_pattern(query)
    if pattern is not None:
        pattern.search("Connection lost to VGPB_2_200")
    with contextlib.suppress(VacError):  # the same text as `vac query` sends it to Elasticsearch
        assert isinstance(SearchScope(index="x-*", query=query).es_query(), dict)
    try:
        matches = compile_query(query)
    except VacError:
        return
    for document in documents:
        assert isinstance(matches(document if isinstance(document, dict) else {"text": document}), bool)


@FUZZ
@given(text=times())
@example("1000000000d")  # the cases the outside tester reported, always tried
@example("99999999999999999999s")
@example("99999-01-01")
@example("9999-12-31T23:59:59-05:00")
@example("0001-01-01")
def test_query_times_and_intervals_are_a_moment_or_a_usage_error(text: str) -> None:
    for local in (None, zone("Europe/Zurich"), zone("UTC")):
        try:
            moment = parse_instant(text, NOW, local)
        except VacError:
            continue
        assert moment.tzinfo is not None
    try:
        interval, seconds = parse_interval(text)
    except VacError:
        return
    assert seconds > 0 and interval


@FUZZ
@given(text=times())
@example("-1000000000d")
@example("-99999999999999999999s")
@example("@99999-01-01")
@example("@99999999999999999999")
@example("99999999999999999999")
@example("@0001-01-01")
@example("²")
def test_tail_positions_are_a_position_or_a_usage_error(text: str) -> None:
    for parse in (parse_position, parse_until):
        try:
            position = parse(text)
        except VacError:
            continue
        assert 0 <= position.value < 2**63  # what Kafka's offsets and timestamps can hold
