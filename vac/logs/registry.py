"""Read positions of the shipper, one per file identity, saved atomically.

A file is known by device + inode, as Filebeat knows it; the fingerprint of its first bytes
only tells whether that inode still holds the same content (an inode reused, a file truncated).
Content never merges two files that are both there: distinct files may well start alike (the
same banner, identical small files). The one exception is copytruncate: once the original's
inode was seen truncated (its state `detached`), a file under another inode that starts with
the original's content is its copy (`PVSS_II.log.1`) and resumes where the original was
acknowledged. `offset` only ever holds a position the sink acknowledged: after a crash the
shipper re-sends at most what was in flight.

One shipper at a time owns a registry: an exclusive `flock` on `<registry>.lock` beside it,
held while the registry is open (two shippers on one registry would ship each other's lines
under the wrong app or undo each other's progress). The lock file holds the owner's pid.
Readers that change nothing (`vac audit logs`) use `load_states`: no lock, nothing written.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import orjson

from vac.errors import ConfigError, UsageError, VacError

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


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "key": (str,),
    "path": (str,),
    "dev": (int,),
    "ino": (int,),
    "offset": (int,),
    "fp_len": (int,),
    "fp": (str,),
    "updated": (int, float),
    "detached": (bool,),
}
assert set(_FIELD_TYPES) == {f.name for f in fields(FileState)}
_FIELD_RANGES: dict[str, tuple[int, int]] = {
    "dev": (0, 2**64 - 1),
    "ino": (0, 2**64 - 1),
    "offset": (0, 2**63 - 1),  # a file position (off_t): anything else makes pread fail mid-run
    "fp_len": (0, FINGERPRINT_BYTES),
}


def _state_from(entry: Any) -> FileState:
    """One saved entry, its fields checked: a hand-edited registry fails here, not mid-run."""
    if not isinstance(entry, dict):
        raise ValueError(f"an entry is {type(entry).__name__}, not an object")
    for name, value in entry.items():
        kinds = _FIELD_TYPES.get(name)
        if kinds is None:
            raise ValueError(f"unknown field {name!r}")
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ValueError(f"field {name!r} is {value!r}, not {kinds[-1].__name__}")
        bounds = _FIELD_RANGES.get(name)
        if bounds is not None and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"field {name!r} is {value!r}, not between {bounds[0]} and {bounds[1]}")
    return FileState(**entry)


def load_states(path: Path) -> dict[str, FileState]:
    """The saved states by key, read only: no lock taken, nothing written (an audit beside a
    running shipper, or by a user who may only read the registry's directory)."""
    try:
        data = orjson.loads(path.read_bytes())
        states = [_state_from(entry) for entry in data["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"the shipper registry {path} is unreadable: {exc}",
            hint="move it aside to start over (files are then read again from the start or the end)",
        ) from None
    return {state.key: state for state in states}


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.states: dict[str, FileState] = {}
        self._saved: bytes = b""
        self._lock_fd: int | None = _lock(path)  # one shipper per registry
        try:
            self.existed = path.exists()
            if self.existed:
                self._load()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Let another shipper have the registry."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def _load(self) -> None:
        self.states = load_states(self.path)

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
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".registry-")
        except OSError as exc:
            raise VacError(f"cannot save the shipper registry {self.path}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise VacError(f"cannot save the shipper registry {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._saved = data


def _lock(path: Path) -> int:
    """Take the registry for this process (see the module docstring); its descriptor."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot use the shipper registry {path}: {exc.strerror or exc} ({exc.filename or lock_path})",
            hint="give a writable --registry (or logs.registry_file)",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise UsageError(
            f"the shipper registry {path} is in use by another shipper (pid {holder})",
            hint="give this run its own --registry, or stop the other shipper first",
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
