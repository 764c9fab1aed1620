"""`vac scada now` and `vac dash` at open on the local stack: the 9,927 LHC DPEs stream, most
then fall silent, and every one is listed with the last value its changes topic holds for it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.conftest import StackEndpoints
from tests.helpers import LHC_DPES, error_line, read_topic, run_vac

pytestmark = pytest.mark.integration


def stream(stack: StackEndpoints, dpes: Path, topic: str, last: str, seconds: int, seed: int) -> dict[str, object]:
    result = run_vac(
        *("--config", str(stack.config_file), "stream", "scada", "--dpes", str(dpes)),
        *("--rate", "10000", "--duration", str(seconds), "--seed", str(seed), "--topic", topic, "-o", "json", "-q"),
        env={"VAC_SCADA__LAST_TOPIC": last},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout)
    assert summary["failed"] == 0 and summary["last_topic_failed"] == 0 and summary["last_topic"] == last
    return summary


def test_every_dpe_is_listed_with_its_last_value_including_silent_ones(
    local_stack: StackEndpoints, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    changes, last = f"it-now-{run}", f"it-now-last-{run}"
    stream(local_stack, LHC_DPES, changes, last, seconds=8, seed=1)
    # Then only 300 DPEs go on changing; the other 9,627 stay silent.
    entries = orjson.loads(LHC_DPES.read_bytes())
    still = tmp_path / "still.json"
    still.write_bytes(orjson.dumps(entries[:300]))
    stream(local_stack, still, changes, last, seconds=4, seed=2)

    newest: dict[str, dict[str, object]] = {}
    for record in read_topic(local_stack.config_file, changes):  # in partition order: per key, in order
        newest[record["id"]] = record
    now = run_vac("--config", str(local_stack.config_file), "scada", "now", "--topic", last, "-o", "json")
    assert now.returncode == 0, now.stderr
    rows = {row["id"]: row for row in json.loads(now.stdout)}
    assert set(rows) == set(newest)
    assert len(rows) > 9_800  # nearly all of the 9,927 changed in 8 s at 10,000/s
    for name, record in newest.items():
        assert (rows[name]["value"], rows[name]["timestamp"], rows[name]["seq"]) == (
            record["value"],
            record["timestamp"],
            record["seq"],
        ), name
    # The silent ones are there with their value from the first run, the others with the second's.
    moved = {entry["sourceDPE"] for entry in entries[:300]}
    assert any(name not in moved for name in rows)
    assert rows["VGPB_2_7L8_B.PR"]["sector"] == "S78" and rows["VGPB_2_7L8_B.PR"]["mainpart"] == "LSS"

    # The dashboard opens with every DPE although none changed since: history_s 0 leaves the
    # live feed nothing to replay, so what it shows came from the last-value topic.
    dash = run_vac(
        *("--config", str(local_stack.config_file), "dash", "--summary-after", "6", "-o", "json"),
        env={"VAC_SCADA__LAST_TOPIC": last, "VAC_DASH__SCADA_TOPICS": f'["{changes}"]', "VAC_DASH__HISTORY_S": "0"},
    )
    assert dash.returncode == 0, dash.stderr
    summary = json.loads(dash.stdout)
    assert summary["dpes_seen"] == len(newest)

    table = run_vac("--config", str(local_stack.config_file), "scada", "now", "VGPB_*_7L8_*", "--topic", last)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    expected = sorted(name for name in newest if name.startswith("VGPB_") and "_7L8_" in name)
    assert [line.split()[0] for line in lines[1:]] == expected and expected


def test_messages_that_are_not_dpe_records_are_skipped_and_counted(local_stack: StackEndpoints) -> None:
    last = f"it-now-hostile-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": local_stack.bootstrap_servers})
    admin.create_topics([NewTopic(last, 1, 1)])[last].result(30)
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    good = orjson.dumps({"id": "VGPB_2_7L8_B.PR", "value": 1e-9, "timestamp": "2026-12-03T06:00:00.000000Z"})
    for key, value in [
        (b"VGPB_2_7L8_B.PR", good),
        (b"\xff\xfe", good),  # a key that is not UTF-8
        (b"VGPB_3_7L8_B.PR", b"not json \x1b[31m"),
        (b"VGPB_4_7L8_B.PR", b"[1, 2]"),
        (b"\x1b]0;pwned\x07VGPB_5.PR", good),  # escape sequences in the key
        (None, good),
    ]:
        producer.produce(last, value, key)
    producer.flush(30)
    now = run_vac("--config", str(local_stack.config_file), "scada", "now", "--topic", last)
    assert now.returncode == 0, now.stderr
    assert "4 message(s)" in now.stderr
    assert "\x1b" not in now.stdout and "\\x1b]0;pwned" in now.stdout
    assert "VGPB_2_7L8_B.PR" in now.stdout and "VGPB_3_7L8_B.PR" not in now.stdout


def test_a_missing_topic_or_a_bad_pattern_is_one_line_and_exit_2(local_stack: StackEndpoints) -> None:
    vac = ("--config", str(local_stack.config_file), "scada", "now")
    missing = run_vac(*vac, "--topic", f"it-now-none-{uuid.uuid4().hex[:8]}")
    assert missing.returncode == 2 and error_line(missing).startswith("vac: error: the last-value topic")
    bad = run_vac(*vac, "VGPB\x1b[2J*")
    assert bad.returncode == 2 and "printable" in error_line(bad)
    illegal = run_vac(*vac, "--topic", "no spaces allowed")
    assert illegal.returncode == 2
