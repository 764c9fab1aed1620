"""Topics: finding them (with suggestions for typos), listing and describing them.

Used by `vac tail topic` to check its topics before reading and by `vac topics`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ClusterMetadata, ConfigResource  # type: ignore[attr-defined]

from vac.errors import KafkaUnavailable, PermissionDenied, TopicNotFound
from vac.kafka.client import Connection, cluster_metadata, connect, watermarks
from vac.kafka.consuming import new_consumer
from vac.settings import KafkaSettings
from vac.topicnames import check_topic_name

# A consumer that only assigns partitions and never commits; librdkafka still wants a group id.
SHOWN_CONFIGS = ("cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas", "compression.type")


def check_topics(connection: Connection, topics: list[str]) -> ClusterMetadata:
    """The metadata of `topics`, once each is known to be readable; else TopicNotFound (with
    the closest names) or PermissionDenied. Each topic is asked for alone: the listing of the
    whole cluster (thousands of partitions on a shared one) is fetched only to suggest names."""
    metadata: ClusterMetadata | None = None
    for topic in topics:
        answer = cluster_metadata(connection, topic)
        entry = answer.topics.get(topic)
        if metadata is None:
            metadata = answer
        if entry is not None and entry.error is None:
            metadata.topics[topic] = entry
            continue
        error = entry.error if entry is not None and entry.error else KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
        if error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
            raise PermissionDenied(
                f"not allowed to read topic {topic!r}", hint="ask for a READ and DESCRIBE ACL for your principal"
            )
        if error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
            known = list(cluster_metadata(connection).topics)
            close = difflib.get_close_matches(topic, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else "`vac topics list` shows the topics there are"
            raise TopicNotFound(f"topic {topic!r} does not exist", hint=hint)
        raise KafkaUnavailable(f"topic {topic!r} is not available: {error.str()}")
    if metadata is None:
        metadata = cluster_metadata(connection)
    return metadata


@dataclass
class PartitionInfo:
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]
    low: int = 0
    high: int = 0

    @property
    def messages(self) -> int:
        return self.high - self.low


@dataclass
class GroupLag:
    group: str
    committed: int
    lag: int


@dataclass
class TopicInfo:
    name: str
    partitions: list[PartitionInfo]
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)
    groups: list[GroupLag] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.partitions)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "partitions": [vars(p) | {"messages": p.messages} for p in self.partitions],
            "replication_factor": self.replication_factor,
            "messages": self.messages,
            "configs": self.configs,
            "groups": [vars(g) for g in self.groups],
        }


def list_topics(kafka: KafkaSettings, include_internal: bool = False) -> list[TopicInfo]:
    topics = list_topics_from(cluster_metadata(connect(AdminClient, kafka)))
    return [t for t in topics if include_internal or not t.name.startswith("__")]


def describe_topic(kafka: KafkaSettings, name: str) -> TopicInfo:
    """Partitions with leaders, replicas, in-sync replicas and watermarks; a few configs;
    and every consumer group with committed offsets on the topic, with its lag."""
    check_topic_name(name)
    connection = connect(AdminClient, kafka)
    admin = connection.client
    metadata = check_topics(connection, [name])
    info = next(t for t in list_topics_from(metadata) if t.name == name)
    consumer = new_consumer(kafka, None)
    try:
        for partition in info.partitions:
            partition.low, partition.high = watermarks(
                consumer, TopicPartition(name, partition.partition), kafka.timeout_s
            )
    finally:
        consumer.close()
    info.configs = _topic_configs(admin, name, kafka.timeout_s)
    info.groups = _group_lags(admin, info, kafka.timeout_s)
    return info


def list_topics_from(metadata: ClusterMetadata) -> list[TopicInfo]:
    topics = []
    for name in sorted(metadata.topics):
        entry = metadata.topics[name]
        partitions = [
            PartitionInfo(p.id, p.leader, list(p.replicas), list(p.isrs))
            for p in sorted(entry.partitions.values(), key=lambda p: p.id)
        ]
        topics.append(TopicInfo(name, partitions, max((len(p.replicas) for p in partitions), default=0)))
    return topics


def _topic_configs(admin: AdminClient, name: str, timeout_s: float) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    try:
        entries = admin.describe_configs([resource])[resource].result(timeout=timeout_s)
    except KafkaException:
        return {}
    return {key: entries[key].value for key in SHOWN_CONFIGS if key in entries and entries[key].value is not None}


def _group_lags(admin: AdminClient, info: TopicInfo, timeout_s: float) -> list[GroupLag]:
    try:
        listed = admin.list_consumer_groups().result(timeout=timeout_s)
    except KafkaException:
        return []
    high = {p.partition: p.high for p in info.partitions}
    lags = []
    for group in sorted(g.group_id for g in listed.valid):
        request = [ConsumerGroupTopicPartitions(group, [TopicPartition(info.name, p) for p in high])]
        try:
            result = admin.list_consumer_group_offsets(request)[group].result(timeout=timeout_s)
        except KafkaException:
            continue
        committed = [tp for tp in result.topic_partitions if tp.offset >= 0 and tp.error is None]
        if committed:
            lags.append(
                GroupLag(
                    group,
                    committed=sum(tp.offset for tp in committed),
                    lag=sum(max(0, high[tp.partition] - tp.offset) for tp in committed),
                )
            )
    return lags
