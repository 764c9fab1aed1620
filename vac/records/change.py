"""One value change of one DPE, as every source produces it, and what a source is to the
streamer that takes its changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from vac.records import status as status_bits
from vac.records.badinput import BadInput


@dataclass(slots=True)
class Change:
    dpe: str
    value: Any
    source_us: int
    """Source timestamp, epoch microseconds (WinCC OA's stime)."""
    status64: int = status_bits.ACTIVE


def now_us() -> int:
    return time.time_ns() // 1000


SOURCE_US_RANGE = range(0, 253_402_300_800_000_000)
"""Source times a change may carry: from 1970 (Kafka refuses negative record times) to the
end of year 9999 (where Python's datetime, which formats them, ends). A source decoding an
outsider's time checks it against this range and counts a change outside it as bad input."""

STATUS64_RANGE = range(0, 1 << 64)
"""A status word is an unsigned 64-bit integer."""


class ChangeSource(Protocol):
    bad_input: BadInput

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]: ...
