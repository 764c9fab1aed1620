"""Nothing lost, nothing duplicated: `vac stream scada` into a 3-broker cluster (replication
3, min.insync.replicas 2) while one broker is killed with SIGKILL and started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from confluent_kafka.admin import AdminClient, NewTopic

from tests.conftest import stack_state_dir
from tests.helpers import VAC, free_base_port, read_topic, start_stream, stream_summary

pytestmark = pytest.mark.integration


def test_a_broker_killed_and_restarted_mid_stream_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    state_dir = stack_state_dir("vac-test-loss")
    port = free_base_port(22092, *range(1, 6))
    config = tmp_path / "cluster.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "local": {"state_dir": str(state_dir), "kafka_port": port, "kafka_brokers": 3},
                "kafka": {
                    "bootstrap_servers": f"127.0.0.1:{port},127.0.0.1:{port + 2},127.0.0.1:{port + 4}",
                    "timeout_s": 15,
                },
                "scada": {"partitions": 6, "replication_factor": 3},
            }
        )
    )
    vac = [VAC, "--config", str(config)]
    try:
        up = subprocess.run([*vac, "local", "up", "kafka"], capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, up.stderr
        topic = f"it-loss-{uuid.uuid4().hex[:6]}"
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
        admin.create_topics([NewTopic(topic, 6, 3, config={"min.insync.replicas": "2"})])[topic].result(30)

        streamer = start_stream(config, topic, "--devices", "2000", "--rate", "5000", "--duration", "30")
        time.sleep(8)
        victim = json.loads((state_dir / "stack.json").read_text())["kafka"]["pids"][1]
        os.killpg(victim, signal.SIGKILL)  # node 2, with whatever it led
        time.sleep(8)
        restarted = subprocess.run([*vac, "local", "up", "kafka"], capture_output=True, text=True, timeout=300)
        assert restarted.returncode == 0, restarted.stderr
        summary = stream_summary(streamer, timeout=180)
        assert summary["failed"] == 0 and summary["unflushed"] == 0
        assert summary["acked"] == summary["sent"] > 100_000

        values = read_topic(config, topic)
        seqs: dict[str, list[int]] = defaultdict(list)
        for value in values:
            seqs[value["id"]].append(value["seq"])
        assert len(values) == summary["acked"]  # nothing lost, nothing twice
        for dpe, numbers in seqs.items():
            assert numbers == list(range(1, len(numbers) + 1)), dpe  # and in order per DPE
    finally:
        subprocess.run([*vac, "local", "reset", "--yes"], capture_output=True, timeout=300)
