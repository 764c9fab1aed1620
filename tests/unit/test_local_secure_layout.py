"""Pure parts of the secured local stack: the broker's secured properties and the client
config `vac local up --secure` writes (no KDC, no servers)."""

from __future__ import annotations

import json
from pathlib import Path

from vac.local import kafka_node
from vac.local.secure import SecureMaterial
from vac.settings import load_settings


def properties(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def test_a_secured_node_takes_clients_on_sasl_ssl_only_and_denies_what_no_acl_allows(tmp_path: Path) -> None:
    (node,) = kafka_node.plan_nodes(tmp_path, 1, 9092)
    pem = tmp_path / "broker.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    secure = kafka_node.SecureListener(pem, pem, tmp_path / "kafka.keytab", "kafka/localhost", "VAC.LOCAL")
    kafka_node.write_config(node, [node], secure)
    config = properties(node.config_file)
    assert config["listeners"] == (
        "SASL_SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,INTERNAL://127.0.0.1:9094"
    )  # every listener on loopback
    assert config["advertised.listeners"] == "SASL_SSL://localhost:9092,INTERNAL://127.0.0.1:9094"
    assert config["inter.broker.listener.name"] == "INTERNAL"
    assert config["sasl.enabled.mechanisms"] == "GSSAPI,SCRAM-SHA-512"
    assert config["allow.everyone.if.no.acl.found"] == "false"
    assert config["super.users"] == "User:kafka;User:ANONYMOUS"
    # The PEM is one properties line: Java reads `\n` back as the line breaks.
    assert config["ssl.keystore.certificate.chain"] == (
        "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"
    )
    assert (
        f'keyTab="{tmp_path / "kafka.keytab"}" principal="kafka/localhost@VAC.LOCAL"'
        in config["listener.name.sasl_ssl.gssapi.sasl.jaas.config"]
    )


def test_the_client_config_is_valid_vac_settings_and_owner_only(tmp_path: Path) -> None:
    material = SecureMaterial(tmp_path, 9088)
    material.save_credentials({"kafka_scram_password": "k" * 32, "elasticsearch_password": "e" * 32})
    path = material.write_client_config(9092, 9200)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(material.credentials_file.read_text())["elasticsearch_password"] == "e" * 32
    settings = load_settings(path, env={}).settings
    security = settings.kafka.security
    assert (settings.kafka.bootstrap_servers, security.protocol, security.sasl_mechanism) == (
        "localhost:9092",
        "SASL_SSL",
        "GSSAPI",
    )
    assert security.kerberos_principal == "vac@VAC.LOCAL"
    assert security.kerberos_keytab == tmp_path / "kdc" / "keytabs" / "vac.keytab"
    assert security.ca_file == tmp_path / "tls" / "ca.pem"
    es = settings.elasticsearch
    assert es.hosts == ["https://localhost:9200"] and es.ca_file == tmp_path / "tls" / "ca.pem"
    assert es.username == "vac" and es.password is not None and es.password.get_secret_value() == "e" * 32
    # The file says which environment the Kerberos client needs.
    assert f"export KRB5_CONFIG={tmp_path}/kdc/krb5.conf" in path.read_text()
