"""`vac doctor`'s verdict on Kafka's transport, from the settings alone (issue #15, finding 11)."""

from __future__ import annotations

from vac.doctor import check_kafka_auth
from vac.settings import load_settings


def test_plaintext_kafka_is_a_warning() -> None:
    check = check_kafka_auth(load_settings(None, env={}).settings)
    assert (check.status, check.name) == ("warn", "kafka auth")
    assert "PLAINTEXT without SASL" in check.detail


def test_sasl_kafka_is_fine() -> None:
    security = {"protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "username": "u", "password": "p"}
    check = check_kafka_auth(load_settings(None, overrides={"kafka": {"security": security}}, env={}).settings)
    assert (check.status, check.detail) == ("ok", "SASL_SSL with SASL SCRAM-SHA-512")
