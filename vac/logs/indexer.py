"""`vac index`: log records (and SCADA changes, see `vac.logs.scada_routing`) from Kafka into
Elasticsearch, in a consumer group.

Offsets are committed only after Elasticsearch took the batch, and every document has the id
the shipper gave it (`event.id`: file key + byte offset), so whatever Kafka delivers twice (a
crash between bulk and commit, a rebalance) overwrites itself: nothing lost, nothing doubled.
A message that cannot be a document (not JSON, a bad id or time: see `vac.logs.routing`)
or that Elasticsearch rejects for good goes to a dead-letter topic with the reason, and is
committed with its batch: one poison message never stops the topic. A record too large to
be carried with its reason goes there without its value, with its topic/partition/offset.

One bulk request is in flight while the next batch is read and routed (`_InFlight`): batches
are settled (dead letters, commit) one after the other, in the order they were read, so a
commit never passes a batch Elasticsearch has not taken.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from vac import __version__
from vac.errors import KafkaUnavailable, VacError
from vac.es.bulk import BulkBatch, BulkCancelled, BulkItem, BulkOutcome, bulk_index
from vac.es.client import make_client
from vac.es.indices import install_template
from vac.kafka.admin import ensure_topics
from vac.kafka.consuming import VacConsumer
from vac.kafka.heartbeat import HeartbeatPublisher, ensure_health_topic, quiet_send
from vac.kafka.producing import Stopped, VacProducer
from vac.logs.routing import DeadLetter, route_message
from vac.logs.scada_routing import route_change
from vac.records.clock import now_iso
from vac.records.job import IndexStatus
from vac.settings import VacSettings
from vac.topicnames import check_topic_name

log = logging.getLogger("vac.index")

REASON_HEADER = "vac-dlq-reason"
SOURCE_HEADER = "vac-dlq-source"
"""Where the record was refused: its Kafka place, or the index Elasticsearch refused it in."""
ORIGIN_HEADER = "vac-dlq-origin"
"""The log topic's place of the record (`topic/partition/offset`), to fetch it from."""
DROPPED_HEADER = "vac-dlq-dropped-bytes"
"""On a dead letter without its value: how large the value was (too large to carry)."""
MAX_REASON_BYTES = 1024
"""A reason can quote the whole document; cut, it cannot push a dead letter over the limit."""
CUT_MARKER = b" [cut]"

Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True)
class IndexOptions:
    topics: list[str]
    group_id: str
    until_caught_up: bool = False
    """Stop once every assigned partition has been read to its end and indexed."""
    scada_topics: list[str] = field(default_factory=list)
    """Topics of SCADA changes (also in `topics`): one compact document per change."""


@dataclass
class IndexCounters:
    consumed: int = 0
    """Every consumed message ends in exactly one of indexed, dead_lettered, skipped, or is
    still pending (read, not yet settled and committed): they always add up to consumed."""
    indexed: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    """Tombstones: nothing to index, nothing to repair."""
    batches: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)


class _InFlight:
    """A batch sent to Elasticsearch on a thread of its own, with what settles it afterwards.
    A daemon thread, not a pool's: one still retrying against an absent Elasticsearch when the
    run fails for another reason must not hold the process at exit."""

    def __init__(
        self,
        batch: BulkBatch[Message],
        refused: list[tuple[Message, str]],
        skipped: int,
        send: Callable[[], BulkOutcome],
    ) -> None:
        self.batch, self.refused, self.skipped = batch, refused, skipped
        self._outcome: BulkOutcome | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._send, args=(send,), name="vac-index-bulk", daemon=True)
        self._thread.start()

    def _send(self, send: Callable[[], BulkOutcome]) -> None:
        try:
            self._outcome = send()
        except BaseException as failure:  # handed to the reading thread by `outcome`
            self._failure = failure

    def done(self) -> bool:
        return not self._thread.is_alive()

    def outcome(self) -> BulkOutcome:
        """Wait for the answer; raise what the request raised (BulkCancelled, a VacError)."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._outcome is not None
        return self._outcome


class LogIndexer:
    """A job (`vac.records.job.Job`): `prepare()`, then `run(cancelled, progress)`."""

    component = "index-logs"

    def __init__(self, settings: VacSettings, options: IndexOptions) -> None:
        self.settings = settings
        self.options = options
        self.counters = IndexCounters()
        self.client = make_client(settings.elasticsearch)
        index = settings.index
        self._batch: BulkBatch[Message] = BulkBatch(index.batch_docs, int(index.batch_mb * (1 << 20)), index.batch_s)
        # Messages of the batch that have no document: dead-lettered or skipped with it.
        self._refused: list[tuple[Message, str]] = []
        self._skipped = 0
        self._unsettled = 0
        self._in_flight: _InFlight | None = None
        self._failure: BaseException | None = None
        """What ended the run; once set, a revocation (at close) indexes and commits nothing more."""
        self._assigned: set[tuple[str, int]] = set()
        self._at_end: set[tuple[str, int]] = set()
        self._cancelled = threading.Event()
        self._scada_topics = frozenset(options.scada_topics)
        self._consumer: VacConsumer | None = None
        self._dlq: VacProducer | None = None
        self._dlq_failures: list[str] = []
        """Delivery errors of dead letters since the last flush."""

    def prepare(self, cancelled: threading.Event | None = None) -> None:
        """The index template, the log topics (the shipper may not have run yet), the
        dead-letter topic and the health topic."""
        settings = self.settings
        replication = settings.scada.replication_factor
        scada_topics = self.options.scada_topics
        log_topics = [topic for topic in self.options.topics if topic not in scada_topics]
        ensure_topics(settings.kafka, log_topics, settings.logs.partitions, replication)
        install_template(self.client, settings.index.name_template)
        if scada_topics:
            ensure_topics(settings.kafka, list(scada_topics), settings.scada.partitions, replication)
            install_template(self.client, settings.index.scada_name_template, "scada-template.json")
        ensure_topics(settings.kafka, [settings.index.dead_letter_topic], 1, replication)
        ensure_health_topic(settings)

    def run(self, cancelled: threading.Event, progress: Callable[[IndexStatus], None] | None = None) -> IndexStatus:
        """Index until `cancelled` is set (or, with `until_caught_up`, no lag is left)."""
        self._cancelled = cancelled
        settings = self.settings
        consumer = VacConsumer(
            settings.kafka,
            **{
                "group.id": self.options.group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": True,
                "fetch.max.bytes": 16 << 20,
            },
        )
        self._consumer = consumer
        self._dlq = VacProducer(settings.kafka, **{"enable.idempotence": True, "acks": "all"})
        heartbeat = HeartbeatPublisher(settings, self.component, quiet_send(self._dlq.producer))
        consumer.subscribe(self.options.topics, on_assign=self._assigned_cb, on_revoke=self._revoked_cb)
        next_progress = time.monotonic() + 1.0
        next_health = time.monotonic()
        self.counters.started = time.monotonic()
        try:
            while not cancelled.is_set():
                messages = consumer.consume(min(settings.index.batch_docs, 5000), 0.2)
                if self._failure is not None:
                    raise self._failure  # met by a rebalance's flush, inside librdkafka's callback
                for message in messages:
                    self._take(message)
                caught_up = self._caught_up()
                if self._batch.is_due() or (caught_up and self._batch):
                    self._flush(wait=caught_up)  # a full batch goes while the next is read
                elif self._in_flight is not None and self._in_flight.done():
                    self._settle()  # its commit need not wait for the next batch
                if self.options.until_caught_up and caught_up and not self._batch:
                    break
                now = time.monotonic()
                if progress is not None and now >= next_progress:
                    next_progress = now + 1.0
                    progress(self.status())
                if now >= next_health:
                    next_health = now + settings.logs.health_interval_s
                    heartbeat.publish(self.status())
            self._settle()  # the last batch sent, if the loop ended while it was in flight
        except BulkCancelled:
            pass  # not committed: the next run reads the batch again
        except BaseException as failure:
            # What was read after the failing batch is not indexed either: the next run reads it.
            self._failure = failure
            raise
        finally:
            consumer.close()
            heartbeat.publish(self.status())
            self._dlq.flush(10)
            self.client.close()
        if self._failure is not None:
            raise self._failure  # met by the flush of the revocation at close
        return self.status()

    def _take(self, message: Message) -> None:
        error = message.error()
        partition = (message.topic() or "", message.partition() or 0)
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                self._at_end.add(partition)
            elif error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                log.warning("topic %s does not exist (yet)", message.topic())
            else:
                log.warning("Kafka: %s", error.str())
            return
        self._at_end.discard(partition)
        self.counters.consumed += 1
        if partition[0] in self._scada_topics:
            route = route_change(message.value(), self.settings.index.scada_name_template)
        else:
            where = f"{message.topic()}-{message.partition()}-{message.offset()}"
            route = route_message(message.value(), where, self.settings.index.name_template)
        if isinstance(route, BulkItem):
            self._batch.add(message, route)
            return
        # No document, but acknowledged with the batch (committed only once the batch is).
        self._batch.add(message, None)
        if isinstance(route, DeadLetter):
            self._refused.append((message, route.reason))
        else:
            self._skipped += 1

    def _caught_up(self) -> bool:
        return bool(self._assigned) and self._assigned <= self._at_end

    def _flush(self, wait: bool = True) -> None:
        """Send the batch to Elasticsearch once the one before it is settled; with `wait`,
        settle this one too (dead letters for what Elasticsearch refused, then the commit)."""
        self._settle()
        batch, refused, skipped = self._batch.take(), self._refused, self._skipped
        self._refused, self._skipped = [], 0
        if batch:
            items, cancelled = batch.items, self._cancelled
            self._in_flight = _InFlight(batch, refused, skipped, lambda: bulk_index(self.client, items, cancelled))
        if wait:
            self._settle()

    def _settle(self) -> None:
        """Wait for the batch in flight, dead-letter what Elasticsearch refused, then commit."""
        flight, self._in_flight = self._in_flight, None
        if flight is None:
            return
        batch, refused, skipped = flight.batch, flight.refused, flight.skipped
        try:
            outcome = flight.outcome()
        except BulkCancelled:
            self._unsettled = len(batch)  # read again by the next run
            raise
        self.counters.indexed += outcome.indexed
        self.counters.skipped += skipped
        self.counters.retries += outcome.retries
        self.counters.batches += 1
        try:
            if outcome.rejected:
                origins = {
                    id(item): place(message) for item, message in zip(batch.items, batch.item_sources, strict=True)
                }
                for item, reason in outcome.rejected:
                    self._dead_letter(item.source, reason, item.index, origins[id(item)])
            for message, reason in refused:
                where = place(message)
                self._dead_letter(message.value() or b"", reason, where, where)
        except BulkCancelled:
            self._unsettled = len(batch)  # stopped while the dead-letter queue was full: not committed
            raise
        if outcome.rejected or refused:
            assert self._dlq is not None
            unsent = self._dlq.flush(self.settings.kafka.timeout_s * 3)
            # Committing past a dead letter Kafka did not take would lose its message for good.
            if unsent or self._dlq_failures:
                failure = self._dlq_failures[0] if self._dlq_failures else f"{unsent} not acknowledged in time"
                self._dlq_failures = []
                raise self._dlq_refused(failure)
        offsets: dict[tuple[str, int], int] = {}
        for message in batch.sources:
            offsets[(message.topic() or "", message.partition() or 0)] = (message.offset() or 0) + 1
        assert self._consumer is not None
        self._consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()])

    def _dead_letter(self, value: bytes, reason: str, source: str, origin: str) -> None:
        assert self._dlq is not None
        self.counters.dead_lettered += 1
        if self.counters.dead_lettered == 1:
            log.warning(
                "a log record cannot be indexed (%s); it goes to %s",
                reason[:200],
                self.settings.index.dead_letter_topic,
            )
        headers = dead_letter_headers(reason, source, origin)
        try:
            self._send_dead_letter(value, headers)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                raise self._dlq_refused(str(exc)) from None
            # A value near message.max.bytes, made too large by the headers: the dead letter
            # says where the record is instead of carrying it, so one record cannot stop
            # every run on the same batch.
            log.warning("a dead letter of %d bytes is too large: sent without its value (%s)", len(value), origin)
            try:
                self._send_dead_letter(None, without_value(headers, len(value)))
            except KafkaException as again:
                raise self._dlq_refused(str(again)) from None
        self._dlq.poll(0)

    def _send_dead_letter(self, value: bytes | None, headers: Headers) -> None:
        assert self._dlq is not None
        topic = self.settings.index.dead_letter_topic
        try:
            self._dlq.produce_when_room(
                topic, value, headers=headers, on_delivery=self._dlq_delivered, cancelled=self._cancelled
            )
        except Stopped:
            raise BulkCancelled from None

    def _dlq_delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            self._dlq_failures.append(error.str())

    def _dlq_refused(self, failure: str) -> KafkaUnavailable:
        topic = self.settings.index.dead_letter_topic
        return KafkaUnavailable(
            f"the dead-letter topic {topic} did not take a record that cannot be indexed ({failure}); "
            "nothing of its batch was committed",
            hint=f"check that {topic} exists, that vac may write it, and that its max.message.bytes "
            "takes the largest log message; the next run starts again from that batch",
        )

    def _assigned_cb(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned |= {(p.topic, p.partition) for p in partitions}

    def _revoked_cb(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Before the partitions go to another instance: index and commit what was read (not
        after a failure: the next run reads it again). An error is kept for the reading thread,
        not raised here: raised inside librdkafka's callback it left `close()` hanging."""
        if self._failure is None:
            try:
                self._flush()
            except BulkCancelled:
                pass  # uncommitted: the new owner reads it again
            except VacError as failure:
                self._failure = failure
        revoked = {(p.topic, p.partition) for p in partitions}
        self._assigned -= revoked
        self._at_end -= revoked

    def status(self) -> IndexStatus:
        counters = self.counters
        elapsed = time.monotonic() - counters.started
        return IndexStatus(
            consumed=counters.consumed,
            indexed=counters.indexed,
            dead_lettered=counters.dead_lettered,
            skipped=counters.skipped,
            pending=len(self._batch) + self._unsettled + (len(self._in_flight.batch) if self._in_flight else 0),
            batches=counters.batches,
            retries=counters.retries,
            rate=round(counters.indexed / elapsed, 1) if elapsed > 0 else 0.0,
            partitions=len(self._assigned),
            duration_s=round(elapsed, 3),
            host=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
            time=now_iso(),
        )


def replay_dead_letters(settings: VacSettings, target_topic: str, cancelled: threading.Event) -> int:
    """Send every dead-lettered document back to `target_topic` (after fixing the mapping);
    the replay group remembers how far it got."""
    check_topic_name(target_topic)
    consumer = VacConsumer(
        settings.kafka,
        **{
            "group.id": f"{settings.index.group_id}-replay",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        },
    )
    producer = VacProducer(settings.kafka, **{"enable.idempotence": True, "acks": "all"})
    consumer.subscribe([settings.index.dead_letter_topic])
    failures: list[str] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error.str())

    sent = 0
    idle_since = time.monotonic()
    try:
        while not cancelled.is_set():
            message = consumer.poll(0.5)
            error = None if message is None else message.error()
            if message is None or error is not None:
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    break
                if time.monotonic() - idle_since > settings.kafka.timeout_s:
                    break
                continue
            idle_since = time.monotonic()
            if _header(message, DROPPED_HEADER) is not None:
                log.warning(
                    "a dead letter without its value (too large to carry) is not resent: fetch it from %s",
                    (_header(message, ORIGIN_HEADER) or b"?").decode(errors="replace"),
                )
                consumer.commit(message=message)
                continue
            try:
                producer.produce_when_room(target_topic, message.value(), on_delivery=delivered, cancelled=cancelled)
            except Stopped:
                break  # stopped while the queue was full: not committed, resent next time
            except KafkaException as exc:
                failures.append(str(exc))
            # The dead letter leaves its topic (commit) only once the target acknowledged it.
            if producer.flush(settings.kafka.timeout_s) or failures:
                raise KafkaUnavailable(
                    f"could not write to {target_topic}: {failures[0] if failures else 'no acknowledgement in time'}; "
                    f"{sent:,} documents were resent before this one",
                    hint="the dead letters not resent stay in the topic for the next replay-dlq",
                )
            sent += 1
            consumer.commit(message=message)
    finally:
        consumer.close()
    return sent


def place(message: Message) -> str:
    """A message's place in Kafka: topic/partition/offset."""
    return f"{message.topic()}/{message.partition()}/{message.offset()}"


def dead_letter_headers(reason: str, source: str, origin: str) -> Headers:
    return [
        (REASON_HEADER, capped(reason.encode(errors="replace"), MAX_REASON_BYTES)),
        (SOURCE_HEADER, capped(source.encode(errors="replace"), MAX_REASON_BYTES)),
        (ORIGIN_HEADER, origin.encode(errors="replace")),
    ]


def without_value(headers: Headers, size: int) -> Headers:
    """The headers of a dead letter sent without its value: they say how large it was; the
    origin header says where to fetch it."""
    return [*headers, (DROPPED_HEADER, str(size).encode())]


def capped(text: bytes, limit: int) -> bytes:
    """`text` cut to `limit` bytes, marked, on a character boundary."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(CUT_MARKER)].decode(errors="ignore").encode()
    return head + CUT_MARKER


def _header(message: Message, name: str) -> bytes | None:
    headers = message.headers()  # a consumed message's: a list of (key, value), or None
    for key, value in headers if isinstance(headers, list) else []:
        if key == name:
            return value if isinstance(value, bytes) else None
    return None
