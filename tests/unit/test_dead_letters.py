"""What `vac index` puts on the dead-letter topic when a record cannot be indexed: a reason cut
to a bounded size, and, when the record itself is too large to carry with its headers, a dead
letter without it that says where it is, rather than a stop on the same batch at every run."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Producer

from vac.kafka.client import quiet_logger
from vac.kafka.producing import VacProducer
from vac.logs.indexer import (
    CUT_MARKER,
    DROPPED_HEADER,
    MAX_REASON_BYTES,
    ORIGIN_HEADER,
    REASON_HEADER,
    IndexOptions,
    LogIndexer,
    capped,
)
from vac.settings import VacSettings


def test_a_long_reason_is_cut_to_its_cap_on_a_character_boundary_and_marked() -> None:
    reason = ("mapper_parsing_exception: " + "é" * 5000).encode()
    cut = capped(reason, MAX_REASON_BYTES)
    assert len(cut) <= MAX_REASON_BYTES and cut.endswith(CUT_MARKER)
    assert cut.decode().startswith("mapper_parsing_exception: éé")  # still valid UTF-8
    assert capped(b"short", MAX_REASON_BYTES) == b"short"


class RecordingProducer(Producer):
    """A real producer (its own size check, no broker) that keeps what it was given."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.produced: list[tuple[bytes | None, dict[str, bytes]]] = []

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any) -> None:
        super().produce(topic, value, key, **kwargs)
        self.produced.append((value, dict(kwargs.get("headers") or [])))


def test_a_dead_letter_too_large_with_its_headers_goes_without_its_value() -> None:
    indexer = LogIndexer(VacSettings(), IndexOptions(["vac.logs"], "vac-index"))  # no request made
    dlq = RecordingProducer({"bootstrap.servers": "127.0.0.1:1", "message.max.bytes": 4000, "logger": quiet_logger()})
    indexer._dlq = VacProducer(VacSettings().kafka)
    indexer._dlq.producer = dlq
    try:
        # A value that fits alone; with a reason quoting it, the dead letter would not.
        indexer._dead_letter(b"x" * 3500, "mapper_parsing_exception: " + "x" * 3500, "logs-lhc_1-2026.11", "logs/3/42")
    finally:
        dlq.purge()
    [(value, headers)] = dlq.produced
    assert value is None
    assert headers[DROPPED_HEADER] == b"3500" and headers[ORIGIN_HEADER] == b"logs/3/42"
    assert len(headers[REASON_HEADER]) <= MAX_REASON_BYTES
    assert indexer.counters.dead_lettered == 1
