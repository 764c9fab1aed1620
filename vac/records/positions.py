"""Where an LHC vacuum device sits: its sector, main part and DCUM, from its DPE name.

The shared DPE config carries placeholders (`VACSECPR123`, `LSS1`, `125` for every entry); the
LHC names carry the real place. `VGPB_2_7L8_B.PR` sits at quadrupole (cell) 7 left of point 8.
Called by `vac.scada.dpes` when a DPE list is loaded (so every record the streamer writes has a
place) and by `vac.dash` for records that still carry placeholders. Pure functions, no I/O.

Rules (see `position_of`):

- **Place token**: `<cell><L|R><point>` as a `_`-separated part of the name, the cell optionally
  prefixed by up to three letters that tell apart elements at the same place (`A1L1`, `B7R1`,
  `ACS5L4`: the LHC's own `MQM.A7R1` style); or `IP<point>` for the experiments' vacuum at the
  point itself (`VGPC_PE111_IP8_VE.PR`).
- **Sector** `S78`-style: left of point *n* is the sector from *n-1* to *n*, right of it the sector
  from *n* to *n+1* (S81 closes the ring). A device at the point itself (`IP8`) is counted in the
  sector that ends there (S78).
- **Main part** by quadrupole number: 1-7 `LSS` (long straight section, the insertion up to Q7),
  8-11 `DS` (dispersion suppressor), 12 and beyond `ARC`. Q12 to Q34 on both sides of an arc are
  its 46 quadrupoles, 23 FODO cells; Q34 right of point *n* and Q34 left of point *n+1* face each
  other across the middle of the arc.
- **DCUM** (metres along the ring from IP1, in the direction of beam 1; left of a point is the
  smaller DCUM) = the point's DCUM +/- the quadrupole's distance from the point:
  - points: the beam-1 positions of the LHC's MAD-X sequence (`IP_DCUM`, ring 26,658.8832 m);
    IP8 (LHCb) is displaced by about 11 m from the octant;
  - arc (Q12-Q34): a regular grid of half-cells of 53.45 m (106.9 m cells), counted from the middle
    of the arc, so Q34 is half a half-cell (26.7 m) from it and Q12 22 half-cells further; the
    half-octant is taken from the two points around the arc, so both sides meet;
  - LSS (Q1-Q7): typical distances of the quadrupoles from the point (`LSS_DISTANCE_M`: the
    triplet Q1-Q3 within 60 m, Q4-Q7 from about 165 m to 268 m); insertions differ (IR3, IR4,
    IR6, IR7 have their own layouts), so these are good to a few tens of metres;
  - DS (Q8-Q11): evenly spread between Q7 and Q12 (the DS half-cells are shorter than the arc's).
  A device gets the DCUM of its quadrupole: the true position is within one half-cell of it in the
  arc, and within a few tens of metres in the straight sections. Good enough to sort gauges along
  the machine and to show where a pressure rise is, not to survey.
- **Config wins**: a config's `sector`, `mainpart` or `DCUM` is used as given unless it is empty or
  a known placeholder (`PLACEHOLDERS`); only the placeholders are replaced by what the name says.

Names that carry no ring position (transfer lines TI2/TI8 as `VGPB_623034_R`, radiation
monitors `VRPIT*`, mobile pumping groups, per-sector QRL exports `VG_IsolVacExport_A12_Q`) get no
position: `position_of` returns None and their config values stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RING_M = 26_658.8832
"""The LHC's circumference (beam 1 reference orbit), metres."""
IP_DCUM: dict[int, float] = {
    1: 0.0,
    2: 3_332.43658,
    3: 6_664.72080,
    4: 9_997.00502,
    5: 13_329.28923,
    6: 16_661.72582,
    7: 19_994.16240,
    8: 23_315.37898,
}
"""DCUM of each interaction point: its position on beam 1's sequence, which starts at IP1."""
HALF_CELL_M = 53.45
"""Half an arc FODO cell (106.9 m): the distance between consecutive arc quadrupoles."""
LAST_ARC_CELL = 34
"""Q34 is the arc quadrupole nearest the middle of the arc."""
FIRST_ARC_CELL = 12
FIRST_DS_CELL = 8
LSS_DISTANCE_M: dict[int, float] = {1: 26.0, 2: 42.0, 3: 55.0, 4: 165.0, 5: 195.0, 6: 220.0, 7: 268.0}
"""Typical distance of quadrupoles Q1-Q7 from their point, metres (the IR1/IR5 layout, rounded)."""

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "sector": frozenset({"", "VACSECPR123"}),
    "mainpart": frozenset({"", "LSS1"}),
    "dcum": frozenset({"", "125"}),
}
"""Config values that say nothing: the shared LHC config has these for every entry."""

_PLACE = re.compile(r"(?:^|_)[A-Z]{0,3}(\d{1,2})([LR])([1-8])(?=_|\.|$)")
_AT_POINT = re.compile(r"(?:^|_)IP([1-8])(?=_|\.|$)")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a device sits on the ring."""

    sector: str
    """`S12` ... `S81`: the stretch between two points."""
    mainpart: str
    """`ARC`, `DS` or `LSS`."""
    dcum: float
    """Approximate metres along the ring from IP1 (0 <= dcum < RING_M)."""
    point: int
    """The nearest point (1-8)."""
    cell: int
    """The quadrupole (cell) number; 0 at the point itself."""
    side: str
    """`L`, `R`, or `` at the point itself."""

    @property
    def dcum_text(self) -> str:
        """The DCUM as the streamer's records carry it: whole metres, as text."""
        return f"{self.dcum:.0f}"


def _sector(point: int, side: str) -> str:
    if side == "R":
        return f"S{point}{point % 8 + 1}"
    return f"S{(point - 2) % 8 + 1}{point}"


def _mainpart(cell: int) -> str:
    if cell >= FIRST_ARC_CELL:
        return "ARC"
    if cell >= FIRST_DS_CELL:
        return "DS"
    return "LSS"


def _half_octant(point: int, side: str) -> float:
    """Half the distance from `point` to its neighbour on `side`: where the arc's middle is."""
    if side == "R":
        nxt = point % 8 + 1
        span = (IP_DCUM[nxt] if nxt != 1 else RING_M) - IP_DCUM[point]
    else:
        prev = (point - 2) % 8 + 1
        span = (IP_DCUM[point] if point != 1 else RING_M) - IP_DCUM[prev]
    return span / 2


def distance_from_point(cell: int, half_octant: float) -> float:
    """Approximate distance (m) of quadrupole `cell` from its point; see the module docstring."""
    if cell <= 0:
        return 0.0
    if cell in LSS_DISTANCE_M:
        return LSS_DISTANCE_M[cell]
    first_arc = half_octant - HALF_CELL_M / 2 - (LAST_ARC_CELL - FIRST_ARC_CELL) * HALF_CELL_M
    if cell >= FIRST_ARC_CELL:
        # Beyond Q34 (no such LHC quadrupole) the grid would run past the arc's middle: clamp.
        return min(first_arc + (cell - FIRST_ARC_CELL) * HALF_CELL_M, half_octant)
    q7 = LSS_DISTANCE_M[7]
    return q7 + (first_arc - q7) * (cell - 7) / (FIRST_ARC_CELL - 7)


def position_of(name: str) -> Position | None:
    """The position an LHC DPE name carries, or None if it carries none."""
    base = name.split(".", 1)[0]
    match = _PLACE.search(base)
    if match is not None:
        cell, side, point = int(match.group(1)), match.group(2), int(match.group(3))
        if cell == 0:
            return None
        offset = distance_from_point(cell, _half_octant(point, side))
        dcum = (IP_DCUM[point] + (offset if side == "R" else -offset)) % RING_M
        return Position(_sector(point, side), _mainpart(cell), dcum, point, cell, side)
    at = _AT_POINT.search(base)
    if at is not None:
        point = int(at.group(1))
        return Position(_sector(point, "L"), "LSS", IP_DCUM[point], point, 0, "")
    return None


def is_placeholder(field: str, value: str) -> bool:
    """Whether a config's `sector`, `mainpart` or `dcum` value says nothing."""
    return value.strip() in PLACEHOLDERS.get(field, frozenset({""}))


def resolve_place(name: str, sector: str, mainpart: str, dcum: str) -> tuple[str, str, str]:
    """(sector, mainpart, DCUM) for a DPE: the config's where it is real, the name's where the
    config has a placeholder and the name carries a position, else the config's as given."""
    if not (is_placeholder("sector", sector) or is_placeholder("mainpart", mainpart) or is_placeholder("dcum", dcum)):
        return sector, mainpart, dcum
    position = position_of(name)
    if position is None:
        return sector, mainpart, dcum
    return (
        position.sector if is_placeholder("sector", sector) else sector,
        position.mainpart if is_placeholder("mainpart", mainpart) else mainpart,
        position.dcum_text if is_placeholder("dcum", dcum) else dcum,
    )
