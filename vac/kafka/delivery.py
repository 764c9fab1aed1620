"""What a producer's delivery report says about one message: stored, not stored, or unknown.

librdkafka knows a third outcome besides acked and refused: a message sent to the broker
whose acknowledgement never came (the broker paused or cut off for longer than
`message.timeout.ms`) may or may not be in the log (its `POSSIBLY_PERSISTED` status).
confluent-kafka's Python `Message` does not expose that status (2.16 has no `status()` or
`persisted()`), so the outcome is read from the error code: only errors that prove the
message was not written count as failed; a timeout, a purge of in-flight requests or any
error not known to be a refusal is unknown. "failed" thus always means "not stored", and
acked <= stored <= acked + unknown. The streamer calls `outcome_of` in its delivery callback.
"""

from __future__ import annotations

from enum import Enum

from confluent_kafka import KafkaError


class Outcome(Enum):
    ACKED = "acked"
    """In the log: the broker acknowledged it (acks=all: on every in-sync replica)."""
    FAILED = "failed"
    """Not in the log: never sent, or refused by the broker before it was appended."""
    UNKNOWN = "unknown"
    """Sent, but no answer came: it may be in the log or not. Read the topic to know."""


def _codes(*names: str) -> frozenset[int]:
    # getattr: a name a given confluent-kafka lacks is one error it cannot report.
    return frozenset(code for name in names if (code := getattr(KafkaError, name, None)) is not None)


NOT_STORED = _codes(
    # Local: the message never left the client.
    "_PURGE_QUEUE",
    "_UNKNOWN_TOPIC",
    "_UNKNOWN_PARTITION",
    "_INVALID_ARG",
    "_KEY_SERIALIZATION",
    "_VALUE_SERIALIZATION",
    # The broker refused the batch before appending it.
    "MSG_SIZE_TOO_LARGE",
    "RECORD_LIST_TOO_LARGE",
    "INVALID_MSG",
    "INVALID_RECORD",
    "INVALID_TIMESTAMP",
    "INVALID_REQUIRED_ACKS",
    "TOPIC_AUTHORIZATION_FAILED",
    "CLUSTER_AUTHORIZATION_FAILED",
    "UNKNOWN_TOPIC_OR_PART",
    "UNKNOWN_TOPIC_ID",
    "TOPIC_EXCEPTION",
    "POLICY_VIOLATION",
    "NOT_ENOUGH_REPLICAS",  # checked before the append (unlike NOT_ENOUGH_REPLICAS_AFTER_APPEND)
    "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    "UNSUPPORTED_VERSION",
)
"""Errors that prove a message is not in the log. Everything else (_MSG_TIMED_OUT,
_PURGE_INFLIGHT, _FATAL, _DESTROY, NOT_ENOUGH_REPLICAS_AFTER_APPEND, transport errors...) may
come after the broker wrote it."""


def outcome_of(error: KafkaError | None) -> Outcome:
    if error is None:
        return Outcome.ACKED
    return Outcome.FAILED if error.code() in NOT_STORED else Outcome.UNKNOWN
