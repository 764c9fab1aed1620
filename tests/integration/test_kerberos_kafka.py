"""vac against a Kafka that accepts only Kerberos (SASL GSSAPI), as production does: a real MIT
KDC of its own realm on loopback, a broker that authenticates with its keytab and authorises
with ACLs, and vac's librdkafka (built with Cyrus SASL by scripts/build-kafka-client.sh) taking
its ticket from a keytab. Where that build is impossible the client cannot speak GSSAPI: the
tests then check that vac says so in one line instead of failing obscurely."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tests.helpers import SAMPLE_LOG, error_line, free_base_port, no_gssapi, no_kdc, run_vac, unless_kerberos_required
from vac.local import kafka_node, maven, process
from vac.local.java import find_java
from vac.local.kdc import Kdc
from vac.local.tls import LocalCa
from vac.settings import LocalSettings

pytestmark = [pytest.mark.integration, unless_kerberos_required(no_kdc())]
needs_gssapi = unless_kerberos_required(no_gssapi())

SCRAM_PASSWORD = "scram-secret-of-vac"


@dataclass(frozen=True)
class KerberosKafka:
    kdc: Kdc
    ca: LocalCa
    port: int
    internal_port: int
    vac_keytab: Path
    stranger_keytab: Path


def allow(
    admin: AdminClient, principal: str, kind: ResourceType, name: str, operation: AclOperation = AclOperation.ALL
) -> None:
    binding = AclBinding(
        kind, name, ResourcePatternType.LITERAL, f"User:{principal}", "*", operation, AclPermissionType.ALLOW
    )
    for future in admin.create_acls([binding]).values():
        future.result(30)


@pytest.fixture(scope="module")
def kerberos_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KerberosKafka]:
    """A KDC with principals for the broker, for vac and for a stranger Kafka grants nothing; a
    CA and the broker's certificate; a one-node Kafka with a SASL_SSL listener (GSSAPI and
    SCRAM-SHA-512, whose user `vac` is the same Kafka principal as the Kerberos `vac`)."""
    directory = tmp_path_factory.mktemp("kerberos")
    ca = LocalCa(directory / "tls")
    ca.create()
    broker_tls = ca.issue("broker", ["localhost", "127.0.0.1"])
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
    # The product's own secured listener (what `vac local up --secure` runs): SASL_SSL with
    # GSSAPI and SCRAM-SHA-512, ACLs, and an INTERNAL PLAINTEXT door the test administers through.
    listener = kafka_node.SecureListener(
        broker_tls.certificate, broker_tls.key, broker_keytab, "kafka/localhost", kdc.realm
    )
    kafka_node.write_config(node, [node], listener)
    kafka_node.format_storage(java, libs, node, kafka_node.new_cluster_id())
    pid = kafka_node.start(java, libs, node, 384, [f"-Djava.security.krb5.conf={kdc.krb5_conf}"])
    try:
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{node.internal_port}"})
        deadline = time.monotonic() + 180
        while True:
            try:
                admin.create_topics([NewTopic("pressures", 1, 1)])["pressures"].result(10)
                break
            except KafkaException as exc:
                if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:  # an attempt that timed out made it
                    break
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
            except TimeoutError:  # a broker still starting on a loaded machine
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        allow(admin, "vac", ResourceType.TOPIC, "*")
        allow(admin, "vac", ResourceType.GROUP, "*")
        scram = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
        upsert = UserScramCredentialUpsertion("vac", scram, SCRAM_PASSWORD.encode())
        for future in admin.alter_user_scram_credentials([upsert]).values():
            future.result(30)
        yield KerberosKafka(kdc, ca, port, node.internal_port, vac_keytab, stranger_keytab)
    finally:
        process.stop_groups([pid, kdc_pid], 30)


def secured_config(tmp_path: Path, kerberos: KerberosKafka, name: str, ca_file: Path, **security: str) -> Path:
    """A config of production's shape: SASL_SSL to `localhost` (the name in the broker's
    certificate and Kerberos principal), the CA to trust, and `security`'s mechanism."""
    path = tmp_path / f"{name}.yaml"
    security = {"protocol": "SASL_SSL", "ca_file": str(ca_file), **security}
    kafka = {"bootstrap_servers": f"localhost:{kerberos.port}", "timeout_s": 15, "security": security}
    path.write_text(yaml.safe_dump({"kafka": kafka}))
    return path


def gssapi_config(tmp_path: Path, kerberos: KerberosKafka, principal: str, keytab: Path) -> Path:
    return secured_config(
        tmp_path,
        kerberos,
        principal,
        kerberos.ca.certificate,
        sasl_mechanism="GSSAPI",
        kerberos_principal=f"{principal}@{kerberos.kdc.realm}",
        kerberos_keytab=str(keytab),
        kerberos_service_name="kafka",
    )


def stream_and_read_back(config: str, topic: str, env: dict[str, str]) -> None:
    """`vac stream scada` into `topic`, then `vac tail topic` reads every acked change back."""
    streamed = run_vac(
        "--config", config, "stream", "scada", "--devices", "50", "--rate", "500", "--duration", "2",
        "--topic", topic, "-o", "json", "-q", env=env, timeout=120,
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    summary = orjson.loads(streamed.stdout)
    assert summary["failed"] == 0 and summary["acked"] > 0
    read = run_vac(
        "--config", config, "tail", "topic", topic, "--from", "beginning", "--no-follow", "-o", "jsonl",
        env=env, timeout=120,
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert len(read.stdout.splitlines()) == summary["acked"]


@needs_gssapi
def test_vac_streams_and_reads_back_with_a_kerberos_ticket_from_its_keytab(
    kerberos_kafka: KerberosKafka, tmp_path: Path
) -> None:
    config = str(gssapi_config(tmp_path, kerberos_kafka, "vac", kerberos_kafka.vac_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    stream_and_read_back(config, "pressures", env)
    assert (tmp_path / "ccache").exists()  # librdkafka's kinit put the ticket where it was told


def test_vac_streams_and_reads_back_with_scram_over_tls(kerberos_kafka: KerberosKafka, tmp_path: Path) -> None:
    config = secured_config(
        tmp_path,
        kerberos_kafka,
        "scram",
        kerberos_kafka.ca.certificate,
        sasl_mechanism="SCRAM-SHA-512",
        username="vac",
    )
    stream_and_read_back(str(config), "scram-pressures", {"VAC_KAFKA__SECURITY__PASSWORD": SCRAM_PASSWORD})


def test_a_broker_certificate_another_ca_signed_is_refused_clearly(
    kerberos_kafka: KerberosKafka, tmp_path: Path
) -> None:
    stranger_ca = LocalCa(tmp_path / "other-ca")
    stranger_ca.create()
    config = secured_config(
        tmp_path,
        kerberos_kafka,
        "scram",
        stranger_ca.certificate,
        sasl_mechanism="SCRAM-SHA-512",
        username="vac",
    )
    env = {"VAC_KAFKA__SECURITY__PASSWORD": SCRAM_PASSWORD}
    result = run_vac("--config", str(config), "tail", "topic", "pressures", "--no-follow", env=env)
    assert result.returncode == 3, result.stderr
    line = error_line(result)
    assert line.startswith(f"vac: error: TLS with Kafka at localhost:{kerberos_kafka.port} failed: "), line
    assert "certificate verify failed" in line, line


@needs_gssapi
def test_a_principal_without_acls_is_refused_clearly(kerberos_kafka: KerberosKafka, tmp_path: Path) -> None:
    config = str(gssapi_config(tmp_path, kerberos_kafka, "stranger", kerberos_kafka.stranger_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    result = run_vac("--config", config, "tail", "topic", "pressures", "--no-follow", env=env)
    assert result.returncode == 1, result.stderr
    assert error_line(result) == "vac: error: not allowed to read topic 'pressures'"


@needs_gssapi
def test_a_principal_that_may_not_write_stops_ship_and_stream_in_one_line(
    kerberos_kafka: KerberosKafka, tmp_path: Path
) -> None:
    """The stranger may see the topics (DESCRIBE) but not write them: the idempotent producer
    is stopped for good by the brokers. Each job ends with one line and exit 1, and the shipper's
    registry does not pass a line Kafka did not take."""
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{kerberos_kafka.internal_port}"})
    for topic in ("stranger-logs", "stranger-pressures", "stranger-last", "vac.health"):
        admin.create_topics([NewTopic(topic, 1, 1)])[topic].exception(30)  # None, or it exists already
        allow(admin, "stranger", ResourceType.TOPIC, topic, AclOperation.DESCRIBE)
    config = str(gssapi_config(tmp_path, kerberos_kafka, "stranger", kerberos_kafka.stranger_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache") | {
        "VAC_LOGS__TOPIC": "stranger-logs",
        "VAC_SCADA__LAST_TOPIC": "stranger-last",  # the streamer's compacted copy: seen, not writable either
    }
    log, registry = tmp_path / "PVSS_II.log", tmp_path / "registry.json"
    log.write_bytes(SAMPLE_LOG.read_bytes()[:20_000])
    shipped = run_vac(
        "--config", config, "ship", "logs", "--path", str(log), "--app-id", "vac_lhc_1_scada_logs", "--once",
        "--from-beginning", "--registry", str(registry), "-q", env=env, timeout=120,
    )  # fmt: skip
    streamed = run_vac(
        "--config", config, "stream", "scada", "--devices", "5", "--duration", "3", "--topic", "stranger-pressures",
        "-q", env=env, timeout=120,
    )  # fmt: skip
    refused = f"vac: error: Kafka at localhost:{kerberos_kafka.port} refused to let vac write: "
    for result in (shipped, streamed):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        line = error_line(result)
        assert line.startswith(refused) and "authorization failed" in line, line
    assert [entry["offset"] for entry in orjson.loads(registry.read_bytes())["files"]] == [0]


@needs_gssapi
def test_a_principal_that_may_not_read_stops_replay_dlq_in_one_line(
    kerberos_kafka: KerberosKafka, tmp_path: Path
) -> None:
    """The stranger may see the dead-letter topic but not read it nor use a group: the consumer's
    edge (VacConsumer) ends the job with one line and exit 1, where it used to wait out the
    timeout and report 0 documents resent."""
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{kerberos_kafka.internal_port}"})
    topic = "stranger-dead-letters"
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].exception(30)  # None, or it exists already
    allow(admin, "stranger", ResourceType.TOPIC, topic, AclOperation.DESCRIBE)
    config = str(gssapi_config(tmp_path, kerberos_kafka, "stranger", kerberos_kafka.stranger_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache") | {"VAC_INDEX__DEAD_LETTER_TOPIC": topic}
    result = run_vac("--config", config, "index", "replay-dlq", "--to", "stranger-logs", env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "resent" not in result.stderr
    line = error_line(result)
    assert line.startswith(f"vac: error: Kafka at localhost:{kerberos_kafka.port} refused to let vac "), line
    assert "authorization failed" in line.lower(), line


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


@needs_gssapi
def test_ship_topics_and_probe_authenticate_with_the_same_keytab(kerberos_kafka: KerberosKafka, tmp_path: Path) -> None:
    """Every Kafka-facing command takes the same `kafka.security` settings: the shipper's
    records all arrive, `topics list` sees them, the probe measures through the secured broker."""
    config = str(gssapi_config(tmp_path, kerberos_kafka, "vac", kerberos_kafka.vac_keytab))
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(SAMPLE_LOG.read_bytes()[:20_000])
    shipped = run_vac(
        "--config", config, "ship", "logs", "--path", str(log), "--app-id", "vac_lhc_1_scada_logs", "--once",
        "--from-beginning", "--registry", str(tmp_path / "registry.json"), "-o", "json", "-q", env=env, timeout=120,
    )  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    summary = orjson.loads(shipped.stdout)
    assert summary["failed"] == 0 and summary["acked"] == summary["records"] > 0
    listed = run_vac("--config", config, "topics", "list", "-o", "json", env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "vac.logs" in listed.stdout
    probe = run_vac(
        "--config", config, "probe", "latency", "--rate", "200", "--duration", "2", "--warmup", "1",
        "--topic", "probe-secured", "-o", "json", env=env, timeout=120,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    result = orjson.loads(probe.stdout)
    assert (result["sent"], result["received"], result["lost"], result["errors"]) == (600, 600, 0, 0)


def doctor_checks(config: Path, env: dict[str, str]) -> dict[str, dict[str, str]]:
    result = run_vac("--config", str(config), "doctor", "-o", "json", env=env, timeout=120)
    assert "Traceback" not in result.stderr and result.stdout, result.stderr
    return {check["name"]: check for check in orjson.loads(result.stdout)["checks"]}


@needs_gssapi
def test_doctor_reports_the_keytab_and_ticket_state(kerberos_kafka: KerberosKafka, tmp_path: Path) -> None:
    env = kerberos_kafka.kdc.client_env(tmp_path / "ccache")
    good = doctor_checks(gssapi_config(tmp_path, kerberos_kafka, "vac", kerberos_kafka.vac_keytab), env)
    assert good["sasl"]["status"] == "ok" and "supports the configured SASL GSSAPI" in good["sasl"]["detail"]
    assert good["kerberos"] == {
        "name": "kerberos",
        "status": "ok",
        "detail": f"keytab {kerberos_kafka.vac_keytab} holds vac@VAC.LOCAL, owner-only",
        "hint": None,
    }
    assert good["kafka"]["status"] == "ok"  # reached, authenticated, over TLS
    wrong = doctor_checks(gssapi_config(tmp_path, kerberos_kafka, "vac", kerberos_kafka.stranger_keytab), env)
    assert wrong["kerberos"]["status"] == "fail"
    assert wrong["kerberos"]["detail"] == (
        f"keytab {kerberos_kafka.stranger_keytab} holds no key for vac@VAC.LOCAL (it has stranger@VAC.LOCAL)"
    )
    shared = tmp_path / "shared.keytab"
    shared.write_bytes(kerberos_kafka.vac_keytab.read_bytes())
    shared.chmod(0o644)
    loose = doctor_checks(gssapi_config(tmp_path, kerberos_kafka, "vac", shared), env)
    assert loose["kerberos"]["status"] == "warn" and f"chmod 600 {shared}" in loose["kerberos"]["hint"]
    ticket_only = secured_config(
        tmp_path, kerberos_kafka, "ticket", kerberos_kafka.ca.certificate, sasl_mechanism="GSSAPI"
    )  # no keytab: librdkafka would use the ticket cache, which is empty
    no_ticket = doctor_checks(ticket_only, kerberos_kafka.kdc.client_env(tmp_path / "empty-ccache"))
    assert no_ticket["kerberos"]["status"] == "fail" and "no valid ticket" in no_ticket["kerberos"]["detail"]
