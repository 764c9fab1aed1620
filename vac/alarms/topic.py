"""The shared alarm state on the compacted `vac.alarms` topic (`alarm_topic`): what every
dashboard, `vac alarms list` and a restarted evaluator read, and where acknowledgements go.

Messages (JSON; keys keep one writer each, so no write undoes another's):
- key `DPE/kind`, written by the evaluator: `{"type": "state", "dpe", "kind", "message",
  "raised_s", "raised_at", "cleared_s", "value", "host"}` on every raise and clear;
- key `DPE/kind/ack`, written by whoever acknowledges: `{"type": "ack", "dpe", "kind",
  "raised_s", "by", "at_s"}` (`raised_s` names the occurrence acknowledged);
- once an alarm has cleared and been acknowledged the evaluator writes `{"type": "removed"}`
  under both keys, then tombstones: compaction forgets it, and a reader that comes before
  compaction sees it leave.
The topic is read by outsiders' tools and written by anyone allowed to: every field is
checked before use (`parse_doc`), and a message that is not one of these is skipped.
"""

from __future__ import annotations

import math
import socket
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from confluent_kafka import KafkaException, TopicPartition

from vac.alarms.book import KINDS, Alarm, AlarmBook
from vac.errors import KafkaUnavailable
from vac.kafka.admin import ensure_topics
from vac.kafka.consuming import new_consumer
from vac.kafka.producing import VacProducer
from vac.settings import VacSettings

COMPACTED = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1", "delete.retention.ms": "86400000"}
MAX_NAME = 256


def state_key(dpe: str, kind: str) -> bytes:
    return f"{dpe}/{kind}".encode()


def ack_key(dpe: str, kind: str) -> bytes:
    return f"{dpe}/{kind}/ack".encode()


def state_doc(alarm: Alarm, host: str) -> dict[str, Any]:
    return {
        "type": "state", "dpe": alarm.dpe, "kind": alarm.kind, "message": alarm.message,
        "raised_s": alarm.raised_s, "raised_at": _iso(alarm.raised_s), "cleared_s": alarm.cleared_s,
        "value": alarm.value, "host": host,
    }  # fmt: skip


def ack_doc(alarm: Alarm) -> dict[str, Any]:
    return {"type": "ack", "dpe": alarm.dpe, "kind": alarm.kind, "raised_s": alarm.raised_s,
            "by": alarm.acked_by, "at_s": alarm.acked_s}  # fmt: skip


def _iso(at_s: float) -> str:
    return datetime.fromtimestamp(at_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if 0 <= value < 253_402_300_800 else None


def _text(value: Any, most: int = MAX_NAME) -> str | None:
    if not isinstance(value, str) or not value or len(value) > most or not value.isprintable():
        return None
    return value


def parse_doc(raw: bytes | None) -> dict[str, Any] | None:
    """One message of the topic, checked, or None if it is not an alarm message."""
    if not raw:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or doc.get("type") not in ("state", "ack", "removed"):
        return None
    if _text(doc.get("dpe")) is None or doc.get("kind") not in KINDS:
        return None
    if doc["type"] == "removed":
        return doc
    if _time(doc.get("raised_s")) is None:
        return None
    if doc["type"] == "ack":
        if _text(doc.get("by"), 64) is None or _time(doc.get("at_s")) is None:
            return None
        return doc
    cleared = doc.get("cleared_s")
    if cleared is not None and _time(cleared) is None:
        return None
    if _text(doc.get("message"), 512) is None:
        doc["message"] = ""
    value = doc.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        doc["value"] = None
    return doc


def mirror(book: AlarmBook, acks: dict[tuple[str, str], dict[str, Any]], doc: dict[str, Any]) -> Alarm | None:
    """Apply one checked message to a book that mirrors the topic (a dashboard, `list`);
    `acks` keeps acknowledgements that came before their state. Returns the alarm touched."""
    key = (doc["dpe"], doc["kind"])
    if doc["type"] == "removed":
        book.forget(key)
        acks.pop(key, None)
        return None
    if doc["type"] == "ack":
        acks[key] = doc
        alarm = book.alarms.get(key)
        if alarm is not None and alarm.raised_s == doc["raised_s"] and not alarm.acked:
            alarm.acked_by, alarm.acked_s = doc["by"], doc["at_s"]
        return alarm
    alarm = Alarm(doc["dpe"], doc["kind"], doc["message"], doc["raised_s"], doc["cleared_s"], value=doc["value"])
    ack = acks.get(key)
    if ack is not None and ack["raised_s"] == alarm.raised_s:
        alarm.acked_by, alarm.acked_s = ack["by"], ack["at_s"]
    book.forget(key)
    book.restore(alarm)
    return alarm


def default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return "someone"


class AlarmTopic:
    """Writes to the alarm topic (created compacted when missing)."""

    def __init__(self, settings: VacSettings) -> None:
        self.settings = settings
        self.topic = settings.alarm_topic
        ensure_topics(settings.kafka, [self.topic], 1, settings.scada.replication_factor, COMPACTED)
        self.producer = VacProducer(settings.kafka, **{"enable.idempotence": True, "acks": "all", "linger.ms": 5})
        self.host = socket.gethostname()

    def _send(self, key: bytes, doc: dict[str, Any] | None) -> None:
        self.producer.produce_when_room(self.topic, None if doc is None else orjson.dumps(doc), key)
        self.producer.poll(0)

    def publish_state(self, alarm: Alarm) -> None:
        self._send(state_key(alarm.dpe, alarm.kind), state_doc(alarm, self.host))

    def publish_ack(self, alarm: Alarm) -> None:
        self._send(ack_key(alarm.dpe, alarm.kind), ack_doc(alarm))

    def publish_removed(self, alarm: Alarm) -> None:
        removed = {"type": "removed", "dpe": alarm.dpe, "kind": alarm.kind}
        for key in (state_key(alarm.dpe, alarm.kind), ack_key(alarm.dpe, alarm.kind)):
            self._send(key, removed)
            self._send(key, None)

    def flush(self, timeout_s: float | None = None) -> int:
        return self.producer.flush(self.settings.kafka.timeout_s if timeout_s is None else timeout_s)


def read_topic(settings: VacSettings, timeout_s: float | None = None) -> list[dict[str, Any]]:
    """Every alarm message now in the topic, in order (one partition); [] if it does not exist."""
    kafka = settings.kafka
    timeout = kafka.timeout_s if timeout_s is None else timeout_s
    consumer = new_consumer(kafka, "vac-alarms-read", {"enable.auto.commit": False})
    try:
        try:
            metadata = consumer.list_topics(settings.alarm_topic, timeout=timeout)
        except KafkaException:
            raise KafkaUnavailable(
                f"Kafka at {kafka.bootstrap_servers} did not answer within {timeout:g} s",
                hint="check kafka.bootstrap_servers and that the brokers run",
            ) from None
        topic = metadata.topics.get(settings.alarm_topic)
        if topic is None or topic.error is not None:
            return []
        docs: list[dict[str, Any]] = []
        for partition in topic.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(settings.alarm_topic, partition), timeout=timeout)
            if high <= low:
                continue
            consumer.assign([TopicPartition(settings.alarm_topic, partition, low)])
            deadline = time.monotonic() + timeout
            position = low
            while position < high and time.monotonic() < deadline:
                message = consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                position = (message.offset() or 0) + 1
                doc = parse_doc(message.value())
                if doc is not None:
                    docs.append(doc)
            if position < high:
                raise KafkaUnavailable(f"reading {settings.alarm_topic} did not finish within {timeout:g} s")
        return docs
    finally:
        consumer.close()


def current_book(settings: VacSettings, timeout_s: float | None = None) -> AlarmBook:
    """The alarms as the topic says now (`vac alarms list`, a restarted evaluator)."""
    book = AlarmBook(list(settings.dash.alarms))
    acks: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in read_topic(settings, timeout_s):
        mirror(book, acks, doc)
    return book
