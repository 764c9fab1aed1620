"""The README as a contract: every ```bash example in it runs, as written, against the test
stack, and ends the way the README says.

- An example ends with status 0 unless its comment says `exits N`.
- An example that runs until stopped says `until Ctrl-C` (or `Ctrl-C stops`, or `runs N s` for
  longer than FOLLOW_S) in its comment: it must still be running, with no error on stderr,
  after FOLLOW_S seconds (or have ended with 0); then it is stopped. These run side by side,
  after the others, to keep the test short (CI is near its time limit).
- The examples that would set up the machine, disturb the shared stack or need a SCADA
  server are skipped; SKIPPED lists each with the reason.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import StackEndpoints

ROOT = Path(__file__).resolve().parents[2]
FOLLOW_S = 6.0
FINITE_TIMEOUT_S = 60.0

SKIPPED: dict[str, str] = {
    "./scripts/demo.sh": "the demo: sets up the machine, starts its own stack and opens the dashboard",
    "./scripts/test.sh": "the whole test suite, this test included",
    "vac local up": "starts the stack: the test stack is shared and already running",
    "vac local up --kafka-brokers 3": "would need the shared stack reset to three brokers",
    "vac local down": "would stop the shared test stack under the other tests",
    "vac index": "joins the shared stack's indexer group until stopped, under the other tests",
    "scripts/build-wheels.sh --with-deps dist/": "builds every wheel: minutes (test_wheel_install.py does it)",
    "python3 -m venv /opt/vac && /opt/vac/bin/pip install --no-index --find-links dist/ vac vac-native": (
        "installs into /opt on a SCADA server"
    ),
}
SKIPPED_PREFIXES = {
    "/opt/vac/bin/vac service install": "writes systemd units on a SCADA server as root (test_service_cli.py)",
}


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    comment: str

    @property
    def expected_status(self) -> int:
        match = re.search(r"\bexits (\d+)", self.comment)
        return int(match.group(1)) if match else 0

    @property
    def runs_until_stopped(self) -> bool:
        if "until Ctrl-C" in self.comment or "Ctrl-C stops" in self.comment:
            return True
        match = re.search(r"\bruns (\d+) s\b", self.comment)
        return bool(match) and float(match.group(1)) > FOLLOW_S

    def skip_reason(self) -> str | None:
        if self.command in SKIPPED:
            return SKIPPED[self.command]
        return next((why for prefix, why in SKIPPED_PREFIXES.items() if self.command.startswith(prefix)), None)


def readme_examples(text: str) -> list[Example]:
    """The commands of the ```bash blocks, continuation lines joined, comments split off (a `#`
    after a space; `mqtt://broker/winccoa/#` is no comment)."""
    examples: list[Example] = []
    block, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            block = line.strip() == "```bash"
            continue
        if not block or not line.strip() or line.lstrip().startswith("#"):
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1].rstrip() + " "
            continue
        parts = re.split(r"\s+#\s", pending + line.strip(), maxsplit=1)
        command, comment = parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""
        examples.append(Example(start, re.sub(r"\s+", " ", command), comment))
        pending = ""
    return examples


def test_the_parser_splits_comments_and_joins_lines() -> None:
    text = (
        "```bash\n"
        "vac a --source mqtt://b/w/# --x 1   # exits 3 unless\n"
        "vac b \\\n    --c d   # until Ctrl-C\n"
        "# a note\n"
        "```\n"
        "```console\n$ vac not-run\n```\n"
    )
    examples = readme_examples(text)
    assert [(e.command, e.expected_status, e.runs_until_stopped) for e in examples] == [
        ("vac a --source mqtt://b/w/# --x 1", 3, False),
        ("vac b --c d", 0, True),
    ]


def _environment(local_stack: StackEndpoints) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        **local_stack.env,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
    }


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    # SIGTERM, as systemd and `timeout` stop a command (Ctrl-C's SIGINT can land inside
    # librdkafka's callbacks: `vac probe latency` then prints a SystemError, a known bug).
    try:
        os.killpg(process.pid, signal.SIGTERM)
        return process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate()


@pytest.mark.timeout(240)
def test_every_readme_example_runs_as_the_readme_says(local_stack: StackEndpoints) -> None:
    examples = readme_examples((ROOT / "README.md").read_text())
    assert len(examples) > 30, "the README's examples were not found"
    env = _environment(local_stack)
    skipped = [e for e in examples if e.skip_reason()]
    assert {e.command for e in skipped} >= set(SKIPPED), "a skipped example is no longer in the README"
    runnable = [e for e in examples if not e.skip_reason()]
    failures: list[str] = []

    def start(example: Example) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["bash", "-c", example.command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    for example in [e for e in runnable if not e.runs_until_stopped]:
        process = start(example)
        try:
            _, err = process.communicate(timeout=FINITE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop(process)
            failures.append(f"README:{example.line}: `{example.command}` still ran after {FINITE_TIMEOUT_S:g} s")
            continue
        if process.returncode != example.expected_status:
            failures.append(
                f"README:{example.line}: `{example.command}` exited {process.returncode}, "
                f"the README says {example.expected_status}: {err.strip()[-400:]}"
            )

    followers = [(example, start(example)) for example in runnable if example.runs_until_stopped]
    time.sleep(FOLLOW_S)
    for example, process in followers:
        ended = process.poll()
        _, err = _stop(process)
        if ended is not None and ended != 0:
            failures.append(f"README:{example.line}: `{example.command}` ended {ended}: {err.strip()[-400:]}")
        elif "vac: error" in err or "Traceback" in err:
            failures.append(f"README:{example.line}: `{example.command}` printed an error: {err.strip()[-400:]}")
    assert not failures, "\n".join(failures)
