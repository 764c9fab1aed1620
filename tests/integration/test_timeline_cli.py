"""`vac timeline` on the local stack: the values of a sector's DPEs from Kafka and its alarms
from the alarm topic, merged by time, other sectors left out."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import orjson
import pytest
import yaml
from confluent_kafka import Producer

from tests.conftest import StackEndpoints
from tests.helpers import run_vac
from vac.kafka.admin import ensure_topics
from vac.settings import load_settings

pytestmark = pytest.mark.integration


def test_a_sectors_values_and_alarms_merge_by_time(local_stack: StackEndpoints, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["alarm_topic"] = f"it-tl-alarms-{tag}"
    config["dash"] = {"scada_topics": [f"it-tl-pressures-{tag}"]}
    path = tmp_path / "vac.yaml"
    path.write_text(yaml.safe_dump(config))
    settings = load_settings(path, env={}).settings
    topic = settings.dash.scada_topics[0]
    ensure_topics(settings.kafka, [topic, settings.alarm_topic], 1, 1)
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    now = time.time()
    for n, (dpe, value) in enumerate([("VGPB_2_7R7_B.PR", 1e-10), ("VGPB_9_3L2_B.PR", 1e-10),
                                      ("VGPB_2_7R7_B.PR", 3e-8), ("VGPB_2_12L8_R.PR", 2e-10)]):  # fmt: skip
        producer.produce(
            topic, orjson.dumps({"id": dpe, "value": value}), dpe.encode(), timestamp=int((now - 60 + n) * 1000)
        )
    alarm = {"type": "state", "dpe": "VGPB_2_7R7_B.PR", "kind": "above", "message": "30e-9 mbar above 10e-9",
             "raised_s": now - 50, "cleared_s": None}  # fmt: skip
    producer.produce(settings.alarm_topic, orjson.dumps(alarm), b"VGPB_2_7R7_B.PR/above")
    assert producer.flush(15) == 0
    result = run_vac("--config", str(path), "timeline", "--around", "1m", "--window", "2m", "--sector", "S78",
                     "-o", "json", timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    mine = [(e["source"], e["subject"], e["text"]) for e in entries if e["source"] != "log"]
    assert mine == [
        ("value", "VGPB_2_7R7_B.PR", "1e-10"),
        ("value", "VGPB_2_7R7_B.PR", "3e-08"),
        ("value", "VGPB_2_12L8_R.PR", "2e-10"),
        ("alarm", "VGPB_2_7R7_B.PR", "above raised: 30e-9 mbar above 10e-9"),
    ]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
