"""librdkafka properties from settings, and SASL support detection."""

from __future__ import annotations

import os

import pytest
from confluent_kafka import libversion

from vac.doctor import check_sasl
from vac.kafka.client import client_config, sasl_support
from vac.logs.sinks import LOG_PRODUCER_TUNING
from vac.scada.streamer import PRODUCER_TUNING
from vac.settings import KafkaSettings, VacSettings


def test_plaintext_defaults() -> None:
    assert client_config(KafkaSettings()) == {
        "bootstrap.servers": "127.0.0.1:9092",
        "client.id": "vac",
        "security.protocol": "PLAINTEXT",
    }


def test_scram_over_tls() -> None:
    kafka = KafkaSettings.model_validate(
        {
            "bootstrap_servers": "b1:9093,b2:9093",
            "security": {
                "protocol": "SASL_SSL",
                "sasl_mechanism": "SCRAM-SHA-512",
                "username": "vac",
                "password": "pw",
                "ca_file": "/etc/ca.pem",
            },
        }
    )
    config = client_config(kafka)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.username"] == "vac"
    assert config["sasl.password"] == "pw"
    assert config["ssl.ca.location"] == "/etc/ca.pem"
    assert not any(key.startswith("sasl.kerberos") for key in config)


def test_gssapi_sets_kerberos_properties() -> None:
    kafka = KafkaSettings.model_validate(
        {
            "security": {
                "protocol": "SASL_SSL",
                "sasl_mechanism": "GSSAPI",
                "kerberos_principal": "vacuum@EXAMPLE.ORG",
                "kerberos_keytab": "/etc/vac/vacuum.keytab",
            }
        }
    )
    config = client_config(kafka)
    assert config["sasl.kerberos.service.name"] == "kafka"
    assert config["sasl.kerberos.principal"] == "vacuum@EXAMPLE.ORG"
    assert config["sasl.kerberos.keytab"] == "/etc/vac/vacuum.keytab"


def test_extra_properties_win_over_vac_choices_and_a_commands_tuning() -> None:
    kafka = KafkaSettings.model_validate({"client_id": "a", "properties": {"client.id": "b", "linger.ms": 5}})
    assert client_config(kafka)["client.id"] == "b"
    assert client_config(kafka)["linger.ms"] == 5
    assert client_config(kafka, **{"linger.ms": 0})["linger.ms"] == 5


def test_sasl_support_is_detected_without_a_broker() -> None:
    assert sasl_support("PLAIN") is None
    assert sasl_support("SCRAM-SHA-256") is None
    unsupported = sasl_support("NO-SUCH-MECHANISM")
    assert unsupported is not None and "NO-SUCH-MECHANISM" in unsupported


def test_doctor_says_whether_this_client_speaks_gssapi() -> None:
    """scripts/build-kafka-client.sh installs a librdkafka with GSSAPI; the PyPI wheel lacks it."""
    check = check_sasl(VacSettings())
    if sasl_support("GSSAPI") is None:
        assert (check.status, check.detail) == (
            "ok",
            f"no SASL configured; librdkafka {libversion()[0]} supports GSSAPI",
        )
    else:
        assert check.status == "warn" and "lacks GSSAPI" in check.detail
    if os.environ.get("VAC_REQUIRE_GSSAPI", "") not in ("", "0"):
        assert check.status == "ok"


def test_kafka_properties_win_over_each_commands_tuning_but_not_over_its_guarantees(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The README promises that `kafka.properties` wins over vac's choices; it does for tuning
    (batching, compression, queues), not for what no loss and no doubles rest on."""
    properties = {"linger.ms": "50", "compression.type": "zstd", "batch.num.messages": "500", "acks": "1",
                  "enable.idempotence": "false", "enable.auto.commit": "true", "group.id": "theirs"}  # fmt: skip
    kafka = KafkaSettings.model_validate({"properties": properties})

    def delivered(*_: object) -> None:
        pass

    for tuning in (PRODUCER_TUNING, LOG_PRODUCER_TUNING):  # the streamer's, the shipper's
        config = client_config(kafka, on_delivery=delivered, **tuning)
        assert (config["linger.ms"], config["compression.type"], config["batch.num.messages"]) == ("50", "zstd", "500")
        assert (config["acks"], config["enable.idempotence"]) == ("all", True)
        assert config["on_delivery"] is delivered
    for_streamer = kafka.model_copy(update={"properties": {"message.timeout.ms": 300}})
    # The shipper waits out any outage; a time-out set for the streamer does not reach it.
    assert client_config(for_streamer, **LOG_PRODUCER_TUNING)["message.timeout.ms"] == 0
    indexer = client_config(kafka, **{"group.id": "vac-index", "enable.auto.commit": False})
    assert (indexer["group.id"], indexer["enable.auto.commit"], indexer["linger.ms"]) == ("vac-index", False, "50")
    plain = client_config(kafka)  # a command that sets nothing takes them all
    assert (plain["acks"], plain["group.id"]) == ("1", "theirs")
    assert "kafka.properties acks=1 is not used: vac needs acks=all here" in caplog.text
