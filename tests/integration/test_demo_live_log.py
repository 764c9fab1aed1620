"""The demo's live log on the local stack: the simulator writes WinCC OA records at the current
time (its events' own lines among them), `vac ship logs` ships them, and the dashboard's log
feed shows records written in the last minute."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.conftest import StackEndpoints
from tests.helpers import LHC_DPES, run_vac
from vac.dash.state import DashFeeds, DashState
from vac.dash.updates import Inbox
from vac.settings import load_settings

pytestmark = pytest.mark.integration


def test_the_log_screen_shows_records_written_in_the_last_minute(local_stack: StackEndpoints, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": f"it-live-logs-{tag}"}
    config_path = tmp_path / "vac.yaml"
    config_path.write_text(yaml.safe_dump(config))
    vac = ["--config", str(config_path)]
    log = tmp_path / "PVSS_II.log"
    streamed = run_vac(*vac, "stream", "scada", "--dpes", str(LHC_DPES), "--rate", "2000", "--duration", "8",
                       "--events-per-hour", "3600", "--sim-log", str(log), "--topic", f"it-live-scada-{tag}", "-q",
                       timeout=120)  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    assert b"/vacEqp, " in log.read_bytes()  # an event's own line among the chatter
    app_id = f"vac_it{tag}_scada_logs"
    shipped = run_vac(*vac, "ship", "logs", "--path", str(log), "--app-id", app_id, "--once", "--from-beginning",
                      "--registry", str(tmp_path / "registry.json"), "-q", timeout=120)  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr

    settings = load_settings(config_path, env={}).settings
    state, feeds, inbox = DashState(settings), DashFeeds(settings), Inbox()
    feeds.start(inbox.post)
    try:
        deadline = time.monotonic() + 40
        fresh: list[dict[str, object]] = []
        while time.monotonic() < deadline and not fresh:
            for update in inbox.take(0.3):
                state.apply(update)
            fresh = [
                doc for doc in state.logs.records
                if doc.get("fields", {}).get("app_id") == app_id  # type: ignore[union-attr]
                and time.time() - datetime.fromisoformat(str(doc["@timestamp"]).replace("Z", "+00:00")).timestamp() < 60
            ]  # fmt: skip
    finally:
        inbox.close()
        feeds.stop()
    assert fresh, "no record of the live log reached the dashboard"
    assert {doc.get("level") for doc in fresh} & {"INFO", "WARNING", "SEVERE"}
