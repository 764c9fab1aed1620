"""Hostile security settings of the SCADA sources: wrong types, impossible combinations, files
that are missing or are not what they are named as. Each is a config error naming the setting,
raised before any connection (no servers here: the sources read their files when they open)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vac.errors import ConfigError
from vac.local.tls import Issued, LocalCa
from vac.settings import MqttSecurity, OpcUaSecurity, VacSettings, load_settings, redacted, secret_values
from vac.sources.mqtt import MqttSource
from vac.sources.opcua import OpcUaSource

URI = "urn:vac:test:client"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCa:
    authority = LocalCa(tmp_path_factory.mktemp("ca"))
    authority.create()
    return authority


@pytest.fixture(scope="module")
def client(ca: LocalCa) -> Issued:
    return ca.issue("client", ["vac-client"], uris=(URI,), client=True, rsa_bits=2048)


def opcua(**security: object) -> OpcUaSource:
    checked = OpcUaSecurity.model_validate(security)
    return OpcUaSource("opcua://127.0.0.1:4840", [], "ns=2;s={dpe}", 100, 5.0, checked)


def secured(client: Issued, **changes: object) -> dict[str, object]:
    security: dict[str, object] = {
        "policy": "Basic256Sha256",
        "certificate": str(client.certificate),
        "private_key": str(client.key),
    }
    return security | changes


@pytest.mark.parametrize(
    ("scada", "fragment"),
    [
        ({"opcua_security": "Basic256Sha256"}, "scada.opcua_security: Input should be a valid dictionary"),
        ({"opcua_security": {"policy": 5}}, "scada.opcua_security.policy: Input should be 'none'"),
        ({"opcua_security": {"policy": "Basic128Rsa15"}}, "scada.opcua_security.policy: Input should be 'none'"),
        ({"opcua_security": {"mode": "Encrypt"}}, "scada.opcua_security.mode: Input should be 'Sign'"),
        ({"opcua_security": {"policy": "Basic256Sha256"}}, "needs certificate and private_key"),
        ({"opcua_security": {"certificate": "/c.pem"}}, "need a policy other than none"),
        ({"opcua_security": {"username": "vac"}}, "username is set but password is not"),
        ({"opcua_security": {"password": "s3cret-opc"}}, "password is set but username is not"),
        ({"opcua_security": {"username": ["vac"], "password": "x"}}, "scada.opcua_security.username"),
        ({"opcua_security": {"usr": "vac"}}, "scada.opcua_security.usr: unknown key"),
        ({"mqtt_security": {"tls": "maybe"}}, "scada.mqtt_security.tls: Input should be a valid boolean"),
        ({"mqtt_security": {"cert_file": "/c.pem"}}, "cert_file and key_file go together"),
        ({"mqtt_security": {"password": "s3cret-mqtt"}}, "password is set but username is not"),
        (
            {"mqtt_security": {"username": "vac", "password": "a", "password_file": "/p"}},
            "set either password or password_file, not both",
        ),
        (
            {"mqtt_security": {"username": "vac", "password_file": "/nonexistent/mqtt.pw"}},
            "password_file /nonexistent/mqtt.pw cannot be read: No such file or directory",
        ),
    ],
)
def test_wrong_security_settings_are_config_errors(scada: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, overrides={"scada": scada}, env={})
    assert fragment in caught.value.message
    assert "s3cret" not in caught.value.message


def test_source_secrets_come_from_env_or_files_and_are_never_shown(tmp_path: Path) -> None:
    (tmp_path / "opc.pw").write_text("s3cret-opc\n")
    (tmp_path / "key.pw").write_text("s3cret-key\n")
    config = tmp_path / "vac.yaml"
    config.write_text(
        "scada:\n  opcua_security:\n    username: vac\n"
        f"    password_file: {tmp_path / 'opc.pw'}\n"
        f"  mqtt_security:\n    tls: true\n    cert_file: /c.pem\n    key_file: /c.key\n"
        f"    key_password_file: {tmp_path / 'key.pw'}\n"
    )
    env = {"VAC_SCADA__MQTT_SECURITY__USERNAME": "vac", "VAC_SCADA__MQTT_SECURITY__PASSWORD": "s3cret-mqtt"}
    settings = load_settings(config, env=env).settings
    assert settings.scada.opcua_security.password is not None
    assert settings.scada.opcua_security.password.get_secret_value() == "s3cret-opc"
    assert {"s3cret-opc", "s3cret-key", "s3cret-mqtt"} <= secret_values(settings)
    shown = str(redacted(settings))
    assert "s3cret" not in shown and shown.count("**********") == 3
    assert secret_values(VacSettings()) == set()


def test_a_secured_opcua_source_opens_with_good_files(client: Issued) -> None:
    source = opcua(**secured(client, server_certificate=str(client.certificate)))
    assert source.identity is not None
    assert source.identity.application_uri == URI  # from the certificate: servers compare the two


def test_bad_opcua_files_are_config_errors_naming_the_setting(ca: LocalCa, client: Issued, tmp_path: Path) -> None:
    setting = "scada.opcua_security"
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\n\x1b[31m[red]not base64[/red]\n" + b"\xff" * 100_000)
    ec_client = ca.issue("ec-client", ["vac-client"], uris=(URI,), client=True)
    other = ca.issue("other", ["vac-client"], uris=(URI,), client=True, rsa_bits=2048)
    no_uri = ca.issue("no-uri", ["vac-client"], client=True, rsa_bits=2048)
    missing = tmp_path / "missing.key"
    cases = {
        f"{setting}.private_key {missing} cannot be read: No such file or directory": {"private_key": str(missing)},
        f"{setting}.certificate {missing} cannot be read": {"certificate": str(missing)},
        f"{setting}.private_key {client.certificate} is not a private key (PEM or DER)": {
            "private_key": str(client.certificate)
        },
        f"{setting}.private_key {garbage} is not a private key": {"private_key": str(garbage)},
        f"{setting}.certificate {client.key} is not a certificate (PEM or DER)": {"certificate": str(client.key)},
        f"{setting}.private_key {tmp_path} cannot be read: Is a directory": {"private_key": str(tmp_path)},
        f"{setting}.private_key {ec_client.key} is not an RSA key": {
            "certificate": str(ec_client.certificate),
            "private_key": str(ec_client.key),
        },
        f"{setting}.private_key is not the key of {setting}.certificate": {"private_key": str(other.key)},
        f"{setting}.certificate {no_uri.certificate} has no URI in its subjectAltName": {
            "certificate": str(no_uri.certificate),
            "private_key": str(no_uri.key),
        },
        f"{setting}.server_certificate {garbage} is not a certificate": {"server_certificate": str(garbage)},
    }
    for expected, changes in cases.items():
        with pytest.raises(ConfigError) as caught:
            opcua(**secured(client, **changes))
        assert caught.value.message.startswith(expected), caught.value.message


def test_an_encrypted_opcua_key_needs_its_password(client: Issued, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(client.key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret-key"),
        )
    )
    with pytest.raises(ConfigError, match="is encrypted") as caught:
        opcua(**secured(client, private_key=str(encrypted)))
    assert (
        caught.value.hint
        == "set scada.opcua_security.private_key_password (or scada.opcua_security.private_key_password_file)"
    )
    with pytest.raises(ConfigError, match="private_key_password does not decrypt"):
        opcua(**secured(client, private_key=str(encrypted), private_key_password="wrong-key-pw"))
    with pytest.raises(ConfigError, match="is not encrypted, but scada.opcua_security.private_key_password is set"):
        opcua(**secured(client, private_key_password="s3cret-key"))
    assert opcua(**secured(client, private_key=str(encrypted), private_key_password="s3cret-key")).identity


def mqtt(url: str, **security: object) -> MqttSource:
    return MqttSource(url, MqttSecurity.model_validate(security), 5.0)


def test_mqtts_turns_tls_on_with_its_own_default_port(ca: LocalCa) -> None:
    assert (mqtt("mqtts://broker/vacuum/#").port, mqtt("mqtts://broker/vacuum/#").tls) == (8883, True)
    assert mqtt("mqtt://broker/vacuum/#", tls=True).port == 8883
    assert (mqtt("mqtt://broker/vacuum/#").port, mqtt("mqtt://broker/vacuum/#").tls) == (1883, False)
    assert mqtt("mqtts://broker:9999/#", ca_file=str(ca.certificate)).port == 9999


def test_bad_mqtt_tls_files_are_config_errors_naming_the_setting(ca: LocalCa, client: Issued, tmp_path: Path) -> None:
    setting = "scada.mqtt_security"
    other = ca.issue("mqtt-other", ["vac-client"], client=True)
    missing = tmp_path / "missing-ca.pem"
    cases = {
        f"{setting}.ca_file {missing} cannot be read: No such file or directory": {"ca_file": str(missing)},
        f"{setting}.ca_file {client.key} is not a certificate": {"ca_file": str(client.key)},
        f"{setting}.key_file {client.certificate} is not a private key": {
            "cert_file": str(client.certificate),
            "key_file": str(client.certificate),
        },
        f"{setting}.key_file is not the key of {setting}.cert_file": {
            "cert_file": str(client.certificate),
            "key_file": str(other.key),
        },
    }
    for expected, security in cases.items():
        with pytest.raises(ConfigError) as caught:
            mqtt("mqtts://broker/vacuum/#", **security)
        assert caught.value.message.startswith(expected), caught.value.message
    with pytest.raises(ConfigError, match="names TLS files but TLS is off") as off:
        mqtt("mqtt://broker/vacuum/#", ca_file=str(ca.certificate))
    assert off.value.hint == f"use mqtts://, or set {setting}.tls: true"
    good = mqtt(
        "mqtts://broker/#", ca_file=str(ca.certificate), cert_file=str(other.certificate), key_file=str(other.key)
    )
    assert good.tls


def test_the_server_certificate_is_the_first_of_the_announced_chain(ca: LocalCa, client: Issued) -> None:
    from cryptography import x509

    from vac.sources.opcua import _leaf_certificate

    leaf, authority = (
        x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.DER)
        for path in (client.certificate, ca.certificate)
    )
    chained = _leaf_certificate(leaf + authority)
    assert chained is not None and chained.public_bytes(serialization.Encoding.DER) == leaf
    for hostile in (b"", b"\x30", b"\x30\x84\xff\xff\xff\xff" + leaf, b"\x02\x01\x00", leaf[:100]):
        assert _leaf_certificate(hostile) is None
