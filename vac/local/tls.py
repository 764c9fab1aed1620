"""A certificate authority of the local stack's own, and the server certificates it signs:
TLS like production's (a site CA the clients trust), made here, never downloaded.

Keys are written owner-only, unencrypted PEM (PKCS#8), which both Java (Kafka's PEM key store)
and OpenSSL (librdkafka, the Elasticsearch client) read. Uses `cryptography`. OPC UA's security
policies want RSA keys and the application URI in subjectAltName: `issue` makes those too.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vac.local.process import write_private

VALID_FOR = datetime.timedelta(days=825)  # the longest a server certificate may live for browsers and macOS


@dataclass(frozen=True)
class Issued:
    certificate: Path
    """PEM: the server's certificate, then the CA's (the chain a server presents)."""
    key: Path
    """PEM, PKCS#8, unencrypted, mode 600."""


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class LocalCa:
    directory: Path
    name: str = "vac local CA"

    @property
    def certificate(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def key(self) -> Path:
        return self.directory / "ca.key"

    def create(self) -> None:
        """A new CA key and self-signed certificate (replacing any earlier one)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + 2 * VALID_FOR)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # certificate and CRL signing only
            .sign(key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        write_private(self.key, _key_pem(key))
        self.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        name: str,
        hosts: list[str],
        *,
        uris: tuple[str, ...] = (),
        client: bool = False,
        rsa_bits: int | None = None,
    ) -> Issued:
        """A certificate for `hosts` (DNS names or IP addresses), signed by this CA: for a
        server, and also for a client with `client`. `uris` go into subjectAltName too (an OPC
        UA application URI); `rsa_bits` makes an RSA key (OPC UA's Basic256Sha256) instead of
        P-256, with the key usages OPC UA checks."""
        ca_key = serialization.load_pem_private_key(self.key.read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        ca_certificate = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
            rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1())
        )
        alt_names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri) for uri in uris]
        for host in hosts:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt_names.append(x509.DNSName(host))
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, *([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])]
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALID_FOR)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        if rsa_bits:  # digital signature, non-repudiation, key and data encipherment
            builder = builder.add_extension(
                x509.KeyUsage(True, True, True, True, False, False, False, False, False), critical=True
            )
        certificate = builder.sign(ca_key, hashes.SHA256())
        issued = Issued(self.directory / f"{name}.pem", self.directory / f"{name}.key")
        write_private(issued.key, _key_pem(key))
        issued.certificate.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM) + self.certificate.read_bytes()
        )
        return issued
