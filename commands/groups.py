"""`vac groups`: consumer groups with their members and lag, and resetting a group's offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, info, stdout
from vac.errors import UsageError
from vac.kafka.groups import ResetTo, apply_reset, describe_group, list_groups, plan_reset
from vac.printable import printable
from vac.timegrammar import parse_instant, zone

app = typer.Typer(
    help="List and describe consumer groups; reset their offsets.\n\nExample: vac groups describe vac-indexer",
    no_args_is_help=True,
)
OutputOpt = Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")]


@app.command("list")
@kafka_options
def list_(ctx: typer.Context, output: OutputOpt = TextOrJson.text) -> None:
    """Consumer groups with their state, number of members and total lag.

    Example: vac groups list -o json
    """
    groups = list_groups(cli_context(ctx).settings().kafka)
    if output is TextOrJson.json:
        emit_json([{"group": g.group, "state": g.state, "members": len(g.members), "lag": g.lag} for g in groups])
        return
    for g in groups:
        stdout.print(f"{printable(g.group):<40} {g.state:<12} members={len(g.members):<3} lag={g.lag:,}", markup=False)


@app.command()
@kafka_options
def describe(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The consumer group.")],
    output: OutputOpt = TextOrJson.text,
) -> None:
    """A group's members with their partitions, and its committed offsets and lag per partition.

    Example: vac groups describe vac-indexer
    """
    g = describe_group(cli_context(ctx).settings().kafka, group)
    if output is TextOrJson.json:
        emit_json(g.to_json())
        return
    stdout.print(f"group {printable(g.group)}: {g.state}, {len(g.members)} member(s), lag {g.lag:,}", markup=False)
    for m in g.members:
        assigned = ", ".join(f"{t}[{p}]" for t, p in m.partitions) or "-"
        # Group, client ids and hosts are whatever the consumers sent: shown, never interpreted.
        stdout.print(f"  member {printable(m.client_id)} {printable(m.host)}: {assigned}", markup=False)
    stdout.print(f"  {'TOPIC':<32} {'P':>3} {'COMMITTED':>10} {'HIGH':>10} {'LAG':>10}", markup=False)
    for p in g.offsets:
        stdout.print(f"  {p.topic:<32} {p.partition:>3} {p.committed:>10} {p.high:>10} {p.lag:>10}", markup=False)


@app.command("reset-offsets")
@kafka_options
def reset_offsets(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The consumer group (it must have no active members).")],
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Only this topic; repeatable (default: the group's).")
    ] = None,
    to_earliest: Annotated[bool, typer.Option("--to-earliest", help="To the oldest message kept.")] = False,
    to_latest: Annotated[bool, typer.Option("--to-latest", help="To the end: skip what is there.")] = False,
    to_time: Annotated[
        str | None,
        typer.Option("--to-time", metavar="TIME", help="To the first message at or after TIME (ISO, 2h, 2019-08-03)."),
    ] = None,
    execute: Annotated[
        bool, typer.Option("--execute/--dry-run", help="Apply the plan; the default only shows it.")
    ] = False,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Move a group's committed offsets, as kafka-consumer-groups.sh --reset-offsets: the plan
    is shown (--dry-run, the default), and applied with --execute.

    Example: vac groups reset-offsets vac-indexer --to-time 2019-08-03 --execute && vac index --until-caught-up
    """
    chosen = [name for name, on in (("--to-earliest", to_earliest), ("--to-latest", to_latest),
                                    ("--to-time", to_time is not None)) if on]  # fmt: skip
    if len(chosen) != 1:
        raise UsageError(
            "say where to: one of --to-earliest, --to-latest, --to-time"
            if not chosen
            else f"{' and '.join(chosen)} do not go together; use one"
        )
    settings = cli_context(ctx).settings()
    to: ResetTo = "earliest" if to_earliest else "latest" if to_latest else "time"
    time_ms = None
    if to_time is not None:
        moment = parse_instant(to_time, datetime.now(UTC), zone(settings.query.timezone), option="--to-time")
        time_ms = int(moment.timestamp() * 1000)
    moves = plan_reset(settings.kafka, group, to, topic, time_ms)
    if execute:
        apply_reset(settings.kafka, group, moves)
    if output is TextOrJson.json:
        emit_json({"group": group, "executed": execute, "partitions": [vars(m) for m in moves]})
    else:
        stdout.print(f"  {'TOPIC':<32} {'P':>3} {'CURRENT':>10} {'NEW':>10}", markup=False)
        for m in moves:
            stdout.print(f"  {m.topic:<32} {m.partition:>3} {m.current:>10} {m.new:>10}", markup=False)
        info(f"reset group {group}" if execute else "dry run: nothing changed; add --execute to apply")
