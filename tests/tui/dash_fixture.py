"""A dashboard with known contents and a pinned clock, for Pilot tests and snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from tui.app import VacDash
from vac.dash.pipeline import PipelineSnapshot
from vac.dash.state import DashState
from vac.settings import VacSettings

NOW = datetime(2026, 11, 28, 3, 7, 30, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def change(dpe: str, value: float, seconds_ago: float, invalid: bool = False, sector: str = "VACSEC7R") -> bytes:
    status = {"invalid": invalid, "out_of_range": False, "default": False, "from_general_query": False,
              "inactive": False, "word": 0}  # fmt: skip
    record = {"id": dpe, "value": value, "timestamp": iso(NOW - timedelta(seconds=seconds_ago)), "sector": sector,
              "mainpart": "ARC78", "DCUM": "23000", "type": "float", "status": status}  # fmt: skip
    return orjson.dumps(record)


def alarm_state(dpe: str, kind: str, message: str, seconds_ago: float, cleared_ago: float | None = None) -> bytes:
    """A state message of the alarm topic, as `vac alarms watch` publishes it."""
    raised_s = NOW.timestamp() - seconds_ago
    return orjson.dumps({
        "type": "state", "dpe": dpe, "kind": kind, "message": message, "raised_s": raised_s,
        "cleared_s": None if cleared_ago is None else NOW.timestamp() - cleared_ago, "value": None, "host": "h",
    })  # fmt: skip


def log_doc(offset: int, level: str, manager: str, number: int, text: str, seconds_ago: float) -> bytes:
    message = f"{manager}    (2), 2026.11.28 04:07:00.000, CTRL, {level}, {number}, {text}"
    return orjson.dumps({
        "@timestamp": iso(NOW - timedelta(seconds=seconds_ago)), "message": message, "level": level, "type": "CTRL",
        "number": number, "manager": manager, "text": text, "fields": {"app_id": "vac_lhc_1_scada_logs"},
        "host": {"name": "cs-ccr-vac1"}, "log": {"file": {"path": "/logs/PVSS_II.log"}, "offset": offset},
        "event": {"id": f"k-{offset}"},
    })  # fmt: skip


def filled_state() -> DashState:
    state = DashState(VacSettings(), clock=NOW.timestamp)
    state.take_scada([
        ("pressures", change("VGPB_1_100.PR", 2.5e-10, 4), 0),
        ("pressures", change("VGPB_2_200.PR", 4.2e-8, 2), 0),  # above the beam vacuum limit
        ("pressures", change("VGI_3_300.PR", 1.1e-6, 12, invalid=True, sector="VACSEC1L"), 0),
        ("pressures", change("VGR_4_400.PR", 3.3e-3, 30, sector="VACSEC1L"), 0),
    ])  # fmt: skip
    state.take_alarms([
        ("vac.alarms", alarm_state("VGI_3_300.PR", "invalid", "invalid value", 12), 0),
        ("vac.alarms", alarm_state("VGPB_2_200.PR", "above", "42.0e-9 mbar above 10.0e-9", 2), 0),
    ])  # fmt: skip
    state.take_logs([
        ("vac.logs", log_doc(0, "INFO", "WCCILsim", 6, "Initialization by Data Manager finished", 600), 0),
        ("vac.logs", log_doc(100, "WARNING", "WCCOActrl", 71, "Connection lost to VGPB_2_200", 300), 0),
        ("vac.logs", log_doc(200, "SEVERE", "WCCILdist", 39, "Connection lost\nLine: 17", 120), 0),
        ("vac.logs", log_doc(300, "SEVERE", "WCCILdist", 39, "Connection lost", 60), 0),
        ("vac.logs", log_doc(400, "INFO", "WCCOActrl", 4, "Connection to (SYS: 1 Event) established", 30), 0),
    ])  # fmt: skip
    streamer = {"host": "cs-ccr-vac1", "component": "stream-scada", "time": iso(NOW - timedelta(seconds=3)),
                "rate": 9950.0, "in_flight": 12, "failed": 0, "invalid_input": 2}  # fmt: skip
    shipper = {"host": "cs-ccr-vac2", "component": "ship-logs", "time": iso(NOW - timedelta(seconds=95)),
               "lines_per_s": 120.0, "files": [{"behind_bytes": 4096}], "failed": 0}  # fmt: skip
    state.take_health([("vac.health", orjson.dumps(streamer), 0), ("vac.health", orjson.dumps(shipper), 0)])
    state.take_pipeline(PipelineSnapshot(checked_s=1.0, kafka_up=True, brokers=1, es_status="green",
                                          rates={"pressures": 9950.0, "vac.logs": 120.0, "vac.health": 0.2},
                                          index_lag=42))  # fmt: skip
    return state


def dashboard(screen: str = "overview") -> VacDash:
    return VacDash(filled_state(), feeds=None, screen=screen, clock=NOW.timestamp)
