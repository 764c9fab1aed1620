"""What every vac producer shares: the wait for room in librdkafka's queue, and the one place
where a producer that librdkafka stopped for good becomes a VacError.

An idempotent producer refused by the brokers (no WRITE on the topic, no IDEMPOTENT_WRITE,
a fenced producer id) enters librdkafka's fatal state: `poll` and `flush` raise the cause
once, every later `produce` raises `_FATAL`, and what is queued is purged, never delivered.
Nothing more can be sent through it, so the job stops with that cause, and no offset passes
what was not acknowledged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from vac.errors import KafkaUnavailable, PermissionDenied, VacError
from vac.kafka.client import client_config, new_client, quiet_logger
from vac.settings import KafkaSettings

FULL_QUEUE_POLL_S = 0.05
"""How long a producer whose queue is full serves delivery reports before trying again."""

_AUTHORIZATION = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    }
)


class Stopped(Exception):
    """`produce_when_room` gave up because the job was cancelled while Kafka was full."""


class VacProducer:
    """A librdkafka Producer whose `poll`, `flush` and `produce_when_room` raise a VacError
    once librdkafka has stopped it for good. The hot paths call `producer.produce` directly
    and hand what it raises to `stopped_error`."""

    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        self.kafka = kafka
        self.config = client_config(kafka, logger=quiet_logger(), **overrides)
        self.producer: Producer = new_client(Producer, self.config)

    def stopped_error(self, exc: KafkaException) -> VacError | None:
        """The VacError to stop with if `exc` says the producer can send nothing more, else
        None (a refusal of one message, such as one too large, is the caller's to count)."""
        error = exc.args[0] if exc.args else None
        if not isinstance(error, KafkaError):
            return None
        if error.code() == KafkaError._FATAL:  # `produce` after the fact: `poll` names the cause
            try:
                self.producer.poll(0)
            except KafkaException as cause:
                if cause.args and isinstance(cause.args[0], KafkaError):
                    error = cause.args[0]
        elif not error.fatal():
            return None
        return producer_stopped(self.kafka, error)

    def poll(self, timeout_s: float = 0) -> int:
        try:
            return int(self.producer.poll(timeout_s))
        except KafkaException as exc:
            raise self.stopped_error(exc) or exc from None
        except SystemError as exc:
            raise self._cause_of(exc) from None

    def flush(self, timeout_s: float) -> int:
        """Deliver what is in flight; return how many messages are still unacknowledged."""
        try:
            return int(self.producer.flush(timeout_s))
        except KafkaException as exc:
            raise self.stopped_error(exc) or exc from None
        except SystemError as exc:
            raise self._cause_of(exc) from None

    def _cause_of(self, exc: SystemError) -> BaseException:
        """When librdkafka stops a producer that still holds messages, confluent-kafka raises
        the fatal error and then calls the delivery callbacks of the purged messages with that
        error pending: the first one fails with a SystemError caused by it. The cause is what
        stopped the producer."""
        cause = exc.__cause__
        if isinstance(cause, KafkaException):
            return self.stopped_error(cause) or cause
        return exc

    def produce_when_room(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        *,
        timestamp_ms: int = 0,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        on_delivery: Callable[[KafkaError | None, Message], None] | None = None,
        cancelled: threading.Event | None = None,
    ) -> None:
        """`produce`, serving delivery reports while the queue is full (Kafka is slow or
        away: the caller waits, nothing is dropped). KafkaException for a refused message,
        a VacError once the producer is stopped for good, Stopped if `cancelled` is set."""
        extra: dict[str, Any] = {"timestamp": timestamp_ms}
        if headers is not None:
            extra["headers"] = headers
        if on_delivery is not None:
            extra["on_delivery"] = on_delivery
        while True:
            try:
                self.producer.produce(topic, value, key, **extra)
                return
            except BufferError:
                if cancelled is not None and cancelled.is_set():
                    raise Stopped from None
                self.poll(FULL_QUEUE_POLL_S)
            except KafkaException as exc:
                raise self.stopped_error(exc) or exc from None


def producer_stopped(kafka: KafkaSettings, error: KafkaError) -> VacError:
    if error.code() in _AUTHORIZATION:
        return PermissionDenied(
            f"Kafka at {kafka.bootstrap_servers} refused to let vac write: {error.str()}",
            hint="the principal needs WRITE and DESCRIBE on the topics (vac's producers are idempotent)",
        )
    return KafkaUnavailable(
        f"the Kafka producer stopped for good: {error.str()}",
        hint="see the brokers' logs; what was not acknowledged was not counted as delivered",
    )
