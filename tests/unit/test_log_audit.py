"""The loss audit's logic without servers: byte ranges and their gaps, what counts as a
shipped record, and a topic's messages fed by hand against a file shipped by the real
shipper (re-sends, a cut prefix, a hole, rotated-away and truncated files, foreign messages).
The integration tests run the same audit against the real Kafka and Elasticsearch."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.main import exit_status_for, run
from tests.unit.test_log_shipper import RecordingSink, header
from vac.errors import ConfigError, PermissionDenied
from vac.es.bulk import BulkItem
from vac.es.client import make_client
from vac.logs import audit as audit_module
from vac.logs.audit import (
    AuditOptions,
    AuditReport,
    FileAudit,
    Gap,
    LogAudit,
    _EsLookup,
    document_index,
    record_identity,
)
from vac.logs.intervals import CountedRanges
from vac.logs.registry import Registry
from vac.logs.routing import route_message
from vac.logs.shipper import LogShipper, ShipOptions
from vac.settings import ElasticsearchSettings, LogInput, VacSettings

# -- byte ranges -----------------------------------------------------------------------


def test_adjacent_and_overlapping_ranges_merge_and_their_counts_add_up() -> None:
    ranges = CountedRanges()
    ranges.add(10, 20)
    ranges.add(30, 40)
    ranges.add(50, 60)
    assert list(ranges) == [(10, 20, 1), (30, 40, 1), (50, 60, 1)]
    ranges.add(20, 30, 2)  # touches both neighbours: one range
    assert list(ranges) == [(10, 40, 4), (50, 60, 1)]
    ranges.add(0, 5)  # before everything
    ranges.add(35, 55, 0)  # over the end of one and the start of the next
    assert list(ranges) == [(0, 5, 1), (10, 60, 5)]
    assert [ranges.covers(p) for p in (0, 4, 5, 9, 10, 59, 60)] == [True, True, False, False, True, True, False]
    assert ranges.holes(0, 70) == [(5, 10), (60, 70)]
    assert ranges.holes(12, 58) == []
    assert ranges.count == 6 and len(ranges) == 2
    with pytest.raises(ValueError):
        ranges.add(7, 7)


@settings(max_examples=300, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 50), min_size=1, max_size=80),
    present=st.lists(st.booleans(), min_size=80, max_size=80),
    order=st.randoms(use_true_random=False),
)
def test_missing_records_become_maximal_gaps_whatever_the_order(
    lengths: list[int], present: list[bool], order: Any
) -> None:
    """Records laid end to end; the missing ones, added in any order, give the maximal runs of
    consecutive missing records, each with its byte range and its count (checked by a plain
    walk over the records)."""
    records, at = [], 0
    for length in lengths:
        records.append((at, at + length))
        at += length
    missing = [r for r, here in zip(records, present, strict=False) if not here]
    shuffled = list(missing)
    order.shuffle(shuffled)
    gaps = CountedRanges()
    for start, end in shuffled:
        gaps.add(start, end)
    expected: list[tuple[int, int, int]] = []
    for (start, end), here in zip(records, present, strict=False):
        if here:
            continue
        if expected and expected[-1][1] == start:
            expected[-1] = (expected[-1][0], end, expected[-1][2] + 1)
        else:
            expected.append((start, end, 1))
    assert list(gaps) == expected
    kept = CountedRanges()
    for (start, end), here in zip(records, present, strict=False):
        if here:
            kept.add(start, end)
    assert kept.holes(0, at) == [(start, end) for start, end, _ in expected]


# -- what a shipped record is ----------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "identity"),
    [
        ({"event": {"id": "abc-12"}, "log": {"offset": 12}}, ("abc", 12)),
        ({"event": {"id": "a-b-0"}, "log": {"offset": 0}}, ("a-b", 0)),
        ({"event": {"id": "abc-12"}, "log": {"offset": 13}}, None),  # id and offset disagree
        ({"event": {"id": "abc-12"}, "log": {"offset": "12"}}, None),
        ({"event": {"id": "abc-1"}, "log": {"offset": True}}, None),
        ({"event": {"id": "-12"}, "log": {"offset": 12}}, None),
        ({"event": {"id": 12}, "log": {"offset": 12}}, None),
        ({"event": {}, "log": {"offset": 12}}, None),
        ({"log": {"offset": 12}}, None),
        ({"event": "x", "log": "y"}, None),
        ([1, 2], None),
        ("text", None),
        (None, None),
    ],
)
def test_only_a_record_with_a_matching_id_and_offset_counts_as_shipped(doc: Any, identity: Any) -> None:
    assert record_identity(doc) == identity


def test_a_record_the_indexer_could_not_place_has_no_index() -> None:
    assert (
        document_index(
            "logs-{app}-{yyyy.MM}", {"fields": {"app_id": "vac_lhc_1_scada_logs"}, "@timestamp": "2026-11-28T09:00:00Z"}
        )
        == "logs-lhc_1-2026.11"
    )
    assert document_index("logs-{app}-{yyyy.MM}", {"fields": "not an object"}) is None
    assert document_index("logs-{app}-{yyyy.MM}", {"fields": {"app_id": 5}}) is None  # dead-lettered


def test_the_audit_looks_for_a_document_in_the_index_the_indexer_wrote_it_to() -> None:
    # 01:00 at +02:00 on the first of December is still November in UTC, which names the index.
    doc = {"fields": {"app_id": "vac_lhc_1_scada_logs"}, "@timestamp": "2026-12-01T01:00:00+02:00"}
    route = route_message(orjson.dumps(doc), "topic-0-0", "logs-{app}-{yyyy.MM}")
    assert isinstance(route, BulkItem) and route.index == "logs-lhc_1-2026.11"
    assert document_index("logs-{app}-{yyyy.MM}", doc) == route.index


# -- a topic fed by hand ---------------------------------------------------------------


def ship(directory: Path, log: Path) -> list[bytes]:
    """Ship `log` with the real shipper (registry beside it); the messages it produced."""
    spec = LogInput(paths=[str(log)], app_id="vac_test_scada_logs")
    shipper = LogShipper(
        VacSettings(), [spec], directory / "registry.json", ShipOptions(once=True, from_beginning=True)
    )
    sink = RecordingSink(shipper)
    shipper.run(threading.Event(), sink=sink)
    return [orjson.dumps(doc) for doc in sink.docs]


def audit(directory: Path, messages: list[bytes | None], **window: datetime) -> AuditReport:
    options = AuditOptions(
        registry=directory / "registry.json", topic="t", index_template="i-{app}", to="kafka", **window
    )
    auditor = LogAudit(VacSettings(), options, threading.Event())
    for message in messages:
        auditor.take(message)
    auditor.end_of_topic()
    auditor.read_files()
    return auditor.conclude()


@pytest.fixture
def shipped(tmp_path: Path) -> tuple[Path, list[bytes], list[int]]:
    """A log of 40 records (every fifth with a continuation line), shipped; the messages and
    where each record starts."""
    log = tmp_path / "PVSS_II.log"
    starts, data = [], b""
    for n in range(40):
        starts.append(len(data))
        data += header(n) + (b"    Line: 5, dpGet\r\n" if n % 5 == 0 else b"")
    log.write_bytes(data)
    messages = ship(tmp_path, log)
    assert len(messages) == 40
    return log, messages, starts


def test_a_complete_topic_with_re_sends_has_no_gap_and_counts_the_duplicates(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    log, messages, _ = shipped
    # A crash after record 30: the restarted shipper sends again from record 25.
    stream = messages[:31] + messages[25:]
    report = audit(tmp_path, [*stream, b"not json", b'{"event": {"id": "x-1"}}', None])
    [file] = report.files
    assert report.complete and report.foreign == 3
    assert (file.status, file.lines, file.records, file.kafka_records, file.kafka_duplicates) == (
        "present", 48, 40, 40, 6,
    )  # fmt: skip
    assert file.registry_offset == log.stat().st_size


def test_records_missing_from_the_topic_are_reported_with_their_bytes_and_count(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    log, messages, starts = shipped
    # The first 5 cut (retention, delete_records) and a hole of 3 in the middle.
    report = audit(tmp_path, messages[5:20] + messages[23:])
    [file] = report.files
    assert not report.complete
    assert [(g.stage, g.start, g.end, g.records) for g in file.gaps] == [
        ("kafka", 0, starts[5], 5),
        ("kafka", starts[20], starts[23], 3),
    ]
    assert file.kafka_records == 32 and file.missing == 8


def test_a_time_window_audits_only_the_records_of_its_own_time(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    """Record n was written at 10:00:00.n in Zurich (09:00:00.n UTC): [10 ms, 30 ms) holds
    records 10 to 29. The cut head lies before it; the hole of 3 inside it."""
    _, messages, starts = shipped
    since = datetime(2026, 11, 28, 9, 0, 0, 10_000, tzinfo=UTC)
    until = datetime(2026, 11, 28, 10, 0, 0, 30_000, tzinfo=ZoneInfo("Europe/Zurich"))
    report = audit(tmp_path, messages[5:20] + messages[23:], since=since, until=until)
    [file] = report.files
    assert (file.records, file.kafka_records) == (20, 17)
    assert [(g.stage, g.start, g.end, g.records) for g in file.gaps] == [("kafka", starts[20], starts[23], 3)]


def test_a_file_gone_is_audited_from_the_topic_alone(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    log, messages, starts = shipped
    log.unlink()
    complete = audit(tmp_path, messages)
    assert complete.complete and complete.files[0].status == "gone" and complete.files[0].records is None
    cut = audit(tmp_path, messages[5:])
    [file] = cut.files
    assert [(g.stage, g.start, g.end, g.records) for g in file.gaps] == [("kafka", 0, starts[5], None)]
    assert "audited from the topic only" in (file.note or "")


def test_a_file_truncated_under_the_registry_is_reported_not_re_read(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    log, messages, _ = shipped
    with log.open("r+b") as out:
        out.truncate(100)
    report = audit(tmp_path, messages)
    [file] = report.files
    assert report.complete and file.status == "truncated" and file.records is None
    assert "truncated" in (file.note or "")


def test_records_of_unknown_files_are_counted_apart(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    _, messages, _ = shipped
    stranger = orjson.dumps({"event": {"id": "0123456789abcdef0123-0"}, "log": {"offset": 0}})
    report = audit(tmp_path, [*messages, stranger, stranger])
    assert report.complete and report.unregistered == 2 and report.foreign == 0


def test_a_missing_or_corrupt_registry_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no shipper registry"):
        audit(tmp_path, [])
    (tmp_path / "registry.json").write_text('{"files": [{"key": 1}]}')
    with pytest.raises(ConfigError, match="unreadable"):
        audit(tmp_path, [])
    (tmp_path / "registry.json").unlink()
    (tmp_path / "registry.json").mkdir()
    with pytest.raises(ConfigError, match="unreadable"):
        audit(tmp_path, [])


def test_an_audit_reads_the_registry_without_taking_it(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    """A running shipper keeps its registry while it is audited, a shipper may start during an
    audit, and a user who may only read the registry's directory can audit."""
    _, messages, _ = shipped
    running = Registry(tmp_path / "registry.json")
    try:
        assert audit(tmp_path, messages).complete
    finally:
        running.close()
    options = AuditOptions(registry=tmp_path / "registry.json", topic="t", index_template="i-{app}", to="kafka")
    auditing = LogAudit(VacSettings(), options, threading.Event())
    Registry(tmp_path / "registry.json").close()  # no lock left behind by the audit
    assert auditing.files
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    (read_only / "registry.json").write_bytes((tmp_path / "registry.json").read_bytes())
    read_only.chmod(0o555)
    try:
        assert audit(read_only, messages).complete
        assert os.listdir(read_only) == ["registry.json"]  # nothing written (even as root)
    finally:
        read_only.chmod(0o755)


def test_an_interrupted_audit_is_incomplete_even_without_a_gap(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    _, messages, _ = shipped
    options = AuditOptions(registry=tmp_path / "registry.json", topic="t", index_template="i-{app}", to="kafka")
    stopped = threading.Event()
    auditor = LogAudit(VacSettings(), options, stopped)
    for message in messages[:10]:  # SIGTERM while the topic was being read
        auditor.take(message)
    stopped.set()
    auditor.end_of_topic()
    auditor.read_files()
    report = auditor.conclude()
    assert report.interrupted and not report.complete
    assert report.to_json()["complete"] is False and report.to_json()["interrupted"] is True


# -- the command -------------------------------------------------------------------------

HOSTILE_PATH = "/logs/[/]PVSS_II[bold].log\x1b]0;owned\x07"


def fake_audit(monkeypatch: pytest.MonkeyPatch, report: AuditReport) -> None:
    monkeypatch.setenv("VAC_CONFIG", "")
    monkeypatch.setattr(audit_module, "audit_logs", lambda *_args, **_kw: report)


def hostile_report(tmp_path: Path) -> AuditReport:
    gone = FileAudit("k1", HOSTILE_PATH, 100, "gone", note="file gone: audited from the topic only")
    gone.gaps.append(Gap("kafka", 0, 50, None))
    return AuditReport(str(tmp_path / "registry.json"), "t", "i-{app}", "kafka", [gone])


def test_the_table_shows_a_registered_path_as_it_is_named_never_as_markup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_audit(monkeypatch, hostile_report(tmp_path))
    assert run(["audit", "logs", "--to", "kafka", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    shown = "/logs/[/]PVSS_II[bold].log\\x1b]0;owned\\x07"
    assert f"GAP {shown} bytes [0, 50)" in out and f"note: {shown}: file gone" in out
    assert out.count("/logs/[/]PVSS_II[bold].log") == 3  # the table too (cut to its width)


def test_an_interrupted_audit_says_so_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = AuditReport(str(tmp_path / "registry.json"), "t", "i-{app}", "kafka", [], interrupted=True)
    fake_audit(monkeypatch, report)
    assert run(["audit", "logs", "--to", "kafka", "--quiet"]) == 130
    out = capsys.readouterr().out
    assert "incomplete: interrupted before the end" in out and "no gap" not in out


class _DenyingElasticsearch(BaseHTTPRequestHandler):
    """A secured cluster that does not know the user: 401 to every request."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = orjson.dumps({"error": {"type": "security_exception", "reason": "unable to authenticate"}})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_refused_login_during_the_look_up_keeps_its_own_error_and_hint() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DenyingElasticsearch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hosts = [f"http://127.0.0.1:{server.server_address[1]}"]
        lookup = _EsLookup(make_client(ElasticsearchSettings(hosts=hosts)), threading.Event())
        lookup.check(FileAudit("k1", "/logs/a.log", 10), 0, 10, "i-a", "k1-0")
        with pytest.raises(PermissionDenied) as denied:
            lookup.flush()
        lookup.close()
    finally:
        server.shutdown()
        server.server_close()
    assert "401" in str(denied.value) and "password" in (denied.value.hint or "")
    assert exit_status_for(denied.value) == 1


def test_the_audit_reads_a_registry_its_shipper_still_holds(
    tmp_path: Path, shipped: tuple[Path, list[bytes], list[int]]
) -> None:
    _, messages, _ = shipped
    running_shipper = Registry(tmp_path / "registry.json")  # holds the lock, as `vac ship logs` does
    try:
        assert audit(tmp_path, messages).complete
    finally:
        running_shipper.close()
