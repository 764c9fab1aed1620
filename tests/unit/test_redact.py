"""Secrets never printed: the one redaction helper of the core (issue #15, finding 9)."""

from __future__ import annotations

import pytest

from vac.redact import REDACTED, redact_text, redact_url, secret_property
from vac.settings import load_settings, redacted, secret_values


@pytest.mark.parametrize(
    "name",
    ["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
     "ssl.key.pem", "sasl.oauthbearer.config", "sasl.jaas.config", "https.token"],
)  # fmt: skip
def test_secret_properties(name: str) -> None:
    assert secret_property(name)


@pytest.mark.parametrize("name", ["linger.ms", "sasl.username", "ssl.key.location", "ssl.keystore.location", "acks"])
def test_ordinary_properties(name: str) -> None:
    assert not secret_property(name)


def test_urls_keep_the_user_and_lose_the_password() -> None:
    assert redact_url("https://writer:p@ss:w0rd@es-1:9200/x") == f"https://writer:{REDACTED}@es-1:9200/x"
    assert redact_url("https://tok3n@es-1:9200") == f"https://{REDACTED}@es-1:9200"
    assert redact_url("http://127.0.0.1:9200") == "http://127.0.0.1:9200"


def test_free_text_loses_url_credentials_assignments_and_known_values() -> None:
    text = 'at https://u:pw1@h:1; sasl.password=pw2 {"ssl.key.password": "pw3"} quoted \'pw4-value\''
    scrubbed = redact_text(text, {"pw4-value"})
    assert not any(secret in scrubbed for secret in ("pw1", "pw2", "pw3", "pw4-value"))
    assert scrubbed.count(REDACTED) == 4
    # How vac names a config key before its problem is no assignment.
    assert redact_text("kafka.security.password: Input should be a valid string") == (
        "kafka.security.password: Input should be a valid string"
    )


def test_settings_know_their_secrets_and_show_none() -> None:
    env = {
        "VAC_KAFKA__PROPERTIES": '{"sasl.password": "pw-sasl", "linger.ms": 5}',
        "VAC_ELASTICSEARCH__HOSTS": '["https://writer:pw-url@es:9200"]',
        "VAC_ELASTICSEARCH__USERNAME": "writer",
        "VAC_ELASTICSEARCH__PASSWORD": "pw-es",
    }
    settings = load_settings(None, env=env).settings
    assert secret_values(settings) == {"pw-sasl", "pw-url", "pw-es"}
    shown = redacted(settings)
    assert shown["kafka"]["properties"] == {"sasl.password": REDACTED, "linger.ms": 5}
    assert shown["elasticsearch"]["hosts"] == [f"https://writer:{REDACTED}@es:9200"]
    assert not any(secret in str(shown) for secret in secret_values(settings))
