"""`vac produce`: lines of a file or stdin as Kafka messages, as kcat -P sends them.

Each non-empty line is one message (the newline dropped, anything else kept, bytes as they
are); with a key delimiter the line is split at its first occurrence into key and value (a line
without it has no key), as kcat -K does. Every message is sent with acks=all through an
idempotent VacProducer; the result counts what the brokers acknowledged and what failed, so the
command can exit non-zero when any message did not arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka.admin import AdminClient

from vac.errors import UsageError
from vac.kafka.client import connect
from vac.kafka.producing import Stopped, VacProducer
from vac.kafka.topics import check_topics
from vac.settings import KafkaSettings
from vac.topicnames import check_topic_name

MAX_LINE = 64 * 1024 * 1024
"""No line is held beyond this (a file without newlines must not fill the memory)."""


@dataclass(frozen=True)
class ProduceSpec:
    topic: str
    key: bytes | None = None
    """The key of every message (`--key`)."""
    key_delimiter: bytes | None = None
    """Split each line at the first occurrence into key and value (`-K`)."""
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    validate_json: bool = False
    """Send only values that parse as JSON; count the others as failed."""

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        if self.key is not None and self.key_delimiter is not None:
            raise UsageError("--key and -K do not go together: the key is fixed or read from each line")
        if self.key_delimiter == b"":
            raise UsageError("-K: the key delimiter is empty")


@dataclass
class ProduceResult:
    topic: str
    sent: int = 0
    acked: int = 0
    failed: int = 0
    not_json: int = 0
    first_error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.not_json == 0

    def fail(self, reason: str) -> None:
        self.failed += 1
        if self.first_error is None:
            self.first_error = reason

    def to_json(self) -> dict[str, Any]:
        elapsed = (self.finished or time.monotonic()) - self.started
        return {
            "topic": self.topic,
            "sent": self.sent,
            "acked": self.acked,
            "failed": self.failed,
            "not_json": self.not_json,
            "first_error": self.first_error,
            "elapsed_s": round(elapsed, 3),
        }


def parse_headers(given: Iterable[str]) -> list[tuple[str, bytes]]:
    """`-H name=value` flags (repeatable, a name may repeat) as header pairs."""
    headers = []
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(f"-H {item}: no header name and `=` in it", hint="give NAME=VALUE, e.g. -H source=vac")
        headers.append((name, value.encode("utf-8", "surrogateescape")))
    return headers


def split_lines(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """Lines without their newline, empty ones skipped (as kcat -P)."""
    for line in chunks:
        if len(line) > MAX_LINE:
            raise UsageError(f"a line is longer than {MAX_LINE:,} bytes", hint="is the input a text file of lines?")
        line = line.removesuffix(b"\n")
        if line:
            yield line


def produce_lines(
    kafka: KafkaSettings, spec: ProduceSpec, lines: Iterable[bytes], cancelled: threading.Event | None = None
) -> ProduceResult:
    """Send each line of `lines` (each ending in a newline or not) to `spec.topic` and wait
    for every acknowledgement; the result says what arrived."""
    check_topics(connect(AdminClient, kafka), [spec.topic])  # TopicNotFound with suggestions, not a timeout
    # Long enough to ride out a leader election; short enough that a dead cluster is reported.
    timeout_ms = int(max(kafka.timeout_s * 6, 30) * 1000)
    result = ProduceResult(spec.topic)
    not_delivered = 0  # of the messages sent

    def failed(error: KafkaError | None, _message: Message) -> None:
        nonlocal not_delivered
        if error is not None:
            not_delivered += 1
            result.fail(error.str())

    # Reports of failures only: a Python callback per acknowledged message would cost more than
    # the rest of the loop. What was sent, did not fail and is not left after the flush arrived.
    producer = VacProducer(
        kafka,
        acks="all",
        on_delivery=failed,
        **{"enable.idempotence": True, "message.timeout.ms": timeout_ms, "delivery.report.only.error": True},
    )
    headers: list[tuple[str, str | bytes | None]] | None = list(spec.headers) or None
    send = producer.producer.produce
    try:
        for number, line in enumerate(split_lines(lines), start=1):
            if cancelled is not None and cancelled.is_set():
                break
            key, value = spec.key, line
            if spec.key_delimiter is not None:
                found, delimiter, rest = line.partition(spec.key_delimiter)
                key, value = (found, rest) if delimiter else (None, line)
            if spec.validate_json and not _is_json(value):
                result.not_json += 1
                if result.first_error is None:
                    result.first_error = f"line {number} is not JSON"
                continue
            try:
                try:  # the hot path: the client's own call; the helper when its queue is full
                    send(spec.topic, value, key, headers=headers)
                except BufferError:
                    producer.produce_when_room(spec.topic, value, key, headers=headers, cancelled=cancelled)
            except KafkaException as exc:  # refused before sending, e.g. larger than message.max.bytes
                result.fail(f"line {number}: {exc.args[0].str() if exc.args else exc}")
                continue
            result.sent += 1
            if result.sent % 10_000 == 0:
                producer.poll(0)
    except Stopped:
        pass
    finally:
        left = producer.flush(timeout_ms / 1000 + kafka.timeout_s)
        for _ in range(left):
            result.fail("no acknowledgement before the timeout")
        result.acked = result.sent - not_delivered - left
        result.finished = time.monotonic()
    return result


def _is_json(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True
