"""Changes from MQTT (`mqtt://host:port/topic-filter`, `mqtts://` over TLS): the JSON payloads
of the WinCC OA MQTT publisher (`value`, `stime`, `status`). The DPE is the payload's `dpe`/`id`,
else the last level of the MQTT topic. paho-mqtt runs its network loop on its own thread.

TLS and login come from `scada.mqtt_security`. paho reconnects by itself when the broker goes
away, but a refused login would be retried forever without a word: a CONNACK that refuses ends
the run with an error, and so does a broker that accepts no connection in time."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Iterator

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from vac.errors import ConfigError, PermissionDenied, SourceUnavailable, UsageError, VacError
from vac.printable import printable
from vac.records.badinput import BadInput
from vac.records.change import Change
from vac.settings import MqttSecurity
from vac.sources import pki
from vac.sources.jsonlines import parse_record
from vac.sources.queued import ChangeQueue

log = logging.getLogger("vac.mqtt")
SETTING = "scada.mqtt_security"
# CONNACK reasons of a refused login: MQTT 5 codes; paho maps MQTT 3.1.1's 4 and 5 to them.
BAD_LOGIN = {134, 135}  # Bad user name or password, Not authorized


def tls_context(security: MqttSecurity) -> ssl.SSLContext:
    """Verify the broker against `ca_file` (else the system's CAs); present a client
    certificate when one is set. Bad files are config errors naming the setting."""
    if security.ca_file is not None:
        pki.read_certificate(security.ca_file, f"{SETTING}.ca_file")  # a clear error for a file that is none
    try:
        context = ssl.create_default_context(cafile=str(security.ca_file) if security.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{SETTING}.ca_file {security.ca_file} cannot be used: {exc}") from None
    if security.cert_file is not None and security.key_file is not None:
        certificate = pki.read_certificate(security.cert_file, f"{SETTING}.cert_file")
        key = pki.read_private_key(
            security.key_file, f"{SETTING}.key_file", security.key_password, f"{SETTING}.key_password"
        )
        pki.check_key_pair(certificate, key, f"{SETTING}.cert_file", f"{SETTING}.key_file")
        password = security.key_password.get_secret_value() if security.key_password else None
        try:
            context.load_cert_chain(str(security.cert_file), str(security.key_file), password)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{SETTING}.cert_file {security.cert_file} cannot be used: {exc}") from None
    return context


class MqttSource:
    def __init__(self, url: str, security: MqttSecurity | None = None, timeout_s: float = 10.0) -> None:
        self.security = security or MqttSecurity()
        self.tls = url.startswith("mqtts://") or self.security.tls
        # Not urlsplit: `#`, the MQTT multi-level wildcard, would be taken for a URL fragment.
        address, _, topic_filter = url.removeprefix("mqtts://").removeprefix("mqtt://").partition("/")
        default_port = "8883" if self.tls else "1883"
        host, _, port = address.rpartition(":") if ":" in address else (address, "", default_port)
        if not host or not port.isdigit() or not topic_filter:
            raise UsageError(f"--source {url}: give a broker and a topic filter, e.g. mqtt://broker:1883/vacuum/#")
        self.host, self.port, self.topic_filter = host, int(port), topic_filter
        self.timeout_s = timeout_s
        self.bad_input = BadInput()
        self.changes = ChangeQueue()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"vac-stream-{id(self):x}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        if self.tls:
            self.client.tls_set_context(tls_context(self.security))
        elif self.security.ca_file or self.security.cert_file:
            raise ConfigError(
                f"{SETTING} names TLS files but TLS is off for --source {url}",
                hint=f"use mqtts://, or set {SETTING}.tls: true",
            )
        if self.security.username is not None and self.security.password is not None:
            if not self.tls:
                log.warning("the MQTT password goes to %s:%s unencrypted: use mqtts://", host, port)
            self.client.username_pw_set(self.security.username, self.security.password.get_secret_value())

    @property
    def where(self) -> str:
        return f"MQTT broker {self.host}:{self.port}"

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        if reason.is_failure:
            self.changes.failure = self._refused(reason)
            client.disconnect()  # no retrying a refused login
            return
        client.subscribe(self.topic_filter, qos=1)  # again after every reconnect
        self.connected.set()

    def _refused(self, reason: ReasonCode) -> VacError:
        user = self.security.username
        if reason.value in BAD_LOGIN:
            if user is None:
                return PermissionDenied(
                    f"{self.where} refused an anonymous connection: {reason}",
                    hint=f"set {SETTING}.username and password (or password_file)",
                )
            return PermissionDenied(
                f"{self.where} refused user {printable(user)!r}: {reason} (wrong user name or password?)",
                hint=f"check {SETTING}.username and password (or password_file), and the broker's ACL",
            )
        return SourceUnavailable(f"{self.where} refused the connection: {reason}")

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            record = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            self.bad_input.add("invalid JSON payload", message.payload[:200].decode("utf-8", "replace"))
            return
        dpe = message.topic.rsplit("/", 1)[-1]
        change = parse_record(record, bytes(message.payload), self.bad_input, default_dpe=dpe)
        if change is not None:
            self.changes.put(change)

    def _connect(self) -> None:
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except ssl.SSLCertVerificationError as exc:
            against = f"{SETTING}.ca_file {self.security.ca_file}" if self.security.ca_file else "the system's CAs"
            raise SourceUnavailable(
                f"{self.where}: its TLS certificate does not verify against {against}: {exc.verify_message}",
                hint=f"set {SETTING}.ca_file to the CA that signed the broker's certificate, and connect "
                "by a name the certificate carries",
            ) from None
        except ssl.SSLError as exc:
            raise SourceUnavailable(
                f"{self.where}: the TLS handshake failed: {exc.reason or exc}",
                hint="check that the port speaks TLS (mqtts://, usually 8883) and that the broker accepts "
                f"vac's client certificate ({SETTING}.cert_file) if it asks for one",
            ) from None
        except OSError as exc:
            raise SourceUnavailable(
                f"{self.where} is unreachable: {exc.strerror or exc}",
                hint="check the host and port in --source mqtt://HOST:PORT/FILTER",
            ) from None

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        self._connect()
        self.client.loop_start()  # reconnects by itself when the broker goes away
        deadline = time.monotonic() + self.timeout_s
        try:
            for batch in self.changes.batches(cancelled):
                if not self.connected.is_set() and time.monotonic() > deadline:
                    raise SourceUnavailable(
                        f"{self.where} accepted no MQTT connection within {self.timeout_s:g} s",
                        hint="if the broker wants TLS on this port, use mqtts:// (or "
                        f"{SETTING}.tls: true); else see the broker's log",
                    )
                yield batch
        finally:
            self.client.loop_stop()
            self.client.disconnect()
