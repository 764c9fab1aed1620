"""Numbers as vacuum people read them."""

from __future__ import annotations

import math

MOST_DECADE_TICKS = 12
"""Labels on a log axis: every decade up to this many, every other (or fewer) beyond."""


def engineering(value: float, digits: int = 3) -> str:
    """`value` with an exponent that is a multiple of 3 and `digits` significant digits:
    3.2e-9 -> '3.20e-9', 1.5e-10 -> '150e-12', 0.0 -> '0'. Pressures span decades, and
    the exponent is what an operator compares first."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    # Round first, so 9.999e-9 becomes 10.0e-9; then move the point by 0 to 2 places. Dividing
    # by 10**exponent3 instead fails below 1e-323 (a subnormal from a topic): 10**-324 is 0.0.
    mantissa, _, exp = f"{value:.{digits - 1}e}".partition("e")
    exponent = int(exp)
    exponent3 = exponent - exponent % 3
    shift = exponent - exponent3
    text = f"{float(mantissa) * 10**shift:.{max(0, digits - 1 - shift)}f}"
    return text if exponent3 == 0 else f"{text}e{exponent3}"


def decade_ticks(low: float, high: float, most: int = MOST_DECADE_TICKS) -> list[int]:
    """The powers of ten to label a log axis from `low` to `high` (both > 0) with: every decade
    that covers them, thinned to at most `most` labels, the last at or above `high` (vacuum
    people read pressures in decades). One value gets the decade around it."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    if last == first:
        last += 1
    step = max(1, math.ceil((last - first) / max(1, most - 1)))
    return list(range(first, first + step * math.ceil((last - first) / step) + 1, step))
