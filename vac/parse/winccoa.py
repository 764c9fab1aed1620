"""The WinCC OA log (`PVSS_II.log`, `WCCOActrl<N>.log`): lines to records.

Grammar of a record's first line: `<manager, padded to 13>(<n>), <YYYY.MM.DD HH:MM:SS.mmm>,
<category>, <severity>, <code>[/<catalog>], <text>[, <param>]...`
Lines that start no record belong to the record before them: CTRL context (`    Line: ...`),
license blocks (`Hostname: ...`), indented or empty lines. Concurrent managers clobber each
other: one line may hold two records (split where the second header starts, also at a bare
CR), and the tail of a record may land alone on a line; such a fragment joins the record before
it, tagged `fragment`. A record whose first line matches no grammar is kept whole, tagged
`parse_failure`: nothing is dropped.

Timestamps are local time without a zone (`timezone`, default Europe/Zurich); records carry
them in UTC. Bytes that are not UTF-8 are kept as `\\xNN` escapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from vac.parse.record import MultilineParser, decode
from vac.records.clock import ISO_SECOND, PerSecond
from vac.records.logrecord import LogRecord

__all__ = ["WinccoaParser", "split_params"]

_HEADER = re.compile(
    r"(?P<manager>[A-Za-z][\w.-]*)\s*\((?P<manager_id>\d+)\), "  # greedy: a name holds no space or (
    r"(?P<time>\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d\.\d{3}), "
    # At most 18 digits: a code is a JSON integer (orjson refuses one beyond 64 bits).
    r"(?P<category>[A-Z_]+),\s*(?P<severity>[A-Z_]+),\s*(?P<code>\d{1,18})(?:/(?P<catalog>[\w.-]+))?,\s?(?P<rest>.*)",
    re.S | re.A,  # ASCII classes: the grammar is ASCII, and vac_native matches the same
)
# Inside a line only a known manager prefix may start a clobbering record: a free name would
# swallow the end of the text before it (`...20 secsWCCILsim (1), ...`).
_CLOBBER = re.compile(rb"(?:WCC|PVSS)[A-Za-z]\w*\s*\(\d+\), \d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d\.\d{3}, [A-Z_]+,")
_PARENS = re.compile(r"[()]")
_CONTINUATION = re.compile(r"^(?:\s|$|[A-Za-z][\w -]*:\s)", re.A)


def split_params(rest: str) -> list[str]:
    """`text, param, param`: split on `, ` outside parentheses."""
    if "(" not in rest:  # the common case, at C speed
        return rest.split(", ")
    # Split everywhere at C speed, then glue back the pieces that were inside parentheses
    # (a `)` with none open is ignored, as a reader would).
    parts: list[str] = []
    pending: str | None = None
    depth = 0
    for piece in rest.split(", "):
        pending = piece if pending is None else f"{pending}, {piece}"
        for paren in _PARENS.findall(piece):
            if paren == "(":
                depth += 1
            elif depth:
                depth -= 1
        if depth == 0:
            parts.append(pending)
            pending = None
    if pending is not None:
        parts.append(pending)
    return parts


class WinccoaParser(MultilineParser):
    def __init__(self, timezone: str = "Europe/Zurich", max_lines: int = 500, max_bytes: int = 128 * 1024) -> None:
        super().__init__(max_lines, max_bytes)
        self.zone = ZoneInfo(timezone)
        self._seconds: PerSecond[str, tuple[datetime, str]] = PerSecond(self._utc_second_and_prefix, 4096)

    def _utc(self, local_time: str) -> tuple[datetime, str] | None:
        """`2019.08.03 14:53:25.608` (local) in UTC, as a datetime and as ISO text. The zone
        conversion and formatting are done once per second of log time: strptime with a zone
        costs more than the rest of a record."""
        second, _, millis = local_time.rpartition(".")
        base = self._seconds.get(second)
        if base is None:
            return None
        moment, prefix = base
        return moment + timedelta(milliseconds=int(millis)), f"{prefix}{millis}Z"

    def utc_second(self, second: str) -> datetime | None:
        """`2019.08.03 14:53:25` (local) in UTC; None if there is no such time."""
        try:
            return datetime.strptime(second, "%Y.%m.%d %H:%M:%S").replace(tzinfo=self.zone).astimezone(UTC)
        except ValueError:
            return None

    def utc_second_prefix(self, second: str) -> str | None:
        """`utc_second` as the ISO text before the milliseconds (`2019-08-03T12:53:25.`): what
        `vac_native` asks for once per second of log time."""
        base = self._seconds.get(second)
        return None if base is None else base[1]

    def _utc_second_and_prefix(self, second: str) -> tuple[datetime, str] | None:
        moment = self.utc_second(second)
        return None if moment is None else (moment, moment.strftime(ISO_SECOND) + ".")

    def parse_first_line(self, line: str, offset: int) -> LogRecord | None:
        match = _HEADER.match(line)
        if match is None:
            return None
        utc = self._utc(match["time"])
        if utc is None:
            return None
        text, *params = split_params(match["rest"].rstrip())
        return LogRecord(
            message=line,
            offset=offset,
            timestamp=utc[0],
            timestamp_text=utc[1],
            level=match["severity"],
            type=match["category"],
            number=int(match["code"]),
            catalog=match["catalog"],
            manager=match["manager"],
            manager_id=match["manager_id"],
            text=text,
            params=params,
        )

    def pieces(self, offset: int, raw: bytes) -> list[tuple[int, str]]:
        """A physical line split where a clobbering record starts (or at a bare CR)."""
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if b"\r" not in line and (
            (line.find(b"WCC", 1) < 0 and line.find(b"PVSS", 1) < 0) or _CLOBBER.search(line, 1) is None
        ):
            return [(offset, decode(line))]  # no second record in it: the common case
        pieces = []
        self.bare_crs += line.count(b"\r")
        for chunk_start, chunk in _split_cr(line):
            starts = [m.start() for m in _CLOBBER.finditer(chunk) if m.start() > 0]
            bounds = [0, *starts, len(chunk)]
            for start, end in zip(bounds, bounds[1:], strict=False):
                pieces.append((offset + chunk_start + start, decode(chunk[start:end])))
        return pieces

    def is_expected_continuation(self, line: str) -> bool:
        return _CONTINUATION.match(line) is not None


def _split_cr(line: bytes) -> Iterator[tuple[int, bytes]]:
    if b"\r" not in line:
        yield 0, line
        return
    start = 0
    for index, byte in enumerate(line):
        if byte == 0x0D:
            yield start, line[start:index]
            start = index + 1
    yield start, line[start:]
