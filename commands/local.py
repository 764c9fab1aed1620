"""`vac local`: the real Kafka and Elasticsearch on this machine."""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Annotated

import typer

from commands.context import cli_context, drop_none
from commands.output import TextOrJson, emit_json, info, progress, stdout
from vac.errors import ExitStatus, UsageError
from vac.local.logfiles import follow_lines, tail_lines
from vac.local.stack import LocalStack, Progress, StackStatus

app = typer.Typer(
    help="Start, inspect and stop a real single-node Kafka and Elasticsearch on this machine.\n\n"
    "Example: vac local up --kafka-brokers 3",
    no_args_is_help=True,
)


class Service(StrEnum):
    kafka = "kafka"
    elasticsearch = "elasticsearch"


ServicesArg = Annotated[
    list[Service] | None, typer.Argument(help="Services to act on (default: both).", show_default=False)
]
OutputOpt = Annotated[TextOrJson, typer.Option("--output", "-o", help="text for people, json for scripts.")]


def _names(services: list[Service] | None) -> list[str]:
    return [s.value for s in services] if services else [s.value for s in Service]


def _stack(ctx: typer.Context, step: Progress | None = None, **local_overrides: object) -> LocalStack:
    return LocalStack(cli_context(ctx).settings(drop_none("local", **local_overrides)), step)


def _print_status(status: StackStatus) -> None:
    for service in status.services:
        colour = "green" if service.healthy else ("yellow" if service.state != "stopped" else "red")
        version = f" {service.version}" if service.version else ""
        pids = f" pid {','.join(map(str, service.pids))}" if service.pids else ""
        stdout.print(
            f"[{colour}]{service.state:<9}[/] {service.name:<13} {service.endpoint:<28}"
            f"{version}{pids}  {service.detail}"
        )
        stdout.print(f"{'':<9} {'':<13} {service.security}", markup=False, highlight=False)
        if service.users:
            access = f"listeners: {'; '.join(service.listeners)}  users: {'; '.join(service.users)}"
            stdout.print(f"{'':<9} {'':<13} {access}", markup=False, highlight=False)
    if status.client_config:
        stdout.print(f"client config: {status.client_config}", markup=False, highlight=False)
        for key, value in status.client_env.items():
            stdout.print(f"export {key}={value}", markup=False, highlight=False)


@app.command()
def up(
    ctx: typer.Context,
    services: ServicesArg = None,
    kafka_brokers: Annotated[int | None, typer.Option(help="KRaft nodes (broker+controller each).")] = None,
    kafka_port: Annotated[int | None, typer.Option(help="Client port of the first Kafka node.")] = None,
    elasticsearch_port: Annotated[int | None, typer.Option(help="Elasticsearch HTTP port.")] = None,
    secure: Annotated[
        bool | None,
        typer.Option(
            "--secure/--open",
            help="Secured as production: Kafka SASL_SSL (Kerberos, SCRAM) with ACLs, Elasticsearch https with "
            "users, a local KDC; writes the client config vac-secure.yaml in the state dir.",
            show_default=False,
        ),
    ] = None,
    kdc_port: Annotated[int | None, typer.Option(help="Port of the local Kerberos KDC (with --secure).")] = None,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Install (the first time, from Maven Central) and start the stack; wait until it is healthy.

    Example: vac local up            (Kafka on 127.0.0.1:9092, Elasticsearch on 127.0.0.1:9200)
    """
    with progress("starting the local stack") as step:
        stack = _stack(
            ctx,
            step,
            kafka_brokers=kafka_brokers,
            kafka_port=kafka_port,
            elasticsearch_port=elasticsearch_port,
            secure=secure,
            kdc_port=kdc_port,
        )
        result = stack.up(_names(services), cancelled=threading.Event())
    if output is TextOrJson.json:
        emit_json(result.status.to_json() | {"started": result.started, "already_running": result.already_running})
        return
    for name in result.already_running:
        info(f"{name} is already running")
    _print_status(result.status)


@app.command()
def down(ctx: typer.Context, services: ServicesArg = None, output: OutputOpt = TextOrJson.text) -> None:
    """Stop the stack gracefully; its data stays for the next `up`.

    Example: vac local down -o json
    """
    with progress("stopping the local stack") as step:
        stopped = _stack(ctx, step).down(_names(services))
    if output is TextOrJson.json:
        emit_json({"stopped": list(stopped)})
        return
    info(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(ctx: typer.Context, services: ServicesArg = None, output: OutputOpt = TextOrJson.text) -> None:
    """Show each service's state, pid, endpoint, version and health; exit 3 if one is not healthy.

    Example: vac local status --output json
    """
    result = _stack(ctx).status(_names(services))
    if output is TextOrJson.json:
        emit_json(result.to_json())
    else:
        _print_status(result)
    if not result.healthy:
        raise typer.Exit(ExitStatus.UNAVAILABLE)


@app.command()
def logs(
    ctx: typer.Context,
    service: Annotated[Service, typer.Argument(help="Whose log to show.")] = Service.kafka,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many of the last lines.")] = 40,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")] = False,
) -> None:
    """Print the last lines of a service's log (every Kafka node's, in turn).

    Example: vac local logs elasticsearch -n 100
    """
    stack = _stack(ctx)
    files = [path for path in stack.log_files(service.value) if path.exists()]
    if not files:
        raise UsageError(f"{service.value} has no log yet in {stack.state_dir}", hint="`vac local up` starts it")
    for path in files:
        if len(files) > 1:
            info(f"==> {path} <==")
        for line in tail_lines(path, lines):
            print(line)
    if follow:
        cancelled = threading.Event()
        try:
            for line in follow_lines(files[-1], cancelled):
                print(line, flush=True)
        except KeyboardInterrupt:
            cancelled.set()


@app.command()
def reset(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Stop the stack and delete all its data, logs and state (the downloads stay cached).

    Example: vac local reset --dry-run -o json
    """
    stack = _stack(ctx)
    plan = stack.reset_plan()
    as_json = output is TextOrJson.json
    if not plan:
        if as_json:
            emit_json({"deleted": [], "dry_run": dry_run})
        else:
            info(f"nothing to delete in {stack.state_dir}")
        return
    if not as_json:
        for path in plan:
            print(f"would delete {path}" if dry_run else f"delete {path}")
    if dry_run:
        if as_json:
            emit_json({"deleted": [], "would_delete": [str(path) for path in plan], "dry_run": True})
        return
    if not yes and not typer.confirm("Delete these?", err=True):
        raise typer.Exit(ExitStatus.ERROR)
    with progress("resetting the local stack") as step:
        _stack(ctx, step).reset(plan)
    if as_json:
        emit_json({"deleted": [str(path) for path in plan], "dry_run": False})
    else:
        info("the local stack is reset")


@app.command()
def fetch(ctx: typer.Context, services: ServicesArg = None, output: OutputOpt = TextOrJson.text) -> None:
    """Download Kafka and Elasticsearch from Maven Central into the cache, without starting them.

    Example: vac local fetch -o json
    """
    with progress("fetching") as step:
        stack = _stack(ctx, step)
        stack.java()
        found = stack.fetch(_names(services))
    if output is TextOrJson.json:
        emit_json({name: str(path) for name, path in found.items()})
        return
    for name, path in found.items():
        print(f"{name}: {path}")
