"""Printing for the CLI: data to stdout (text or JSON), diagnostics to stderr.

Rich honours NO_COLOR and drops colour when the stream is not a terminal.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

if TYPE_CHECKING:  # rich loads when something is printed through it, not at start-up
    from rich.console import Console

from vac.errors import VacError
from vac.printable import printable
from vac.records.job import Job, JobStatus
from vac.redact import redact_text

_consoles: dict[str, Console] = {}


def __getattr__(name: str) -> Console:
    """`stdout` and `stderr`, the Rich consoles, made on first use."""
    if name not in ("stdout", "stderr"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Console:
    if name not in _consoles:
        from rich.console import Console

        _consoles[name] = Console(stderr=name == "stderr", highlight=False, soft_wrap=True)
    return _consoles[name]


known_secrets: set[str] = set()
"""The secrets of the settings this run loaded: an error that quotes one shows stars."""


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


def emit_json(data: Any) -> None:
    """One JSON document on one line of stdout."""
    sys.stdout.write(orjson.dumps(data, default=str).decode() + "\n")
    sys.stdout.flush()


def journal_stderr() -> bool:
    """True when stderr is the journal's stream of a systemd service. systemd names that stream
    in $JOURNAL_STREAM (device:inode); a child whose stderr was redirected inherits the variable,
    so the two are compared."""
    try:
        device, inode = (int(part) for part in os.environ.get("JOURNAL_STREAM", "").split(":"))
        status = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return (status.st_dev, status.st_ino) == (device, inode)


# sd-daemon(3): a line starting <N> is logged at syslog priority N (`journalctl -p warning`).
_SYSLOG_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}
LOG_FORMAT = "vac: %(levelname)s: %(message)s"


class JournalFormatter(logging.Formatter):
    """Log lines with their syslog priority in front, for the journal."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _SYSLOG_PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        return f"<{priority}>{super().format(record)}"


def configure_logging() -> None:
    """The core logs what it skips or retries; the CLI shows it as one line on stderr (in a
    systemd service, with its priority for the journal)."""
    logging.basicConfig(format=LOG_FORMAT, level=logging.WARNING)
    if journal_stderr():
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JournalFormatter(LOG_FORMAT))


def print_error(error: VacError) -> None:
    # Messages quote what the user typed and what servers answered: shown, never interpreted
    # (a `[/]` in a --where is not Rich markup, an ESC in a topic name is not a terminal command),
    # and, as the last guard, without a password a library's message may quote.
    from rich.text import Text

    priority = "<3>" if journal_stderr() else ""
    stderr = _console("stderr")
    stderr.print(
        Text(f"{priority}vac: error:", style="bold red"), Text(printable(redact_text(error.message, known_secrets)))
    )
    if error.hint:
        for line in redact_text(error.hint, known_secrets).splitlines():
            stderr.print(f"{priority}  {printable(line)}", markup=False)


def info(message: str) -> None:
    _console("stderr").print(message, markup=False)


@contextmanager
def quiet_on_closed_pipe() -> Iterator[None]:
    """End quietly when the reader goes away (`vac tail topic x | head`). It must be caught
    inside the command: click turns a broken pipe into exit status 1."""
    try:
        yield
    except BrokenPipeError:
        # Keep Python from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextmanager
def progress(initial: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on a terminal; one line per step otherwise."""
    stderr = _console("stderr")
    if stderr.is_terminal:
        with stderr.status(initial) as status:
            yield lambda message: status.update(message)
    else:
        seen: set[str] = set()

        def step(message: str) -> None:
            if message not in seen:  # waiting loops repeat themselves
                seen.add(message)
                info(message)

        yield step


Status = TypeVar("Status")
Result = TypeVar("Result")
StatusT = TypeVar("StatusT", bound=JobStatus)
SummaryT = TypeVar("SummaryT", bound=JobStatus)


def run_until_stopped(
    job: Callable[[Callable[[Status], None] | None], Result],
    cancelled: threading.Event,
    status_line: Callable[[Status], str],
    quiet: bool,
) -> Result:
    """Run a long job that stops when `cancelled` is set: SIGTERM sets it (the job flushes
    and returns), Ctrl-C sets it too. On a terminal, unless quiet, the job's status is kept
    on one live line of stderr."""
    signal.signal(signal.SIGTERM, lambda *_: cancelled.set())
    stderr = _console("stderr")
    show = not quiet and stderr.is_terminal

    def draw(status: Status) -> None:
        stderr.file.write(f"\r{status_line(status)}   ")
        stderr.file.flush()

    try:
        return job(draw if show else None)
    except KeyboardInterrupt:  # what was sent is flushed by the job's own cleanup
        cancelled.set()
        raise
    finally:
        if show:
            stderr.file.write("\n")


def run_job(
    job: Job[StatusT, SummaryT],
    status_line: Callable[[StatusT], str],
    quiet: bool,
    output: TextOrJson,
    summary_text: Callable[[SummaryT], str],
    summary_to_stderr: bool = False,
) -> SummaryT:
    """Run any job that runs until stopped (`vac.records.job.Job`): prepare it, run it until
    it ends or is stopped (`run_until_stopped`), and print its summary: text, or its JSON with
    `-o json` (to stderr when stdout carries the job's own output)."""
    cancelled = threading.Event()
    job.prepare(cancelled)
    summary = run_until_stopped(lambda draw: job.run(cancelled, draw), cancelled, status_line, quiet)
    if summary_to_stderr:
        _console("stderr").print(summary_text(summary), markup=False)
    elif output is TextOrJson.json:
        emit_json(summary.as_json())
    else:
        sys.stdout.write(summary_text(summary) + "\n")
    return summary
