"""Tomcat access logs, Spring Boot logs and configured patterns; and the document mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vac.errors import ConfigError
from vac.logs.routing import index_of
from vac.parse.patterns import PatternParser, spring_boot_parser, tomcat_access_parser
from vac.parse.winccoa import WinccoaParser
from vac.records.logrecord import FileOrigin, LogRecord, app_name, iso_utc, to_document


def lines(*texts: str) -> list[tuple[int, bytes]]:
    out, offset = [], 0
    for text in texts:
        out.append((offset, text.encode()))
        offset += len(text) + 1
    return out


def test_tomcat_access_lines_are_one_record_each() -> None:
    records = list(
        tomcat_access_parser().records(
            lines(
                '10.0.0.7 - alice [03/Aug/2019:14:53:25 +0200] "GET /vacuum/sector/5L4 HTTP/1.1" 200 5120',
                "not an access line",
                '10.0.0.8 - - [03/Aug/2019:14:53:26 +0200] "POST /api HTTP/1.1" 503 - "-" "curl/8" 12',
            )
        )
    )
    first, broken, third = records
    assert first.timestamp == datetime(2019, 8, 3, 12, 53, 25, tzinfo=UTC)
    assert first.text == "GET /vacuum/sector/5L4 HTTP/1.1"
    assert first.extra | {} == {
        "client": "10.0.0.7",
        "ident": "-",
        "user": "alice",
        "method": "GET",
        "path": "/vacuum/sector/5L4",
        "protocol": "HTTP/1.1",
        "status": "200",
        "bytes": "5120",
    }
    assert broken.tags == ["parse_failure"] and broken.message == "not an access line"
    assert third.extra["status"] == "503" and third.extra["agent"] == "curl/8" and third.extra["duration_ms"] == "12"


def test_spring_boot_joins_a_stack_trace_to_its_record() -> None:
    records = list(
        spring_boot_parser("Europe/Zurich").records(
            lines(
                "2019-08-03 14:53:25.608  INFO 4711 --- [           main] o.s.b.w.e.tomcat.TomcatWebServer         : "
                "Tomcat started on port(s): 8080 (http)",
                "2024-01-05T10:00:00.001+01:00 ERROR 4711 --- [vac-web] [nio-8080-exec-1] c.c.v.Api : Request failed",
                "java.lang.IllegalStateException: no gauge",
                "\tat c.c.v.Api.get(Api.java:42)",
            )
        )
    )
    started, failed = records
    assert started.level == "INFO" and started.manager == "o.s.b.w.e.tomcat.TomcatWebServer"
    assert started.timestamp == datetime(2019, 8, 3, 12, 53, 25, 608000, tzinfo=UTC)
    assert started.extra == {"pid": "4711", "thread": "main"}
    assert failed.level == "ERROR" and failed.lines == 3 and failed.text == "Request failed"
    assert failed.extra["application"] == "vac-web"
    assert failed.timestamp == datetime(2024, 1, 5, 9, 0, 0, 1000, tzinfo=UTC)


def test_a_configured_pattern_fills_fields_and_extra() -> None:
    parser = PatternParser(
        r"(?P<timestamp>\S+ \S+) \[(?P<level>\w+)\] (?P<component>\w+): (?P<text>.*)", "%Y-%m-%d %H:%M:%S"
    )
    (record,) = parser.records(lines("2026-11-28 03:07:00 [WARN] valve: VVGST.5L4 did not close"))
    assert (record.level, record.text, record.extra) == ("WARN", "VVGST.5L4 did not close", {"component": "valve"})
    assert record.timestamp == datetime(2026, 11, 28, 3, 7, tzinfo=UTC)


def test_a_pattern_that_does_not_compile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="does not compile"):
        PatternParser("(?P<open")


def test_a_record_becomes_the_documented_fields() -> None:
    (record,) = WinccoaParser().records(
        lines(
            "WCCOActrl    (5), 2019.08.03 14:53:39.670, CTRL, WARNING,     54/ctrl, Unexpected state, x, y",
            "    Line: 12",
        )
    )
    origin = FileOrigin("scada1", "/opt/log/PVSS_II.log", "k1", "vac_lhc_1_scada_logs", {"site": "point5"})
    doc = to_document(record, origin, iso_utc(datetime(2026, 1, 1, tzinfo=UTC)))
    assert doc == {
        "@timestamp": "2019-08-03T12:53:39.670Z",
        "message": "WCCOActrl    (5), 2019.08.03 14:53:39.670, CTRL, WARNING,     54/ctrl, Unexpected state, x, y\n"
        "    Line: 12",
        "fields": {"app_id": "vac_lhc_1_scada_logs", "site": "point5"},
        "host": {"name": "scada1"},
        "log": {"file": {"path": "/opt/log/PVSS_II.log"}, "offset": 0},
        "event": {"id": "k1-0", "ingested": "2026-01-01T00:00:00.000Z"},
        "level": "WARNING",
        "type": "CTRL",
        "number": 54,
        "managerID": "5",
        "manager": "WCCOActrl",
        "catalog": "ctrl",
        "text": "Unexpected state",
        "params": ["x", "y"],
        "lines": 2,
    }
    assert index_of(doc, "vacelastic-logs-scada-v1-{app}-{yyyy.MM}") == "vacelastic-logs-scada-v1-lhc_1-2019.08"


def test_a_record_without_a_time_is_dated_when_read() -> None:
    origin = FileOrigin("h", "/p", "k", "vac_x_scada_logs", {})
    doc = to_document(
        LogRecord(message="??", offset=9, tags=["parse_failure"]), origin, iso_utc(datetime(2026, 2, 3, tzinfo=UTC))
    )
    assert doc["@timestamp"] == "2026-02-03T00:00:00.000Z" and doc["tags"] == ["parse_failure"]
    assert app_name("vac_lhc_1_scada_logs") == "lhc_1" and app_name("Tomcat") == "tomcat"
