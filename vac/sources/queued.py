"""The bridge between sources that deliver on their own thread (OPC UA, MQTT) and the
streamer's loop: a bounded queue, drained in batches."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from vac.records.change import Change

MAX_QUEUED = 200_000


class ChangeQueue:
    def __init__(self) -> None:
        # Bounded: when Kafka is slow the streamer drains slowly, `put` blocks the source's
        # thread, and the protocol's own flow control (TCP windows) slows the server.
        self.queue: queue.Queue[Change] = queue.Queue(MAX_QUEUED)
        self.failure: BaseException | None = None

    def put(self, change: Change) -> None:
        self.queue.put(change)

    def batches(self, cancelled: threading.Event, max_batch: int = 5000) -> Iterator[list[Change]]:
        while not cancelled.is_set():
            if self.failure is not None:
                raise self.failure
            batch: list[Change] = []
            try:
                batch.append(self.queue.get(timeout=0.05))
                while len(batch) < max_batch:
                    batch.append(self.queue.get_nowait())
            except queue.Empty:
                pass
            yield batch
