"""Reading a timeline's three parts in one window: SCADA values from Kafka (by record time),
the alarms of the alarm topic, the log records from Elasticsearch. Synchronous, each with an
explicit timeout. Called by `vac timeline`."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from confluent_kafka import KafkaException, TopicPartition

from vac.alarms.timeline import Entry, alarm_entries, in_sector, log_entries, merge, value_entries
from vac.alarms.topic import current_book
from vac.errors import KafkaUnavailable, VacError
from vac.es.client import make_client
from vac.es.indices import index_pattern
from vac.kafka.consuming import new_consumer
from vac.search.logsearch import LogSearch, SearchScope
from vac.settings import VacSettings

MAX_VALUES = 2_000_000
"""Changes read at most from the SCADA topics (10,000/s for 200 s)."""
MAX_LOGS = 500


def wanted_dpes(sector: tuple[int, int] | None, pattern: str | None) -> Callable[[str], bool]:
    def wanted(name: str) -> bool:
        if pattern is not None and not fnmatch.fnmatchcase(name, pattern):
            return False
        return sector is None or in_sector(name, sector)

    return wanted


def read_values(settings: VacSettings, since_s: float, until_s: float) -> list[tuple[float, dict[str, Any]]]:
    kafka = settings.kafka
    consumer = new_consumer(kafka, "vac-timeline", {"enable.auto.commit": False})
    try:
        try:
            metadata = consumer.list_topics(timeout=kafka.timeout_s)
        except KafkaException:
            raise KafkaUnavailable(
                f"Kafka at {kafka.bootstrap_servers} did not answer within {kafka.timeout_s:g} s"
            ) from None
        parts = [
            TopicPartition(topic, partition, int(since_s * 1000))
            for topic in settings.dash.scada_topics
            if topic in metadata.topics
            for partition in metadata.topics[topic].partitions
        ]
        if not parts:
            return []
        starts = [tp for tp in consumer.offsets_for_times(parts, timeout=kafka.timeout_s) if tp.offset >= 0]
        ends: dict[tuple[str, int], int] = {}
        for tp in starts:
            ends[(tp.topic, tp.partition)] = consumer.get_watermark_offsets(tp, timeout=kafka.timeout_s)[1]
        if not starts:
            return []
        consumer.assign(starts)
        open_parts = {key for key, end in ends.items() if end > 0}
        found: list[tuple[float, dict[str, Any]]] = []
        deadline = time.monotonic() + 4 * kafka.timeout_s
        while open_parts and len(found) < MAX_VALUES and time.monotonic() < deadline:
            for message in consumer.consume(5000, 0.5):
                if message.error() is not None:
                    continue
                key = (message.topic() or "", message.partition() or 0)
                at_s = message.timestamp()[1] / 1000
                if at_s > until_s or (message.offset() or 0) + 1 >= ends.get(key, 0):
                    open_parts.discard(key)
                if since_s <= at_s <= until_s:
                    try:
                        record = orjson.loads(message.value() or b"")
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(record, dict):
                        found.append((at_s, record))
        found.sort(key=lambda pair: pair[0])
        return found
    finally:
        consumer.close()


def read_logs(settings: VacSettings, since_s: float, until_s: float) -> list[dict[str, Any]]:
    client = make_client(settings.elasticsearch, timeout_s=settings.elasticsearch.request_timeout_s)
    scope = SearchScope(
        index_pattern(settings.index.name_template),
        since=datetime.fromtimestamp(since_s, UTC),
        until=datetime.fromtimestamp(until_s, UTC),
    )
    try:
        return [hit["_source"] for hit in LogSearch(client, scope).hits(MAX_LOGS, "asc")]
    finally:
        client.close()


def timeline(
    settings: VacSettings, around_s: float, half_window_s: float, sector: tuple[int, int] | None, pattern: str | None
) -> tuple[list[Entry], list[str]]:
    """The merged entries, and what could not be read (each part on its own: no Elasticsearch
    still gives values and alarms)."""
    since_s, until_s = around_s - half_window_s, around_s + half_window_s
    wanted = wanted_dpes(sector, pattern)
    problems: list[str] = []
    values: list[Entry] = []
    alarms: list[Entry] = []
    logs: list[Entry] = []
    try:
        values = value_entries(read_values(settings, since_s, until_s), wanted)
        alarms = alarm_entries(current_book(settings).alarms.values(), wanted, since_s, until_s)
    except VacError as problem:
        problems.append(f"values and alarms: {problem}")
    try:
        logs = log_entries(read_logs(settings, since_s, until_s))
    except VacError as problem:
        problems.append(f"logs: {problem}")
    return merge(values, alarms, logs), problems
