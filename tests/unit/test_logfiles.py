"""Reading the local services' logs: the tail, and following appended lines."""

from __future__ import annotations

import threading
from pathlib import Path

from vac.local.logfiles import follow_lines, tail_lines


def test_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert tail_lines(log, 3) == ["line 997", "line 998", "line 999"]
    assert tail_lines(tmp_path / "missing.log", 3) == []


def test_tail_survives_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"ok\n\xff\xfe broken\n")
    assert tail_lines(log, 2) == ["ok", "\ufffd\ufffd broken"]


def test_follow_yields_appended_lines_until_cancelled(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("old\n")
    cancelled = threading.Event()
    lines = follow_lines(log, cancelled, poll_s=0.01)
    with open(log, "a") as handle:
        handle.write("new 1\nnew 2\npart")
    assert next(lines) == "new 1"
    assert next(lines) == "new 2"
    cancelled.set()
    assert list(lines) == ["part"]
