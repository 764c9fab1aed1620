"""Everything the dashboard shows, and the rules that read it (is the pipeline connected, what
does acknowledging mean, who is stale). One thread owns a `DashState` and applies the updates
the background readers (`DashFeeds`) post; the screen draws from it at most `refresh_hz` times
a second: input rate and redraw rate are independent, and no lock is shared with the screen."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from vac.alarms.book import Alarm, AlarmBook
from vac.alarms.timeline import Entry, alarm_entries, log_entries, merge, value_entries
from vac.alarms.topic import AlarmTopic, ack_doc, default_user, mirror
from vac.dash.feeds import TopicFeed
from vac.dash.log_window import LogWindow
from vac.dash.pipeline import Fleet, FleetMember, PipelineMonitor, PipelineSnapshot
from vac.dash.scada_board import ScadaBoard
from vac.dash.updates import (
    AlarmMessages,
    Batch,
    FeedProblem,
    Heartbeats,
    LogRecords,
    PipelineChecked,
    Post,
    ScadaChanges,
    Update,
    alarm_messages,
    heartbeats,
    log_records,
    scada_changes,
)
from vac.errors import VacError
from vac.es.client import make_client
from vac.es.indices import index_pattern
from vac.kafka.lastvalues import read_last_values
from vac.search.logsearch import LogSearch, SearchScope
from vac.settings import VacSettings
from vac.timegrammar import zone


class DashState:
    """Owned by one thread: every method here runs on it (no lock)."""

    def __init__(self, settings: VacSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.board = ScadaBoard()
        self.alarms = AlarmBook(list(settings.dash.alarms))
        """A mirror of the alarm topic: `vac alarms watch` evaluates, every dashboard shows."""
        self._acks: dict[tuple[str, str], dict[str, Any]] = {}
        self.user = default_user()
        self.on_ack: Callable[[Alarm], None] = lambda alarm: None
        """Publishes an acknowledgement made here (set by whoever owns the feeds)."""
        self.logs = LogWindow(local=zone(settings.query.timezone))
        self.fleet = Fleet()
        self.pipeline = PipelineSnapshot()
        self.feed_problems: dict[str, str] = {}
        self.changes = 0
        self.version = 0
        """Grows with every update: the screen redraws only when it moved."""

    def apply(self, update: Update) -> None:
        now = self.clock()
        match update:
            case ScadaChanges(records):
                for record, at_s in records:
                    row = self.board.apply(record, now if at_s is None else at_s)
                    if row is not None:
                        self.changes += 1
            case AlarmMessages(docs):
                for doc in docs:
                    mirror(self.alarms, self._acks, doc)
            case LogRecords(docs):
                for doc in docs:
                    self.logs.add(doc)
            case Heartbeats(records):
                for record in records:
                    self.fleet.apply(record, now)
            case PipelineChecked(snapshot):
                self.pipeline = snapshot
            case FeedProblem(feed, problem):
                self.feed_problems[feed] = problem
        self.version += 1

    def take_scada(self, batch: Batch) -> None:
        self.apply(scada_changes(batch))

    def take_logs(self, batch: Batch) -> None:
        self.apply(log_records(batch))

    def take_alarms(self, batch: Batch) -> None:
        self.apply(alarm_messages(batch))

    def _acked(self, alarms: list[Alarm]) -> None:
        for alarm in alarms:
            self._acks[alarm.key] = ack_doc(alarm)  # the evaluator's next word on it keeps the ack
            self.on_ack(alarm)
        self.version += 1

    def acknowledge(self, key: tuple[str, str]) -> None:
        """Acknowledge here at once, and for every dashboard through the alarm topic."""
        alarm = self.alarms.acknowledge(key, self.user, self.clock())
        self._acked([alarm] if alarm is not None else [])

    def acknowledge_dpe(self, dpe: str | None) -> None:
        self._acked(self.alarms.acknowledge_dpe(dpe, self.user, self.clock()))

    def acknowledge_all(self) -> None:
        self._acked(self.alarms.acknowledge_all(self.user, self.clock()))

    def timeline(self, dpe: str, around_s: float, half_window_s: float = 300.0) -> list[Entry]:
        """What this dashboard holds around `around_s`: the DPE's values, its alarms and the log
        records in the window, merged by time (`vac timeline` reads the same from the servers)."""
        since_s, until_s = around_s - half_window_s, around_s + half_window_s
        row = self.board.rows.get(dpe)
        history = list(row.history) if row is not None else []
        values = value_entries(((at, {"id": dpe, "value": v}) for at, v in history if since_s <= at <= until_s),
                               lambda name: True)  # fmt: skip
        alarms = alarm_entries(self.alarms.alarms.values(), lambda name: name == dpe, since_s, until_s)
        logs = [entry for entry in log_entries(self.logs.records) if since_s <= entry.at_s <= until_s]
        return merge(values, alarms, logs)

    def take_health(self, batch: Batch) -> None:
        self.apply(heartbeats(batch))

    def take_pipeline(self, snapshot: PipelineSnapshot) -> None:
        self.apply(PipelineChecked(snapshot))

    def connection_problem(self) -> str:
        """What every screen's banner says is broken, or "". The pipeline check (every few
        seconds) decides, so the banner also goes away by itself; before its first answer, a
        reader that lost the brokers speaks."""
        pipeline = self.pipeline
        if pipeline.kafka_up is False:
            return "Kafka: no connection"
        if pipeline.kafka_up is None:
            problem = next((problem for problem in self.feed_problems.values() if problem), "")
            return f"Kafka: {problem}" if problem else ""
        if pipeline.es_status is None:
            return "Elasticsearch: no connection"
        return ""

    def is_stale(self, member: FleetMember, now_s: float) -> bool:
        return member.age_s(now_s) > self.settings.dash.stale_after_s

    def topics(self) -> list[str]:
        """The topics the pipeline check watches, in the order the overview lists them."""
        settings = self.settings
        return [*settings.dash.scada_topics, settings.logs.topic, settings.health_topic]


HISTORY_RECORDS = 500
SEED_CHUNK = 2_000
"""Last values posted per update at open: the screen stays responsive while ten thousand arrive."""


class DashFeeds:
    """The background readers of one dashboard: SCADA topics, the log topic, the health topic,
    and a pipeline check every few seconds. They post `Update`s; they never touch a `DashState`."""

    def __init__(self, settings: VacSettings, check_every_s: float = 3.0) -> None:
        self.settings = settings
        self.check_every_s = check_every_s
        self._post: Post = lambda update: None
        history = settings.dash.history_s

        def feed(name: str, topics: list[str], history_s: float, parse: Callable[[Batch], Update]) -> TopicFeed:
            return TopicFeed(
                settings, topics, history_s,
                on_batch=lambda batch: self._post(parse(batch)),  # parsed here, not on the screen's thread
                on_problem=lambda problem: self._post(FeedProblem(name, problem)),
            )  # fmt: skip

        self.scada_feed = feed("scada", list(settings.dash.scada_topics), history, scada_changes)
        # The alarm topic is compacted: read it whole (from 1970; a negative time would mean "latest").
        self.alarm_feed = feed("alarms", [settings.alarm_topic], time.time() - 1.0, alarm_messages)
        self.alarm_topic: AlarmTopic | None = None
        """Where acknowledgements made here go; opened by the pipeline check's thread."""
        self.log_feed = feed("logs", [settings.logs.topic], max(history, 600.0), log_records)
        self.health_feed = feed("health", [settings.health_topic], 600.0, heartbeats)
        self.feeds = [self.scada_feed, self.alarm_feed, self.log_feed, self.health_feed]
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._check, name="dash-pipeline", daemon=True)
        self._seeder = threading.Thread(target=self._seed_then_follow, name="dash-seed", daemon=True)

    def start(self, post: Post) -> None:
        """Start reading; `post` is called on the readers' threads (an `Inbox.post`)."""
        self._post = post
        self._seeder.start()  # it starts the SCADA feed after every DPE's last value
        self.alarm_feed.start()
        self.health_feed.start()
        self._monitor.start()  # it starts the log feed after the history from Elasticsearch

    def log_history(self) -> LogRecords:
        """The newest records of the last hour from Elasticsearch, before the live stream:
        the log screen opens with what happened, not empty (Kafka repeats are dropped by id)."""
        settings = self.settings
        client = make_client(settings.elasticsearch, timeout_s=5.0)
        scope = SearchScope(index_pattern(settings.index.name_template), since=datetime.now(UTC) - timedelta(hours=1))
        try:
            hits = list(LogSearch(client, scope).hits(HISTORY_RECORDS, "desc"))
        except VacError:
            hits = []  # no Elasticsearch: the live stream alone
        finally:
            client.close()
        return LogRecords(tuple(hit["_source"] for hit in reversed(hits)))

    def last_values(self) -> list[ScadaChanges]:
        """Every DPE's last value from the last-value topic (`scada.last_topic`), in chunks: the
        SCADA screen opens with every DPE, silent ones included, not only those that change.
        Nothing (and the live feed alone) when there is no such topic or Kafka is away."""
        settings = self.settings
        topic = settings.scada.last_topic
        if not topic:
            return []
        try:
            found = read_last_values(
                settings.kafka, topic, timeout_s=3 * settings.kafka.timeout_s, cancelled=self._stop
            )
        except VacError:
            return []
        rows = found.rows()
        return [
            ScadaChanges(tuple((record, None) for record in rows[start : start + SEED_CHUNK]))
            for start in range(0, len(rows), SEED_CHUNK)
        ]

    def _seed_then_follow(self) -> None:
        # The seed first, then the live feed (from `history_s` ago): a newer change then always
        # lands after the older last value, never under it.
        for update in self.last_values():
            if self._stop.is_set():
                return
            self._post(update)
        if not self._stop.is_set():
            self.scada_feed.start()

    def _check(self) -> None:
        monitor = PipelineMonitor(self.settings)
        try:
            # Health first: a lost Kafka shows at once, not after the history query has given up.
            self._post(PipelineChecked(monitor.check()))
            try:
                self.alarm_topic = AlarmTopic(self.settings)
            except VacError as problem:
                self._post(FeedProblem("alarms", f"acknowledgements stay on this screen ({problem})"))
            self._post(self.log_history())
            if not self._stop.is_set():
                self.log_feed.start()
            while not self._stop.wait(self.check_every_s):
                self._post(PipelineChecked(monitor.check()))
        finally:
            monitor.close()

    def publish_ack(self, alarm: Alarm) -> None:
        """Called on the screen's thread: librdkafka queues it, never blocks for long."""
        topic = self.alarm_topic
        if topic is not None:
            try:
                topic.publish_ack(alarm)
            except VacError as problem:
                self._post(FeedProblem("alarms", str(problem)))

    def stop(self) -> None:
        """Stop and wait for the readers; close the inbox they post to first, or a reader
        waiting for room in it would keep this waiting."""
        self._stop.set()
        if self._seeder.ident is not None:
            self._seeder.join(10)
        for feed in self.feeds:
            feed.stop()
        if self.alarm_topic is not None:
            self.alarm_topic.flush(2.0)  # acknowledgements made just before quitting
        if self._monitor.ident is not None:
            self._monitor.join(10)
