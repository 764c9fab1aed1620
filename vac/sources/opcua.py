"""Changes from an OPC UA server (`opcua://host:port[/path]`), such as WinCC OA's.

One subscription with data-change notifications on every configured DPE's node (the node id
comes from `scada.opcua_node_id`, e.g. `ns=2;s={dpe}`). A notification's value, source
timestamp and StatusCode become a change: a status that is not Good sets the invalid bit.
asyncua runs on an event loop of its own thread; changes reach the streamer through a
bounded queue.

Security comes from `scada.opcua_security`: a secure channel (a policy such as Basic256Sha256,
Sign or SignAndEncrypt, vac's client certificate) and a user and password. The server's
endpoints are read first, so that a policy it does not offer, or a certificate that is not the
pinned one, is said as such instead of ending in a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from asyncua import ua
from asyncua.client import Client  # type: ignore[attr-defined,unused-ignore]
from asyncua.crypto import security_policies, uacrypto
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vac.errors import ConfigError, PermissionDenied, SourceUnavailable, VacError
from vac.printable import printable
from vac.records import status as status_bits
from vac.records.badinput import BadInput
from vac.records.change import SOURCE_US_RANGE, Change, now_us
from vac.records.dpe import Dpe
from vac.settings import OpcUaSecurity
from vac.sources import pki
from vac.sources.queued import ChangeQueue

SUBSCRIBE_CHUNK = 1000
INVALID = status_bits.ACTIVE | (1 << status_bits.BITS["aut_inv"])
SETTING = "scada.opcua_security"
MODES = {
    "none": ua.MessageSecurityMode.None_,
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}
POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "none": security_policies.SecurityPolicyNone,
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128Sha256RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256Sha256RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}


@dataclass(frozen=True)
class ClientIdentity:
    """vac's side of a secure channel, read and checked before connecting."""

    certificate_der: bytes
    key_der: bytes
    application_uri: str
    server_certificate_der: bytes | None


def load_identity(security: OpcUaSecurity) -> ClientIdentity | None:
    """The client certificate, key and pinned server certificate of `security`; None without
    a policy. Every problem of the files is a ConfigError naming the setting."""
    if security.policy == "none":
        return None
    assert security.certificate is not None and security.private_key is not None  # the settings check this
    certificate = pki.read_certificate(security.certificate, f"{SETTING}.certificate")
    key = pki.read_private_key(
        security.private_key, f"{SETTING}.private_key", security.private_key_password, f"{SETTING}.private_key_password"
    )
    pki.rsa_key(key, f"{SETTING}.private_key", security.private_key, f"policy {security.policy} signs with RSA")
    pki.check_key_pair(certificate, key, f"{SETTING}.certificate", f"{SETTING}.private_key")
    uris = pki.uris(certificate)
    if not uris:
        raise ConfigError(
            f"{SETTING}.certificate {security.certificate} has no URI in its subjectAltName",
            hint="OPC UA servers reject a client certificate without its application URI "
            "(e.g. URI:urn:vac:scada-01) in subjectAltName",
        )
    pinned = None
    if security.server_certificate is not None:
        pinned = pki.read_certificate(security.server_certificate, f"{SETTING}.server_certificate")
    return ClientIdentity(
        certificate.public_bytes(serialization.Encoding.DER),
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        uris[0],
        pinned.public_bytes(serialization.Encoding.DER) if pinned is not None else None,
    )


def _offered(endpoints: list[ua.EndpointDescription]) -> str:
    names = {
        f"{endpoint.SecurityPolicyUri.rpartition('#')[2]}/{endpoint.SecurityMode.name.rstrip('_')}"
        for endpoint in endpoints
    }
    return ", ".join(sorted(names)) or "nothing"


class OpcUaSource:
    def __init__(
        self,
        url: str,
        dpes: list[Dpe],
        node_id_template: str,
        publishing_ms: int,
        timeout_s: float,
        security: OpcUaSecurity | None = None,
    ) -> None:
        self.endpoint = "opc.tcp://" + url.removeprefix("opcua://")
        self.node_ids = {node_id_template.format(dpe=dpe.name): dpe.name for dpe in dpes}
        self.publishing_ms = publishing_ms
        self.timeout_s = timeout_s
        self.security = security or OpcUaSecurity()
        self.identity = load_identity(self.security)  # before any thread: a bad file is a config error
        self.bad_input = BadInput()
        self.changes = ChangeQueue()
        self.subscribed = threading.Event()
        # vac says what failed in its own one line. asyncua's warnings would come before it, as
        # noise: the fault it is about to raise, the session timeout the server shortened, a DNS
        # name missing from vac's certificate (vac checks what servers need itself).
        logging.getLogger("asyncua").setLevel(logging.ERROR)

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        stop = threading.Event()
        worker = threading.Thread(target=lambda: asyncio.run(self._run(stop)), name="vac-opcua", daemon=True)
        worker.start()
        try:
            yield from self.changes.batches(cancelled)
        finally:
            stop.set()
            worker.join(timeout=10)

    async def _run(self, stop: threading.Event) -> None:
        try:
            client = await self._client()
            async with client:
                subscription = await client.create_subscription(self.publishing_ms, self)
                nodes = [client.get_node(node_id) for node_id in self.node_ids]
                for start in range(0, len(nodes), SUBSCRIBE_CHUNK):
                    chunk = nodes[start : start + SUBSCRIBE_CHUNK]
                    results = await subscription.subscribe_data_change(chunk)
                    for node, result in zip(chunk, results, strict=True):
                        if isinstance(result, ua.StatusCode) and not result.is_good():
                            self.bad_input.add("unknown OPC UA node", f"{node.nodeid.to_string()}: {result.name}")
                self.subscribed.set()
                while not stop.is_set():
                    await asyncio.sleep(0.1)
        except VacError as exc:
            self.changes.failure = exc
        except UaStatusCodeError as exc:
            self.changes.failure = self._refused(exc)
        except (TimeoutError, OSError, UaError) as exc:
            self.changes.failure = SourceUnavailable(
                f"OPC UA server {self.endpoint} failed: {exc or type(exc).__name__}",
                hint="check the host, port and path in --source opcua://HOST:PORT/PATH",
            )

    async def _client(self) -> Client:
        """A client set up as `scada.opcua_security` says, once the server is known to offer
        that security (its endpoints are read over an unsecured channel, as OPC UA intends)."""
        client = Client(self.endpoint, timeout=self.timeout_s)
        policy = POLICIES[self.security.policy]
        mode = MODES[self.security.mode if self.identity is not None else "none"]
        endpoints = await client.connect_and_get_server_endpoints()
        chosen = next(
            (e for e in endpoints if e.SecurityPolicyUri == policy.URI and e.SecurityMode == mode),
            None,
        )
        if chosen is None and self.identity is None:
            raise ConfigError(
                f"OPC UA server {self.endpoint} requires security: it offers only {_offered(endpoints)}",
                hint=f"set {SETTING}.policy, mode, certificate and private_key (a client certificate it trusts)",
            )
        if chosen is None:
            raise ConfigError(
                f"OPC UA server {self.endpoint} does not offer {self.security.policy}/{self.security.mode}; "
                f"it offers {_offered(endpoints)}",
                hint=f"set {SETTING}.policy and mode to one it offers",
            )
        if self.identity is not None:
            announced = _leaf_certificate(chosen.ServerCertificate)
            if announced is None:
                raise SourceUnavailable(
                    f"OPC UA server {self.endpoint} announces no usable certificate for {policy.URI}",
                    hint="see the server's log and its PKI configuration",
                )
            server_der = announced.public_bytes(serialization.Encoding.DER)
            if self.identity.server_certificate_der not in (None, server_der):
                raise PermissionDenied(
                    f"OPC UA server {self.endpoint} presents a certificate ({_subject(announced)}) that is not "
                    f"{SETTING}.server_certificate {self.security.server_certificate}",
                    hint="another server answers at this address, or its certificate was renewed: "
                    "check with the server's administrator before pinning the new one",
                )
            client.application_uri = self.identity.application_uri
            await client.set_security(
                policy,
                uacrypto.CertProperties(self.identity.certificate_der, "der"),
                uacrypto.CertProperties(self.identity.key_der, "der"),
                server_certificate=uacrypto.CertProperties(server_der, "der"),
                mode=mode,
            )
        if self.security.username is not None and self.security.password is not None:
            client.set_user(self.security.username)
            client.set_password(self.security.password.get_secret_value())
        return client

    def _refused(self, exc: UaStatusCodeError) -> VacError:
        """A status the server answered with, as what it means for the operator."""
        name = type(exc).__name__
        user = self.security.username
        where = f"OPC UA server {self.endpoint}"
        certificate = f"vac's client certificate {self.security.certificate}"
        if name == "BadUserAccessDenied":
            return PermissionDenied(
                f"{where} refused user {printable(user or '')!r}: wrong user name or password ({name})"
                if user
                else f"{where} refused an anonymous session ({name})",
                hint=f"check {SETTING}.username and password (or password_file)",
            )
        if name in ("BadIdentityTokenRejected", "BadIdentityTokenInvalid"):
            if user is None:
                return PermissionDenied(
                    f"{where} does not accept anonymous sessions ({name})",
                    hint=f"set {SETTING}.username and password (or password_file)",
                )
            return PermissionDenied(
                f"{where} rejected the login of user {printable(user)!r} ({name})",
                hint="the server may want another kind of login (a certificate) or the user may be disabled",
            )
        trust = (
            "have its administrator trust the certificate or its CA (WinCC OA: the trusted folder of the server's PKI)"
        )
        if name == "BadCertificateUntrusted":
            return PermissionDenied(f"{where} does not trust {certificate} ({name})", hint=trust)
        if name == "BadSecurityChecksFailed":  # what many servers say instead of naming the reason
            return PermissionDenied(
                f"{where} refused the secure channel with {certificate} ({name})",
                hint=f"the server's log says why; most often: {trust}",
            )
        if name.startswith("BadCertificate"):
            return PermissionDenied(
                f"{where} rejected {certificate} ({name})",
                hint="check that it is valid now, is for client use, and carries the application URI",
            )
        return SourceUnavailable(f"{where} failed: {name}", hint="see the server's log for why")

    # asyncua calls this on its loop for every data change (the subscription handler).
    def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
        name = self.node_ids.get(node.nodeid.to_string())
        if name is None:
            return
        data_value = data.monitored_item.Value
        source = data_value.SourceTimestamp or data_value.ServerTimestamp
        if source is not None and source.tzinfo is None:
            source = source.replace(tzinfo=UTC)  # asyncua gives naive UTC times
        source_us = int(source.timestamp() * 1_000_000) if source else now_us()
        if source_us not in SOURCE_US_RANGE:  # OPC UA times start in 1601; Kafka's in 1970
            self.bad_input.add("source time out of range", f"{name} at {source}")
            return
        good = data_value.StatusCode is None or data_value.StatusCode.is_good()
        self.changes.put(Change(name, value, source_us, status_bits.ACTIVE if good else INVALID))

    def status_change_notification(self, status: Any) -> None:
        self.changes.failure = SourceUnavailable(f"OPC UA subscription ended: {status}")


def _subject(certificate: x509.Certificate) -> str:
    return printable(certificate.subject.rfc4514_string(), limit=200)


def _leaf_certificate(der: bytes | None) -> x509.Certificate | None:
    """The first certificate of the DER chain a server announces (its own, then its CAs')."""
    if not der or len(der) < 4 or der[0] != 0x30:
        return None
    # One ASN.1 SEQUENCE: a length below 128 in the byte after the tag, else that many length bytes.
    size_bytes = der[1] & 0x7F if der[1] & 0x80 else 0
    length = int.from_bytes(der[2 : 2 + size_bytes], "big") if size_bytes else der[1]
    try:
        return x509.load_der_x509_certificate(der[: 2 + size_bytes + length])
    except ValueError:
        return None
