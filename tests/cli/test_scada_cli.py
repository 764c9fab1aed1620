"""`vac scada` without a stack: help with examples, one-line errors with their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import closed_port, error_line, run_vac


@pytest.mark.parametrize("command", ["now", "history", "profile"])
def test_every_scada_command_has_help_with_an_example(command: str) -> None:
    result = run_vac("scada", command, "--help")
    assert result.returncode == 0 and "Example: vac scada " + command in result.stdout


def test_an_unreachable_kafka_or_elasticsearch_is_one_line_and_exit_3() -> None:
    port = closed_port()
    env = {
        "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        "VAC_KAFKA__TIMEOUT_S": "2",
        "VAC_ELASTICSEARCH__HOSTS": f'["http://127.0.0.1:{port}"]',
        "VAC_ELASTICSEARCH__REQUEST_TIMEOUT_S": "2",
    }
    for args in (("now",), ("profile", "--sector", "S78"), ("history", "VGPB_2_7L8_B.PR")):
        result = run_vac("scada", *args, env=env, timeout=60)
        assert result.returncode == 3, (args, result.stderr)
        assert error_line(result).startswith("vac: error: ") and "Traceback" not in result.stderr


def test_a_null_last_topic_or_a_bad_topic_name_is_a_usage_error(tmp_path: Path) -> None:
    bad = run_vac("scada", "now", "--topic", "a/b")
    assert bad.returncode == 2 and "topic" in error_line(bad)
    config = tmp_path / "vac.yaml"
    config.write_text("scada:\n  last_topic: null\n")
    for args in (("now",), ("profile",)):
        nothing = run_vac("--config", str(config), "scada", *args, timeout=60)
        assert nothing.returncode == 2 and "scada.last_topic is null" in error_line(nothing)
