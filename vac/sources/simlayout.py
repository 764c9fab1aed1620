"""Where the simulator puts each DPE, and at what pressure it sits, read from the LHC name
alone. Used only by `vac.sources.simulator`.

A name such as `VGPB_2_7L8_B.PR` carries its place (`7L8`: quadrupole 7, left of point 8)
and, after it, a letter that tells apart elements at the same place. Assumed meanings of that
letter (the LHC naming convention's beam colours and vacuum systems; the share of each in
LHC_KafkaStream.config fits them): `B` beam 1 ("blue") and `R` beam 2 ("red") beam vacuum,
`X` the common beam pipe near the experiments, `C` other beam vacuum; `M` the magnets'
insulation vacuum, `Q` the cryogenic line's (QRL) insulation vacuum. The position along the
ring is the one every other part of vac uses (`vac.records.positions`). A bump spreads only
within one vacuum system (one letter), to the gauges nearest along the ring. Names without a
place fall back to a numeric DCUM field (generated installations carry one); otherwise the DPE
has no neighbours.

Levels (log10 mbar) by family, from the DPE name's prefix (assumptions, stated in the README):
- beam vacuum, Penning (VGPB, VGP, VGPA..), Bayard-Alpert (VGI) and ion pumps (VPI*, VRP*):
  1e-11..1e-9 in the arcs (cell >= 12), 1e-10..2e-9 in the straight sections next to the
  experiments (points 1, 2, 5, 8) and the injections (left of 2, right of 8);
- insulation vacuum (M, Q) Penning: 1e-7..3e-6 (cold, cryopumped);
- Pirani gauges (VGR*): just above their floor of 5e-4 mbar in any high vacuum;
- membrane gauges (VGM*): just above their floor of 1e-3 mbar;
- pumping groups' gauges (VPG*): 1e-4..1e-3 mbar (their roughing-side gauge, valved off);
- floors: Penning and ion pumps read no lower than 1e-11, Bayard-Alpert 1e-12.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vac.records.dpe import Dpe
from vac.records.positions import RING_M, is_placeholder, position_of

_LETTER = re.compile(r"_([A-Z])\.[A-Z0-9]+$")
BEAM_SYSTEMS = frozenset("BRXC")
INSULATION_SYSTEMS = frozenset("MQ")
EXPERIMENT_POINTS = frozenset({1, 2, 5, 8})


@dataclass(frozen=True, slots=True)
class Place:
    position_m: float | None
    """Metres along the ring (approximate), or None where the name says nothing."""
    system: str
    """The vacuum system: one letter (B, R, X, C, M, Q, ...) or '?' when unknown."""
    cell: int | None
    point: int | None

    @property
    def beam_vacuum(self) -> bool:
        return self.system in BEAM_SYSTEMS or self.system == "?"


def place_of(dpe: Dpe, dcums_are_real: bool) -> Place:
    letter = _LETTER.search(dpe.name)
    system = letter[1] if letter else "?"
    position = position_of(dpe.name)
    if position is not None:
        return Place(position.dcum, system, position.cell, position.point)
    if dcums_are_real and not is_placeholder("dcum", str(dpe.dcum)):
        try:
            return Place(float(dpe.dcum) % RING_M, system, None, None)
        except ValueError:
            pass
    return Place(None, system, None, None)


def dcums_are_real(dpes: list[Dpe]) -> bool:
    """The shared LHC config says DCUM 125 everywhere: a placeholder, not a position (names
    that carry a place get theirs when the list loads; the others keep the placeholder)."""
    return len({dpe.dcum for dpe in dpes[:200]}) > 1


@dataclass(frozen=True, slots=True)
class Level:
    low: float
    high: float
    """A DPE's own level is drawn once in [low, high] (log10 mbar)."""
    floor: float
    """The gauge reads no lower (log10 mbar)."""


def level_of(dpe: Dpe, place: Place) -> Level:
    name = dpe.name
    if name.startswith("VGR"):
        return Level(-3.28, -3.22, -3.301)  # Pirani: floor 5e-4
    if name.startswith("VGM"):
        return Level(-2.97, -2.93, -3.0)  # membrane: floor 1e-3
    if name.startswith("VPG"):
        return Level(-4.0, -3.0, -4.5)
    floor = -12.0 if name.startswith("VGI") else -11.0
    if place.system in INSULATION_SYSTEMS:
        return Level(-7.0, -5.5, floor)
    near_experiment = place.cell is not None and place.cell < 12 and place.point in EXPERIMENT_POINTS
    if near_experiment:
        return Level(-10.0, -8.7, floor)
    return Level(-10.9, -9.0, floor)
