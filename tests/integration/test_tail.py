"""`vac tail topic` and `vac topics` against the real local Kafka."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.conftest import StackEndpoints
from tests.helpers import VAC, error_line, run_vac

pytestmark = pytest.mark.integration

TOTAL = 200_000
SECTORS = [f"VACSECPR{i}" for i in range(8)]
SPAN_MS = 30 * 60 * 1000  # the messages' timestamps cover the last 30 minutes


@dataclass(frozen=True)
class Produced:
    topic: str
    values: list[dict[str, object]]
    """By seq."""
    timestamps: list[int]
    """By seq, epoch ms."""


def create_topic(stack: StackEndpoints, topic: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": stack.bootstrap_servers})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)


def produce(stack: StackEndpoints, topic: str, payloads: list[tuple[bytes, bytes | None, int]]) -> None:
    producer = Producer(
        {"bootstrap.servers": stack.bootstrap_servers, "linger.ms": 20, "enable.idempotence": True, "acks": "all"}
    )
    for key, value, timestamp in payloads:
        while True:
            try:
                producer.produce(topic, key=key, value=value, timestamp=timestamp)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0


@pytest.fixture(scope="module")
def pressures(local_stack: StackEndpoints) -> Produced:
    """200,000 JSON changes of 9,927 DPEs over 3 partitions, timestamps spread over 30 min."""
    topic = f"it-tail-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic)
    start = int(time.time() * 1000) - SPAN_MS
    values, timestamps, payloads = [], [], []
    for seq in range(TOTAL):
        value = {
            "id": f"VGPB_{seq % 9927}_5L4_B.PR",
            "value": 10 ** (-11 + (seq * 7919 % 6000) / 1000),  # 1e-11 .. 1e-5, spread over decades
            "sector": SECTORS[seq % len(SECTORS)],
            "seq": seq,
        }
        timestamp = start + seq * SPAN_MS // TOTAL
        values.append(value)
        timestamps.append(timestamp)
        payloads.append((str(value["id"]).encode(), orjson.dumps(value), timestamp))
    produce(local_stack, topic, payloads)
    return Produced(topic, values, timestamps)


def tail(stack: StackEndpoints, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_vac("--config", str(stack.config_file), "tail", "topic", *args, timeout=timeout)


def test_the_whole_topic_in_jsonl_is_every_message_once(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(local_stack, pressures.topic, "--from", "beginning", "--no-follow", "--output", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == TOTAL
    seqs = sorted(orjson.loads(line)["seq"] for line in lines)
    assert seqs == list(range(TOTAL))


def test_messages_come_in_offset_order_per_partition(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(local_stack, pressures.topic, "--from", "beginning", "--no-follow", "--output", "json")
    assert result.returncode == 0, result.stderr
    offsets: dict[int, list[int]] = defaultdict(list)
    seq_by_key: dict[str, list[int]] = defaultdict(list)
    for envelope in orjson.loads(result.stdout):  # -o json: one array
        offsets[envelope["partition"]].append(envelope["offset"])
        seq_by_key[envelope["key"]].append(envelope["value"]["seq"])
    assert sorted(offsets) == [0, 1, 2]
    for partition_offsets in offsets.values():
        assert partition_offsets == list(range(len(partition_offsets)))  # no gap, no reordering
    assert sum(len(o) for o in offsets.values()) == TOTAL
    assert all(seqs == sorted(seqs) for seqs in seq_by_key.values())  # one DPE's changes stay in order


def test_a_filter_yields_exactly_the_matching_messages(local_stack: StackEndpoints, pressures: Produced) -> None:
    where = 'value > `1e-8` && sector == `"VACSECPR3"`'
    result = tail(local_stack, pressures.topic, "--from", "beginning", "--no-follow", "-o", "jsonl", "--where", where)
    assert result.returncode == 0, result.stderr
    expected = {v["seq"] for v in pressures.values if v["value"] > 1e-8 and v["sector"] == "VACSECPR3"}  # type: ignore[operator]
    got = [orjson.loads(line)["seq"] for line in result.stdout.splitlines()]
    assert 1000 < len(expected) < TOTAL // 8
    assert len(got) == len(expected)
    assert set(got) == expected


def test_a_key_glob_selects_keys(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(
        local_stack, pressures.topic, "--from", "beginning", "--no-follow", "-o", "jsonl", "--key", "VGPB_99?_*"
    )
    assert result.returncode == 0, result.stderr
    expected = {
        v["seq"]
        for v in pressures.values
        if str(v["id"]).startswith("VGPB_99") and len(str(v["id"]).split("_")[1]) == 3
    }
    assert {orjson.loads(line)["seq"] for line in result.stdout.splitlines()} == expected


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def test_at_times_select_the_half_open_window(local_stack: StackEndpoints, pressures: Produced) -> None:
    since, until = pressures.timestamps[50_000], pressures.timestamps[120_000]
    result = tail(local_stack, pressures.topic, "--from", f"@{iso(since)}", "--until", f"@{iso(until)}", "-o", "jsonl")
    assert result.returncode == 0, result.stderr
    expected = {seq for seq, ts in enumerate(pressures.timestamps) if since <= ts < until}
    got = [orjson.loads(line)["seq"] for line in result.stdout.splitlines()]
    assert len(got) == len(expected)
    assert set(got) == expected


def test_relative_from_selects_the_last_minutes(local_stack: StackEndpoints, pressures: Produced) -> None:
    before = int(time.time() * 1000)
    result = tail(local_stack, pressures.topic, "--from", "-10m", "--no-follow", "-o", "jsonl")
    after = int(time.time() * 1000)
    assert result.returncode == 0, result.stderr
    got = {orjson.loads(line)["seq"] for line in result.stdout.splitlines()}
    # The window's start lies between `before` and `after` minus 10 minutes.
    surely_in = {seq for seq, ts in enumerate(pressures.timestamps) if ts >= after - 600_000}
    maybe_in = {seq for seq, ts in enumerate(pressures.timestamps) if ts >= before - 600_000}
    assert surely_in <= got <= maybe_in
    assert len(got) > TOTAL // 4


def test_last_n_per_partition(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(local_stack, pressures.topic, "--from", "-7", "--no-follow", "-o", "json")
    assert result.returncode == 0, result.stderr
    envelopes = orjson.loads(result.stdout)
    assert len(envelopes) == 21
    assert sorted({e["partition"] for e in envelopes}) == [0, 1, 2]


def test_count_prints_that_many_and_exits_0(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(local_stack, pressures.topic, "--from", "beginning", "--count", "5", "-o", "jsonl")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5


def test_a_partition_can_be_chosen(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(local_stack, pressures.topic, "--from", "beginning", "--no-follow", "-p", "1", "-o", "json")
    assert result.returncode == 0, result.stderr
    partitions = {envelope["partition"] for envelope in orjson.loads(result.stdout)}
    assert partitions == {1}
    bad = tail(local_stack, pressures.topic, "-p", "7")
    assert bad.returncode == 2
    assert error_line(bad).startswith("vac: error: --partition 7: topic")


def test_piped_into_head_it_ends_quietly(local_stack: StackEndpoints, pressures: Produced) -> None:
    vac = f"{VAC} --config {local_stack.config_file}"
    command = f"set -o pipefail; {vac} tail topic {pressures.topic} --from beginning | head -3"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr == ""


def test_stats_count_what_was_read_and_matched(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(
        local_stack,
        pressures.topic,
        "--from",
        "beginning",
        "--no-follow",
        "-o",
        "raw",
        "--where",
        'sector == `"VACSECPR0"`',
        "--stats",
    )
    assert result.returncode == 0, result.stderr
    assert f"read {TOTAL:,} messages" in result.stderr
    assert f"matched {TOTAL // 8:,}" in result.stderr


def test_several_topics_are_merged(local_stack: StackEndpoints) -> None:
    topics = [f"it-merge-a-{uuid.uuid4().hex[:6]}", f"it-merge-b-{uuid.uuid4().hex[:6]}"]
    now = int(time.time() * 1000)
    for index, topic in enumerate(topics):
        create_topic(local_stack, topic, partitions=1)
        produce(local_stack, topic, [(b"k", orjson.dumps({"n": index * 100 + i}), now) for i in range(10)])
    result = tail(local_stack, *topics, "--from", "beginning", "--no-follow", "-o", "json")
    assert result.returncode == 0, result.stderr
    envelopes = orjson.loads(result.stdout)
    assert {e["topic"] for e in envelopes} == set(topics)
    assert sorted(e["value"]["n"] for e in envelopes) == [*range(10), *range(100, 110)]


def test_values_that_are_not_json_are_marked_and_counted(local_stack: StackEndpoints) -> None:
    topic = f"it-mixed-{uuid.uuid4().hex[:6]}"
    create_topic(local_stack, topic, partitions=1)
    now = int(time.time() * 1000)
    produce(local_stack, topic, [(b"a", b'{"ok": 1}', now), (b"b", b"\xff\xfe garbage", now), (b"c", None, now)])
    result = tail(
        local_stack, topic, "--from", "beginning", "--no-follow", "-o", "pretty", "--decode", "json", "--stats"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith(" a ok=1")
    assert "[not JSON]" in lines[1]
    assert "1 not JSON" in result.stderr


def test_a_group_commits_what_it_read(local_stack: StackEndpoints, pressures: Produced) -> None:
    group = f"it-group-{uuid.uuid4().hex[:6]}"
    result = tail(local_stack, pressures.topic, "--group", group, "--from", "beginning", "--no-follow", "-o", "raw")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == TOTAL
    described = run_vac("--config", str(local_stack.config_file), "topics", "describe", pressures.topic, "-o", "json")
    assert described.returncode == 0, described.stderr
    info = json.loads(described.stdout)
    groups = {g["group"]: g for g in info["groups"]}
    assert groups[group]["lag"] == 0
    assert groups[group]["committed"] == TOTAL
    assert info["messages"] == TOTAL
    assert [p["messages"] for p in info["partitions"]] and sum(p["messages"] for p in info["partitions"]) == TOTAL


def test_topics_list_shows_the_topic(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = run_vac("--config", str(local_stack.config_file), "topics", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    topics = {t["name"]: t for t in json.loads(result.stdout)}
    assert topics[pressures.topic] == {"name": pressures.topic, "partitions": 3, "replication_factor": 1}
    assert "__consumer_offsets" not in topics


def test_an_unknown_topic_suggests_close_names(local_stack: StackEndpoints, pressures: Produced) -> None:
    typo = pressures.topic[:-1] + ("x" if pressures.topic[-1] != "x" else "y")
    result = tail(local_stack, typo)
    assert result.returncode == 2
    assert error_line(result) == f"vac: error: topic '{typo}' does not exist"
    assert f"did you mean {pressures.topic}" in result.stderr
    described = run_vac("--config", str(local_stack.config_file), "topics", "describe", typo)
    assert described.returncode == 2


def test_a_bad_position_says_which_part_is_wrong(local_stack: StackEndpoints, pressures: Produced) -> None:
    result = tail(local_stack, pressures.topic, "--until", "@2026-02-30")
    assert result.returncode == 2
    wrong = "vac: error: --until '@2026-02-30': '2026-02-30' is not a time (day is out of range"
    assert error_line(result).startswith(wrong)


def test_an_unreachable_broker_fails_within_the_timeout() -> None:
    env = {"VAC_CONFIG": "", "VAC_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "VAC_KAFKA__TIMEOUT_S": "2"}
    started = time.monotonic()
    result = run_vac("tail", "topic", "anything", env=env)
    assert time.monotonic() - started < 15
    assert result.returncode == 3
    assert error_line(result).startswith("vac: error: Kafka at 127.0.0.1:1 did not answer within 2 s")


ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202eevil\x00"
HOSTILE_KEY = f"VGPB_{ESCAPES}".encode()


@pytest.fixture(scope="module")
def hostile(local_stack: StackEndpoints) -> str:
    """A topic where anyone could have written: escape sequences in keys, values and headers,
    text that is not JSON, JSON without the field a filter asks for."""
    topic = f"it-tail-hostile-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic, partitions=1)
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers})
    now = int(time.time() * 1000)
    producer.produce(topic, key=HOSTILE_KEY, value=orjson.dumps({"id": f"VGPB_1{ESCAPES}", "text": ESCAPES}),
                     headers=[(f"h{ESCAPES}", ESCAPES.encode())], timestamp=now)  # fmt: skip
    producer.produce(topic, key=b"plain", value=f"not json {ESCAPES}".encode(), timestamp=now)
    producer.produce(topic, key=b"n", value=orjson.dumps({"id": 7}), timestamp=now)
    producer.produce(topic, key=b"m", value=orjson.dumps({"component": "ship-logs"}), timestamp=now)
    producer.produce(topic, key=b"v", value=orjson.dumps({"id": "VGPB_2"}), timestamp=now)
    assert producer.flush(30) == 0
    return topic


@pytest.mark.parametrize("output", ["pretty", "table"])
def test_people_outputs_show_escape_sequences_escaped(local_stack: StackEndpoints, hostile: str, output: str) -> None:
    result = tail(local_stack, hostile, "--from", "beginning", "--no-follow", "-o", output, "--headers")
    assert result.returncode == 0, result.stderr
    assert not any(char in result.stdout for char in "\x1b\x07\x9b\u202e\x00"), repr(result.stdout)
    escaped = "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202eevil\\x00"
    assert f"text={escaped}" in result.stdout
    assert f"not json {escaped}" in result.stdout
    assert "VGPB_\\x1b[2J" in result.stdout  # the key (the table cuts it at 28 characters)
    if output == "pretty":
        name = escaped.removesuffix("\\x00")  # a header name is a C string to librdkafka: it ends at NUL
        assert f"[h{name}={escaped}]" in result.stdout
    assert len(result.stdout.splitlines()) == 5 + (output == "table")  # one line a message, plus the header


def test_machine_outputs_keep_the_data(local_stack: StackEndpoints, hostile: str) -> None:
    raw = run_vac("--config", str(local_stack.config_file), "tail", "topic", hostile, "--from", "beginning",
                  "--no-follow", "-o", "raw")  # fmt: skip
    assert raw.returncode == 0, raw.stderr
    assert f"not json {ESCAPES}" in raw.stdout  # raw is for pipes: the bytes as sent
    lines = tail(local_stack, hostile, "--from", "beginning", "--no-follow", "-o", "jsonl")
    assert [orjson.loads(line) for line in lines.stdout.splitlines()][:2] == [
        {"id": f"VGPB_1{ESCAPES}", "text": ESCAPES},
        f"not json {ESCAPES}",
    ]


def test_a_filter_failing_on_some_messages_skips_and_counts_them(local_stack: StackEndpoints, hostile: str) -> None:
    """The README's `starts_with(id, 'VGPB')` on a topic where `id` is missing or a number."""
    result = tail(local_stack, hostile, "--from", "beginning", "--no-follow", "-o", "jsonl",
                  "--where", "starts_with(id, 'VGPB')", "--stats")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(line)["id"] for line in result.stdout.splitlines()] == [f"VGPB_1{ESCAPES}", "VGPB_2"]
    assert "matched 2, 1 not JSON, 2 where --where failed" in result.stderr
    assert "2 messages did not match because --where failed on them, the first with:" in result.stderr
    assert "Traceback" not in result.stderr
