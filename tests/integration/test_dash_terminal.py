"""`vac dash` in a real pseudo-terminal against the local stack while the simulator streams
and a log is shipped: live values and log records appear, keys work, q quits with status 0."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pexpect
import pytest
import yaml

from tests.conftest import StackEndpoints
from tests.helpers import SAMPLE_LOG, VAC, run_vac

pytestmark = pytest.mark.integration


def test_dash_shows_live_values_and_shipped_records(local_stack: StackEndpoints, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:6]
    scada_topic, logs_topic = f"it-dash-scada-{run}", f"it-dash-logs-{run}"
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": logs_topic, "idle_flush_s": 0.5}
    config["dash"] = {"scada_topics": [scada_topic], "refresh_hz": 4}
    config["scada"] = {"last_topic": f"it-dash-last-{run}"}  # the dash opens with this topic's last values
    config_file = tmp_path / "dash.yaml"
    config_file.write_text(yaml.safe_dump(config))
    streamer = subprocess.Popen(
        [VAC, "--config", str(config_file), "stream", "scada", "--devices", "300", "--rate", "500",
         "--duration", "90", "--topic", scada_topic, "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        shipped = run_vac(
            "--config", str(config_file), "ship", "logs", "--path", str(SAMPLE_LOG), "--app-id", "vac_lhc_1_scada_logs",
            "--once", "--from-beginning", "--registry", str(tmp_path / "registry.json"), "-o", "json",
        )  # fmt: skip
        assert shipped.returncode == 0 and json.loads(shipped.stdout)["acked"] == 4364, shipped.stderr
        env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"} | {"TERM": "xterm-256color"}
        child = pexpect.spawn(
            VAC, ["--config", str(config_file), "dash", "--screen", "scada"],
            env=env, encoding="utf-8", timeout=60, dimensions=(40, 160),
        )  # fmt: skip
        try:
            child.expect(r"VG\w+_\d+_\d+\.(PR|RR1)")  # a live DPE row
            child.expect(r"matching DPEs \(\d+ seen\)")
            child.send("3")  # the log screen
            child.expect("WCC\\w+")  # a shipped record's manager
            child.expect("records per minute")
            child.send("1")  # the overview
            child.expect("Kafka: up")
            child.expect("stream-scada")  # the streamer's heartbeat in the fleet table
            child.send("?")
            child.expect("Esc closes this help")
            child.send("\x1b")
            time.sleep(0.5)  # a lone Esc, not the start of Alt+q
            child.send("q")
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert child.exitstatus == 0
    finally:
        streamer.terminate()
        streamer.wait(60)


def test_dash_without_a_terminal_watches_and_prints_a_summary(local_stack: StackEndpoints, tmp_path: Path) -> None:
    """The summary loop owns the state as the screen's thread does: what the readers posted
    during --summary-after is in it."""
    run = uuid.uuid4().hex[:6]
    topic = f"it-dash-summary-{run}"
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["dash"] = {"scada_topics": [topic]}
    config["scada"] = {"last_topic": f"it-dash-last-{run}"}  # the dash opens with this topic's last values
    config_file = tmp_path / "dash.yaml"
    config_file.write_text(yaml.safe_dump(config))
    streamed = run_vac(
        "--config", str(config_file), "stream", "scada", "--devices", "40", "--rate", "400", "--duration", "3",
        "--topic", topic, "-q", "-o", "json",
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    sent = json.loads(streamed.stdout)["acked"]
    result = run_vac("--config", str(config_file), "dash", "--summary-after", "6", "-o", "json", timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["kafka"] == "up" and summary["elasticsearch"] in ("green", "yellow")
    assert summary["changes_seen"] > 0 and 0 < summary["dpes_seen"] <= sent  # read back from the history
