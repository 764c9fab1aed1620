"""`vac stream scada` from a real OPC UA server (asyncua's) and a real MQTT broker (mosquitto)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from tests.conftest import StackEndpoints
from tests.helpers import free_base_port, read_topic, run_vac, start_stream, stream_summary

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DPES = ["VGI_1.PR", "VGI_2.PR", "VGPB_3.PR"]


def dpe_file(tmp_path: Path) -> Path:
    path = tmp_path / "dpes.json"
    path.write_bytes(
        orjson.dumps(
            [
                {
                    "sourceDPE": name,
                    "topic": "vac.test.pressures",
                    "type": "float",
                    "sector": "S1",
                    "mainpart": "M",
                    "DCUM": str(i),
                }
                for i, name in enumerate([*DPES, "VGI_MISSING.PR"])
            ]
        )
    )
    return path


def test_opcua_data_changes_stream_with_source_time_and_status(local_stack: StackEndpoints, tmp_path: Path) -> None:
    port = free_base_port(24840)
    server = subprocess.Popen(
        [
            sys.executable,
            str(FIXTURES / "opcua_server.py"),
            "--port",
            str(port),
            "--dpes",
            *DPES,
            "--updates",
            "5",
            "--delay",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        topic = f"it-opcua-{uuid.uuid4().hex[:6]}"
        result = run_vac(
            "--config",
            str(local_stack.config_file),
            "stream",
            "scada",
            "--source",
            f"opcua://127.0.0.1:{port}/vac/",
            "--dpes",
            str(dpe_file(tmp_path)),
            "--topic",
            topic,
            "--duration",
            "9",
            "-o",
            "json",
            "-q",
            timeout=120,
        )
    finally:
        server.kill()
        server.wait()
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["invalid_input_kinds"] == {"unknown OPC UA node": 1}
    values = read_topic(local_stack.config_file, topic)
    by_dpe: dict[str, list[dict[str, object]]] = {}
    for value in values:
        by_dpe.setdefault(str(value["id"]), []).append(value)
    assert sorted(by_dpe) == sorted(DPES)
    for index, name in enumerate(DPES):
        changes = by_dpe[name]
        # The initial value, then the five written ones; the last has a Bad status (and no value).
        assert [c["value"] for c in changes[:5]] == pytest.approx(
            [1e-10] + [(index + 1) * 1e-9 * u for u in range(1, 5)]
        )
        assert changes[5]["value"] in (None, pytest.approx((index + 1) * 5e-9))
        assert [c["status"]["invalid"] for c in changes] == [False] * 5 + [True]  # type: ignore[index]
        assert [c["seq"] for c in changes] == list(range(1, 7))
    assert summary["acked"] == len(values) == 18


def test_mqtt_payloads_stream(local_stack: StackEndpoints, tmp_path: Path) -> None:
    import paho.mqtt.publish as publish

    port = free_base_port(21883)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    topic = f"it-mqtt-{uuid.uuid4().hex[:6]}"
    try:
        time.sleep(1)
        mqtt = ["--source", f"mqtt://127.0.0.1:{port}/vacuum/#", "--dpes", str(dpe_file(tmp_path))]
        streamer = start_stream(local_stack.config_file, topic, *mqtt, "--duration", "8")
        time.sleep(4)
        messages = [
            {
                "topic": "vacuum/lhc/VGI_1.PR",
                "payload": orjson.dumps({"value": 2e-9, "stime": 1795881600123, "status": 1}),
            },
            {"topic": "vacuum/lhc/VGI_2.PR", "payload": orjson.dumps({"value": 3e-9, "stime": "2026-11-28T15:00:00Z"})},
            {"topic": "vacuum/lhc/x", "payload": orjson.dumps({"dpe": "VGPB_3.PR", "value": 4e-9, "status": 65})},
            {"topic": "vacuum/lhc/VGI_1.PR", "payload": b"not json"},
        ]
        publish.multiple([m | {"qos": 1} for m in messages], hostname="127.0.0.1", port=port)
        summary = stream_summary(streamer)
    finally:
        broker.kill()
        broker.wait()
    assert summary["acked"] == 3
    assert summary["invalid_input_kinds"] == {"invalid JSON payload": 1}
    values = {str(v["id"]): v for v in read_topic(local_stack.config_file, topic)}
    assert values["VGI_1.PR"]["value"] == 2e-9 and values["VGI_1.PR"]["timestamp"] == "2026-11-28T16:00:00.123000Z"
    assert values["VGI_2.PR"]["timestamp"] == "2026-11-28T15:00:00.000000Z"
    assert values["VGPB_3.PR"]["status"]["invalid"] is True  # type: ignore[index]


def test_an_unreachable_opcua_server_is_reported(local_stack: StackEndpoints, tmp_path: Path) -> None:
    port = free_base_port(24940)
    result = run_vac(
        "--config",
        str(local_stack.config_file),
        "stream",
        "scada",
        "--source",
        f"opcua://127.0.0.1:{port}",
        "--dpes",
        str(dpe_file(tmp_path)),
        "--duration",
        "20",
        "-q",
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert f"vac: error: OPC UA server opc.tcp://127.0.0.1:{port} failed" in result.stderr
