"""The `vac` entry point: global options, sub-commands, and the one place where errors
become exit codes.

Start-up is paid on every command an operator types, so this module imports only typer and
vac's light parts: a sub-command's module (and the heavy core it needs: Kafka's client,
Elasticsearch's, numpy, Textual) is imported when that sub-command runs, or when its own
`--help` is asked for (click's documented LazyGroup pattern, on typer's group class). `vac --help`
lists every command from the one-line helps registered here; a test keeps them equal to each
module's own help.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from commands.context import BrokersOpt, CliContext, PropertyOpt
from commands.output import configure_logging, info, known_secrets, print_error
from vac import __version__
from vac.errors import ExitStatus, UsageError, VacError
from vac.redact import redact_text


@dataclass(frozen=True)
class Lazy:
    """A sub-command imported when used: `module:attribute` is a `typer.Typer` (a group of
    sub-commands) or a function (one command); `help` is its one line in `vac --help`."""

    target: str
    help: str


# Registering a command is one line here (keep `help` equal to the first line of its docstring
# or of its Typer's help: tests/cli/test_startup.py checks it).
SUB_COMMANDS: dict[str, Lazy] = {
    "doctor": Lazy(
        "commands.doctor:doctor",
        "Check Java, Maven, the configured Kafka and Elasticsearch, and SASL support; exit 1 on a failure.",
    ),
    "query": Lazy("commands.query:query", "Search the log records in Elasticsearch: Kibana Discover in a terminal."),
    "dash": Lazy(
        "commands.dash:dash",
        "Pipeline health, live SCADA values with alarms, and the live log stream, in a terminal.",
    ),
    "local": Lazy(
        "commands.local:app",
        "Start, inspect and stop a real single-node Kafka and Elasticsearch on this machine.",
    ),
    "config": Lazy("commands.config:app", "Show and check vac's configuration."),
    "stream": Lazy("commands.stream:app", "Stream data into Kafka."),
    "ship": Lazy("commands.ship:app", "Ship data to Kafka or Elasticsearch."),
    "index": Lazy("commands.index:app", "Index the log records of Kafka into Elasticsearch, in a consumer group."),
    "audit": Lazy("commands.audit:app", "Prove that nothing was lost between the sources, Kafka and Elasticsearch."),
    "tail": Lazy("commands.tail:app", "Live views of Kafka data."),
    "probe": Lazy("commands.probe:app", "Measure the pipeline."),
    "topics": Lazy("commands.topics:app", "List, describe, create, delete and configure Kafka topics."),
    "service": Lazy(
        "commands.service:app", "systemd units for the long-running jobs (ship-logs, index, stream-scada)."
    ),
    "groups": Lazy("commands.groups:app", "List and describe consumer groups; reset their offsets."),
    "produce": Lazy(
        "commands.produce:produce",
        "Send each non-empty line as one message, with acks=all; exit 1 if any message failed.",
    ),
    "scada": Lazy(
        "commands.scada:app",
        "SCADA values: every DPE's current value, a DPE's history, the pressure along a sector.",
    ),
    "alarms": Lazy(
        "commands.alarms:app", "Alarms shared through Kafka: evaluate them headless, list them, acknowledge them."
    ),
    "timeline": Lazy(
        "commands.timeline:timeline",
        "The DPEs' values, their alarms and the SCADA servers' log records around a moment, by time.",
    ),
}

# The root's options that every sub-command accepts too (`vac config show --config F`), each
# with the CliContext field it sets.
GLOBAL_OPTION_FIELDS = {"config": "config_path", "debug": "debug"}


def build_command(name: str, lazy: Lazy) -> Any:
    """The click command of a lazily registered sub-command, built as `add_typer` or
    `app.command` would have built it."""
    module_name, attribute = lazy.target.split(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        return typer.main.get_group_from_info(
            typer.models.TyperInfo(target, name=name),
            pretty_exceptions_short=True,
            suggest_commands=True,
            rich_markup_mode=target.rich_markup_mode,
        )
    return typer.main.get_command_from_info(
        typer.models.CommandInfo(name=name, callback=target),
        pretty_exceptions_short=True,
        rich_markup_mode=typer.core.DEFAULT_MARKUP_MODE,
    )


class VacGroup(TyperGroup):
    """The root group: sub-commands from SUB_COMMANDS, imported on first use; the root's
    global options added to each of them."""

    _listing = False  # True while the root's help is drawn: its rows need no import

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._with_globals: set[str] = set()

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(name for name in SUB_COMMANDS if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if command is None:
            lazy = SUB_COMMANDS.get(cmd_name)
            if lazy is None:
                return None
            if self._listing:  # a row of `vac --help` or of a completion's list
                return typer.core.TyperCommand(name=cmd_name, help=lazy.help, callback=None)
            command = self.commands[cmd_name] = build_command(cmd_name, lazy)
        if not self._listing and cmd_name not in self._with_globals:  # also one added by app.add_typer
            self._with_globals.add(cmd_name)
            self._add_global_options(command)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self._listing = True  # completing a command's name lists names, it runs none
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._listing = False

    def _add_global_options(self, command: Any) -> None:
        globals_ = [param for param in self.params if param.name in GLOBAL_OPTION_FIELDS]
        for sub in _walk(command):
            taken = {opt for param in sub.params for opt in (*param.opts, *param.secondary_opts)}
            for param in globals_:
                if taken & {*param.opts, *param.secondary_opts}:
                    continue  # the sub-command's own option of that name wins (`service install --config`)
                option = copy.copy(param)
                option.expose_value = False
                option.callback = _set_global
                option.rich_help_panel = "Global options"  # type: ignore[attr-defined]
                sub.params.append(option)


def _walk(command: Any) -> list[Any]:
    found = [command]
    for sub in getattr(command, "commands", {}).values():
        found.extend(_walk(sub))
    return found


def _set_global(ctx: Any, param: Any, value: Any) -> Any:
    """A global option given after the sub-command: it overrides the root's value."""
    if value is None or value == param.default or param.name is None:
        return value
    obj = ctx.find_root().obj
    if obj is not None:
        setattr(obj, GLOBAL_OPTION_FIELDS[param.name], value)
    return value


def exit_status_for(error: VacError) -> ExitStatus:
    return error.exit_status


app = typer.Typer(
    name="vac",
    cls=VacGroup,
    help="Operator suite for the vacuum control system: SCADA values and server logs as one "
    "stream through Kafka and Elasticsearch.\n\nExample: vac local up && vac doctor",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
        info("interrupted")
        return ExitStatus.INTERRUPTED


def _command_path(argv: list[str]) -> str:
    """`vac tail topic` from the arguments: the sub-commands named in them, in order."""
    root = typer.main.get_command(app)
    path, command, ctx = ["vac"], root, typer.Context(root)
    for arg in argv:
        if not isinstance(command, TyperGroup):
            break  # a command, not a group: the rest are its arguments
        if arg in command.list_commands(ctx):  # anything else before it is a global option or its value
            path.append(arg)
            sub = command.get_command(ctx, arg)
            if sub is None:
                break
            command = sub
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
