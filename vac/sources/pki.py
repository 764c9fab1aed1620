"""Certificates and private keys named in the SCADA sources' security settings, read and
checked when the source opens: a missing file, a file that is no certificate or key, a key that
does not match its certificate each become one config error naming the setting, before any
connection is tried."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pydantic import SecretStr

from vac.errors import ConfigError


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{setting} {path} cannot be read: {exc.strerror or exc}", hint=f"check the path in {setting}"
        ) from None


def read_certificate(path: Path, setting: str) -> x509.Certificate:
    """The first certificate of a PEM file (a chain's leaf) or a DER file."""
    data = _read(path, setting)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(
            f"{setting} {path} is not a certificate (PEM or DER)",
            hint=f"name the X.509 certificate file in {setting}, not its key or CA bundle of another format",
        ) from None


def read_private_key(path: Path, setting: str, password: SecretStr | None, password_setting: str) -> PrivateKeyTypes:
    data = _read(path, setting)
    secret = password.get_secret_value().encode() if password is not None else None
    try:
        if b"-----BEGIN" in data:
            return serialization.load_pem_private_key(data, secret)
        return serialization.load_der_private_key(data, secret)
    except TypeError:  # cryptography: encrypted without a password, or a password for a clear key
        if secret is None:
            raise ConfigError(
                f"{setting} {path} is encrypted", hint=f"set {password_setting} (or {password_setting}_file)"
            ) from None
        raise ConfigError(
            f"{setting} {path} is not encrypted, but {password_setting} is set",
            hint=f"remove {password_setting}",
        ) from None
    except ValueError:
        if secret is not None and b"ENCRYPTED" in data:
            raise ConfigError(
                f"{password_setting} does not decrypt {setting} {path}", hint=f"check {password_setting}"
            ) from None
        raise ConfigError(
            f"{setting} {path} is not a private key (PEM or DER)",
            hint=f"name the private key file in {setting}, not the certificate",
        ) from None
    except Exception as exc:  # e.g. an unsupported key type or curve, raised by the Rust binding
        raise ConfigError(f"{setting} {path} cannot be used: {type(exc).__name__}: {exc}") from None


def check_key_pair(certificate: x509.Certificate, key: PrivateKeyTypes, setting: str, key_setting: str) -> None:
    public = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != (
        public
    ):
        raise ConfigError(
            f"{key_setting} is not the key of {setting}", hint="name the certificate and the key made with it"
        )


def rsa_key(key: PrivateKeyTypes, setting: str, path: Path, why: str) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{setting} {path} is not an RSA key ({why})", hint="make an RSA key of 2048 bits or more")
    return key


def uris(certificate: x509.Certificate) -> list[str]:
    """The URIs in the certificate's subjectAltName (an OPC UA application URI)."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return list(names.get_values_for_type(x509.UniformResourceIdentifier))
