"""`vac index` on a topic where poison messages sit among good records (issue #15, findings 6
and 14): the good ones are indexed, each poison one is dead-lettered with its reason (a
tombstone is skipped), the offsets are committed, and the counters add up."""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
from elasticsearch import Elasticsearch

from tests.conftest import StackEndpoints
from tests.helpers import error_line, run_vac
from vac.es.bulk import BulkItem, bulk_index
from vac.es.client import make_client
from vac.logs.indexer import REASON_HEADER
from vac.settings import ElasticsearchSettings

pytestmark = pytest.mark.integration


def good(n: int) -> dict[str, Any]:
    return {
        "@timestamp": f"2019-08-03T12:{n // 60:02d}:{n % 60:02d}.000Z",
        "message": f"good record {n}",
        "level": "INFO",
        "lines": 1,
        "fields": {"app_id": "vac_lhc_1_scada_logs"},
        "event": {"id": f"good-{n}"},
    }


def poison_messages() -> dict[str, tuple[bytes, str]]:
    """name -> (value, a word its dead-letter reason must hold)."""
    return {
        "fields null": (bad(90, fields=None), "fields"),
        "600-byte id": (bad(91, event={"id": "x" * 600}), "event.id"),
        "empty": (b"", "empty"),
        "not JSON": (b"\xff\xfe{ not json", "JSON"),
        "a JSON list": (b"[1, 2, 3]", "object"),
        "year 99999": (bad(92, **{"@timestamp": "99999-01-01T00:00:00Z"}), "@timestamp"),
        "banana time": (bad(93, **{"@timestamp": "banana"}), "@timestamp"),
        "numeric time": (bad(94, **{"@timestamp": 1564836805000}), "@timestamp"),
        # `lines` is an integer in the index template: Elasticsearch refuses this one per item.
        "mapping conflict": (bad(95, lines="many"), "lines"),
    }


def bad(n: int, **changes: Any) -> bytes:
    return orjson.dumps({**good(n), "event": {"id": f"poison-{n}"}, **changes})


def topic_messages(bootstrap: str, topic: str) -> list[tuple[bytes, dict[str, bytes]]]:
    """Every message of `topic` (one partition): its value and headers."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"it-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        }
    )
    consumer.subscribe([topic])
    messages = []
    try:
        for _ in range(600):
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() == KafkaError._PARTITION_EOF:
                    break
                continue
            messages.append((message.value() or b"", dict(message.headers() or [])))
    finally:
        consumer.close()
    return messages


def dead_letters(bootstrap: str, topic: str) -> list[tuple[bytes, str]]:
    return [(value, headers[REASON_HEADER].decode()) for value, headers in topic_messages(bootstrap, topic)]


def indexer_run(local_stack: StackEndpoints, tmp_path: Path, name: str, batch_s: float) -> tuple[Path, str, str, str]:
    """A config of the test stack whose indexer has a topic, a dead-letter topic, a group and
    an index family of its own: (config file, index family, topic, dead-letter topic)."""
    run = uuid.uuid4().hex[:8]
    family, topic, dlq = f"vactest-{run}", f"it-{name}-{run}", f"it-dlq-{run}"
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": topic, "partitions": 1}
    config["index"] = {"scada_topics": [], "group_id": f"it-index-{run}", "name_template": family + "-{app}-{yyyy.MM}",
                       "dead_letter_topic": dlq, "batch_s": batch_s}  # fmt: skip
    config_file = tmp_path / f"{name}.yaml"
    config_file.write_text(yaml.safe_dump(config))
    return config_file, family, topic, dlq


def test_poison_messages_are_dead_lettered_and_the_good_ones_indexed(
    local_stack: StackEndpoints, tmp_path: Path
) -> None:
    config_file, family, topic, dlq = indexer_run(local_stack, tmp_path, "poison", batch_s=0.5)
    admin = AdminClient({"bootstrap.servers": local_stack.bootstrap_servers})  # must outlive its future
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)

    poison = poison_messages()
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    good_ids = []
    for n, (value, _) in enumerate(poison.values()):  # poison and good alternate, in one batch
        producer.produce(topic, value=orjson.dumps(good(n)))
        producer.produce(topic, value=value)
        good_ids.append(f"good-{n}")
    producer.produce(topic, key=b"vacprobe", value=None)  # the probe's tombstone
    # A good record written over several lines: it must not break the bulk body.
    producer.produce(topic, value=json.dumps(good(50), indent=2).encode())
    good_ids.append("good-50")
    assert producer.flush(30) == 0

    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    try:
        first = run_vac("--config", str(config_file), "index", "--until-caught-up", "-o", "json", timeout=300)
        assert first.returncode == 0, first.stderr
        summary = json.loads(first.stdout)
        assert summary["consumed"] == len(good_ids) + len(poison) + 1
        assert summary["indexed"] == len(good_ids)
        assert summary["dead_lettered"] == len(poison)
        assert summary["skipped"] == 1 and summary["pending"] == 0
        assert summary["consumed"] == summary["indexed"] + summary["dead_lettered"] + summary["skipped"]

        es.indices.refresh(index=f"{family}-*")
        hits = es.search(index=f"{family}-*", size=100, query={"match_all": {}})["hits"]["hits"]
        assert sorted(hit["_id"] for hit in hits) == sorted(good_ids)
        # Only the month of the good records: no index named from a garbage time.
        assert set(es.indices.get(index=f"{family}-*")) == {f"{family}-lhc_1-2019.08"}

        letters = dead_letters(local_stack.bootstrap_servers, dlq)
        assert len(letters) == len(poison)
        reasons = dict(letters)
        for name, (value, word) in poison.items():
            assert value in reasons, f"{name} not dead-lettered"
            assert word in reasons[value], f"{name}: {reasons[value]}"

        # Committed: a second run finds nothing new, and does not die on anything.
        second = run_vac("--config", str(config_file), "index", "--until-caught-up", "-o", "json", timeout=300)
        assert second.returncode == 0, second.stderr
        again = json.loads(second.stdout)
        assert (again["consumed"], again["indexed"], again["dead_lettered"]) == (0, 0, 0)
    finally:
        es.indices.delete(index=f"{family}-*", allow_no_indices=True)
        es.close()


def test_a_request_refused_whole_is_split_until_only_the_bad_document_is_left(local_stack: StackEndpoints) -> None:
    """Elasticsearch answers 400 to a whole bulk request for one id over 512 bytes: the
    documents beside it are indexed all the same, and the bad one comes back with the reason."""
    index = f"vactest-bulk-{uuid.uuid4().hex[:8]}"
    items = [BulkItem(index, f"ok-{n}", orjson.dumps({"n": n})) for n in range(5)]
    items.insert(3, BulkItem(index, "x" * 600, b'{"n": -1}'))
    client = make_client(ElasticsearchSettings(hosts=[local_stack.elasticsearch_url]))
    try:
        outcome = bulk_index(client, items, threading.Event())
        assert outcome.indexed == 5
        assert [item.id for item, _ in outcome.rejected] == ["x" * 600]
        assert "too long" in outcome.rejected[0][1]
        client.indices.refresh(index=index)
        assert client.count(index=index)["count"] == 5
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()


class _RefusingElasticsearch(BaseHTTPRequestHandler):
    """Stands in for a secured cluster (the local one runs without security): it takes the
    index template but refuses the bulk writes to this user, as Elasticsearch answers them."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/_index_template/"):
            status, body = 200, {"acknowledged": True}
        else:
            reason = "action [indices:data/write/bulk] is unauthorized for user [vac] with effective roles [viewer]"
            status, body = 403, {"error": {"type": "security_exception", "reason": reason}, "status": 403}
        payload = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_elasticsearch_refusing_the_user_is_one_error_line(local_stack: StackEndpoints, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    topic = f"it-denied-{run}"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingElasticsearch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["elasticsearch"] = {"hosts": [f"http://127.0.0.1:{server.server_port}"], "username": "vac",
                               "password": "wrong"}  # fmt: skip
    config["logs"] = {"topic": topic, "partitions": 1}
    config["index"] = {
        "scada_topics": [],
        "group_id": f"it-index-{run}",
        "dead_letter_topic": f"it-dlq-{run}",
        "batch_s": 0.2,
    }
    config_file = tmp_path / "denied.yaml"
    config_file.write_text(yaml.safe_dump(config))
    admin = AdminClient({"bootstrap.servers": local_stack.bootstrap_servers})  # must outlive its future
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    producer.produce(topic, value=orjson.dumps(good(1)))
    assert producer.flush(30) == 0
    try:
        result = run_vac("--config", str(config_file), "index", "--until-caught-up", "-q", timeout=120)
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = error_line(result)
    assert "HTTP 403" in line and "security_exception" in line and "unauthorized for user [vac]" in line
    assert "lacks a privilege" in result.stderr


def test_a_dead_letter_kafka_refuses_stops_the_indexer_without_committing(
    local_stack: StackEndpoints, tmp_path: Path
) -> None:
    """The dead-letter topic takes messages of 300 bytes at most: the poison message of 400
    cannot be put there, so its batch is not committed (committing would lose it); once the
    topic takes it, the next run indexes and dead-letters the whole batch."""
    config_file, family, topic, dlq = indexer_run(local_stack, tmp_path, "dlqfull", batch_s=0.2)
    admin = AdminClient({"bootstrap.servers": local_stack.bootstrap_servers})  # must outlive its futures
    created = admin.create_topics([NewTopic(topic, 1, 1), NewTopic(dlq, 1, 1, config={"max.message.bytes": "300"})])
    for future in created.values():
        future.result(30)
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    poison = b"not json " + b"x" * 400
    for value in (orjson.dumps(good(1)), poison, orjson.dumps(good(2))):
        producer.produce(topic, value=value)
    assert producer.flush(30) == 0

    def index() -> subprocess.CompletedProcess[str]:
        return run_vac("--config", str(config_file), "index", "--until-caught-up", "-q", "-o", "json", timeout=300)

    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    try:
        for _ in range(2):  # not committed: the second run meets the same batch
            refused = index()
            assert refused.returncode == 3, refused.stderr
            assert "Traceback" not in refused.stderr
            assert f"the dead-letter topic {dlq} did not take" in error_line(refused)
        resource = ConfigResource(ConfigResource.Type.TOPIC, dlq, incremental_configs=[
            ConfigEntry("max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)
        ])  # fmt: skip
        admin.incremental_alter_configs([resource])[resource].result(30)
        done = index()
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert (summary["consumed"], summary["indexed"], summary["dead_lettered"]) == (3, 2, 1)
        assert [value for value, _ in dead_letters(local_stack.bootstrap_servers, dlq)] == [poison]
    finally:
        es.indices.delete(index=f"{family}-*", allow_no_indices=True)
        es.close()


def test_replay_keeps_a_dead_letter_the_target_topic_refuses(local_stack: StackEndpoints, tmp_path: Path) -> None:
    """`vac index replay-dlq` to a topic that takes 300 bytes at most: the small dead letter is
    resent, the large one stays in the dead-letter topic (not committed) until the target takes it."""
    run = uuid.uuid4().hex[:8]
    target, dlq = f"it-replay-{run}", f"it-dlq-{run}"
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": target, "partitions": 1}
    config["index"] = {"scada_topics": [], "group_id": f"it-index-{run}", "dead_letter_topic": dlq}
    config_file = tmp_path / "replay.yaml"
    config_file.write_text(yaml.safe_dump(config))
    admin = AdminClient({"bootstrap.servers": local_stack.bootstrap_servers})  # must outlive its futures
    created = admin.create_topics([NewTopic(dlq, 1, 1), NewTopic(target, 1, 1, config={"max.message.bytes": "300"})])
    for future in created.values():
        future.result(30)
    small, large = orjson.dumps(good(1)), orjson.dumps({**good(2), "message": "x" * 400})
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    for value in (small, large):
        producer.produce(dlq, value=value, headers=[(REASON_HEADER, b"mapper_parsing_exception: test")])
    assert producer.flush(30) == 0

    refused = run_vac("--config", str(config_file), "index", "replay-dlq", timeout=120)
    assert refused.returncode == 3, refused.stderr
    assert f"could not write to {target}" in error_line(refused) and "1 documents were resent" in refused.stderr
    resource = ConfigResource(ConfigResource.Type.TOPIC, target, incremental_configs=[
        ConfigEntry("max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)
    ])  # fmt: skip
    admin.incremental_alter_configs([resource])[resource].result(30)
    resent = run_vac("--config", str(config_file), "index", "replay-dlq", timeout=120)
    assert resent.returncode == 0, resent.stderr
    assert "resent 1 documents" in resent.stderr
    assert [value for value, _ in topic_messages(local_stack.bootstrap_servers, target)] == [small, large]
