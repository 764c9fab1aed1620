"""vac against a Kafka that authenticates (SASL PLAIN) and authorises (ACLs): the security
settings reach librdkafka, and refusals are clear one-line errors with exit status 1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.helpers import error_line, free_base_port, run_vac
from vac.local import kafka_node, maven, process
from vac.local.java import find_java
from vac.settings import LocalSettings

pytestmark = pytest.mark.integration

USERS = {"admin": "admin-secret", "alice": "alice-secret"}
# Appended to the plain node's properties (later keys win in Java properties files).
SECURED = """
listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \
required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
"""


def admin_config(port: int) -> dict[str, str]:
    return {
        "bootstrap.servers": f"127.0.0.1:{port}",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "admin",
        "sasl.password": USERS["admin"],
    }


@pytest.fixture(scope="module")
def secured_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A one-node Kafka with SASL/PLAIN and ACLs, from the jars `vac local` resolved; the
    topic `secret` holds one message and only admin may read it."""
    local = LocalSettings()
    libs = maven.resolve_kafka(local.resolved_cache_dir(), local.kafka_version)
    java = find_java(kafka_node.MIN_JAVA)
    port = free_base_port(27092, 1)
    node = kafka_node.KafkaNode(1, port, port + 1, tmp_path_factory.mktemp("secured-kafka"))
    kafka_node.write_config(node, [node])
    with open(node.config_file, "a") as config:
        config.write(SECURED.format(port=port, controller=port + 1))
    kafka_node.format_storage(java, libs, node, kafka_node.new_cluster_id())
    pid = kafka_node.start(java, libs, node, 384)
    try:
        admin = AdminClient(admin_config(port))
        deadline = time.monotonic() + 90
        while True:
            try:
                admin.create_topics([NewTopic("secret", 1, 1)])["secret"].result(10)
                break
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        producer = Producer(admin_config(port))
        producer.produce("secret", key=b"k", value=b'{"classified": true}')
        assert producer.flush(30) == 0
        yield port
    finally:
        process.stop_groups([pid], 30)


def config_for(tmp_path: Path, port: int, user: str, password: str) -> Path:
    path = tmp_path / f"{user}.yaml"
    security = {"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "username": user, "password": password}
    path.write_text(
        yaml.safe_dump({"kafka": {"bootstrap_servers": f"127.0.0.1:{port}", "timeout_s": 10, "security": security}})
    )
    return path


def test_the_configured_credentials_reach_the_broker(secured_kafka: int, tmp_path: Path) -> None:
    config = config_for(tmp_path, secured_kafka, "admin", USERS["admin"])
    result = run_vac(
        "--config", str(config), "tail", "topic", "secret", "--from", "beginning", "--no-follow", "-o", "raw"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"classified": true}\n'


def test_a_topic_without_read_acl_is_refused_clearly(secured_kafka: int, tmp_path: Path) -> None:
    config = config_for(tmp_path, secured_kafka, "alice", USERS["alice"])
    for command in (["tail", "topic", "secret", "--no-follow"], ["topics", "describe", "secret"]):
        result = run_vac("--config", str(config), *command)
        assert result.returncode == 1, result.stderr
        assert error_line(result) == "vac: error: not allowed to read topic 'secret'"
        assert "Traceback" not in result.stderr


def test_wrong_credentials_are_refused_clearly(secured_kafka: int, tmp_path: Path) -> None:
    config = config_for(tmp_path, secured_kafka, "alice", "not-her-password")
    result = run_vac("--config", str(config), "tail", "topic", "secret")
    assert result.returncode == 1, result.stderr
    assert error_line(result).startswith(f"vac: error: Kafka at 127.0.0.1:{secured_kafka} refused the credentials")


def test_a_probe_topic_the_principal_may_not_write_is_refused_clearly(secured_kafka: int, tmp_path: Path) -> None:
    config = config_for(tmp_path, secured_kafka, "alice", USERS["alice"])
    result = run_vac("--config", str(config), "probe", "latency", "--topic", "secret", "--duration", "1")
    assert result.returncode == 1, result.stderr
    assert error_line(result).startswith("vac: error: not allowed to ")
    assert "'secret'" in error_line(result) and "Traceback" not in result.stderr
