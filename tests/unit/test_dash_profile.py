"""The pressure profile the dashboard draws (`vac.dash.profile`): which gauges of the SCADA board
it charts, in what order, where it says the highest is, and what it leaves out and counts."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from tests.helpers import LHC_DPES
from vac.dash.profile import pressure_profile
from vac.dash.scada_board import ScadaBoard
from vac.records.positions import position_of
from vac.units import decade_ticks

T0 = 1_800_000_000.0
STAMP = "2027-01-15T08:00:00.000000Z"
PLACEHOLDERS = {"sector": "VACSECPR123", "mainpart": "LSS1", "DCUM": "125"}
"""What the shared LHC config carries for every entry: the board derives the place from the name."""


def record(dpe: str, value: Any, invalid: bool = False, **place: Any) -> dict[str, Any]:
    status = {"invalid": invalid, "out_of_range": False, "from_general_query": True, "word": 0}
    return {"id": dpe, "value": value, "timestamp": STAMP, "type": "float", "status": status,
            **PLACEHOLDERS, **place}  # fmt: skip


def board_of(*records: dict[str, Any]) -> ScadaBoard:
    board = ScadaBoard()
    for one in records:
        board.apply(one, T0)
    return board


def lhc_board(spike: str = "VGPB_2_7L8_B.PR", spike_value: float = 3.2e-7) -> ScadaBoard:
    """Every DPE of the shared LHC config (9,927), at 1e-10 to 7e-10 mbar, one at `spike_value`."""
    names = [entry["sourceDPE"] for entry in orjson.loads(LHC_DPES.read_bytes())]
    return board_of(
        *(record(name, spike_value if name == spike else 1e-10 * (1 + i % 7)) for i, name in enumerate(names))
    )


def test_a_sector_is_every_pressure_gauge_placed_in_it_by_name_in_dcum_order() -> None:
    board = lhc_board()
    wanted = {
        name for name in board.rows
        if name.endswith(".PR") and (position := position_of(name)) is not None and position.sector == "S78"
    }  # fmt: skip
    profile = pressure_profile(board.rows.values(), "sector:S78")
    assert len(wanted) > 1000  # the LHC's S78 has over a thousand gauges: the test has something to count
    assert {point.name for point in profile.points} == wanted
    assert [point.dcum for point in profile.points] == sorted(point.dcum for point in profile.points)
    assert {point.sector for point in profile.points} == {"S78"} and profile.left_out == profile.unplaced == 0
    highest = profile.highest
    assert highest is not None and highest.name == "VGPB_2_7L8_B.PR" and highest.value == 3.2e-7
    assert highest.dcum == float(position_of("VGPB_2_7L8_B.PR").dcum_text)  # type: ignore[union-attr]
    assert highest.sector == "S78" and highest.mainpart == "LSS" and highest.ok


def test_the_whole_ring_and_the_other_filter_words() -> None:
    board = lhc_board(spike="VGR_509_31R8_R.PR", spike_value=1e-6)
    ring = pressure_profile(board.rows.values(), "")
    placed = [name for name in board.rows if name.endswith(".PR") and position_of(name) is not None]
    assert len(ring.points) == len(placed) and ring.unplaced == len(board.rows) - len(placed)
    assert ring.highest is not None and ring.highest.name == "VGR_509_31R8_R.PR" and ring.highest.sector == "S81"
    arc = pressure_profile(board.rows.values(), "sector:S81 mainpart:ARC")
    assert arc.points and {(p.sector, p.mainpart) for p in arc.points} == {("S81", "ARC")}
    vgpb = pressure_profile(board.rows.values(), "VGPB* sector:S81")
    assert vgpb.points and all(p.name.startswith("VGPB") and p.sector == "S81" for p in vgpb.points)
    assert len(vgpb.points) < len(pressure_profile(board.rows.values(), "sector:S81").points)
    assert pressure_profile(board.rows.values(), "sector:S99").points == []


def test_only_chartable_pressures_with_a_dcum_are_charted_and_the_rest_is_counted() -> None:
    board = board_of(
        record("VGPB_1_12R1_B.PR", 2e-9),
        record("VGPB_2_13R1_B.PR", 5e-8, invalid=True),  # charted, flagged
        record("VVS_3_14R1_B.RR1", 1e9),  # a status word, not a pressure
        record("VGPB_4_15R1_B.PR", 0.0), record("VGPB_5_16R1_B.PR", -3e-9),
        record("VGPB_6_17R1_B.PR", 1e308), record("VGPB_7_18R1_B.PR", 1e-250),
        record("VGPB_8_19R1_B.PR", math.nan), record("VGPB_9_20R1_B.PR", math.inf),
        record("VGPB_10_21R1_B.PR", -math.inf),
        record("NOWHERE_1.PR", 1e-9, DCUM="abc"), record("NOWHERE_2.PR", 1e-9, DCUM="nan"),
        record("NOWHERE_3.PR", 1e-9, DCUM="inf"), record("NOWHERE_4.PR", 1e-9, DCUM="-5"),
        record("NOWHERE_5.PR", 1e-9, DCUM="1e12"), record("NOWHERE_6.PR", 1e-9, DCUM=""),
        record("NOWHERE_7.PR", 1e-9, DCUM="[/]\x1b[2J"), record("NOWHERE_8.PR", 1e-9, DCUM={"a": 1}),
        record("NOWHERE_9.PR", 1e-9),  # the config's placeholder DCUM, 125, and nothing in the name
        record("PLACED_BY_CONFIG.PR", 4e-10, sector="S23", mainpart="ARC", DCUM="5000.5"),
    )  # fmt: skip
    profile = pressure_profile(board.rows.values(), "", limit=1e200)
    assert [p.name for p in profile.points] == ["VGPB_1_12R1_B.PR", "VGPB_2_13R1_B.PR", "PLACED_BY_CONFIG.PR"]
    assert [p.ok for p in profile.points] == [True, False, True]  # from_general_query alone is no problem
    assert profile.points[2].dcum == 5000.5 and profile.points[2].sector == "S23"
    assert profile.left_out == 7 and profile.unplaced == 9
    assert profile.highest is not None and profile.highest.name == "VGPB_2_13R1_B.PR"  # flagged, yet highest
    unlimited = pressure_profile(board.rows.values(), "")
    assert unlimited.left_out == 5 and unlimited.highest is not None and unlimited.highest.value == 1e308


def test_nothing_to_chart_and_a_half_typed_pattern() -> None:
    empty = pressure_profile([], "sector:S78")
    assert empty.points == [] and empty.highest is None and empty.left_out == empty.unplaced == 0
    board = board_of(record("VGPB_1_12R1_B.PR", 2e-9))
    assert len(pressure_profile(board.rows.values(), "VGPB_1").points) == 1
    for half_typed in ("VGPB_[", "VG[z-a]*", "VG[!]", "sector:[", "mainpart:*[z-a"):  # match nothing, raise nothing
        assert pressure_profile(board.rows.values(), half_typed).points == [], half_typed


def test_a_tie_names_the_first_gauge_along_the_ring() -> None:
    board = board_of(record("VGPB_1_20R1_B.PR", 1e-7), record("VGPB_2_12R1_B.PR", 1e-7))
    profile = pressure_profile(board.rows.values())
    assert profile.highest is not None and profile.highest.name == "VGPB_2_12R1_B.PR"


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (2.5e-10, 3.3e-3, list(range(-10, -1))),
        (1e-9, 1e-9, [-9, -8]),  # one value: a decade around it
        (5e-9, 7e-9, [-9, -8]),
        (1e-250, 1e199, list(range(-250, 202, 41))),  # thinned to at most 12 labels, the last above
    ],
)
def test_decades_label_a_log_axis(low: float, high: float, expected: list[int]) -> None:
    assert decade_ticks(low, high) == expected
    assert len(decade_ticks(low, high)) <= 12
