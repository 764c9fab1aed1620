"""kcat's habits on the local Kafka: `-b`/`-X`, `vac tail -o kcat` against kcat -J itself, and
`vac produce` (kcat -P) round trips through `vac tail`.

kcat comes from Debian (`apt-get install kcat`); the comparison is skipped, saying so, only
where it is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer

from tests.conftest import StackEndpoints
from tests.helpers import VAC, closed_port
from tests.integration.test_tail import create_topic

pytestmark = pytest.mark.integration

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
ESCAPES = "\x1b[2J\x1b]0;owned\x07\u202eevil"


def vac(
    stack: StackEndpoints, *args: str, stdin: bytes | None = None, config: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`vac` with the stack's config (or `config`), bytes in and out (payloads need not be UTF-8)."""
    return subprocess.run(
        [VAC, "--config", str(config or stack.config_file), *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )


def error_of(result: subprocess.CompletedProcess[bytes]) -> str:
    errors = [line for line in result.stderr.decode().splitlines() if line.startswith("vac: error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def kcat_fields(line: bytes) -> dict[str, object]:
    """One kcat -J line as a dict; latin-1 keeps every byte of a non-UTF-8 payload as one character."""
    fields: dict[str, object] = json.loads(line.decode("latin-1"))
    return fields


def by_position(output: bytes) -> dict[tuple[object, object], tuple[dict[str, object], bytes]]:
    """(partition, offset) -> (the fields, the line)."""
    lines = {}
    for line in output.splitlines():
        fields = kcat_fields(line)
        lines[(fields["partition"], fields["offset"])] = (fields, line)
    return lines


@pytest.fixture(scope="module")
def mixed(local_stack: StackEndpoints) -> str:
    """Messages with keys, repeated and null-valued headers, a null key, a null (tombstone) and an
    empty payload, binary and non-UTF-8 payloads, control characters and escape sequences."""
    topic = f"it-kcat-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic, partitions=2)
    producer = Producer({"bootstrap.servers": local_stack.bootstrap_servers, "enable.idempotence": True})
    messages: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]] | None]] = [
        (b"VGPB_1", b'{"value": 1e-9}', [("source", b"a"), ("source", b"b"), ("empty", b""), ("none", None)]),
        (None, b"no key", None),
        (b"bin\x00\x01", bytes(range(256)), [("h\x02", b"\xfe\xff")]),
        (b"tomb", None, None),
        (b"", b"", None),
        (ESCAPES.encode(), f'"quoted" \\ / {ESCAPES}\r\n\t'.encode(), [(ESCAPES, ESCAPES.encode())]),
        ("clé".encode(), "valeur é ✓".encode(), None),
        (b"\xc3\x28", b"\xc3\x28 invalid utf-8 \xed\xa0\x80", None),
    ]
    for i, (key, value, headers) in enumerate(messages * 3):
        producer.produce(topic, value, key, partition=i % 2, headers=headers)
    assert producer.flush(30) == 0
    return topic


@pytest.mark.skipif(KCAT is None, reason="kcat is not installed (apt-get install kcat)")
def test_o_kcat_is_kcat_json_field_by_field(local_stack: StackEndpoints, mixed: str) -> None:
    assert KCAT is not None
    theirs = subprocess.run(
        [KCAT, "-C", "-J", "-e", "-q", "-b", local_stack.bootstrap_servers, "-t", mixed],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    ours = vac(local_stack, "tail", "topic", mixed, "--from", "beginning", "--no-follow", "-o", "kcat")
    assert ours.returncode == 0, ours.stderr
    # Partitions interleave differently from run to run: compare message by message.
    their_lines = {
        (f["partition"], f["offset"]): (f, line) for line in theirs.splitlines() for f in [kcat_fields(line)]
    }
    our_lines = {
        (f["partition"], f["offset"]): (f, line) for line in ours.stdout.splitlines() for f in [kcat_fields(line)]
    }
    assert len(their_lines) == 24
    assert our_lines.keys() == their_lines.keys()
    for position, (theirs_fields, their_line) in their_lines.items():
        ours_fields, our_line = our_lines[position]
        assert list(ours_fields) == list(theirs_fields), position  # the same fields in the same order
        for name in theirs_fields:
            assert ours_fields[name] == theirs_fields[name], (position, name)
        assert our_line == their_line  # and byte for byte: the escapes as yajl writes them
    by_key = {f["key"]: f for f, _ in our_lines.values()}
    assert by_key["VGPB_1"]["headers"] == ["source", "a", "source", "b", "empty", "", "none", None]
    assert by_key["tomb"]["payload"] is None and "headers" not in by_key["tomb"]
    assert None in by_key  # the message without a key


def test_brokers_flag_stands_over_the_config(local_stack: StackEndpoints, mixed: str, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text(f"kafka:\n  bootstrap_servers: 127.0.0.1:{closed_port()}\n  timeout_s: 2\n")
    args = ("tail", "topic", mixed, "--from", "beginning", "--no-follow", "-o", "kcat")
    unreachable = vac(local_stack, *args, config=config)
    assert unreachable.returncode == 3, unreachable.stderr
    after = vac(local_stack, *args, "-b", local_stack.bootstrap_servers, config=config)
    before = vac(local_stack, "-b", local_stack.bootstrap_servers, *args, config=config)
    for result in (after, before):
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 24


def test_x_sets_a_librdkafka_property_and_refuses_unknown_ones(local_stack: StackEndpoints, mixed: str) -> None:
    args = ("tail", "topic", mixed, "--from", "beginning", "--no-follow", "-o", "raw")
    tuned = vac(local_stack, *args, "-X", "fetch.max.bytes=1048576", "-X", "client.id=kcat-habits")
    assert tuned.returncode == 0, tuned.stderr
    unknown = vac(local_stack, *args, "-X", "no.such.property=1")
    assert unknown.returncode == 2
    refused = "vac: error: librdkafka refused the Kafka client configuration: No such configuration property"
    assert error_of(unknown) == f'{refused}: "no.such.property"'
    wrong = vac(local_stack, *args, "-X", "fetch.max.bytes=lots")
    assert wrong.returncode == 2 and b"fetch.max.bytes" in wrong.stderr and b"Traceback" not in wrong.stderr


def test_produce_10000_lines_round_trip_with_keys_and_headers(local_stack: StackEndpoints) -> None:
    topic = f"it-produce-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic, partitions=3)
    lines = [f'VGPB_{i}_5L4|{{"seq": {i}, "text": "a|b é"}}' for i in range(10_000)]
    sent = vac(
        local_stack, "produce", topic, "-K", "|", "-H", "source=test", "-H", "source=again", "-H", "run=1",
        "--validate-json", "-o", "json", stdin=("\n".join(lines) + "\n").encode(),
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    summary = json.loads(sent.stdout)
    assert (summary["sent"], summary["acked"], summary["failed"], summary["not_json"]) == (10_000, 10_000, 0, 0)
    read = vac(local_stack, "tail", "topic", topic, "--from", "beginning", "--no-follow", "-o", "kcat")
    assert read.returncode == 0, read.stderr
    envelopes = [json.loads(line) for line in read.stdout.splitlines()]
    assert len(envelopes) == 10_000
    got = sorted((e["key"], e["payload"]) for e in envelopes)
    assert got == sorted(tuple(line.split("|", 1)) for line in lines)
    assert {tuple(e["headers"]) for e in envelopes} == {("source", "test", "source", "again", "run", "1")}
    # The same key always lands in the same partition, in the order of the lines.
    seqs: dict[str, list[int]] = {}
    for e in sorted(envelopes, key=lambda e: (e["partition"], e["offset"])):
        seqs.setdefault(str(e["partition"]), []).append(json.loads(e["payload"])["seq"])
    assert all(s == sorted(s) for s in seqs.values())


def test_produce_keeps_bytes_and_fixed_keys(local_stack: StackEndpoints, tmp_path: Path) -> None:
    topic = f"it-produce-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic, partitions=1)
    data = tmp_path / "lines.bin"
    data.write_bytes(b"\xff\xfe not utf-8\n\n" + ESCAPES.encode() + b"\r\nlast without newline")
    sent = vac(local_stack, "produce", topic, "--file", str(data), "--key", "fixed")
    assert sent.returncode == 0, sent.stderr
    read = vac(local_stack, "tail", "topic", topic, "--from", "beginning", "--no-follow", "-o", "kcat")
    payloads = [kcat_fields(line)["payload"] for line in read.stdout.splitlines()]
    assert payloads == ["\xff\xfe not utf-8", (ESCAPES + "\r").encode().decode("latin-1"), "last without newline"]
    assert {kcat_fields(line)["key"] for line in read.stdout.splitlines()} == {"fixed"}


def test_produce_says_what_failed(local_stack: StackEndpoints) -> None:
    topic = f"it-produce-{uuid.uuid4().hex[:8]}"
    create_topic(local_stack, topic, partitions=1)
    half = vac(local_stack, "produce", topic, "--validate-json", "-o", "json", stdin=b'{"ok": 1}\nnot json\n[2]\n')
    assert half.returncode == 1
    assert json.loads(half.stdout)["acked"] == 2
    assert error_of(half) == f"vac: error: 1 line did not arrive in {topic}: line 2 is not JSON"
    missing = vac(local_stack, "produce", topic + "-nope", stdin=b"x\n")
    assert missing.returncode == 2
    assert error_of(missing) == f"vac: error: topic '{topic}-nope' does not exist"
    too_big = vac(local_stack, "produce", topic, "-X", "message.max.bytes=1000", stdin=b"x" * 5000 + b"\nsmall\n")
    assert too_big.returncode == 1
    assert b"1 line did not arrive" in too_big.stderr and b"Traceback" not in too_big.stderr
