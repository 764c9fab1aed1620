"""`vac stream scada` on the local stack: the 9,927 real LHC DPEs at 20,000 changes/s."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from tests.conftest import StackEndpoints
from tests.helpers import run_vac

pytestmark = pytest.mark.integration

LHC_DPES = Path(__file__).resolve().parents[3] / "shared" / "data" / "winccoa" / "LHC_KafkaStream.config"
FIELDS = {"id", "value", "timestamp", "sector", "mainpart", "DCUM", "type", "status", "ingest_ts", "seq"}


@pytest.mark.skipif(not LHC_DPES.exists(), reason="needs ../shared/data/winccoa beside the checkout")
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

    read = run_vac(*vac, "tail", "topic", topic, "--from", "beginning", "--no-follow", "-o", "json", timeout=300)
    assert read.returncode == 0, read.stderr
    envelopes = [orjson.loads(line) for line in read.stdout.splitlines()]
    assert len(envelopes) == summary["acked"]
    seqs: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    for envelope in envelopes:
        value = envelope["value"]
        assert value.keys() >= FIELDS
        assert envelope["key"] == value["id"]
        assert value["timestamp"].endswith("Z") and len(value["timestamp"]) == 27  # ISO UTC, microseconds
        seqs[value["id"]].append(value["seq"])
        partition_of[value["id"]].add(envelope["partition"])
    assert len(seqs) > 9_000  # nearly every one of the 9,927 DPEs changed
    for dpe, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1)), dpe  # +1 per change, no gap, in order
    assert all(len(partitions) == 1 for partitions in partition_of.values())  # one DPE, one partition


@pytest.mark.skipif(not LHC_DPES.exists(), reason="needs ../shared/data/winccoa beside the checkout")
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
    read = run_vac(*vac, "tail", "topic", topic, "--from", "beginning", "--no-follow", "-o", "jsonl")
    values = [orjson.loads(line) for line in read.stdout.splitlines()]
    assert len(values) == json.loads(result.stdout)["acked"] > 0
    assert all(set(v) == {"id", "value", "timestamp", "sector", "mainpart", "DCUM"} for v in values)
