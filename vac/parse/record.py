"""The machinery that joins lines into log records (`vac.records.logrecord.LogRecord`),
whatever format they came from: a line that starts no record belongs to the record before it."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator

from vac.records.logrecord import LogRecord


def decode(raw: bytes) -> str:
    """Bytes that are not UTF-8 are kept, as `\\xNN` escapes, never dropped."""
    return raw.decode("utf-8", "backslashreplace")


class MultilineParser(abc.ABC):
    """Lines in, complete records out. Subclasses say what starts a record; every other line
    joins the record before it, up to the caps (the rest goes on in a new record, and the
    capped one is tagged `truncated`: never silently cut). A line that starts no record and
    has no record before it is kept alone, tagged `parse_failure`."""

    multiline = True
    """False: every line is a record of its own (access logs)."""
    bare_crs = 0
    """Bare CRs this parser took for line ends (only formats that split lines at a CR do): the
    reader counts them as lines, so that records' line counts add up to the lines read."""

    def __init__(self, max_lines: int = 500, max_bytes: int = 128 * 1024) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self._current: LogRecord | None = None

    @abc.abstractmethod
    def parse_first_line(self, line: str, offset: int) -> LogRecord | None:
        """The record `line` starts, or None if it continues the record before it."""

    def pieces(self, offset: int, raw: bytes) -> list[tuple[int, str]]:
        """A physical line as (offset, text) pieces; formats with clobbered lines split them."""
        return [(offset, decode(raw[:-1] if raw.endswith(b"\r") else raw))]

    def is_expected_continuation(self, line: str) -> bool:
        """Whether a line that starts no record is a normal part of the one before it; one
        that is not gets the record tagged `fragment`."""
        return True

    def feed(self, offset: int, raw: bytes, end: int, joined: bool = False) -> list[LogRecord]:
        """One physical line (without its newline) that spans [offset, end) of the file; the
        records it completed. `joined`: `raw` is the next piece of a line too long to be read
        at once (see `vac.logs.reading.MAX_LINE_PIECE`), to be joined with nothing between."""
        pieces = self.pieces(offset, raw)
        if len(pieces) == 1:  # the common case, without the bookkeeping of a split line
            done = self._take(offset, pieces[0][1], end, clobbered=False, joined=joined)
            return [] if done is None else [done]
        completed: list[LogRecord] = []
        for index, (piece_offset, piece) in enumerate(pieces):
            piece_end = pieces[index + 1][0] if index + 1 < len(pieces) else end
            done = self._take(piece_offset, piece, piece_end, piece_offset != offset, joined and index == 0)
            if done is not None:
                completed.append(done)
        return completed

    def _take(self, offset: int, piece: str, end: int, clobbered: bool, joined: bool = False) -> LogRecord | None:
        """One piece of a line, spanning [offset, end); the record it completed, if any."""
        current = self._current
        # The rest of a long line starts no record (it is the middle of one).
        record = None if joined else self.parse_first_line(piece, offset)
        if record is not None and clobbered:
            record.tags.append("clobbered")
        if record is None:
            if current is None or not self.multiline:
                record = LogRecord(message=piece, offset=offset, tags=["continued" if joined else "parse_failure"])
            elif self._full(current, end, joined):
                current.tags.append("truncated")
                record = LogRecord(message=piece, offset=offset, tags=["continued"])
            elif joined:
                current.message += piece
                current.end = end
                return None
            else:
                self._append(current, piece)
                current.end = end
                return None
        record.end = end
        if not self.multiline:  # every line a record of its own: complete at once
            return record
        self._current = record
        return current

    def flush(self) -> list[LogRecord]:
        """The record in progress, when no more lines will come soon (idle or end of input)."""
        current, self._current = self._current, None
        return [current] if current is not None else []

    @property
    def pending_offset(self) -> int | None:
        """Where the record in progress starts: reading resumes there after a restart."""
        return None if self._current is None else self._current.offset

    def records(self, lines: Iterable[tuple[int, bytes]]) -> Iterator[LogRecord]:
        """Records from (byte offset, raw line without its newline) pairs, in order; the last
        one when the input ends."""
        for offset, raw in lines:
            yield from self.feed(offset, raw, offset + len(raw) + 1)
        yield from self.flush()

    def _full(self, record: LogRecord, end: int, joined: bool) -> bool:
        """Whether the record can take no more (what would take it to `end`): the byte cap
        counts the file's bytes, so that a record is never cut below it (characters, or the
        newlines between a long line's pieces, made records of fewer bytes look full); the
        rest of a long line adds no line."""
        return (not joined and record.lines >= self.max_lines) or end - record.offset > self.max_bytes

    def _append(self, record: LogRecord, line: str) -> None:
        if "fragment" not in record.tags and not self.is_expected_continuation(line):
            record.tags.append("fragment")
        record.message += "\n" + line
        record.lines += 1
