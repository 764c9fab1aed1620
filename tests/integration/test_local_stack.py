"""The real local stack: Kafka and Elasticsearch started by `vac local`, used for real."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import psutil
import pytest
import yaml
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.conftest import StackEndpoints, stack_state_dir
from tests.helpers import error_line, free_base_port, run_vac
from vac.es.client import make_client
from vac.kafka.client import client_config
from vac.settings import load_settings

pytestmark = pytest.mark.integration


def vac(stack: StackEndpoints, *args: str, timeout: float = 600) -> tuple[int, str, str]:
    result = run_vac("--config", str(stack.config_file), *args, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def test_status_reports_both_services_healthy(local_stack: StackEndpoints) -> None:
    code, out, _ = vac(local_stack, "local", "status", "--output", "json")
    assert code == 0
    status = json.loads(out)
    assert status["healthy"] is True
    services = {s["name"]: s for s in status["services"]}
    assert services["kafka"]["state"] == "running"
    assert services["kafka"]["endpoint"] == local_stack.bootstrap_servers
    assert services["kafka"]["version"].startswith("4.")
    assert services["kafka"]["detail"].startswith("1/1 brokers")
    assert services["elasticsearch"]["state"] == "running"
    assert services["elasticsearch"]["endpoint"] == local_stack.elasticsearch_url
    assert services["elasticsearch"]["version"].startswith("8.")
    for service in services.values():
        assert all(psutil.pid_exists(pid) for pid in service["pids"])
    # The pids are the servers', not a launcher's: Elasticsearch's CLI forks the JVM that serves.
    assert [psutil.Process(pid).cmdline()[-1] for pid in services["kafka"]["pids"]] == [
        str(local_stack.state_dir / "kafka" / "node-1" / "server.properties")
    ]
    (es_pid,) = services["elasticsearch"]["pids"]
    assert any("org.elasticsearch.bootstrap.Elasticsearch" in arg for arg in psutil.Process(es_pid).cmdline())
    # A development stack says it is open to anyone on this host.
    assert services["kafka"]["security"].startswith("PLAINTEXT")
    assert services["elasticsearch"]["security"].startswith("security off")
    code, out, _ = vac(local_stack, "local", "status")
    assert "security off: http on loopback, no TLS, no authentication" in out


def test_the_stack_files_are_closed_to_other_users(local_stack: StackEndpoints) -> None:
    """Data, logs and configs of the local servers are readable by their owner only."""
    state_dir = local_stack.state_dir
    assert state_dir.stat().st_mode & 0o066 == 0  # at most passable, never listable, by others
    for service in ("kafka", "elasticsearch"):
        assert (state_dir / service).stat().st_mode & 0o077 == 0, service
    assert (state_dir / "stack.json").stat().st_mode & 0o077 == 0


def test_a_second_up_says_it_already_runs(local_stack: StackEndpoints) -> None:
    started = time.monotonic()
    code, out, err = vac(local_stack, "local", "up")
    assert code == 0
    assert "kafka is already running" in err
    assert "elasticsearch is already running" in err
    assert time.monotonic() - started < 20  # nothing was started again
    assert out.count("running") >= 2


def test_a_message_produced_is_consumed_back(local_stack: StackEndpoints) -> None:
    settings = load_settings(local_stack.config_file, env={}).settings
    topic = f"it-roundtrip-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(client_config(settings.kafka))
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(timeout=30)

    producer = Producer(client_config(settings.kafka, **{"enable.idempotence": True, "acks": "all"}))
    sent = {f"VGPB_{i}.PR": json.dumps({"value": 1e-9 * (i + 1), "seq": i}) for i in range(50)}
    delivered: list[str] = []

    def on_delivery(err: object, msg: object) -> None:
        if err is None:
            delivered.append(msg.key().decode())  # type: ignore[attr-defined]

    for key, value in sent.items():
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert sorted(delivered) == sorted(sent)

    consumer = Consumer(client_config(settings.kafka, **{"group.id": f"it-{topic}", "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    received: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(received) < len(sent) and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            received[message.key().decode()] = message.value().decode()
    consumer.close()
    assert received == sent


def test_a_document_indexed_is_found_by_a_search(local_stack: StackEndpoints) -> None:
    settings = load_settings(local_stack.config_file, env={}).settings
    client = make_client(settings.elasticsearch)
    index = f"it-search-{uuid.uuid4().hex[:8]}"
    client.index(
        index=index,
        id="1",
        document={
            "@timestamp": "2019-08-03T12:53:33Z",
            "level": "SEVERE",
            "text": "Connection lost to the event manager",
        },
    )
    client.index(
        index=index,
        id="2",
        document={
            "@timestamp": "2019-08-03T12:53:34Z",
            "level": "INFO",
            "text": "Initialization by Data Manager finished",
        },
    )
    client.indices.refresh(index=index)
    hits = client.search(index=index, q='text:"connection lost"')["hits"]
    assert hits["total"]["value"] == 1
    assert hits["hits"][0]["_id"] == "1"
    assert hits["hits"][0]["_source"]["level"] == "SEVERE"
    client.indices.delete(index=index)


def test_doctor_is_happy_with_the_local_stack(local_stack: StackEndpoints) -> None:
    code, out, _ = vac(local_stack, "doctor", "--output", "json")
    checks = {check["name"]: check["status"] for check in json.loads(out)["checks"]}
    assert checks["kafka"] == "ok"
    assert checks["elasticsearch"] == "ok"
    assert checks["java"] == "ok"
    assert code == 0


def test_logs_shows_the_end_of_the_brokers_own_log(local_stack: StackEndpoints) -> None:
    code, out, _ = vac(local_stack, "local", "logs", "kafka", "-n", "3")
    assert code == 0
    log_file = local_stack.state_dir / "kafka" / "node-1" / "kafka.log"
    shown = out.splitlines()
    assert len(shown) == 3
    assert shown == log_file.read_text(errors="replace").splitlines()[-len(shown) :] or all(
        line in log_file.read_text(errors="replace")
        for line in shown  # the broker may have logged since
    )
    assert all(line.startswith("[20") for line in shown)  # log4j lines of the broker


def scratch_config(tmp_path: Path, name: str, **local: object) -> Path:
    """A config for a second stack of its own, beside the session's (shared downloads)."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump({"local": {"state_dir": str(stack_state_dir(name)), **local}}))
    return config


def test_three_broker_kraft_cluster(tmp_path: Path) -> None:
    port = free_base_port(21092, *range(1, 6))
    config = scratch_config(tmp_path, "vac-test-3", kafka_port=port, kafka_brokers=3)
    try:
        result = run_vac("--config", str(config), "local", "up", "kafka", "--output", "json", timeout=600)
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        kafka = status["services"][0]
        assert kafka["healthy"] is True
        assert kafka["detail"].startswith("3/3 brokers")
        assert kafka["ports"] == [port, port + 2, port + 4]
        bootstrap = kafka["endpoint"]
        admin = AdminClient({"bootstrap.servers": bootstrap})
        topic = "it-replicated"
        admin.create_topics([NewTopic(topic, 3, 3, config={"min.insync.replicas": "2"})])[topic].result(30)
        metadata = admin.list_topics(topic, timeout=10)
        assert len(metadata.brokers) == 3
        assert all(len(p.replicas) == 3 for p in metadata.topics[topic].partitions.values())
    finally:
        run_vac("--config", str(config), "local", "reset", "--yes", timeout=300)
    assert not any(
        str(stack_state_dir("vac-test-3")) in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["cmdline"])
    )


def test_changing_the_broker_count_of_existing_data_is_refused(tmp_path: Path) -> None:
    port = free_base_port(23092, 1)
    config = scratch_config(tmp_path, "vac-test-resize", kafka_port=port)
    try:
        assert run_vac("--config", str(config), "local", "up", "kafka", timeout=600).returncode == 0
        assert run_vac("--config", str(config), "local", "down", timeout=300).returncode == 0
        result = run_vac("--config", str(config), "local", "up", "kafka", "--kafka-brokers", "3", timeout=300)
        assert result.returncode == 2
        assert error_line(result) == "vac: error: the local Kafka was set up with 1 broker(s); 3 asked"
    finally:
        run_vac("--config", str(config), "local", "reset", "--yes", timeout=300)


def test_a_service_that_does_not_become_healthy_times_out_with_its_log(tmp_path: Path) -> None:
    port = free_base_port(25092, 1)
    config = scratch_config(tmp_path, "vac-test-slow", kafka_port=port, start_timeout_s=0.5)
    try:
        result = run_vac("--config", str(config), "local", "up", "kafka", timeout=300)
        assert result.returncode == 4
        assert error_line(result) == "vac: error: kafka did not become healthy within 0.5 s"
        assert "last lines of " in result.stderr and "kafka.log" in result.stderr
    finally:
        run_vac("--config", str(config), "local", "reset", "--yes", timeout=300)


def test_down_leaves_no_process_and_up_brings_the_data_back(local_stack: StackEndpoints) -> None:
    settings = load_settings(local_stack.config_file, env={}).settings
    topic = f"it-survives-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(client_config(settings.kafka))  # must outlive the future it returns
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    del admin

    code, _, err = vac(local_stack, "local", "down")
    assert code == 0, err
    marker = str(local_stack.state_dir)
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []
    code, out, _ = vac(local_stack, "local", "status", "--output", "json")
    assert code == 3
    assert {s["state"] for s in json.loads(out)["services"]} == {"stopped"}

    started = time.monotonic()
    code, _, err = vac(local_stack, "local", "up")
    assert code == 0, err
    assert time.monotonic() - started < 180
    assert topic in AdminClient(client_config(settings.kafka)).list_topics(timeout=10).topics  # data kept
