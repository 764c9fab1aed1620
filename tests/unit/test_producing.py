"""The produce loop every vac producer shares: a full queue is waited out (nothing dropped),
a cancelled wait gives up, a refusal of one message is the caller's, and a producer librdkafka
stopped for good becomes one VacError naming the cause."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from vac.errors import KafkaUnavailable, PermissionDenied
from vac.kafka.producing import Stopped, VacProducer
from vac.settings import KafkaSettings


class FullQueue:
    """A producer whose queue is full for its first `full` calls."""

    def __init__(self, full: int) -> None:
        self.full, self.polls, self.produced = full, 0, 0

    def produce(self, *_args: Any, **_kwargs: Any) -> None:
        if self.full:
            self.full -= 1
            raise BufferError("Local: Queue full")
        self.produced += 1

    def poll(self, _timeout: float) -> int:
        self.polls += 1
        return 0


def producer_with(fake: object) -> VacProducer:
    producer = VacProducer(KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    producer.producer = fake  # type: ignore[assignment]
    return producer


def test_a_full_queue_is_waited_out_not_fatal() -> None:
    fake = FullQueue(full=3)
    producer_with(fake).produce_when_room("dlq", b"v", headers=[("h", b"1")], on_delivery=lambda *_: None)
    assert (fake.produced, fake.polls) == (1, 3)


def test_a_full_queue_gives_up_when_cancelled() -> None:
    fake, cancelled = FullQueue(full=10), threading.Event()
    cancelled.set()
    with pytest.raises(Stopped):
        producer_with(fake).produce_when_room("dlq", b"v", cancelled=cancelled)
    assert fake.produced == 0


def raised(code: int, fatal: bool = False) -> KafkaException:
    return KafkaException(KafkaError(code, "Broker: Cluster authorization failed", fatal=fatal))


def test_a_refusal_of_one_message_is_not_a_stop() -> None:
    producer = producer_with(FullQueue(full=0))
    assert producer.stopped_error(raised(KafkaError.MSG_SIZE_TOO_LARGE)) is None
    assert producer.stopped_error(KafkaException("not a KafkaError")) is None


@pytest.mark.parametrize(
    ("code", "kind", "start"),
    [
        (KafkaError.CLUSTER_AUTHORIZATION_FAILED, PermissionDenied, "Kafka at 127.0.0.1:1 refused to let vac write: "),
        (KafkaError.TOPIC_AUTHORIZATION_FAILED, PermissionDenied, "Kafka at 127.0.0.1:1 refused to let vac write: "),
        (KafkaError.INVALID_PRODUCER_EPOCH, KafkaUnavailable, "the Kafka producer stopped for good: "),
    ],
)
def test_a_fatal_error_stops_with_one_error_naming_the_cause(code: int, kind: type, start: str) -> None:
    error = producer_with(FullQueue(full=0)).stopped_error(raised(code, fatal=True))
    assert isinstance(error, kind)
    assert str(error).startswith(start) and "Cluster authorization failed" in str(error)
    assert error.hint


def test_produce_after_the_stop_names_the_first_cause() -> None:
    """After the fatal error, `produce` only says `_FATAL`; `poll` raises the cause."""

    class Stopped_:
        def poll(self, _timeout: float) -> int:
            raise raised(KafkaError.CLUSTER_AUTHORIZATION_FAILED, fatal=True)

    error = producer_with(Stopped_()).stopped_error(KafkaException(KafkaError(KafkaError._FATAL)))
    assert isinstance(error, PermissionDenied)


def test_a_stop_with_purged_messages_is_its_cause_not_a_system_error() -> None:
    """confluent-kafka calls the purged messages' delivery callbacks with the fatal error still
    pending: `flush` then fails with a SystemError caused by it. It reads as the cause."""

    class PurgedOnFlush:
        def flush(self, _timeout: float) -> int:
            try:
                raise raised(KafkaError.CLUSTER_AUTHORIZATION_FAILED, fatal=True)
            except KafkaException as cause:
                raise SystemError("<method 'key'> returned a result with an exception set") from cause

        def poll(self, timeout: float) -> int:
            return self.flush(timeout)

    producer = producer_with(PurgedOnFlush())
    for call in (lambda: producer.flush(1.0), lambda: producer.poll(0)):
        with pytest.raises(PermissionDenied, match="refused to let vac write: Broker: Cluster authorization failed"):
            call()


def test_a_system_error_of_another_cause_is_not_hidden() -> None:
    class Broken:
        def flush(self, _timeout: float) -> int:
            raise SystemError("something else")

    with pytest.raises(SystemError, match="something else"):
        producer_with(Broken()).flush(1.0)
