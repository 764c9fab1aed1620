"""The one heartbeat publisher: every job that runs until stopped tells the health topic who it
is and how it does, in one format (`vac.records.job.Heartbeat`), keyed `host/component` so
that the topic can be compacted to the last word of each."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable

import orjson
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from vac import __version__
from vac.kafka.admin import ensure_topics
from vac.records.clock import now_iso
from vac.records.job import Heartbeat, JobStatus
from vac.settings import VacSettings

Send = Callable[[str, bytes, bytes], None]
"""(topic, key, value): how a job's heartbeat leaves (its own producer, its sink)."""


def ensure_health_topic(settings: VacSettings) -> None:
    ensure_topics(settings.kafka, [settings.health_topic], 1, settings.scada.replication_factor)


def quiet_send(producer: Producer) -> Send:
    """Sends on `producer` without counting or waiting: a full queue already says Kafka is
    behind (the next heartbeat will go), and a stopped producer is the job's to report."""

    def send(topic: str, key: bytes, value: bytes) -> None:
        with contextlib.suppress(BufferError, KafkaException):
            producer.produce(topic, value=value, key=key, on_delivery=_ignore)

    return send


class HeartbeatPublisher:
    """`publish(status)` sends a heartbeat of the job's status now; the job calls it every
    `health_interval_s` of its own loop and once at its end."""

    def __init__(self, settings: VacSettings, component: str, send: Send) -> None:
        self.topic = settings.health_topic
        self.component = component
        self.host = socket.gethostname()
        self._key = f"{self.host}/{component}".encode()
        self._send = send

    def publish(self, status: JobStatus) -> None:
        self._send(self.topic, self._key, orjson.dumps(self.heartbeat(status).as_json()))

    def heartbeat(self, status: JobStatus) -> Heartbeat:
        return Heartbeat(
            self.host, self.component, __version__, os.getpid(), now_iso(), status.figures(), status.as_json()
        )


def _ignore(_error: KafkaError | None, _message: Message) -> None:
    pass
