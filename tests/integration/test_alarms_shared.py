"""Alarms shared through the real Kafka: the headless evaluator raises, `vac alarms ack`
acknowledges, a dashboard's feeds see the ack with who did it, and a restarted evaluator
resumes the open alarm and clears it (instead of raising it again)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from confluent_kafka import Producer

from tests.conftest import StackEndpoints
from tests.helpers import run_vac
from vac.alarms.watch import AlarmWatcher
from vac.dash.state import DashFeeds, DashState
from vac.dash.updates import Inbox
from vac.kafka.admin import ensure_topics
from vac.settings import VacSettings, load_settings

pytestmark = pytest.mark.integration
DPE = "VGPB_2_7L8_B.PR"


def wait_for(check: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


@pytest.fixture
def alarm_config(local_stack: StackEndpoints, tmp_path: Path) -> tuple[Path, VacSettings]:
    tag = uuid.uuid4().hex[:8]
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["alarm_topic"] = f"it-alarms-{tag}"
    config["dash"] = {"scada_topics": [f"it-alarm-pressures-{tag}"]}
    path = tmp_path / "vac.yaml"
    path.write_text(yaml.safe_dump(config))
    settings = load_settings(path, env={}).settings
    ensure_topics(settings.kafka, list(settings.dash.scada_topics), 1, 1)
    return path, settings


def send(settings: VacSettings, values: list[float]) -> None:
    """One change a second of source time, ending now."""
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    now = time.time()
    for n, value in enumerate(values):
        at = now - (len(values) - 1 - n)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1e6):06d}Z"
        record = {"id": DPE, "value": value, "timestamp": stamp, "status": {"invalid": False}}
        producer.produce(settings.dash.scada_topics[0], orjson.dumps(record), DPE.encode())
    assert producer.flush(15) == 0


class Running:
    def __init__(self, settings: VacSettings) -> None:
        self.events: list[dict[str, Any]] = []
        self.watcher = AlarmWatcher(settings, self.events.append)
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self.watcher.run, args=(self.cancelled,), daemon=True)
        self.thread.start()
        time.sleep(4)  # it reads from now on: let it assign the SCADA topic first

    def stop(self) -> None:
        self.cancelled.set()
        self.thread.join(30)

    def seen(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]


def listed(path: Path) -> list[dict[str, Any]]:
    result = run_vac("--config", str(path), "alarms", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    alarms: list[dict[str, Any]] = json.loads(result.stdout)
    return alarms


def test_an_ack_is_shared_and_a_restarted_evaluator_resumes(alarm_config: tuple[Path, VacSettings]) -> None:
    path, settings = alarm_config
    first = Running(settings)
    try:
        send(settings, [5e-8] * 15)  # above 1e-8 for 14 s: held past min_s
        assert wait_for(lambda: bool(first.seen("raised"))), first.events
        assert [(e["dpe"], e["kind"]) for e in first.seen("raised")] == [(DPE, "above")]
        assert wait_for(lambda: [a["id"] for a in listed(path)] == [f"{DPE}/above"])

        # A dashboard's feeds read the alarm topic; `vac alarms ack` acknowledges from elsewhere.
        state, feeds, inbox = DashState(settings), DashFeeds(settings), Inbox()
        feeds.start(inbox.post)
        try:
            acked = run_vac("--config", str(path), "alarms", "ack", f"{DPE}/above", "--by", "alice", "-o", "json")
            assert acked.returncode == 0, acked.stderr
            assert json.loads(acked.stdout)["acked_by"] == "alice"

            def dashboard_sees_ack() -> bool:
                for update in inbox.take(0.2):
                    state.apply(update)
                alarm = state.alarms.alarms.get((DPE, "above"))
                return alarm is not None and alarm.acked_by == "alice"

            assert wait_for(dashboard_sees_ack)
        finally:
            inbox.close()
            feeds.stop()
        assert wait_for(lambda: bool(first.seen("acked")))  # the evaluator applied it too
        assert listed(path)[0]["acked_by"] == "alice"
    finally:
        first.stop()

    second = Running(settings)
    try:
        assert second.watcher.summary.resumed == 1
        assert second.watcher.book.alarms[(DPE, "above")].acked_by == "alice"
        send(settings, [3e-8] * 12)  # still above: the same alarm, not a new one
        send(settings, [1e-10] * 15)  # below clear_below for 14 s: cleared, and acknowledged: it leaves
        assert wait_for(lambda: bool(second.seen("removed"))), second.events
        assert second.seen("raised") == []
        assert wait_for(lambda: listed(path) == [])
    finally:
        second.stop()


def test_an_unknown_alarm_cannot_be_acknowledged(alarm_config: tuple[Path, VacSettings]) -> None:
    path, _ = alarm_config
    result = run_vac("--config", str(path), "alarms", "ack", "\x1b[2JVGPB/above")
    assert result.returncode == 1
    assert "vac: error: no alarm" in result.stderr and "\x1b" not in result.stderr


def test_hostile_messages_on_the_alarm_topic_are_skipped(alarm_config: tuple[Path, VacSettings]) -> None:
    path, settings = alarm_config
    ensure_topics(settings.kafka, [settings.alarm_topic], 1, 1)
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    good = {"type": "state", "dpe": DPE, "kind": "above", "message": "m", "raised_s": time.time(), "cleared_s": None}
    for value in (b"\xff\xfe", b"[1]", b'{"type": "state", "dpe": "\\u001b[2J", "kind": "above", "raised_s": 1}',
                  orjson.dumps({**good, "raised_s": 1e300}), orjson.dumps({**good, "kind": "sideways"}),
                  orjson.dumps(good)):  # fmt: skip
        producer.produce(settings.alarm_topic, value, b"k")
    assert producer.flush(15) == 0
    assert [a["id"] for a in listed(path)] == [f"{DPE}/above"]
