"""The log pipeline on the local stack: `vac ship logs` -> Kafka -> `vac index` -> Elasticsearch.

Each test has its own topic, consumer group and index family, so runs never see each other's
documents. Expected values come from the sample file itself (header lines counted with a
regular expression) and from records read by hand, not from the parser under test.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from elasticsearch import Elasticsearch, helpers

from tests.conftest import StackEndpoints
from tests.helpers import SAMPLE_LOG, VAC, run_vac

pytestmark = pytest.mark.integration

HEADER = re.compile(rb"^WCC\w+\s*\(\d+\), \d{4}\.\d\d\.\d\d [\d:.]+, (\w+),\s*(\w+),", re.M)


@dataclass
class Pipeline:
    config_file: Path
    index_family: str
    es: Elasticsearch
    workdir: Path

    def vac(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run_vac("--config", str(self.config_file), *args, timeout=timeout)

    def ship_once(self, path: str, *extra: str) -> dict[str, Any]:
        result = self.vac(
            "ship", "logs", "--path", path, "--app-id", "vac_lhc_1_scada_logs", "--once", "--from-beginning",
            "--registry", str(self.workdir / "registry.json"), "-o", "json", *extra,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summary: dict[str, Any] = json.loads(result.stdout)
        return summary

    def index(self) -> dict[str, Any]:
        result = self.vac("index", "--until-caught-up", "-o", "json")
        assert result.returncode == 0, result.stderr
        summary: dict[str, Any] = json.loads(result.stdout)
        return summary

    def audit(self, *extra: str, registry: str = "registry.json") -> tuple[int, dict[str, Any]]:
        """`vac audit logs -o json` over this pipeline's registry: its exit status and report."""
        result = self.vac("audit", "logs", "--registry", str(self.workdir / registry), "-q", "-o", "json", *extra)
        assert result.returncode in (0, 1), result.stderr
        report: dict[str, Any] = json.loads(result.stdout)
        return result.returncode, report

    def assert_audit_complete(self, *extra: str) -> dict[str, Any]:
        """The loss audit users run finds nothing missing (and says so with exit status 0)."""
        status, report = self.audit(*extra)
        gaps = [(f["path"], f["status"], gap) for f in report["files"] for gap in f["gaps"]]
        assert (status, report["gaps"], report["foreign"]) == (0, 0, 0), gaps[:10]
        return report

    def documents(self) -> list[dict[str, Any]]:
        self.es.indices.refresh(index=f"{self.index_family}-*")
        hits = helpers.scan(self.es, index=f"{self.index_family}-*", query={"query": {"match_all": {}}}, size=5000)
        return [{"_id": hit["_id"], **hit["_source"]} for hit in hits]


@pytest.fixture
def pipeline(local_stack: StackEndpoints, tmp_path: Path) -> Iterator[Pipeline]:
    run = uuid.uuid4().hex[:8]
    family = f"vactest-{run}"
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": f"it-logs-{run}", "idle_flush_s": 0.5, "scan_interval_s": 0.2, "close_inactive_s": 2}
    config["index"] = {
        "scada_topics": [],  # the logs alone: not the shared stack's SCADA topics
        "group_id": f"it-index-{run}",
        "name_template": family + "-{app}-{yyyy.MM}",
        "dead_letter_topic": f"it-dlq-{run}",
        "batch_s": 0.5,
    }
    config_file = tmp_path / "pipeline.yaml"
    config_file.write_text(yaml.safe_dump(config))
    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    yield Pipeline(config_file, family, es, tmp_path)
    es.indices.delete(index=f"{family}-*", allow_no_indices=True)
    es.close()


def test_the_sample_log_becomes_one_document_per_record(pipeline: Pipeline) -> None:
    data = SAMPLE_LOG.read_bytes()
    headers = HEADER.findall(data)
    shipped = pipeline.ship_once(str(SAMPLE_LOG))
    assert shipped["records"] == shipped["acked"] == len(headers) == 4364
    assert shipped["lines"] == 5000 and shipped["failed"] == 0
    indexed = pipeline.index()
    assert indexed["indexed"] == 4364 and indexed["dead_lettered"] == 0

    docs = pipeline.documents()
    assert len(docs) == 4364
    assert Counter(d["level"] for d in docs) == Counter(level.decode() for _, level in headers)
    assert Counter(d["type"] for d in docs) == Counter(category.decode() for category, _ in headers)
    by_offset = {d["log"]["offset"]: d for d in docs}

    first = by_offset[0]
    assert first["@timestamp"] == "2019-08-03T12:53:25.608Z"  # 14:53:25.608 in Zurich, summer time
    assert (first["manager"], first["managerID"], first["type"], first["level"], first["number"]) == (
        "WCCILpmon", "1", "SYS", "INFO", 165,
    )  # fmt: skip
    assert first["fields"]["app_id"] == "vac_lhc_1_scada_logs" and first["log"]["file"]["path"] == str(SAMPLE_LOG)
    assert first["_id"] == first["event"]["id"]

    # The license block: a header and four continuation lines, one document (read by hand).
    licence = next(
        d for d in docs if d.get("text") == "License information" and d.get("params") == ["Host information"]
    )
    assert licence["message"].split("\n")[1:] == [
        "Hostname:   pcte197167",
        "HW-code:    30084393512",
        "HW-version: 31500002",
        "",
    ]
    assert licence["lines"] == 5 and "tags" not in licence
    # A CTRL record with its `Line:` context.
    ctrl = next(d for d in docs if "\n    Line: 1243, dpGet, DIPConfig_12.serverConfig" in d["message"])
    assert ctrl["type"] == "CTRL" and ctrl["lines"] == 2
    # A clobbered tail joins the record before it, flagged.
    fragments = [d for d in docs if "fragment" in d.get("tags", [])]
    assert len(fragments) == 13
    assert any(d["message"].endswith("Connection closed\nace period expired") for d in fragments)
    # The index family and month from the record's own time.
    indices = set(pipeline.es.indices.get(index=f"{pipeline.index_family}-*"))
    assert indices == {f"{pipeline.index_family}-lhc_1-2019.08"}
    mapping = pipeline.es.indices.get_mapping(index=f"{pipeline.index_family}-*")
    properties = next(iter(mapping.values()))["mappings"]["properties"]
    assert properties["level"]["type"] == "keyword" and properties["message"]["type"] == "text"
    assert properties["@timestamp"]["type"] == "date" and properties["manager"]["type"] == "keyword"


def test_identical_and_same_headed_files_are_each_shipped_whole(pipeline: Pipeline) -> None:
    """Distinct files are never taken for copies of one another: an identical file and one
    that extends it each arrive whole (the tester's run shipped 3 of 14 lines)."""
    logs = pipeline.workdir / "logs"
    logs.mkdir()
    lines = [f"WCCOActrl    (1), 2026.11.28 10:00:0{n}.000, CTRL, INFO, 7, line {n}\n".encode() for n in range(6)]
    (logs / "a.log").write_bytes(b"".join(lines[:4]))
    (logs / "b.log").write_bytes(b"".join(lines[:4]))
    (logs / "c.log").write_bytes(b"".join(lines))
    shipped = pipeline.ship_once(str(logs / "*.log"))
    assert shipped["records"] == shipped["acked"] == 14 and len(shipped["files"]) == 3
    pipeline.index()
    by_file = Counter((Path(d["log"]["file"]["path"]).name, d["text"]) for d in pipeline.documents())
    expected = [("a.log", n) for n in range(4)] + [("b.log", n) for n in range(4)] + [("c.log", n) for n in range(6)]
    assert by_file == Counter((name, f"line {n}") for name, n in expected)


def test_a_record_too_large_for_kafka_is_sent_cut_and_the_rest_shipped(pipeline: Pipeline) -> None:
    """Control characters swell sixfold in JSON: a record under the cap can still exceed
    Kafka's message limit. It is sent cut and tagged, not a traceback, and nothing else is lost."""
    log = pipeline.workdir / "big.log"
    head = b"WCCOActrl    (1), 2026.11.28 10:00:01.000, CTRL, INFO, 7, big "
    tail = b"WCCOActrl    (1), 2026.11.28 10:00:02.000, CTRL, INFO, 7, after\n"
    log.write_bytes(head + b"\x01" * 400_000 + b"\n" + tail)
    result = run_vac(
        "--config", str(pipeline.config_file), "ship", "logs", "--path", str(log), "--app-id", "vac_lhc_1_scada_logs",
        "--once", "--from-beginning", "--registry", str(pipeline.workdir / "registry.json"), "-o", "json",
        env={"VAC_LOGS__MAX_RECORD_BYTES": "460000"},
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    shipped = json.loads(result.stdout)
    assert shipped["records"] == shipped["acked"] == 2 and shipped["failed"] == 0
    assert shipped["problems"] == {"too large for Kafka, sent cut and tagged too_large": 1}
    pipeline.index()
    docs = sorted(pipeline.documents(), key=lambda d: d["log"]["offset"])
    assert [d.get("tags") for d in docs] == [["too_large"], None] and docs[1]["text"] == "after"
    assert docs[0]["message"].startswith("WCCOActrl    (1), 2026.11.28 10:00:01.000, CTRL, INFO, 7, big \x01")


def test_shipped_straight_to_elasticsearch_both_parsers_write_the_same_documents(pipeline: Pipeline) -> None:
    """The small-setup sink (no Kafka), once with each WinCC OA parser: the second run
    overwrites the first document for document, and they are equal but for their read time."""

    def ship(parser: str) -> dict[str, dict[str, Any]]:
        result = pipeline.vac(
            "ship", "logs", "--path", str(SAMPLE_LOG), "--app-id", "vac_lhc_1_scada_logs", "--once",
            "--from-beginning", "--to", "elasticsearch", "--registry", str(pipeline.workdir / f"{parser}.json"),
            "-o", "json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["acked"] == summary["records"] == 4364 and summary["failed"] == 0
        assert {file["parser"] for file in summary["files"]} <= {parser}
        return {doc["_id"]: doc for doc in pipeline.documents()}

    compiled = ship("compiled")
    config = yaml.safe_load(pipeline.config_file.read_text())
    config["logs"]["native_parser"] = False
    pipeline.config_file.write_text(yaml.safe_dump(config))
    python = ship("python")
    assert len(compiled) == len(python) == 4364
    family = pipeline.index_family
    assert set(pipeline.es.indices.get(index=f"{family}-*")) == {f"{family}-lhc_1-2019.08"}
    for doc_id, doc in compiled.items():
        assert doc_id == doc["event"]["id"]
        assert {**doc, "event": None} == {**python[doc_id], "event": None}
    # No Kafka here: the audit compares the file with Elasticsearch directly.
    status, report = pipeline.audit("--to", "elasticsearch", "--app-id", "vac_lhc_1_scada_logs", registry="python.json")
    [audit] = report["files"]
    assert (status, report["gaps"], audit["records"], audit["es_documents"]) == (0, 0, 4364, 4364)


def test_shipping_and_indexing_again_duplicates_nothing(pipeline: Pipeline) -> None:
    pipeline.ship_once(str(SAMPLE_LOG))
    (pipeline.workdir / "registry.json").unlink()  # as if the registry were lost: all is sent again
    again = pipeline.ship_once(str(SAMPLE_LOG))
    assert again["acked"] == 4364
    assert pipeline.index()["indexed"] == 2 * 4364
    assert len(pipeline.documents()) == 4364  # the same ids: overwritten, not doubled
    report = pipeline.assert_audit_complete()
    [audit] = report["files"]
    assert (audit["records"], audit["kafka_records"], audit["kafka_duplicates"], audit["es_documents"]) == (
        4364, 4364, 4364, 4364,
    )  # fmt: skip


class RotatingWriter(threading.Thread):
    """Appends numbered WinCC OA records and rotates like WinCC OA (rename to .bak, replacing
    the previous one) and like logrotate's copytruncate, in turn."""

    def __init__(self, directory: Path, rate: int = 2000, rotate_every: int = 3000) -> None:
        super().__init__(daemon=True)
        self.log = directory / "PVSS_II.log"
        self.rate, self.rotate_every = rate, rotate_every
        self.written = 0
        self.rotations = Counter[str]()
        self.stop = threading.Event()

    def line(self, n: int) -> bytes:
        return f"WCCOActrl    (3), 2026.11.28 10:00:00.000, CTRL, INFO,       7, line {n}, writer\r\n".encode()

    def run(self) -> None:
        batch = max(1, self.rate // 50)
        while not self.stop.is_set():
            with self.log.open("ab") as out:
                out.write(b"".join(self.line(self.written + i) for i in range(batch)))
            self.written += batch
            if self.written % self.rotate_every < batch:
                self.rotate()
            time.sleep(0.02)

    def rotate(self) -> None:
        if sum(self.rotations.values()) % 2 == 0:
            self.log.rename(self.log.with_name("PVSS_II.log.bak"))
            self.rotations["rename"] += 1
        else:
            copy = self.log.with_name("PVSS_II.log.1")
            copy.unlink(missing_ok=True)
            shutil.copyfile(self.log, copy)
            with self.log.open("r+b") as out:
                out.truncate(0)
            self.rotations["copytruncate"] += 1


def test_kill_9_during_rotations_loses_and_duplicates_nothing(pipeline: Pipeline) -> None:
    logs = pipeline.workdir / "logs"
    logs.mkdir()
    # A rotated file stays on disk for two rotations (the next one replaces it): 6 s here. That
    # must outlast the time no shipper runs (a kill, up to 0.3 s, and a start of about 1 s, more
    # on a busy CI machine); at 3 s a file could vanish unread and no shipper could help it.
    writer = RotatingWriter(logs, rate=1000, rotate_every=3000)
    registry = pipeline.workdir / "registry.json"
    command = [
        VAC, "--config", str(pipeline.config_file), "ship", "logs", "--path", str(logs / "PVSS_II.log*"),
        "--app-id", "vac_lhc_1_scada_logs", "--from-beginning", "--registry", str(registry), "-q",
    ]  # fmt: skip
    rng = random.Random(7)
    writer.start()
    try:
        for _ in range(10):
            shipper = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(1.5, 3.0))
            assert shipper.poll() is None, shipper.stderr.read() if shipper.stderr else ""
            shipper.send_signal(signal.SIGKILL)
            shipper.wait()
            time.sleep(rng.uniform(0.0, 0.3))
    finally:
        writer.stop.set()
        writer.join()
    assert writer.rotations["rename"] >= 3 and writer.rotations["copytruncate"] >= 3, writer.rotations
    final = pipeline.ship_once(str(logs / "PVSS_II.log*"))
    assert final["failed"] == 0
    pipeline.index()
    audit_status, audit_report = pipeline.audit()  # asserted last, after the documents themselves
    docs = pipeline.documents()
    numbers = Counter(int(d["text"].removeprefix("line ")) for d in docs)
    missing = sorted(set(range(writer.written)) - set(numbers))
    if missing:
        print("AUDIT", audit_status, [(f["path"], f["status"], f["gaps"]) for f in audit_report["files"] if f["gaps"]])
        near = {missing[0] - 1, missing[0] + 1}
        context = [(d["text"], d["log"], d["_id"]) for d in docs if int(d["text"].removeprefix("line ")) in near]
        print("REGISTRY", registry.read_text(), "CONTEXT", context, "ROT", writer.rotations)
        print("HAS", [(d["message"], d["log"], d["_id"]) for d in docs if f"line {missing[0]}," in d["message"]])
    assert len(numbers) == writer.written, f"missing: {missing[:20]}"
    assert set(numbers) == set(range(writer.written))
    doubled = [n for n, count in numbers.items() if count > 1]
    if doubled:
        print("DOUBLED", len(doubled), min(doubled), max(doubled), registry.read_text())
        print([(d["_id"], d["log"]) for d in docs if d["text"] == f"line {doubled[0]}"])
    assert max(numbers.values()) == 1
    # The audit proves the same from the registry, the topic and the index (rotated-away files
    # from the topic alone).
    report = pipeline.assert_audit_complete()
    assert (audit_status, audit_report["gaps"]) == (0, 0)  # it was complete before the checks above too
    assert sum(f["kafka_records"] for f in report["files"]) == writer.written
    assert sum(f["es_documents"] for f in report["files"]) == writer.written


@contextmanager
def paused(pid: int, seconds: float) -> Iterator[None]:
    """Freeze a server (and its children) like a hung machine, then let it go on."""
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for process in processes:
        process.suspend()
    try:
        yield
        time.sleep(seconds)
    finally:
        for process in processes:
            process.resume()


def stack_pid(local_stack: StackEndpoints, service: str) -> int:
    pids: list[int] = json.loads((local_stack.state_dir / "stack.json").read_text())[service]["pids"]
    return pids[0]


def test_kafka_and_elasticsearch_away_and_back_lose_nothing(pipeline: Pipeline, local_stack: StackEndpoints) -> None:
    logs = pipeline.workdir / "logs"
    logs.mkdir()
    log = logs / "PVSS_II.log"
    writer = RotatingWriter(logs, rotate_every=10**9)
    command = [
        VAC, "--config", str(pipeline.config_file), "ship", "logs", "--path", str(log), "--app-id",
        "vac_lhc_1_scada_logs", "--from-beginning", "--registry", str(pipeline.workdir / "registry.json"),
        "-q", "-o", "json",
    ]  # fmt: skip
    shipper = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    indexer = subprocess.Popen(
        [VAC, "--config", str(pipeline.config_file), "index", "-q", "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    writer.start()
    try:
        time.sleep(3)
        with paused(stack_pid(local_stack, "kafka"), 6):
            pass
        time.sleep(2)
        with paused(stack_pid(local_stack, "elasticsearch"), 6):
            pass
        time.sleep(3)
    finally:
        writer.stop.set()
        writer.join()
    time.sleep(3)
    for process in (shipper, indexer):
        process.send_signal(signal.SIGTERM)
    shipped = json.loads(shipper.communicate(timeout=120)[0])
    assert shipper.returncode == 0 and shipped["failed"] == 0
    indexer.communicate(timeout=120)
    pipeline.index()  # whatever the indexer had not reached when it was stopped
    numbers = Counter(int(d["text"].removeprefix("line ")) for d in pipeline.documents())
    assert set(numbers) == set(range(writer.written)) and max(numbers.values()) == 1
    report = pipeline.assert_audit_complete()
    [audit] = report["files"]
    assert audit["records"] == audit["kafka_records"] == audit["es_documents"] == writer.written


def test_two_indexers_share_the_work_and_one_killed_loses_nothing(pipeline: Pipeline) -> None:
    """Two `vac index` in one consumer group; one is killed with SIGKILL mid-way. Its partitions
    go to the other after the session timeout, from the last commit: everything is indexed,
    what the killed one had sent but not committed is sent again under the same ids."""
    config = yaml.safe_load(pipeline.config_file.read_text())
    config["kafka"]["properties"] = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
    config["index"]["batch_docs"] = 500
    pipeline.config_file.write_text(yaml.safe_dump(config))
    big = pipeline.workdir / "big" / "PVSS_II.log"
    big.parent.mkdir()
    big.write_bytes(SAMPLE_LOG.read_bytes() * 20)
    shipped = pipeline.ship_once(str(big))
    assert shipped["acked"] == 20 * 4364
    command = [VAC, "--config", str(pipeline.config_file), "index", "-q"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _count(pipeline) < 10_000 and time.monotonic() < deadline:
            time.sleep(0.2)
        first.kill()  # SIGKILL: no flush, no commit
        first.wait(10)
        deadline = time.monotonic() + 120
        while _count(pipeline) < 20 * 4364 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _count(pipeline) == 20 * 4364
        assert second.poll() is None, second.stderr.read() if second.stderr else ""
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    lag = run_vac("--config", str(pipeline.config_file), "topics", "describe", config["logs"]["topic"], "-o", "json")
    groups = {g["group"]: g for g in json.loads(lag.stdout)["groups"]}
    assert groups[config["index"]["group_id"]]["lag"] == 0  # the survivor committed everything


def _count(pipeline: Pipeline) -> int:
    pipeline.es.indices.refresh(index=f"{pipeline.index_family}-*", allow_no_indices=True)
    return int(pipeline.es.count(index=f"{pipeline.index_family}-*", allow_no_indices=True)["count"])


def _record_starts() -> list[int]:
    """Where each record of the sample log starts, from its header lines (not the parser)."""
    return [match.start() for match in HEADER.finditer(SAMPLE_LOG.read_bytes())]


def test_the_audit_reports_exactly_the_documents_deleted_from_elasticsearch(pipeline: Pipeline) -> None:
    pipeline.ship_once(str(SAMPLE_LOG))
    pipeline.index()
    report = pipeline.assert_audit_complete()
    [audit] = report["files"]
    assert (audit["lines"], audit["records"], audit["kafka_records"], audit["es_documents"]) == (5000, 4364, 4364, 4364)
    assert audit["status"] == "present" and audit["registry_offset"] == SAMPLE_LOG.stat().st_size

    starts = _record_starts()
    low, high = 100_000, 130_000  # bytes: a run of records in the middle of the file
    deleted = [start for start in starts if low <= start < high]
    gap_end = starts[starts.index(deleted[-1]) + 1]
    # The local test distribution has no _delete_by_query (a module of the full one): the
    # documents of the byte range are found by a range query and deleted by id.
    family = f"{pipeline.index_family}-*"
    in_range = {"range": {"log.offset": {"gte": low, "lt": high}}}
    pipeline.es.indices.refresh(index=family)  # search is not real time (the audit's multi-get is)
    hits = list(helpers.scan(pipeline.es, index=family, query={"query": in_range}, _source=False))
    assert len(hits) == len(deleted)
    helpers.bulk(pipeline.es, [{"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits])
    status, report = pipeline.audit()
    assert status == 1 and report["gaps"] == 1 and report["missing_records"] == len(deleted) > 100
    [audit] = report["files"]
    assert audit["path"] == str(SAMPLE_LOG) and audit["es_documents"] == 4364 - len(deleted)
    assert audit["gaps"] == [{"stage": "elasticsearch", "start": deleted[0], "end": gap_end, "records": len(deleted)}]

    text = pipeline.vac("audit", "logs", "--registry", str(pipeline.workdir / "registry.json"), "-q")
    assert text.returncode == 1
    assert (
        f"GAP {SAMPLE_LOG} bytes [{deleted[0]}, {gap_end}): {len(deleted)} records not in Elasticsearch" in text.stdout
    )


def test_the_audit_reports_the_records_truncated_from_kafka(pipeline: Pipeline, local_stack: StackEndpoints) -> None:
    pipeline.ship_once(str(SAMPLE_LOG))
    topic = yaml.safe_load(pipeline.config_file.read_text())["logs"]["topic"]
    admin = AdminClient({"bootstrap.servers": local_stack.bootstrap_servers})
    # The file's records went to one partition (one key), in file order: cut its first 250.
    consumer = Consumer({"bootstrap.servers": local_stack.bootstrap_servers, "group.id": "unused"})
    partitions = admin.list_topics(topic, timeout=15).topics[topic].partitions
    used = [p for p in partitions if consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)[1] > 0]
    consumer.close()
    assert len(used) == 1
    for future in admin.delete_records([TopicPartition(topic, used[0], 250)]).values():
        future.result(timeout=30)
    # A foreign message and a JSON one without a record's fields: counted, not a crash.
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    producer.produce(topic, b"not json at all")
    producer.produce(topic, b'{"event": {"id": "x"}, "log": {}}')
    producer.flush(15)

    status, report = pipeline.audit("--to", "kafka")
    starts = _record_starts()
    assert status == 1 and report["foreign"] == 2
    [audit] = report["files"]
    assert audit["records"] == 4364 and audit["kafka_records"] == 4364 - 250
    assert audit["gaps"] == [{"stage": "kafka", "start": 0, "end": starts[250], "records": 250}]
