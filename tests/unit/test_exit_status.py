"""Each VacError class carries its exit status; the CLI and the core read the same values."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from commands.main import exit_status_for
from vac import errors
from vac.errors import ExitStatus, VacError
from vac.es.client import SearchDenied, SearchRefused, SearchUnreachable

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (errors.ConfigError, 2),
        (errors.UsageError, 2),
        (errors.TopicNotFound, 2),
        (errors.QueryError, 2),
        (errors.IndexNotFound, 2),
        (errors.KafkaUnavailable, 3),
        (errors.SearchUnavailable, 3),
        (errors.SourceUnavailable, 3),
        (errors.StartTimeout, 4),
        (errors.LocalStackError, 1),
        (errors.PortInUse, 1),
        (errors.ToolMissing, 1),
        (errors.PermissionDenied, 1),
        (VacError, 1),
        # The Elasticsearch client's errors as the one edge makes them: a 401 is not "unavailable".
        (SearchDenied, 1),
        (SearchRefused, 1),
        (SearchUnreachable, 3),
    ],
)
def test_each_error_class_ends_in_its_documented_status(kind: type[VacError], status: int) -> None:
    assert kind.exit_status == status
    error = kind.__new__(kind)  # the status is the class's: no instance state needed
    assert exit_status_for(error) == status


def test_every_error_class_of_the_core_has_a_status() -> None:
    classes = [value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, VacError)]
    assert len(classes) >= 15
    for kind in classes:
        assert isinstance(kind.exit_status, ExitStatus), kind


def test_the_statuses_scripts_and_systemd_rely_on_do_not_move() -> None:
    assert [(s.name, int(s)) for s in ExitStatus] == [
        ("OK", 0),
        ("ERROR", 1),
        ("USAGE", 2),
        ("UNAVAILABLE", 3),
        ("TIMEOUT", 4),
        ("INTERRUPTED", 130),
    ]


def test_no_command_hard_codes_an_exit_number() -> None:
    """`typer.Exit(1)` drifts from what the README's table says; ExitStatus members do not."""
    found = []
    for path in sorted((ROOT / "commands").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            exits = isinstance(node, ast.Call) and re.search(r"\bExit$", ast.unparse(node.func))
            if isinstance(node, ast.Call) and exits and any(isinstance(arg, ast.Constant) for arg in node.args):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and type(node.value.value) is int:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
