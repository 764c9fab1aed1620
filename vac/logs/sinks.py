"""Where the shipper delivers records: Kafka (the default), Elasticsearch directly
(`vac.logs.es_sink`, apart so that Elasticsearch's client loads only for it), or stdout.

Each sink calls `on_ack(key)` once per record, in the order the records of that key were
sent, when the record is safe (Kafka acknowledged it with acks=all, Elasticsearch indexed it,
stdout was flushed). `send` blocks while the sink cannot take more (backpressure) and raises
`SinkCancelled` when asked to stop meanwhile.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from confluent_kafka import KafkaError, KafkaException, Message

from vac.errors import ConfigError
from vac.kafka.client import client_config
from vac.kafka.producing import Stopped, VacProducer
from vac.settings import VacSettings

AckCallback = Callable[[bytes], None]
FailCallback = Callable[[bytes, str], None]

# Records of one file must not be lost or reordered: idempotence, acks=all, and no delivery
# timeout (message.timeout.ms=0: retry until the brokers are back). The bounded queue is the
# backpressure: when it is full the shipper stops reading.
LOG_PRODUCER_TUNING = {
    "enable.idempotence": True,
    "acks": "all",
    "message.timeout.ms": 0,
    "linger.ms": 20,
    "batch.num.messages": 10_000,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 100_000,
    "queue.buffering.max.kbytes": 32_768,
}


PRODUCER_MESSAGE_MAX_BYTES = 1_000_000
"""librdkafka's default `message.max.bytes`: a larger message is refused when produced."""
DOCUMENT_OVERHEAD = 64 * 1024
"""Room for a document's fields besides its text (origin, time, tags, escapes)."""
MIN_MESSAGE_MAX_BYTES = 2 * DOCUMENT_OVERHEAD
"""The smallest `message.max.bytes` vac ships with: a cut document keeps its fields and up to
the rest of this room for its message."""


class SinkCancelled(Exception):
    pass


class Sink(Protocol):
    needs_index: bool
    """Whether `send` uses the index name (only Elasticsearch does; it costs per record)."""

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None: ...

    def poll(self, timeout_s: float = 0) -> None: ...

    def flush(self, timeout_s: float) -> int:
        """Deliver what is in flight; return how many records are still not acknowledged."""
        ...

    def publish_health(self, topic: str, key: bytes, value: bytes) -> None: ...

    def close(self) -> None: ...


class KafkaSink:
    needs_index = False

    def __init__(
        self,
        settings: VacSettings,
        on_ack: AckCallback,
        on_fail: FailCallback,
        cancelled: threading.Event,
        on_too_large: FailCallback | None = None,
        on_refused: FailCallback | None = None,
    ):
        self._on_ack, self._on_fail, self._cancelled = on_ack, on_fail, cancelled
        self._on_too_large = on_too_large
        self._on_refused = on_refused or on_fail
        """Told of a record `send` gives up on, at once (`on_fail` hears of it after it left)."""
        self._out = VacProducer(settings.kafka, on_delivery=self._delivered, **LOG_PRODUCER_TUNING)
        self.message_max_bytes = record_limit(self._out.config, settings.logs.max_record_bytes)
        self.producer = self._out.producer

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        cut = False
        while True:
            try:
                try:
                    self.producer.produce(topic, value, key)  # positional: keywords cost 0.3 us a call
                except BufferError:  # Kafka is slow or away: stop reading until it drains
                    self._out.produce_when_room(topic, value, key, cancelled=self._cancelled)
                return
            except Stopped:
                raise SinkCancelled from None
            except KafkaException as exc:
                stopped = self._out.stopped_error(exc)
                if stopped is not None:
                    raise stopped from None
                if exc.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                    raise
                if cut:
                    # Its other fields alone are too large: no smaller form of it is left. Not
                    # delivered, so its file's offset must never pass it.
                    self._on_refused(
                        key,
                        f"a document of {len(value):,} bytes is too large for Kafka even cut "
                        f"(message.max.bytes {self.message_max_bytes:,})",
                    )
                    return
                # A document the cap let through (escapes can swell it up to sixfold): sent
                # cut, tagged, in its place, so its file's acknowledgements stay in order.
                if self._on_too_large is not None:
                    self._on_too_large(key, f"a document of {len(value):,} bytes")
                value = cut_document(value, self.message_max_bytes - DOCUMENT_OVERHEAD)
                cut = True

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        key = message.key() or b""
        if error is None:
            self._on_ack(key)
        else:
            self._on_fail(key, error.str())

    def poll(self, timeout_s: float = 0) -> None:
        self._out.poll(timeout_s)

    def flush(self, timeout_s: float) -> int:
        return self._out.flush(timeout_s)

    def publish_health(self, topic: str, key: bytes, value: bytes) -> None:
        # A full queue already says Kafka is behind; a stopped producer is the shipper's to report.
        with contextlib.suppress(BufferError, KafkaException):
            self.producer.produce(topic, value=value, key=key, on_delivery=_ignore)

    def close(self) -> None:
        pass


def _ignore(_error: KafkaError | None, _message: Message) -> None:
    pass


def message_max_bytes(config: dict[str, Any]) -> int:
    """The producer's `message.max.bytes` (`kafka.properties` may set it): a number, and room
    enough for a cut document."""
    value = config.get("message.max.bytes", PRODUCER_MESSAGE_MAX_BYTES)
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"kafka.properties message.max.bytes {value!r} is not a whole number of bytes",
            hint=f"set it to a number such as {PRODUCER_MESSAGE_MAX_BYTES}, or remove it",
        ) from None
    if limit < MIN_MESSAGE_MAX_BYTES:
        raise ConfigError(
            f"kafka.properties message.max.bytes {limit:,} is too small to ship logs: vac needs "
            f"at least {MIN_MESSAGE_MAX_BYTES:,}",
            hint=f"set message.max.bytes to at least {MIN_MESSAGE_MAX_BYTES}, or remove it",
        )
    return limit


def check_kafka_limits(settings: VacSettings) -> None:
    """What `KafkaSink` checks of the settings, before anything connects: a bad limit is a
    usage error, not a Kafka one."""
    record_limit(client_config(settings.kafka, **LOG_PRODUCER_TUNING), settings.logs.max_record_bytes)


def record_limit(config: dict[str, Any], max_record_bytes: int) -> int:
    """The producer's `message.max.bytes`, once `max_record_bytes` is known to fit in it."""
    limit = message_max_bytes(config)
    check_record_cap(max_record_bytes, limit)
    return limit


def check_record_cap(max_record_bytes: int, message_max_bytes: int) -> None:
    """Refuse a record cap whose documents Kafka would refuse: a record's text is in its
    document about twice (`message`, and `text` + `params`)."""
    largest = (message_max_bytes - DOCUMENT_OVERHEAD) // 2
    if max_record_bytes > largest:
        raise ConfigError(
            f"logs.max_record_bytes {max_record_bytes:,} is too large for Kafka's message limit "
            f"(message.max.bytes {message_max_bytes:,}): its records would be refused",
            hint=f"set logs.max_record_bytes to at most {largest:,}",
        )


def cut_document(value: bytes, limit: int) -> bytes:
    """A document made to fit `limit` bytes: its message cut, its parsed text dropped, tagged
    `too_large` (the record's offset range still says where the whole of it is)."""
    doc = orjson.loads(value)
    keep = max(0, limit // 8)  # a character may take up to 6 bytes escaped
    doc["message"] = str(doc.get("message", ""))[:keep]
    doc.pop("text", None)
    doc.pop("params", None)
    doc["tags"] = [*doc.get("tags", []), "too_large"]
    return orjson.dumps(doc)


class StdoutSink:
    """JSON lines on stdout; a record counts as delivered once the line is flushed."""

    needs_index = False

    def __init__(self, on_ack: AckCallback) -> None:
        self._on_ack = on_ack
        self._keys: list[bytes] = []

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        sys.stdout.buffer.write(value + b"\n")
        self._keys.append(key)
        if len(self._keys) >= 1000:
            self.flush(0)

    def poll(self, timeout_s: float = 0) -> None:
        self.flush(0)
        if timeout_s:
            time.sleep(timeout_s)

    def flush(self, timeout_s: float) -> int:
        if self._keys:
            sys.stdout.buffer.flush()
            keys, self._keys = self._keys, []
            for key in keys:
                self._on_ack(key)
        return 0

    def publish_health(self, topic: str, key: bytes, value: bytes) -> None:
        pass

    def close(self) -> None:
        pass
