"""Consumer groups: listing them with their members and lag, and moving a group's committed
offsets (`vac groups list | describe | reset-offsets`), as kafka-consumer-groups.sh does.

A reset is planned first (`plan_reset`: where each partition is and where it would go) and
applied only on request (`apply_reset`); both refuse a group with active members, whose next
commit would overwrite the reset (the broker refuses it too, with a less useful message).
Re-indexing a day of logs is a reset of the indexer's group to the day's start, then
`vac index --until-caught-up`.
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Literal

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from vac.errors import KafkaUnavailable, PermissionDenied, UsageError, VacError
from vac.kafka.client import Connection, connect
from vac.kafka.consuming import new_consumer
from vac.kafka.topics import check_topics
from vac.settings import KafkaSettings

ResetTo = Literal["earliest", "latest", "time"]
_EMPTY_STATES = frozenset({"EMPTY", "DEAD", "UNKNOWN"})


class GroupNotFound(VacError):
    """No such consumer group (or none with committed offsets)."""

    exit_status = UsageError.exit_status


class GroupActive(VacError):
    """The group has members: its offsets cannot be moved under them."""


@dataclass
class Member:
    member_id: str
    client_id: str
    host: str
    partitions: list[tuple[str, int]]


@dataclass
class PartitionLag:
    topic: str
    partition: int
    committed: int
    """-1: nothing committed."""
    high: int
    low: int

    @property
    def lag(self) -> int:
        return max(0, self.high - self.committed) if self.committed >= 0 else self.high - self.low


@dataclass
class GroupInfo:
    group: str
    state: str
    members: list[Member] = field(default_factory=list)
    offsets: list[PartitionLag] = field(default_factory=list)

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.offsets)

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "state": self.state,
            "members": [vars(m) for m in self.members],
            "lag": self.lag,
            "offsets": [vars(p) | {"lag": p.lag} for p in self.offsets],
        }


@dataclass(frozen=True)
class PlannedMove:
    topic: str
    partition: int
    current: int
    """The committed offset now (-1: none)."""
    new: int


def _failure(error: KafkaError, what: str) -> VacError:
    if error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
        return PermissionDenied(f"not allowed to {what}", hint="ask for DESCRIBE (and READ to reset) on the group")
    if error.code() in (KafkaError.GROUP_ID_NOT_FOUND, KafkaError._UNKNOWN_GROUP):
        return GroupNotFound(f"cannot {what}: no such group", hint="`vac groups list` shows the groups there are")
    if error.code() in (KafkaError.NON_EMPTY_GROUP, KafkaError.UNKNOWN_MEMBER_ID):
        return GroupActive(f"cannot {what}: the group has active members", hint="stop its consumers first")
    return KafkaUnavailable(f"{what} failed: {error.str()}")


def _wait(future: Any, timeout_s: float, what: str) -> Any:
    try:
        return future.result(timeout=timeout_s)
    except KafkaException as exc:
        raise _failure(exc.args[0], what) from None
    except TimeoutError:
        raise KafkaUnavailable(f"{what}: no answer from Kafka within {timeout_s:g} s") from None


def _state(description: Any) -> str:
    state = getattr(description, "state", None)
    return str(getattr(state, "name", state or "UNKNOWN")).upper()


def list_groups(kafka: KafkaSettings) -> list[GroupInfo]:
    """Every consumer group with its state, members and total lag."""
    connection = connect(AdminClient, kafka)
    listed = _wait(connection.client.list_consumer_groups(), kafka.timeout_s, "list the consumer groups")
    return _describe_many(connection, sorted(g.group_id for g in listed.valid))


def describe_group(kafka: KafkaSettings, group: str) -> GroupInfo:
    """One group: state, members with their partitions, committed offsets and lag by partition."""
    _check_group_id(group)
    info = _describe(connect(AdminClient, kafka), group)
    if info.state == "DEAD" and not info.offsets:
        raise GroupNotFound(f"consumer group {group!r} does not exist", hint="`vac groups list` shows the groups")
    return info


def _check_group_id(group: str) -> None:
    # Kafka takes any string as a group id (escape sequences too: they are printed escaped), up
    # to the protocol's string length.
    if not group or len(group.encode("utf-8", "surrogateescape")) > 32_767:
        raise UsageError("a group id is 1..32767 bytes")


def _describe(connection: Connection, group: str) -> GroupInfo:
    return _describe_many(connection, [group])[0]


def _describe_many(connection: Connection, groups: list[str]) -> list[GroupInfo]:
    """The groups' descriptions and committed offsets, all requests in flight at once (a cluster
    has hundreds of groups), and the watermarks of every partition they committed on, in two
    requests."""
    if not groups:
        return []
    admin, timeout = connection.client, connection.kafka.timeout_s
    described = admin.describe_consumer_groups(groups)
    offsets = {g: admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)])[g] for g in groups}
    # Every answer in before any error is raised: a client torn down with requests in flight
    # can crash the process (seen as SIGSEGV when the broker restarted mid-request).
    futures.wait([*described.values(), *offsets.values()], timeout=timeout)
    infos, committed = [], {}
    for group in groups:
        description = _wait(described[group], timeout, f"describe group {group!r}")
        members = [
            Member(
                m.member_id,
                m.client_id,
                m.host,
                sorted((tp.topic, tp.partition) for tp in (m.assignment.topic_partitions if m.assignment else [])),
            )
            for m in description.members
        ]
        infos.append(GroupInfo(group, _state(description), members))
        result = _wait(offsets[group], timeout, f"read the offsets of group {group!r}")
        committed[group] = {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.error is None}
    marks = _watermarks(connection, {key for by_partition in committed.values() for key in by_partition})
    for info in infos:
        info.offsets = [
            PartitionLag(t, p, offset, high=marks.get((t, p), (0, 0))[1], low=marks.get((t, p), (0, 0))[0])
            for (t, p), offset in sorted(committed[info.group].items())
        ]
    return infos


def _watermarks(connection: Connection, partitions: set[tuple[str, int]]) -> dict[tuple[str, int], tuple[int, int]]:
    """(low, high) of each partition, in one request for each end."""
    if not partitions:
        return {}
    admin, timeout = connection.client, connection.kafka.timeout_s

    def ends(spec: OffsetSpec) -> dict[tuple[str, int], int]:
        pending = admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions}, request_timeout=timeout)
        found = {}
        futures.wait(list(pending.values()), timeout=timeout)
        for tp, future in pending.items():
            try:
                found[(tp.topic, tp.partition)] = int(future.result(timeout=timeout).offset)
            except KafkaException:  # a topic deleted since the group committed on it: no lag to report
                continue
        return found

    low, high = ends(OffsetSpec.earliest()), ends(OffsetSpec.latest())  # type: ignore[no-untyped-call]
    return {key: (low[key], high[key]) for key in partitions if key in low and key in high}


def plan_reset(
    kafka: KafkaSettings,
    group: str,
    to: ResetTo,
    topics: list[str] | None = None,
    time_ms: int | None = None,
) -> list[PlannedMove]:
    """Where each partition of `topics` (default: those the group has committed offsets on)
    would go: the earliest or latest offset, or the first offset at or after `time_ms` (the
    latest where no message is that recent, as kafka-consumer-groups.sh). Refuses a group with
    active members."""
    _check_group_id(group)
    if (to == "time") != (time_ms is not None):
        raise UsageError("a reset goes to one place: --to-earliest, --to-latest or --to-time")
    connection = connect(AdminClient, kafka)
    info = _describe(connection, group)
    _refuse_active(info)
    if topics:
        metadata = check_topics(connection, topics)
        named = dict.fromkeys(topics)
        partitions = [TopicPartition(t, p) for t in named for p in sorted(metadata.topics[t].partitions)]
    else:
        partitions = [TopicPartition(p.topic, p.partition) for p in info.offsets]
        if not partitions:
            raise GroupNotFound(
                f"group {group!r} has no committed offsets to reset", hint="name the topics with --topic"
            )
    current = {(p.topic, p.partition): p.committed for p in info.offsets}
    marks = _watermarks(connection, {(tp.topic, tp.partition) for tp in partitions})
    by_time = _offsets_for_time(kafka, partitions, time_ms) if time_ms is not None else {}
    moves = []
    for tp in partitions:
        key = (tp.topic, tp.partition)
        if key not in marks:
            raise KafkaUnavailable(f"no offsets for {tp.topic}[{tp.partition}]: was the topic deleted?")
        low, high = marks[key]
        if to == "earliest":
            new = low
        elif to == "latest":
            new = high
        else:
            found = by_time.get(key, -1)
            new = high if found < 0 else found
        moves.append(PlannedMove(tp.topic, tp.partition, current.get(key, -1), new))
    return moves


def _refuse_active(info: GroupInfo) -> None:
    if info.members or info.state not in _EMPTY_STATES:
        raise GroupActive(
            f"group {info.group!r} has {len(info.members)} active member(s) (state {info.state}): "
            "its offsets can only be reset while no consumer runs in it",
            hint="stop its consumers (e.g. `vac index`, systemctl stop vac-index) and try again",
        )


def _offsets_for_time(
    kafka: KafkaSettings, partitions: list[TopicPartition], time_ms: int
) -> dict[tuple[str, int], int]:
    consumer = new_consumer(kafka, None)
    try:
        query = [TopicPartition(tp.topic, tp.partition, time_ms) for tp in partitions]
        found = consumer.offsets_for_times(query, timeout=kafka.timeout_s)
    except KafkaException as exc:
        raise KafkaUnavailable(f"looking up offsets by time failed: {exc.args[0].str()}") from None
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): tp.offset for tp in found}


def apply_reset(kafka: KafkaSettings, group: str, moves: list[PlannedMove]) -> None:
    """Commit the planned offsets for `group` (refused if members joined since the plan)."""
    connection = connect(AdminClient, kafka)
    _refuse_active(_describe(connection, group))
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(m.topic, m.partition, m.new) for m in moves])]
    future = connection.client.alter_consumer_group_offsets(request)[group]
    result = _wait(future, kafka.timeout_s, f"reset the offsets of group {group!r}")
    failed = [tp for tp in result.topic_partitions if tp.error is not None]
    if failed:
        raise _failure(failed[0].error, f"reset {failed[0].topic}[{failed[0].partition}] of group {group!r}")
