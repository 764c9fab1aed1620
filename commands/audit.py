"""`vac audit logs`: file -> Kafka -> Elasticsearch, every gap as file + byte range + count."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from commands.context import cli_context
from commands.output import TextOrJson, emit_json, quiet_on_closed_pipe, run_until_stopped, stdout
from commands.ship import ParserName
from vac.errors import ExitStatus
from vac.printable import printable
from vac.settings import LogInput
from vac.timegrammar import parse_instant, zone

if TYPE_CHECKING:
    from vac.logs.audit import AuditReport

app = typer.Typer(
    help="Prove that nothing was lost between the sources, Kafka and Elasticsearch.\n\n"
    "Example: vac audit logs --path '*/PVSS_II.log*'",
    no_args_is_help=True,
)


class AuditTarget(StrEnum):
    kafka = "kafka"
    elasticsearch = "elasticsearch"
    both = "both"


def _moment(text: str | None, option: str, local: tzinfo | None) -> datetime | None:
    return None if text is None else parse_instant(text, datetime.now(UTC), local, option)


def _status_line(status: dict[str, Any]) -> str:
    if status["stage"] == "kafka":
        return f"reading the topic: {status['messages']:,} messages, {status['foreign']:,} foreign"
    return f"re-reading {printable(status['path'])}: {status['offset']:,} of {status['size']:,} bytes"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _line(text: str) -> Text:
    """Outside text (a registered path is any bytes a file was named) as plain text: no Rich
    markup (a `[/]` in a name), no terminal controls."""
    return Text(printable(text))


def _render(report: AuditReport) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("file", "status", "lines", "records", "kafka", "dups", "es", "gaps"):
        table.add_column(column, justify="left" if column in ("file", "status") else "right")
    for audit in report.files:
        table.add_row(
            _line(audit.path),
            audit.status,
            _count(audit.lines),
            _count(audit.records),
            _count(audit.kafka_records) if report.to != "elasticsearch" else "-",
            _count(audit.kafka_duplicates) if report.to != "elasticsearch" else "-",
            _count(audit.es_documents) if report.to != "kafka" else "-",
            str(len(audit.gaps)),
        )
    stdout.print(table)
    for audit, gap in report.gaps:
        where = "not in Kafka" if gap.stage == "kafka" else "not in Elasticsearch"
        count = "records (count unknown: file gone)" if gap.records is None else f"{gap.records:,} records"
        stdout.print(_line(f"GAP {audit.path} bytes [{gap.start}, {gap.end}): {count} {where}"))
    for audit in report.files:
        if audit.note:
            stdout.print(_line(f"note: {audit.path}: {audit.note}"))
    others = []
    if report.foreign:
        others.append(f"{report.foreign:,} foreign messages (not shipped records) skipped")
    if report.unregistered:
        others.append(f"{report.unregistered:,} records of files this registry does not know")
    if any(gap.stage == "elasticsearch" for _, gap in report.gaps):
        # The most common such gap is no loss at all: the indexer has not got there yet.
        others.append("if vac index is still running, `vac topics describe` shows whether it is behind")
    if report.interrupted:
        verdict = f"incomplete: interrupted before the end, {len(report.gaps)} gap(s) found so far"
    else:
        verdict = "complete: no gap" if report.complete else f"{len(report.gaps)} gap(s)"
    stdout.print(_line("; ".join([verdict, *others])))


@app.command()
def logs(
    ctx: typer.Context,
    registry: Annotated[Path | None, typer.Option(help="The shipper's registry (default: logs.registry_file).")] = None,
    path: Annotated[
        str | None, typer.Option("--path", help="Only files whose registered path matches this glob.")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Log topic (default: logs.topic).")] = None,
    index: Annotated[
        str | None, typer.Option("--index", help="Index name template (default: index.name_template).")
    ] = None,
    app_id: Annotated[
        str | None,
        typer.Option(help="fields.app_id of files no logs.inputs entry matches (needed with --to elasticsearch)."),
    ] = None,
    parser: Annotated[
        ParserName, typer.Option(help="Format of files no logs.inputs entry matches (as given to vac ship logs).")
    ] = ParserName.winccoa,
    since: Annotated[
        str | None, typer.Option(help="Only records whose own time is at or after: -2h, today, an ISO time.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only records whose own time is before, in the same forms.")] = None,
    to: Annotated[
        AuditTarget,
        typer.Option("--to", help="Where the shipper delivered: kafka, elasticsearch, or both (via vac index)."),
    ] = AuditTarget.both,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress line.")] = False,
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="A table or one JSON object.")] = TextOrJson.text,
) -> None:
    """Count every shipped file's records in the file, in Kafka and in Elasticsearch.

    Each gap is reported as file + byte range + number of records missing; the exit status
    is 1 if there is any, 130 if the audit was interrupted (its result is then incomplete).
    Kafka is read from its beginning without a consumer group.

    Example: vac audit logs --registry ship-registry.json -o json
    """
    from vac.logs.audit import AuditOptions, audit_logs  # lazily: see commands/main.py

    settings = cli_context(ctx).settings()
    options = AuditOptions(
        registry=registry or settings.logs.registry_file or settings.local.resolved_state_dir() / "ship-registry.json",
        topic=topic or settings.logs.topic,
        index_template=index or settings.index.name_template,
        to=to.value,
        path_glob=path,
        since=_moment(since, "--since", zone(settings.query.timezone)),
        until=_moment(until, "--until", zone(settings.query.timezone)),
        fallback_input=LogInput(paths=["*"], app_id=app_id or "", parser=parser.value),
    )
    cancelled = threading.Event()
    report = run_until_stopped(
        lambda draw: audit_logs(settings, options, cancelled, draw), cancelled, _status_line, quiet
    )
    with quiet_on_closed_pipe():
        if output is TextOrJson.json:
            emit_json(report.to_json())
        else:
            _render(report)
    if report.interrupted:  # stopped by SIGTERM: its "no gap" proves nothing
        raise typer.Abort
    if not report.complete:
        raise typer.Exit(ExitStatus.ERROR)
