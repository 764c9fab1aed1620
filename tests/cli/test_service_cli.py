"""`vac service` as root meets it on a SCADA server, and vac's lines in the journal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

from commands.output import LOG_FORMAT, JournalFormatter
from tests.helpers import VAC, error_line, run_vac


def test_unit_prints_the_unit_and_json_carries_it() -> None:
    text = run_vac("service", "unit", "ship-logs", "--keytab", "/etc/vac/vac.keytab")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("# vac-ship-logs.service")
    assert f'ExecStart="{VAC}" "--config" "/etc/vac/vac.yaml" "ship" "logs"' in text.stdout
    # Only the warning about a Python under /root (pyenv on this machine) may come; the unit text is whole.
    assert all(line.startswith("vac: WARNING: ") for line in text.stderr.splitlines()), text.stderr
    machine = run_vac("service", "unit", "ship-logs", "--keytab", "/etc/vac/vac.keytab", "-o", "json")
    assert machine.returncode == 0, machine.stderr
    assert json.loads(machine.stdout) == {"job": "ship-logs", "unit_name": "vac-ship-logs.service", "unit": text.stdout}


def test_arguments_after_the_double_dash_go_to_the_job() -> None:
    result = run_vac(
        "service", "unit", "stream-scada", "--vac", "/opt/vac/bin/vac", "--", "--source", "tcp://:7777", "--dpes",
        "/etc/vac/LHC_KafkaStream.config",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        'ExecStart="/opt/vac/bin/vac" "--config" "/etc/vac/vac.yaml" "stream" "scada" "--source" "tcp://:7777" '
        '"--dpes" "/etc/vac/LHC_KafkaStream.config"\n'
    ) in result.stdout


def test_install_writes_refuses_to_overwrite_and_says_what_next(tmp_path: Path) -> None:
    units = tmp_path / "system"
    first = run_vac("service", "install", "index", "--dir", str(units), "--user", "nosuchuser")
    assert first.returncode == 0, first.stderr
    unit = units / "vac-index.service"
    assert first.stdout == ""
    assert f"written {unit}" in first.stderr
    assert "useradd --system --home-dir /var/lib/vac --shell /usr/sbin/nologin nosuchuser" in first.stderr
    assert "systemctl daemon-reload" in first.stderr and "systemctl enable --now vac-index.service" in first.stderr
    assert "User=nosuchuser\n" in unit.read_text()

    again = run_vac("service", "install", "index", "--dir", str(units), "--user", "nosuchuser", "-o", "json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["outcome"], report["path"]) == ("unchanged", str(unit))
    assert report["next_steps"][-1] == "journalctl -u vac-index.service -f"

    other = run_vac("service", "install", "index", "--dir", str(units))
    assert other.returncode == 2
    assert error_line(other) == f"vac: error: {unit} exists and differs from this unit"
    assert "--force" in other.stderr
    assert "User=nosuchuser\n" in unit.read_text()
    forced = run_vac("service", "install", "index", "--dir", str(units), "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"replaced {unit}" in forced.stderr
    assert "User=vac\n" in unit.read_text()


def test_hostile_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        (["--user", "vac\nExecStartPre=/bin/sh"], "vac: error: user 'vac\\nExecStartPre=/bin/sh': control characters"),
        (["--config", "etc/vac.yaml"], "vac: error: config 'etc/vac.yaml': not an absolute path"),
        (["--keytab", "/etc/vac/[red]k\x1b[2J"], "vac: error: keytab '/etc/vac/[red]k\\x1b[2J': control characters"),
        (["--user", "Robert'); DROP"], 'vac: error: user "Robert\'); DROP": not a valid name'),
    ]
    for options, expected in cases:
        result = run_vac("service", "install", "ship-logs", "--dir", str(tmp_path), *options)
        assert result.returncode == 2, result.stderr
        assert error_line(result).startswith(expected), result.stderr
        assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written
    scada = run_vac("service", "unit", "stream-scada")
    assert scada.returncode == 2
    assert error_line(scada) == "vac: error: stream-scada needs its source after '--'"
    unknown = run_vac("service", "unit", "ship")
    assert unknown.returncode == 2
    assert "'ship' is not one of 'ship-logs', 'index', 'stream-scada'" in unknown.stderr


def test_help_has_examples() -> None:
    for command in (["service"], ["service", "unit"], ["service", "install"]):
        result = run_vac(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Example" in result.stdout


def test_the_units_environment_is_what_vac_reads(tmp_path: Path) -> None:
    """The keytab and principal a unit sets reach vac's settings through its own variables."""
    config = tmp_path / "vac.yaml"
    config.write_text("kafka:\n  security:\n    protocol: SASL_SSL\n    sasl_mechanism: GSSAPI\n")
    unit = run_vac(
        "service", "unit", "index", "--keytab", "/etc/vac/vac.keytab", "--principal", "vac/scada1@CERN.CH", "-o", "json"
    )  # fmt: skip
    env = {}
    for line in json.loads(unit.stdout)["unit"].splitlines():
        if line.startswith('Environment="'):
            name, _, value = line.removeprefix('Environment="').removesuffix('"').partition("=")
            env[name] = value
    shown = run_vac("--config", str(config), "config", "show", "-o", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    security = json.loads(shown.stdout)["kafka"]["security"]
    assert security["kerberos_keytab"] == "/etc/vac/vac.keytab"
    assert security["kerberos_principal"] == "vac/scada1@CERN.CH"


def run_with_stderr_file(tmp_path: Path, args: list[str], journal: str | None) -> str:
    """Run vac with stderr going to a file, JOURNAL_STREAM naming that file (as systemd names
    the journal's stream) or `journal`; its stderr."""
    log = tmp_path / "stderr.log"
    with open(log, "w") as stderr:
        status = os.fstat(stderr.fileno())
        env = {**os.environ, "NO_COLOR": "1"}
        env["JOURNAL_STREAM"] = journal if journal is not None else f"{status.st_dev}:{status.st_ino}"
        subprocess.run([VAC, *args], stdout=subprocess.DEVNULL, stderr=stderr, env=env, timeout=60, check=False)
    return log.read_text()


def test_errors_carry_their_priority_only_into_the_journal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka:\n  bootstrap_server: x\n")
    args = ["--config", str(bad), "config", "show"]
    journal = run_with_stderr_file(tmp_path, args, None)
    lines = journal.splitlines()
    assert lines and all(line.startswith("<3>") for line in lines), journal
    assert lines[0].startswith("<3>vac: error: ")
    # A child of a service whose stderr was redirected elsewhere inherits JOURNAL_STREAM: plain.
    elsewhere = run_with_stderr_file(tmp_path, args, "1:2")
    assert elsewhere.startswith("vac: error: ") and "<3>" not in elsewhere
    garbage = run_with_stderr_file(tmp_path, args, "not:a:stream")
    assert garbage.startswith("vac: error: ")


def test_log_lines_carry_their_syslog_priority() -> None:
    formatter = JournalFormatter(LOG_FORMAT)
    for level, priority in ((logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6), (logging.DEBUG, 7)):
        record = logging.LogRecord("vac.logs", level, __file__, 1, "skipped %s", ("a\nb",), None)
        assert formatter.format(record) == f"<{priority}>vac: {logging.getLevelName(level)}: skipped a\nb"
