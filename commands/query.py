"""`vac query`: search the logs in Elasticsearch from the terminal, as Kibana Discover does."""

from __future__ import annotations

import csv
import sys
import threading
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from commands.context import cli_context
from commands.output import emit_json, info, quiet_on_closed_pipe, stdout
from commands.search_output import (
    HitWriter,
    SearchOutput,
    histogram_json,
    histogram_lines,
    resolve,
    top_json,
    top_lines,
)
from vac.errors import UsageError
from vac.search.fields import field_path, field_value
from vac.search.kql import split_language
from vac.timegrammar import parse_instant, zone
from vac.timewindow import parse_interval

if TYPE_CHECKING:
    from vac.search.logsearch import LogSearch


def query(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            metavar="[QUERY]", help="KQL, e.g. 'level:SEVERE and text:\"lost\"' (Lucene: --lucene or 'lucene:...')."
        ),
    ] = "",
    lucene: Annotated[bool, typer.Option("--lucene", help="The query is Lucene query-string syntax, not KQL.")] = False,
    since: Annotated[
        str | None, typer.Option(help="Start: 15m, now-1d/d, yesterday, 2019-08-03, '2019-08-03 03:07' (local), ISO.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End, in the same forms (default now).")] = None,
    app: Annotated[
        list[str] | None, typer.Option(help="Only this app (lhc_1 or vac_lhc_1_scada_logs); repeatable.")
    ] = None,
    host: Annotated[list[str] | None, typer.Option(help="Only this host; repeatable.")] = None,
    level: Annotated[list[str] | None, typer.Option(help="Only this level (SEVERE, WARNING, ...); repeatable.")] = None,
    index: Annotated[str | None, typer.Option(help="Index pattern (default: the indices `vac index` writes).")] = None,
    fields: Annotated[str | None, typer.Option(help="Comma-separated columns (default query.fields).")] = None,
    sort: Annotated[str, typer.Option(help="asc (oldest first) or desc.")] = "desc",
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "--count", "-n", min=1, help="Stop after N records, as in vac tail (default query.limit)."
        ),
    ] = None,
    output: Annotated[
        SearchOutput, typer.Option("--output", "-o", help="auto: table on a terminal, jsonl in a pipe.")
    ] = SearchOutput.auto,
    total: Annotated[bool, typer.Option("--total", help="Print only the number of matching records.")] = False,
    histogram: Annotated[
        str | None, typer.Option(metavar="INTERVAL", help="Counts per interval (30s, 5m, 1h, 1d), split by level.")
    ] = None,
    top: Annotated[str | None, typer.Option(metavar="FIELD", help="Most frequent values of a field.")] = None,
    top_n: Annotated[int, typer.Option(min=1, max=10_000, help="How many values --top lists.")] = 10,
    around: Annotated[
        str | None, typer.Option(metavar="TIME", help="Records of one source (--host/--app) around this moment.")
    ] = None,
    context: Annotated[int, typer.Option(min=1, help="With --around: records on each side.")] = 5,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Then keep printing new matches until Ctrl-C.")
    ] = False,
    poll: Annotated[float, typer.Option(min=0.1, help="With --follow: seconds between searches.")] = 1.0,
) -> None:
    """Search the log records in Elasticsearch: Kibana Discover in a terminal.

    The query is KQL, as in Kibana (level:SEVERE and not host:x*, manager:(WCCIL* or WCCOA*),
    lines >= 2); Lucene with --lucene or a 'lucene:' prefix. Times without a zone are local
    (query.timezone). The default window is the last 15 minutes.

    Examples:

      vac query 'level:SEVERE or level:WARNING' --since now-1d/d --top manager

      vac query 'text:"Connection lost"' --since 2019-08-03 --until 2019-08-04 --app lhc_1

      vac query --around '2019-08-03 14:53:26' --host pcte197167 --app lhc_1
    """
    from vac.es.client import make_client  # lazily: see commands/main.py
    from vac.es.indices import index_pattern
    from vac.search.logsearch import LogSearch, SearchScope

    settings = cli_context(ctx).settings()
    local = zone(settings.query.timezone)
    now = datetime.now(UTC)
    if sort not in ("asc", "desc"):
        raise UsageError(f"--sort {sort}: use asc or desc")
    modes = [name for name, on in (("--total", total), ("--histogram", histogram), ("--top", top),
                                   ("--around", around), ("--follow", follow)) if on]  # fmt: skip
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} do not go together; use one")
    prefixed, query_text = split_language(text)
    scope = SearchScope(
        index=index or index_pattern(settings.index.name_template),
        query=query_text,
        lucene=lucene or prefixed,
        local=local,
        since=parse_instant(since or settings.query.since, now, local, "--since"),
        until=parse_instant(until, now, local, "--until") if until else None,
        apps=tuple(app or ()),
        hosts=tuple(host or ()),
        levels=tuple(level or ()),
    )
    scope.query_filter()  # a query that is not KQL: a usage error before any connection
    if scope.until is not None and scope.since is not None and scope.until <= scope.since:
        raise UsageError("--until is not after --since")
    interval = parse_interval(histogram) if histogram else None
    moment = parse_instant(around, now, local, "--around") if around else None
    if moment is not None and not (host or app):
        raise UsageError("--around needs the source: give --host and/or --app")
    columns = [name.strip() for name in fields.split(",") if name.strip()] if fields else list(settings.query.fields)
    chosen = resolve(output)
    client = make_client(settings.elasticsearch)
    search = LogSearch(client, scope, settings.elasticsearch.hosts)
    try:
        search.check()
        with quiet_on_closed_pipe():
            if total:
                number = search.count()
                emit_json({"count": number}) if chosen is SearchOutput.json else sys.stdout.write(f"{number}\n")
            elif interval:
                _histogram(search, interval, chosen, local)
            elif top:
                _top(search, top, top_n, chosen)
            else:
                # JSON keeps whole documents unless columns were asked for.
                writer = HitWriter(chosen, columns, local, query_text, whole=fields is None)
                source = None if fields is None or chosen is not SearchOutput.table else _source(columns)
                if moment is not None:
                    _around(search, moment, context, writer, source)
                elif follow:
                    _follow(search, limit or settings.query.limit, writer, source, poll)
                else:
                    writer.write(search.hits(limit or settings.query.limit, sort, source))
                    _report_empty(writer)
                writer.close()
    finally:
        client.close()


def _source(columns: list[str]) -> list[str]:
    return sorted({field_path(name) for name in columns} | {"level", "@timestamp"})


def _report_empty(writer: HitWriter) -> None:
    if writer.rows == 0 and writer.output is SearchOutput.table:
        info("no record matches in this window (widen it with --since)")


def _histogram(search: LogSearch, interval: tuple[str, float], chosen: SearchOutput, local: tzinfo | None) -> None:
    interval_s = interval[1]
    result = search.histogram(*interval, getattr(local, "key", None))
    if chosen in (SearchOutput.json, SearchOutput.jsonl):
        emit_json(histogram_json(result))
    elif chosen is SearchOutput.csv:
        levels = sorted({level for bucket in result.buckets for level in bucket.levels})
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["time", "count", *levels])
        for bucket in result.buckets:
            writer.writerow([bucket.start.isoformat(), bucket.count, *(bucket.levels.get(lv, 0) for lv in levels)])
    else:
        for line in histogram_lines(result, interval_s, local):
            stdout.print(line, crop=True, no_wrap=True)


def _top(search: LogSearch, name: str, size: int, chosen: SearchOutput) -> None:
    result = search.top(name, size)
    if chosen in (SearchOutput.json, SearchOutput.jsonl):
        emit_json(top_json(result))
    elif chosen is SearchOutput.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([result.field, "count"])
        writer.writerows(result.values)
    else:
        for line in top_lines(result):
            stdout.print(line, crop=True, no_wrap=True)


def _around(search: LogSearch, moment: datetime, context: int, writer: HitWriter, source: list[str] | None) -> None:
    before, after = search.around(moment, context, source)
    marker = after[0]["_id"] if after else None
    writer.write([*before, *after], marker=marker if writer.output is SearchOutput.table else None)
    _report_empty(writer)


def _follow(search: LogSearch, limit: int, writer: HitWriter, source: list[str] | None, poll: float) -> None:
    if writer.output is SearchOutput.json:
        raise UsageError("--follow streams: use --output jsonl, csv or table")
    newest_first = list(search.hits(limit, "desc", source))
    seen = {hit["_id"]: str(field_value(hit["_source"], "@timestamp")) for hit in newest_first}
    writer.write(reversed(newest_first))
    try:
        for arrived in search.follow(seen, threading.Event(), poll, source=source):
            writer.write(arrived)
    except KeyboardInterrupt:
        pass  # the way to stop following
