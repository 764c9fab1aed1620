"""`vac index`: log records from Kafka into Elasticsearch (the Logstash successor)."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from typing import Annotated

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, info, run_job
from vac.records.job import IndexStatus
from vac.timegrammar import parse_instant, zone
from vac.topicnames import check_topic_name

app = typer.Typer(
    help="Index the log records of Kafka into Elasticsearch, in a consumer group.\n\n"
    "Example: vac index --until-caught-up",
    invoke_without_command=True,
)


def _status_line(status: IndexStatus) -> str:
    return (
        f"{status.rate:>9,.0f} docs/s  consumed {status.consumed:,}  indexed {status.indexed:,}  "
        f"dead-lettered {status.dead_lettered:,}  skipped {status.skipped:,}  partitions {status.partitions}"
    )


def _summary_text(summary: IndexStatus) -> str:
    return (
        f"consumed {summary.consumed:,}  indexed {summary.indexed:,}  dead-lettered {summary.dead_lettered:,}  "
        f"skipped {summary.skipped:,}  pending {summary.pending:,}  "
        f"{summary.rate:,.0f} docs/s over {summary.duration_s:.1f} s"
    )


@app.callback()
@kafka_options
def index(
    ctx: typer.Context,
    topic: Annotated[list[str] | None, typer.Option(help="Log topic to read (repeatable; default logs.topic).")] = None,
    scada_topic: Annotated[
        list[str] | None,
        typer.Option(help="SCADA change topic to index (repeatable; default index.scada_topics when no --topic)."),
    ] = None,
    group: Annotated[str | None, typer.Option(help="Consumer group (default index.group_id).")] = None,
    until_caught_up: Annotated[
        bool, typer.Option("--until-caught-up", help="Stop once the group has no lag left (batch use, tests).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live status line.")] = False,
    output: Annotated[
        TextOrJson, typer.Option("--output", "-o", help="The summary as text or one JSON object.")
    ] = TextOrJson.text,
) -> None:
    """Consume the log topics and bulk-index into Elasticsearch; commit only what it accepted.
    SCADA change topics are indexed too, one compact document per change, into
    vacelastic-scada-v1-{yyyy.MM.dd} (index.scada_topics, --scada-topic).

    Run several instances with the same group to share the partitions.

    Example: vac index --until-caught-up -o json
    """
    if ctx.invoked_subcommand is not None:
        return
    from vac.logs.indexer import IndexOptions, LogIndexer  # lazily: see commands/main.py

    settings = cli_context(ctx).settings()
    topics = topic or [settings.logs.topic]
    # Given log topics alone (a test, a second pipeline) index just those.
    scada_topics = list(scada_topic or ([] if topic else settings.index.scada_topics))
    for name in scada_topics:
        check_topic_name(name)
    options = IndexOptions(
        [*topics, *(t for t in scada_topics if t not in topics)],
        group or settings.index.group_id,
        until_caught_up,
        scada_topics,
    )
    run_job(LogIndexer(settings, options), _status_line, quiet, output, _summary_text)


@app.command()
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option(help="Delete monthly indices older than this: an age (6M, 90d, 1y) or a time (now-6M/M).")
    ] = "6M",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted.")] = False,
    output: Annotated[TextOrJson, typer.Option("--output", "-o")] = TextOrJson.text,
) -> None:
    """Delete log indices whose month is older than the retention (the Curator job).

    Example: vac index prune --older-than 6M --dry-run
    """
    from vac.es.client import make_client  # lazily: see commands/main.py
    from vac.es.indices import delete_indices, expired_indices, index_pattern

    settings = cli_context(ctx).settings()
    cutoff = parse_instant(older_than, datetime.now(UTC), zone(settings.query.timezone), "--older-than")
    client = make_client(settings.elasticsearch)
    candidates = expired_indices(client, settings.index.name_template, cutoff)
    if not dry_run:
        delete_indices(client, [c.index for c in candidates])
    if output is TextOrJson.json:
        emit_json({"dry_run": dry_run, "indices": [c.__dict__ for c in candidates]})
        return
    verb = "would delete" if dry_run else "deleted"
    for candidate in candidates:
        sys.stdout.write(f"{verb} {candidate.index} ({candidate.docs:,} documents)\n")
    if not candidates:
        info(f"no index matching {index_pattern(settings.index.name_template)} is older than {older_than}")


@app.command("replay-dlq")
@kafka_options
def replay_dlq(
    ctx: typer.Context,
    to_topic: Annotated[str | None, typer.Option("--to", help="Topic to resend to (default logs.topic).")] = None,
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="text or one JSON object.")] = TextOrJson.text,
) -> None:
    """Send the dead-lettered documents again (after the mapping was fixed).

    Example: vac index replay-dlq -o json
    """
    from vac.logs.indexer import replay_dead_letters  # lazily: see commands/main.py

    settings = cli_context(ctx).settings()
    target = to_topic or settings.logs.topic
    sent = replay_dead_letters(settings, target, threading.Event())
    if output is TextOrJson.json:
        emit_json({"resent": sent, "from": settings.index.dead_letter_topic, "to": target})
    else:
        info(f"resent {sent:,} documents from {settings.index.dead_letter_topic} to {target}")
