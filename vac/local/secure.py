"""What a secured local stack (`vac local up --secure`) is made of, besides its servers: the
KDC of realm VAC.LOCAL with its principals and keytabs, the vac local CA with the servers'
certificates, the random passwords, and the client config a user of the stack runs vac with.

Everything is made once in the state dir and reused by later `up`s (a new CA or new keytabs
would invalidate what clients already hold); `vac local reset` deletes it. `LocalStack` calls it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vac.local import process
from vac.local.kdc import Kdc
from vac.local.tls import Issued, LocalCa

BROKER_PRINCIPAL = "kafka/localhost"
CLIENT_USER = "vac"
"""The one user of the secured stack: Kerberos `vac@VAC.LOCAL`, SCRAM user `vac` (the same
Kafka principal `User:vac`) and the Elasticsearch user `vac`."""
# Names the servers are reached by: `localhost` is what the broker's Kerberos principal and
# the advertised listener say; 127.0.0.1 for clients that use the address.
SERVER_HOSTS = ["localhost", "127.0.0.1"]


@dataclass(frozen=True)
class SecureMaterial:
    state_dir: Path
    kdc_port: int

    @property
    def kdc(self) -> Kdc:
        return Kdc(self.state_dir / "kdc", self.kdc_port)

    @property
    def ca(self) -> LocalCa:
        return LocalCa(self.state_dir / "tls")

    @property
    def credentials_file(self) -> Path:
        return self.state_dir / "credentials.json"

    @property
    def client_config(self) -> Path:
        return self.state_dir / "vac-secure.yaml"

    @property
    def ticket_cache(self) -> Path:
        """Where a client of the stack keeps its Kerberos ticket (not the user's own cache)."""
        return self.kdc.directory / "ccache"

    @property
    def broker_keytab(self) -> Path:
        return self.kdc.keytab(BROKER_PRINCIPAL)

    @property
    def client_keytab(self) -> Path:
        return self.kdc.keytab(CLIENT_USER)

    @property
    def principal(self) -> str:
        return f"{CLIENT_USER}@{self.kdc.realm}"

    def paths(self) -> list[Path]:
        """What `reset` deletes."""
        return [self.kdc.directory, self.ca.directory, self.credentials_file, self.client_config]

    def prepare(self) -> None:
        """Make what is missing: the realm and keytabs, the CA and certificates, the passwords."""
        kdc = self.kdc
        if not kdc.created:
            kdc.create()
        for principal in (BROKER_PRINCIPAL, CLIENT_USER):
            if not kdc.keytab(principal).exists():
                kdc.add_principal(principal)
        ca = self.ca
        process.private_dir(ca.directory)
        if not ca.certificate.exists():
            ca.create()
        for name in ("kafka", "elasticsearch"):
            if not self.server_tls(name).key.exists():
                ca.issue(name, SERVER_HOSTS)
        credentials = self.credentials()
        for key in ("kafka_scram_password", "elasticsearch_password"):
            credentials.setdefault(key, secrets.token_urlsafe(24))
        self.save_credentials(credentials)

    def server_tls(self, name: str) -> Issued:
        return Issued(self.ca.directory / f"{name}.pem", self.ca.directory / f"{name}.key")

    def credentials(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.credentials_file.read_text()))
        except (FileNotFoundError, ValueError):
            # Lost or mangled: `prepare` makes new passwords, and the next start of each
            # server sets them (the SCRAM credential and the file-realm user are set every start).
            return {}

    def save_credentials(self, credentials: dict[str, Any]) -> None:
        process.write_private(self.credentials_file, json.dumps(credentials, indent=2).encode())

    def client_env(self) -> dict[str, str]:
        """The environment a client of the stack needs besides the config: this realm's
        krb5.conf and a ticket cache of its own."""
        return self.kdc.client_env(self.ticket_cache)

    def write_client_config(self, kafka_port: int, elasticsearch_port: int) -> Path:
        """A config with which vac talks to the secured stack as `vac`, owner-only (it holds
        the Elasticsearch password)."""
        credentials = self.credentials()
        config = {
            "kafka": {
                "bootstrap_servers": f"localhost:{kafka_port}",
                "security": {
                    "protocol": "SASL_SSL",
                    "sasl_mechanism": "GSSAPI",
                    "kerberos_principal": self.principal,
                    "kerberos_keytab": str(self.client_keytab),
                    "kerberos_service_name": BROKER_PRINCIPAL.split("/")[0],
                    "ca_file": str(self.ca.certificate),
                },
            },
            "elasticsearch": {
                "hosts": [f"https://localhost:{elasticsearch_port}"],
                "ca_file": str(self.ca.certificate),
                "username": CLIENT_USER,
                "password": credentials["elasticsearch_password"],
            },
        }
        header = (
            "# Written by `vac local up --secure`: vac as user `vac` on the secured local stack.\n"
            "# Kafka needs this realm and a ticket cache of its own in the environment:\n"
            + "".join(f"#   export {key}={value}\n" for key, value in self.client_env().items())
        )
        process.write_private(self.client_config, (header + yaml.safe_dump(config, sort_keys=False)).encode())
        return self.client_config
