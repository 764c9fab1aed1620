"""Where the shipper delivers records: Kafka (the default), Elasticsearch directly, or stdout.

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
from typing import TYPE_CHECKING, Protocol

from confluent_kafka import KafkaError, Message, Producer

from vac.kafka.client import client_config, new_client, quiet_logger
from vac.settings import VacSettings

if TYPE_CHECKING:
    from vac.es.bulk import BulkBatch

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

    def __init__(self, settings: VacSettings, on_ack: AckCallback, on_fail: FailCallback, cancelled: threading.Event):
        self._on_ack, self._on_fail, self._cancelled = on_ack, on_fail, cancelled
        config = client_config(
            settings.kafka, logger=quiet_logger(), on_delivery=self._delivered, **LOG_PRODUCER_TUNING
        )
        self.producer = new_client(Producer, config)

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key)  # positional: keywords cost 0.3 us a call
                return
            except BufferError:  # Kafka is slow or away: stop reading until it drains
                self.producer.poll(0.1)
                if self._cancelled.is_set():
                    raise SinkCancelled from None

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        key = message.key() or b""
        if error is None:
            self._on_ack(key)
        else:
            self._on_fail(key, error.str())

    def poll(self, timeout_s: float = 0) -> None:
        self.producer.poll(timeout_s)

    def flush(self, timeout_s: float) -> int:
        return int(self.producer.flush(timeout_s))

    def publish_health(self, topic: str, key: bytes, value: bytes) -> None:
        with contextlib.suppress(BufferError):  # a full queue already says Kafka is behind
            self.producer.produce(topic, value=value, key=key, on_delivery=_ignore)

    def close(self) -> None:
        pass


def _ignore(_error: KafkaError | None, _message: Message) -> None:
    pass


class ElasticsearchSink:
    """Direct to Elasticsearch (small setups), batched by the indexer's rule (`index.batch_*`).
    Documents Elasticsearch rejects for good are reported and counted."""

    needs_index = True

    def __init__(self, settings: VacSettings, on_ack: AckCallback, on_reject: FailCallback, cancelled: threading.Event):
        self._on_ack, self._on_reject, self._cancelled = on_ack, on_reject, cancelled
        # Elasticsearch's client is imported by this sink only: it costs every shipper 0.15 s.
        from vac.es.bulk import BulkBatch, BulkItem
        from vac.es.client import make_client

        self._item = BulkItem
        self.client = make_client(settings.elasticsearch)
        index = settings.index
        self._batch: BulkBatch[bytes] = BulkBatch(index.batch_docs, int(index.batch_mb * (1 << 20)), index.batch_s)

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        self._batch.add(key, self._item(index, doc_id, value))
        if self._batch.is_due():
            self._send_batch()

    def poll(self, timeout_s: float = 0) -> None:
        if self._batch.is_due():
            self._send_batch()
        elif timeout_s:
            time.sleep(timeout_s)

    def _send_batch(self) -> None:
        from vac.es.bulk import BulkCancelled, bulk_index

        batch = self._batch.take()
        try:
            outcome = bulk_index(self.client, batch.items, self._cancelled)
        except BulkCancelled:
            raise SinkCancelled from None
        rejected = {id(item): reason for item, reason in outcome.rejected}
        for item, key in zip(batch.items, batch.sources, strict=True):
            if id(item) in rejected:
                self._on_reject(key, rejected[id(item)])
            self._on_ack(key)  # rejected for good: reported, and not sent again

    def flush(self, timeout_s: float) -> int:
        pending = len(self._batch)
        if pending:
            try:
                self._send_batch()
            except SinkCancelled:
                return pending
        return 0

    def publish_health(self, topic: str, key: bytes, value: bytes) -> None:
        pass

    def close(self) -> None:
        self.client.close()


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
