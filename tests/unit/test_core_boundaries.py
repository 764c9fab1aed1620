"""The core (`vac/`) never imports the front ends (STYLE.md: one core, thin front ends)."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import vac
import vac.records

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_core_module_loads_no_front_end() -> None:
    modules = [info.name for info in pkgutil.walk_packages(vac.__path__, "vac.")]
    assert "vac.local.stack" in modules and "vac.settings" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "front_ends = ('typer', 'textual', 'rich', 'click', 'commands', 'tui')\n"
        "print(' '.join(sorted(m for m in front_ends if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


def test_import_linter_contract_holds() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists() or shutil.which("lint-imports"), "import-linter is a dev dependency"
    result = subprocess.run([str(lint_imports)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout
    assert "Imports run one way" in result.stdout  # the layers contract is among them


def _loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after `statement`."""
    script = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(result.stdout.split())


def test_importing_the_source_registry_loads_no_kafka_client() -> None:
    """Choosing a source must not cost librdkafka (nor the streamer): the registry and the
    streamer only share the records below both."""
    subprocess.run(
        [sys.executable, "-c", "import vac.sources.registry, sys; assert 'confluent_kafka' not in sys.modules"],
        cwd=ROOT,
        check=True,
    )
    loaded = _loaded_after("import vac.sources.registry")
    assert "vac.sources.registry" in loaded
    assert not {"confluent_kafka", "vac.scada", "vac.kafka", "elasticsearch", "numpy", "asyncua"} & loaded


def test_the_records_are_plain_data_below_everything() -> None:
    """The records that cross package boundaries load nothing of vac but errors and
    printable, and no client or heavy library."""
    records = [info.name for info in pkgutil.walk_packages(vac.records.__path__, "vac.records.")]
    assert {"vac.records.change", "vac.records.dpe", "vac.records.logrecord"} <= set(records)
    loaded = _loaded_after("\n".join(f"import {name}" for name in records))
    ours = {name for name in loaded if name == "vac" or name.startswith("vac.")}
    assert ours - set(records) <= {"vac", "vac.records", "vac.errors", "vac.printable"}
    assert not {"confluent_kafka", "elasticsearch", "numpy", "pydantic", "orjson"} & loaded


def test_the_tests_and_scripts_read_no_data_from_outside_the_repository() -> None:
    """A clone alone must pass its tests and run its demo: no ../shared beside it."""
    root = Path(__file__).resolve().parents[2]
    readers = [*root.glob("tests/**/*.py"), *root.glob("scripts/**/*.py"), *root.glob("scripts/*.sh")]
    marks = ('"shared" / ' + '"data"', "../" + "shared/data")  # split, so this file does not match itself
    outside = [str(path.relative_to(root)) for path in readers if any(mark in path.read_text() for mark in marks)]
    assert outside == []
