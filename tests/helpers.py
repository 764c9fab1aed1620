"""Shared test helpers: running the `vac` CLI as a user would, and finding free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

VAC = str(Path(sys.executable).parent / "vac")


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
    """Every message of `topic`, read back with `vac tail topic` and parsed (one per line)."""
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
    return [orjson.loads(line) for line in read.stdout.splitlines()]
