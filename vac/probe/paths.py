"""The three measured paths. Each injects probe message `seq` where its pipeline starts and
reports when `seq` comes out at its end:

- kafka: a producer (the streamer's settings) -> the probe topic -> a consumer.
- scada: a change at the source of a real `ScadaStreamer` (deadband, encoding, producer)
  -> its output topic -> a consumer.
- logs: a WinCC OA line appended to a file a real `LogShipper` tails -> Kafka -> a real
  `LogIndexer` -> searchable in Elasticsearch.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import elasticsearch
import orjson
from confluent_kafka import KafkaError, Message, Producer, TopicPartition

from vac.errors import KafkaUnavailable, PermissionDenied
from vac.es.client import make_client, probe_cluster
from vac.es.indices import index_pattern
from vac.kafka.admin import ensure_topics
from vac.kafka.client import client_config, new_client, quiet_logger, take_available
from vac.kafka.consuming import new_consumer
from vac.logs.indexer import IndexOptions, LogIndexer
from vac.logs.shipper import LogShipper, ShipOptions
from vac.logs.sinks import KafkaSink
from vac.probe.openloop import Schedule
from vac.records.badinput import BadInput
from vac.records.change import Change
from vac.records.dpe import Dpe
from vac.scada.streamer import PRODUCER_TUNING, ScadaStreamer, StreamOptions
from vac.settings import LogInput, VacSettings
from vac.sources.queued import ChangeQueue

Arrival = Callable[[int, int], None]
"""(seq, receive time in ns)"""

PROBE_TOPIC = "vac.probe"
PROBE_LOGS_TOPIC = "vac.probe.logs"
PROBE_APP = "vac_probe_scada_logs"
PROBE_DPES = 64


class ProbePath(Protocol):
    name: str

    def start(self, on_arrival: Arrival) -> None:
        """Check and start the path's components and its receiver; return when ready."""
        ...

    def plan(self, schedule: Schedule) -> None:
        """The schedule of the run, known once the path is started."""
        ...

    def send(self, seq: int) -> None: ...

    def idle(self) -> None:
        """Between bursts: serve the producer's callbacks."""
        ...

    def flush(self) -> int:
        """After the last send: push out what waits; return the number of send errors."""
        ...

    def close(self) -> None: ...


def _padding(size: int, used: int) -> bytes:
    return b"x" * max(0, size - used)


class TopicReceiver:
    """Reads a topic from its current end on a thread of its own and reports each probe
    message `parse` recognises."""

    def __init__(self, settings: VacSettings, topic: str, parse: Callable[[bytes], int | None]) -> None:
        self.settings, self.topic, self.parse = settings, topic, parse
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.consumer = new_consumer(
            settings.kafka, "vac-probe", {"enable.auto.commit": False, "enable.partition.eof": False}
        )

    def start(self, on_arrival: Arrival) -> None:
        timeout = self.settings.kafka.timeout_s
        metadata = self.consumer.list_topics(self.topic, timeout=timeout).topics[self.topic]
        if metadata.error is not None:
            raise KafkaUnavailable(f"probe topic {self.topic!r} is not readable: {metadata.error.str()}")
        assignment = []
        for partition in metadata.partitions:
            _low, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=timeout)
            assignment.append(TopicPartition(self.topic, partition, high))
        self.consumer.assign(assignment)
        self._thread = threading.Thread(target=self._run, args=(on_arrival,), name="probe-receiver", daemon=True)
        self._thread.start()

    def _run(self, on_arrival: Arrival) -> None:
        while not self._stop.is_set():
            for message in take_available(self.consumer, 1000, 0.05):
                received = time.time_ns()
                if message.error() is None:
                    seq = self.parse(message.value() or b"")
                    if seq is not None:
                        on_arrival(seq, received)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.consumer.close()


def _check_writable(settings: VacSettings, topic: str) -> None:
    """One message to the probe topic first: a refusal becomes a clear error, not a run of
    lost messages."""
    errors: list[KafkaError] = []
    producer = new_client(Producer, client_config(settings.kafka, logger=quiet_logger(), **{"acks": "all"}))
    # No value: consumers of the topic (`vac index` on the logs path) skip it as a tombstone.
    producer.produce(topic, key=b"vacprobe", value=None, on_delivery=lambda e, _m: errors.append(e) if e else None)
    left = producer.flush(settings.kafka.timeout_s)
    if errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
        raise PermissionDenied(f"not allowed to write topic {topic!r}", hint="ask for WRITE on it, or use --topic")
    if errors or left:
        reason = errors[0].str() if errors else f"no answer within {settings.kafka.timeout_s:g} s"
        raise KafkaUnavailable(f"probe topic {topic!r} did not take a message: {reason}")


class KafkaPath:
    name = "kafka"

    def __init__(self, settings: VacSettings, run: str, size: int, topic: str = PROBE_TOPIC) -> None:
        self.settings, self.topic, self.size = settings, topic, size
        self.prefix = f"vacprobe {run} ".encode()
        self.errors = 0
        self.producer: Producer | None = None
        self.receiver: TopicReceiver | None = None

    def start(self, on_arrival: Arrival) -> None:
        scada = self.settings.scada
        ensure_topics(self.settings.kafka, [self.topic], scada.partitions, scada.replication_factor)
        _check_writable(self.settings, self.topic)
        self.producer = new_client(
            Producer,
            client_config(self.settings.kafka, logger=quiet_logger(), on_delivery=self._delivered, **PRODUCER_TUNING),
        )
        self.receiver = TopicReceiver(self.settings, self.topic, self._parse)
        self.receiver.start(on_arrival)

    def _parse(self, value: bytes) -> int | None:
        if not value.startswith(self.prefix):
            return None  # another run's
        return int(value[len(self.prefix) :].split(b" ", 1)[0])

    def _delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            self.errors += 1

    def plan(self, schedule: Schedule) -> None:
        pass

    def send(self, seq: int) -> None:
        assert self.producer is not None
        head = self.prefix + b"%d " % seq
        value = head + _padding(self.size, len(head))
        while True:
            try:
                self.producer.produce(self.topic, value=value)
                return
            except BufferError:
                self.producer.poll(0.01)

    def idle(self) -> None:
        if self.producer is not None:
            self.producer.poll(0)

    def flush(self) -> int:
        if self.producer is not None:
            self.producer.flush(self.settings.kafka.timeout_s)
        return self.errors

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.close()


class ProbeSource(ChangeQueue):
    """The probe's changes, handed to the streamer as a source's would be."""

    def __init__(self) -> None:
        super().__init__()
        self.bad_input = BadInput()


class ScadaPath:
    """The streamer runs as `vac stream scada` does, on a thread, fed by a queue that stands in
    for the OPC UA / MQTT / TCP sources (they all hand changes over through one)."""

    name = "scada"

    def __init__(self, settings: VacSettings, run: str, topic: str = PROBE_TOPIC) -> None:
        self.settings, self.topic = settings, topic
        self.dpes = [
            Dpe(f"VPROBE_{run}_{n:02d}.PR", f"probe{n}", topic, "float", "PROBE", "PROBE", str(n))
            for n in range(PROBE_DPES)
        ]
        self.prefix = f'{{"id":"VPROBE_{run}_'.encode()
        self.queue = ProbeSource()
        self.streamer = ScadaStreamer(
            settings, self.dpes, StreamOptions(topic=topic, health_interval_s=3600), source=self.queue
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.receiver: TopicReceiver | None = None
        self.schedule: Schedule | None = None

    def plan(self, schedule: Schedule) -> None:
        """The source time of change `seq` is its planned time, as WinCC OA's stime would be."""
        self.schedule = schedule

    def start(self, on_arrival: Arrival) -> None:
        self.streamer.prepare()
        _check_writable(self.settings, self.topic)
        receiver = TopicReceiver(self.settings, self.topic, self._parse)
        receiver.start(on_arrival)
        self.receiver = receiver
        self._thread = threading.Thread(
            target=self.streamer.run, args=(self._stop,), name="probe-streamer", daemon=True
        )
        self._thread.start()

    def _parse(self, value: bytes) -> int | None:
        if not value.startswith(self.prefix):
            return None
        return int(orjson.loads(value)["value"])

    def send(self, seq: int) -> None:
        assert self.schedule is not None
        dpe = self.dpes[seq % PROBE_DPES]
        self.queue.put(Change(dpe.name, float(seq), self.schedule.planned_ns(seq) // 1000))

    def idle(self) -> None:
        pass

    def flush(self) -> int:
        counters = self.streamer.counters
        return counters.failed + counters.unknown  # an unacknowledged probe is no success either

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
        if self.receiver is not None:
            self.receiver.close()


PROBE_LINE = re.compile(r"vacprobe (\w+) (\d+)")


class LogsPath:
    """A real shipper tails a file the probe writes WinCC OA lines to; a real indexer writes
    them to Elasticsearch; a searcher looks for them every `poll_s`. Settings are the
    configured ones (idle flush, bulk batching, the index template's refresh interval): the
    figures are what users of the pipeline see."""

    name = "logs"

    def __init__(self, settings: VacSettings, run: str, size: int, poll_s: float = 0.1) -> None:
        self.settings, self.run, self.size, self.poll_s = settings, run, size, poll_s
        self.workdir = Path(tempfile.mkdtemp(prefix="vac-probe-"))
        self.log_file = self.workdir / "PVSS_II.log"
        self.log_file.touch()
        self.zone = ZoneInfo(settings.logs.timezone)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._writer = self.log_file.open("ab", buffering=0)
        self.errors = 0

    def start(self, on_arrival: Arrival) -> None:
        settings = self.settings
        probe_cluster(settings.elasticsearch)  # unreachable: a clear error before anything starts
        ensure_topics(settings.kafka, [PROBE_LOGS_TOPIC], 1, settings.scada.replication_factor)
        _check_writable(settings, PROBE_LOGS_TOPIC)
        spec = LogInput(paths=[str(self.log_file)], app_id=PROBE_APP, parser="winccoa", topic=PROBE_LOGS_TOPIC)
        shipper = LogShipper(settings, [spec], self.workdir / "registry.json", ShipOptions(from_beginning=True))
        sink = KafkaSink(settings, shipper.acked, shipper.failed, self._stop, on_refused=shipper.refused)
        indexer = LogIndexer(settings, IndexOptions([PROBE_LOGS_TOPIC], "vac-probe-index"))
        indexer.prepare()
        self._threads = [
            threading.Thread(
                target=shipper.run, args=(self._stop,), kwargs={"sink": sink}, name="probe-shipper", daemon=True
            ),
            threading.Thread(target=indexer.run, args=(self._stop,), name="probe-indexer", daemon=True),
            threading.Thread(target=self._search, args=(on_arrival,), name="probe-search", daemon=True),
        ]
        self.shipper = shipper
        for thread in self._threads:
            thread.start()

    def plan(self, schedule: Schedule) -> None:
        pass

    def send(self, seq: int) -> None:
        stamp = datetime.now(self.zone).strftime("%Y.%m.%d %H:%M:%S.%f")[:-3]
        line = f"WCCOActrl    (9), {stamp}, CTRL, INFO,        0, vacprobe {self.run} {seq} ".encode()
        self._writer.write(line + _padding(self.size, len(line) + 2) + b"\r\n")

    def idle(self) -> None:
        pass

    def _search(self, on_arrival: Arrival) -> None:
        """Every poll: the documents of this run's file past the last offset seen."""
        client = make_client(self.settings.elasticsearch)
        pattern = index_pattern(self.settings.index.name_template)
        last_offset = -1
        while not self._stop.wait(self.poll_s):
            try:
                answer = client.search(
                    index=pattern,
                    query={
                        "bool": {
                            "filter": [
                                {"term": {"log.file.path": str(self.log_file)}},
                                {"range": {"log.offset": {"gt": last_offset}}},
                            ]
                        }
                    },  # fmt: skip
                    sort=[{"log.offset": "asc"}],
                    size=5000,
                    source_includes=["message", "log.offset"],
                    ignore_unavailable=True,
                    allow_no_indices=True,
                )
            except elasticsearch.ApiError as exc:
                # 503 "all shards failed": the indexer has just made the month's index and its
                # shard is starting. The next poll finds it; not an error of the pipeline.
                if exc.meta.status != 503:
                    self.errors += 1
                continue
            except elasticsearch.TransportError:
                self.errors += 1
                continue
            found = time.time_ns()
            for hit in answer["hits"]["hits"]:
                source = hit["_source"]
                last_offset = max(last_offset, source["log"]["offset"])
                match = PROBE_LINE.search(source.get("message", ""))
                if match and match[1] == self.run:
                    on_arrival(int(match[2]), found)
        client.close()

    def flush(self) -> int:
        return self.errors + self.shipper.counters.failed

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        self._writer.close()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.workdir)


def make_path(name: str, settings: VacSettings, run: str, size: int, topic: str | None) -> ProbePath:
    if name == "kafka":
        return KafkaPath(settings, run, size, topic or PROBE_TOPIC)
    if name == "scada":
        return ScadaPath(settings, run, topic or PROBE_TOPIC)
    return LogsPath(settings, run, size)
