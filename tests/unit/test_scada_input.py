"""What an outsider can feed `vac stream scada`: JSON-lines changes (jsonl, tcp, mqtt) and the
tcp source's address. Bad input is counted and skipped, never an exception; every line is
accounted for."""

from __future__ import annotations

import logging
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vac.errors import UsageError
from vac.records.badinput import BadInput
from vac.records.change import Change
from vac.records.dpe import Dpe
from vac.scada.streamer import ScadaStreamer, StreamOptions
from vac.settings import VacSettings
from vac.sources import jsonlines
from vac.sources.jsonlines import (
    MAX_LINE,
    JsonLinesFile,
    JsonLinesServer,
    open_line_source,
    parse_line,
    parse_record,
)

GAUGE = Dpe("VGI_1.PR", "VGI_1_PR", "pressures", "float", "S", "M", "1")
WORD = Dpe("VVS_1.RR1", "VVS_1_RR1", "statuses", "unsigned", "S", "M", "1", validity_bit=6)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def producer() -> Iterator[Producer]:
    """A real producer that never reaches a broker: `produce` only queues, and its checks
    (an int64 record time) are the real ones. Purged, never flushed."""
    client = Producer({"bootstrap.servers": "127.0.0.1:9", "logger": logging.getLogger("test.unreachable")})
    yield client
    client.purge()


def stream(producer: Producer, changes: list[Change], bad: BadInput) -> ScadaStreamer:
    """`changes` through the streamer's real per-batch path (deadband, encoding, produce)."""
    streamer = ScadaStreamer(VacSettings(), [GAUGE, WORD], StreamOptions())
    streamer._stream_batch(producer, changes, 0.0, bad)
    producer.purge()
    return streamer


OUT_OF_RANGE_STIMES = [b"1e30", b"18446744073709551615", b"-1", b"-1e300", b'"NaN"', b'"a string"', b"1e308"]


@pytest.mark.parametrize("stime", OUT_OF_RANGE_STIMES)
def test_a_change_with_an_impossible_stime_is_counted_and_the_rest_is_read(
    tmp_path: Path, producer: Producer, stime: bytes
) -> None:
    recording = tmp_path / "changes.jsonl"
    recording.write_bytes(
        b'{"dpe": "VGI_1.PR", "value": 1e-9, "stime": "2026-11-28T15:00:00Z"}\n'
        + b'{"dpe": "VGI_1.PR", "value": 2e-9, "stime": ' + stime + b"}\n"
        + b'{"dpe": "VGI_1.PR", "value": 3e-9, "stime": 1795878000.5}\n'
    )  # fmt: skip
    source = JsonLinesFile(str(recording))
    changes = [change for batch in source.batches(threading.Event()) for change in batch]
    streamer = stream(producer, changes, source.bad_input)
    assert [change.value for change in changes] == [1e-9, 3e-9]
    assert source.bad_input.total == 1
    assert set(source.bad_input.counts) <= {"stime out of range", "unreadable stime"}
    assert streamer.counters.sent == 2


def test_a_status_word_outside_64_bits_is_counted() -> None:
    bad = BadInput()
    assert parse_line(b'{"dpe": "VVS_1.RR1", "value": 1, "status": -1}', bad) is None
    assert parse_line(b'{"dpe": "VVS_1.RR1", "value": 1, "status": 18446744073709551615}', bad) is not None
    assert bad.counts == {"status out of range": 1}


def test_an_example_of_bad_input_cannot_drive_the_terminal(
    producer: Producer, caplog: pytest.LogCaptureFixture
) -> None:
    bad = BadInput()
    with caplog.at_level(logging.WARNING):
        parse_line(b"\x1b[2J not JSON", bad)
        change = parse_line(b'{"dpe": "\\u001b]0;owned\\u0007", "value": 1e-9}', bad)
        assert change is not None
        stream(producer, [change], bad)
    assert bad.counts == {"invalid JSON line": 1, "unknown DPE": 1}
    assert "\x1b" not in caplog.text and "\x07" not in caplog.text
    assert "\\x1b[2J not JSON" in caplog.text and "\\x1b]0;owned\\x07" in caplog.text


def test_the_tcp_source_listens_on_loopback_unless_told_otherwise(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        local = open_line_source("tcp://:0")
    assert local.address[0] == "127.0.0.1"  # type: ignore[union-attr]
    local.listener.close()  # type: ignore[union-attr]
    assert caplog.records == []
    with caplog.at_level(logging.WARNING):
        everywhere = open_line_source("tcp://0.0.0.0:0")
    assert everywhere.address[0] == "0.0.0.0"  # type: ignore[union-attr]
    everywhere.listener.close()  # type: ignore[union-attr]
    assert "accepts unauthenticated changes from the network" in caplog.text


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:  # closed with our line unread
        return True


def test_a_tcp_source_takes_a_bounded_number_of_bridges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonlines, "MAX_BRIDGES", 2)
    server = JsonLinesServer("127.0.0.1", 0)
    cancelled, changes = threading.Event(), []
    reader = threading.Thread(target=lambda: [changes.extend(b) for b in server.batches(cancelled)])
    reader.start()
    bridges = []
    try:
        for value in (1e-9, 2e-9, 3e-9):
            bridge = socket.create_connection(server.address, timeout=5)
            bridge.sendall(orjson.dumps({"dpe": GAUGE.name, "value": value}) + b"\n")
            bridges.append(bridge)
            time.sleep(0.3)  # accepted (or refused) in this order
        assert closed_by_peer(bridges[2])  # the third at once; the first two stay open
        deadline = time.monotonic() + 5
        while len(changes) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        cancelled.set()
        reader.join(5)
        for bridge in bridges:
            bridge.close()
    assert sorted(change.value for change in changes) == [1e-9, 2e-9]
    assert server.bad_input.counts == {"too many bridges connected": 1}


def read_changes(server: JsonLinesServer, cancelled: threading.Event, changes: list[Change]) -> threading.Thread:
    reader = threading.Thread(target=lambda: [changes.extend(b) for b in server.batches(cancelled)])
    reader.start()
    return reader


def wait_for(condition: Callable[[], bool], timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_line_too_long_over_tcp_is_counted_once_and_skipped_to_its_newline() -> None:
    server = JsonLinesServer("127.0.0.1", 0)
    cancelled, changes = threading.Event(), []
    reader = read_changes(server, cancelled, changes)
    try:
        with socket.create_connection(server.address, timeout=5) as bridge:
            bridge.sendall(orjson.dumps({"dpe": GAUGE.name, "value": 1e-9}) + b"\n")
            # Its tail, past the limit, must not come back as a line of its own.
            bridge.sendall(b"x" * (2 * MAX_LINE) + b'{"dpe": "VGI_1.PR", "value": 7e-9}\n')
            bridge.sendall(orjson.dumps({"dpe": GAUGE.name, "value": 2e-9}) + b"\n")
            wait_for(lambda: len(changes) >= 2)
    finally:
        cancelled.set()
        reader.join(5)
    assert [change.value for change in changes] == [1e-9, 2e-9]
    assert server.bad_input.counts == {"line too long": 1}


def test_a_silent_bridge_is_closed_and_frees_its_slot(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(jsonlines, "MAX_BRIDGES", 1)
    monkeypatch.setattr(jsonlines, "IDLE_CHECK_S", 0.05)
    server = JsonLinesServer("127.0.0.1", 0, idle_s=0.5)
    cancelled, changes = threading.Event(), []
    with caplog.at_level(logging.WARNING):
        reader = read_changes(server, cancelled, changes)
        try:
            with socket.create_connection(server.address, timeout=5) as silent:
                assert closed_by_peer(silent)  # after idle_s without a byte
            with socket.create_connection(server.address, timeout=5) as bridge:
                bridge.sendall(orjson.dumps({"dpe": GAUGE.name, "value": 1e-9}) + b"\n")
                wait_for(lambda: len(changes) >= 1)
        finally:
            cancelled.set()
            reader.join(5)
    assert [change.value for change in changes] == [1e-9]
    assert server.bad_input.counts == {}
    assert "sent nothing for 0.5 s: closed, to free its slot" in caplog.text


def test_a_port_out_of_range_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="give a port"):
        open_line_source("tcp://:70000")


def test_a_line_too_long_is_counted_once_and_never_held_whole(tmp_path: Path) -> None:
    recording = tmp_path / "changes.jsonl"
    good = b'{"dpe": "VGI_1.PR", "value": 1e-9}\n'
    recording.write_bytes(good + b"x" * (30 * MAX_LINE) + b"\n" + good + b"y" * (MAX_LINE + 1))
    source = JsonLinesFile(str(recording))
    tracemalloc.start()
    try:
        changes = [change for batch in source.batches(threading.Event()) for change in batch]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(changes) == 2
    assert source.bad_input.counts == {"line too long": 2}
    assert peak < 5 * MAX_LINE  # not the 30 MiB line


# Fuzzing the decoder shared by jsonl, tcp and mqtt. Each line is accepted (a change) or counted
# as bad; whatever is accepted goes through the streamer's real encoding and produce.

numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e30, 2**64 - 1, -1, 0, 1e11, 1e14, 1e17, 253_402_300_800_000_000]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
changes_ish = st.fixed_dictionaries(
    {"dpe": st.sampled_from([GAUGE.name, WORD.name, "NOPE", "", 5, None])},
    optional={
        "value": json_values,
        "stime": st.one_of(numbers, st.text(max_size=30), st.datetimes().map(lambda moment: moment.isoformat())),
        "status": st.one_of(numbers, json_values),
    },
)


def accounted(producer: Producer, lines: list[bytes]) -> None:
    """Every non-blank line is a change or counted bad; accepted changes stream without error."""
    bad = BadInput()
    changes = [change for line in lines if (change := parse_line(line, bad)) is not None]
    assert len(changes) + bad.total == sum(1 for line in lines if line.strip())
    before = bad.total
    streamer = stream(producer, changes, bad)
    counters = streamer.counters
    assert counters.changes == len(changes) - (bad.total - before)  # the rest: unknown DPE, wrong type
    assert counters.sent + counters.suppressed == counters.changes


@FUZZ
@given(st.lists(st.binary(max_size=200).map(lambda raw: raw.replace(b"\n", b" ")), max_size=10))
def test_fuzz_arbitrary_bytes(producer: Producer, lines: list[bytes]) -> None:
    accounted(producer, lines)


@FUZZ
@given(st.lists(json_values, max_size=10))
def test_fuzz_arbitrary_json_values(producer: Producer, values: list[object]) -> None:
    lines = []
    for value in values:
        try:
            lines.append(orjson.dumps(value))
        except (orjson.JSONEncodeError, TypeError):  # beyond JSON (NaN, >64-bit ints): no such line
            continue
    accounted(producer, lines)


@FUZZ
@given(st.lists(changes_ish, max_size=10))
def test_fuzz_change_shaped_lines_with_out_of_range_numbers(producer: Producer, records: list[object]) -> None:
    lines = []
    for record in records:
        try:
            lines.append(orjson.dumps(record))
        except (orjson.JSONEncodeError, TypeError):
            continue
    accounted(producer, lines)


@FUZZ
@given(changes_ish)
def test_fuzz_decoded_documents_as_mqtt_hands_them_over(producer: Producer, record: object) -> None:
    """MQTT decodes the payload itself and passes the document, NaN and big ints included."""
    bad = BadInput()
    change = parse_record(record, b"payload", bad, default_dpe=GAUGE.name)
    assert (change is None) == (bad.total == 1)
    stream(producer, [change] if change else [], bad)
