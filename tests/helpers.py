"""Shared test helpers: running the `vac` CLI as a user would, and finding free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from vac.logs.reading import Document, DocumentReader

VAC = str(Path(sys.executable).parent / "vac")
# The real WinCC OA data the tests read, kept in the repository so that a clone alone passes.
WINCCOA_DATA = Path(__file__).resolve().parents[1] / "data" / "winccoa"
SAMPLE_LOG = WINCCOA_DATA / "PVSS_II.sample.log"
LHC_DPES = WINCCOA_DATA / "LHC_KafkaStream.config"
# The read time the parser tests give every document.
INGESTED = "2026-11-29T03:00:00.000Z"


def run_vac(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `vac` console script; NO_COLOR keeps its output plain."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [VAC, *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd, stdin=subprocess.DEVNULL
    )


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def closed_port() -> int:
    """A port nothing listens on (bound for a moment by the OS, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_base_port(start: int, *offsets: int) -> int:
    """The first port p >= start such that p and p + each offset are free. Tests keep below
    32768, out of Linux's ephemeral range, where outgoing connections take ports at random."""
    for port in range(start, start + 2000, 2):
        if all(port_free(port + offset) for offset in (0, *offsets)):
            return port
    raise RuntimeError(f"no free ports from {start}")


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `vac: error: ...` line of a failed command (progress lines may precede it)."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("vac: error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def read_topic(config_file: Path, topic: str, output: str = "jsonl") -> list[Any]:
    """Every message of `topic`, read back with `vac tail topic` and parsed: one per line, or
    with `-o json` the envelopes as one array."""
    read = run_vac(
        "--config",
        str(config_file),
        "tail",
        "topic",
        topic,
        "--from",
        "beginning",
        "--no-follow",
        "-o",
        output,
        timeout=300,
    )
    assert read.returncode == 0, read.stderr
    if output == "json":
        envelopes: list[Any] = orjson.loads(read.stdout)
        return envelopes
    return [orjson.loads(line) for line in read.stdout.splitlines()]


def start_stream(config_file: Path, topic: str, *options: str) -> subprocess.Popen[str]:
    """`vac stream scada ... --topic TOPIC -o json -q` in the background."""
    command = [VAC, "--config", str(config_file), "stream", "scada", *options, "--topic", topic, "-o", "json", "-q"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stream_summary(streamer: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """Wait for a streamer started by `start_stream`; its JSON summary (it must exit 0)."""
    out, err = streamer.communicate(timeout=timeout)
    assert streamer.returncode == 0, err
    summary: dict[str, Any] = orjson.loads(out)
    return summary


def connect_when_listening(port: int, timeout_s: float = 30) -> socket.socket:
    """A TCP connection to 127.0.0.1:`port` once something listens there."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            assert time.monotonic() < deadline, f"nothing listened on port {port}"
            time.sleep(0.2)


def read_all(reader: DocumentReader, data: bytes, chunks: list[int]) -> tuple[list[Document], int]:
    """As the shipper reads a file: chunk by chunk (sizes from `chunks`, then the rest), a
    partial line carried to the next read. The documents and the lines counted."""
    documents: list[Document] = []
    lines = offset = 0
    partial = b""
    for size in [*chunks, 0]:
        piece = data[offset : offset + size]
        buffer = partial + piece
        done, count, used = reader.feed(buffer, offset - len(partial), not piece, INGESTED)
        offset += len(piece)
        partial = buffer[used:]
        documents += done
        lines += count
    documents += reader.flush(INGESTED)
    assert partial == b""
    return documents, lines


# scripts/test.sh sets VAC_REQUIRE_GSSAPI where bootstrap could install the KDC and build the
# Kerberos-capable client: there the Kerberos tests fail instead of skipping.
KERBEROS_REQUIRED = os.environ.get("VAC_REQUIRE_GSSAPI", "") not in ("", "0")


def no_kdc() -> str | None:
    """What is missing for a real MIT KDC here (None: nothing)."""
    from vac.local.kdc import find_tool

    missing = [tool for tool in ("krb5kdc", "kdb5_util", "kadmin.local") if find_tool(tool) is None]
    return f"no MIT Kerberos KDC ({', '.join(missing)}); as root scripts/bootstrap.sh installs one" if missing else None


def no_gssapi() -> str | None:
    """Why this librdkafka cannot do GSSAPI (None: it can)."""
    from vac.kafka.client import sasl_support

    reason = sasl_support("GSSAPI")
    return f"librdkafka without GSSAPI ({reason}); scripts/build-kafka-client.sh builds one" if reason else None


def unless_kerberos_required(*missing: str | None) -> pytest.MarkDecorator:
    """Skip where something the Kerberos tests need is missing, unless they are required."""
    reasons = [reason for reason in missing if reason]
    return pytest.mark.skipif(bool(reasons) and not KERBEROS_REQUIRED, reason="; ".join(reasons) or "nothing missing")
