"""Delivery reports as librdkafka gives them: `failed` only for messages known not to be stored;
a timeout after sending (perhaps stored) is `unknown`."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, Message

from vac.kafka.delivery import Outcome, outcome_of
from vac.kafka.producing import VacProducer
from vac.records.badinput import BadInput
from vac.records.change import Change
from vac.records.dpe import Dpe
from vac.scada.streamer import ScadaStreamer, StreamOptions
from vac.settings import KafkaSettings, VacSettings


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (KafkaError._MSG_TIMED_OUT, Outcome.UNKNOWN),  # the broker paused past message.timeout.ms
        (KafkaError._PURGE_INFLIGHT, Outcome.UNKNOWN),
        (KafkaError._FATAL, Outcome.UNKNOWN),
        (KafkaError._DESTROY, Outcome.UNKNOWN),
        (KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, Outcome.UNKNOWN),
        (KafkaError.REQUEST_TIMED_OUT, Outcome.UNKNOWN),
        (KafkaError._TRANSPORT, Outcome.UNKNOWN),
        (KafkaError._PURGE_QUEUE, Outcome.FAILED),
        (KafkaError.MSG_SIZE_TOO_LARGE, Outcome.FAILED),
        (KafkaError.TOPIC_AUTHORIZATION_FAILED, Outcome.FAILED),
        (KafkaError.INVALID_TIMESTAMP, Outcome.FAILED),
        (KafkaError.NOT_ENOUGH_REPLICAS, Outcome.FAILED),
        (KafkaError.UNKNOWN_TOPIC_OR_PART, Outcome.FAILED),
    ],
    ids=lambda value: getattr(value, "name", None) or str(value),
)
def test_a_delivery_error_is_failed_only_when_it_proves_the_message_is_not_stored(code: int, outcome: Outcome) -> None:
    assert outcome_of(KafkaError(code)) is outcome
    assert outcome_of(KafkaError(code, retriable=True)) is outcome  # the flag says retry, not stored


def test_no_error_is_acked() -> None:
    assert outcome_of(None) is Outcome.ACKED


def test_the_streamer_counts_timed_out_changes_as_unknown_not_failed() -> None:
    streamer = ScadaStreamer(VacSettings(), [Dpe("A.PR", "A", "p", "float", "S", "M", "1")], StreamOptions())
    counters = streamer.counters
    counters.sent = 5
    streamer._delivered(None, Message(latency=0.004))
    streamer._delivered(KafkaError(KafkaError._MSG_TIMED_OUT), Message())
    streamer._delivered(KafkaError(KafkaError._MSG_TIMED_OUT), Message())
    streamer._delivered(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE), Message())
    assert (counters.acked, counters.unknown, counters.failed, counters.in_flight) == (1, 2, 1, 1)
    summary = streamer.summary(BadInput(), unflushed=0)
    assert (summary.acked, summary.unknown, summary.failed, summary.in_flight) == (1, 2, 1, 1)
    assert summary.first_unknown == "Local: Message timed out"
    assert summary.first_failure == "Broker: Message size too large"


def test_a_change_too_large_for_kafka_is_failed_and_the_stream_goes_on() -> None:
    dpes = [Dpe("A.TEXT", "A", "p", "string", "S", "M", "1"), Dpe("A.PR", "A", "p", "float", "S", "M", "1")]
    streamer = ScadaStreamer(VacSettings(), dpes, StreamOptions())
    # librdkafka refuses a message over message.max.bytes in `produce`, before any broker.
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1", properties={"message.max.bytes": 1000})
    streamer._out = VacProducer(kafka)
    producer = streamer._out.producer
    batch = [Change("A.TEXT", "x" * 100_000, 1_700_000_000_000_000), Change("A.PR", 1e-9, 1_700_000_000_000_000)]
    streamer._stream_batch(producer, batch, 0.0, BadInput())
    counters = streamer.counters
    assert (counters.sent, counters.failed, counters.in_flight) == (2, 1, 1)
    summary = streamer.summary(BadInput(), unflushed=0)
    assert summary.failed == 1 and "too large" in summary.first_failure
    producer.purge()
