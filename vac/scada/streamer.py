"""`vac stream scada`: changes from a source, through the deadband, into Kafka, counted.

One loop on one thread: take a batch from the source, keep the real changes, encode each as
JSON and hand it to librdkafka (idempotent, acks=all, key = DPE name so one device's changes
stay ordered in one partition, record timestamp = source time). Delivery reports count acks,
failures and unknown outcomes and feed the latency histogram. When librdkafka's queue is full
(Kafka slow or away), `produce` blocks the loop, so the source waits: backpressure, never a
silent drop. A change that Kafka refused is counted as failed (not stored); one whose
acknowledgement never came is counted as unknown (perhaps stored), see `vac.kafka.delivery`.
"""

from __future__ import annotations

import math
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from hdrh.histogram import HdrHistogram

from vac.hotloop import rare_collections
from vac.kafka.admin import ensure_topics
from vac.kafka.delivery import Outcome, outcome_of
from vac.kafka.heartbeat import HeartbeatPublisher, ensure_health_topic, quiet_send
from vac.kafka.lastvalues import LAST_TOPIC_CONFIG
from vac.kafka.producing import VacProducer
from vac.records import status as status_bits
from vac.records.badinput import BadInput
from vac.records.change import Change, ChangeSource, now_us
from vac.records.dpe import Dpe
from vac.records.job import Latency, StreamStatus, StreamSummary
from vac.scada.deadband import ChangeFilter, DeadbandRules, DpeFilter
from vac.scada.encoding import ChangeEncoder, RecordTemplate
from vac.settings import VacSettings

# Measured on the local stack (scripts/bench): linger 5 ms keeps p99 ack latency low at
# 10,000/s while batching enough for 100,000+/s; lz4 is cheap for repetitive JSON.
PRODUCER_TUNING = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "batch.num.messages": 10_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 200_000,
    "queue.buffering.max.kbytes": 131_072,
}
HOUSEKEEPING_S = 1.0
UNASSIGNED = -1
"""No partition given: librdkafka's partitioner picks it from the key."""


@dataclass(frozen=True)
class StreamOptions:
    topic: str | None = None
    """Write every change here instead of each DPE's own topic."""
    legacy: bool = False
    rules: DeadbandRules = DeadbandRules()
    duration_s: float | None = None
    requested_rate: float | None = None
    health_interval_s: float = 10.0
    flush_timeout_s: float = 30.0


@dataclass
class StreamCounters:
    changes: int = 0
    sent: int = 0
    acked: int = 0
    failed: int = 0
    """Not stored: Kafka refused them, or they never left."""
    unknown: int = 0
    """Sent but never acknowledged (a timeout): perhaps stored, perhaps not."""
    suppressed: int = 0
    heartbeats: int = 0
    started: float = field(default_factory=time.monotonic)
    last_change: float | None = None
    first_failure: str | None = None
    first_unknown: str | None = None
    last_failed: int = 0
    """Copies for the last-value topic that Kafka did not take (the change itself is counted above)."""
    ack_us: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, 600_000_000, 3))

    @property
    def in_flight(self) -> int:
        return self.sent - self.acked - self.failed - self.unknown

    def latency_ms(self) -> Latency:
        if self.ack_us.get_total_count() == 0:
            return Latency()
        at = self.ack_us.get_value_at_percentile
        return Latency(at(50) / 1000, at(99) / 1000, at(99.9) / 1000, self.ack_us.get_max_value() / 1000)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


@dataclass(slots=True)
class Outlet:
    """All one DPE's changes need on their way out, found with one lookup per change."""

    dpe: Dpe
    filter: DpeFilter
    template: RecordTemplate
    topic: str
    key: bytes
    floats: bool
    """Its values are floats (else unsigned words)."""
    seq: int = 0
    """The per-DPE sequence number of the last change sent."""


class ScadaStreamer:
    """A job (`vac.records.job.Job`): `prepare()`, then `run(cancelled, progress)`."""

    component = "stream-scada"
    _out: VacProducer
    """The producer of the current `run`."""
    _heartbeat: HeartbeatPublisher

    def __init__(
        self, settings: VacSettings, dpes: list[Dpe], options: StreamOptions, source: ChangeSource | None = None
    ) -> None:
        self.settings = settings
        self.options = options
        self.source = source
        self.counters = StreamCounters()
        self._filter = ChangeFilter(options.rules)
        self._encoder = ChangeEncoder(options.legacy)
        self._outlets = {dpe.name: self._outlet(dpe) for dpe in dpes}
        self._last_topic = settings.scada.last_topic
        """Every change also goes here, keyed by DPE: Kafka compacts it to each DPE's last value."""

    def _outlet(self, dpe: Dpe) -> Outlet:
        topic = self.options.topic or dpe.topic
        template = self._encoder.template(dpe)
        return Outlet(dpe, self._filter.of(dpe), template, topic, dpe.name.encode(), dpe.type == "float")

    def topics(self) -> list[str]:
        return sorted({outlet.topic for outlet in self._outlets.values()})

    def _all_topics(self) -> list[str]:
        return self.topics() + ([self._last_topic] if self._last_topic else [])

    def prepare(self, cancelled: threading.Event | None = None) -> None:
        """Create the topics the changes go to, the compacted last-value topic and the health topic."""
        scada = self.settings.scada
        ensure_topics(self.settings.kafka, self.topics(), scada.partitions, scada.replication_factor)
        if self._last_topic:
            ensure_topics(
                self.settings.kafka, [self._last_topic], scada.partitions, scada.replication_factor, LAST_TOPIC_CONFIG
            )
        ensure_health_topic(self.settings)

    def run(self, cancelled: threading.Event, progress: Callable[[StreamStatus], None] | None = None) -> StreamSummary:
        """Stream until the source ends, `duration_s` passes or `cancelled` is set; flush
        what is in flight and return the summary."""
        source = self.source
        if source is None:
            raise ValueError("a ScadaStreamer runs with a source")
        self._out = VacProducer(self.settings.kafka, on_delivery=self._delivered, **PRODUCER_TUNING)
        producer = self._out.producer
        self._heartbeat = HeartbeatPublisher(self.settings, self.component, quiet_send(producer))
        self._wait_for_leaders(producer)
        try:
            with rare_collections():
                self._stream(producer, source, cancelled, progress)
        finally:
            self._heartbeat.publish(self.status(source.bad_input))
            self._out.flush(self.options.flush_timeout_s)
        return self.summary(source.bad_input, unflushed=len(producer))

    def _stream(
        self,
        producer: Producer,
        source: ChangeSource,
        cancelled: threading.Event,
        progress: Callable[[StreamStatus], None] | None,
    ) -> None:
        counters = self.counters
        counters.started = time.monotonic()
        deadline = counters.started + self.options.duration_s if self.options.duration_s else math.inf
        next_housekeeping = counters.started + HOUSEKEEPING_S
        next_health = counters.started
        for batch in source.batches(cancelled):
            now = time.monotonic()
            self._stream_batch(producer, batch, now, source.bad_input)
            self._out.poll(0)
            if now >= next_housekeeping:
                next_housekeeping = now + HOUSEKEEPING_S
                ingest = self._encoder.ingest_field(now_us())
                for change in self._filter.silent(now):
                    self._send_heartbeat(self._outlets[change.dpe], change, ingest)
                if progress is not None:
                    progress(self.status(source.bad_input))
            if now >= next_health:
                next_health = now + self.options.health_interval_s
                self._heartbeat.publish(self.status(source.bad_input))
            if now >= deadline or cancelled.is_set():
                break

    def _wait_for_leaders(self, producer: Producer) -> None:
        """Fetch the topics' metadata before the first change: a freshly created topic has
        no leader for a moment, and the first second of changes would wait for it."""
        deadline = time.monotonic() + self.settings.kafka.timeout_s
        for topic in self._all_topics():
            while time.monotonic() < deadline:
                partitions = producer.list_topics(topic, timeout=self.settings.kafka.timeout_s).topics[topic].partitions
                if partitions and all(p.leader >= 0 for p in partitions.values()):
                    break
                time.sleep(0.1)

    def _stream_batch(self, producer: Producer, batch: list[Change], now: float, bad: BadInput) -> None:
        counters, outlets, fill, produce = self.counters, self._outlets, self._encoder.fill, producer.produce
        last_topic, last_delivered = self._last_topic, self._last_delivered
        ingest = self._encoder.ingest_field(now_us())  # one batch, one moment of ingestion
        for change in batch:
            outlet = outlets.get(change.dpe)
            if outlet is None:
                bad.add("unknown DPE", change.dpe)
                continue
            value = change.value
            # The common case, a finite float of a float DPE, without a call.
            if not (type(value) is float and value - value == 0.0 and outlet.floats):
                problem = _bad_value(outlet.dpe, value, change.status64)
                if problem is not None:
                    bad.add(problem, f"{change.dpe}={value!r}")
                    continue
            counters.changes += 1
            if not outlet.filter.accept(change, now):
                counters.suppressed += 1
                continue
            outlet.seq += 1
            record = fill(outlet.template, change, outlet.seq, ingest)
            try:  # positional: keyword parsing cost 0.6 us a call, a twelfth of a change's cost
                produce(outlet.topic, record, outlet.key, UNASSIGNED, None, None, change.source_us // 1000)
            except BufferError:
                self._produce_when_room(outlet, record, change)
            except KafkaException as exc:  # e.g. larger than message.max.bytes: never left
                self._refused(exc)
            if last_topic:
                try:
                    produce(last_topic, record, outlet.key, UNASSIGNED, last_delivered, None, change.source_us // 1000)
                except (BufferError, KafkaException):
                    self._last_when_room(outlet, record, change)
            counters.sent += 1
        if batch:
            counters.last_change = now

    def _send_heartbeat(self, outlet: Outlet, change: Change, ingest: bytes) -> None:
        outlet.seq += 1
        record = self._encoder.fill(outlet.template, change, outlet.seq, ingest, heartbeat=True)
        self._produce_when_room(outlet, record, change)
        if self._last_topic:
            self._last_when_room(outlet, record, change)
        self.counters.heartbeats += 1
        self.counters.sent += 1

    def _produce_when_room(self, outlet: Outlet, record: bytes, change: Change) -> None:
        try:  # while the queue is full, Kafka is slow or away: the source waits
            self._out.produce_when_room(outlet.topic, record, outlet.key, timestamp_ms=change.source_us // 1000)
        except KafkaException as exc:
            self._refused(exc)

    def _last_when_room(self, outlet: Outlet, record: bytes, change: Change) -> None:
        assert self._last_topic is not None
        try:
            self._out.produce_when_room(
                self._last_topic,
                record,
                outlet.key,
                timestamp_ms=change.source_us // 1000,
                on_delivery=self._last_delivered,
            )
        except KafkaException:
            self.counters.last_failed += 1

    def _last_delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            self.counters.last_failed += 1

    def _refused(self, exc: KafkaException) -> None:
        """`produce` refused a change (too large, say): counted as sent and failed, as if
        Kafka had refused it, and the stream goes on, unless the producer is stopped for good."""
        stopped = self._out.stopped_error(exc)
        if stopped is not None:
            raise stopped
        error = exc.args[0] if exc.args else None
        reason = error.str() if isinstance(error, KafkaError) else str(exc)
        self.counters.failed += 1
        self.counters.first_failure = self.counters.first_failure or reason

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        counters = self.counters
        if error is not None:
            if outcome_of(error) is Outcome.FAILED:
                counters.failed += 1
                counters.first_failure = counters.first_failure or error.str()
            else:
                counters.unknown += 1
                counters.first_unknown = counters.first_unknown or error.str()
            return
        counters.acked += 1
        # Every 8th ack feeds the histogram: recording costs more than the rest of a send.
        if counters.acked & 7 == 0:
            latency = message.latency()
            if latency is not None:
                counters.ack_us.record_value(max(1, int(latency * 1_000_000)))

    def status(self, bad: BadInput) -> StreamStatus:
        counters = self.counters
        elapsed = time.monotonic() - counters.started
        age = None if counters.last_change is None else round(time.monotonic() - counters.last_change, 3)
        return StreamStatus(
            changes=counters.changes,
            sent=counters.sent,
            acked=counters.acked,
            failed=counters.failed,
            unknown=counters.unknown,
            in_flight=counters.in_flight,
            suppressed=counters.suppressed,
            heartbeats=counters.heartbeats,
            invalid_input=bad.total,
            rate=round(counters.changes / elapsed, 1) if elapsed > 0 else 0.0,
            ack_latency_ms=counters.latency_ms(),
            last_change_age_s=age,
            last_topic_failed=counters.last_failed,
        )

    def summary(self, bad: BadInput, unflushed: int) -> StreamSummary:
        counters = self.counters
        status = self.status(bad)
        requested = self.options.requested_rate
        return StreamSummary(
            **{name: getattr(status, name) for name in StreamStatus.__dataclass_fields__},
            duration_s=round(time.monotonic() - counters.started, 3),
            unflushed=unflushed,
            invalid_input_kinds=dict(bad.counts),
            topics=self.topics(),
            last_topic=self._last_topic,
            rss_mb=round(peak_rss_mb(), 1),
            requested_rate=requested or None,
            rate_sustained=status.rate >= 0.98 * requested if requested else None,
            first_failure=counters.first_failure,
            first_unknown=counters.first_unknown,
        )


def _bad_value(dpe: Dpe, value: Any, status64: int) -> str | None:
    """Why `value` cannot be a value of `dpe`, or None."""
    if type(value) is float and value - value == 0.0:  # the common case: a finite float
        return None if dpe.type == "float" else "value of the wrong type"
    if value is None and status64 & status_bits.INVALID_MASK:
        return None  # an invalid reading without a value (OPC UA Bad): its status is the news
    if dpe.type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "value of the wrong type"
        if not math.isfinite(value):
            return "NaN or infinite value"
    elif dpe.type == "unsigned" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return "value of the wrong type"
    return None
