"""The timeline's merge: sectors from names, thinned values, alarm moments, log records, one
order; and `vac timeline`'s usage errors."""

from __future__ import annotations

import pytest

from tests.helpers import run_vac
from vac.alarms.book import Alarm
from vac.alarms.timeline import alarm_entries, in_sector, log_entries, merge, parse_sector, value_entries

T0 = 1_800_000_000.0


def test_sectors_by_name() -> None:
    s78 = parse_sector("S78")
    assert parse_sector("81") == (8, 1)
    assert in_sector("VGPB_2_7R7_B.PR", s78) and in_sector("VGPB_2_12L8_R.PR", s78)
    assert not in_sector("VGPB_2_7L7_B.PR", s78) and not in_sector("VGPB_683034_B.PR", s78)


@pytest.mark.parametrize("text", ["S79", "S11", "S", "", "S7\x1b8", "S99", "S123"])
def test_sectors_that_are_not(text: str) -> None:
    with pytest.raises(ValueError, match="sector"):
        parse_sector(text)


def test_values_alarms_and_logs_merge_by_time() -> None:
    records = [(T0 + n, {"id": "VGPB_1_7R7_B.PR", "value": 1e-10 * (1.01 if n % 2 else 1)}) for n in range(10)]
    records += [(T0 + 20, {"id": "VGPB_1_7R7_B.PR", "value": 1e-8}), (T0 + 21, {"id": "VGI_1_3L1_B.PR", "value": 1.0}),
                (T0 + 22, {"id": "VGPB_1_7R7_B.PR", "value": "high"}), (T0 + 23, ["not", "a", "record"])]  # fmt: skip
    values = value_entries(records, lambda name: in_sector(name, (7, 8)))  # type: ignore[arg-type]
    assert [(e.at_s - T0, e.text) for e in values] == [(0, "1e-10"), (20, "1e-08")]  # noise thinned away
    alarm = Alarm("VGPB_1_7R7_B.PR", "above", "m", T0 + 25, cleared_s=T0 + 90, acked_by="alice", acked_s=T0 + 30)
    alarms = alarm_entries([alarm], lambda name: True, T0, T0 + 60)
    assert [(e.text.split(":")[0], e.level) for e in alarms] == [
        ("above raised", "raised"),
        ("above acked by alice", "acked"),
    ]
    logs = log_entries([
        {"@timestamp": "2027-01-15T08:00:25Z", "level": "SEVERE", "manager": "WCCOActrl", "text": "Pump tripped",
         "params": ["VPIA_1_7R7_B", "HV off"], "host": {"name": "cs-ccr-vac1"}},
        {"@timestamp": "not a time"}, {"level": "INFO"},
    ])  # fmt: skip
    assert [(e.text, e.level, e.subject) for e in logs] == [("Pump tripped, VPIA_1_7R7_B, HV off", "SEVERE",
                                                              "cs-ccr-vac1 WCCOActrl")]  # fmt: skip
    merged = merge(logs, alarms, values)
    assert [e.at_s for e in merged] == sorted(e.at_s for e in merged)
    assert merged[-1].source == "log" or merged[-1].at_s >= merged[-2].at_s


@pytest.mark.parametrize(
    "args",
    [
        ["--around", "yesterday-ish"],
        ["--around", "10m", "--sector", "S79"],
        ["--around", "10m", "--window", "0m"],
        ["--around", "10m", "--sector", "\x1b[2J"],
    ],
)
def test_usage_errors(args: list[str]) -> None:
    result = run_vac("timeline", *args, env={"VAC_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("vac: error:") and "\x1b" not in result.stderr


def test_a_code_0_record_reads_from_its_params() -> None:
    doc = {"@timestamp": "2027-01-15T08:00:25Z", "level": "INFO", "text": "", "message": "WCCILdata (0), ... whole",
           "params": ["Manager (SYS: 1 Ctrl -num 3 CONN: 1) initialised"]}  # fmt: skip
    assert [e.text for e in log_entries([doc])] == ["Manager (SYS: 1 Ctrl -num 3 CONN: 1) initialised"]
