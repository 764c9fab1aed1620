"""The Elasticsearch sink of `vac ship logs`: straight to Elasticsearch, for small setups
without Kafka. A module of its own: importing Elasticsearch's client costs about 0.15 s, which
the shippers that send to Kafka should not pay."""

from __future__ import annotations

import threading
import time

from vac.es.bulk import BulkBatch, BulkCancelled, BulkItem, bulk_index
from vac.es.client import make_client
from vac.logs.sinks import AckCallback, FailCallback, SinkCancelled
from vac.settings import VacSettings


class ElasticsearchSink:
    """Direct to Elasticsearch (small setups), batched by the indexer's rule (`index.batch_*`).
    Documents Elasticsearch rejects for good are reported and counted."""

    needs_index = True

    def __init__(self, settings: VacSettings, on_ack: AckCallback, on_reject: FailCallback, cancelled: threading.Event):
        self._on_ack, self._on_reject, self._cancelled = on_ack, on_reject, cancelled
        self.client = make_client(settings.elasticsearch)
        index = settings.index
        self._batch: BulkBatch[bytes] = BulkBatch(index.batch_docs, int(index.batch_mb * (1 << 20)), index.batch_s)

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        self._batch.add(key, BulkItem(index, doc_id, value))
        if self._batch.is_due():
            self._send_batch()

    def poll(self, timeout_s: float = 0) -> None:
        if self._batch.is_due():
            self._send_batch()
        elif timeout_s:
            time.sleep(timeout_s)

    def _send_batch(self) -> None:
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
