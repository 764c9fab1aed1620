"""vac installed from its wheels on a machine without the source tree, as on a SCADA server:
scripts/build-wheels.sh --with-deps, then an offline install into a new virtualenv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SAMPLE_LOG
from vac import __version__

ROOT = Path(__file__).resolve().parents[2]


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_the_wheels_install_and_run_without_the_source_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(
        ["bash", str(ROOT / "scripts" / "build-wheels.sh"), "--with-deps", str(dist)], ROOT, dict(os.environ), 600
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheels = {path.name.split("-")[0]: path for path in dist.glob("*.whl")}
    assert "vac" in wheels
    native = "vac_native" in wheels
    if shutil.which("cargo"):
        assert native, built.stderr[-2000:]

    # A virtualenv of its own (no system site-packages), filled by this pip from dist/ alone.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "install"]
    packages = ["vac", *(["vac-native"] if native else [])]
    # --no-compile: the .pyc files of numpy and matplotlib would take most of the install time
    installed = run([*install, "--no-compile", "--no-index", "--find-links", str(dist), *packages], tmp_path, {})
    assert installed.returncode == 0, installed.stderr[-3000:]

    # Away from the source tree, with nothing of this test's environment that could point back.
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "NO_COLOR": "1", "STATE_DIRECTORY": str(tmp_path / "state")}
    vac = str(venv / "bin" / "vac")
    version = run([vac, "--version"], away, env)
    assert (version.returncode, version.stdout) == (0, f"vac {__version__}\n"), version.stderr
    help_ = run([vac, "--help"], away, env)
    assert help_.returncode == 0 and "service" in help_.stdout, help_.stderr
    config = tmp_path / "check.yaml"  # not ./vac.yaml, which every later command would read
    config.write_text("kafka:\n  bootstrap_servers: broker1:9093\n")
    checked = run([vac, "config", "check", str(config)], away, env)
    assert (checked.returncode, checked.stderr) == (0, f"{config}: ok\n")
    config.write_text("kafka:\n  bootstrap_server: broker1:9093\n")
    refused = run([vac, "config", "check", str(config)], away, env)
    assert refused.returncode == 2
    assert "did you mean 'bootstrap_servers'" in refused.stdout

    where = run(
        [
            str(python),
            "-c",
            "import vac, commands, tui; from vac.es.indices import logs_template; from vac.logs.reading import "
            "native_available; print(vac.__file__, commands.__file__, tui.__file__, "
            "sorted(logs_template('x-{app}')['template']['mappings']['properties'])[:1], native_available())",
        ],
        away,
        env,
    )
    assert where.returncode == 0, where.stderr
    files = where.stdout.split()
    site = str(venv / "lib")
    assert all(path.startswith(site) for path in files[:3]), where.stdout  # not the source tree
    assert "['@timestamp']" in where.stdout  # package data: the index template
    assert files[-1] == str(native)

    # The shipper end to end, from the installed parser, into its systemd state dir.
    log = away / "PVSS_II.log"
    shutil.copy(SAMPLE_LOG, log)
    shipped = run(
        [vac, "ship", "logs", "--path", str(log), "--app-id", "x", "--to", "stdout", "--once", "--from-beginning"],
        away,
        env,
    )
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout.count("\n") > 100
    assert (tmp_path / "state" / "ship-registry.json").is_file()

    unit = run([vac, "service", "unit", "index"], away, env)
    assert unit.returncode == 0, unit.stderr
    assert f'ExecStart="{venv}/bin/vac" "--config" "/etc/vac/vac.yaml" "index"' in unit.stdout

    if "confluent_kafka" in wheels:  # the GSSAPI client: its librdkafka from the venv, not the build cache
        linked = run(["ldd", *map(str, venv.glob("lib/python*/site-packages/confluent_kafka/cimpl*.so"))], away, env)
        assert f"librdkafka.so.1 => {venv}/lib/" in linked.stdout, linked.stdout
        gssapi = run(
            [str(python), "-c", "from vac.kafka.client import sasl_support; print(sasl_support('GSSAPI'))"], away, env
        )
        assert gssapi.stdout.strip() == "None", gssapi.stdout + gssapi.stderr
