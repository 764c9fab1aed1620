"""Everything the dashboard shows, fed by background readers and read by the screen at most
`refresh_hz` times a second: input rate and redraw rate are independent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson

from vac.dash.alarms import AlarmBook
from vac.dash.feeds import Batch, TopicFeed
from vac.dash.log_window import LogWindow
from vac.dash.pipeline import Fleet, PipelineMonitor, PipelineSnapshot
from vac.dash.scada_board import ScadaBoard
from vac.errors import VacError
from vac.es.client import make_client
from vac.es.indices import index_pattern
from vac.search.logsearch import LogSearch, SearchScope
from vac.settings import VacSettings


class DashState:
    def __init__(self, settings: VacSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.lock = threading.Lock()
        self.board = ScadaBoard()
        self.alarms = AlarmBook(list(settings.dash.alarms))
        self.logs = LogWindow()
        self.fleet = Fleet()
        self.pipeline = PipelineSnapshot()
        self.changes = 0
        self.version = 0
        """Grows with every update: the screen redraws only when it moved."""

    def take_scada(self, batch: Batch) -> None:
        now = self.clock()
        records = []
        for _topic, value, timestamp_ms in batch:  # parsed outside the lock: the screen waits less
            try:
                records.append((orjson.loads(value), timestamp_ms / 1000 if timestamp_ms > 0 else now))
            except orjson.JSONDecodeError:
                records.append((None, now))
        with self.lock:
            for record, at_s in records:
                row = self.board.apply(record, at_s)
                if row is not None:
                    self.changes += 1
                    self.alarms.evaluate(row, now)
            self.version += 1

    def take_logs(self, batch: Batch) -> None:
        with self.lock:
            for _topic, value, _timestamp in batch:
                try:
                    doc = orjson.loads(value)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(doc, dict):
                    self.logs.add(doc)
            self.version += 1

    def take_health(self, batch: Batch) -> None:
        now = self.clock()
        with self.lock:
            for _topic, value, _timestamp in batch:
                try:
                    self.fleet.apply(orjson.loads(value), now)
                except orjson.JSONDecodeError:
                    continue
            self.version += 1

    def take_pipeline(self, snapshot: PipelineSnapshot) -> None:
        with self.lock:
            self.pipeline = snapshot
            self.version += 1


HISTORY_RECORDS = 500


class DashFeeds:
    """The background readers of one dashboard: SCADA topics, the log topic, the health topic,
    and a pipeline check every few seconds."""

    def __init__(self, state: DashState, check_every_s: float = 3.0) -> None:
        settings = state.settings
        history = settings.dash.history_s
        self.state = state
        self.scada_feed = TopicFeed(settings, list(settings.dash.scada_topics), history, state.take_scada)
        self.log_feed = TopicFeed(settings, [settings.logs.topic], max(history, 600.0), state.take_logs)
        self.health_feed = TopicFeed(settings, [settings.health_topic], 600.0, state.take_health)
        self.feeds = [self.scada_feed, self.log_feed, self.health_feed]
        self.check_every_s = check_every_s
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._check, name="dash-pipeline", daemon=True)

    def start(self) -> None:
        self.scada_feed.start()
        self.health_feed.start()
        self._monitor.start()  # it starts the log feed after the history from Elasticsearch

    def _log_history(self) -> None:
        """The newest records of the last hour from Elasticsearch, before the live stream:
        the log screen opens with what happened, not empty (Kafka repeats are dropped by id)."""
        settings = self.state.settings
        client = make_client(settings.elasticsearch, timeout_s=5.0)
        scope = SearchScope(index_pattern(settings.index.name_template), since=datetime.now(UTC) - timedelta(hours=1))
        try:
            hits = list(LogSearch(client, scope).hits(HISTORY_RECORDS, "desc"))
        except VacError:
            hits = []  # no Elasticsearch: the live stream alone
        finally:
            client.close()
        with self.state.lock:
            for hit in reversed(hits):
                self.state.logs.add(hit["_source"])
            self.state.version += 1

    def _check(self) -> None:
        monitor = PipelineMonitor(self.state.settings)
        try:
            # Health first: a lost Kafka shows at once, not after the history query has given up.
            self.state.take_pipeline(monitor.check())
            self._log_history()
            if not self._stop.is_set():
                self.log_feed.start()
            while not self._stop.wait(self.check_every_s):
                self.state.take_pipeline(monitor.check())
        finally:
            monitor.close()

    def stop(self) -> None:
        self._stop.set()
        for feed in self.feeds:
            feed.stop()
        self._monitor.join(10)

    @property
    def kafka_problem(self) -> str:
        return next((feed.problem for feed in self.feeds if feed.problem), "")
