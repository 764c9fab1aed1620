"""Start-up: each command imports only what it needs; `vac --help` stays complete; the global
options work after the sub-command; shell completion; `-o json` on the commands that report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import pytest
import typer

from commands.main import SUB_COMMANDS, app, build_command
from tests.helpers import closed_port, run_vac

HEAVY = ("confluent_kafka", "elasticsearch", "textual", "numpy", "matplotlib", "asyncua", "paho")


def modules_after(*args: str) -> set[str]:
    """The top-level packages loaded by running `vac ARGS` in a fresh interpreter."""
    code = (
        "import sys\nfrom commands.main import run\n"
        f"status = run({list(args)!r})\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('MODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})) + '\\n')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"NO_COLOR": "1", "PATH": ""}
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_no_client_and_no_settings(args: list[str]) -> None:
    loaded = modules_after(*args)
    assert not loaded & {*HEAVY, "pydantic", "pydantic_settings", "yaml"}, loaded
    if args == ["--version"]:
        assert "rich" not in loaded


def test_a_command_without_kafka_loads_no_client() -> None:
    assert not modules_after("config", "show", "--help") & set(HEAVY)


def test_tail_loads_kafka_but_not_elasticsearch_numpy_or_textual() -> None:
    loaded = modules_after("tail", "topic", "--help")
    assert "confluent_kafka" in loaded
    assert not loaded & {"elasticsearch", "textual", "numpy", "matplotlib", "asyncua", "paho"}, loaded


@pytest.mark.parametrize("name", list(SUB_COMMANDS))
def test_the_one_line_help_of_each_lazy_command_is_its_own(name: str) -> None:
    command = build_command(name, SUB_COMMANDS[name])
    assert (command.help or "").strip().splitlines()[0] == SUB_COMMANDS[name].help


def test_help_lists_every_command_with_its_help() -> None:
    result = run_vac("--help", env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    for name, lazy in SUB_COMMANDS.items():
        assert any(line.split()[1:2] == [name] and lazy.help in line for line in result.stdout.splitlines()), name


def test_every_registered_command_runs_its_own_help() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    assert root.list_commands(typer.Context(root)) == list(SUB_COMMANDS)


def test_version_through_the_cli_too() -> None:
    # The console script answers `--version` before loading typer; with another option
    # before it, typer's eager option answers the same.
    assert run_vac("--version").stdout == run_vac("--debug", "--version").stdout == "vac 0.1.0\n"


def test_config_after_the_sub_command_is_read(tmp_path: Path) -> None:
    config = tmp_path / "after.yaml"
    config.write_text("kafka:\n  client_id: given-after\n")
    result = run_vac("config", "show", "-o", "json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kafka"]["client_id"] == "given-after"
    # The later one wins, as for any repeated option.
    result = run_vac("--config", "/nonexistent.yaml", "config", "show", "-o", "json", "-c", str(config))
    assert result.returncode == 0, result.stderr


def test_a_missing_config_after_the_sub_command_is_one_error_line() -> None:
    result = run_vac("config", "show", "--config", "/nonexistent/\x1b[31mred.yaml")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("vac: error: config file /nonexistent/\\x1b[31mred.yaml")
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr


def test_debug_after_the_sub_command_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka: [\n")
    result = run_vac("config", "show", "--config", str(bad), "--debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "vac: error:" in result.stderr


def test_a_sub_commands_own_option_keeps_its_name() -> None:
    # `vac service unit --config` is the config the service reads, not vac's.
    result = run_vac("service", "unit", "index", "--config", "/etc/vac/other.yaml")
    assert result.returncode == 0, result.stderr
    assert '"--config" "/etc/vac/other.yaml"' in result.stdout


def test_show_completion_prints_a_bash_script() -> None:
    # typer detects the shell from the process tree (pytest's is none); its own tests name it.
    result = run_vac("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert result.returncode == 0, result.stderr
    assert "_vac_completion" in result.stdout and "complete " in result.stdout


def complete(words: str, **env: str) -> subprocess.CompletedProcess[str]:
    cword = str(len(words.split()) - 1)
    return run_vac(env={"_VAC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword, **env})


def test_command_names_complete_without_loading_anything() -> None:
    result = complete("vac ta")
    assert result.returncode == 0
    assert result.stdout.split() == ["tail"]


@pytest.mark.parametrize("words", ["vac tail topic x", "vac topics describe \x1b[31m", "vac tail topic " + "y" * 5000])
def test_topic_completion_with_kafka_away_is_quick_and_silent(words: str) -> None:
    started = time.monotonic()
    result = complete(words, VAC_KAFKA__BOOTSTRAP_SERVERS=f"127.0.0.1:{closed_port()}")
    assert result.returncode == 0
    assert result.stdout.strip() == "" and result.stderr == ""
    assert time.monotonic() - started < 30  # 1.5 s for the cluster, plus start-up on a busy machine


def test_topic_completion_with_a_broken_config_is_silent(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_bytes(b"kafka: [\xff\n")
    result = complete("vac tail topic x", VAC_CONFIG=str(config))
    assert result.returncode == 0
    assert result.stdout.strip() == "" and result.stderr == ""


def test_config_check_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka:\n  bootstrap_server: x\n")
    result = run_vac("config", "check", str(bad), "-o", "json")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problems"] == [
        {
            "file": str(bad),
            "line": 2,
            "key": "kafka.bootstrap_server",
            "message": "unknown key",
            "suggestion": "bootstrap_servers",
        }
    ]
    good = run_vac("config", "check", "config/vac.yaml", "-o", "json", cwd=Path(__file__).parents[2])
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout) == {"file": "config/vac.yaml", "ok": True, "problems": []}


def test_local_down_and_reset_json_on_a_stack_never_started(tmp_path: Path) -> None:
    env = {"VAC_CONFIG": "", "VAC_LOCAL__STATE_DIR": str(tmp_path / "state")}
    down = run_vac("local", "down", "-o", "json", env=env)
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout) == {"stopped": []}
    reset = run_vac("local", "reset", "--dry-run", "-o", "json", env=env)
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout)["dry_run"] is True


def test_a_sub_command_added_the_eager_way_takes_the_global_options_too() -> None:
    from commands.main import VacGroup

    extra = typer.Typer()

    @extra.command()
    def hello(ctx: typer.Context) -> None:
        print(ctx.find_root().obj)

    root = typer.Typer(cls=VacGroup)

    @root.callback()
    def main(ctx: typer.Context, config: Annotated[Path | None, typer.Option("--config", "-c")] = None) -> None:
        ctx.obj = type("Obj", (), {"config_path": config, "debug": False})()

    root.add_typer(extra, name="extra")
    group = typer.main.get_command(root)
    assert isinstance(group, VacGroup)
    command = group.get_command(typer.Context(group), "extra")
    names = {opt for param in command.commands["hello"].params for opt in param.opts}
    assert "--config" in names
