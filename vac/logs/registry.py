"""Read positions of the shipper, one per file identity, saved atomically.

A file is known by device + inode *and* a fingerprint of its first bytes: an inode reused for
a new file fails the fingerprint, and a copy (copytruncate's `PVSS_II.log.1`) passes it under
another inode, so it resumes where its original was acknowledged. `offset` only ever holds a
position the sink acknowledged: after a crash the shipper re-sends at most what was in flight.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from vac.errors import ConfigError

FINGERPRINT_BYTES = 1024
MIN_COPY_FINGERPRINT = 64
"""A copy is recognised by content only when this much of the original's head is known."""
FORGET_DETACHED_S = 7 * 86400


@dataclass
class FileState:
    key: str
    """Stable id of the file's content: Kafka key and document ids derive from it."""
    path: str
    dev: int
    ino: int
    offset: int
    """Everything before this byte has been acknowledged by the sink."""
    fp_len: int
    fp: str
    updated: float
    detached: bool = False
    """Its inode no longer holds this content (truncated or deleted); a copy may resume it."""

    def matches_head(self, head: bytes) -> bool:
        return len(head) >= self.fp_len and fingerprint(head[: self.fp_len]) == self.fp


def fingerprint(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def read_head(fd: int) -> bytes:
    return os.pread(fd, FINGERPRINT_BYTES, 0)


def content_key(host: str, dev: int, ino: int, head: bytes) -> str | None:
    """Derived from what does not change while the file grows (its first line), so a restart
    before the registry was saved gives the same key; None until the first line is complete."""
    newline = head.find(b"\n")
    if newline < 0 and len(head) < FINGERPRINT_BYTES:
        return None
    first_line = head[: newline + 1] if newline >= 0 else head
    return hashlib.sha1(b"%s\0%d\0%d\0%s" % (host.encode(), dev, ino, first_line), usedforsecurity=False).hexdigest()[
        :20
    ]


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.states: dict[str, FileState] = {}
        self.existed = path.exists()
        self._saved: bytes = b""
        if self.existed:
            self._load()

    def _load(self) -> None:
        try:
            data = orjson.loads(self.path.read_bytes())
            states = [FileState(**entry) for entry in data["files"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"the shipper registry {self.path} is unreadable: {exc}",
                hint="move it aside to start over (files are then read again from the start or the end)",
            ) from None
        self.states = {state.key: state for state in states}

    def find(self, dev: int, ino: int, head: bytes) -> FileState | None:
        """The state of this very file: same inode, same first bytes."""
        for state in self.states.values():
            if state.dev == dev and state.ino == ino and not state.detached and state.matches_head(head):
                return state
        return None

    def find_copy_of(self, head: bytes, busy: set[str]) -> FileState | None:
        """A state (not in `busy`) whose content this file starts with: copytruncate's copy,
        or a file renamed while the shipper was down."""
        for state in self.states.values():
            if state.key in busy or state.fp_len < MIN_COPY_FINGERPRINT:
                continue
            if state.matches_head(head):
                return state
        return None

    def add(self, state: FileState) -> None:
        self.states[state.key] = state

    def save(self) -> None:
        """Write the registry atomically (temporary file, fsync, rename), if it changed."""
        now = time.time()
        for key in [k for k, s in self.states.items() if s.detached and now - s.updated > FORGET_DETACHED_S]:
            del self.states[key]
        data = orjson.dumps(
            {"version": 1, "files": [asdict(s) for s in self.states.values()]}, option=orjson.OPT_INDENT_2
        )
        if data == self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".registry-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._saved = data
