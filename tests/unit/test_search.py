"""Pure parts of `vac query`: typed times, intervals, the query as Elasticsearch gets it,
what is highlighted, and how Elasticsearch's refusals read."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.search_output import match_pattern
from vac.errors import UsageError
from vac.search.fields import field_value
from vac.search.logsearch import SearchScope, reasons_error
from vac.timegrammar import parse_instant
from vac.timewindow import parse_interval

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ZURICH = ZoneInfo("Europe/Zurich")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", datetime(2026, 11, 28, 11, 45, tzinfo=UTC)),
        ("now-2h", datetime(2026, 11, 28, 10, 0, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
        ("now", NOW),
        ("2019-08-03", datetime(2019, 8, 2, 22, 0, tzinfo=UTC)),  # midnight in Zurich, summer time
        ("2019-12-03 03:07", datetime(2019, 12, 3, 2, 7, tzinfo=UTC)),  # winter time
        ("2019-08-03T03:07:00Z", datetime(2019, 8, 3, 3, 7, tzinfo=UTC)),
        ("2019-08-03T03:07:00+05:00", datetime(2019, 8, 2, 22, 7, tzinfo=UTC)),
    ],
)
def test_times_as_people_type_them(text: str, expected: datetime) -> None:
    assert parse_instant(text, NOW, ZURICH) == expected


def test_a_time_that_is_neither_says_what_is_expected() -> None:
    with pytest.raises(UsageError, match="'soon' is not a time") as caught:
        parse_instant("soon", NOW, ZURICH)
    assert caught.value.hint is not None and "now-1d/d" in caught.value.hint


def test_intervals() -> None:
    assert parse_interval("5m") == ("5m", 300)
    assert parse_interval("1d") == ("1d", 86400)
    for bad in ("0m", "5 minutes", "1M"):
        with pytest.raises(UsageError):
            parse_interval(bad)


def test_the_scope_becomes_filters_and_apps_their_long_ids() -> None:
    scope = SearchScope(index="x-*", query="level:SEVERE", since=NOW, apps=("lhc_1",), levels=("severe",))
    filters = scope.es_query()["bool"]["filter"]
    assert {"term": {"level": "SEVERE"}} in filters  # KQL by default
    lucene = SearchScope(index="x-*", query="level:SEVERE", lucene=True).es_query()["bool"]["filter"]
    assert lucene == [{"query_string": {"query": "level:SEVERE", "default_operator": "AND"}}]
    assert {"range": {"@timestamp": {"gte": "2026-11-28T12:00:00.000Z"}}} in filters
    assert {"terms": {"fields.app_id": ["lhc_1", "vac_lhc_1_scada_logs"]}} in filters
    assert {"terms": {"level": ["SEVERE"]}} in filters
    assert SearchScope(index="x-*").es_query() == {"match_all": {}}


def test_highlight_takes_words_and_phrases_not_fields_or_operators() -> None:
    pattern = match_pattern('manager:WCCOActrl AND text:"Connection lost" NOT conn*')
    assert pattern is not None
    assert pattern.findall("WCCOActrl: connection LOST, connecting") == ["WCCOActrl", "connection LOST", "connecting"]
    assert pattern.search("AND NOT manager") is None
    assert match_pattern("") is None and match_pattern("level:*") is None


def test_a_parse_error_points_at_its_column() -> None:
    reason = (
        "Failed to parse query [a:(b]; Cannot parse 'a:(b': Encountered \"<EOF>\" at line 1, column 4.\nWas expecting"
    )
    error = reasons_error([reason], "a:(b")
    assert (
        error.message
        == "query is not valid Lucene syntax: Cannot parse 'a:(b': Encountered \"<EOF>\" at line 1, column 4."
    )
    assert error.hint == "a:(b\n   ^"


def test_dotted_fields_are_found_nested_or_flat() -> None:
    assert field_value({"host": {"name": "cs-ccr"}}, "host") == "cs-ccr"
    assert field_value({"host.name": "cs-ccr"}, "host") == "cs-ccr"
    assert field_value({"host": "x"}, "file") is None
