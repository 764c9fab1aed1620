"""The WinCC OA log parser, on the real sample and on the cases it lacks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.helpers import SAMPLE_LOG
from vac.parse.winccoa import WinccoaParser, split_params
from vac.records.logrecord import LogRecord, iso_utc


def numbered(data: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    for raw in data.split(b"\n"):
        yield offset, raw
        offset += len(raw) + 1


def parse(data: bytes, **options: int) -> list[LogRecord]:
    return list(WinccoaParser(**options).records(numbered(data)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sample() -> list[LogRecord]:
    return parse(SAMPLE_LOG.read_bytes())


def test_one_record_per_header_line_and_nothing_lost(sample: list[LogRecord]) -> None:
    data = SAMPLE_LOG.read_bytes()
    headers = [line for line in data.split(b"\n") if re.match(rb"WCC\w+\s*\(\d+\), 2019\.", line)]
    assert len(sample) == len(headers) == 4364
    # Every line of the file is in exactly one record, in order.
    lines = [line.rstrip(b"\r").decode() for line in data.split(b"\n")]
    assert [line for record in sample for line in record.message.split("\n")] == lines
    assert not any("parse_failure" in record.tags for record in sample)


def test_a_plain_record(sample: list[LogRecord]) -> None:
    first = sample[0]
    assert (first.manager, first.manager_id, first.type, first.level, first.number, first.catalog) == (
        "WCCILpmon",
        "1",
        "SYS",
        "INFO",
        165,
        None,
    )
    assert first.timestamp == datetime(2019, 8, 3, 12, 53, 25, 608000, tzinfo=UTC)  # 14:53:25.608 CEST
    assert first.text.startswith("maxLogFileSize limit reached (10 MB). Renamed the logfile C:\\PVSS_projects")
    assert first.params == [] and first.offset == 0 and first.lines == 1


def test_the_timestamp_text_is_the_timestamp_formatted(sample: list[LogRecord]) -> None:
    assert sample[0].timestamp_text == "2019-08-03T12:53:25.608Z"
    assert all(record.timestamp and record.timestamp_text == iso_utc(record.timestamp) for record in sample)
    (winter,) = parse(b"WCCOActrl     (2), 2026.11.28 03:07:00.001, CTRL, INFO, 1, x")
    assert winter.timestamp_text == "2026-11-28T02:07:00.001Z"


def test_code_0_has_an_empty_text(sample: list[LogRecord]) -> None:
    record = sample[1]
    assert (record.number, record.text, record.params) == (
        0,
        "",
        ["Manager (SYS: 1 Driver -num 2 CONN: 1) initialised"],
    )


def test_params_and_catalog(sample: list[LogRecord]) -> None:
    lost = next(r for r in sample if r.number == 39)
    assert lost.text == "Connection lost"
    assert lost.params == ["MAN: (SYS: 1 Event -num 0 CONN: 1)", "Connection closed"]
    pmon = next(r for r in sample if r.catalog == "pmon")
    assert (pmon.number, pmon.text) == (11, "Detected stopped manager WCCILevent(0) - restarting it #1")


def test_a_license_block_belongs_to_its_record(sample: list[LogRecord]) -> None:
    record = next(r for r in sample if r.text == "License information" and r.params == ["Host information"])
    assert record.message.split("\n")[1:] == [
        "Hostname:   pcte197167",
        "HW-code:    30084393512",
        "HW-version: 31500002",
        "",
    ]
    assert record.lines == 5 and record.tags == []


def test_ctrl_context_lines_belong_to_their_record(sample: list[LogRecord]) -> None:
    record = next(r for r in sample if "\n    Line: 1243, dpGet, DIPConfig_12.serverConfig" in r.message)
    assert record.type == "CTRL" and record.lines == 2 and record.tags == []


def test_categories_without_padding(sample: list[LogRecord]) -> None:
    record = next(r for r in sample if r.type == "PARAM")
    assert record.level == "WARNING" and record.number == 224


def test_a_clobbered_tail_joins_the_record_before_it_flagged(sample: list[LogRecord]) -> None:
    fragments = [r for r in sample if "fragment" in r.tags]
    assert len(fragments) == 13
    assert fragments[0].message.endswith("Connection closed\nace period expired")


def test_two_records_on_one_line_are_split() -> None:
    line = (
        b"WCCILsim     (1), 2019.08.03 14:53:39.669, SYS,  INFO,      101, Connection to (SYS: 1 Event -num 0 CONN: 1) "
        b"@ localhost:4998 failed, new attempt in 20 secsWCCOActrl    (5), 2019.08.03 14:53:39.670, CTRL, WARNING,"
        b"     54, Unexpected state\r\n"
    )
    first, second = parse(line)
    assert first.text.startswith("Connection to") and first.params == ["new attempt in 20 secs"]
    assert (second.manager, second.manager_id, second.type, second.text) == (
        "WCCOActrl",
        "5",
        "CTRL",
        "Unexpected state",
    )
    assert second.offset == line.index(b"WCCOActrl") and second.tags == ["clobbered"]


def test_a_bare_cr_separates_records() -> None:
    data = (
        b"WCCOActrl    (1), 2019.08.03 14:53:39.787, SYS,  INFO,        1, one\r"
        b"WCCOActrl    (2), 2019.08.03 14:53:39.788, SYS,  INFO,        2, two\r\n"
    )
    assert [(r.manager_id, r.text) for r in parse(data)] == [("1", "one"), ("2", "two")]


def test_unknown_managers_at_line_start_parse() -> None:
    (record,) = parse(
        b"WCCOAopcua   (7), 2026.11.28 03:07:00.001, SYS,  SEVERE,   512/opcua, Server not reachable, opc.tcp://x\n"
    )
    assert (record.manager, record.catalog, record.level, record.params) == (
        "WCCOAopcua",
        "opcua",
        "SEVERE",
        ["opc.tcp://x"],
    )
    assert record.timestamp == datetime(2026, 11, 28, 2, 7, 0, 1000, tzinfo=UTC)  # CET in winter


def test_garbage_before_any_record_is_kept_as_a_parse_failure() -> None:
    records = parse(b"\xff\xfe binary junk\nWCCOActrl    (1), 2019.08.03 14:53:39.787, SYS,  INFO,        1, ok\n")
    assert records[0].tags == ["parse_failure"] and records[0].message.startswith("\\xff\\xfe binary junk")
    assert records[1].text == "ok"


def test_over_the_caps_the_rest_is_kept_in_a_continued_record() -> None:
    data = b"WCCOActrl    (1), 2019.08.03 14:53:39.787, CTRL, SEVERE, 1, stack\n" + b"    Line: x\n" * 5
    records = parse(data, max_lines=3)
    assert [r.lines for r in records] == [3, 3, 1]  # the final empty line joins the last
    assert records[0].tags == ["truncated"] and records[1].tags == ["continued", "truncated"]
    assert sum(r.lines for r in records) == 7


def test_params_split_outside_parentheses() -> None:
    assert split_params("a, b (x, y), c") == ["a", "b (x, y)", "c"]
    assert split_params(", only param") == ["", "only param"]
