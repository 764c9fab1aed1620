"""Reading topics for the dashboard on a background thread: from `history_s` ago, then live.
The feed survives Kafka going away (it says so, and resumes by itself) and topics that do not
exist yet (it looks again). It hands on what it read and what went wrong through callbacks, on
its own thread; it keeps no state anyone else reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from vac.dash.updates import Batch
from vac.kafka.client import take_available
from vac.kafka.consuming import new_consumer
from vac.settings import VacSettings

RETRY_S = 2.0
BATCH_MOST = 500
"""Messages a reader hands on in one update. Every update in flight (the inbox's, the one being
applied) is parsed records, about 1 KB each as Python dicts: 2,000 a batch kept up to 26 MB of
them, and Python's allocator keeps the arenas of its high-water mark. 500 is still 20 updates a
second at 10,000 changes/s, which the screen's thread takes in a few calls."""
PREFETCH_KB = 8192
"""What librdkafka may fetch ahead of the dashboard, per consumer: its default (64 MB) was held
while the dashboard caught up on `history_s` of a 10,000 changes/s topic, and kept in its RSS
(scripts/bench/dash_memory.py: 294 -> 221 MB after a minute). 8 MB is still seconds of input."""


class TopicFeed:
    def __init__(
        self,
        settings: VacSettings,
        topics: list[str],
        history_s: float,
        on_batch: Callable[[Batch], None],
        on_problem: Callable[[str], None] = lambda problem: None,
    ) -> None:
        self.settings, self.topics, self.history_s, self.on_batch = settings, topics, history_s, on_batch
        self.on_problem = on_problem
        self.problem = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"feed-{'+'.join(topics)}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(5)

    def _error(self, error: KafkaError) -> None:
        if error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            self._set_problem("no connection to Kafka")

    def _set_problem(self, problem: str) -> None:
        """Say so only when it changed: a message per batch would cost the screen for nothing."""
        if problem != self.problem:
            self.problem = problem
            self.on_problem(problem)

    def _run(self) -> None:
        consumer = new_consumer(
            self.settings.kafka,
            "vac-dash",
            {"enable.auto.commit": False, "enable.partition.eof": False, "queued.max.messages.kbytes": PREFETCH_KB},
            error_cb=self._error,
        )
        try:
            assigned: set[str] = set()
            next_look = 0.0
            while not self._stop.is_set():
                if len(assigned) < len(self.topics) and time.monotonic() >= next_look:
                    next_look = time.monotonic() + RETRY_S
                    assigned |= self._assign_new(consumer, assigned)
                if not assigned:
                    self._stop.wait(0.2)
                    continue
                messages = take_available(consumer, BATCH_MOST, 0.1)
                batch: Batch = []
                for message in messages:
                    if message.error() is None:
                        batch.append((message.topic() or "", message.value() or b"", message.timestamp()[1]))
                if batch:
                    self._set_problem("")
                    self.on_batch(batch)
        finally:
            consumer.close()

    def _assign_new(self, consumer: Consumer, assigned: set[str]) -> set[str]:
        """Assign the partitions of the topics that exist now, from `history_s` ago."""
        try:
            metadata = consumer.list_topics(timeout=RETRY_S)
        except KafkaException:
            self._set_problem("no connection to Kafka")
            return set()
        self._set_problem("")  # the brokers answered again
        since_ms = int((time.time() - self.history_s) * 1000)
        new = [t for t in self.topics if t not in assigned and t in metadata.topics]
        wanted = [TopicPartition(t, p, since_ms) for t in new for p in metadata.topics[t].partitions]
        if not wanted:
            return set()
        try:
            starts = consumer.offsets_for_times(wanted, timeout=RETRY_S)
        except KafkaException:
            return set()
        # No message since then: start at the end (-1 from offsets_for_times means "none").
        for tp in starts:
            if tp.offset < 0:
                tp.offset = -1  # OFFSET_END
        consumer.incremental_assign(starts)
        return set(new)
