"""Reading topics for `vac tail topic`: where to start and stop, what matches, and counts.

Without a group the reader assigns partitions itself and commits nothing (like kcat);
with a group it subscribes, applies `--from` when partitions are assigned, and commits what
it has read. Messages come out in batches, in offset order within each partition; topics and
partitions are merged as the broker delivers them.

The loop is the hot path of a 1,000,000-message read: JSON is parsed only when a filter or
the output needs it, and per message it does a handful of attribute lookups.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from vac.errors import KafkaUnavailable, PermissionDenied, UsageError
from vac.jsonfilter import JsonFilter
from vac.kafka.client import Connection, take_available, watermarks
from vac.kafka.consuming import connect_consumer
from vac.kafka.positions import Position, start_offset, stop_offset
from vac.kafka.topics import check_topics
from vac.settings import KafkaSettings
from vac.topicnames import check_topic_name

BATCH = 10_000
# (topic, partition). confluent-kafka types both as optional (an error message has neither);
# vac only builds keys from messages without an error.
PartitionKey = tuple[str | None, int | None]
NOT_JSON: Any = object()
"""The parsed value of a message whose value is not JSON."""
NOT_PARSED: Any = object()
"""The parsed value of a message nobody needed parsed."""

# Large fetches and a deep local queue: reading a topic to its end is throughput-bound.
_READ_TUNING = {
    "enable.partition.eof": True,
    "fetch.max.bytes": 52_428_800,
    "max.partition.fetch.bytes": 10_485_760,
    "queued.min.messages": 1_000_000,
    "queued.max.messages.kbytes": 262_144,
}


@dataclass(frozen=True)
class TailSpec:
    topics: list[str]
    start: Position | None = None
    """None: the end when following, the beginning otherwise; with a group, its committed offsets."""
    until: Position | None = None
    follow: bool = True
    count: int | None = None
    partitions: list[int] | None = None
    key_glob: str | None = None
    where: str | None = None
    group: str | None = None
    parse_values: bool = False
    """Parse every value as JSON (the output wants it), not only when filtering."""


@dataclass
class TailStats:
    read: int = 0
    matched: int = 0
    bytes: int = 0
    invalid_json: int = 0
    filter_failed: int = 0
    """Messages the --where expression could not be evaluated on (counted as not matching)."""
    filter_failure: str | None = None
    """Why the first of them failed."""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        return self.read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "matched": self.matched,
            "bytes": self.bytes,
            "invalid_json": self.invalid_json,
            "filter_failed": self.filter_failed,
            "elapsed_s": round(self.elapsed_s, 3),
            "rate": round(self.rate, 1),
        }


@dataclass
class TailBatch:
    """Matching messages in read order, with their payloads and their values parsed as JSON
    (NOT_JSON / NOT_PARSED where not), as parallel lists: no object per message."""

    messages: list[Message]
    payloads: list[bytes | None]
    values: list[Any]

    def __len__(self) -> int:
        return len(self.messages)


class TopicTail:
    def __init__(self, kafka: KafkaSettings, spec: TailSpec) -> None:
        if spec.count is not None and spec.count < 1:
            raise UsageError(f"--count {spec.count}: must be at least 1")
        for topic in spec.topics:
            check_topic_name(topic)
        self.kafka = kafka
        self.spec = spec
        self.stats = TailStats()
        self._filter = JsonFilter(spec.where) if spec.where else None
        self._key_match = re.compile(fnmatch.translate(spec.key_glob)).match if spec.key_glob else None
        self._stops: dict[PartitionKey, int] = {}
        self._done: set[PartitionKey] = set()
        self._assigned: set[PartitionKey] = set()
        self._bounded = spec.until is not None or not spec.follow
        self.leaders: dict[PartitionKey, int] = {}
        """The leader broker of each partition read, as the metadata named it at the start
        (kcat's envelope names the broker a message came from; librdkafka's Python client
        does not say, and consumers fetch from the leader)."""

    # -- set-up ------------------------------------------------------------------------

    def _connect(self) -> Connection:
        committing = {"enable.auto.commit": True} if self.spec.group else {}
        return connect_consumer(self.kafka, self.spec.group or None, _READ_TUNING | committing)

    def _partitions(self, connection: Connection) -> list[TopicPartition]:
        metadata = check_topics(connection, self.spec.topics)
        chosen = []
        for topic in self.spec.topics:
            ids = sorted(metadata.topics[topic].partitions)
            for p, entry in metadata.topics[topic].partitions.items():
                self.leaders[(topic, p)] = entry.leader
            wanted = self.spec.partitions or ids
            missing = sorted(set(wanted) - set(ids))
            if missing:
                raise UsageError(
                    f"--partition {missing[0]}: topic {topic!r} has partitions 0..{len(ids) - 1}",
                )
            chosen += [TopicPartition(topic, p) for p in wanted]
        return chosen

    def _plan(
        self, consumer: Consumer, partitions: list[TopicPartition], start: Position | None
    ) -> list[TopicPartition]:
        """Starting offsets for `partitions` (None keeps the group's committed ones), and
        stop offsets when the read is bounded."""
        timeout = self.kafka.timeout_s
        marks = {(tp.topic, tp.partition): watermarks(consumer, tp, timeout) for tp in partitions}
        start_times = self._offsets_for_time(consumer, partitions, start)
        until_times = self._offsets_for_time(consumer, partitions, self.spec.until)
        planned = []
        for tp in partitions:
            key = (tp.topic, tp.partition)
            low, high = marks[key]
            first = None
            if start is not None:
                first = start_offset(start, low, high, start_times.get(key))
                planned.append(TopicPartition(tp.topic, tp.partition, first))
            else:
                planned.append(tp)
            if self._bounded:
                until = self.spec.until or Position("end")
                self._stops[key] = stop_offset(until, low, high, until_times.get(key))
                if first is not None and first >= self._stops[key]:
                    self._done.add(key)  # nothing to read here; EOF covers the committed case
            self._assigned.add(key)
        return planned

    def _offsets_for_time(
        self, consumer: Consumer, partitions: list[TopicPartition], position: Position | None
    ) -> dict[PartitionKey, int]:
        if position is None or position.kind != "time":
            return {}
        query = [TopicPartition(tp.topic, tp.partition, position.value) for tp in partitions]
        try:
            found = consumer.offsets_for_times(query, timeout=self.kafka.timeout_s)
        except KafkaException as exc:
            raise KafkaUnavailable(f"looking up offsets by time failed: {exc.args[0].str()}") from None
        return {(tp.topic, tp.partition): tp.offset for tp in found}

    def _start(self, connection: Connection) -> None:
        consumer = connection.client
        partitions = self._partitions(connection)
        if self.spec.group is None:
            start = self.spec.start or Position("end" if self.spec.follow else "beginning")
            consumer.assign(self._plan(consumer, partitions, start))
            return

        def on_assign(consumer: Consumer, assigned: list[TopicPartition]) -> None:
            chosen = {(tp.topic, tp.partition) for tp in partitions}
            mine = [tp for tp in assigned if (tp.topic, tp.partition) in chosen]
            consumer.assign(self._plan(consumer, mine, self.spec.start))

        consumer.subscribe(self.spec.topics, on_assign=on_assign)

    # -- the read loop -----------------------------------------------------------------

    def batches(self, cancelled: threading.Event | None = None) -> Iterator[TailBatch]:
        """Matching messages, a batch at a time, until the spec's end, `count`, or `cancelled`."""
        cancelled = cancelled or threading.Event()
        connection = self._connect()
        consumer = connection.client
        plain = not self.spec.parse_values and self._filter is None and self._key_match is None
        plain = plain and self.spec.count is None
        remaining = self.spec.count
        try:
            self._start(connection)
            while not cancelled.is_set():
                if self._bounded and self._assigned and len(self._done) >= len(self._assigned):
                    break
                messages = take_available(consumer, BATCH, 0.2)
                batch = self._plain_batch(consumer, messages) if plain else None
                if batch is None:
                    batch = self._filtered_batch(consumer, messages, remaining)
                if remaining is not None:
                    remaining -= len(batch)
                if batch.messages:
                    self.stats.matched += len(batch)
                    yield batch
                if remaining == 0:
                    break
        finally:
            self.stats.finished = time.monotonic()
            consumer.close()

    def _lowest_stop(self) -> int:
        """Offsets below every open partition's stop need no per-partition look-up."""
        return min((stop for key, stop in self._stops.items() if key not in self._done), default=-1)

    def _plain_batch(self, consumer: Consumer, messages: list[Message]) -> TailBatch | None:
        """The fast path of a dump with nothing to match: whole-batch operations only.
        None when the batch reaches a stop offset and needs the per-message path."""
        good = [message for message in messages if message.error() is None]
        if self._stops and good and max(message.offset() or 0 for message in good) + 1 >= self._lowest_stop():
            return None
        if len(good) != len(messages):
            for message in messages:
                if message.error() is not None:
                    self._on_error(consumer, message)
        payloads = [message.value() for message in good]
        self.stats.read += len(good)
        self.stats.bytes += sum(map(len, filter(None, payloads)))
        return TailBatch(good, payloads, [NOT_PARSED] * len(good))

    def _filtered_batch(self, consumer: Consumer, messages: list[Message], remaining: int | None) -> TailBatch:
        stats, stops = self.stats, self._stops
        key_match, where = self._key_match, self._filter
        parse = self.spec.parse_values or where is not None
        lowest_stop = self._lowest_stop() if stops else -1
        batch = TailBatch([], [], [])
        read = size = 0  # added to stats once per batch: attribute updates cost
        for message in messages:
            if message.error() is not None:
                self._on_error(consumer, message)
                continue
            offset = message.offset() or 0
            if stops and offset + 1 >= lowest_stop:
                key = (message.topic(), message.partition())
                stop = stops[key]
                if offset >= stop:  # the partition's bound was passed already
                    self._finish(consumer, key)
                    continue
                if offset + 1 >= stop:
                    self._finish(consumer, key)
            payload = message.value()
            read += 1
            if payload is not None:
                size += len(payload)
            if key_match is not None:
                raw_key = message.key()
                if raw_key is None or key_match(raw_key.decode("utf-8", "replace")) is None:
                    continue
            parsed = NOT_PARSED
            if parse:
                parsed = _parse_json(payload)
                if parsed is NOT_JSON:
                    stats.invalid_json += 1
                if where is not None and (parsed is NOT_JSON or not where.matches(parsed)):
                    continue
            batch.messages.append(message)
            batch.payloads.append(payload)
            batch.values.append(parsed)
            if remaining is not None and len(batch) >= remaining:
                break
        stats.read += read
        stats.bytes += size
        if where is not None:
            stats.filter_failed, stats.filter_failure = where.failed, where.first_failure
        return batch

    def _finish(self, consumer: Consumer, key: PartitionKey) -> None:
        if key not in self._done:
            self._done.add(key)
            consumer.pause([TopicPartition(str(key[0]), key[1] or 0)])

    def _on_error(self, consumer: Consumer, message: Message) -> None:
        error = message.error()
        if error is None:
            return
        code = error.code()
        key = (message.topic(), message.partition())
        if code == KafkaError._PARTITION_EOF:
            # The current end: a bounded read whose stop lies here (or before) is done.
            stop = self._stops.get(key)
            if stop is not None and (message.offset() or 0) >= stop:
                self._finish(consumer, key)
            return
        if code == KafkaError.TOPIC_AUTHORIZATION_FAILED:
            raise PermissionDenied(f"not allowed to read topic {message.topic()!r}")
        if code == KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise UsageError(f"topic {message.topic()!r} was deleted while reading it")
        if error.fatal():
            raise KafkaUnavailable(f"reading from Kafka failed: {error.str()}")
        # Transient errors (a broker restarting, a leader moving) are retried by librdkafka.


def _parse_json(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return NOT_JSON
