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
    SAMPLE_LOG,
    VAC,
    error_line,
    free_base_port,
    no_gssapi,
    no_kdc,
    run_vac,
    unless_kerberos_required,
)

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


def test_stream_and_tail_read_back_exactly_with_a_ticket_from_the_keytab(secure_stack: SecureStack) -> None:
    streamed = client(
        secure_stack, "stream", "scada", "--devices", "50", "--rate", "1000", "--duration", "3",
        "--topic", "secure-pressures", "-o", "json", "-q",
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    summary = orjson.loads(streamed.stdout)
    assert summary["failed"] == 0 and summary["acked"] > 2000
    read = client(
        secure_stack, "tail", "topic", "secure-pressures", "--from", "beginning", "--no-follow", "-o", "jsonl"
    )
    assert read.returncode == 0, read.stderr
    assert len(read.stdout.splitlines()) == summary["acked"]
    assert (secure_stack.state_dir / "kdc" / "ccache").exists()  # the ticket went where up said


def test_logs_are_shipped_indexed_and_found_over_https(secure_stack: SecureStack, tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(SAMPLE_LOG.read_bytes())
    shipped = client(
        secure_stack, "ship", "logs", "--path", str(log), "--app-id", "vac_lhc_1_scada_logs", "--once",
        "--from-beginning", "--registry", str(tmp_path / "registry.json"), "-o", "json", "-q",
    )  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    records = orjson.loads(shipped.stdout)["acked"]
    assert records > 4000
    indexed = client(secure_stack, "index", "--until-caught-up", "-q", "-o", "json", timeout=300)
    assert indexed.returncode == 0, indexed.stderr
    assert orjson.loads(indexed.stdout)["indexed"] == records
    deadline = time.monotonic() + 60
    while True:  # indexed documents become searchable at the next refresh
        found = client(secure_stack, "query", "*", "--since", "2000-01-01", "--count", "-o", "json")
        assert found.returncode == 0, found.stderr
        if orjson.loads(found.stdout)["count"] == records or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert orjson.loads(found.stdout) == {"count": records}


@pytest.mark.parametrize(
    "command", [("query", "level:SEVERE", "--since", "2000-01-01"), ("index", "--until-caught-up")]
)
def test_a_wrong_elasticsearch_password_is_one_error_line(secure_stack: SecureStack, command: tuple[str, ...]) -> None:
    result = client(secure_stack, *command, env={"VAC_ELASTICSEARCH__PASSWORD": "not-the-password"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = error_line(result)
    assert line.startswith("vac: error: Elasticsearch answered HTTP 401 to "), line
    assert "unable to authenticate user [vac]" in line


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
