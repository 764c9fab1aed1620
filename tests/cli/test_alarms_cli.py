"""`vac alarms`: usage errors before any Kafka request, and the help with its examples."""

from __future__ import annotations

import pytest

from tests.helpers import run_vac


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ack", "VGPB_1.PR"], "is not an alarm id"),
        (["ack", "VGPB_1.PR/sideways"], "is not an alarm id"),
        (["ack", "VGPB_1.PR/above", "--by", "\x1b[2Jmallory"], "--by"),
        (["ack", "VGPB_1.PR/above", "--by", "x" * 65], "--by"),
        (["watch", "--duration", "-1"], "--duration"),
        (["watch", "-o", "xml"], "--output"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    result = run_vac("alarms", *args, env={"VAC_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("vac: error:") and says in result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr


@pytest.mark.parametrize("command", ["watch", "list", "ack"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_vac("alarms", command, "--help")
    assert result.returncode == 0 and "Example: vac alarms" in result.stdout
