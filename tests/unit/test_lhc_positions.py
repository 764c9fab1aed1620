"""Name -> (sector, main part, DCUM) on real LHC vacuum DPE names, the count of the shared
config's 9,927 DPEs that get a position, placeholders against real config values, and names
built to break the rules."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.helpers import LHC_DPES
from vac.dash.scada_board import ScadaBoard
from vac.records.positions import HALF_CELL_M, IP_DCUM, RING_M, position_of, resolve_place
from vac.scada.dpes import load_dpes


@pytest.mark.parametrize(
    ("name", "sector", "mainpart", "point", "cell", "side"),
    [
        ("VGPB_2_7L8_B.PR", "S78", "LSS", 8, 7, "L"),  # the example: Q7 left of IP8
        ("VGPB_189_5R1_R.PR", "S12", "LSS", 1, 5, "R"),  # right of IP1
        ("VGPB_9_4L1_X.PR", "S81", "LSS", 1, 4, "L"),  # left of IP1: the sector that closes the ring
        ("VGI_A1L1_G.PR", "S81", "LSS", 1, 1, "L"),  # letter-prefixed cell (element A of Q1)
        ("VG_IsolVacExport_A_ACS5L4_M.PR", "S34", "LSS", 4, 5, "L"),  # the RF cavities left of IP4
        ("VGI_1025_5L4_B.PR", "S34", "LSS", 4, 5, "L"),
        ("VGFH_622_5R4_R.PR", "S45", "LSS", 4, 5, "R"),
        ("VPGMPR_792_5R4_Q.PR", "S45", "LSS", 4, 5, "R"),
        ("VGPB_14_5L2_B.PR", "S12", "LSS", 2, 5, "L"),
        ("VPIB_679_6R7_B.PR", "S78", "LSS", 7, 6, "R"),
        ("VPGM_505_7R3_Q.PR", "S34", "LSS", 3, 7, "R"),
        ("VPGM_499_8L1_B.PR", "S81", "DS", 1, 8, "L"),
        ("VGM_517_11R5_M.PR", "S56", "DS", 5, 11, "R"),
        ("VGR_482_12L2_M.PR", "S12", "ARC", 2, 12, "L"),
        ("VGR_487_20R3_M.PR", "S34", "ARC", 3, 20, "R"),
        ("VGR_509_31R8_R.PR", "S81", "ARC", 8, 31, "R"),
        ("VPGM_487_34R4_M.PR", "S45", "ARC", 4, 34, "R"),
        ("VPGM_484_34L5_M.PR", "S45", "ARC", 5, 34, "L"),
        ("VGPC_PE111_IP8_VE.PR", "S78", "LSS", 8, 0, ""),  # LHCb's experimental vacuum, at the point
    ],
)
def test_real_names_give_sector_mainpart_and_side(
    name: str, sector: str, mainpart: str, point: int, cell: int, side: str
) -> None:
    position = position_of(name)
    assert position is not None
    assert (position.sector, position.mainpart, position.point, position.cell, position.side) == (
        sector,
        mainpart,
        point,
        cell,
        side,
    )
    assert 0 <= position.dcum < RING_M


def test_dcum_is_the_point_plus_or_minus_the_distance_and_wraps_at_ip1() -> None:
    at_ip8 = position_of("VGPC_PE111_IP8_VE.PR")
    left, right = position_of("VGPB_2_7L8_B.PR"), position_of("VGPB_2_7R8_B.PR")
    assert at_ip8 is not None and left is not None and right is not None
    assert at_ip8.dcum == IP_DCUM[8]
    assert left.dcum == pytest.approx(IP_DCUM[8] - 268.0) and right.dcum == pytest.approx(IP_DCUM[8] + 268.0)
    ip1_left, ip1_right = position_of("VGPB_9_4L1_X.PR"), position_of("VGPB_9_4R1_X.PR")
    assert ip1_left is not None and ip1_right is not None
    assert ip1_left.dcum == pytest.approx(RING_M - 165.0) and ip1_right.dcum == pytest.approx(165.0)


def test_a_sector_runs_in_dcum_order_from_one_point_to_the_next() -> None:
    """Right of IP7 up to Q34, then left of IP8 back down to Q1: DCUM strictly increases, arc
    quadrupoles are one half-cell apart, and the two Q34s face each other across the middle."""
    names = [f"VGR_1_{cell}R7_M.PR" for cell in range(1, 35)] + [f"VGR_1_{cell}L8_M.PR" for cell in range(34, 0, -1)]
    positions = [position_of(name) for name in names]
    assert all(p is not None and p.sector == "S78" for p in positions)
    dcums = [p.dcum for p in positions if p is not None]
    assert dcums == sorted(dcums) and len(set(dcums)) == len(dcums)
    assert IP_DCUM[7] < dcums[0] and dcums[-1] < IP_DCUM[8]
    arc = dcums[11:34]  # Q12R7 .. Q34R7
    assert [round(b - a, 2) for a, b in zip(arc, arc[1:], strict=False)] == [HALF_CELL_M] * 22
    assert dcums[34] - dcums[33] == pytest.approx(HALF_CELL_M)  # Q34R7 -> Q34L8
    middle = (IP_DCUM[7] + IP_DCUM[8]) / 2
    assert dcums[33] < middle < dcums[34]


def test_every_arc_fills_its_octant_without_overlap() -> None:
    for point in range(1, 9):
        nxt = point % 8 + 1
        last_right = position_of(f"VGR_1_34R{point}_M.PR")
        last_left = position_of(f"VGR_1_34L{nxt}_M.PR")
        assert last_right is not None and last_left is not None
        gap = (last_left.dcum - last_right.dcum) % RING_M
        assert gap == pytest.approx(HALF_CELL_M)


def test_count_of_the_shared_lhc_config_that_gets_a_position() -> None:
    """9,538 of the 9,927 real DPEs carry a ring position in their names; the 389 others are
    transfer lines (TI2/TI8 as 62xxxx/68xxxx), radiation monitors (VRPIT*), mobile pumping
    groups, per-sector QRL exports and UJ caverns (scripts/lhc_positions.py lists them)."""
    names = [entry["sourceDPE"] for entry in orjson.loads(LHC_DPES.read_bytes())]
    unplaced = [name for name in names if position_of(name) is None]
    assert (len(names), len(names) - len(unplaced)) == (9_927, 9_538)
    for example in ("VGPB_623034_R.PR", "VPG_MOBILE_SIMCARD_6422.PR", "VG_IsolVacExport_A12_Q.PR"):
        assert example in unplaced


def test_loading_the_lhc_config_replaces_its_placeholders() -> None:
    dpes = {dpe.name: dpe for dpe in load_dpes(LHC_DPES)}
    gauge = dpes["VGPB_2_7L8_B.PR"]
    assert (gauge.sector, gauge.mainpart, gauge.dcum) == ("S78", "LSS", f"{IP_DCUM[8] - 268.0:.0f}")
    transfer_line = dpes["VGPB_623034_R.PR"]
    assert (transfer_line.sector, transfer_line.mainpart, transfer_line.dcum) == ("VACSECPR123", "LSS1", "125")
    assert sum(dpe.sector.startswith("S") and dpe.sector != "VACSECPR123" for dpe in dpes.values()) == 9_538


def test_real_config_values_win_field_by_field(tmp_path: Path) -> None:
    entries = [
        {
            "sourceDPE": "VGPB_2_7L8_B.PR",
            "topic": "vac.lhc.pressures",
            "sector": "VSEC-7L8",
            "mainpart": "LSS8",
            "DCUM": "23047.5",
        },
        {
            "sourceDPE": "VGPB_3_7L8_B.PR",
            "topic": "vac.lhc.pressures",
            "sector": "VSEC-7L8",
            "mainpart": "LSS1",
            "DCUM": "125",
        },
        {"sourceDPE": "VGPB_4_7L8_B.PR", "topic": "vac.lhc.pressures"},
    ]
    path = tmp_path / "dpes.json"
    path.write_bytes(orjson.dumps(entries))
    dpes = {dpe.name: dpe for dpe in load_dpes(path)}
    assert (dpes["VGPB_2_7L8_B.PR"].sector, dpes["VGPB_2_7L8_B.PR"].mainpart, dpes["VGPB_2_7L8_B.PR"].dcum) == (
        "VSEC-7L8",
        "LSS8",
        "23047.5",
    )
    assert (dpes["VGPB_3_7L8_B.PR"].sector, dpes["VGPB_3_7L8_B.PR"].mainpart) == ("VSEC-7L8", "LSS")
    assert dpes["VGPB_4_7L8_B.PR"].sector == "S78"  # no place in the config at all


@pytest.mark.parametrize(
    "name",
    [
        "VGPB_2_7L9_B.PR",  # there is no point 9
        "VGPB_2_0L8_B.PR",  # no quadrupole 0
        "VGPB_2_7X8_B.PR",
        "VGPB_2_7L8B.PR",  # not a separate part of the name
        "VGPB_2_123L8_B.PR",  # three-digit cells do not exist
        "VGPB_2_IP9_VE.PR",
        "VGPB_[red]7L8[/red].PR",
        "\x1b[31mVGPB_2_7L8\x1b[0m",
        "VGPB_2_\u0667L8_B.PR",  # an Arabic-Indic digit: str.isdigit says yes, the rule says no
        "VGPB_\udcff_7L8",  # a surrogate-escaped byte that was not UTF-8
        "",
        "_" * 100_000,
    ],
)
def test_names_built_to_break_the_rules_get_no_position_or_a_sane_one(name: str) -> None:
    position = position_of(name)
    if position is not None:  # the surrogate case still has a clean `_7L8` part
        assert position.sector == "S78" and 0 <= position.dcum < RING_M
    else:
        assert resolve_place(name, "VACSECPR123", "LSS1", "125") == ("VACSECPR123", "LSS1", "125")


def test_the_dash_filters_on_derived_positions_even_for_placeholder_records() -> None:
    board = ScadaBoard()
    for name in ("VGPB_2_7L8_B.PR", "VGR_509_31R8_R.PR", "VGPB_623034_R.PR"):
        board.apply(
            {"id": name, "value": 1e-9, "sector": "VACSECPR123", "mainpart": "LSS1", "DCUM": "125"}, fallback_s=0.0
        )
    assert [row.name for row in board.matching("sector:S78")] == ["VGPB_2_7L8_B.PR"]
    assert [row.name for row in board.matching("mainpart:ARC")] == ["VGR_509_31R8_R.PR"]
    by_dcum = [row.name for row in board.matching("", sort="dcum")]
    assert by_dcum.index("VGPB_2_7L8_B.PR") < by_dcum.index("VGR_509_31R8_R.PR")
    assert board.rows["VGPB_623034_R.PR"].sector == "VACSECPR123"
