"""`vac ship logs`: tail log files and deliver their parsed records (Filebeat + Logstash)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, run_job
from vac.errors import ExitStatus, UsageError
from vac.logs.shipper import LogShipper, ShipOptions
from vac.records.job import ShipStatus, ShipSummary
from vac.settings import LogInput, VacSettings

app = typer.Typer(
    help="Ship data to Kafka or Elasticsearch.\n\n"
    "Example: vac ship logs --path '/opt/vacin/PVSS_projects/*/*/log/PVSS_II.log' --app-id vac_lhc_scada_logs",
    no_args_is_help=True,
)


class Target(StrEnum):
    kafka = "kafka"
    elasticsearch = "elasticsearch"
    stdout = "stdout"


class ParserName(StrEnum):
    winccoa = "winccoa"
    tomcat_access = "tomcat_access"
    spring_boot = "spring_boot"


def _status_line(status: ShipStatus) -> str:
    return (
        f"{status.rate:>9,.0f} lines/s  records {status.records:,}  acked {status.acked:,}  "
        f"in flight {status.in_flight:,}  files {len(status.files)}  behind {status.behind_bytes:,} B"
    )


def _summary_text(summary: ShipSummary) -> str:
    return (
        f"lines {summary.lines:,}  records {summary.records:,}  acked {summary.acked:,}  "
        f"failed {summary.failed:,}  files {len(summary.files)}  "
        f"{summary.rate:,.0f} lines/s over {summary.duration_s:.1f} s"
    )


def _inputs(settings: VacSettings, paths: list[str] | None, app_id: str | None, parser: ParserName) -> list[LogInput]:
    if paths:
        if not app_id:
            raise UsageError("--path needs --app-id", hint="e.g. --app-id vac_lhc_1_scada_logs")
        return [LogInput(paths=paths, app_id=app_id, parser=parser.value)]
    return list(settings.logs.inputs)


@app.command()
@kafka_options
def logs(
    ctx: typer.Context,
    path: Annotated[
        list[str] | None, typer.Option("--path", help="File glob to tail (repeatable); overrides logs.inputs.")
    ] = None,
    app_id: Annotated[str | None, typer.Option(help="fields.app_id of the --path files.")] = None,
    parser: Annotated[ParserName, typer.Option(help="Format of the --path files.")] = ParserName.winccoa,
    to: Annotated[Target | None, typer.Option("--to", help="Sink (default: logs.sink, kafka).")] = None,
    once: Annotated[bool, typer.Option("--once", help="Read every file to its end, deliver, and exit.")] = False,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="First run: read existing files from their start, not their end.")
    ] = False,
    registry: Annotated[
        Path | None, typer.Option(help="Registry of read positions (default: logs.registry_file).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live status line.")] = False,
    output: Annotated[
        TextOrJson, typer.Option("--output", "-o", help="The summary as text or one JSON object.")
    ] = TextOrJson.text,
) -> None:
    """Tail log files, join multi-line records, parse them and deliver them without losing a line.

    Read positions are saved only for records the sink acknowledged, so a restart resumes
    where delivery stopped. SIGTERM or Ctrl-C flushes and saves.

    Example: vac ship logs --path 'logs/*.log' --app-id vac_lhc_1_scada_logs --once --from-beginning
    """
    settings = cli_context(ctx).settings()
    inputs = _inputs(settings, path, app_id, parser)
    registry_path = (
        registry or settings.logs.registry_file or settings.local.resolved_state_dir() / "ship-registry.json"
    )
    target = to or Target(settings.logs.sink)
    options = ShipOptions(once=once, from_beginning=from_beginning, sink=target.value)
    shipper = LogShipper(settings, inputs, registry_path, options)
    # Into stdout: stdout carries the records; no live line, the summary goes to stderr.
    to_stdout = target is Target.stdout
    summary = run_job(shipper, _status_line, quiet or to_stdout, output, _summary_text, summary_to_stderr=to_stdout)
    if summary.first_failure or summary.unacknowledged:
        raise typer.Exit(ExitStatus.ERROR)
