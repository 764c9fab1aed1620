"""Changes as JSON lines: replayed from a file or stdin (`jsonl:PATH`, `jsonl:-`), or sent over
TCP by the WinCC OA control-script bridge (`tcp://[host]:port`; without a host it listens on
loopback only, since anyone who can connect can write changes).

One change a line: `{"dpe": "VGI_1025_5L4_B.PR", "value": 1.2e-9, "stime": ..., "status": 1}`
(`id` may stand for `dpe`, `timestamp` for `stime`). `stime` is ISO 8601 (UTC unless it names
a zone) or a number of epoch seconds, milliseconds or microseconds; without it the time of
arrival is used. `status` is the 64-bit status word (default: active). A line that does not
parse is counted and skipped; it never stops the stream.
"""

from __future__ import annotations

import ipaddress
import logging
import selectors
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from vac.errors import UsageError
from vac.records import status as status_bits
from vac.records.badinput import BadInput
from vac.records.change import SOURCE_US_RANGE, STATUS64_RANGE, Change, now_us

log = logging.getLogger("vac.sources")

MAX_LINE = 1 << 20
LOOPBACK = "127.0.0.1"
MAX_BRIDGES = 64
"""Bridges connected at once to a tcp:// source (a real installation has a few projects)."""
BRIDGE_IDLE_S = 300.0
"""A bridge connection that sent nothing for this long is closed, so that silent connections
cannot hold every slot (a real bridge reconnects)."""
IDLE_CHECK_S = 1.0
BATCH_LINES = 2000


def parse_line(line: bytes, bad: BadInput) -> Change | None:
    line = line.strip()
    if not line:
        return None
    if len(line) > MAX_LINE:
        bad.add("line too long", line[:80].decode("utf-8", "replace"))
        return None
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        bad.add("invalid JSON line", line.decode("utf-8", "replace"))
        return None
    return parse_record(record, line, bad)


def parse_record(record: object, raw: bytes, bad: BadInput, default_dpe: str | None = None) -> Change | None:
    """A change from one decoded JSON document; `default_dpe` names it when the document
    does not (an MQTT topic can)."""
    if not isinstance(record, dict):
        bad.add("not a JSON object", raw.decode("utf-8", "replace"))
        return None
    name = record.get("dpe", record.get("id", default_dpe))
    if not isinstance(name, str) or "value" not in record:
        bad.add("missing dpe or value", raw.decode("utf-8", "replace"))
        return None
    source_us = _time_us(record.get("stime", record.get("timestamp")))
    if source_us is None:
        bad.add("unreadable stime", raw.decode("utf-8", "replace"))
        return None
    if source_us not in SOURCE_US_RANGE:
        bad.add("stime out of range", raw.decode("utf-8", "replace"))
        return None
    word = record.get("status", status_bits.ACTIVE)
    if not isinstance(word, int) or isinstance(word, bool):
        bad.add("status is not an integer", raw.decode("utf-8", "replace"))
        return None
    if word not in STATUS64_RANGE:
        bad.add("status out of range", raw.decode("utf-8", "replace"))
        return None
    return Change(name, record["value"], source_us, word)


def _time_us(stime: object) -> int | None:
    """Epoch microseconds of an `stime`, or None if it is no time at all. The result may be
    far out of range (1e30 is a number); the caller checks the range."""
    if stime is None:
        return now_us()
    if isinstance(stime, bool):
        return None
    try:  # int() of an infinite or NaN float raises: such a time is unreadable
        if isinstance(stime, int | float):
            if stime > 1e14:
                return int(stime)
            return int(stime * 1000) if stime > 1e11 else int(stime * 1_000_000)
        if isinstance(stime, str):
            moment = datetime.fromisoformat(stime)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1_000_000)
    except (ValueError, OverflowError):
        return None
    return None


class JsonLinesFile:
    """A recording or a pipe: read to its end, then the stream ends."""

    def __init__(self, path: str) -> None:
        self.bad_input = BadInput()
        self.path = path
        if path != "-" and not Path(path).is_file():
            raise UsageError(f"--source jsonl:{path}: no such file")

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        handle: BinaryIO = sys.stdin.buffer if self.path == "-" else open(self.path, "rb")  # noqa: SIM115
        try:
            batch: list[Change] = []
            for line in _bounded_lines(handle, self.bad_input):
                change = parse_line(line, self.bad_input)
                if change is not None:
                    batch.append(change)
                if len(batch) >= BATCH_LINES:
                    yield batch
                    batch = []
                if cancelled.is_set():
                    break
            if batch:
                yield batch
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()


def _bounded_lines(handle: BinaryIO, bad: BadInput) -> Iterator[bytes]:
    """The lines of `handle`, none held longer than MAX_LINE: a file without newlines (or a
    pipe from an outsider) must not be read into memory whole. The rest of a too-long line
    is read in pieces and dropped; the line is counted once."""
    while line := handle.readline(MAX_LINE + 1):
        if len(line) <= MAX_LINE or line.endswith(b"\n"):
            yield line
            continue
        bad.add("line too long", line[:80].decode("utf-8", "replace"))
        while (piece := handle.readline(MAX_LINE)) and not piece.endswith(b"\n"):
            pass


@dataclass
class Bridge:
    """One bridge connection's unfinished line and when it last sent anything."""

    address: str
    rest: bytes = b""
    skipping: bool = False
    """The line in progress was too long: what comes up to its newline is dropped."""
    last_data: float = field(default_factory=time.monotonic)

    def take(self, data: bytes, bad: BadInput) -> list[bytes]:
        """The lines `data` finishes. A line longer than MAX_LINE is counted once and
        skipped whole, up to its newline, as `_bounded_lines` does."""
        self.last_data = time.monotonic()
        if self.skipping:
            newline = data.find(b"\n")
            if newline < 0:
                return []
            data, self.skipping = data[newline + 1 :], False
        *lines, self.rest = (self.rest + data).split(b"\n")
        if len(self.rest) > MAX_LINE:
            bad.add("line too long", self.rest[:80].decode("utf-8", "replace"))
            self.rest, self.skipping = b"", True
        return lines

    def last_line(self) -> list[bytes]:
        """What is left when the bridge goes away: its last line may lack the newline."""
        return [] if self.skipping else [self.rest]


class JsonLinesServer:
    """Listens on TCP for bridges (one or more WinCC OA projects), one JSON change a line.

    The protocol has no authentication: whoever can connect can write changes. So it listens
    on loopback unless the spec names another address (`tcp://0.0.0.0:7777`), and then says
    so in a warning."""

    def __init__(self, host: str, port: int, idle_s: float = BRIDGE_IDLE_S) -> None:
        self.bad_input = BadInput()
        self.idle_s = idle_s
        host = host or LOOPBACK
        self.listener = socket.create_server((host, port), reuse_port=False)
        if not _is_loopback(host):
            log.warning(
                "tcp://%s:%d accepts unauthenticated changes from the network: "
                "anyone who can reach this port can write values into Kafka",
                host,
                port,
            )
        self.listener.setblocking(False)
        self.address = self.listener.getsockname()

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        bridges: dict[socket.socket, Bridge] = {}
        next_idle_check = time.monotonic() + IDLE_CHECK_S
        try:
            while not cancelled.is_set():
                batch: list[Change] = []
                for key, _ in selector.select(timeout=0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self.listener:
                        self._accept(selector, bridges)
                        continue
                    try:
                        data = sock.recv(1 << 16)
                    except OSError:  # reset, timed out: the bridge is gone
                        data = b""
                    lines = bridges[sock].take(data, self.bad_input) if data else self._close(selector, bridges, sock)
                    self._parse(lines, batch)
                if time.monotonic() >= next_idle_check:
                    next_idle_check = time.monotonic() + IDLE_CHECK_S
                    self._close_idle(selector, bridges, batch)
                yield batch
        finally:
            for sock in list(bridges):
                sock.close()
            selector.close()
            self.listener.close()

    def _parse(self, lines: list[bytes], batch: list[Change]) -> None:
        for line in lines:
            change = parse_line(line, self.bad_input)
            if change is not None:
                batch.append(change)

    @staticmethod
    def _close(
        selector: selectors.BaseSelector, bridges: dict[socket.socket, Bridge], sock: socket.socket
    ) -> list[bytes]:
        selector.unregister(sock)
        sock.close()
        return bridges.pop(sock).last_line()

    def _close_idle(
        self, selector: selectors.BaseSelector, bridges: dict[socket.socket, Bridge], batch: list[Change]
    ) -> None:
        """Close the bridges silent for `idle_s`: each frees its slot for a real bridge."""
        silent_since = time.monotonic() - self.idle_s
        for sock, bridge in list(bridges.items()):
            if bridge.last_data <= silent_since:
                log.warning(
                    "tcp bridge %s sent nothing for %g s: closed, to free its slot", bridge.address, self.idle_s
                )
                self._parse(self._close(selector, bridges, sock), batch)

    def _accept(self, selector: selectors.BaseSelector, bridges: dict[socket.socket, Bridge]) -> None:
        """A new bridge, unless MAX_BRIDGES are connected: each may hold a line of up to
        MAX_LINE in memory, and a file descriptor."""
        try:
            client, address = self.listener.accept()
        except OSError as exc:  # out of file descriptors, or the peer gave up: the stream goes on
            self.bad_input.add("connection not accepted", exc.strerror or str(exc))
            return
        if len(bridges) >= MAX_BRIDGES:
            client.close()
            self.bad_input.add("too many bridges connected", f"{address} refused, {MAX_BRIDGES} connected")
            return
        client.setblocking(False)
        selector.register(client, selectors.EVENT_READ)
        bridges[client] = Bridge(f"{address[0]}:{address[1]}")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: `localhost` is loopback; any other may resolve anywhere
        return host == "localhost"


def open_line_source(spec: str) -> JsonLinesFile | JsonLinesServer:
    """`jsonl:PATH`, `jsonl:-` or `tcp://[host]:port` (no host: loopback only)."""
    if spec.startswith("jsonl:"):
        return JsonLinesFile(spec.removeprefix("jsonl:"))
    if spec.startswith("tcp://"):
        host, _, port = spec.removeprefix("tcp://").rpartition(":")
        if not port.isdigit() or int(port) > 65535:
            raise UsageError(f"--source {spec}: give a port, e.g. tcp://:7777 (loopback) or tcp://0.0.0.0:7777 (all)")
        try:
            return JsonLinesServer(host.strip("[]"), int(port))
        except OSError as exc:
            raise UsageError(f"--source {spec}: cannot listen: {exc.strerror}") from None
    raise UsageError(f"--source {spec!r}: not a JSON-lines source", hint="use jsonl:PATH, jsonl:- or tcp://[host]:port")
