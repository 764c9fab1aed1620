"""KQL (vac.search.kql): one parser, the Elasticsearch query it makes, the live predicate's
matching of keyword and text fields, and one-line errors for hostile queries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from commands.main import run
from vac.errors import ExitStatus, UsageError
from vac.search import kql
from vac.search.livequery import compile_query

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ZURICH = ZoneInfo("Europe/Zurich")


def es(query: str) -> dict[str, Any]:
    return kql.to_es(kql.parse(query), NOW, ZURICH)


def term(field: str, value: Any) -> dict[str, Any]:
    return {"term": {field: value}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"match_all": {}}),
        ("*", {"match_all": {}}),
        ("level:SEVERE", term("level", "SEVERE")),
        ("level:SEVERE and host:x", {"bool": {"filter": [term("level", "SEVERE"), term("host.name", "x")]}}),
        ("level:SEVERE AnD host:x", {"bool": {"filter": [term("level", "SEVERE"), term("host.name", "x")]}}),
        ("a:1 or b:2", {"bool": {"should": [term("a", "1"), term("b", "2")], "minimum_should_match": 1}}),
        ("NOT level:INFO", {"bool": {"must_not": [term("level", "INFO")]}}),
        # and binds tighter than or, as in Kibana
        (
            "a:1 or b:2 and c:3",
            {
                "bool": {
                    "should": [term("a", "1"), {"bool": {"filter": [term("b", "2"), term("c", "3")]}}],
                    "minimum_should_match": 1,
                }
            },
        ),  # fmt: skip
        (
            "level:(SEVERE or WARNING)",
            {"bool": {"should": [term("level", "SEVERE"), term("level", "WARNING")], "minimum_should_match": 1}},
        ),
        ("level:(not INFO)", {"bool": {"must_not": [term("level", "INFO")]}}),
        ("((level:(((SEVERE)))))", term("level", "SEVERE")),
        ("manager:WCCIL*", {"wildcard": {"manager": {"value": "WCCIL*"}}}),
        ("manager:WCC\\*IL", term("manager", "WCC*IL")),  # an escaped star is a star
        ("manager:WCC?IL*", {"wildcard": {"manager": {"value": "WCC\\?IL*"}}}),  # KQL has no ? wildcard
        ('manager:"WCC*"', term("manager", "WCC*")),  # nor wildcards in phrases
        ('text:"Connection lost"', {"match_phrase": {"text": "Connection lost"}}),
        ('text:"say \\"hi\\""', {"match_phrase": {"text": 'say "hi"'}}),
        ("message: connection lost", {"match": {"message": "connection lost"}}),
        ("text:Conn*", {"wildcard": {"text": {"value": "conn*"}}}),
        ("host:*", {"exists": {"field": "host.name"}}),
        ("lines >= 2", {"range": {"lines": {"gte": 2.0}}}),
        ("number < 100", {"range": {"number": {"lt": "100"}}}),  # a keyword: compared as text
        ("lines:3", term("lines", 3.0)),
        ("@timestamp >= now-1h/h", {"range": {"@timestamp": {"gte": "2026-11-28T11:00:00.000Z"}}}),
        ('time < "2019-08-03 03:07"', {"range": {"@timestamp": {"lt": "2019-08-03T01:07:00.000Z"}}}),
        ("@timestamp > yesterday", {"range": {"@timestamp": {"gt": "2026-11-26T23:00:00.000Z"}}}),
        ("app:lhc\\:1", term("fields.app_id", "lhc:1")),
        (
            "lost",
            {"multi_match": {"query": "lost", "fields": ["message", "text"], "type": "best_fields", "lenient": True}},
        ),  # fmt: skip
        (
            '"Data Manager"',
            {
                "multi_match": {
                    "query": "Data Manager",
                    "fields": ["message", "text"],
                    "type": "phrase",
                    "lenient": True,
                }
            },
        ),  # fmt: skip
        ("android or order", {"bool": {"should": [es("android"), es("order")], "minimum_should_match": 1}}),
    ],
)
def test_the_elasticsearch_query(query: str, expected: dict[str, Any]) -> None:
    assert es(query) == expected


DOC: dict[str, Any] = {
    "@timestamp": "2019-08-03T12:53:25.608Z",
    "level": "SEVERE",
    "manager": "WCCILdist",
    "number": 101,
    "lines": 3,
    "text": "Connection to (SYS: 1 Event) @ localhost:4998 failed, new attempt in 20 secs",
    "message": "WCCILdist (1), ... System1:VGI_123.value don't",
    "tags": ["fragment", "x" * 1025],
    "host.name": "cs-ccr-vac1",
    "flag": True,
}


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ("level:SEVERE", True),
        ("level:severe", False),
        ("level:SEV*", True),
        ("level:sev*", False),
        ("number:101", True),  # a number in a keyword field is its text
        ("lines >= 2 and lines < 4", True),
        ("lines > 3", False),
        ("lines:3", True),
        ("host:cs-ccr-vac1", True),  # the flat form of host.name
        ("flag:true", True),
        ("tags:fragment", True),
        ("tags:x*", False),  # longer than ignore_above: not indexed
        ("text:connection", True),
        ("text:CONNECTION", True),  # analyzed: lower case
        ('text:"connection to"', True),
        ('text:"to connection"', False),
        ('text:"localhost 4998"', True),  # ':' between a letter and a digit splits
        ("message:system1", True),
        ("message:vgi_123", True),
        ("message:value", True),
        ('message:"don\'t"', True),
        ("message:don", False),  # "don't" is one word
        ("text:conn* and text:*ttempt", True),
        ("text:nothere or manager:WCCIL*", True),
        ("not (text:failed)", False),
        ("missing:*", False),
        ('@timestamp < "2019-08-03T12:53:25.609Z" and @timestamp >= "2019-08-03T12:53:25.608Z"', True),
        ("@timestamp < 2019-08-03T12\\:53\\:25.609Z", True),  # a ':' quoted or escaped, as in Kibana
        ('@timestamp > "2019-08-03 14:53:25.608"', False),  # the same moment in Zurich time
        ("failed and not level:INFO", True),
    ],
)
def test_the_live_predicate(query: str, matches: bool) -> None:
    assert compile_query(query, ZURICH)(DOC) is matches, query


def test_number_is_a_keyword_so_ranges_compare_text() -> None:
    assert compile_query("number >= 2")(DOC) is False  # "101" < "2", as in Elasticsearch
    assert compile_query("number >= 100")(DOC) is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("level:SEVERE and (host:x", "query ends before a ')' closes its '('"),
        ("level:SEVERE)", "query: unexpected ')' at column 13"),
        ('text:"unclosed', "query: the quote at column 6 is not closed"),
        ("level:", "query ends too soon"),
        ("level:SEVERE and", "query ends too soon"),
        ("level:SEVERE host:x", "query: unexpected ':' at column 18"),  # no implicit and, as Kibana
        ("@timestamp < 2019-08-03T12:53Z", "query: unexpected ':' at column 27"),
        ("<script>alert(1)</script>", "query: unexpected '<' at column 1"),
        ("level:\x1b[31mSEVERE", "query holds a control character ('\\x1b') at column 7"),
        ("level:SEVERE\x00", "control character ('\\x00') at column 13"),
        ("(" * 200 + "a" + ")" * 200, "query nests parentheses 200 deep; at most 100"),
        ("a " * 6000, "query is 12,000 characters long; at most 10,000"),
        ("text >= 2", "text is a text field; ranges work on numbers, times and keywords"),
        ("lines:abc", "lines holds numbers; 'abc' is not one"),
        ("lines >= 1e400", "lines holds numbers; '1e400' is not a finite one"),
        ("lines:3*", "lines is a integer field; wildcards work on keywords and texts"),
        ("@timestamp >= now-1x", "query @timestamp >= 'now-1x': unknown time unit 'x'"),
    ],
)
def test_hostile_and_wrong_queries_are_one_line_usage_errors(query: str, message: str) -> None:
    for compile_one in (lambda q: kql.to_es(kql.parse(q)), compile_query):
        with pytest.raises(UsageError) as caught:
            compile_one(query)
        assert message in caught.value.message
        assert "\n" not in caught.value.message and "\x1b" not in caught.value.message
        assert len(caught.value.message) < 300


def test_the_live_filter_refuses_lucene_and_vac_query_takes_it() -> None:
    with pytest.raises(UsageError, match="KQL only"):
        compile_query("lucene:level:SEVERE AND host:x")
    assert kql.split_language("  LUCENE:a AND b") == (True, "a AND b")
    assert kql.split_language("level:x") == (False, "level:x")


@pytest.mark.parametrize(
    "query", ["level:SEVERE and (host:x", "\x1b]0;title\x07", "(" * 5000, "<b>bold</b>", "lines >= x"]
)
def test_vac_query_says_so_in_one_line_before_connecting(
    query: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "vac.yaml"
    config.write_text("elasticsearch:\n  hosts: ['http://127.0.0.1:9']\n")
    assert run(["--config", str(config), "query", query]) == ExitStatus.USAGE
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("vac: error: query") and "\x1b" not in lines[0] and "\x07" not in lines[0]


def test_tokens_approximate_the_standard_analyzer() -> None:
    assert kql.tokens("System1:VGI_123.value 3.5 12:30 a.1 don't 1,000 Foo.Bar") == (
        "system1", "vgi_123", "value", "3.5", "12", "30", "a", "1", "don't", "1,000", "foo.bar",
    )  # fmt: skip
