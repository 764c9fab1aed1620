"""`failed` means not stored: `vac stream scada` into a broker of its own that is paused
(SIGSTOP) for longer than `message.timeout.ms`. Changes sent but never acknowledged are
`unknown`; the topic read back holds at least the acked ones and at most acked + unknown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from tests.conftest import stack_state_dir
from tests.helpers import VAC, free_base_port, read_topic

pytestmark = pytest.mark.integration

MESSAGE_TIMEOUT_MS = 3000
PAUSE_S = 7


def test_changes_timed_out_by_a_paused_broker_are_unknown_not_failed(tmp_path: Path) -> None:
    state_dir = stack_state_dir("vac-test-pause")
    port = free_base_port(24092, 1)
    cluster = {
        "local": {"state_dir": str(state_dir), "kafka_port": port},
        "kafka": {"bootstrap_servers": f"127.0.0.1:{port}", "timeout_s": 15},
        "scada": {"partitions": 1, "replication_factor": 1},
    }
    config = tmp_path / "broker.yaml"
    config.write_text(yaml.safe_dump(cluster))
    # The streamer alone gets the short timeout (the reader would only warn about it).
    cluster["kafka"]["properties"] = {"message.timeout.ms": MESSAGE_TIMEOUT_MS}
    streamer_config = tmp_path / "streamer.yaml"
    streamer_config.write_text(yaml.safe_dump(cluster))
    vac = [VAC, "--config", str(config)]
    broker: int | None = None
    try:
        up = subprocess.run([*vac, "local", "up", "kafka"], capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, up.stderr
        broker = json.loads((state_dir / "stack.json").read_text())["kafka"]["pids"][0]
        topic = f"it-pause-{uuid.uuid4().hex[:6]}"
        command = [VAC, "--config", str(streamer_config), "stream", "scada", "--devices", "200", "--rate", "2000"]
        streamer = subprocess.Popen(
            [*command, "--duration", "20", "--topic", topic, "-o", "json", "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(6)
        os.killpg(broker, signal.SIGSTOP)  # requests already sent stay unanswered, then time out
        try:
            time.sleep(PAUSE_S)
        finally:
            os.killpg(broker, signal.SIGCONT)
        out, err = streamer.communicate(timeout=180)
        summary = orjson.loads(out)

        assert summary["unknown"] > 0, err  # the pause outlasted message.timeout.ms
        assert summary["failed"] == 0  # nothing was refused: nothing is known to be lost
        assert summary["first_unknown"] == "Local: Message timed out"
        assert summary["acked"] + summary["unknown"] == summary["sent"] and summary["unflushed"] == 0
        assert streamer.returncode == 1  # unknown outcomes are not success
        assert "changes were sent but never acknowledged" in err

        values = read_topic(config, topic)
        assert summary["acked"] <= len(values) <= summary["acked"] + summary["unknown"]
        assert not [key for key, n in Counter((v["id"], v["seq"]) for v in values).items() if n > 1]
    finally:
        if broker is not None:
            os.killpg(broker, signal.SIGCONT)  # never leave it stopped, whatever failed
        subprocess.run([*vac, "local", "reset", "--yes"], capture_output=True, timeout=300)
