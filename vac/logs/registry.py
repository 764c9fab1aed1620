"""Read positions of the shipper, one per file identity, saved atomically.

A file is known by device + inode, as Filebeat knows it; the fingerprint of its first bytes
only tells whether that inode still holds the same content (an inode reused, a file truncated).
Content never merges two files that are both there: distinct files may well start alike (the
same banner, identical small files). The one exception is copytruncate: once the original's
inode was seen truncated (its state `detached`), a file under another inode that starts with
the original's content is its copy (`PVSS_II.log.1`) and resumes where the original was
acknowledged. `offset` only ever holds a position the sink acknowledged: after a crash the
shipper re-sends at most what was in flight.
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
    """Its inode no longer holds this content (truncated); a copy may resume it."""

    def matches_head(self, head: bytes) -> bool:
        return len(head) >= self.fp_len and fingerprint(head[: self.fp_len]) == self.fp

    def retire(self) -> None:
        """Its file was deleted and read to its end: kept (detached, until forgotten) only so
        that its key is never given to another file, and with no fingerprint, so that no file
        is ever taken for its copy or for it (a new file on its inode starting alike)."""
        self.detached, self.fp_len, self.fp, self.updated = True, 0, "", time.time()


def fingerprint(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def read_head(fd: int) -> bytes:
    return os.pread(fd, FINGERPRINT_BYTES, 0)


def content_key(host: str, dev: int, ino: int, head: bytes, partial: bool = False, salt: int = 0) -> str | None:
    """Derived from what does not change while the file grows (its first line), so a restart
    before the registry was saved gives the same key; None until the first line is complete
    (unless `partial`: with --once a last line without its newline is read too). `salt` tells
    apart files that had the same inode and first line (an inode reused, a file truncated and
    rewritten with the same banner): their document ids must not collide."""
    newline = head.find(b"\n")
    if newline < 0 and len(head) < FINGERPRINT_BYTES and not (partial and head):
        return None
    first_line = head[: newline + 1] if newline >= 0 else head
    salted = b"\0%d" % salt if salt else b""
    identity = b"%s\0%d\0%d\0%s%s" % (host.encode(), dev, ino, first_line, salted)
    return hashlib.sha1(identity, usedforsecurity=False).hexdigest()[:20]


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

    def replaced_at(self, dev: int, ino: int, busy: set[str]) -> list[FileState]:
        """The states (not in `busy`) of this inode that `find` did not match: their content is
        no longer there (truncated, or the inode reused while the shipper was down or the file
        closed)."""
        return [
            s for s in self.states.values() if (s.dev, s.ino) == (dev, ino) and not s.detached and s.key not in busy
        ]

    def find_copy_of(self, head: bytes, dev: int, ino: int) -> FileState | None:
        """A truncated file's state whose content this file (another inode) starts with:
        copytruncate's copy."""
        for state in self.states.values():
            if not state.detached or state.fp_len < MIN_COPY_FINGERPRINT or (state.dev, state.ino) == (dev, ino):
                continue
            if state.matches_head(head):
                return state
        return None

    def starts_like_a_live_file(self, head: bytes, dev: int, ino: int) -> bool:
        """Whether this file starts with the content of a file still there (another inode):
        copytruncate's copy before the original is truncated, or simply a distinct file that
        starts alike."""
        return any(
            not s.detached
            and s.fp_len >= MIN_COPY_FINGERPRINT
            and (s.dev, s.ino) != (dev, ino)
            and s.matches_head(head)
            for s in self.states.values()
        )

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
