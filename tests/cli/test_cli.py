"""The CLI as a user meets it: help with examples, exit codes and one-line errors."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import socket
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tests.helpers import VAC, closed_port, error_line, free_base_port, run_vac

COMMANDS = [
    [],
    ["local"],
    ["local", "up"],
    ["local", "down"],
    ["local", "status"],
    ["local", "logs"],
    ["local", "reset"],
    ["local", "fetch"],
    ["config"],
    ["config", "show"],
    ["config", "check"],
    ["doctor"],
    ["stream"],
    ["stream", "scada"],
    ["tail"],
    ["tail", "topic"],
    ["topics"],
    ["topics", "list"],
    ["topics", "describe"],
    ["ship"],
    ["ship", "logs"],
    ["index"],
    ["index", "prune"],
    ["index", "replay-dlq"],
    ["audit"],
    ["audit", "logs"],
    ["query"],
    ["probe"],
    ["probe", "latency"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "vac")
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = run_vac(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout
    assert "\x1b[" not in result.stdout  # NO_COLOR is honoured


def test_version() -> None:
    result = run_vac("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("vac 0.")


def test_unknown_command_is_a_usage_error() -> None:
    result = run_vac("frobnicate")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["vac: error: No such command 'frobnicate'.", "  see `vac --help`"]


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["tail", "topic", "--bogus", "x"], "No such option: --bogus", "vac tail topic"),
        (["query", "--since"], "Option '--since' requires an argument.", "vac query"),  # no click context
        (
            ["-c", "tail", "--debug", "local", "status", "--output", "xml"],
            "Invalid value for '--output'",
            "vac local status",
        ),
        (["tail", "topic"], "Missing argument 'topics'.", "vac tail topic"),
        (["probe", "latency", "--rate", "many"], "Invalid value for '--rate'", "vac probe latency"),
    ],
)
def test_a_bad_option_is_one_error_line_and_where_to_look_exit_2(args: list[str], message: str, command: str) -> None:
    result = run_vac(*args)
    assert result.returncode == 2, result.stderr
    first, hint = result.stderr.splitlines()  # not click's usage block
    assert first.startswith(f"vac: error: {message}")
    assert hint == f"  see `{command} --help`"
    assert "Usage:" not in result.stderr and "Traceback" not in result.stderr


def test_a_bad_option_name_cannot_drive_the_terminal_or_the_markup() -> None:
    hostile = "--\x1b]0;owned\x07[bold red]x[/]" + "y" * 5000
    result = run_vac("tail", "topic", "t", hostile)
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("vac: error: No such option: --")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "[bold red]x[/]" in first  # shown as typed, not taken as Rich markup


def test_a_group_without_its_sub_command_shows_its_help() -> None:
    result = run_vac("local")
    assert result.returncode == 2
    assert "vac: error" not in result.stderr
    assert "status" in result.stderr + result.stdout


def test_config_check_syntax_error_exits_2_and_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("kafka:\n  bootstrap_servers: [a:1\n")
    result = run_vac("config", "check", str(config))
    assert result.returncode == 2
    assert f"{config}:3: YAML syntax error" in result.stdout
    assert result.stderr.startswith("vac: error: 1 problem(s)")


def test_config_check_unknown_key_exits_2_and_suggests(tmp_path: Path) -> None:
    config = tmp_path / "typo.yaml"
    config.write_text("local:\n  kafka_broker: 3\n")
    result = run_vac("config", "check", str(config))
    assert result.returncode == 2
    assert f"{config}:2: local.kafka_broker: unknown key (did you mean 'kafka_brokers'?)" in result.stdout


def test_config_check_ok(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = run_vac("config", "check", str(root / "config" / "vac.yaml"))
    assert result.returncode == 0
    assert result.stderr.strip().endswith(": ok")


def test_any_command_with_a_broken_config_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "typo.yaml"
    config.write_text("kafka:\n  bootstrap_server: x:1\n")
    result = run_vac("--config", str(config), "local", "status")
    assert result.returncode == 2
    assert error_line(result) == (
        f"vac: error: invalid configuration: {config}:2: kafka.bootstrap_server: unknown key "
        "(did you mean 'bootstrap_servers'?)"
    )
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_vac("--debug", "--config", str(tmp_path / "missing.yaml"), "config", "show")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_config_show_merges_env_and_redacts_secrets() -> None:
    env = {
        "VAC_CONFIG": "",
        "VAC_KAFKA__BOOTSTRAP_SERVERS": "broker-a:9093",
        "VAC_ELASTICSEARCH__USERNAME": "writer",
        "VAC_ELASTICSEARCH__PASSWORD": "hunter2",
    }
    result = run_vac("config", "show", "--output", "json", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["kafka"]["bootstrap_servers"] == "broker-a:9093"
    assert shown["elasticsearch"]["password"] == "**********"
    assert "hunter2" not in result.stdout + result.stderr


def test_config_show_yaml_is_the_default(tmp_path: Path) -> None:
    result = run_vac("config", "show", env={"VAC_CONFIG": ""}, cwd=tmp_path)
    assert result.returncode == 0
    assert "bootstrap_servers: 127.0.0.1:9092" in result.stdout


def test_doctor_reports_unreachable_services_within_the_timeout() -> None:
    port = closed_port()
    env = {
        "VAC_CONFIG": "",
        "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        "VAC_KAFKA__TIMEOUT_S": "2",
        "VAC_ELASTICSEARCH__HOSTS": f'["http://127.0.0.1:{port}"]',
        "VAC_ELASTICSEARCH__REQUEST_TIMEOUT_S": "2",
    }
    started = time.monotonic()
    result = run_vac("doctor", "--output", "json", env=env)
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["java"]["status"] == "ok"
    assert checks["maven"]["status"] == "ok"
    assert checks["kafka"]["status"] == "fail"
    assert f"127.0.0.1:{port} did not answer within 2 s" in checks["kafka"]["detail"]
    assert checks["elasticsearch"]["status"] == "fail"


def test_doctor_fails_a_sasl_mechanism_librdkafka_lacks() -> None:
    env = {
        "VAC_CONFIG": "",
        "VAC_KAFKA__TIMEOUT_S": "1",
        "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}",
        "VAC_ELASTICSEARCH__HOSTS": f'["http://127.0.0.1:{closed_port()}"]',
        "VAC_KAFKA__SECURITY__PROTOCOL": "SASL_SSL",
        "VAC_KAFKA__SECURITY__SASL_MECHANISM": "GSSAPI",
        "VAC_KAFKA__SECURITY__KERBEROS_PRINCIPAL": "vacuum@EXAMPLE.ORG",
    }
    result = run_vac("doctor", "--output", "json", env=env)
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    try:  # the verdict must match what librdkafka itself says about GSSAPI here
        AdminClient(
            {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "GSSAPI", "sasl.kerberos.kinit.cmd": "true"}
        )
        expected = "ok"
    except KafkaException:
        expected = "fail"
    assert checks["sasl"]["status"] == expected
    if expected == "fail":
        assert "cannot do SASL GSSAPI" in checks["sasl"]["detail"]
        assert "librdkafka refused the Kafka client configuration" in checks["kafka"]["detail"]
    assert result.returncode == 1


# -- vac local errors that need no running stack --------------------------------------


def local_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A stack of its own: a fresh state dir and free ports (a developer's stack may run)."""
    return {
        "VAC_CONFIG": "",
        "VAC_LOCAL__STATE_DIR": str(tmp_path / "state"),
        "VAC_LOCAL__KAFKA_PORT": str(free_base_port(26092, 1)),
        "VAC_LOCAL__ELASTICSEARCH_PORT": str(free_base_port(26200, 100)),
        **extra,
    }


def test_status_of_a_stack_never_started_exits_3(tmp_path: Path) -> None:
    result = run_vac("local", "status", "--output", "json", env=local_env(tmp_path))
    assert result.returncode == 3
    status = json.loads(result.stdout)
    assert status["healthy"] is False
    assert [s["state"] for s in status["services"]] == ["stopped", "stopped"]


def test_down_of_a_stopped_stack_is_a_no_op(tmp_path: Path) -> None:
    result = run_vac("local", "down", env=local_env(tmp_path))
    assert result.returncode == 0
    assert "nothing was running" in result.stderr


def test_logs_before_any_start_is_a_clear_error(tmp_path: Path) -> None:
    result = run_vac("local", "logs", "kafka", env=local_env(tmp_path))
    assert result.returncode == 2
    assert error_line(result).startswith("vac: error: kafka has no log yet")


def test_up_without_maven_says_so(tmp_path: Path) -> None:
    env = local_env(tmp_path, VAC_LOCAL__CACHE_DIR=str(tmp_path / "cache"), PATH="/nonexistent")
    result = run_vac("local", "up", "kafka", env=env)
    assert result.returncode == 1
    assert error_line(result).startswith("vac: error: Maven (mvn) is needed")
    assert "apt-get install maven" in result.stderr


def test_up_with_a_java_too_old_says_so(tmp_path: Path) -> None:
    home = tmp_path / "jdk11"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    (home / "bin" / "java").chmod(0o755)
    result = run_vac("local", "up", env=local_env(tmp_path, VAC_LOCAL__JAVA_HOME=str(home)))
    assert result.returncode == 1
    assert "holds Java 11.0.2; Java 17 or newer is needed" in result.stderr


def test_up_with_an_unknown_version_names_the_artifact(tmp_path: Path) -> None:
    env = local_env(tmp_path, VAC_LOCAL__CACHE_DIR=str(tmp_path / "cache"), VAC_LOCAL__KAFKA_VERSION="0.0.404")
    result = run_vac("local", "up", "kafka", env=env, timeout=300)
    assert result.returncode == 1
    assert error_line(result).startswith("vac: error: Maven could not resolve Apache Kafka 0.0.404")
    assert "\x1b[" not in result.stderr


def test_up_on_a_taken_port_names_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = local_env(tmp_path, VAC_LOCAL__ELASTICSEARCH_PORT=str(port))
        result = run_vac("local", "up", "elasticsearch", env=env, timeout=600)
    assert result.returncode == 1
    assert error_line(result).startswith(f"vac: error: port {port} (Elasticsearch HTTP) is in use by pid")


def test_ship_without_inputs_is_a_usage_error(tmp_path: Path) -> None:
    result = run_vac("ship", "logs", "--to", "stdout", "--registry", str(tmp_path / "r.json"))
    assert result.returncode == 2
    assert error_line(result) == "vac: error: nothing to ship"


def test_ship_path_needs_an_app_id(tmp_path: Path) -> None:
    result = run_vac("ship", "logs", "--path", str(tmp_path / "*.log"), "--to", "stdout")
    assert result.returncode == 2
    assert error_line(result) == "vac: error: --path needs --app-id"


def test_ship_with_a_corrupt_registry_exits_2_and_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("{")
    (tmp_path / "a.log").write_text("x\n")
    result = run_vac(
        "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a", "--to", "stdout",
        "--registry", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.returncode == 2
    assert error_line(result).startswith(f"vac: error: the shipper registry {tmp_path / 'r.json'} is unreadable")
    assert "move it aside" in result.stderr


@pytest.mark.parametrize("registry", ["missing", "corrupt", "directory"])
def test_audit_with_a_bad_registry_exits_2_with_one_line(tmp_path: Path, registry: str) -> None:
    path = tmp_path / "registry.json"
    if registry == "corrupt":
        path.write_bytes(b"\x00{not json")
    elif registry == "directory":
        path.mkdir()
    result = run_vac("audit", "logs", "--registry", str(path), "--to", "kafka")
    assert result.returncode == 2, result.stderr
    if registry == "missing":
        assert error_line(result) == f"vac: error: no shipper registry at {path}"
    else:
        assert error_line(result).startswith(f"vac: error: the shipper registry {path} is unreadable")
    assert "Traceback" not in result.stderr


def test_audit_with_a_bad_time_window_exits_2(tmp_path: Path) -> None:
    result = run_vac("audit", "logs", "--registry", str(tmp_path / "r.json"), "--since", "the day before")
    assert result.returncode == 2
    assert error_line(result).startswith("vac: error: --since")


def test_ship_to_stdout_prints_one_json_record_per_line(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(
        b"WCCOActrl    (2), 2026.11.28 03:07:00.001, CTRL, SEVERE,   76, Invalid argument in function\r\n"
        b"    Line: 12, dpGet\r\n"
        b"garbage \xff\xfe line\r\n"
    )
    result = run_vac(
        "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "vac_x_scada_logs", "--to", "stdout",
        "--once", "--from-beginning", "--registry", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record,) = (json.loads(line) for line in result.stdout.splitlines())
    assert (record["level"], record["manager"], record["lines"]) == ("SEVERE", "WCCOActrl", 3)
    assert record["@timestamp"] == "2026-11-28T02:07:00.001Z"  # 03:07 in Zurich, winter time
    # A line that starts no record and is no known continuation: kept, bytes escaped, flagged.
    assert record["message"].endswith("\ngarbage \\xff\\xfe line") and record["tags"] == ["fragment"]
    assert "lines 3  records 1" in result.stderr


def test_query_with_elasticsearch_unreachable_exits_3_within_the_timeout() -> None:
    env = {"VAC_CONFIG": "", "VAC_ELASTICSEARCH__HOSTS": f'["http://127.0.0.1:{closed_port()}"]',
           "VAC_ELASTICSEARCH__REQUEST_TIMEOUT_S": "2"}  # fmt: skip
    started = time.monotonic()
    result = run_vac("query", "level:SEVERE", env=env)
    assert time.monotonic() - started < 20
    assert result.returncode == 3
    assert "did not answer" in error_line(result) and "Elasticsearch at http://127.0.0.1:" in error_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday-ish"], "'yesterday-ish' is not a time"),
        (["--since", "1h", "--until", "2h"], "--until is not after --since"),
        (["--total", "--top", "manager"], "--total and --top do not go together"),
        (["--histogram", "5 minutes"], "is not like 30s"),
        (["--sort", "up"], "use asc or desc"),
        (["--around", "2019-08-03 14:00"], "--around needs the source"),
    ],
)
def test_query_usage_errors_exit_2_before_asking_elasticsearch(args: list[str], message: str) -> None:
    env = {"VAC_CONFIG": "", "VAC_ELASTICSEARCH__HOSTS": f'["http://127.0.0.1:{closed_port()}"]'}
    result = run_vac("query", *args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in error_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "1000000000d"], "out of range"),
        (["--since", "99999999999999999999s"], "out of range"),
        (["--since", "99999-01-01"], "'99999-01-01' is not a time"),
        (["--until", "9999-12-31T23:59:59-05:00"], "out of range"),
    ],
)
def test_query_times_out_of_range_are_one_line_usage_errors(args: list[str], message: str) -> None:
    env = {"VAC_CONFIG": "", "VAC_ELASTICSEARCH__HOSTS": f'["http://127.0.0.1:{closed_port()}"]'}
    result = run_vac("query", *args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in error_line(result)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--where", "foo(bar)"], "unknown function foo()"),
        (["--where", "starts_with(id)"], "starts_with() takes 2 arguments, not 1"),
        (["--where", "[/] && `"], "not a JMESPath expression"),  # Rich markup in a message is shown, not parsed
        (["--from", "-1000000000d"], "out of range"),
        (["--from", "-99999999999999999999s"], "out of range"),
        (["--from", "@99999-01-01"], "'99999-01-01' is not a time"),
        (["--from", "@99999999999999999999"], "beyond year 9999"),
        (["--from", "99999999999999999999"], "beyond Kafka's largest offset"),
    ],
)
def test_tail_bad_filters_and_times_are_one_line_usage_errors_before_connecting(args: list[str], message: str) -> None:
    env = {"VAC_CONFIG": "", "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}"}
    result = run_vac("tail", "topic", "pressures", *args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in error_line(result)
    assert "Traceback" not in result.stderr


def test_an_error_message_shows_escape_sequences_escaped() -> None:
    env = {"VAC_CONFIG": "", "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}"}
    result = run_vac("tail", "topic", "pressures", "--where", "\x1b]0;owned\x07 ==", env=env)
    assert result.returncode == 2
    assert "\\x1b]0;owned\\x07" in error_line(result)
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


def test_ship_once_on_a_glob_matching_nothing_says_so(tmp_path: Path) -> None:
    result = run_vac(
        "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a", "--to", "stdout", "--once",
        "--registry", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.returncode == 2
    assert error_line(result) == f"vac: error: nothing to ship: no file matches {tmp_path / '*.log'}"


def test_a_second_shipper_on_the_same_registry_is_refused_naming_the_holder(tmp_path: Path) -> None:
    registry = tmp_path / "r.json"
    (tmp_path / "a.log").write_text("one line\n")
    lock = os.open(tmp_path / "r.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running shipper holds it
    os.write(lock, b"4242\n")
    try:
        result = run_vac(
            "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a", "--to", "stdout", "--once",
            "--from-beginning", "--registry", str(registry),
        )  # fmt: skip
    finally:
        os.close(lock)
    assert result.returncode == 2 and result.stdout == ""
    assert error_line(result) == f"vac: error: the shipper registry {registry} is in use by another shipper (pid 4242)"
    assert not registry.exists()


def test_ship_with_an_unwritable_registry_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("one line\n")
    (tmp_path / "not-a-dir").write_text("")
    registry = tmp_path / "not-a-dir" / "r.json"  # as unwritable as a read-only directory, even for root
    result = run_vac(
        "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a", "--to", "stdout", "--once",
        "--from-beginning", "--registry", str(registry),
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert error_line(result).startswith(f"vac: error: cannot use the shipper registry {registry}: ")


def test_ship_with_a_registry_of_bad_field_types_is_one_error_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("one line\n")
    info = log.stat()
    entry = {"key": "k", "path": str(log), "dev": info.st_dev, "ino": info.st_ino, "offset": "5", "fp_len": 9}
    entry |= {"fp": hashlib.sha1(b"one line\n").hexdigest(), "updated": 0.0, "detached": False}  # it is this file
    (tmp_path / "r.json").write_text(json.dumps({"version": 1, "files": [entry]}))
    result = run_vac(
        "ship", "logs", "--path", str(log), "--app-id", "a", "--to", "stdout", "--once",
        "--registry", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert error_line(result) == (
        f"vac: error: the shipper registry {tmp_path / 'r.json'} is unreadable: field 'offset' is '5', not int"
    )


def test_ship_refuses_a_record_cap_kafka_would_refuse_before_connecting(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("one line\n")
    result = run_vac(
        "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a", "--once",
        "--registry", str(tmp_path / "r.json"),
        env={"VAC_LOGS__MAX_RECORD_BYTES": "2000000", "VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}"},
    )  # fmt: skip
    assert result.returncode == 2
    assert error_line(result) == (
        "vac: error: logs.max_record_bytes 2,000,000 is too large for Kafka's message limit "
        "(message.max.bytes 1,000,000): its records would be refused"
    )


def test_ship_once_over_more_files_than_the_descriptor_limit_ships_them_all(tmp_path: Path) -> None:
    for number in range(300):
        (tmp_path / f"f{number:03d}.log").write_text(f"line {number}\n")

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    result = subprocess.run(
        [VAC, "ship", "logs", "--path", str(tmp_path / "*.log"), "--app-id", "a", "--to", "stdout", "--once",
         "--from-beginning", "--registry", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=120, preexec_fn=low_limit, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "lines 300  records 300  acked 300  failed 0  files 300 " in result.stderr  # closed ones too
    assert sorted(json.loads(line)["message"] for line in result.stdout.splitlines()) == sorted(
        f"line {number}" for number in range(300)
    )
