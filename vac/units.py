"""Numbers as vacuum people read them."""

from __future__ import annotations

import math


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
