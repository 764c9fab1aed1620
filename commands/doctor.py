"""`vac doctor`: check this machine and the configured Kafka and Elasticsearch."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, stdout
from vac.errors import ExitStatus

_COLOUR = {"ok": "green", "warn": "yellow", "fail": "red"}


@kafka_options
def doctor(
    ctx: typer.Context,
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")] = TextOrJson.text,
) -> None:
    """Check Java, Maven, the configured Kafka and Elasticsearch, and SASL support; exit 1 on a failure.

    Example: vac doctor --output json
    """
    from vac.doctor import run_checks  # imported here: the Elasticsearch client is slow to import

    checks = run_checks(cli_context(ctx).settings())
    if output is TextOrJson.json:
        emit_json({"ok": all(c.status != "fail" for c in checks), "checks": [asdict(c) for c in checks]})
    else:
        for check in checks:
            stdout.print(f"[{_COLOUR[check.status]}]{check.status:<4}[/] {check.name:<13} {check.detail}")
            if check.hint and check.status != "ok":
                stdout.print(f"     {'':<13} hint: {check.hint}", markup=False)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(ExitStatus.ERROR)
