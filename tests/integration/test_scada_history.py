"""SCADA history in Elasticsearch on the local stack: the 9,927 LHC DPEs stream, `vac index`
indexes the changes (poison messages dead-lettered), `vac scada history` returns exactly the
values streamed for a DPE in a window, and `vac scada profile` lists every gauge of a sector in
DCUM order."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from elasticsearch import Elasticsearch

from tests.conftest import StackEndpoints
from tests.helpers import LHC_DPES, error_line, read_topic, run_vac
from vac.records.positions import position_of
from vac.search.scada_history import dpe_history_buckets
from vac.timegrammar import epoch_seconds, parse_iso_utc

pytestmark = pytest.mark.integration


def test_history_is_exactly_what_streamed_and_profile_is_in_dcum_order(
    local_stack: StackEndpoints, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    changes, last = f"it-hist-{run}", f"it-hist-last-{run}"
    env = {
        "VAC_SCADA__LAST_TOPIC": last,
        "VAC_INDEX__SCADA_NAME_TEMPLATE": f"it-scada-{run}-{{yyyy.MM.dd}}",
        "VAC_INDEX__GROUP_ID": f"it-hist-{run}",
        "VAC_INDEX__DEAD_LETTER_TOPIC": f"it-hist-dlq-{run}",
    }
    vac = ("--config", str(local_stack.config_file))
    streamed = run_vac(
        *vac,
        *("stream", "scada", "--dpes", str(LHC_DPES), "--rate", "10000", "--duration", "6"),
        *("--topic", changes, "-o", "json", "-q"),
        env=env,
        timeout=300,
    )
    assert streamed.returncode == 0, streamed.stderr
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    producer.produce(changes, b"not json \x1b[2J", b"VGPB_2_7L8_B.PR")
    producer.produce(changes, orjson.dumps({"id": "VGPB_2_7L8_B.PR", "value": 1e-9, "timestamp": "yesterday"}))
    producer.produce(
        changes, orjson.dumps({"id": "VGPB_2_7L8_B.PR", "value": "1e-9", "timestamp": "2026-12-03T00:00:00Z"})
    )
    producer.flush(30)

    indexed = run_vac(
        *vac,
        *("index", "--topic", f"it-hist-logs-{run}", "--scada-topic", changes, "--until-caught-up", "-o", "json", "-q"),
        env=env,
        timeout=600,
    )
    assert indexed.returncode == 0, indexed.stderr
    summary = json.loads(indexed.stdout)
    records = read_topic(local_stack.config_file, changes)  # -o jsonl: the values; the 3 poison ones last
    good = [r for r in records if isinstance(r, dict) and isinstance(r.get("seq"), int)]
    assert summary["dead_lettered"] == 3
    assert summary["indexed"] == len(good) == summary["consumed"] - 3

    dpe = "VGPB_2_7L8_B.PR"
    mine = [r for r in good if r["id"] == dpe]
    assert len(mine) >= 3
    # A window that starts at one change and ends (excluded) at a later one.
    since, until = mine[1]["timestamp"], mine[-1]["timestamp"]
    expected = [(r["timestamp"], r["value"]) for r in mine if since <= r["timestamp"] < until]
    deadline = time.monotonic() + 30  # the index refreshes every 5 s
    while True:
        history = run_vac(*vac, "scada", "history", dpe, "--since", since, "--until", until, "-o", "json", env=env)
        assert history.returncode == 0, history.stderr
        points = json.loads(history.stdout)["points"]
        if len(points) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert [(p["time"], p["value"]) for p in points] == expected
    assert [p["seq"] for p in points] == [r["seq"] for r in mine if since <= r["timestamp"] < until]

    # The dashboard's chart reads the same changes in slices: every change counted once, the
    # window's extremes kept, the newest indexed time known (live values join after it).
    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    whole = dpe_history_buckets(es, f"it-scada-{run}-{{yyyy.MM.dd}}", dpe, parse_iso_utc(mine[0]["timestamp"]),
                                parse_iso_utc(mine[-1]["timestamp"]) + timedelta(seconds=1), buckets=3)  # fmt: skip
    es.close()
    values = [r["value"] for r in mine]
    assert sum(b.count for b in whole.buckets) == len(mine) and 1 <= len(whole.buckets) <= 4
    assert (min(b.low for b in whole.buckets), max(b.high for b in whole.buckets)) == (min(values), max(values))
    assert whole.latest_s == pytest.approx(epoch_seconds(mine[-1]["timestamp"]), abs=0.001)

    as_csv = run_vac(*vac, "scada", "history", dpe, "--since", since, "--until", until, "-o", "csv", env=env)
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0][:2] == ["time", "value"] and [float(row[1]) for row in rows[1:]] == [v for _, v in expected]
    png = tmp_path / "history.png"
    plotted = run_vac(*vac, "scada", "history", dpe, "--since", "1h", "--plot", str(png), "--no-chart", env=env)
    assert plotted.returncode == 0, plotted.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    profile = run_vac(*vac, "scada", "profile", "--sector", "S78", "--topic", last, "-o", "json")
    assert profile.returncode == 0, profile.stderr
    gauges = json.loads(profile.stdout)
    in_s78 = {r["id"] for r in good if r["id"].endswith(".PR") and r["sector"] == "S78"}
    assert {g["dpe"] for g in gauges} == in_s78 and len(in_s78) > 1_000
    dcums = [g["dcum"] for g in gauges]
    assert dcums == sorted(dcums) and dcums[0] > 19_994 and dcums[-1] <= 23_315.4

    # The whole ring: the gauges placed by their names, none at the config's placeholder DCUM (125)
    ring = run_vac(*vac, "scada", "profile", "--topic", last, "-o", "json")
    assert ring.returncode == 0, ring.stderr
    placed = {r["id"] for r in good if r["id"].endswith(".PR") and position_of(r["id"]) is not None}
    unplaced = {r["id"] for r in good if r["id"].endswith(".PR")} - placed
    assert {g["dpe"] for g in json.loads(ring.stdout)} == placed and unplaced  # the TI2/TI8 gauges, the mobiles


def test_history_and_profile_refuse_bad_input_in_one_line(local_stack: StackEndpoints) -> None:
    vac = ("--config", str(local_stack.config_file), "scada")
    for args in (
        ("history", "VGPB\x1b[2J.PR"),
        ("history", "VGPB_1.PR", "--since", "yesterday-ish"),
        ("history", "VGPB_1.PR", "--since", "1h", "--until", "2h"),
        ("history", "VGPB_1.PR", "--since", "99999999999d"),
        ("profile", "--sector", "S7\x1b]8"),
        ("profile", "--topic", f"it-hist-none-{uuid.uuid4().hex[:8]}"),
    ):
        result = run_vac(*vac, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert error_line(result).startswith("vac: error: ")
    missing = run_vac(*vac, "history", "VGPB_1.PR", env={"VAC_INDEX__SCADA_NAME_TEMPLATE": "it-none-{yyyy.MM.dd}"})
    assert missing.returncode == 2 and "no SCADA change index" in error_line(missing)
