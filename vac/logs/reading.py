"""A file's bytes to documents ready to send: its lines, the records they make, each record's
JSON. Two engines give the same bytes: Python (every parser) and, for WinCC OA logs, the
compiled `vac_native` (`native/`), which parsing in Python is too slow for (a test holds the
two byte-identical, and the Python one stays the reference and the fallback)."""

from __future__ import annotations

from typing import Protocol

import orjson

from vac.parse.patterns import PatternParser, spring_boot_parser, tomcat_access_parser
from vac.parse.record import MultilineParser
from vac.parse.winccoa import WinccoaParser
from vac.records.logrecord import FileOrigin, LogRecord, to_document
from vac.settings import LogInput, VacSettings

try:
    import vac_native
except ImportError:  # not built (no Rust toolchain): the Python parser does the work
    vac_native = None  # type: ignore[assignment]

MAX_LINE_PIECE = 32 * 1024
"""A longer line is passed on in pieces of this size (the parser's caps then split it into
records tagged truncated/continued): a 10 MB line never sits whole in memory. The pieces of
one line are joined back with nothing between them, and count as one line."""

Document = tuple[int, int, str, list[str] | None, bytes]
"""A finished record: (end offset, offset, @timestamp, tags or None, JSON document). Reading
resumes at its end once it is delivered."""


class DocumentReader(Protocol):
    def feed(self, buffer: bytes, base: int, last: bool, ingested: str) -> tuple[list[Document], int, int]:
        """The complete lines of `buffer` (which starts at byte `base` of the file), and with
        `last` a final line without its newline: the documents they finished, how many lines
        were read, and how many bytes of `buffer` were used (the rest is a partial line)."""
        ...

    def flush(self, ingested: str) -> list[Document]:
        """The record in progress, when no more lines will come soon (idle or end of input)."""
        ...

    @property
    def pending_offset(self) -> int | None:
        """Where the record in progress starts: reading resumes there after a restart."""
        ...


def native_available() -> bool:
    return vac_native is not None


def make_parser(spec: LogInput, settings: VacSettings) -> MultilineParser:
    zone = spec.timezone or settings.logs.timezone
    caps = {"max_lines": settings.logs.max_record_lines, "max_bytes": settings.logs.max_record_bytes}
    if spec.parser == "winccoa":
        return WinccoaParser(zone, **caps)
    if spec.parser == "tomcat_access":
        return tomcat_access_parser(zone, **caps)
    if spec.parser == "spring_boot":
        return spring_boot_parser(zone, **caps)
    assert spec.pattern is not None  # the settings validate it
    return PatternParser(spec.pattern, spec.time_format, zone, spec.multiline, **caps)


def make_reader(spec: LogInput, settings: VacSettings, origin: FileOrigin) -> DocumentReader:
    parser = make_parser(spec, settings)
    if isinstance(parser, WinccoaParser) and settings.logs.native_parser and vac_native is not None:
        return vac_native.WinccoaDocuments(
            parser.utc_second_prefix,
            parser.max_lines,
            parser.max_bytes,
            orjson.dumps(origin.fields_part),
            orjson.dumps(origin.host_part),
            orjson.dumps(origin.file_part),
            origin.key,
        )
    return PythonReader(parser, origin)


class PythonReader:
    def __init__(self, parser: MultilineParser, origin: FileOrigin) -> None:
        self.parser, self.origin = parser, origin
        self.mid_line = False
        """The last piece fed was cut from a longer line: the next one continues that line."""

    def feed(self, buffer: bytes, base: int, last: bool, ingested: str) -> tuple[list[Document], int, int]:
        """Lines count once each, however many pieces they are fed in, plus the bare CRs the
        parser takes for line ends."""
        parser = self.parser
        feed = parser.feed
        crs_before = parser.bare_crs
        records = []
        lines = 0
        start = 0
        joined = self.mid_line
        size = MAX_LINE_PIECE
        while True:
            newline = buffer.find(b"\n", start)
            if newline < 0:
                break
            while newline - start > size:
                records += feed(base + start, buffer[start : start + size], base + start + size, joined)
                lines += not joined
                joined = True
                start += size
            if joined:
                records += feed(base + start, buffer[start:newline], base + newline + 1, True)
                joined = False
            else:  # the common case, kept lean
                records += feed(base + start, buffer[start:newline], base + newline + 1)
                lines += 1
            start = newline + 1
        while len(buffer) - start > size:  # a huge line still being written
            records += feed(base + start, buffer[start : start + size], base + start + size, joined)
            lines += not joined
            joined = True
            start += size
        if last and start < len(buffer):
            records += feed(base + start, buffer[start:], base + len(buffer), joined)
            lines += not joined
            joined = False
            start = len(buffer)
        self.mid_line = joined
        lines += parser.bare_crs - crs_before
        return self._documents(records, ingested), lines, start

    def flush(self, ingested: str) -> list[Document]:
        return self._documents(self.parser.flush(), ingested)

    @property
    def pending_offset(self) -> int | None:
        return self.parser.pending_offset

    def _documents(self, records: list[LogRecord], ingested: str) -> list[Document]:
        origin = self.origin
        documents = []
        for record in records:
            doc = to_document(record, origin, ingested)
            documents.append((record.end, record.offset, doc["@timestamp"], record.tags or None, orjson.dumps(doc)))
        return documents
