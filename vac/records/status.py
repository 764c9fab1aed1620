"""WinCC OA's 64-bit status word (`_original.._status64`), decoded into named flags.

Bit numbers from the WinCC OA reference of the `_original` config. Derived flags follow its
definitions: `_invalid` = `_exp_inv || _aut_inv` (the time-invalid bit is not among the
documented numbered bits), `_bad` = `_invalid || _out_prange`, `_default` = `_exp_default ||
_aut_default`. Bits 32-63 hold the user bits.
"""

from __future__ import annotations

BITS = {
    "active": 0,
    "exp_default": 1,
    "aut_default": 2,
    "out_prange": 3,
    "out_range": 4,
    "exp_inv": 5,
    "aut_inv": 6,
    "default_bad": 8,
    "from_GI": 9,
    "from_SI": 10,
    "corr": 12,
    "compr": 13,
    "comp_corr": 14,
    "corr_add": 15,
}
ACTIVE = 1 << BITS["active"]
INVALID_MASK = (1 << BITS["exp_inv"]) | (1 << BITS["aut_inv"])
OUT_OF_RANGE_MASK = (1 << BITS["out_range"]) | (1 << BITS["out_prange"])
FROM_GI = 1 << BITS["from_GI"]


def decode(status64: int) -> dict[str, bool]:
    """The flags consumers filter on; all false for a good, active value."""
    return {
        "invalid": bool(status64 & INVALID_MASK),
        "out_of_range": bool(status64 & OUT_OF_RANGE_MASK),
        "default": bool(status64 & ((1 << BITS["exp_default"]) | (1 << BITS["aut_default"]))),
        "from_general_query": bool(status64 & FROM_GI),
        "inactive": not status64 & ACTIVE,
    }
