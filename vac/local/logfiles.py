"""Reading the local services' log files: the last lines, and new lines as they come."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path


def tail_lines(path: Path, count: int) -> list[str]:
    """The last `count` lines of `path` (decoded leniently); [] if it does not exist."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024 * max(1, count // 100 + 1)))
            lines = deque(handle.read().decode("utf-8", "replace").splitlines(), maxlen=count)
    except FileNotFoundError:
        return []
    return list(lines)


def follow_lines(path: Path, cancelled: threading.Event, poll_s: float = 0.25) -> Iterator[str]:
    """Lines appended to `path` from this call on (not from the first `next`), until
    `cancelled` is set."""
    position = path.stat().st_size if path.exists() else 0
    return _follow(path, position, cancelled, poll_s)


def _follow(path: Path, position: int, cancelled: threading.Event, poll_s: float) -> Iterator[str]:
    pending = b""
    while not cancelled.is_set():
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < position:  # truncated or replaced: start over
            position, pending = 0, b""
        if size > position:
            with open(path, "rb") as handle:
                handle.seek(position)
                chunk = handle.read(size - position)
            position += len(chunk)
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line.decode("utf-8", "replace")
        else:
            cancelled.wait(poll_s)
    if pending:
        yield pending.decode("utf-8", "replace")
