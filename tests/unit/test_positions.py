"""`--from` / `--until` expressions and how they map onto a partition's offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vac.errors import UsageError
from vac.kafka.positions import Position, parse_position, parse_until, start_offset, stop_offset

NOW = 1_800_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("beginning", Position("beginning")),
        ("end", Position("end")),
        ("42", Position("offset", 42)),
        ("-5", Position("last", 5)),
        ("-10m", Position("time", NOW - 600_000)),
        ("-1.5h", Position("time", NOW - 5_400_000)),
        ("-30s", Position("time", NOW - 30_000)),
        ("-2d", Position("time", NOW - 172_800_000)),
        ("@1700000000123", Position("time", 1_700_000_000_123)),
        (
            "@2026-11-28T14:05:00+01:00",
            Position("time", int(datetime(2026, 11, 28, 13, 5, tzinfo=UTC).timestamp() * 1000)),
        ),
        (
            "@2026-11-28T13:05:00Z",
            Position("time", int(datetime(2026, 11, 28, 13, 5, tzinfo=UTC).timestamp() * 1000)),
        ),
    ],
)
def test_forms(text: str, expected: Position) -> None:
    assert parse_position(text, now_ms=NOW) == expected


def test_a_time_without_zone_is_local_time() -> None:
    local = datetime(2026, 11, 28, 14, 5).astimezone()
    assert parse_position("@2026-11-28T14:05", now_ms=NOW).value == int(local.timestamp() * 1000)
    assert parse_position("@2026-11-28", now_ms=NOW).value == int(
        datetime(2026, 11, 28).astimezone().timestamp() * 1000
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-10x", "--from '-10x': unknown time unit 'x'"),
        ("@2026-13-01", "--from '@2026-13-01': '2026-13-01' is not a time"),
        ("@yesterdays", "--from '@yesterdays': 'yesterdays' is not a time"),
        ("soon", "--from 'soon': 'soon' is not a time"),
        ("-0", "--from '-0': the last 0 messages is nothing"),
        ("1.5", "--from '1.5': not a position"),
    ],
)
def test_errors_say_which_part_is_wrong(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_position(text, now_ms=NOW)
    assert caught.value.message.startswith(message)


def test_until_refuses_starts() -> None:
    with pytest.raises(UsageError, match="cannot stop at the beginning"):
        parse_until("beginning")
    with pytest.raises(UsageError, match="cannot stop at the last N"):
        parse_until("-5")
    assert parse_until("end") == Position("end")


def test_start_offsets_within_a_partition() -> None:
    low, high = 100, 200
    assert start_offset(Position("beginning"), low, high) == 100
    assert start_offset(Position("end"), low, high) == 200
    assert start_offset(Position("offset", 150), low, high) == 150
    assert start_offset(Position("offset", 5), low, high) == 100  # deleted already: clamp
    assert start_offset(Position("offset", 999), low, high) == 200
    assert start_offset(Position("last", 10), low, high) == 190
    assert start_offset(Position("last", 500), low, high) == 100
    assert start_offset(Position("time", 1), low, high, offset_for_time=170) == 170
    assert start_offset(Position("time", 1), low, high, offset_for_time=-1) == 200  # nothing that late


def test_stop_offsets_are_exclusive() -> None:
    low, high = 100, 200
    assert stop_offset(Position("end"), low, high) == 200
    assert stop_offset(Position("offset", 150), low, high) == 150
    assert stop_offset(Position("time", 1), low, high, offset_for_time=180) == 180
    assert stop_offset(Position("time", 1), low, high, offset_for_time=-1) == 200
