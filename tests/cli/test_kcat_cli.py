"""kcat's habits at the command line, where no Kafka is needed: `-b`/`-X` into the settings,
and the refusals of `produce`, `topics` and `groups` before any connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import error_line, run_vac

ESC = "\x1b[2J\x1b]0;owned\x07"


def no_config(tmp_path: Path) -> dict[str, str]:
    return {"VAC_CONFIG": "", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.mark.parametrize("where", ["before", "after"])
def test_brokers_and_properties_reach_the_settings_with_secrets_redacted(tmp_path: Path, where: str) -> None:
    flags = ["-b", "b1:9093,b2:9093", "-X", "sasl.password=hunter2-secret", "-X", "linger.ms=7", "-X", "a.b=x=y"]
    args = [*flags, "config", "show", "-o", "json"] if where == "before" else ["config", "show", "-o", "json", *flags]
    result = run_vac(*args, env=no_config(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kafka = json.loads(result.stdout)["kafka"]
    assert kafka["bootstrap_servers"] == "b1:9093,b2:9093"
    assert kafka["properties"] == {"sasl.password": "**********", "linger.ms": "7", "a.b": "x=y"}
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_flags_after_the_sub_command_stand_over_those_before(tmp_path: Path) -> None:
    result = run_vac("-b", "first:1", "config", "show", "-o", "json", "-b", "second:2", env=no_config(tmp_path))
    assert json.loads(result.stdout)["kafka"]["bootstrap_servers"] == "second:2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["tail", "topic", "t", "-X", "fetch.min.bytes"],
            "vac: error: -X fetch.min.bytes: no property name and `=` in it",
        ),
        (["tail", "topic", "t", "-X", "=1"], "vac: error: -X =1: no property name and `=` in it"),
        (["-X", f"x{ESC}", "config", "show"], "vac: error: -X x\\x1b[2J\\x1b]0;owned\\x07: no property name"),
        (["-b", f"host{ESC}:1", "config", "show"], "kafka.bootstrap_servers"),
        (["tail", "topic", "t", "-o", "json"], "vac: error: -o json writes one JSON array, which needs an end"),
        (["produce", "t", "-H", "novalue"], "vac: error: -H novalue: no header name and `=` in it"),
        (["produce", "t", "--key", "k", "-K", ":"], "--key and -K do not go together"),
        (["produce", "t", "-K", ""], "-K: the key delimiter is empty"),
        (["produce", f"bad{ESC}"], "vac: error: topic 'bad\\x1b[2J"),
        (
            ["produce", "t", "--file", "/nonexistent/lines"],
            "vac: error: --file /nonexistent/lines: not a readable file",
        ),
        (["topics", "delete", "t"], "vac: error: deleting topic 't' loses every message in it"),
        (["topics", "create", "t", "--config", "retention.ms"], "--config retention.ms: no config name and `=` in it"),
        (["topics", "alter-config", "t"], "vac: error: nothing to change"),
        (["groups", "reset-offsets", "g"], "one of --to-earliest, --to-latest, --to-time"),
        (["groups", "reset-offsets", "g", "--to-latest", "--to-time", "1h"], "do not go together"),
        (["groups", "reset-offsets", "g", "--to-time", f"soon{ESC}"], "vac: error: --to-time 'soon\\x1b[2J"),
        (["query", "--total", "--top", "manager"], "vac: error: --total and --top do not go together"),
    ],
)
def test_bad_input_is_one_line_before_any_connection(tmp_path: Path, args: list[str], message: str) -> None:
    # Kafka at a port nothing listens on: a refusal here came before any connection was tried.
    env = {**no_config(tmp_path), "VAC_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9", "VAC_KAFKA__TIMEOUT_S": "1"}
    result = run_vac(*args, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in error_line(result)
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command", [["produce"], ["topics", "create"], ["topics", "delete"], ["topics", "alter-config"],
                ["groups", "list"], ["groups", "describe"], ["groups", "reset-offsets"]],
)  # fmt: skip
def test_new_commands_have_help_with_an_example_and_kcat_flags(command: list[str]) -> None:
    result = run_vac(*command, "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "Example: " in result.stdout
    assert "--brokers" in result.stdout and "-X" in result.stdout


def test_query_count_is_a_limit_like_tail(tmp_path: Path) -> None:
    result = run_vac("query", "--help", env={"COLUMNS": "200"})
    assert "--total" in result.stdout and "--count" in result.stdout
    too_few = run_vac("query", "--count", "0", env=no_config(tmp_path))
    assert too_few.returncode == 2
