"""Bulk indexing that loses nothing: a request Elasticsearch could not take (429, 5xx, no
connection) is retried with backoff until it goes through or the caller gives up; documents
it rejects for good (mapping errors, or alone in a request it answers 400) come back with the
reason, for a dead-letter topic."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import elasticsearch
import orjson
from elasticsearch import Elasticsearch

from vac.es.client import describe_api_error

log = logging.getLogger("vac.es")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SPLIT_STATUSES = frozenset({400, 413})
MAX_BACKOFF_S = 5.0
ANSWER_FIELDS = "errors,items.*.status,items.*.error"
"""What vac reads of a bulk answer: Elasticsearch leaves out the rest of each item (index, id,
version, shards, seq_no...), about 8x fewer bytes to receive and parse, in the same order."""


class BulkCancelled(Exception):
    """Given up while Elasticsearch was away: nothing of the batch may be counted as done."""


@dataclass(frozen=True)
class BulkItem:
    index: str
    id: str
    source: bytes
    """The document, already JSON."""


Source = TypeVar("Source")


class BulkBatch(Generic[Source]):
    """Documents gathered for one bulk request, each beside what it came from (a Kafka
    message, a file key) so the caller can acknowledge it. A source may have no document (it
    could not be parsed): it is still acknowledged with the batch. The batch is due when it
    holds `max_docs` sources or `max_bytes`, or its first source is `max_age_s` old."""

    def __init__(self, max_docs: int, max_bytes: int, max_age_s: float) -> None:
        self.max_docs, self.max_bytes, self.max_age_s = max_docs, max_bytes, max_age_s
        self.items: list[BulkItem] = []
        self.sources: list[Source] = []
        self.item_sources: list[Source] = []
        """The source of each item, in step with `items` (sources without a document have none)."""
        self.bytes = 0
        self.started = 0.0

    def add(self, source: Source, item: BulkItem | None) -> None:
        if not self.sources:
            self.started = time.monotonic()
        self.sources.append(source)
        if item is not None:
            self.items.append(item)
            self.item_sources.append(source)
            self.bytes += len(item.source)

    def __len__(self) -> int:
        return len(self.sources)

    def is_due(self) -> bool:
        if not self.sources:
            return False
        full = len(self.sources) >= self.max_docs or self.bytes >= self.max_bytes
        return full or time.monotonic() - self.started >= self.max_age_s

    def take(self) -> BulkBatch[Source]:
        """This batch's contents as a batch of their own; this one starts empty."""
        taken: BulkBatch[Source] = BulkBatch(self.max_docs, self.max_bytes, self.max_age_s)
        taken.items, taken.sources, taken.bytes, taken.started = self.items, self.sources, self.bytes, self.started
        taken.item_sources, self.item_sources = self.item_sources, []
        self.items, self.sources, self.bytes = [], [], 0
        return taken


@dataclass
class BulkOutcome:
    indexed: int = 0
    rejected: list[tuple[BulkItem, str]] = field(default_factory=list)
    retries: int = 0


def _body(items: Sequence[BulkItem]) -> bytes:
    parts = []
    for item in items:
        parts.append(orjson.dumps({"index": {"_index": item.index, "_id": item.id}}))
        parts.append(item.source)
    return b"\n".join(parts) + b"\n"


def bulk_index(client: Elasticsearch, items: Sequence[BulkItem], cancelled: threading.Event) -> BulkOutcome:
    """Index `items`; return when each is indexed or rejected for good."""
    outcome = BulkOutcome()
    pending = list(items)
    backoff = 0.1
    while pending:
        try:
            # The client sends a body of bytes as it is: one NDJSON body, no re-encoding.
            response = client.bulk(operations=_body(pending), filter_path=ANSWER_FIELDS)  # type: ignore[arg-type]
        except (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout) as exc:
            retry_reason = f"no answer ({type(exc).__name__})"
            retry = pending
        except elasticsearch.ApiError as exc:
            status = exc.meta.status
            if status == 400 and len(pending) == 1:  # the one document that spoils a request
                outcome.rejected.append((pending[0], f"request refused: {describe_api_error(exc)}"))
                return outcome
            if status in SPLIT_STATUSES and len(pending) > 1:
                # Too large (413), or one document spoils the whole request (400, e.g. an id
                # over 512 bytes): halve until the good ones go through and the bad one is alone.
                half = len(pending) // 2
                for part in (pending[:half], pending[half:]):
                    done = bulk_index(client, part, cancelled)
                    outcome.indexed += done.indexed
                    outcome.rejected += done.rejected
                    outcome.retries += done.retries
                return outcome
            if status not in RETRY_STATUSES and status != 413:
                raise  # not about the documents (401, 403...): vac.es.client made it a VacError
            retry_reason, retry = f"HTTP {status}", pending
        else:
            if response.get("errors") is False:
                outcome.indexed += len(pending)
                return outcome
            retry = []
            for item, result in zip(pending, response["items"], strict=True):
                status = result["index"]["status"]
                if status < 300:
                    outcome.indexed += 1
                elif status in RETRY_STATUSES:
                    retry.append(item)
                else:
                    error = result["index"].get("error", {})
                    outcome.rejected.append((item, f"{error.get('type', status)}: {error.get('reason', '')}"))
            retry_reason = f"{len(retry)} documents refused for now"
        pending = retry
        if pending:
            outcome.retries += 1
            if outcome.retries == 1 or outcome.retries % 20 == 0:
                log.warning("Elasticsearch: %s; retrying %d documents", retry_reason, len(pending))
            if cancelled.wait(backoff):
                raise BulkCancelled
            backoff = min(backoff * 2, MAX_BACKOFF_S)
    return outcome
