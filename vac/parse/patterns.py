"""Formats described by a regular expression with named groups: Tomcat access logs, Spring
Boot logs, and whatever an input configures.

Groups named like a record field (`timestamp`, `level`, `type`, `number`, `catalog`,
`manager`, `manager_id`, `text`) fill that field; the others go to `extra`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from vac.errors import ConfigError
from vac.parse.record import MultilineParser
from vac.records.logrecord import LogRecord

FIELD_GROUPS = ("level", "type", "catalog", "manager", "manager_id", "text")

TOMCAT_ACCESS = (
    r"(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<timestamp>[^\]]+)\] "
    r'"(?P<text>(?P<method>[A-Z]+) (?P<path>\S+)(?: (?P<protocol>[^"]*))?|[^"]*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)")?(?: (?P<duration_ms>\d+))?'
)
TOMCAT_TIME = "%d/%b/%Y:%H:%M:%S %z"
# Spring Boot 2 (`2019-08-03 14:53:25.608  INFO 123 --- [main] logger : text`) and 3 (ISO
# time with zone, an optional `[application]` before the thread).
SPRING_BOOT = (
    r"(?P<timestamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+"
    r"(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(?P<pid>\d+)\s+---\s+(?:\[(?P<application>[^\]]*)\]\s+)?"
    r"\[\s*(?P<thread>[^\]]*)\]\s+(?P<manager>\S+)\s*:\s(?P<text>.*)"
)


class PatternParser(MultilineParser):
    def __init__(
        self,
        pattern: str,
        time_format: str | None = None,
        timezone: str = "UTC",
        multiline: bool = True,
        max_lines: int = 500,
        max_bytes: int = 128 * 1024,
    ) -> None:
        super().__init__(max_lines, max_bytes)
        try:
            self.pattern = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"log pattern {pattern!r} does not compile: {exc}") from None
        self.time_format = time_format
        self.zone = ZoneInfo(timezone)
        self.multiline = multiline

    def parse_first_line(self, line: str, offset: int) -> LogRecord | None:
        match = self.pattern.match(line)
        if match is None:
            return None
        groups = {name: value for name, value in match.groupdict().items() if value is not None}
        record = LogRecord(message=line, offset=offset)
        if "timestamp" in groups:
            record.timestamp = self._utc(groups.pop("timestamp"))
            if record.timestamp is None:
                record.tags.append("bad_timestamp")
        for name in FIELD_GROUPS:
            if name in groups:
                setattr(record, name, groups.pop(name))
        if "number" in groups:
            number = groups.pop("number")
            record.number = int(number) if number.isdigit() else None
        record.extra = groups
        return record

    def _utc(self, text: str) -> datetime | None:
        try:
            if self.time_format:
                parsed = datetime.strptime(text, self.time_format)
            else:
                parsed = datetime.fromisoformat(text.replace(",", "."))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(UTC)


def tomcat_access_parser(timezone: str = "UTC", **caps: int) -> PatternParser:
    return PatternParser(TOMCAT_ACCESS, TOMCAT_TIME, timezone, multiline=False, **caps)


def spring_boot_parser(timezone: str = "UTC", **caps: int) -> PatternParser:
    return PatternParser(SPRING_BOOT, None, timezone, multiline=True, **caps)
