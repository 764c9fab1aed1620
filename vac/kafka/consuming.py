"""The consumer's edge: where what a librdkafka Consumer raises or reports becomes a VacError.

`consume`, `poll` and a synchronous `commit` raise KafkaException for what librdkafka cannot
retry (a group the principal may not use, a commit after the group moved on, a fatal client
error); a topic the principal may not read arrives as an error message instead, and is never
retried. Either way nothing more can be read as asked, so the job stops with one `vac: error:`
line naming the cause. Transient errors (a broker restarting, a leader moving) stay with
librdkafka, which retries them; end-of-partition and unknown-topic events are the caller's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from vac.errors import KafkaUnavailable, PermissionDenied, VacError
from vac.kafka.client import ClientErrors, Connection, client_config, new_client, quiet_logger
from vac.settings import KafkaSettings

_AUTHORIZATION = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    }
)

Rebalance = Callable[[Consumer, list[TopicPartition]], None]

UNGROUPED = {"group.id": "vac-ungrouped", "enable.auto.commit": False, "enable.auto.offset.store": False}
"""For a consumer that assigns its partitions itself and never commits (librdkafka wants a
group id all the same): tail, topic descriptions."""


def new_consumer(
    kafka: KafkaSettings,
    group: str | None,
    tuning: dict[str, Any] | None = None,
    *,
    error_cb: Callable[[KafkaError], None] | None = None,
) -> Consumer:
    """The one place vac makes a librdkafka Consumer: the client configuration of `kafka`
    (brokers, security, `kafka.properties`), librdkafka's log kept quiet, the consumer group
    `group` (None: `UNGROUPED`), then the caller's `tuning`. Every reader of a topic (the
    indexer, tail, the dash, the probe, topic descriptions) starts here, so a secured stack is
    set up once for all of them."""
    grouping = UNGROUPED if group is None else {"group.id": group}
    callbacks: dict[str, Any] = {} if error_cb is None else {"error_cb": error_cb}
    config = client_config(kafka, logger=quiet_logger(), **callbacks, **(grouping | (tuning or {})))
    return new_client(Consumer, config)


def connect_consumer(kafka: KafkaSettings, group: str | None, tuning: dict[str, Any] | None = None) -> Connection:
    """`new_consumer` whose authentication and TLS failures are kept, for `cluster_metadata`
    to name them (see `vac.kafka.client.connect`)."""
    errors = ClientErrors()
    return Connection(new_consumer(kafka, group, tuning, error_cb=errors), kafka, errors)


class VacConsumer:
    """A librdkafka Consumer whose `consume`, `poll` and `commit` raise VacErrors (see the
    module). The messages it returns may still carry errors the caller has a policy for."""

    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        self.kafka = kafka
        self.group = str(overrides.get("group.id", ""))
        group = overrides.pop("group.id", None)
        self.consumer: Consumer = new_consumer(kafka, None if group is None else str(group), overrides)

    def subscribe(
        self, topics: list[str], on_assign: Rebalance | None = None, on_revoke: Rebalance | None = None
    ) -> None:
        callbacks: dict[str, Rebalance] = {}
        if on_assign is not None:
            callbacks["on_assign"] = on_assign
        if on_revoke is not None:
            callbacks["on_revoke"] = on_revoke
        try:
            self.consumer.subscribe(topics, **callbacks)
        except KafkaException as exc:
            raise self.failed(exc, "subscribe to " + ", ".join(topics)) from None

    def consume(self, num_messages: int, timeout_s: float) -> list[Message]:
        try:
            messages = self.consumer.consume(num_messages=num_messages, timeout=timeout_s)
        except KafkaException as exc:
            raise self.failed(exc, "read") from None
        for message in messages:
            self.check(message)
        return messages

    def poll(self, timeout_s: float) -> Message | None:
        try:
            message = self.consumer.poll(timeout_s)
        except KafkaException as exc:
            raise self.failed(exc, "read") from None
        if message is not None:
            self.check(message)
        return message

    def commit(self, *, offsets: list[TopicPartition] | None = None, message: Message | None = None) -> None:
        """Commit synchronously: return once the group coordinator has stored the offsets."""
        try:
            if message is not None:
                committed = self.consumer.commit(message=message, asynchronous=False)
            elif offsets is not None:
                committed = self.consumer.commit(offsets=offsets, asynchronous=False)
            else:
                committed = self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            raise self.failed(exc, "commit offsets") from None
        # A commit the coordinator took only in part says so per partition, not by raising.
        for partition in committed or []:
            if partition.error is not None:
                doing = f"commit offsets of {partition.topic!r}"
                raise consumer_failed(self.kafka, self.group, partition.error, doing)

    def close(self) -> None:
        # Leaving the group commits nothing (vac commits itself); a failure here loses nothing.
        with contextlib.suppress(KafkaException, RuntimeError):
            self.consumer.close()

    def check(self, message: Message) -> None:
        """Raise for an error message that ends the read: a refusal, or a fatal client error."""
        error = message.error()
        if error is None:
            return
        if error.code() in _AUTHORIZATION or error.fatal():
            raise consumer_failed(self.kafka, self.group, error, f"read topic {message.topic()!r}")

    def failed(self, exc: KafkaException, doing: str) -> VacError:
        error = exc.args[0] if exc.args else None
        if not isinstance(error, KafkaError):
            return KafkaUnavailable(f"Kafka at {self.kafka.bootstrap_servers}: could not {doing}: {exc}")
        return consumer_failed(self.kafka, self.group, error, doing)


def consumer_failed(kafka: KafkaSettings, group: str, error: KafkaError, doing: str) -> VacError:
    """The VacError for a consumer that could not `doing` because of `error`."""
    if error.code() in _AUTHORIZATION:
        in_group = f" and the consumer group {group!r}" if group else ""
        return PermissionDenied(
            f"Kafka at {kafka.bootstrap_servers} refused to let vac {doing}: {error.str()}",
            hint=f"the principal needs READ and DESCRIBE on the topic{in_group}",
        )
    return KafkaUnavailable(
        f"Kafka at {kafka.bootstrap_servers}: could not {doing}: {error.str()}",
        hint="nothing was committed past what was done: the next run starts from there",
    )
