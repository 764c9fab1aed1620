"""Sets of byte ranges of a file, each range with how many records it holds.

The loss audit (`vac.logs.audit`) keeps one per file and stage instead of one entry per
record, so a multi-GB topic is audited in memory that grows with the number of holes, not
of records: a complete file is a single range.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator


class CountedRanges:
    """Disjoint half-open ranges [start, end), sorted; a range added next to or over others
    merges with them and their counts add up."""

    def __init__(self) -> None:
        # Three parallel lists rather than a list of tuples: bisect works on the starts and
        # ends directly, and appending at the end (the usual case) touches no other entry.
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._counts: list[int] = []

    def add(self, start: int, end: int, count: int = 1) -> None:
        if end <= start:
            raise ValueError(f"empty range [{start}, {end})")
        starts, ends, counts = self._starts, self._ends, self._counts
        if not starts or start > ends[-1]:  # past every range: the common case of a file read in order
            starts.append(start)
            ends.append(end)
            counts.append(count)
            return
        first = bisect_left(ends, start)  # the first range that ends at or after `start` touches it
        last = bisect_right(starts, end)  # ranges from `last` on start after `end`
        if first == last:
            starts.insert(first, start)
            ends.insert(first, end)
            counts.insert(first, count)
            return
        merged_start = min(start, starts[first])
        merged_end = max(end, ends[last - 1])
        merged_count = count + sum(counts[first:last])
        starts[first:last] = [merged_start]
        ends[first:last] = [merged_end]
        counts[first:last] = [merged_count]

    def covers(self, point: int) -> bool:
        i = bisect_right(self._starts, point) - 1
        return i >= 0 and self._ends[i] > point

    def holes(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) no range covers."""
        holes = []
        at = start
        for range_start, range_end, _ in self:
            if range_end <= at:
                continue
            if range_start >= end:
                break
            if range_start > at:
                holes.append((at, range_start))
            at = max(at, range_end)
        if at < end:
            holes.append((at, end))
        return holes

    @property
    def count(self) -> int:
        return sum(self._counts)

    def __len__(self) -> int:
        return len(self._starts)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return iter(zip(self._starts, self._ends, self._counts, strict=True))
