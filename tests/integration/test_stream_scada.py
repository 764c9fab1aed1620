"""`vac stream scada` on the local stack: the 9,927 real LHC DPEs at 20,000 changes/s."""

from __future__ import annotations

import calendar
import json
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from tests.conftest import StackEndpoints
from tests.helpers import (
    LHC_DPES,
    connect_when_listening,
    free_base_port,
    read_topic,
    run_vac,
    start_stream,
    stream_summary,
)

pytestmark = pytest.mark.integration

FIELDS = {"id", "value", "timestamp", "sector", "mainpart", "DCUM", "type", "status", "ingest_ts", "seq"}


def epoch_ms(iso: str) -> int:
    moment = datetime.fromisoformat(iso)
    return calendar.timegm(moment.timetuple()) * 1000 + moment.microsecond // 1000


def test_twenty_thousand_changes_a_second_arrive_complete_and_in_order(local_stack: StackEndpoints) -> None:
    topic = f"it-scada-{uuid.uuid4().hex[:8]}"
    vac = ["--config", str(local_stack.config_file)]
    result = run_vac(
        *vac,
        "stream",
        "scada",
        "--source",
        "sim",
        "--dpes",
        str(LHC_DPES),
        "--rate",
        "20000",
        "--duration",
        "15",
        "--topic",
        topic,
        "--output",
        "json",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["failed"] == 0
    assert summary["unflushed"] == 0
    assert summary["acked"] >= 0.95 * 20_000 * 15
    assert summary["acked"] == summary["sent"]
    assert summary["changes"] == summary["sent"] + summary["suppressed"]
    assert summary["rate_sustained"] is True

    envelopes = read_topic(local_stack.config_file, topic, output="json")
    assert len(envelopes) == summary["acked"]
    seqs: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    for envelope in envelopes:
        value = envelope["value"]
        assert value.keys() >= FIELDS
        assert envelope["key"] == value["id"]
        assert value["timestamp"].endswith("Z") and len(value["timestamp"]) == 27  # ISO UTC, microseconds
        assert envelope["timestamp"] == epoch_ms(value["timestamp"])  # the record's time is the source time
        seqs[value["id"]].append(value["seq"])
        partition_of[value["id"]].add(envelope["partition"])
    assert len(seqs) > 9_000  # nearly every one of the 9,927 DPEs changed
    for dpe, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1)), dpe  # +1 per change, no gap, in order
    assert all(len(partitions) == 1 for partitions in partition_of.values())  # one DPE, one partition


def test_legacy_format_keeps_exactly_the_old_fields(local_stack: StackEndpoints) -> None:
    topic = f"it-legacy-{uuid.uuid4().hex[:8]}"
    vac = ["--config", str(local_stack.config_file)]
    result = run_vac(
        *vac,
        "stream",
        "scada",
        "--dpes",
        str(LHC_DPES),
        "--rate",
        "500",
        "--duration",
        "2",
        "--topic",
        topic,
        "--format",
        "legacy",
        "-o",
        "json",
        "--quiet",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    values = read_topic(local_stack.config_file, topic)
    assert len(values) == json.loads(result.stdout)["acked"] > 0
    assert all(set(v) == {"id", "value", "timestamp", "sector", "mainpart", "DCUM"} for v in values)


def test_json_lines_replay_skips_and_counts_bad_input(local_stack: StackEndpoints, tmp_path: Path) -> None:
    dpes = tmp_path / "dpes.json"
    dpes.write_text(
        orjson.dumps(
            [
                {
                    "sourceDPE": "VGI_1.PR",
                    "topic": "vac.lhc.pressures",
                    "type": "float",
                    "sector": "S1",
                    "mainpart": "M",
                    "DCUM": "1",
                },
                {
                    "sourceDPE": "VVS_1.RR1",
                    "topic": "vac.lhc.statuses",
                    "type": "unsigned",
                    "sector": "S1",
                    "mainpart": "M",
                    "DCUM": "1",
                },
            ]
        ).decode()
    )
    lines = [
        '{"dpe": "VGI_1.PR", "value": 1.2e-9, "stime": "2026-11-28T15:00:00.123456Z"}',
        "not json",
        '{"dpe": "NOPE.PR", "value": 1.0}',
        '{"dpe": "VGI_1.PR", "value": "high"}',
        '{"dpe": "VVS_1.RR1", "value": 257, "stime": 1795881600123, "status": 65}',
        '{"dpe": "VGI_1.PR", "value": 1.2e-9, "stime": "2026-11-28T15:00:01Z"}',  # same value: suppressed
    ]
    recording = tmp_path / "changes.jsonl"
    recording.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe not UTF-8\n")
    topic = f"it-jsonl-{uuid.uuid4().hex[:8]}"
    vac = ["--config", str(local_stack.config_file)]
    result = run_vac(
        *vac,
        "stream",
        "scada",
        "--source",
        f"jsonl:{recording}",
        "--dpes",
        str(dpes),
        "--topic",
        topic,
        "-o",
        "json",
        "-q",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["changes"], summary["sent"], summary["acked"], summary["suppressed"]) == (3, 2, 2, 1)
    assert summary["invalid_input_kinds"] == {"invalid JSON line": 2, "unknown DPE": 1, "value of the wrong type": 1}
    assert "vac: WARNING: skipping bad input (unknown DPE), e.g. NOPE.PR" in result.stderr
    values = sorted(read_topic(local_stack.config_file, topic), key=lambda v: v["id"])
    assert [(v["id"], v["value"], v["timestamp"]) for v in values] == [
        ("VGI_1.PR", 1.2e-9, "2026-11-28T15:00:00.123456Z"),
        ("VVS_1.RR1", 257, "2026-11-28T16:00:00.123000Z"),
    ]
    assert values[1]["status"]["invalid"] is True  # bit 6, _aut_inv


def test_a_tcp_bridge_streams_changes(local_stack: StackEndpoints) -> None:
    port = free_base_port(28092)
    topic = f"it-tcp-{uuid.uuid4().hex[:8]}"
    tcp = ["--source", f"tcp://127.0.0.1:{port}", "--dpes", str(LHC_DPES)]
    streamer = start_stream(local_stack.config_file, topic, *tcp, "--duration", "8")
    with connect_when_listening(port) as bridge:
        for i in range(1000):
            bridge.sendall(orjson.dumps({"dpe": "VGI_1025_5L4_B.PR", "value": 1e-9 * (i + 1)}) + b"\n")
        bridge.sendall(b'{"dpe": "VGI_1025_5L4_B.PR", "value": 5e-6}')  # the last line, without a newline
    summary = stream_summary(streamer)
    assert summary["acked"] == 1001
    seqs = [value["seq"] for value in read_topic(local_stack.config_file, topic)]
    assert seqs == list(range(1, 1002))


def test_a_silent_dpe_gets_a_heartbeat(local_stack: StackEndpoints) -> None:
    port = free_base_port(28192)
    topic = f"it-heartbeat-{uuid.uuid4().hex[:8]}"
    tcp = ["--source", f"tcp://127.0.0.1:{port}", "--dpes", str(LHC_DPES)]
    streamer = start_stream(local_stack.config_file, topic, *tcp, "--max-silence", "2", "--duration", "7")
    with connect_when_listening(port) as bridge:
        bridge.sendall(b'{"dpe": "VGI_1025_5L4_B.PR", "value": 3e-9, "stime": "2026-11-28T15:00:00Z"}\n')
    summary = stream_summary(streamer)
    assert 2 <= summary["heartbeats"] <= 3  # one per 2 s of silence in the ~6 s left
    values = read_topic(local_stack.config_file, topic)
    assert len(values) == 1 + summary["heartbeats"]
    assert [v.get("heartbeat", False) for v in values] == [False] + [True] * summary["heartbeats"]
    assert {(v["value"], v["timestamp"]) for v in values} == {(3e-9, "2026-11-28T15:00:00.000000Z")}
    assert [v["seq"] for v in values] == list(range(1, len(values) + 1))


def test_changes_with_impossible_times_are_counted_and_the_rest_streams(
    local_stack: StackEndpoints, tmp_path: Path
) -> None:
    dpe = '"dpe": "VGI_1025_5L4_B.PR"'
    bad_times = ["1e30", "18446744073709551615", "-1", '"NaN"', '"a string"', "1e308"]
    lines = [f'{{{dpe}, "value": 1e-9, "stime": "2026-11-28T15:00:00Z"}}']
    lines += [f'{{{dpe}, "value": 5e-9, "stime": {stime}}}' for stime in bad_times]
    lines += [f'{{{dpe}, "value": 2e-9, "stime": "2026-11-28T15:00:01Z"}}']
    recording = tmp_path / "changes.jsonl"
    recording.write_text("\n".join(lines) + "\n")
    topic = f"it-stime-{uuid.uuid4().hex[:8]}"
    jsonl = ["--source", f"jsonl:{recording}", "--dpes", str(LHC_DPES), "--topic", topic]
    result = run_vac("--config", str(local_stack.config_file), "stream", "scada", *jsonl, "-o", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["acked"] == 2
    assert summary["invalid_input_kinds"] == {"stime out of range": 4, "unreadable stime": 2}
    values = read_topic(local_stack.config_file, topic)
    assert [(v["value"], v["timestamp"]) for v in values] == [
        (1e-9, "2026-11-28T15:00:00.000000Z"),
        (2e-9, "2026-11-28T15:00:01.000000Z"),
    ]
