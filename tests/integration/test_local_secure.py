"""`vac local up --secure`: a stack of its own (scratch state dir, free ports) secured as
production is, and vac used against it with nothing but the config `up` writes and the two
Kerberos variables it prints: Kafka over SASL_SSL with a ticket from the keytab, Elasticsearch
over https with a password."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest
import yaml

from tests.conftest import stack_state_dir
from tests.helpers import (
    LHC_DPES,
    SAMPLE_LOG,
    VAC,
    error_line,
    free_base_port,
    no_gssapi,
    no_kdc,
    run_vac,
    unless_kerberos_required,
)
from vac.scada.dpes import load_dpes

pytestmark = [pytest.mark.integration, unless_kerberos_required(no_kdc(), no_gssapi())]
STATE_NAME = "vac-test-secure"


@dataclass(frozen=True)
class SecureStack:
    admin_config: Path
    """The `local` section only: what `vac local` is run with."""
    client_config: Path
    """What `up --secure` wrote: all a client gets, with `client_env`."""
    client_env: dict[str, str]
    state_dir: Path
    kafka_port: int
    elasticsearch_port: int
    kdc_port: int
    up: dict[str, Any]


def client(stack: SecureStack, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Any:
    """vac as a user of the secured stack: the written config and the printed variables, and
    no other VAC_* or KRB5_* setting of the test's environment."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "NO_COLOR": "1"}
    return subprocess.run(
        [VAC, "--config", str(stack.client_config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean | stack.client_env | (env or {}),
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    directory = tmp_path_factory.mktemp("secure")
    kafka_port = free_base_port(28092, 1, 2)  # clients, controller, INTERNAL
    elasticsearch_port = free_base_port(28400, 100)
    kdc_port = free_base_port(28088)
    state_dir = stack_state_dir(STATE_NAME)
    admin_config = directory / "local.yaml"
    local = {
        "state_dir": str(state_dir),
        "kafka_port": kafka_port,
        "elasticsearch_port": elasticsearch_port,
        "kdc_port": kdc_port,
        "kafka_heap_mb": 384,
    }
    admin_config.write_text(yaml.safe_dump({"local": local}))
    try:
        result = run_vac("--config", str(admin_config), "local", "up", "--secure", "-o", "json", timeout=600)
        assert result.returncode == 0, result.stderr
        up = json.loads(result.stdout)
        yield SecureStack(
            admin_config,
            Path(up["client_config"]),
            up["client_env"],
            state_dir,
            kafka_port,
            elasticsearch_port,
            kdc_port,
            up,
        )
    finally:
        run_vac("--config", str(admin_config), "local", "reset", "--yes", timeout=300)


def test_up_writes_a_client_config_of_production_shape_owner_only(secure_stack: SecureStack) -> None:
    state = secure_stack.state_dir
    assert secure_stack.client_config == state / "vac-secure.yaml"
    assert secure_stack.client_config.stat().st_mode & 0o777 == 0o600
    assert secure_stack.client_env == {
        "KRB5_CONFIG": f"{state}/kdc/krb5.conf",
        "KRB5CCNAME": f"FILE:{state}/kdc/ccache",
    }
    config = yaml.safe_load(secure_stack.client_config.read_text())
    assert config["kafka"] == {
        "bootstrap_servers": f"localhost:{secure_stack.kafka_port}",
        "security": {
            "protocol": "SASL_SSL",
            "sasl_mechanism": "GSSAPI",
            "kerberos_principal": "vac@VAC.LOCAL",
            "kerberos_keytab": f"{state}/kdc/keytabs/vac.keytab",
            "kerberos_service_name": "kafka",
            "ca_file": f"{state}/tls/ca.pem",
        },
    }
    es = config["elasticsearch"]
    assert es["hosts"] == [f"https://localhost:{secure_stack.elasticsearch_port}"]
    assert (es["ca_file"], es["username"]) == (f"{state}/tls/ca.pem", "vac")
    assert len(es["password"]) >= 24
    # The realm and the keys are the operator's alone.
    assert (state / "kdc").stat().st_mode & 0o777 == 0o700
    for keytab in ("vac.keytab", "kafka_localhost.keytab"):
        assert (state / "kdc" / "keytabs" / keytab).stat().st_mode & 0o777 == 0o600
    assert (state / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert (state / "tls" / "ca.key").stat().st_mode & 0o777 == 0o600


def test_status_lists_the_kdc_and_the_secure_listeners(secure_stack: SecureStack) -> None:
    result = run_vac("--config", str(secure_stack.admin_config), "local", "status", "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    services = {service["name"]: service for service in status["services"]}
    assert list(services) == ["kafka", "elasticsearch", "kdc"]
    assert all(service["healthy"] for service in services.values())  # ES and Kafka answered authenticated
    kafka, es, kdc = services["kafka"], services["elasticsearch"], services["kdc"]
    assert kafka["security"] == "SASL_SSL: GSSAPI, SCRAM-SHA-512; TLS by the vac local CA"
    assert kafka["listeners"][0] == f"SASL_SSL localhost:{secure_stack.kafka_port} (GSSAPI, SCRAM-SHA-512)"
    assert kafka["listeners"][1].startswith(f"INTERNAL PLAINTEXT 127.0.0.1:{secure_stack.kafka_port + 2} ")
    assert es["security"] == "security on: https, users vac"
    assert es["endpoint"] == f"https://localhost:{secure_stack.elasticsearch_port}"
    assert kdc["ports"] == [secure_stack.kdc_port]
    assert kdc["users"] == ["kafka/localhost@VAC.LOCAL", "vac@VAC.LOCAL"]
    (kdc_pid,) = kdc["pids"]
    assert psutil.Process(kdc_pid).name() == "krb5kdc"
    assert status["client_config"] == str(secure_stack.client_config)
    # `up` said the same, and the broker's certificate and Kerberos name are `localhost`.
    assert [service["name"] for service in secure_stack.up["services"]] == ["kafka", "elasticsearch", "kdc"]


def scram_env(stack: SecureStack) -> dict[str, str]:
    """The same user through SCRAM-SHA-512 instead of Kerberos: only the environment changes."""
    password = json.loads((stack.state_dir / "credentials.json").read_text())["kafka_scram_password"]
    return {
        "VAC_KAFKA__SECURITY__SASL_MECHANISM": "SCRAM-SHA-512",
        "VAC_KAFKA__SECURITY__USERNAME": "vac",
        "VAC_KAFKA__SECURITY__PASSWORD": password,
    }


MECHANISMS = ["GSSAPI", "SCRAM-SHA-512"]


def mechanism_env(stack: SecureStack, mechanism: str) -> dict[str, str]:
    return {} if mechanism == "GSSAPI" else scram_env(stack)


def recording_of_changes(path: Path, count: int) -> set[tuple[str, float]]:
    """`count` changes of the real LHC DPEs, each DPE's values far apart (no deadband hides
    one); returns the (DPE, value) pairs that must each arrive exactly once."""
    names = [dpe.name for dpe in load_dpes(LHC_DPES)]
    expected, lines = set(), []
    for i in range(count):
        name, value = names[i % len(names)], 1e-9 * 10 ** (i // len(names))
        expected.add((name, value))
        lines.append(orjson.dumps({"dpe": name, "value": value, "stime": 1_795_881_600_000 + i}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return expected


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_twenty_thousand_changes_stream_and_read_back_exactly(
    secure_stack: SecureStack, tmp_path: Path, mechanism: str
) -> None:
    recording = tmp_path / "changes.jsonl"
    expected = recording_of_changes(recording, 20_000)
    topic = f"secure-pressures-{mechanism.lower()}"
    env = mechanism_env(secure_stack, mechanism)
    streamed = client(
        secure_stack, "stream", "scada", "--source", f"jsonl:{recording}", "--dpes", str(LHC_DPES),
        "--topic", topic, "-o", "json", "-q", env=env,
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    summary = orjson.loads(streamed.stdout)
    assert (summary["acked"], summary["failed"], summary["unknown"]) == (20_000, 0, 0)
    read = client(secure_stack, "tail", "topic", topic, "--from", "beginning", "--no-follow", "-o", "jsonl", env=env)
    assert read.returncode == 0, read.stderr
    records = [orjson.loads(line) for line in read.stdout.splitlines()]
    got = [(record["id"], record["value"]) for record in records]
    assert len(got) == 20_000 and set(got) == expected  # nothing lost, nothing doubled
    if mechanism == "GSSAPI":
        assert (secure_stack.state_dir / "kdc" / "ccache").exists()  # the ticket went where up said


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_the_probe_measures_through_the_secured_broker(secure_stack: SecureStack, mechanism: str) -> None:
    probe = client(
        secure_stack, "probe", "latency", "--rate", "200", "--duration", "2", "--warmup", "1",
        "--topic", f"secure-probe-{mechanism.lower()}", "-o", "json", env=mechanism_env(secure_stack, mechanism),
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    result = orjson.loads(probe.stdout)
    assert (result["sent"], result["received"], result["lost"], result["errors"]) == (600, 600, 0, 0)


def searchable_count(stack: SecureStack, query: str, expected: int) -> int:
    """The count of `query`'s matches once it reaches `expected` (indexed documents become
    searchable at the next refresh) or a minute passed."""
    deadline = time.monotonic() + 60
    while True:
        found = client(stack, "query", query, "--since", "2000-01-01", "--total", "-o", "json")
        assert found.returncode == 0, found.stderr
        count = int(orjson.loads(found.stdout)["count"])
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(1)


def ship(stack: SecureStack, log: Path, app_id: str, registry: Path, env: dict[str, str]) -> int:
    shipped = client(
        stack, "ship", "logs", "--path", str(log), "--app-id", app_id, "--once",
        "--from-beginning", "--registry", str(registry), "-o", "json", "-q", env=env,
    )  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    summary = orjson.loads(shipped.stdout)
    assert summary["failed"] == 0
    return int(summary["acked"])


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_logs_are_shipped_indexed_and_found_over_https(
    secure_stack: SecureStack, tmp_path: Path, mechanism: str
) -> None:
    env = mechanism_env(secure_stack, mechanism)
    app_id = f"vac_secure_{mechanism.lower().replace('-', '_')}_logs"
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(SAMPLE_LOG.read_bytes())
    records = ship(secure_stack, log, app_id, tmp_path / "registry.json", env)
    assert records > 4000
    indexed = client(secure_stack, "index", "--until-caught-up", "-q", "-o", "json", env=env, timeout=300)
    assert indexed.returncode == 0, indexed.stderr
    assert orjson.loads(indexed.stdout)["indexed"] == records
    assert searchable_count(secure_stack, f"fields.app_id:{app_id}", records) == records


def test_a_401_in_the_middle_of_index_stops_it_in_one_line_and_loses_nothing(
    secure_stack: SecureStack, tmp_path: Path
) -> None:
    """The password stops working while `vac index` follows the topic: it ends with one line
    and exit 1, commits nothing it did not index, and a later run indexes the rest."""
    app_id = "vac_secure_401_logs"
    sample = SAMPLE_LOG.read_bytes()
    cut = sample.index(b"\n", len(sample) // 2) + 1
    log, registry = tmp_path / "PVSS_II.log", tmp_path / "registry.json"
    log.write_bytes(sample[:cut])
    first = ship(secure_stack, log, app_id, registry, {})
    before = client(secure_stack, "index", "--until-caught-up", "-q", "-o", "json", timeout=300)
    assert before.returncode == 0, before.stderr
    follower = subprocess.Popen(
        [VAC, "--config", str(secure_stack.client_config), "index", "-q"],
        env={"PATH": os.environ["PATH"], "NO_COLOR": "1"} | secure_stack.client_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    users = secure_stack.state_dir / "elasticsearch" / "config" / "users"
    realm = users.read_text()
    try:
        time.sleep(3)  # the follower is caught up and waiting
        assert follower.poll() is None, follower.communicate()
        # Another hash for `vac`: the file realm reloads it within seconds; written in place,
        # so the file keeps the owner Elasticsearch reads it as.
        with users.open("r+") as file:
            file.write(realm.replace("$2a$10$", "$2a$10$X", 1)[: len(realm)])
        time.sleep(8)
        log.write_bytes(sample)  # the rest of the log arrives: its bulk request meets a 401
        second = ship(secure_stack, log, app_id, registry, {})
        _, stderr = follower.communicate(timeout=120)
    finally:
        follower.kill()
        with users.open("w") as file:
            file.write(realm)
    assert follower.returncode == 1, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("vac: error: ")]
    assert len(errors) == 1 and errors[0].startswith("vac: error: Elasticsearch answered HTTP 401 to "), stderr
    time.sleep(8)  # the realm has the right password again
    after = client(secure_stack, "index", "--until-caught-up", "-q", "-o", "json", timeout=300)
    assert after.returncode == 0, after.stderr
    assert orjson.loads(after.stdout)["indexed"] >= second  # nothing was committed past the 401
    assert searchable_count(secure_stack, f"fields.app_id:{app_id}", first + second) == first + second


def test_an_expired_ticket_in_the_cache_is_one_error_line(secure_stack: SecureStack, tmp_path: Path) -> None:
    """Without a keytab vac uses the ticket cache as `kinit` left it: while the ticket is
    valid every command works; once it expired each says so, with what to do."""
    config = yaml.safe_load(secure_stack.client_config.read_text())
    keytab = config["kafka"]["security"].pop("kerberos_keytab")
    config["kafka"]["timeout_s"] = 10
    ticket_only = tmp_path / "ticket-only.yaml"
    ticket_only.write_text(yaml.safe_dump(config))
    env = secure_stack.client_env | {"KRB5CCNAME": f"FILE:{tmp_path / 'ccache'}"}
    lifetime_s = 8
    kinit = subprocess.run(
        ["kinit", "-l", f"{lifetime_s}s", "-k", "-t", keytab, "vac@VAC.LOCAL"],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert kinit.returncode == 0, kinit.stderr
    valid_until = time.monotonic() + lifetime_s
    clean = {"PATH": os.environ["PATH"], "NO_COLOR": "1"} | env
    listed = run_vac("--config", str(ticket_only), "topics", "list", "-o", "json", env=clean, timeout=60)
    assert listed.returncode == 0, listed.stderr
    time.sleep(max(0.0, valid_until - time.monotonic()) + 2)
    for command in (("topics", "list"), ("stream", "scada", "--devices", "5", "--duration", "2", "-q")):
        result = run_vac("--config", str(ticket_only), *command, env=clean, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        line = error_line(result)
        assert line.startswith(f"vac: error: Kafka at localhost:{secure_stack.kafka_port} refused the credentials"), (
            line
        )
        assert "Ticket expired" in line
        hint = result.stderr.splitlines()[-1]
        assert "ticket cache (KRB5CCNAME) is missing or expired: run kinit" in hint, result.stderr


def test_the_logs_path_probe_and_the_dash_read_the_secured_stack(secure_stack: SecureStack) -> None:
    """The two readers of both servers: the probe's file -> Kafka -> indexer -> searchable path,
    and the dash's Kafka feeds and Elasticsearch history, all over TLS with credentials."""
    probe = client(
        secure_stack, "probe", "latency", "--path", "logs", "--rate", "100", "--duration", "3", "--warmup", "1",
        "-o", "json",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    result = orjson.loads(probe.stdout)
    assert (result["sent"], result["received"], result["lost"], result["errors"]) == (400, 400, 0, 0)
    streamed = client(
        secure_stack, "stream", "scada", "--devices", "20", "--rate", "200", "--duration", "2",
        "--topic", "secure-dash", "-q",
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    env = {"VAC_DASH__SCADA_TOPICS": '["secure-dash"]'}
    dash = client(secure_stack, "dash", "--summary-after", "6", "-o", "json", env=env, timeout=120)
    assert dash.returncode == 0, dash.stderr
    summary = orjson.loads(dash.stdout)
    assert summary["kafka"] == "up" and summary["elasticsearch"] in ("green", "yellow")
    assert summary["dpes_seen"] > 0


@pytest.mark.parametrize(
    "command", [("query", "level:SEVERE", "--since", "2000-01-01"), ("index", "--until-caught-up")]
)
@pytest.mark.parametrize("credential", ["password", "api_key"])
def test_a_wrong_elasticsearch_password_or_api_key_is_one_error_line(
    secure_stack: SecureStack, tmp_path: Path, command: tuple[str, ...], credential: str
) -> None:
    config = yaml.safe_load(secure_stack.client_config.read_text())
    if credential == "password":
        config["elasticsearch"]["password"] = "not-the-password"
        refusal = "unable to authenticate user [vac]"
    else:  # an API key this cluster never issued, instead of the user and password
        del config["elasticsearch"]["username"], config["elasticsearch"]["password"]
        config["elasticsearch"]["api_key"] = "bm90LWEta2V5Om5vdC1hLXNlY3JldA=="
        refusal = "unable to authenticate with provided credentials"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(config))
    result = run_vac("--config", str(wrong), *command, env=secure_stack.client_env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = error_line(result)
    assert line.startswith("vac: error: Elasticsearch answered HTTP 401 to "), line
    assert refusal in line, line
    assert "not-the-password" not in result.stderr


def test_a_kafka_client_without_credentials_is_refused(secure_stack: SecureStack, tmp_path: Path) -> None:
    """The client port speaks SASL_SSL only: an open client gets nothing."""
    config = tmp_path / "open.yaml"
    config.write_text(
        yaml.safe_dump({"kafka": {"bootstrap_servers": f"localhost:{secure_stack.kafka_port}", "timeout_s": 5}})
    )
    result = run_vac("--config", str(config), "topics", "list", timeout=60)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert error_line(result).startswith("vac: error: ")


def test_secure_with_several_brokers_is_refused_before_anything_starts(tmp_path: Path) -> None:
    config = tmp_path / "three.yaml"
    config.write_text(yaml.safe_dump({"local": {"state_dir": str(tmp_path / "state")}}))
    result = run_vac("--config", str(config), "local", "up", "--secure", "--kafka-brokers", "3", timeout=60)
    assert result.returncode == 2
    assert error_line(result) == "vac: error: a secured local stack has one Kafka broker; 3 asked"
    assert not (tmp_path / "state" / "kdc").exists()


def test_down_stops_the_kdc_with_the_rest(secure_stack: SecureStack) -> None:
    """Last in this module: the stack is down afterwards (the fixture then resets it)."""
    result = run_vac("--config", str(secure_stack.admin_config), "local", "down", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "stopped kafka, elasticsearch, kdc" in result.stderr
    marker = str(secure_stack.state_dir)
    left = [
        p.info["name"] for p in psutil.process_iter(["cmdline", "name"]) if marker in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
    status = json.loads(run_vac("--config", str(secure_stack.admin_config), "local", "status", "-o", "json").stdout)
    assert {service["name"]: service["state"] for service in status["services"]} == {
        "kafka": "stopped",
        "elasticsearch": "stopped",
        "kdc": "stopped",
    }
