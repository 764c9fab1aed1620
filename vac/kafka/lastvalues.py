"""Every DPE's last value, from the log-compacted last-value topic (`scada.last_topic`).

The streamer writes each change twice: to its changes topic (the history, kept by time) and to
the last-value topic, keyed by DPE name, which Kafka compacts down to the newest record per key.
Reading that topic from its beginning to the end it had when the read started gives every DPE
that ever streamed, silent ones included, in the time it takes to read a few records per DPE:
Kafka's own retention does the bookkeeping, no private file or database. Called by `vac scada
now` and by the dashboard at open.

Why the topic config below: compaction works only on closed segments, so segments are rolled
small and often (2 MiB of compressed batches, or 30 s) and cleaned as soon as a tenth of the log
is dirty; then a read at open goes through roughly the compacted log (about one record per DPE)
plus each partition's open segment, not hours of changes. Measured: after 1.2 million changes
(60 s at 20,000/s), 75,800 records read in 0.8 s. Deleted DPEs (a tombstone, value null) disappear after a day.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from vac.errors import KafkaTimeout, TopicNotFound
from vac.kafka.client import cluster_metadata, connect
from vac.kafka.consuming import UNGROUPED, VacConsumer
from vac.records.positions import resolve_place
from vac.settings import KafkaSettings
from vac.topicnames import check_topic_name

LAST_TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "segment.bytes": str(2 * 1024 * 1024),
    "segment.ms": "30000",
    "min.cleanable.dirty.ratio": "0.1",
    "delete.retention.ms": str(24 * 3600 * 1000),
}
"""Topic config of the last-value topic when vac creates it (see the module docstring)."""
BATCH = 10_000


@dataclass
class LastValues:
    """The newest record of each key of the last-value topic."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    """DPE name -> its last record (the streamer's JSON), for keys whose value is a JSON object."""
    read: int = 0
    """Messages read (records and tombstones)."""
    unreadable: int = 0
    """Messages without a UTF-8 key or whose value is not a JSON object: skipped."""
    seconds: float = 0.0

    def rows(self) -> list[dict[str, Any]]:
        """The records sorted by DPE name, with `id` set to the key and placeholder places
        (sector, mainpart, DCUM) replaced by the position the name carries."""
        rows = []
        for name in sorted(self.records):
            record = dict(self.records[name])
            record["id"] = name
            place = (str(record.get("sector", "")), str(record.get("mainpart", "")), str(record.get("DCUM", "")))
            record["sector"], record["mainpart"], record["DCUM"] = resolve_place(name, *place)
            rows.append(record)
        return rows


def read_last_values(
    kafka: KafkaSettings,
    topic: str,
    *,
    keep: Callable[[str], bool] | None = None,
    timeout_s: float | None = None,
    cancelled: threading.Event | None = None,
) -> LastValues:
    """Read `topic` from its beginning to the end it had when called and return the newest
    record of every key that `keep` accepts (default: all). TopicNotFound if there is no such
    topic; KafkaTimeout if the end is not reached within `timeout_s` (default: 6x
    `kafka.timeout_s`)."""
    check_topic_name(topic)
    started = time.monotonic()
    metadata = cluster_metadata(connect(AdminClient, kafka), topic)
    entry = metadata.topics.get(topic)
    if entry is None or entry.error is not None or not entry.partitions:
        raise TopicNotFound(
            f"the last-value topic {topic!r} does not exist",
            hint="`vac stream scada` creates it (scada.last_topic); nothing has streamed into this cluster yet",
        )
    consumer = VacConsumer(kafka, **UNGROUPED, **{"enable.partition.eof": True})
    result = LastValues()
    raw: dict[bytes, bytes | None] = {}
    try:
        pending = _ends(consumer, topic, sorted(entry.partitions), kafka.timeout_s)
        consumer.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        deadline = started + (timeout_s if timeout_s is not None else 6 * kafka.timeout_s)
        while pending:
            if cancelled is not None and cancelled.is_set():
                break
            if time.monotonic() > deadline:
                raise KafkaTimeout(
                    f"reading the last-value topic {topic!r} did not reach its end within "
                    f"{deadline - started:g} s ({result.read:,} messages read)",
                    hint="is it compacted? `vac topics describe` shows cleanup.policy",
                )
            for message in consumer.consume(BATCH, 0.5):
                partition = message.partition()
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF and partition is not None:
                        pending.pop(partition, None)
                    continue
                result.read += 1
                message_key = message.key()
                if message_key is None:
                    result.unreadable += 1
                else:
                    raw[message_key] = message.value()
                offset = message.offset()
                if partition in pending and offset is not None and offset >= pending[partition] - 1:
                    del pending[partition]
    finally:
        consumer.close()
    # Decode each key's newest value only: a few per DPE were read, one is kept.
    for key_bytes, value in raw.items():
        try:
            key = key_bytes.decode()
        except UnicodeDecodeError:
            result.unreadable += 1
            continue
        if value is None or (keep is not None and not keep(key)):
            continue
        try:
            record = orjson.loads(value)
        except orjson.JSONDecodeError:
            result.unreadable += 1
            continue
        if not isinstance(record, dict):
            result.unreadable += 1
            continue
        result.records[key] = record
    result.seconds = time.monotonic() - started
    return result


def _ends(consumer: VacConsumer, topic: str, partitions: list[int], timeout_s: float) -> dict[int, int]:
    """The high watermark of each non-empty partition: where this read stops."""
    ends = {}
    for partition in partitions:
        low, high = consumer.consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
        if high > low:
            ends[partition] = high
    return ends
