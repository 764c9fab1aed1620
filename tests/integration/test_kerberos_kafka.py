"""vac against a Kafka that accepts only Kerberos (SASL GSSAPI), as production does: a real MIT
KDC of its own realm on loopback, a broker that authenticates with its keytab and authorises
with ACLs, and vac's librdkafka (built with Cyrus SASL by scripts/build-kafka-client.sh) taking
its ticket from a keytab. Where that build is impossible the client cannot speak GSSAPI: the
tests then check that vac says so in one line instead of failing obscurely."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from tests.helpers import error_line, free_base_port, run_vac
from vac.kafka.client import sasl_support
from vac.local import kafka_node, maven, process
from vac.local.java import find_java
from vac.local.kdc import Kdc
from vac.settings import LocalSettings

pytestmark = pytest.mark.integration

GSSAPI_MISSING = sasl_support("GSSAPI")
needs_gssapi = pytest.mark.skipif(
    GSSAPI_MISSING is not None and os.environ.get("VAC_REQUIRE_GSSAPI", "") in ("", "0"),
    reason=f"this librdkafka cannot do GSSAPI ({GSSAPI_MISSING}); scripts/build-kafka-client.sh builds one",
)

# Appended to the plain node's properties (later keys win in Java properties files). Clients
# come in through GSSAPI only; the broker's own PLAINTEXT listener is the test's admin door.
SECURED = """
listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller},INTERNAL://127.0.0.1:{internal}
advertised.listeners=SASL_PLAINTEXT://localhost:{port},INTERNAL://127.0.0.1:{internal}
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=GSSAPI
sasl.kerberos.service.name=kafka
listener.name.sasl_plaintext.gssapi.sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
useKeyTab=true storeKey=true keyTab="{keytab}" principal="kafka/localhost@{realm}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=false
"""


@dataclass(frozen=True)
class KerberosKafka:
    kdc: Kdc
    port: int
    internal_port: int
    vac_keytab: Path
    stranger_keytab: Path


def allow(admin: AdminClient, principal: str, kind: ResourceType, name: str) -> None:
    binding = AclBinding(
        kind, name, ResourcePatternType.LITERAL, f"User:{principal}", "*", AclOperation.ALL, AclPermissionType.ALLOW
    )
    for future in admin.create_acls([binding]).values():
        future.result(30)


@pytest.fixture(scope="module")
def kerberos_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KerberosKafka]:
    """A KDC with principals for the broker, for vac and for a stranger Kafka grants nothing;
    a one-node Kafka with a GSSAPI listener; topic `pressures` holds one message."""
    directory = tmp_path_factory.mktemp("kerberos")
    kdc = Kdc(directory / "kdc", free_base_port(26088))
    kdc.create()
    broker_keytab = kdc.add_principal("kafka/localhost")
    vac_keytab = kdc.add_principal("vac")
    stranger_keytab = kdc.add_principal("stranger")
    kdc_pid = kdc.start()

    local = LocalSettings()
    libs = maven.resolve_kafka(local.resolved_cache_dir(), local.kafka_version)
    java = find_java(kafka_node.MIN_JAVA)
    port = free_base_port(26092, 1, 2)
    node = kafka_node.KafkaNode(1, port, port + 1, directory / "kafka")
    kafka_node.write_config(node, [node])
    with open(node.config_file, "a") as config:
        config.write(
            SECURED.format(port=port, controller=port + 1, internal=port + 2, keytab=broker_keytab, realm=kdc.realm)
        )
    kafka_node.format_storage(java, libs, node, kafka_node.new_cluster_id())
    pid = kafka_node.start(java, libs, node, 384, [f"-Djava.security.krb5.conf={kdc.krb5_conf}"])
    try:
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port + 2}"})
        deadline = time.monotonic() + 180
        while True:
            try:
                admin.create_topics([NewTopic("pressures", 1, 1)])["pressures"].result(10)
                break
            except (KafkaException, TimeoutError):  # a broker still starting on a loaded machine
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        allow(admin, "vac", ResourceType.TOPIC, "*")
        allow(admin, "vac", ResourceType.GROUP, "*")
        yield KerberosKafka(kdc, port, port + 2, vac_keytab, stranger_keytab)
    finally:
        process.stop_groups([pid, kdc_pid], 30)


def gssapi_config(tmp_path: Path, kerberos: KerberosKafka, principal: str, keytab: Path) -> Path:
    path = tmp_path / f"{principal}.yaml"
    security = {
        "protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "GSSAPI",
        "kerberos_principal": f"{principal}@{kerberos.kdc.realm}",
        "kerberos_keytab": str(keytab),
        "kerberos_service_name": "kafka",
    }
    kafka = {"bootstrap_servers": f"localhost:{kerberos.port}", "timeout_s": 15, "security": security}
    path.write_text(yaml.safe_dump({"kafka": kafka}))
    return path


@needs_gssapi
def test_vac_streams_and_reads_back_with_a_kerberos_ticket_from_its_keytab(
    kerberos_kafka: KerberosKafka, tmp_path: Path
) -> None:
    config = str(gssapi_config(tmp_path, kerberos_kafka, "vac", kerberos_kafka.vac_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    streamed = run_vac(
        "--config", config, "stream", "scada", "--devices", "50", "--rate", "500", "--duration", "2",
        "--topic", "pressures", "-o", "json", "-q", env=env, timeout=120,
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    summary = orjson.loads(streamed.stdout)
    assert summary["failed"] == 0 and summary["acked"] > 0
    read = run_vac(
        "--config", config, "tail", "topic", "pressures", "--from", "beginning", "--no-follow", "-o", "jsonl",
        env=env, timeout=120,
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert len(read.stdout.splitlines()) == summary["acked"]
    assert (tmp_path / "ccache").exists()  # librdkafka's kinit put the ticket where it was told


@needs_gssapi
def test_a_principal_without_acls_is_refused_clearly(kerberos_kafka: KerberosKafka, tmp_path: Path) -> None:
    config = str(gssapi_config(tmp_path, kerberos_kafka, "stranger", kerberos_kafka.stranger_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    result = run_vac("--config", config, "tail", "topic", "pressures", "--no-follow", env=env)
    assert result.returncode == 1, result.stderr
    assert error_line(result) == "vac: error: not allowed to read topic 'pressures'"


@needs_gssapi
def test_a_keytab_of_another_principal_is_refused_clearly(kerberos_kafka: KerberosKafka, tmp_path: Path) -> None:
    config = str(gssapi_config(tmp_path, kerberos_kafka, "vac", kerberos_kafka.stranger_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    result = run_vac("--config", config, "tail", "topic", "pressures", "--no-follow", env=env)
    assert result.returncode != 0
    line = error_line(result)
    assert "Traceback" not in result.stderr
    assert line.startswith(f"vac: error: Kafka at localhost:{kerberos_kafka.port} refused the credentials"), line
    assert "No Kerberos credentials available" in line
