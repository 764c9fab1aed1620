"""Hostile or mistaken configuration: one `vac: error:` line and exit 2, quickly, never a
traceback, whether it comes from the file or from `VAC_*` variables (issue #15, findings 8
and 12)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers import closed_port, error_line, run_vac


def alias_bomb() -> str:
    """'Billion laughs': nine levels of nine aliases each, 9**9 strings once expanded."""
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    return text


HOSTILE = {
    "alias bomb": (alias_bomb(), "refused: aliases expand to more than 100000 values"),
    "deep nesting": ("kafka: " + "[" * 500 + "]" * 500 + "\n", "refused: nested more than 32 levels deep"),
    "recursive alias": ("kafka: &k\n  properties: *k\n", "refused: an alias refers to the node that contains it"),
    "huge file": ("# padding\n" * 200_000, "larger than 1024 KiB: not a config file"),
    "huge integer": ("kafka:\n  timeout_s: " + "9" * 5000 + "\n", "YAML value error"),
    "key that is no string": ("kafka:\n  1: x\n", "kafka: key '1' is not a string"),
    "empty key": ("?\n", "key '' is not a string"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_yaml_is_refused_fast_by_check_and_by_every_command(tmp_path: Path, name: str) -> None:
    text, message = HOSTILE[name]
    config = tmp_path / "vac.yaml"
    config.write_text(text)
    started = time.monotonic()
    checked = run_vac("config", "check", str(config), timeout=30)
    shown = run_vac("--config", str(config), "config", "show", timeout=30)
    assert time.monotonic() - started < 15
    assert checked.returncode == 2 and shown.returncode == 2
    assert message in checked.stdout
    assert error_line(shown).startswith(f"vac: error: invalid configuration: {config}")
    assert message in error_line(shown)
    assert "Traceback" not in checked.stderr + shown.stderr


def test_aliases_of_a_reasonable_size_still_work(tmp_path: Path) -> None:
    config = tmp_path / "vac.yaml"
    config.write_text("logs:\n  inputs:\n    - &lhc {paths: [/a/*.log], app_id: lhc}\n    - {<<: *lhc, app_id: sps}\n")
    result = run_vac("--config", str(config), "config", "show", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert '"app_id":"sps"' in result.stdout and result.stdout.count('"/a/*.log"') == 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("VAC_KAFKA__TIMEOUT_S", "abc", "kafka.timeout_s (from $VAC_KAFKA__TIMEOUT_S): Input should be a valid number"),
        ("VAC_KAFKA", "{not json", "$VAC_KAFKA: not valid JSON"),
        ("VAC_ELASTICSEARCH__HOSTS", "[", "$VAC_ELASTICSEARCH__HOSTS: not valid JSON"),
        ("VAC_KAFKA__TIMEOUT_S", "inf", "(from $VAC_KAFKA__TIMEOUT_S): Input should be a finite number"),
    ],
)
def test_a_malformed_environment_value_is_one_line_naming_the_variable(variable: str, value: str, message: str) -> None:
    shown = run_vac("config", "show", env={"VAC_CONFIG": "", variable: value})
    assert shown.returncode == 2
    assert message in error_line(shown)
    assert "Traceback" not in shown.stderr
    root = Path(__file__).resolve().parents[2]
    checked = run_vac("config", "check", str(root / "config" / "vac.yaml"), env={variable: value})
    assert checked.returncode == 2
    assert message in checked.stdout + checked.stderr and "Traceback" not in checked.stderr


# Each is accepted by YAML and was accepted by `config check`, then failed (or misbehaved)
# only when a command used it.
INVALID_VALUES = [
    ("kafka:\n  timeout_s: true\n", "2: kafka.timeout_s: expected a number, not a boolean"),
    ("kafka:\n  timeout_s: .inf\n", "2: kafka.timeout_s: Input should be a finite number"),
    ("kafka:\n  timeout_s: .nan\n", "2: kafka.timeout_s: Input should be a finite number"),
    ("kafka:\n  timeout_s: -1\n", "2: kafka.timeout_s: Input should be greater than 0"),
    ("kafka:\n  bootstrap_servers: ''\n", "2: kafka.bootstrap_servers: needs at least one host:port"),
    ("kafka:\n  bootstrap_servers: 'a:1,,b:2'\n", "2: kafka.bootstrap_servers: needs at least one host:port"),
    ("logs:\n  timezone: Nowhere/Town\n", "2: logs.timezone: unknown time zone 'Nowhere/Town'"),
    ("query:\n  since: banana\n", "2: query.since: time 'banana': 'banana' is not a time"),
    ("query:\n  since: 99999999999y\n", "2: query.since: time '99999999999y': out of range"),
    (
        "logs:\n  inputs:\n    - paths: [/x]\n      app_id: a\n      parser: regex\n      pattern: '(?P<level>['\n",
        "6: logs.inputs.0.pattern: the regular expression does not compile",
    ),
    ("logs:\n  topic: 'bad name!'\n", "2: logs.topic: topic 'bad name!' has characters Kafka refuses"),
    ("dash:\n  alarms:\n    - {match: '*', above: true}\n", "3: dash.alarms.0.above: expected a number, not a boolean"),
]


@pytest.mark.parametrize(("text", "message"), INVALID_VALUES, ids=[m.split(":")[1].strip() for _, m in INVALID_VALUES])
def test_config_check_rejects_what_would_fail_later_with_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "vac.yaml"
    config.write_text(text)
    checked = run_vac("config", "check", str(config))
    assert checked.returncode == 2, checked.stderr
    assert f"{config}:{message}" in checked.stdout


def test_every_command_refuses_an_unknown_time_zone_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n")
    config = tmp_path / "vac.yaml"
    config.write_text("logs:\n  timezone: Nowhere/Town\n")
    result = run_vac(
        "--config", str(config), "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a",
        "--to", "stdout", "--once", "--registry", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.returncode == 2
    assert error_line(result).startswith(f"vac: error: invalid configuration: {config}:2: logs.timezone: unknown time")
    assert "Traceback" not in result.stderr


def test_a_config_path_that_is_a_directory_says_so(tmp_path: Path) -> None:
    checked = run_vac("config", "check", str(tmp_path))
    assert checked.returncode == 2
    assert error_line(checked) == f"vac: error: config file {tmp_path} is a directory"
    shown = run_vac("--config", str(tmp_path), "config", "show")
    assert shown.returncode == 2
    assert error_line(shown) == f"vac: error: config file {tmp_path} is a directory"


# -- exit codes (finding 13) -----------------------------------------------------------


def test_debug_shows_the_traceback_and_keeps_the_exit_status(tmp_path: Path) -> None:
    result = run_vac("--debug", "config", "check", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr
    assert error_line(result) == f"vac: error: config file {tmp_path} is a directory"


ILLEGAL_TOPICS = [
    (["tail", "topic", "bad name!", "--no-follow"], "topic 'bad name!' has characters Kafka refuses"),
    (["tail", "topic", "pressures", "", "--no-follow"], "a topic name cannot be empty"),
    (["topics", "describe", "t" * 300], "a topic name has at most 249 characters (this one has 300)"),
    (["topics", "describe", ".."], "'..' is not a legal topic name"),
    (["index", "replay-dlq", "--to", "x/y"], "topic 'x/y' has characters Kafka refuses"),
    (["stream", "scada", "--topic", "p\u00e9", "--duration", "1"], "topic 'p\u00e9' has characters Kafka refuses"),
]


@pytest.mark.parametrize(("args", "message"), ILLEGAL_TOPICS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_an_illegal_topic_name_is_a_usage_error_before_kafka_is_asked(args: list[str], message: str) -> None:
    # Kafka is not even there: the name is refused before any request (it used to be exit 3).
    env = {"VAC_CONFIG": "", "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}", "VAC_KAFKA__TIMEOUT_S": "2"}
    result = run_vac(*args, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert error_line(result).startswith(f"vac: error: {message}")


# -- secrets (finding 9) ---------------------------------------------------------------

SECRETS = ["pw-sasl-1", "pw-key-2", "pw-keystore-3", "oauth-secret-4", "hunter2-es-url"]


def secrets_env(tmp_path: Path) -> dict[str, str]:
    """Secrets in every place vac cannot type: librdkafka properties (from the file) and an
    Elasticsearch URL; servers that do not answer, so that errors quote them too."""
    config = tmp_path / "vac.yaml"
    config.write_text(
        "kafka:\n"
        "  properties:\n"
        "    sasl.password: pw-sasl-1\n"
        "    ssl.key.password: pw-key-2\n"
        "    ssl.keystore.password: pw-keystore-3\n"
        "    sasl.oauthbearer.client.secret: oauth-secret-4\n"
        "    linger.ms: 5\n"
    )
    return {
        "VAC_CONFIG": str(config),
        "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}",
        "VAC_KAFKA__TIMEOUT_S": "2",
        "VAC_ELASTICSEARCH__HOSTS": f'["https://writer:hunter2-es-url@127.0.0.1:{closed_port()}"]',
        "VAC_ELASTICSEARCH__REQUEST_TIMEOUT_S": "2",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["config", "show"],
        ["config", "show", "-o", "json"],
        ["doctor"],
        ["doctor", "-o", "json"],
        ["query", "level:SEVERE"],  # Elasticsearch unreachable: the error names the URL
        ["topics", "list"],  # Kafka unreachable
    ],
    ids=" ".join,
)
def test_no_secret_is_ever_printed(tmp_path: Path, args: list[str]) -> None:
    result = run_vac(*args, env=secrets_env(tmp_path), timeout=60)
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed
    assert [secret for secret in SECRETS if secret in printed] == []
    if args[0] in ("config", "query"):  # redacted, not left out
        assert "https://writer:**********@127.0.0.1:" in printed
    if args[0] == "config":
        assert printed.count("**********") == 5 and "linger.ms" in printed


def test_debug_tracebacks_show_no_secret() -> None:
    env = {
        "VAC_CONFIG": "",
        "VAC_ELASTICSEARCH__HOSTS": f'["https://writer:hunter2-es-url@127.0.0.1:{closed_port()}"]',
        "VAC_ELASTICSEARCH__REQUEST_TIMEOUT_S": "2",
    }
    result = run_vac("--debug", "query", "x", env=env, timeout=60)
    assert result.returncode == 3
    # The error the client's edge raised (vac.es.client: a SearchUnavailable and the client's class).
    assert "Traceback" in result.stderr and "vac.es.client.ConnectionError" in result.stderr
    assert "hunter2-es-url" not in result.stdout + result.stderr
