"""How `vac query` prints: hits as a table (coloured by level, matches highlighted), JSON,
JSON lines or CSV, streamed as they arrive; histograms as terminal bar charts; top values.
What people read (the table, the charts, the top values) shows document text through
`printable`: a log line must not drive the terminal. JSON and CSV keep the data as it is."""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import orjson
from rich.text import Text

from commands.output import stdout
from vac.printable import printable
from vac.search.fields import field_value
from vac.timegrammar import parse_iso_utc
from vac.timewindow import to_local

if TYPE_CHECKING:
    from vac.search.logsearch import Histogram, Hit, TopValues


class SearchOutput(StrEnum):
    auto = "auto"
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def resolve(output: SearchOutput) -> SearchOutput:
    """auto: a table for people at a terminal, JSON lines for pipes."""
    if output is SearchOutput.auto:
        return SearchOutput.table if stdout.is_terminal else SearchOutput.jsonl
    return output


LEVEL_STYLES = {
    "FATAL": "bold red",
    "SEVERE": "red",
    "ERROR": "red",
    "WARNING": "yellow",
    "WARN": "yellow",
    "DEBUG": "dim",
}
# Bars keep levels apart without colour too (NO_COLOR, a printout).
LEVEL_BARS = [("FATAL", "█"), ("SEVERE", "█"), ("ERROR", "█"), ("WARNING", "▓"), ("WARN", "▓"), ("INFO", "░")]
OTHER_BAR = "▒"
TIME_WIDTH = 23
MAX_COLUMN = 28


def match_pattern(query: str) -> re.Pattern[str] | None:
    """What to highlight: the words and phrases of the query, without field names and operators."""
    terms = re.findall(r'"([^"]+)"|([^\s():"]+)(?=\s|\)|$)', re.sub(r"[\w.@]+:", " ", query))
    operators = ("AND", "OR", "NOT", "*", "-", "LUCENE")
    words = [phrase or word for phrase, word in terms if (phrase or word).upper() not in operators]
    words = [word.strip("+-!^~") for word in words if word.strip("+-!^~")]
    if not words:
        return None
    parts = [r"\w*".join(re.escape(piece) for piece in word.split("*")).replace(r"\?", r"\w") for word in words]
    return re.compile("|".join(f"(?:{part})" for part in sorted(parts, key=len, reverse=True)), re.IGNORECASE)


def cell(doc: dict[str, Any], name: str, zone: tzinfo | None) -> str:
    value = field_value(doc, name)
    if value is None:
        return ""
    if name in ("@timestamp", "time", "event.ingested") and isinstance(value, str):
        try:
            return to_local(parse_iso_utc(value), zone).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    text = str(value)
    if "\n" in text:  # a multi-line record: its first line, and how many follow
        first, rest = text.split("\n", 1)
        return f"{first.rstrip()} (+{rest.count(chr(10)) + 1} lines)"
    return text


def _column_width(name: str, values: list[str]) -> int:
    return max([len(name)] + [min(len(value), MAX_COLUMN) for value in values])


def _print_line(line: Text) -> None:
    """One line: cut at a terminal's edge, whole in a file or pipe."""
    if stdout.is_terminal:
        stdout.print(line, crop=True, overflow="ellipsis", no_wrap=True)
    else:
        stdout.print(line, crop=False, overflow="ignore", no_wrap=True)


class HitWriter:
    """Writes hits one by one in the chosen format; the table's column widths come from the
    first batch it sees, so rows stream without the whole result in memory."""

    def __init__(self, output: SearchOutput, fields: list[str], zone: tzinfo | None, query: str, whole: bool) -> None:
        self.output, self.fields, self.zone, self.whole = output, fields, zone, whole
        self.pattern = match_pattern(query)
        self.widths: list[int] | None = None
        self.rows = 0
        self._csv = csv.writer(sys.stdout, lineterminator="\n") if output is SearchOutput.csv else None

    def _row_doc(self, hit: Hit) -> dict[str, Any]:
        source: dict[str, Any] = hit.get("_source", {})
        if self.whole:
            return {"_id": hit["_id"], "_index": hit["_index"], **source}
        return {name: field_value(source, name) for name in self.fields}

    def write(self, hits: Iterable[Hit], marker: str | None = None) -> None:
        """`marker`: the id of a hit to point at (the moment of --around)."""
        batch: list[Hit] = []
        for hit in hits:
            batch.append(hit)
            if len(batch) >= 200:
                self._write_batch(batch, marker)
                batch = []
        self._write_batch(batch, marker)

    def _write_batch(self, hits: list[Hit], marker: str | None) -> None:
        if self.output is SearchOutput.table:
            self._table(hits, marker)
        elif self.output is SearchOutput.csv:
            assert self._csv is not None
            if self.rows == 0:
                self._csv.writerow(self.fields)
            for hit in hits:
                self._csv.writerow([cell(hit.get("_source", {}), name, self.zone) for name in self.fields])
        elif self.output is SearchOutput.json:
            for hit in hits:
                sys.stdout.write(("[" if self.rows == 0 else ",\n") + orjson.dumps(self._row_doc(hit)).decode())
                self.rows += 1
            return
        else:
            sys.stdout.write("".join(orjson.dumps(self._row_doc(hit)).decode() + "\n" for hit in hits))
        self.rows += len(hits)
        sys.stdout.flush()

    def _table(self, hits: list[Hit], marker: str | None) -> None:
        rows = [[printable(cell(hit.get("_source", {}), name, self.zone)) for name in self.fields] for hit in hits]
        if self.widths is None:
            self.widths = [
                TIME_WIDTH
                if name in ("@timestamp", "time")
                else max([len(name)] + [min(len(r[i]), MAX_COLUMN) for r in rows])
                for i, name in enumerate(self.fields)
            ]
            # The last column takes the rest of a terminal's width; in a file it is not cut.
            rest = stdout.width - sum(self.widths[:-1]) - 2 * len(self.fields)
            self.widths[-1] = max(20, rest) if stdout.is_terminal else sys.maxsize
            names = [printable(name) for name in self.fields]
            padded = [name.ljust(width) for name, width in zip(names[:-1], self.widths, strict=False)]
            header = Text("  ".join([*padded, names[-1]]))
            header.stylize("bold")
            _print_line(Text("  ") + header if marker else header)
        for hit, row in zip(hits, rows, strict=True):
            level = str(field_value(hit.get("_source", {}), "level") or "")
            line = Text()
            if marker is not None:
                line.append("> " if hit["_id"] == marker else "  ", style="bold")
            for index, (value, width) in enumerate(zip(row, self.widths, strict=True)):
                clipped = value if len(value) <= width else value[: width - 1] + "…"
                piece = Text(clipped.ljust(width) if index < len(row) - 1 else clipped)
                if self.fields[index] == "level":
                    piece.stylize(LEVEL_STYLES.get(level, ""))
                elif self.pattern is not None and self.fields[index] not in ("@timestamp", "time"):
                    piece.highlight_regex(self.pattern, "bold reverse")
                line.append_text(piece)
                if index < len(row) - 1:
                    line.append("  ")
            _print_line(line)
        self.rows += len(hits)

    def close(self) -> None:
        if self.output is SearchOutput.json:
            sys.stdout.write("[]\n" if self.rows == 0 else "]\n")
        sys.stdout.flush()


def histogram_json(histogram: Histogram) -> dict[str, Any]:
    return {
        "interval": histogram.interval,
        "total": histogram.total,
        "buckets": [
            {"time": bucket.start.isoformat().replace("+00:00", "Z"), "count": bucket.count, "levels": bucket.levels}
            for bucket in histogram.buckets
        ],
    }


def _time_label(moment: datetime, interval_s: float, zone: tzinfo | None) -> str:
    local = to_local(moment, zone)
    if interval_s >= 86400:
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M:%S" if interval_s < 60 else "%Y-%m-%d %H:%M")


def _bar_char(level: str) -> str:
    return next((char for name, char in LEVEL_BARS if name == level), OTHER_BAR)


def histogram_lines(histogram: Histogram, interval_s: float, zone: tzinfo | None) -> Iterator[Text]:
    """One bar per bucket, stacked by level, most severe first; then a legend with the totals."""
    order = [name for name, _ in LEVEL_BARS]
    peak = max((bucket.count for bucket in histogram.buckets), default=0)
    label_width = len(_time_label(histogram.buckets[0].start, interval_s, zone)) if histogram.buckets else 16
    count_width = max(5, len(f"{peak:,}"))
    room = max(10, stdout.width - label_width - count_width - 4)
    totals: dict[str, int] = {}
    for bucket in histogram.buckets:
        line = Text(_time_label(bucket.start, interval_s, zone) + "  ")
        line.append(f"{bucket.count:>{count_width},}  ")
        levels = sorted(bucket.levels.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        for level, count in levels:
            totals[level] = totals.get(level, 0) + count
            width = round(count / peak * room) if peak else 0
            if count and not width:
                width = 1  # a single SEVERE must still show
            line.append(_bar_char(level) * width, style=LEVEL_STYLES.get(level, "cyan" if level == "INFO" else ""))
        yield line
    legend = Text()
    for level, count in sorted(totals.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
        legend.append(f"{_bar_char(level)} {printable(level)} {count:,}   ", style=LEVEL_STYLES.get(level, ""))
    legend.append(f"total {histogram.total:,} in {len(histogram.buckets)} buckets of {histogram.interval}")
    yield legend


def top_json(top: TopValues) -> dict[str, Any]:
    return {
        "field": top.field,
        "total": top.total,
        "other": top.other,
        "missing": top.missing,
        "values": [{"value": value, "count": count} for value, count in top.values],
    }


def top_lines(top: TopValues) -> Iterator[Text]:
    values = [(printable(str(value)), count) for value, count in top.values]
    width = max([len(top.field)] + [len(value) for value, _ in values])
    count_width = max(5, len(f"{top.total:,}"))
    header = Text(f"{'#':>3}  {printable(top.field):<{width}}  {'count':>{count_width}}  share")
    header.stylize("bold")
    yield header
    for rank, (value, count) in enumerate(values, 1):
        share = count / top.total if top.total else 0.0
        yield Text(f"{rank:>3}  {value:<{width}}  {count:>{count_width},}  {share:6.1%}")
    if top.other:
        yield Text(f"{'':>3}  {'(other values)':<{width}}  {top.other:>{count_width},}", style="dim")
    if top.missing:
        yield Text(f"{'':>3}  {'(no value)':<{width}}  {top.missing:>{count_width},}", style="dim")
