"""The `vac` entry point: global options, sub-commands, and the one place where errors
become exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

# The sub-command modules import the heavy parts of the core (Elasticsearch's client, numpy,
# the probes, the dashboard) inside their commands: every vac start would pay for them.
from commands import alarms as alarm_commands
from commands import audit as audit_commands
from commands import config as config_commands
from commands import dash as dash_commands
from commands import doctor as doctor_commands
from commands import groups as groups_commands
from commands import index as index_commands
from commands import local as local_commands
from commands import probe as probe_commands
from commands import produce as produce_commands
from commands import query as query_commands
from commands import scada as scada_commands
from commands import service as service_commands
from commands import ship as ship_commands
from commands import stream as stream_commands
from commands import tail as tail_commands
from commands import timeline as timeline_commands
from commands import topics as topics_commands
from commands.context import BrokersOpt, CliContext, PropertyOpt
from commands.output import configure_logging, known_secrets, print_error, stderr
from vac import __version__
from vac.errors import ExitStatus, UsageError, VacError
from vac.redact import redact_text


def exit_status_for(error: VacError) -> ExitStatus:
    return error.exit_status


app = typer.Typer(
    name="vac",
    help="Operator suite for the vacuum control system: SCADA values and server logs as one "
    "stream through Kafka and Elasticsearch.\n\nExample: vac local up && vac doctor",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(local_commands.app, name="local")
app.add_typer(config_commands.app, name="config")
app.add_typer(stream_commands.app, name="stream")
app.add_typer(ship_commands.app, name="ship")
app.add_typer(index_commands.app, name="index")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(tail_commands.app, name="tail")
app.add_typer(probe_commands.app, name="probe")
app.add_typer(topics_commands.app, name="topics")
app.add_typer(groups_commands.app, name="groups")
app.add_typer(scada_commands.app, name="scada")
app.add_typer(service_commands.app, name="service")
app.add_typer(alarm_commands.app, name="alarms")
app.command("doctor")(doctor_commands.doctor)
app.command("query")(query_commands.query)
app.command("dash")(dash_commands.dash)
app.command("timeline")(timeline_commands.timeline)
app.command("produce")(produce_commands.produce)


def _show_version(value: bool) -> None:
    if value:
        print(f"vac {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="YAML config file (default: $VAC_CONFIG, ./vac.yaml, the user config dir)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    brokers: BrokersOpt = None,
    properties: PropertyOpt = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = CliContext(config_path=config, debug=debug)
    ctx.obj.add_kafka_flags(brokers, properties)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("VAC_DEBUG", "") not in ("", "0")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising it (tests call this too)."""
    argv = sys.argv[1:] if argv is None else argv
    configure_logging()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="vac", standalone_mode=False)
        return int(result) if isinstance(result, int) else ExitStatus.OK
    except VacError as error:
        if _debug_requested(argv):  # the traceback, and still the exit status scripts rely on
            sys.stderr.write(redact_text(traceback.format_exc(), known_secrets))
        print_error(error)
        return exit_status_for(error)
    except typer.Exit as done:
        return done.exit_code
    except typer.TyperException as error:  # typer's own click: bad options, unknown commands
        return _click_error(error, argv)
    except (KeyboardInterrupt, typer.Abort):
        stderr.print("interrupted")
        return ExitStatus.INTERRUPTED


def _command_path(argv: list[str]) -> str:
    """`vac tail topic` from the arguments: the sub-commands named in them, in order."""
    path, command = ["vac"], typer.main.get_command(app)
    for arg in argv:
        sub_commands = getattr(command, "commands", None)
        if not isinstance(sub_commands, dict):
            break  # a command, not a group: the rest are its arguments
        if arg in sub_commands:  # anything else before it is a global option or its value
            path.append(arg)
            command = sub_commands[arg]
    return " ".join(path)


def _click_error(error: typer.TyperException, argv: list[str]) -> int:
    """Click's errors in vac's one-line form (`vac: error: No such option: --bogus` and where the
    options are) instead of click's usage block. Typer's click is private (`typer._click`),
    so its exceptions are read by their attributes, not imported."""
    code = getattr(error, "exit_code", ExitStatus.USAGE)
    status = int(code) if isinstance(code, int) else ExitStatus.USAGE
    if type(error).__name__ == "NoArgsIsHelpError":  # `vac local` alone: the help is the answer
        show = getattr(error, "show", None)
        if callable(show):
            show(file=sys.stderr)
        return status
    format_message = getattr(error, "format_message", None)
    message = str(format_message() if callable(format_message) else error)
    # Errors of the option parser carry no context: the command comes from the arguments.
    command_path = getattr(getattr(error, "ctx", None), "command_path", None)
    command = command_path if isinstance(command_path, str) and command_path else _command_path(argv)
    print_error(UsageError(message, hint=f"see `{command} --help`"))
    return status


def entry_point() -> None:
    sys.exit(run())
