"""The pipeline at a glance: are Kafka and Elasticsearch up, how many messages per second go
through each topic, how far behind the indexer is, and which streamers and shippers sent a
heartbeat lately (the fleet, from the health topic)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import elasticsearch
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from vac.es.client import make_client
from vac.kafka.client import client_config, quiet_logger
from vac.kafka.consuming import new_consumer
from vac.records.job import Heartbeat
from vac.settings import VacSettings
from vac.timegrammar import epoch_seconds

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PipelineSnapshot:
    """One check's findings; made once and handed to the screen, never changed after."""

    checked_s: float = 0.0
    kafka_up: bool | None = None
    """None until the first check."""
    brokers: int = 0
    kafka_error: str = ""
    es_status: str | None = None
    """green, yellow, red; None when it did not answer."""
    es_error: str = ""
    rates: dict[str, float] = field(default_factory=dict)
    """Messages per second per watched topic, from the growth of its end offsets."""
    ends: dict[str, int] = field(default_factory=dict)
    index_lag: int | None = None
    """Messages of the log topic not yet committed by the indexer's group."""


class PipelineMonitor:
    """Asked every few seconds from a background worker; each check takes at most a few
    seconds even when everything is down."""

    def __init__(self, settings: VacSettings) -> None:
        self.settings = settings
        self.topics = [*settings.dash.scada_topics, settings.logs.topic, settings.health_topic]
        overrides = {"socket.timeout.ms": int(CHECK_TIMEOUT_S * 1000)}
        self.admin = AdminClient(client_config(settings.kafka, logger=quiet_logger(), **overrides))
        self.consumer = new_consumer(settings.kafka, "vac-dash", overrides)
        self.es = make_client(settings.elasticsearch, timeout_s=CHECK_TIMEOUT_S)
        self.snapshot = PipelineSnapshot()

    def check(self) -> PipelineSnapshot:
        previous = self.snapshot
        now = time.monotonic()
        kafka_up, brokers, kafka_error = False, 0, ""
        index_lag: int | None = None
        ends: dict[str, int] = {}
        try:
            metadata = self.admin.list_topics(timeout=CHECK_TIMEOUT_S)
            kafka_up, brokers = True, len(metadata.brokers)
            for topic in self.topics:
                if topic in metadata.topics:
                    partitions = list(metadata.topics[topic].partitions)
                    ends[topic] = self._end(topic, partitions)
            index_lag = self._index_lag(metadata.topics.get(self.settings.logs.topic))
        except KafkaException as exc:
            kafka_up, kafka_error = False, exc.args[0].str() if exc.args else str(exc)
        rates: dict[str, float] = {}
        if previous.checked_s and ends:
            elapsed = now - previous.checked_s
            for topic, end in ends.items():
                if topic in previous.ends and elapsed > 0:
                    rates[topic] = max(0.0, (end - previous.ends[topic]) / elapsed)
        es_status: str | None = None
        es_error = ""
        try:
            es_status = str(self.es.cluster.health()["status"])
        except (elasticsearch.ApiError, elasticsearch.TransportError) as exc:
            es_error = type(exc).__name__
        self.snapshot = PipelineSnapshot(
            checked_s=now, kafka_up=kafka_up, brokers=brokers, kafka_error=kafka_error, es_status=es_status,
            es_error=es_error, rates=rates, ends=ends, index_lag=index_lag,
        )  # fmt: skip
        return self.snapshot

    def _end(self, topic: str, partitions: list[int]) -> int:
        return sum(
            self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=CHECK_TIMEOUT_S)[1]
            for p in partitions
        )

    def _index_lag(self, topic_metadata: Any) -> int | None:
        if topic_metadata is None:
            return None
        topic = self.settings.logs.topic
        group = self.settings.index.group_id
        request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in topic_metadata.partitions])]
        try:
            result = self.admin.list_consumer_group_offsets(request)[group].result(timeout=CHECK_TIMEOUT_S)
        except KafkaException:
            return None
        committed = {tp.partition: tp.offset for tp in result.topic_partitions if tp.offset >= 0}
        if not committed:
            return None
        lag = 0
        for partition, offset in committed.items():
            high = self.consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=CHECK_TIMEOUT_S)[1]
            lag += max(0, high - offset)
        return lag

    def close(self) -> None:
        self.consumer.close()
        self.es.close()


@dataclass
class FleetMember:
    host: str
    component: str
    last_s: float
    """Epoch seconds of its last heartbeat."""
    heartbeat: Heartbeat

    def age_s(self, now_s: float) -> float:
        return max(0.0, now_s - self.last_s)

    @property
    def rate(self) -> float:
        return self.heartbeat.figures.rate

    @property
    def behind(self) -> str:
        """What it still has to send: bytes of files (shipper) or records in flight (the others)."""
        figures = self.heartbeat.figures
        if figures.behind_bytes is not None:
            return f"{figures.behind_bytes:,} B"
        return f"{figures.in_flight:,} in flight"

    @property
    def errors(self) -> int:
        """Records not stored (failed), perhaps not stored (unknown), or refused as input."""
        return self.heartbeat.figures.errors


class Fleet:
    """Every streamer and shipper that sent a heartbeat, by host and component."""

    def __init__(self) -> None:
        self.members: dict[tuple[str, str], FleetMember] = {}

    def apply(self, record: Any, fallback_s: float) -> None:
        if not isinstance(record, dict) or "component" not in record:
            return
        stamp = record.get("time")
        try:
            at = epoch_seconds(str(stamp))
        except (ValueError, OverflowError):
            at = fallback_s
        heartbeat = Heartbeat.from_json(record)
        key = (heartbeat.host, heartbeat.component)
        member = self.members.get(key)
        if member is None or at >= member.last_s:
            self.members[key] = FleetMember(key[0], key[1], at, heartbeat)

    def listed(self) -> list[FleetMember]:
        return sorted(self.members.values(), key=lambda m: (m.host, m.component))
