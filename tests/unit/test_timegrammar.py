"""The one time grammar (vac.timegrammar): every accepted form gives the same instant in the
core and in every command that takes a time; every refused form names its bad part."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import commands.audit
import commands.index
import commands.query
import vac.kafka.positions
from commands.main import run
from vac import timegrammar
from vac.errors import ExitStatus, UsageError
from vac.kafka.positions import parse_position, parse_until
from vac.timegrammar import epoch_seconds, parse_instant, parse_iso_utc

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 11, 28, 12, 34, 56, 789000, tzinfo=UTC)  # 13:34:56.789 in Zurich (winter)
NOW_MS = int(NOW.timestamp() * 1000)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


ACCEPTED = [
    ("now", NOW),
    ("10m", utc(2026, 11, 28, 12, 24, 56, 789000)),
    ("-10m", utc(2026, 11, 28, 12, 24, 56, 789000)),
    ("now-10m", utc(2026, 11, 28, 12, 24, 56, 789000)),
    ("-1.5h", utc(2026, 11, 28, 11, 4, 56, 789000)),
    ("-30s", utc(2026, 11, 28, 12, 34, 26, 789000)),
    ("-250ms", utc(2026, 11, 28, 12, 34, 56, 539000)),
    ("7d", utc(2026, 11, 21, 12, 34, 56, 789000)),
    ("now+1h", utc(2026, 11, 28, 13, 34, 56, 789000)),
    ("now/d", utc(2026, 11, 27, 23)),  # midnight in Zurich
    ("now-1d/d", utc(2026, 11, 26, 23)),
    ("now-1h/h", utc(2026, 11, 28, 11)),
    ("now/H", utc(2026, 11, 28, 12)),
    ("now/w", utc(2026, 11, 22, 23)),  # Monday 23 November, Zurich midnight
    ("now/M", utc(2026, 10, 31, 23)),
    ("now/y", utc(2025, 12, 31, 23)),
    ("now-6M", utc(2026, 5, 28, 11, 34, 56, 789000)),  # calendar months: summer time in May
    ("now-1d/d+1h", utc(2026, 11, 27, 0)),
    ("today", utc(2026, 11, 27, 23)),
    ("Yesterday", utc(2026, 11, 26, 23)),
    ("2019-08-03", utc(2019, 8, 2, 22)),  # midnight in Zurich, summer time
    ("2019-12-03 03:07", utc(2019, 12, 3, 2, 7)),
    ("2019-12-03T03:07:30.5", utc(2019, 12, 3, 2, 7, 30, 500000)),
    ("2019-08-03T03:07:00Z", utc(2019, 8, 3, 3, 7)),
    ("2019-08-03T03:07:00+05:00", utc(2019, 8, 2, 22, 7)),
    ("@2019-08-03T03:07:00Z", utc(2019, 8, 3, 3, 7)),
    ("@2019-12-03 03:07", utc(2019, 12, 3, 2, 7)),
    ("@1700000000123", utc(2023, 11, 14, 22, 13, 20, 123000)),
    ("2019-08-03||+1d/d", utc(2019, 8, 3, 22)),
    ("@now-10m", utc(2026, 11, 28, 12, 24, 56, 789000)),
]

REFUSED = [
    ("now-10x", "'now-10x': unknown time unit 'x'"),
    ("-10x", "'-10x': unknown time unit 'x'"),
    ("now+d", "'now+d': '+d' needs a number"),
    ("now-1.5d", "'now-1.5d': 1.5d: days, weeks, months and years take whole numbers"),
    ("now*2", "'now*2': unexpected '*2'"),
    ("now-1d/", "'now-1d/': unknown time unit ''"),
    ("soon", "'soon': 'soon' is not a time"),
    ("2019-13-01", "'2019-13-01': '2019-13-01' is not a time"),
    ("2019-08-03||*1d", "'2019-08-03||*1d': unexpected '*1d'"),
    ("@99999999999999999", "epoch milliseconds beyond year 9999"),
    ("now-99999999y", "'now-99999999y': out of range"),
    ("9999-12-31T23:00-05:00", "out of range"),
    ("", "empty time"),
    ("\x1b[31mnow", "not a time (too long or holds control characters)"),
    ("<b>1h</b>", "'<b>1h</b>' is not a time"),
    ("1" * 10_000, "not a time (too long"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_every_form_in_the_core(text: str, expected: datetime) -> None:
    moment = parse_instant(text, NOW, ZURICH)
    assert moment == expected
    assert moment.tzinfo is not None and moment.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_every_form_as_a_tail_position(text: str, expected: datetime) -> None:
    for parse in (parse_position, parse_until):
        position = parse(text, now_ms=NOW_MS, local=ZURICH)  # type: ignore[operator]
        assert position.kind == "time"
        assert position.value == int(expected.timestamp() * 1000)


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[repr(t[:20]) for t, _ in REFUSED])
def test_refused_forms_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_instant(text, NOW, ZURICH, "--since")
    assert caught.value.message.startswith("--since")
    assert message in caught.value.message
    assert "\n" not in caught.value.message and "\x1b" not in caught.value.message
    assert len(caught.value.message) < 400


def test_the_machine_zone_is_the_default() -> None:
    assert parse_instant("2019-08-03 03:07", NOW) == datetime(2019, 8, 3, 3, 7).astimezone().astimezone(UTC)
    assert parse_instant("now/d", NOW) == datetime.combine(NOW.astimezone().date(), datetime.min.time()).astimezone()


def test_stored_timestamps_have_one_helper() -> None:
    assert parse_iso_utc("2019-08-03T12:53:25.608Z") == utc(2019, 8, 3, 12, 53, 25, 608000)
    assert parse_iso_utc("2019-08-03T12:53:25") == utc(2019, 8, 3, 12, 53, 25)  # no zone: UTC
    assert epoch_seconds("1970-01-01T00:00:10Z") == 10.0
    with pytest.raises(ValueError):
        parse_iso_utc("yesterday")


# Every command that takes a time, with the option it takes it by. The command's own
# `parse_instant` is swapped for one that pins `now`, records what it resolved and then stops
# the command, so no Kafka or Elasticsearch is needed to see the option reach the grammar.
COMMAND_LINES: list[tuple[str, Callable[[str], list[str]], Any]] = [
    ("query --since", lambda t: ["query", "--since", t], commands.query),
    ("query --until", lambda t: ["query", "--since", "2000-01-01", "--until", t], commands.query),
    ("query --around", lambda t: ["query", "--around", t, "--host", "h"], commands.query),
    ("tail --from", lambda t: ["tail", "topic", "x", "--from", t], vac.kafka.positions),
    ("tail --until", lambda t: ["tail", "topic", "x", "--until", t], vac.kafka.positions),
    ("audit --since", lambda t: ["audit", "logs", "--since", t], commands.audit),
    ("audit --until", lambda t: ["audit", "logs", "--until", t], commands.audit),
    ("index prune --older-than", lambda t: ["index", "prune", "--older-than", t], commands.index),
]


class Resolved(Exception):
    pass


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "vac.yaml"
    path.write_text("query:\n  timezone: Europe/Zurich\n")
    return path


@pytest.mark.parametrize(("name", "argv", "module"), COMMAND_LINES, ids=[c[0] for c in COMMAND_LINES])
def test_every_command_resolves_every_form_alike(
    name: str, argv: Callable[[str], list[str]], module: Any, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, datetime]] = []
    option = name.split()[-1]

    def pinned(text: str, now: datetime, local: tzinfo | None = None, what: str = "time") -> datetime:
        moment = timegrammar.parse_instant(text, NOW, local, what)
        if what == option:
            seen.append((text, moment))
            raise Resolved
        return moment

    monkeypatch.setattr(module, "parse_instant", pinned)
    for text, expected in ACCEPTED:
        with pytest.raises(Resolved):
            run(["--config", str(config), *argv(text)])
        assert seen[-1] == (text, expected), f"{name} {text}"
    assert len(seen) == len(ACCEPTED)


@pytest.mark.parametrize(("name", "argv", "module"), COMMAND_LINES, ids=[c[0] for c in COMMAND_LINES])
def test_every_command_refuses_in_one_line(
    name: str, argv: Callable[[str], list[str]], module: Any, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    option = name.split()[-1]
    for text, message in [("now-10x", "unknown time unit 'x'"), ("soon", "'soon' is not a time")]:
        assert run(["--config", str(config), *argv(text)]) == ExitStatus.USAGE
        error = capsys.readouterr().err.strip().splitlines()[0]
        assert error.startswith(f"vac: error: {option} '{text}'"), error
        assert message in error
