"""librdkafka configuration from vac's settings, and a cluster probe.

All Kafka clients vac creates start from `client_config`, so security settings and extra
librdkafka properties apply everywhere the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, ClusterMetadata  # type: ignore[attr-defined]

from vac.errors import ConfigError, KafkaUnavailable, PermissionDenied
from vac.settings import KafkaSettings

# What vac's promises rest on: no record lost or doubled (idempotence, acks, the shipper's
# delivery that waits out any outage), offsets committed by vac alone after the work is done,
# each command's own consumer group, the end-of-partition events its readers count on. A
# command's setting of these stands over `kafka.properties`, which all commands share.
GUARANTEED = frozenset(
    {
        "enable.idempotence",
        "acks",
        "message.timeout.ms",
        "enable.auto.commit",
        "enable.auto.offset.store",
        "group.id",
        "enable.partition.eof",
    }
)
log = logging.getLogger("vac.kafka")
_ignored_told: set[str] = set()


def client_config(kafka: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """The librdkafka properties for `kafka`: the security settings, a command's `overrides`
    (its tuning, callbacks and guarantees), then `kafka.properties`, which wins over the tuning
    (an operator's `linger.ms` or `compression.type` is obeyed) but not over the guarantees or
    callbacks."""
    security = kafka.security
    config: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "client.id": kafka.client_id,
        "security.protocol": security.protocol,
    }
    optional = {
        "sasl.mechanism": security.sasl_mechanism,
        "sasl.username": security.username,
        "sasl.password": security.password.get_secret_value() if security.password else None,
        "ssl.ca.location": security.ca_file,
        "ssl.certificate.location": security.cert_file,
        "ssl.key.location": security.key_file,
        "ssl.key.password": security.key_password.get_secret_value() if security.key_password else None,
    }
    if security.sasl_mechanism == "GSSAPI":
        optional |= {
            "sasl.kerberos.service.name": security.kerberos_service_name,
            "sasl.kerberos.principal": security.kerberos_principal,
            "sasl.kerberos.keytab": security.kerberos_keytab,
        }
        if security.kerberos_keytab is None:
            # librdkafka's own kinit command needs a keytab. Without one the ticket cache is
            # used as the operator's kinit left it: the refresh only checks it is still valid.
            optional["sasl.kerberos.kinit.cmd"] = "klist -s"
    config |= {key: str(value) for key, value in optional.items() if value is not None}
    config |= overrides
    for key, value in kafka.properties.items():
        if key in overrides and (key in GUARANTEED or not isinstance(overrides[key], str | int | float | bool)):
            if key not in _ignored_told:  # once per process, not once per client
                _ignored_told.add(key)
                log.warning("kafka.properties %s=%s is not used: vac needs %s=%s here", key, value, key, overrides[key])
            continue
        config[key] = value
    return config


ClientT = TypeVar("ClientT")


class ClientErrors:
    """The `error_cb` of a client: keeps the first authentication and TLS failures librdkafka
    reports. A metadata request with bad credentials or an untrusted broker certificate only
    times out; this says why."""

    def __init__(self) -> None:
        self.authentication: KafkaError | None = None
        self.tls: KafkaError | None = None

    def __call__(self, error: KafkaError) -> None:
        if error.code() == KafkaError._AUTHENTICATION and self.authentication is None:
            self.authentication = error
        elif error.code() == KafkaError._SSL and self.tls is None:
            self.tls = error


def new_client(factory: Callable[[dict[str, Any]], ClientT], config: dict[str, Any]) -> ClientT:
    """Create a librdkafka client, turning a configuration it refuses (an unknown property,
    a SASL mechanism this build lacks) into a ConfigError."""
    try:
        return factory(config)
    except KafkaException as exc:
        raise ConfigError(
            f"librdkafka refused the Kafka client configuration: {exc.args[0].str()}",
            hint="check the kafka section (security, properties) and any -X flags; `vac doctor` checks SASL support",
        ) from None


def _raise_if_refused(connection: Connection) -> None:
    """After a failed request: raise PermissionDenied if the brokers refused our credentials,
    KafkaUnavailable naming the cause if TLS with them failed."""
    connection.client.poll(0)  # error callbacks are served by poll
    refused = connection.errors.authentication
    if refused is not None:
        raise PermissionDenied(
            f"Kafka at {connection.kafka.bootstrap_servers} refused the credentials: {refused.str()}",
            hint=credentials_hint(connection.kafka, refused.str()),
        )
    tls = connection.errors.tls
    if tls is not None:
        raise KafkaUnavailable(
            f"TLS with Kafka at {connection.kafka.bootstrap_servers} failed: {tls.str()}",
            hint="check kafka.security.ca_file (the CA that signed the brokers' certificates) and that "
            "bootstrap_servers names the hosts their certificates name",
        )


def credentials_hint(kafka: KafkaSettings, reason: str) -> str:
    """What to check after the brokers refused vac's credentials with `reason`."""
    security = kafka.security
    if security.sasl_mechanism != "GSSAPI":
        return "check kafka.security (user, password, certificate)"
    if "Ticket expired" in reason or "No Kerberos credentials" in reason:
        source = "the keytab" if security.kerberos_keytab else "the ticket cache (KRB5CCNAME)"
        return f"the Kerberos ticket from {source} is missing or expired: run kinit, or set kerberos_keytab"
    return "check kafka.security.kerberos_principal and kerberos_keytab (`vac doctor` lists the keytab's principals)"


def connect(factory: type[AdminClient] | type[Consumer], kafka: KafkaSettings, **overrides: Any) -> Connection:
    """A client for `kafka` whose authentication failures are kept for `cluster_metadata`."""
    errors = ClientErrors()
    client = new_client(factory, client_config(kafka, logger=quiet_logger(), error_cb=errors, **overrides))
    return Connection(client, kafka, errors)


@dataclass(frozen=True)
class Connection:
    client: Any
    """An AdminClient or a Consumer."""
    kafka: KafkaSettings
    errors: ClientErrors


def cluster_metadata(
    connection: Connection, topic: str | None = None, timeout_s: float | None = None
) -> ClusterMetadata:
    """The cluster's (or one topic's) metadata; KafkaUnavailable if it does not come within
    the timeout, PermissionDenied if the brokers refused the credentials."""
    kafka = connection.kafka
    timeout = kafka.timeout_s if timeout_s is None else timeout_s
    try:
        metadata: ClusterMetadata = connection.client.list_topics(topic, timeout=timeout)
        return metadata
    except KafkaException as exc:
        _raise_if_refused(connection)
        raise KafkaUnavailable(
            f"Kafka at {kafka.bootstrap_servers} did not answer within {timeout:g} s ({exc.args[0].str()})",
            hint="check kafka.bootstrap_servers and that the brokers run (`vac local up` starts the local stack)",
        ) from None


@dataclass(frozen=True)
class KafkaClusterInfo:
    cluster_id: str | None
    brokers: dict[int, str]
    """Broker id -> host:port as the cluster advertises it."""
    topics: int


def probe_cluster(kafka: KafkaSettings, timeout_s: float | None = None) -> KafkaClusterInfo:
    """Ask the cluster for its metadata; raise KafkaUnavailable if it does not answer in time."""
    metadata = cluster_metadata(connect(AdminClient, kafka), timeout_s=timeout_s)
    brokers = {broker.id: f"{broker.host}:{broker.port}" for broker in metadata.brokers.values()}
    return KafkaClusterInfo(cluster_id=metadata.cluster_id, brokers=brokers, topics=len(metadata.topics))


def quiet_logger() -> logging.Logger:
    """librdkafka logs every refused connection to stderr; probes report a failure once
    themselves, so their clients log to a logger that drops everything."""
    logger = logging.getLogger("vac.librdkafka")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


def sasl_support(mechanism: str) -> str | None:
    """None if the installed librdkafka can do SASL `mechanism`, else librdkafka's reason.

    The pip wheels of confluent-kafka are built without Cyrus SASL, so GSSAPI (Kerberos,
    which the production cluster needs) fails here, at client creation, before any network.
    """
    config: dict[str, Any] = {
        "bootstrap.servers": "127.0.0.1:9",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.username": "probe",
        "sasl.password": "probe",
    }
    if mechanism == "GSSAPI":
        del config["sasl.username"], config["sasl.password"]
        config["sasl.kerberos.kinit.cmd"] = "true"  # a probe never runs kinit
    try:
        AdminClient(config | {"logger": quiet_logger()})
    except KafkaException as exc:
        return str(exc.args[0].str())
    return None


_LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._TIMED_OUT,
        KafkaError.REQUEST_TIMED_OUT,
    }
)


def watermarks(consumer: Consumer, partition: TopicPartition, timeout_s: float) -> tuple[int, int]:
    """A partition's (low, high) offsets, asked again while its leader is moving (a topic just
    created, a broker just restarted) until `timeout_s` has passed; KafkaUnavailable then."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            low, high = consumer.get_watermark_offsets(partition, timeout=max(0.5, deadline - time.monotonic()))
            return int(low), int(high)
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() not in _LEADER_MOVING or time.monotonic() >= deadline:
                raise KafkaUnavailable(
                    f"the offsets of {partition.topic} [{partition.partition}] could not be read: {error.str()}",
                    hint="check that the brokers run and the partition has a leader (`vac topics describe`)",
                ) from None
            time.sleep(0.2)


def take_available(consumer: Consumer, max_messages: int, timeout_s: float) -> list[Message]:
    """Wait up to `timeout_s` for one message, then take what else is already there, up to
    `max_messages`. `consume(n, timeout)` alone holds what arrived until n are there or the
    timeout passes: at a low rate every message would wait the whole timeout."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(max_messages - 1, 0)] if max_messages > 1 else [first]
