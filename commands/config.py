"""`vac config`: see the effective configuration and check a config file."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, info, stdout
from vac.config_file import ConfigProblem
from vac.errors import ConfigError, UsageError
from vac.settings import check_file, find_config_file, redacted

app = typer.Typer(
    help="Show and check vac's configuration.\n\nExample: vac config check vac.yaml", no_args_is_help=True
)


class YamlOrJson(StrEnum):
    yaml = "yaml"
    json = "json"


@app.command()
@kafka_options
def show(
    ctx: typer.Context,
    output: Annotated[YamlOrJson, typer.Option("--output", "-o", help="yaml or json.")] = YamlOrJson.yaml,
) -> None:
    """Print the effective configuration (file, environment and defaults merged), secrets redacted.

    Example: VAC_KAFKA__BOOTSTRAP_SERVERS=broker:9093 vac config show -o json
    """
    loaded = cli_context(ctx).load()
    info(f"# from {loaded.config_file or 'defaults and environment (no config file found)'}")
    data = redacted(loaded.settings)
    if output is YamlOrJson.json:
        emit_json(data)
    else:
        stdout.print(yaml.safe_dump(data, sort_keys=False), markup=False, end="")


@app.command()
def check(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="The file to check (default: the one vac would read).")] = None,
    output: Annotated[
        TextOrJson, typer.Option("--output", "-o", help="text, or one JSON object: file, ok, problems.")
    ] = TextOrJson.text,
) -> None:
    """Report every problem of a config file with its line and key; exit 2 if there is one.

    Example: vac config check config/vac.yaml -o json
    """
    path = file or find_config_file(cli_context(ctx).config_path, os.environ)
    if path is None:
        raise UsageError("no config file to check", hint="name one: vac config check FILE")
    if path.is_dir():
        raise ConfigError(f"config file {path} is a directory", hint="name the YAML file inside it")
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    problems = check_file(path)
    if output is TextOrJson.json:
        emit_json({"file": str(path), "ok": not problems, "problems": [_problem_json(p) for p in problems]})
    for problem in problems if output is TextOrJson.text else []:
        stdout.print(str(problem), markup=False)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in {path}", hint="fix the lines above")
    if output is TextOrJson.text:
        info(f"{path}: ok")


def _problem_json(problem: ConfigProblem) -> dict[str, object]:
    return {
        "file": None if problem.file is None else str(problem.file),
        "line": problem.line,
        "key": problem.key,
        "message": problem.message,
        "suggestion": problem.suggestion,
    }
