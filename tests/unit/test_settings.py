"""Config precedence, validation and redaction (pure logic, no servers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vac.errors import ConfigError
from vac.settings import VacSettings, find_config_file, load_settings, redacted


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_point_at_the_local_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_settings(env={})
    assert loaded.config_file is None or loaded.config_file.name == "vac.yaml"
    assert loaded.settings.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert loaded.settings.elasticsearch.hosts == ["http://127.0.0.1:9200"]
    assert loaded.settings.local.kafka_brokers == 1


def test_flags_beat_env_beat_file_beat_defaults(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "kafka:\n  client_id: from-file\n  bootstrap_servers: file:1\n  timeout_s: 3\nlocal:\n  kafka_brokers: 3\n",
    )
    env = {"VAC_KAFKA__CLIENT_ID": "from-env", "VAC_KAFKA__BOOTSTRAP_SERVERS": "env:1"}
    settings = load_settings(config, overrides={"kafka": {"client_id": "from-flag"}}, env=env).settings
    assert settings.kafka.client_id == "from-flag"  # flag over env and file
    assert settings.kafka.bootstrap_servers == "env:1"  # env over file
    assert settings.kafka.timeout_s == 3  # file over default
    assert settings.local.kafka_brokers == 3
    assert settings.kafka.security.protocol == "PLAINTEXT"  # default kept inside a merged section


def test_env_parses_lists_and_numbers() -> None:
    env = {"VAC_ELASTICSEARCH__HOSTS": '["https://a:9200", "https://b:9200"]', "VAC_LOCAL__KAFKA_PORT": "19092"}
    settings = load_settings(None, env=env).settings
    assert settings.elasticsearch.hosts == ["https://a:9200", "https://b:9200"]
    assert settings.local.kafka_port == 19092


def test_config_file_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    local = write(tmp_path / "vac.yaml", "{}\n")
    named = write(tmp_path / "named.yaml", "{}\n")
    assert find_config_file(None, {}) == Path("vac.yaml")
    assert find_config_file(None, {"VAC_CONFIG": str(named)}) == named
    assert find_config_file(local, {"VAC_CONFIG": str(named)}) == local


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(None, env={"VAC_CONFIG": str(tmp_path / "nope.yaml")})


def test_a_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env={"VAC_LOCAL__KAFKA_PORT": "ninety"})
    assert "$VAC_LOCAL__KAFKA_PORT" in caught.value.message
    assert "local.kafka_port" in caught.value.message


def test_unknown_key_in_file_is_an_error_with_suggestion(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "elasticsearch:\n  host: [x]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert f"{config}:2: elasticsearch.host: unknown key (did you mean 'hosts'?)" in caught.value.message


@pytest.mark.parametrize(
    ("security", "fragment"),
    [
        ({"protocol": "SASL_SSL"}, "needs sasl_mechanism"),
        ({"protocol": "SSL", "sasl_mechanism": "PLAIN"}, "does not use SASL"),
        ({"protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "username": "u"}, "needs username and password"),
        ({"protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI", "kerberos_keytab": "/k"}, "needs kerberos_principal"),
        ({"protocol": "SASL_SSL", "sasl_mechanism": "OAUTH"}, "sasl_mechanism"),
    ],
)
def test_kafka_security_is_checked(security: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(None, overrides={"kafka": {"security": security}}, env={})


def test_gssapi_production_shape_is_valid() -> None:
    security = {
        "protocol": "SASL_SSL",
        "sasl_mechanism": "GSSAPI",
        "kerberos_principal": "vacuum@EXAMPLE.ORG",
        "kerberos_keytab": "/etc/vac/vacuum.keytab",
        "ca_file": "/etc/ca.pem",
    }
    settings = load_settings(None, overrides={"kafka": {"security": security}}, env={}).settings
    assert settings.kafka.security.sasl_mechanism == "GSSAPI"


def test_secrets_are_redacted(tmp_path: Path) -> None:
    env = {
        "VAC_ELASTICSEARCH__USERNAME": "writer",
        "VAC_ELASTICSEARCH__PASSWORD": "s3cret-es",
        "VAC_KAFKA__SECURITY__PROTOCOL": "SASL_SSL",
        "VAC_KAFKA__SECURITY__SASL_MECHANISM": "PLAIN",
        "VAC_KAFKA__SECURITY__USERNAME": "u",
        "VAC_KAFKA__SECURITY__PASSWORD": "s3cret-kafka",
    }
    settings = load_settings(None, env=env).settings
    assert settings.elasticsearch.password is not None
    assert settings.elasticsearch.password.get_secret_value() == "s3cret-es"
    dumped = str(redacted(settings))
    assert "s3cret" not in dumped
    assert "writer" in dumped
    assert dumped.count("**********") == 2


def test_shipped_configs_are_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    # config/vac.yaml documents the built-in defaults: it must not drift from them.
    assert load_settings(root / "config" / "vac.yaml", env={}).settings == VacSettings.model_validate({})
    secrets = {"VAC_ELASTICSEARCH__PASSWORD": "x", "VAC_SCADA__MQTT_SECURITY__PASSWORD": "y"}
    production = load_settings(root / "config" / "examples" / "production.yaml", env=secrets).settings
    assert production.kafka.security.sasl_mechanism == "GSSAPI"
    assert production.scada.replication_factor == 3
    assert production.scada.mqtt_security.tls and production.scada.mqtt_security.username == "vac_reader"


def test_secrets_come_from_files_and_are_never_shown(tmp_path: Path) -> None:
    """`password_file` and friends: the secret in a file (a systemd credential), not in the
    config, the environment or a command line; one trailing newline is not part of it."""
    (tmp_path / "kafka.pw").write_text("s3cret-kafka\n")
    (tmp_path / "key.pw").write_text("s3cret-key\r\n")
    (tmp_path / "es.key").write_text("s3cret-api-key")
    config = tmp_path / "vac.yaml"
    config.write_text(
        "kafka:\n  security:\n    protocol: SASL_SSL\n    sasl_mechanism: SCRAM-SHA-512\n    username: vac\n"
        f"    password_file: {tmp_path / 'kafka.pw'}\n    key_password_file: {tmp_path / 'key.pw'}\n"
        f"elasticsearch:\n  api_key_file: {tmp_path / 'es.key'}\n"
    )
    settings = load_settings(config, env={}).settings
    security = settings.kafka.security
    assert security.password is not None and security.password.get_secret_value() == "s3cret-kafka"
    assert security.key_password is not None and security.key_password.get_secret_value() == "s3cret-key"
    assert settings.elasticsearch.api_key is not None
    assert settings.elasticsearch.api_key.get_secret_value() == "s3cret-api-key"
    assert "s3cret" not in str(redacted(settings))
    assert str(tmp_path / "kafka.pw") in str(redacted(settings))  # where it comes from is no secret


@pytest.mark.parametrize(
    ("security", "fragment"),
    [
        ({"password": "inline", "password_file": "{dir}/pw"}, "set either password or password_file, not both"),
        ({"password_file": "{dir}/missing"}, "password_file {dir}/missing cannot be read: No such file or directory"),
        ({"password_file": "{dir}"}, "password_file {dir} cannot be read: Is a directory"),
        ({"password_file": "{dir}/empty"}, "password_file {dir}/empty is empty"),
    ],
)
def test_a_secret_file_that_cannot_serve_is_a_config_error(
    tmp_path: Path, security: dict[str, str], fragment: str
) -> None:
    (tmp_path / "pw").write_text("x")
    (tmp_path / "empty").write_text("\n")
    security = {key: value.format(dir=tmp_path) for key, value in security.items()}
    base = {"protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "username": "u"}
    with pytest.raises(ConfigError) as raised:
        load_settings(None, overrides={"kafka": {"security": base | security}}, env={})
    assert fragment.format(dir=tmp_path) in str(raised.value.message) + str(raised.value.hint)
