"""`vac topics create | delete | alter-config` and `vac groups` on the local Kafka, and the
re-indexing of a time window: `groups reset-offsets --to-time` then `vac index --until-caught-up`."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
from elasticsearch import Elasticsearch

from tests.conftest import StackEndpoints
from tests.helpers import SAMPLE_LOG, error_line, run_vac
from tests.integration.test_tail import create_topic, produce

pytestmark = pytest.mark.integration

HEADER = re.compile(rb"^WCC\w+\s*\(\d+\), \d{4}\.\d\d\.\d\d [\d:.]+, (\w+),\s*(\w+),", re.M)


def vac(stack: StackEndpoints, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_vac("--config", str(config or stack.config_file), *args, timeout=300)


def topic_config(stack: StackEndpoints, topic: str) -> dict[str, str]:
    admin = AdminClient({"bootstrap.servers": stack.bootstrap_servers})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(30)
    return {name: entry.value for name, entry in entries.items()}


def test_topics_create_alter_delete(local_stack: StackEndpoints) -> None:
    topic = f"it-admin-{uuid.uuid4().hex[:8]}"
    created = vac(local_stack, "topics", "create", topic, "-p", "3", "--config", "retention.ms=3600000", "-o", "json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout) == {"topic": topic, "created": True, "partitions": 3, "replication_factor": 1}
    described = json.loads(vac(local_stack, "topics", "describe", topic, "-o", "json").stdout)
    assert len(described["partitions"]) == 3 and described["configs"]["retention.ms"] == "3600000"

    again = vac(local_stack, "topics", "create", topic)
    assert again.returncode == 2 and error_line(again) == f"vac: error: topic '{topic}' exists already"
    accepted = vac(local_stack, "topics", "create", topic, "--if-not-exists", "-o", "json")
    assert accepted.returncode == 0 and json.loads(accepted.stdout)["created"] is False

    altered = vac(local_stack, "topics", "alter-config", topic, "--config", "cleanup.policy=compact", "-o", "json")
    assert altered.returncode == 0, altered.stderr
    assert json.loads(altered.stdout)["configs"] == {"cleanup.policy": "compact"}
    after = topic_config(local_stack, topic)
    assert (after["cleanup.policy"], after["retention.ms"]) == ("compact", "3600000")  # the others stay
    back = vac(local_stack, "topics", "alter-config", topic, "--delete-config", "cleanup.policy")
    assert back.returncode == 0, back.stderr
    assert topic_config(local_stack, topic)["cleanup.policy"] == "delete"

    refused = vac(local_stack, "topics", "delete", topic)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    deleted = vac(local_stack, "topics", "delete", topic, "--yes", "-o", "json")
    assert deleted.returncode == 0, deleted.stderr
    gone = vac(local_stack, "topics", "describe", topic)
    assert gone.returncode != 0 and error_line(gone) == f"vac: error: topic '{topic}' does not exist"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-r", "3"), "The target replication factor of 3 cannot be reached"),
        (("--config", "no.such.config=1"), "Unknown topic config name: no.such.config"),
        (("--config", "retention.ms"), "--config retention.ms: no config name and `=` in it"),
        (("-p", "0"), "--partitions 0: must be 1..100000"),
        (("-p", "99999999999"), "99999999999"),
    ],
)
def test_topics_create_refuses_what_cannot_be(local_stack: StackEndpoints, args: tuple[str, ...], message: str) -> None:
    topic = f"it-admin-{uuid.uuid4().hex[:8]}"
    result = vac(local_stack, "topics", "create", topic, *args)
    assert result.returncode == 2, result.stderr
    assert message in error_line(result) or message in result.stderr
    assert "Traceback" not in result.stderr


def test_topic_names_and_group_ids_from_outside_are_checked(local_stack: StackEndpoints) -> None:
    for args in (("topics", "create", "bad\x1b[2Jname"), ("topics", "delete", "../x", "--yes"),
                 ("groups", "describe", "g\x1b[2J"), ("groups", "describe", "x" * 300)):  # fmt: skip
        result = vac(local_stack, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
        error_line(result)


@pytest.fixture
def logs_config(local_stack: StackEndpoints, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A pipeline of its own: log topic, indexer group, index family."""
    run = uuid.uuid4().hex[:8]
    names = {"topic": f"it-reindex-{run}", "group": f"it-reindex-{run}", "family": f"vactest-reindex-{run}"}
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": names["topic"], "idle_flush_s": 0.5, "scan_interval_s": 0.2, "close_inactive_s": 2}
    config["index"] = {
        "scada_topics": [],  # the logs alone: not the shared stack's SCADA topics
        "group_id": names["group"],
        "name_template": names["family"] + "-{app}-{yyyy.MM}",
        "dead_letter_topic": f"it-reindex-dlq-{run}",
        "batch_s": 0.5,
    }
    path = tmp_path / "reindex.yaml"
    path.write_text(yaml.safe_dump(config))
    yield path, names
    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    es.indices.delete(index=f"{names['family']}-*", allow_no_indices=True)
    es.close()


def es_count(stack: StackEndpoints, family: str) -> int:
    es = Elasticsearch(stack.elasticsearch_url, request_timeout=60)
    try:
        es.indices.refresh(index=f"{family}-*", allow_no_indices=True)
        return int(es.count(index=f"{family}-*", allow_no_indices=True)["count"])
    finally:
        es.close()


def test_reset_to_a_time_then_index_reindexes_exactly_that_window(
    local_stack: StackEndpoints, logs_config: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    config, names = logs_config
    data = SAMPLE_LOG.read_bytes()
    starts = [m.start() for m in HEADER.finditer(data)]
    cut = starts[len(starts) // 3]  # at a record's first line: both parts hold whole records
    early, late = tmp_path / "early" / "PVSS_II.log", tmp_path / "late" / "PVSS_II.log"
    for path, part in ((early, data[:cut]), (late, data[cut:])):
        path.parent.mkdir()
        path.write_bytes(part)
    late_records = len(HEADER.findall(data[cut:]))
    total = len(starts)

    def ship(path: Path) -> None:
        result = vac(local_stack, "ship", "logs", "--path", str(path), "--app-id", "vac_lhc_1_scada_logs", "--once",
                     "--from-beginning", "--registry", str(tmp_path / f"{path.parent.name}.json"), "-o", "json",
                     config=config)  # fmt: skip
        assert result.returncode == 0, result.stderr

    vac(local_stack, "topics", "create", names["topic"], "-p", "3", "--if-not-exists", config=config)
    ship(early)
    time.sleep(1.5)  # the Kafka timestamps of the two parts lie on both sides of `boundary`
    boundary = datetime.now(UTC)
    time.sleep(1.5)
    ship(late)

    first = vac(local_stack, "index", "--until-caught-up", "-o", "json", config=config)
    assert first.returncode == 0, first.stderr
    assert es_count(local_stack, names["family"]) == total

    # The window to re-index: drop what the index holds, move the group back to `boundary`.
    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    es.indices.delete(index=f"{names['family']}-*")
    es.close()
    described = json.loads(vac(local_stack, "groups", "describe", names["group"], "-o", "json", config=config).stdout)
    assert described["lag"] == 0 and described["members"] == []
    committed = {(p["topic"], p["partition"]): p["committed"] for p in described["offsets"]}
    assert sum(committed.values()) == total

    at = boundary.isoformat()
    plan = vac(local_stack, "groups", "reset-offsets", names["group"], "--to-time", at, "-o", "json", config=config)
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)
    assert planned["executed"] is False
    assert sum(p["current"] - p["new"] for p in planned["partitions"]) == late_records
    unchanged = json.loads(vac(local_stack, "groups", "describe", names["group"], "-o", "json", config=config).stdout)
    assert unchanged["lag"] == 0  # the dry run changed nothing

    done = vac(local_stack, "groups", "reset-offsets", names["group"], "--to-time", at, "--execute", config=config)
    assert done.returncode == 0, done.stderr
    lagging = json.loads(vac(local_stack, "groups", "describe", names["group"], "-o", "json", config=config).stdout)
    assert lagging["lag"] == late_records

    again = vac(local_stack, "index", "--until-caught-up", "-o", "json", config=config)
    assert again.returncode == 0, again.stderr
    assert es_count(local_stack, names["family"]) == late_records


def test_reset_is_refused_while_the_group_has_members(local_stack: StackEndpoints) -> None:
    topic, group = f"it-groups-{uuid.uuid4().hex[:8]}", f"it-groups-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic, partitions=2)
    produce(local_stack, topic, [(b"k", b"v%d" % i, int(time.time() * 1000)) for i in range(20)])
    consumer = Consumer({"bootstrap.servers": local_stack.bootstrap_servers, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        read = 0
        while read < 20 and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            read += message is not None and message.error() is None
        consumer.commit(asynchronous=False)
        listed = json.loads(vac(local_stack, "groups", "list", "-o", "json").stdout)
        mine = next(g for g in listed if g["group"] == group)
        assert (mine["members"], mine["lag"]) == (1, 0)
        described = json.loads(vac(local_stack, "groups", "describe", group, "-o", "json").stdout)
        assert sorted(tuple(p) for p in described["members"][0]["partitions"]) == [(topic, 0), (topic, 1)]
        refused = vac(local_stack, "groups", "reset-offsets", group, "--to-earliest", "--execute")
        assert refused.returncode == 1
        assert "has 1 active member(s)" in error_line(refused)
    finally:
        consumer.close()
    # Once the consumer has left, the same reset goes through.
    done = vac(local_stack, "groups", "reset-offsets", group, "--to-earliest", "--execute", "-o", "json")
    assert done.returncode == 0, done.stderr
    moved = json.loads(done.stdout)["partitions"]  # the partitions the group committed on (one key: one partition)
    assert sum(p["current"] for p in moved) == 20 and {p["new"] for p in moved} == {0}
    lagging = json.loads(vac(local_stack, "groups", "describe", group, "-o", "json").stdout)
    assert lagging["lag"] == 20
    offsets = Consumer({"bootstrap.servers": local_stack.bootstrap_servers, "group.id": group})
    try:
        committed = offsets.committed([TopicPartition(topic, p["partition"]) for p in moved], timeout=30)
        assert [tp.offset for tp in committed] == [0] * len(moved)
    finally:
        offsets.close()


def test_reset_needs_one_target_and_a_known_group(local_stack: StackEndpoints) -> None:
    group = f"it-groups-{uuid.uuid4().hex[:8]}"
    none = vac(local_stack, "groups", "reset-offsets", group)
    assert none.returncode == 2 and "one of --to-earliest, --to-latest, --to-time" in error_line(none)
    two = vac(local_stack, "groups", "reset-offsets", group, "--to-earliest", "--to-latest")
    assert two.returncode == 2 and "do not go together" in error_line(two)
    bad_time = vac(local_stack, "groups", "reset-offsets", group, "--to-time", "yesterday-ish\x1b[2J")
    assert bad_time.returncode == 2 and "\x1b" not in bad_time.stderr
    unknown = vac(local_stack, "groups", "reset-offsets", group, "--to-earliest")
    assert unknown.returncode == 2 and "no committed offsets" in error_line(unknown)
    missing = vac(local_stack, "groups", "describe", group)
    assert missing.returncode == 2 and error_line(missing) == f"vac: error: consumer group '{group}' does not exist"


def test_group_and_client_names_from_the_cluster_do_not_drive_the_terminal(local_stack: StackEndpoints) -> None:
    topic = f"it-groups-{uuid.uuid4().hex[:8]}"
    group = f"it-groups-{uuid.uuid4().hex[:8]}\x1b[2J\x1b]0;owned\x07\u202e"
    create_topic(local_stack, topic, partitions=1)
    produce(local_stack, topic, [(b"k", b"v", int(time.time() * 1000))])
    consumer = Consumer({"bootstrap.servers": local_stack.bootstrap_servers, "group.id": group,
                         "client.id": "client\x1b[31m", "auto.offset.reset": "earliest"})  # fmt: skip
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and consumer.poll(0.5) is None:
            pass
        consumer.commit(asynchronous=False)
        listed = vac(local_stack, "groups", "list")
        assert listed.returncode == 0, listed.stderr
        assert "\\x1b[2J\\x1b]0;owned\\x07\\u202e" in listed.stdout
        described = vac(local_stack, "groups", "describe", group)
        assert described.returncode == 0, described.stderr
        assert "client\\x1b[31m" in described.stdout
        for output in (listed.stdout, described.stdout):
            assert not any(char in output for char in "\x1b\x07\u202e")
        as_json = json.loads(vac(local_stack, "groups", "describe", group, "-o", "json").stdout)
        assert as_json["group"] == group  # JSON keeps the data as it is
    finally:
        consumer.close()
