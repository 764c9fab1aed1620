"""What the dashboard's background readers hand to the one thread that owns `DashState`:
immutable updates, parsed on the reader's thread, through a bounded `Inbox`. The owner (the
screen's thread, or the summary loop without a terminal) applies them; nothing is shared
under a lock the owner waits on."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from vac.alarms.topic import parse_doc
from vac.dash.pipeline import PipelineSnapshot

Batch = list[tuple[str, bytes, int]]
"""(topic, value, timestamp ms) of the messages that arrived together."""


@dataclass(frozen=True, slots=True)
class ScadaChanges:
    records: tuple[tuple[Any, float | None], ...]
    """(parsed record or None if unreadable, message time in epoch seconds or None)."""


@dataclass(frozen=True, slots=True)
class LogRecords:
    docs: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AlarmMessages:
    docs: tuple[dict[str, Any], ...]
    """Checked messages of the alarm topic (`vac.alarms.topic.parse_doc`), in order."""


@dataclass(frozen=True, slots=True)
class Heartbeats:
    records: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PipelineChecked:
    snapshot: PipelineSnapshot


@dataclass(frozen=True, slots=True)
class FeedProblem:
    feed: str
    problem: str
    """Empty when the feed reads again."""


Update = ScadaChanges | LogRecords | AlarmMessages | Heartbeats | PipelineChecked | FeedProblem
Post = Callable[[Update], None]


def _loads(value: bytes) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def scada_changes(batch: Batch) -> ScadaChanges:
    return ScadaChanges(tuple((_loads(value), ms / 1000 if ms > 0 else None) for _topic, value, ms in batch))


def log_records(batch: Batch) -> LogRecords:
    docs = (_loads(value) for _topic, value, _ms in batch)
    return LogRecords(tuple(doc for doc in docs if isinstance(doc, dict)))


def alarm_messages(batch: Batch) -> AlarmMessages:
    docs = (parse_doc(value) for _topic, value, _ms in batch)
    return AlarmMessages(tuple(doc for doc in docs if doc is not None))


def heartbeats(batch: Batch) -> Heartbeats:
    return Heartbeats(tuple(record for _topic, value, _ms in batch if (record := _loads(value)) is not None))


INBOX_MOST = 8
"""Updates the inbox holds. A reader's update is up to `vac.dash.feeds.BATCH_MOST` (500) parsed
records, about 1 KB each as Python dicts: about 4 MB; 64 updates of 2,000 held up to 130 MB of
dicts while the dashboard caught up on its history, and the heap kept that size."""


class Inbox:
    """Updates from the readers to the owner of the state. Bounded: when the owner falls
    behind, the readers wait (and Kafka keeps the rest), so memory stays put whatever the input
    rate; the owner never waits on the readers. Closing it releases a reader waiting to post."""

    def __init__(self, most: int = INBOX_MOST) -> None:
        self._queue: queue.Queue[Update] = queue.Queue(most)
        self._closed = threading.Event()

    def post(self, update: Update) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(update, timeout=0.2)
                return
            except queue.Full:
                continue

    def take(self, timeout_s: float, most: int = 64) -> list[Update]:
        """Up to `most` of what arrived, waiting up to `timeout_s` for the first: several
        updates, one hand-over."""
        try:
            taken = [self._queue.get(timeout=timeout_s)]
        except queue.Empty:
            return []
        while len(taken) < most:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return taken

    def close(self) -> None:
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()
