"""`vac stream scada` from secured sources, as production's are: asyncua's OPC UA server with
Basic256Sha256 SignAndEncrypt, a trusted client certificate and a user and password, and
mosquitto over TLS with a password file. Every refusal ends the run with its own one-line
error, and no password shows in any output."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml

from tests.conftest import StackEndpoints
from tests.helpers import (
    VAC,
    connect_when_listening,
    error_line,
    free_base_port,
    read_topic,
    run_vac,
    stream_summary,
)
from tests.integration.test_stream_sources import DPES, FIXTURES, dpe_file
from vac.local.tls import Issued, LocalCa

pytestmark = pytest.mark.integration

OPCUA_PASSWORD = "opc-Pa55word-7f3e"
MQTT_PASSWORD = "mqtt-Pa55word-91ab"
WRONG_PASSWORD = "wrong-Pa55word-0000"
CLIENT_URI = "urn:vac:test:client"


@dataclass(frozen=True)
class Pki:
    ca: LocalCa
    opcua_server: Issued
    opcua_client: Issued
    stranger_client: Issued
    """Signed by a CA the server does not trust."""
    broker: Issued
    stranger_ca: LocalCa
    trust_dir: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca, stranger_ca = LocalCa(root / "site-ca"), LocalCa(root / "stranger-ca")
    ca.create()
    stranger_ca.create()
    trust_dir = root / "opcua-trusted"
    trust_dir.mkdir()
    shutil.copy(ca.certificate, trust_dir / "site-ca.pem")
    return Pki(
        ca=ca,
        opcua_server=ca.issue("opcua-server", ["localhost", "127.0.0.1"], uris=("urn:vac:test:server",), rsa_bits=2048),
        opcua_client=ca.issue("opcua-client", ["vac-client"], uris=(CLIENT_URI,), client=True, rsa_bits=2048),
        stranger_client=stranger_ca.issue(
            "opcua-client", ["vac-client"], uris=(CLIENT_URI,), client=True, rsa_bits=2048
        ),
        broker=ca.issue("broker", ["localhost", "127.0.0.1"]),
        stranger_ca=stranger_ca,
        trust_dir=trust_dir,
    )


def config_with(local_stack: StackEndpoints, path: Path, scada: dict[str, object]) -> Path:
    """The test stack's config plus a `scada` section."""
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["scada"] = scada
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def secured_opcua_server(pki: Pki, *options: str) -> Iterator[int]:
    port = free_base_port(24860)
    command = [
        sys.executable,
        str(FIXTURES / "opcua_server.py"),
        "--port",
        str(port),
        "--dpes",
        *DPES,
        "--certificate",
        str(pki.opcua_server.certificate),
        "--private-key",
        str(pki.opcua_server.key),
        "--trust",
        str(pki.trust_dir),
        "--user",
        f"vac:{OPCUA_PASSWORD}",
        *options,
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield port
    finally:
        server.kill()
        server.wait()


def opcua_security(pki: Pki, tmp_path: Path, **changes: object) -> dict[str, object]:
    password_file = tmp_path / "opcua.pw"
    password_file.write_text(OPCUA_PASSWORD + "\n")
    security: dict[str, object] = {
        "policy": "Basic256Sha256",
        "mode": "SignAndEncrypt",
        "certificate": str(pki.opcua_client.certificate),
        "private_key": str(pki.opcua_client.key),
        "server_certificate": str(pki.opcua_server.certificate),
        "username": "vac",
        "password_file": str(password_file),
    }
    security.update(changes)
    return {key: value for key, value in security.items() if value is not None}


def stream_opcua(config: Path, port: int, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_vac(
        *extra,
        "--config",
        str(config),
        "stream",
        "scada",
        "--source",
        f"opcua://127.0.0.1:{port}/vac/",
        "--dpes",
        str(dpe_file(tmp_path)),
        "--topic",
        f"it-opcua-sec-{uuid.uuid4().hex[:6]}",
        "--duration",
        "30",  # a hang would outlast it; each refusal must end the run well before
        "-q",
        timeout=90,
    )


def test_secured_opcua_streams_exact_values(local_stack: StackEndpoints, pki: Pki, tmp_path: Path) -> None:
    security = opcua_security(pki, tmp_path)
    config = config_with(local_stack, tmp_path / "vac.yaml", {"opcua_security": security})
    topic = f"it-opcua-sec-{uuid.uuid4().hex[:6]}"
    with secured_opcua_server(pki, "--updates", "3", "--delay", "5") as port:
        started = time.monotonic()
        result = run_vac(
            "--config",
            str(config),
            "stream",
            "scada",
            "--source",
            f"opcua://127.0.0.1:{port}/vac/",
            "--dpes",
            str(dpe_file(tmp_path)),
            "--topic",
            topic,
            "--duration",
            "9",
            "-o",
            "json",
            "-q",
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    summary = orjson.loads(result.stdout)
    assert summary["invalid_input_kinds"] == {"unknown OPC UA node": 1}
    by_dpe: dict[str, list[dict[str, object]]] = {}
    for value in read_topic(local_stack.config_file, topic):
        by_dpe.setdefault(str(value["id"]), []).append(value)
    assert sorted(by_dpe) == sorted(DPES)
    for index, name in enumerate(DPES):
        # The initial value, two good updates, then one with a Bad status.
        changes = by_dpe[name]
        assert [c["value"] for c in changes[:3]] == pytest.approx([1e-10, (index + 1) * 1e-9, (index + 1) * 2e-9])
        assert [c["status"]["invalid"] for c in changes] == [False, False, False, True]  # type: ignore[index]
    assert summary["acked"] == 12
    assert OPCUA_PASSWORD not in result.stdout + result.stderr


def test_secured_opcua_refusals_each_say_why(local_stack: StackEndpoints, pki: Pki, tmp_path: Path) -> None:
    cases: dict[str, tuple[dict[str, object], int, str]] = {
        "wrong password": (
            {"password_file": None, "password": WRONG_PASSWORD},
            1,
            "refused user 'vac': wrong user name or password (BadUserAccessDenied)",
        ),
        "no user": (
            {"password_file": None, "username": None},
            1,
            "does not accept anonymous sessions (BadIdentityTokenRejected)",
        ),
        "untrusted client certificate": (
            {"certificate": str(pki.stranger_client.certificate), "private_key": str(pki.stranger_client.key)},
            1,
            f"does not trust vac's client certificate {pki.stranger_client.certificate} (BadCertificateUntrusted)",
        ),
        "no security": (
            {"policy": "none", "certificate": None, "private_key": None, "server_certificate": None},
            2,
            "requires security: it offers only Basic256Sha256/SignAndEncrypt",
        ),
        "mode not offered": (
            {"mode": "Sign"},
            2,
            "does not offer Basic256Sha256/Sign; it offers Basic256Sha256/SignAndEncrypt",
        ),
        "another server certificate": (
            {"server_certificate": str(pki.broker.certificate)},
            1,
            f"presents a certificate (CN=localhost) that is not scada.opcua_security.server_certificate "
            f"{pki.broker.certificate}",
        ),
    }
    with secured_opcua_server(pki) as port:
        for case, (changes, status, expected) in cases.items():
            security = opcua_security(pki, tmp_path, **changes)
            config = config_with(local_stack, tmp_path / "vac.yaml", {"opcua_security": security})
            started = time.monotonic()
            result = stream_opcua(config, port, tmp_path)
            assert time.monotonic() - started < 25, case
            assert_refused(
                result, case, status, f"vac: error: OPC UA server opc.tcp://127.0.0.1:{port}/vac/ ", expected
            )
            # --debug adds vac's traceback: it must not quote a password either.
            if case == "wrong password":
                debug = stream_opcua(config, port, tmp_path, "--debug")
                assert debug.returncode == status and "Traceback" in debug.stderr
                assert OPCUA_PASSWORD not in debug.stderr and WRONG_PASSWORD not in debug.stderr


def assert_refused(
    result: subprocess.CompletedProcess[str], case: str, status: int, start: str, end: str, before: str = ""
) -> None:
    """Exit `status`; on stderr nothing but `before`, the one error line and its hint (no
    library warnings, no traceback) and no password anywhere."""
    assert result.returncode == status, (case, result.stderr)
    line = error_line(result)
    assert line.startswith(start) and line.endswith(end), (case, line)
    lines = result.stderr.splitlines()
    at = lines.index(line)
    assert lines[:at] == ([before] if before else []), (case, result.stderr)
    assert all(extra.startswith("  ") for extra in lines[at + 1 :]), (case, result.stderr)
    for password in (OPCUA_PASSWORD, MQTT_PASSWORD, WRONG_PASSWORD):
        assert password not in result.stdout + result.stderr, case


@contextmanager
def secured_broker(pki: Pki, tmp_path: Path) -> Iterator[int]:
    port = free_base_port(28883)
    passwords = tmp_path / "mosquitto.passwd"
    passwords.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "vac", MQTT_PASSWORD], check=True)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\ncafile {pki.ca.certificate}\ncertfile {pki.broker.certificate}\n"
        f"keyfile {pki.broker.key}\nallow_anonymous false\npassword_file {passwords}\n"
        # As root mosquitto would drop to user mosquitto, who cannot read the owner-only key.
        f"user {getpass.getuser()}\n"
    )
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        connect_when_listening(port).close()
        yield port
    finally:
        broker.kill()
        broker.wait()


def mqtt_env(pki: Pki, password: str | None = MQTT_PASSWORD, ca: Path | None = None) -> dict[str, str]:
    env = {"VAC_SCADA__MQTT_SECURITY__CA_FILE": str(ca or pki.ca.certificate)}
    if password is not None:
        env |= {"VAC_SCADA__MQTT_SECURITY__USERNAME": "vac", "VAC_SCADA__MQTT_SECURITY__PASSWORD": password}
    return env


def test_mqtt_over_tls_with_login_streams_exact_changes(local_stack: StackEndpoints, pki: Pki, tmp_path: Path) -> None:
    import paho.mqtt.publish as publish

    topic = f"it-mqtts-{uuid.uuid4().hex[:6]}"
    with secured_broker(pki, tmp_path) as port:
        command = [
            "--config",
            str(local_stack.config_file),
            "stream",
            "scada",
            "--source",
            f"mqtts://127.0.0.1:{port}/vacuum/#",
            "--dpes",
            str(dpe_file(tmp_path)),
            "--duration",
            "8",
        ]
        streamer = start_stream_with_env(command, topic, mqtt_env(pki))
        time.sleep(4)
        messages = [
            {"topic": "vacuum/lhc/VGI_1.PR", "payload": orjson.dumps({"value": 2e-9, "stime": 1795881600123})},
            {"topic": "vacuum/lhc/VGI_2.PR", "payload": orjson.dumps({"value": 3e-9, "status": 65})},
        ]
        publish.multiple(
            [m | {"qos": 1} for m in messages],
            hostname="127.0.0.1",
            port=port,
            auth={"username": "vac", "password": MQTT_PASSWORD},
            tls={"ca_certs": str(pki.ca.certificate)},
        )
        summary = stream_summary(streamer)
    assert summary["acked"] == 2
    values = {str(v["id"]): v for v in read_topic(local_stack.config_file, topic)}
    assert sorted(values) == ["VGI_1.PR", "VGI_2.PR"]
    assert values["VGI_1.PR"]["value"] == 2e-9 and values["VGI_1.PR"]["timestamp"] == "2026-11-28T16:00:00.123000Z"
    assert values["VGI_2.PR"]["value"] == 3e-9 and values["VGI_2.PR"]["status"]["invalid"] is True  # type: ignore[index]


def start_stream_with_env(command: list[str], topic: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`vac ... --topic TOPIC -o json -q` in the background, with `env` added."""
    full = [VAC, *command, "--topic", topic, "-o", "json", "-q"]
    return subprocess.Popen(
        full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1", **env}
    )


def test_mqtt_refusals_each_say_why(local_stack: StackEndpoints, pki: Pki, tmp_path: Path) -> None:
    with secured_broker(pki, tmp_path) as port:
        plain = f"vac: WARNING: the MQTT password goes to 127.0.0.1:{port} unencrypted: use mqtts://"
        cases: dict[str, tuple[str, dict[str, str], int, str]] = {
            "wrong password": (
                "mqtts",
                mqtt_env(pki, WRONG_PASSWORD),
                1,
                "refused user 'vac': Not authorized (wrong user name or password?)",
            ),
            "no login": ("mqtts", mqtt_env(pki, None), 1, "refused an anonymous connection: Not authorized"),
            "a CA that did not sign the broker": (
                "mqtts",
                mqtt_env(pki, ca=pki.stranger_ca.certificate),
                3,
                f"its TLS certificate does not verify against scada.mqtt_security.ca_file "
                f"{pki.stranger_ca.certificate}: certificate signature failure",
            ),
            "plain MQTT to the TLS port": (
                "mqtt",
                {"VAC_SCADA__MQTT_SECURITY__USERNAME": "vac", "VAC_SCADA__MQTT_SECURITY__PASSWORD": MQTT_PASSWORD},
                3,
                "accepted no MQTT connection within 15 s",
            ),
        }
        for case, (scheme, env, status, expected) in cases.items():
            started = time.monotonic()
            result = run_vac(
                "--config",
                str(local_stack.config_file),
                "stream",
                "scada",
                "--source",
                f"{scheme}://127.0.0.1:{port}/vacuum/#",
                "--dpes",
                str(dpe_file(tmp_path)),
                "--duration",
                "40",
                "-q",
                env=env,
                timeout=90,
            )
            assert time.monotonic() - started < 35, case
            before = plain if scheme == "mqtt" else ""
            assert_refused(result, case, status, f"vac: error: MQTT broker 127.0.0.1:{port}", expected, before)


def test_config_show_never_prints_the_source_passwords(pki: Pki, tmp_path: Path) -> None:
    password_file = tmp_path / "opcua.pw"
    password_file.write_text(OPCUA_PASSWORD + "\n")
    config = tmp_path / "vac.yaml"
    config.write_text(
        yaml.safe_dump({"scada": {"opcua_security": opcua_security(pki, tmp_path), "mqtt_security": {"tls": True}}})
    )
    env = {"VAC_SCADA__MQTT_SECURITY__USERNAME": "vac", "VAC_SCADA__MQTT_SECURITY__PASSWORD": MQTT_PASSWORD}
    for output in ("yaml", "json"):
        shown = run_vac("--config", str(config), "config", "show", "-o", output, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "Basic256Sha256" in shown.stdout and str(password_file) in shown.stdout
        assert OPCUA_PASSWORD not in shown.stdout + shown.stderr
        assert MQTT_PASSWORD not in shown.stdout + shown.stderr
        assert shown.stdout.count("**********") == 2
