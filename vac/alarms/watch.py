"""The headless alarm evaluator behind `vac alarms watch`: reads the SCADA topics
(`dash.scada_topics`) from now on, evaluates `dash.alarms` (`vac.alarms.book`), publishes
every raise and clear to the alarm topic and applies the acknowledgements others publish
there. On start it reads the alarm topic first and resumes the open alarms: an alarm still
active is cleared when its condition goes, not raised a second time. Run one per installation
(the alarm states have one writer).

`run` is synchronous, stops when `cancelled` is set or after `duration_s`, and hands each
change to `emit` (a dict: event raised, cleared, acked or removed, and the alarm)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import OFFSET_END, Consumer, KafkaException, TopicPartition

from vac.alarms.book import Alarm, AlarmBook
from vac.alarms.topic import AlarmTopic, current_book, parse_doc, state_doc
from vac.kafka.client import take_available
from vac.kafka.consuming import new_consumer
from vac.settings import VacSettings
from vac.timegrammar import epoch_seconds

Emit = Callable[[dict[str, Any]], None]
LOOK_FOR_TOPICS_S = 2.0


@dataclass
class WatchSummary:
    changes: int = 0
    unreadable: int = 0
    resumed: int = 0
    events: dict[str, int] = field(default_factory=lambda: {"raised": 0, "cleared": 0, "acked": 0, "removed": 0})


def change_of(record: Any, fallback_s: float) -> tuple[str, float, float, bool] | None:
    """(DPE, value, source time s, invalid) of one SCADA record, or None if unusable."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    value = record.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    at_s = fallback_s
    stamp = record.get("timestamp")
    if isinstance(stamp, str):
        with contextlib.suppress(ValueError, OverflowError):
            at_s = epoch_seconds(stamp)
    status = record.get("status")
    invalid = bool(status.get("invalid")) if isinstance(status, dict) else record.get("validityBit", 1) == 0
    return record["id"], float(value), at_s, invalid


class AlarmWatcher:
    def __init__(self, settings: VacSettings, emit: Emit = lambda event: None) -> None:
        self.settings = settings
        self.emit = emit
        self.topic = AlarmTopic(settings)
        self.book: AlarmBook = current_book(settings)
        self.summary = WatchSummary(resumed=len(self.book.alarms))
        for alarm in self.book.listed():
            self._event("resumed", alarm, count=False)

    def _event(self, what: str, alarm: Alarm, count: bool = True) -> None:
        if count:
            self.summary.events[what] += 1
        self.emit({"event": what, **state_doc(alarm, self.topic.host), "acked_by": alarm.acked_by,
                   "acked_s": alarm.acked_s})  # fmt: skip

    def take(self, dpe: str, value: float, at_s: float, invalid: bool) -> None:
        """One SCADA change: evaluate, publish what changed."""
        self.summary.changes += 1
        changes = self.book.evaluate(dpe, value, at_s, invalid)
        if not changes:
            return
        for alarm in changes.raised:
            self.topic.publish_state(alarm)
            self._event("raised", alarm)
        for alarm in changes.cleared:
            if alarm in changes.removed:
                continue
            self.topic.publish_state(alarm)
            self._event("cleared", alarm)
        for alarm in changes.removed:
            self.topic.publish_removed(alarm)
            self._event("removed", alarm)

    def take_ack(self, doc: dict[str, Any]) -> None:
        """An acknowledgement someone published."""
        key = (doc["dpe"], doc["kind"])
        before = self.book.alarms.get(key)
        if before is None or before.raised_s != doc["raised_s"] or before.acked:
            return
        alarm = self.book.acknowledge(key, doc["by"], doc["at_s"], raised_s=doc["raised_s"])
        if alarm is None:
            return
        self._event("acked", alarm)
        if not alarm.active:
            self.topic.publish_removed(alarm)
            self._event("removed", alarm)

    def run(self, cancelled: threading.Event, duration_s: float | None = None) -> WatchSummary:
        settings = self.settings
        consumer = new_consumer(settings.kafka, "vac-alarms-watch", {"enable.auto.commit": False})
        deadline = None if duration_s is None else time.monotonic() + duration_s
        wanted = [*settings.dash.scada_topics, settings.alarm_topic]
        assigned: set[str] = set()
        next_look = 0.0
        try:
            while not cancelled.is_set() and (deadline is None or time.monotonic() < deadline):
                if len(assigned) < len(wanted) and time.monotonic() >= next_look:
                    next_look = time.monotonic() + LOOK_FOR_TOPICS_S
                    assigned |= self._assign(consumer, [t for t in wanted if t not in assigned])
                for message in take_available(consumer, 2000, 0.2) if assigned else []:
                    if message.error() is not None:
                        continue
                    if message.topic() == settings.alarm_topic:
                        doc = parse_doc(message.value())
                        if doc is not None and doc["type"] == "ack":
                            self.take_ack(doc)
                        continue
                    try:
                        record = orjson.loads(message.value() or b"")
                    except orjson.JSONDecodeError:
                        record = None
                    change = change_of(record, message.timestamp()[1] / 1000)
                    if change is None:
                        self.summary.unreadable += 1
                        continue
                    self.take(*change)
                if not assigned:
                    cancelled.wait(0.2)
                self.topic.producer.poll(0)
        finally:
            consumer.close()
            self.topic.flush()
        return self.summary

    def _assign(self, consumer: Consumer, topics: list[str]) -> set[str]:
        """Assign the partitions of those of `topics` that exist, from their end (now on)."""
        try:
            metadata = consumer.list_topics(timeout=LOOK_FOR_TOPICS_S)
        except KafkaException:
            return set()
        found = [t for t in topics if t in metadata.topics and metadata.topics[t].error is None]
        parts = [TopicPartition(t, p, OFFSET_END) for t in found for p in metadata.topics[t].partitions]
        if parts:
            consumer.incremental_assign(parts)
        return set(found)
