"""The systemd units of `vac service`: what they say, that systemd accepts them, and that no
value can break out of its setting."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import VAC
from vac.errors import UsageError
from vac.service import JOBS, UnitOptions, hidden_interpreter, install_unit, next_steps, render_unit, unit_name

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")


def options(**changes: object) -> UnitOptions:
    return UnitOptions(**{"vac": Path(VAC), **changes})  # type: ignore[arg-type]


def settings_of(text: str) -> list[tuple[str, str]]:
    """(key, value) of every setting line, comments and section headers left out."""
    lines = [line for line in text.splitlines() if line and not line.startswith(("#", "["))]
    return [(key, value) for key, _, value in (line.partition("=") for line in lines)]


def unquote(value: str, in_command: bool = False) -> list[str]:
    """The words systemd reads from a setting's value: double quotes, C escapes, `%%`, and in
    Exec lines `$$` (the subset vac writes; anything else in it is a failure here)."""
    words: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == " ":
            i += 1
            continue
        assert value[i] == '"', f"unquoted word at {i}: {value!r}"
        i += 1
        word = []
        while value[i] != '"':
            char = value[i]
            if char == "\\":
                assert value[i + 1] in '\\"', f"unexpected escape in {value!r}"
                word.append(value[i + 1])
                i += 2
            elif char in "%$" and (char == "%" or in_command):
                assert value[i + 1] == char, f"a lone {char} systemd would expand, in {value!r}"
                word.append(char)
                i += 2
            else:
                word.append(char)
                i += 1
        words.append("".join(word))
        i += 1
    return words


def exec_start(text: str) -> list[str]:
    (value,) = [value for key, value in settings_of(text) if key == "ExecStart"]
    return unquote(value, in_command=True)


def environment(text: str) -> dict[str, str]:
    found = {}
    for key, value in settings_of(text):
        if key == "Environment":
            (word,) = unquote(value)
            name, _, setting = word.partition("=")
            found[name] = setting
    return found


@pytest.mark.parametrize("job", ["ship-logs", "index"])
def test_a_unit_runs_the_job_as_its_user_restarts_it_and_drains_it(job: str) -> None:
    text = render_unit(job, options())
    settings = dict(settings_of(text))
    assert exec_start(text) == [VAC, "--config", "/etc/vac/vac.yaml", *JOBS[job].command]
    assert settings["User"] == "vac"
    assert settings["Type"] == "exec"
    assert settings["Restart"] == "on-failure"
    assert settings["RestartPreventExitStatus"] == "2"  # a config error needs a person
    assert settings["KillSignal"] == "SIGTERM"
    assert int(settings["TimeoutStopSec"]) == JOBS[job].stop_timeout_s >= 60
    assert settings["SyslogIdentifier"] == f"vac-{job}"
    assert settings["StateDirectory"] == "vac"
    assert settings["ProtectSystem"] == "strict"
    assert settings["ProtectHome"] == "yes"
    assert settings["NoNewPrivileges"] == "yes"
    env = environment(text)
    assert env["NO_COLOR"] == "1"
    assert env["KRB5CCNAME"] == f"FILE:/run/vac-{job}/krb5cc"
    assert settings["RuntimeDirectory"] == f"vac-{job}"  # where that ticket cache lives
    assert "VAC_KAFKA__SECURITY__KERBEROS_KEYTAB" not in env


def test_the_keytab_principal_and_krb5_config_reach_vac_and_kerberos() -> None:
    text = render_unit(
        "ship-logs",
        options(
            keytab=Path("/etc/vac/vac.keytab"), principal="vac/scada1.cern.ch@CERN.CH", krb5_config=Path("/etc/k5")
        ),
    )
    env = environment(text)
    assert env["VAC_KAFKA__SECURITY__KERBEROS_KEYTAB"] == "/etc/vac/vac.keytab"
    assert env["KRB5_CLIENT_KTNAME"] == "FILE:/etc/vac/vac.keytab"
    assert env["VAC_KAFKA__SECURITY__KERBEROS_PRINCIPAL"] == "vac/scada1.cern.ch@CERN.CH"
    assert env["KRB5_CONFIG"] == "/etc/k5"


def test_log_dirs_stay_readable_and_groups_open_them() -> None:
    text = render_unit(
        "ship-logs",
        options(log_dirs=(Path("/opt/vacin/PVSS_projects"),), supplementary_groups=("winccoa",), group="vacgrp"),
    )
    settings = dict(settings_of(text))
    assert settings["ReadOnlyPaths"] == "-/opt/vacin/PVSS_projects"
    assert settings["SupplementaryGroups"] == "winccoa"
    assert settings["Group"] == "vacgrp"
    assert settings["ProtectHome"] == "yes"
    # WinCC OA projects under a home directory: homes become read-only instead of hidden.
    home = dict(settings_of(render_unit("ship-logs", options(log_dirs=(Path("/home/scada/PVSS_projects"),)))))
    assert home["ProtectHome"] == "read-only"


def test_stream_scada_needs_a_source_and_gets_its_arguments() -> None:
    with pytest.raises(UsageError, match="needs its source"):
        render_unit("stream-scada", options())
    args = ("--source", "tcp://:7777", "--dpes", "/etc/vac/LHC_KafkaStream.config", "--max-silence", "300")
    text = render_unit("stream-scada", options(extra_args=args))
    assert exec_start(text)[-8:] == ["stream", "scada", *args]
    assert exec_start(render_unit("stream-scada", options(extra_args=("--source=mqtt://b:1883/x/#",))))[-1] == (
        "--source=mqtt://b:1883/x/#"
    )


HOSTILE_ARGS = [
    '--path=/logs/"quoted" and spaced/*.log',
    "--app-id=100%_%n%%",  # systemd specifiers
    "--where=$HOME ${PATH} $$",  # systemd's variable expansion in Exec lines
    "back\\slash\\",
    "'single'",
    "; rm -rf / #",
    "ExecStartPre=/bin/sh",
    "ünïcødé €",
]


def test_hostile_arguments_come_back_exactly_as_given() -> None:
    text = render_unit("stream-scada", options(extra_args=("--source", "sim", *HOSTILE_ARGS)))
    assert exec_start(text)[-len(HOSTILE_ARGS) :] == HOSTILE_ARGS
    assert len([line for line in text.splitlines() if line.startswith("ExecStart")]) == 1


def test_hostile_paths_come_back_exactly_as_given() -> None:
    config = Path('/etc/vac/100% "odd" $conf\\ig.yaml')
    keytab = Path("/etc/vac/%h/key tab")
    text = render_unit("index", options(config=config, keytab=keytab))
    assert exec_start(text)[1:3] == ["--config", str(config)]
    assert environment(text)["VAC_KAFKA__SECURITY__KERBEROS_KEYTAB"] == str(keytab)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user": "vac user"}, "user 'vac user': not a valid name"),
        ({"user": "vac\nExecStartPre=/bin/sh"}, "control characters"),
        ({"user": "root;"}, "not a valid name"),
        ({"user": ""}, "not a valid name"),
        ({"user": "x" * 33}, "not a valid name"),
        ({"user": "[bold]vac"}, "not a valid name"),
        ({"group": "Wheel Group"}, "group 'Wheel Group'"),
        ({"supplementary_groups": ("winccoa", "a\tb")}, "control characters"),
        ({"config": Path("vac.yaml")}, "config 'vac.yaml': not an absolute path"),
        ({"config": Path("/etc/vac/../../root/vac.yaml")}, "contains '..'"),
        ({"config": Path("/etc/vac/vac.yaml\n[Service]\nUser=root")}, "control characters"),
        ({"config": Path("/home/ops/vac.yaml")}, "under a home directory"),
        ({"vac": Path("/root/.venv/bin/vac")}, "under a home directory"),
        ({"vac": Path("bin/vac")}, "not an absolute path"),
        ({"keytab": Path("vac.keytab")}, "keytab 'vac.keytab': not an absolute path"),
        ({"keytab": Path("/etc/vac/\x1b]0;pwned\x07")}, "control characters"),
        ({"krb5_config": Path("/run/user/0/krb5.conf")}, "under a home directory"),
        ({"principal": "vac @REALM"}, "not a Kerberos principal"),
        ({"principal": "vac\r\nUser=root"}, "control characters"),
        ({"log_dirs": (Path("logs"),)}, "log dir 'logs': not an absolute path"),
        ({"log_dirs": (Path("/opt/with space"),)}, "spaces, quotes and backslashes"),
        ({"log_dirs": (Path("/opt/\u2028x"),)}, "control characters"),
        ({"extra_args": ("--source", "sim", "--x\n")}, "control characters"),
        ({"extra_args": ("--source", "x" * 5000)}, "too long"),
        ({"restart_sec": 0}, "restart delay"),
        ({"stop_timeout_s": 86400}, "stop timeout"),
    ],
)
def test_hostile_options_are_refused_in_one_line(changes: dict[str, object], message: str) -> None:
    job = "stream-scada" if "extra_args" in changes else "ship-logs"
    with pytest.raises(UsageError, match=None) as refused:
        render_unit(job, options(**changes))
    assert message in refused.value.message
    assert "\n" not in refused.value.message


def test_an_unknown_job_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown job 'ship'"):
        render_unit("ship", options())


def test_install_writes_keeps_and_replaces_only_when_forced(tmp_path: Path) -> None:
    text = render_unit("index", options())
    first = install_unit("index", text, tmp_path / "units")
    assert (first.outcome, first.path) == ("written", tmp_path / "units" / "vac-index.service")
    assert first.path.read_text() == text
    assert first.path.stat().st_mode & 0o777 == 0o644
    assert install_unit("index", text, tmp_path / "units").outcome == "unchanged"
    other = render_unit("index", options(user="vacidx"))
    with pytest.raises(UsageError, match="exists and differs"):
        install_unit("index", other, tmp_path / "units")
    assert first.path.read_text() == text  # kept
    assert install_unit("index", other, tmp_path / "units", force=True).outcome == "replaced"
    assert first.path.read_text() == other
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == ["vac-index.service"]  # no temporary left


def test_install_into_an_unwritable_place_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot write") as refused:
        install_unit("index", render_unit("index", options()), blocker)
    assert refused.value.hint and "--dir" in refused.value.hint


def test_next_steps_create_the_user_only_when_missing_and_quote_paths() -> None:
    spaced = options(keytab=Path("/etc/vac/my keytab"), principal="vac@CERN.CH")
    steps = next_steps("ship-logs", spaced, user_exists=False)
    assert steps[0].startswith("useradd --system")
    assert "chown vac: '/etc/vac/my keytab'" in steps[1]
    assert "VAC_KAFKA__SECURITY__KERBEROS_KEYTAB='/etc/vac/my keytab'" in steps[2] and steps[2].endswith("doctor")
    assert steps[-2:] == [f"systemctl enable --now {unit_name('ship-logs')}", "journalctl -u vac-ship-logs.service -f"]
    assert not any(step.startswith("useradd") for step in next_steps("index", options(), user_exists=True))


def verify(tmp_path: Path, job: str, text: str) -> subprocess.CompletedProcess[str]:
    unit = tmp_path / unit_name(job)
    unit.write_text(text)
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )


@needs_systemd_analyze
@pytest.mark.parametrize(
    ("job", "changes"),
    [
        ("ship-logs", {}),
        ("ship-logs", {"keytab": Path("/etc/vac/vac.keytab"), "principal": "vac/h@R", "log_dirs": (Path("/opt/x"),)}),
        ("index", {"group": "vac", "supplementary_groups": ("adm",), "stop_timeout_s": 120}),
        ("stream-scada", {"extra_args": ("--source", "tcp://:7777", *HOSTILE_ARGS)}),
    ],
)
def test_systemd_accepts_the_unit_without_a_warning(tmp_path: Path, job: str, changes: dict[str, object]) -> None:
    result = verify(tmp_path, job, render_unit(job, options(**changes)))
    # verify exits 0 on unknown keys and bad values too: only an empty stderr is a pass.
    assert (result.returncode, result.stderr) == (0, "")


@needs_systemd_analyze
def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt setting and a missing program are reported."""
    broken = render_unit("index", options()).replace("ProtectClock=", "ProtectClocks=")
    assert "Unknown key" in verify(tmp_path, "index", broken).stderr
    missing = render_unit("index", options(vac=Path("/nonexistent/vac")))
    assert "is not executable" in verify(tmp_path, "index", missing).stderr


@needs_systemd_analyze
@pytest.mark.parametrize("job", ["ship-logs", "index"])
def test_systemd_rates_the_hardening_ok(tmp_path: Path, job: str) -> None:
    unit = tmp_path / unit_name(job)
    unit.write_text(render_unit(job, options()))
    assert SYSTEMD_ANALYZE is not None
    # An exposure of 2.0 or less (out of 10) is what systemd calls OK; a unit without hardening scores 9.6.
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=20", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Overall exposure level" in result.stdout


def test_a_python_under_a_home_directory_is_found_behind_the_script(tmp_path: Path) -> None:
    script = tmp_path / "vac"
    script.write_bytes(b"#!/root/.pyenv/versions/3.11.7/bin/python3.11\nimport sys\n")
    assert hidden_interpreter(script) == Path("/root/.pyenv/versions/3.11.7/bin/python3.11")
    script.write_bytes(b"#!/opt/vac/bin/python -s\n")
    assert hidden_interpreter(script) is None
    script.write_bytes(b"\x7fELF\x00\x00")  # a binary
    assert hidden_interpreter(script) is None
    script.write_bytes(b"#!\n")
    assert hidden_interpreter(script) is None
    assert hidden_interpreter(tmp_path / "missing") is None  # made for another machine
