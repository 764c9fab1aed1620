"""`vac query` against the local stack, over the sample log shipped and indexed by vac.

Expected counts come from the sample file itself (its header lines, read with a regular
expression), not from the parser or from Elasticsearch.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pexpect
import pytest
import yaml
from elasticsearch import Elasticsearch, helpers

from tests.conftest import StackEndpoints
from tests.helpers import SAMPLE_LOG, VAC, error_line, run_vac

pytestmark = pytest.mark.integration

HEADER = re.compile(rb"^(WCC\w+)\s*\(\d+\), (\d{4})\.(\d\d)\.(\d\d) ([\d:.]+), (\w+),\s*(\w+),", re.M)
ZURICH = ZoneInfo("Europe/Zurich")
WINDOW = ("--since", "2019-08-03", "--until", "2019-08-04")


@dataclass(frozen=True)
class SampleRecord:
    offset: int
    manager: str
    level: str
    time: datetime
    text: str
    """The header line and its continuation lines."""


def sample_records() -> list[SampleRecord]:
    data = SAMPLE_LOG.read_bytes()
    matches = list(HEADER.finditer(data))
    records = []
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(data)
        stamp = b"%s-%s-%s %s" % (match[2], match[3], match[4], match[5])
        local = datetime.fromisoformat(stamp.decode()).replace(tzinfo=ZURICH)
        text = data[match.start() : end].decode("utf-8", "replace")
        records.append(SampleRecord(match.start(), match[1].decode(), match[7].decode(), local.astimezone(UTC), text))
    return records


@dataclass
class Indexed:
    config_file: Path
    family: str
    es: Elasticsearch

    def query(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_vac("--config", str(self.config_file), "query", *args, timeout=timeout)

    def json(self, *args: str) -> Any:
        result = self.query(*args, "-o", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def count(self, *args: str) -> int:
        return int(self.json("--total", *WINDOW, *args)["count"])

    def count_in(self, since: str, until: str) -> int:
        return int(self.json("--total", "--since", since, "--until", until)["count"])


@pytest.fixture(scope="module")
def indexed(local_stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexed]:
    """The sample log shipped to Kafka by `vac ship logs` and indexed by `vac index`."""
    run = uuid.uuid4().hex[:8]
    family = f"vacq-{run}"
    workdir = tmp_path_factory.mktemp("query")
    config = yaml.safe_load(local_stack.config_file.read_text())
    config["logs"] = {"topic": f"it-qlogs-{run}", "idle_flush_s": 0.5}
    config["index"] = {"scada_topics": [], "group_id": f"it-q-{run}", "name_template": family + "-{app}-{yyyy.MM}",
                       "dead_letter_topic": f"it-qdlq-{run}", "batch_s": 0.5}  # fmt: skip
    config["query"] = {"timezone": "Europe/Zurich"}
    config_file = workdir / "query.yaml"
    config_file.write_text(yaml.safe_dump(config))
    shipped = run_vac(
        "--config", str(config_file), "ship", "logs", "--path", str(SAMPLE_LOG), "--app-id", "vac_lhc_1_scada_logs",
        "--once", "--from-beginning", "--registry", str(workdir / "registry.json"), "-q", timeout=300,
    )  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    indexing = run_vac("--config", str(config_file), "index", "--until-caught-up", "-q", timeout=300)
    assert indexing.returncode == 0, indexing.stderr
    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    es.indices.refresh(index=f"{family}-*")
    yield Indexed(config_file, family, es)
    es.indices.delete(index=f"{family}-*", allow_no_indices=True)
    es.close()


def test_counts_match_the_file(indexed: Indexed) -> None:
    records = sample_records()
    assert len(records) == 4364
    assert indexed.count() == 4364
    levels = Counter(record.level for record in records)
    assert indexed.count("level:SEVERE") == levels["SEVERE"] > 0
    assert indexed.count("--level", "warning") == levels["WARNING"]
    managers = Counter(record.manager for record in records)
    assert indexed.count("manager:WCCOActrl") == managers["WCCOActrl"] == 1750
    assert indexed.count("level:SEVERE AND manager:WCCILdist") == sum(
        1 for r in records if r.level == "SEVERE" and r.manager == "WCCILdist"
    )
    assert indexed.count("--app", "lhc_1") == indexed.count("--app", "vac_lhc_1_scada_logs") == 4364
    assert indexed.count("--app", "lhc_2") == 0
    lost = sum(1 for r in records if re.search(r"\bconnection\W+lost\b", r.text, re.I))
    assert indexed.count('message:"connection lost"') == lost > 0
    # Times typed without a zone are Zurich time here (query.timezone), as the file's are.
    in_window = sum(
        1 for r in records if datetime(2019, 8, 3, 13, tzinfo=UTC) <= r.time < datetime(2019, 8, 3, 14, tzinfo=UTC)
    )
    assert indexed.count_in("2019-08-03 15:00", "2019-08-03T16:00:00+02:00") == in_window > 0


def test_histogram_buckets_add_up_to_the_count(indexed: Indexed) -> None:
    histogram = indexed.json("--histogram", "10m", *WINDOW, "level:SEVERE OR level:WARNING")
    count = indexed.count("level:SEVERE OR level:WARNING")
    assert histogram["total"] == sum(bucket["count"] for bucket in histogram["buckets"]) == count
    assert len(histogram["buckets"]) == 24 * 6
    assert all(sum(bucket["levels"].values()) == bucket["count"] for bucket in histogram["buckets"])
    # The bar chart in a pipe: one line per bucket and a legend with the same total.
    chart = indexed.query("--histogram", "1h", *WINDOW, "-o", "table")
    assert chart.returncode == 0, chart.stderr
    lines = chart.stdout.splitlines()
    assert len(lines) == 25 and lines[0].startswith("2019-08-03 00:00")
    assert f"total {indexed.count():,} in 24 buckets of 1h" in lines[-1]


def test_top_managers_rank_as_the_file_does(indexed: Indexed) -> None:
    top = indexed.json("--top", "manager", "--top-n", "3", *WINDOW)
    expected = Counter(record.manager for record in sample_records()).most_common()
    assert [(v["value"], v["count"]) for v in top["values"]] == expected[:3]
    assert top["other"] == sum(count for _, count in expected[3:]) and top["total"] == 4364
    table = indexed.query("--top", "manager", *WINDOW, "-o", "table")
    ranked = [line.split()[1] for line in table.stdout.splitlines()[1:]]
    assert ranked == [manager for manager, _ in expected]


def test_around_returns_the_neighbours_of_one_record(indexed: Indexed) -> None:
    records = sorted(sample_records(), key=lambda r: (r.time, r.offset))
    at = next(i for i in range(1000, len(records)) if records[i - 1].time < records[i].time)
    pivot = records[at]  # a record whose moment no record before it shares
    moment = pivot.time.astimezone(ZURICH).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    rows = indexed.json("--around", moment, "--app", "lhc_1", "--context", "3")
    assert [row["log"]["offset"] for row in rows] == [r.offset for r in records[at - 3 : at + 3]]
    table = indexed.query("--around", moment, "--app", "lhc_1", "--context", "3", "-o", "table")
    marked = [line for line in table.stdout.splitlines() if line.startswith("> ")]
    assert len(marked) == 1 and moment in marked[0]


def test_limit_beyond_ten_thousand_streams_every_row_in_order(indexed: Indexed) -> None:
    index = f"{indexed.family}-gen-2026.01"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    docs = (
        {
            "_index": index,
            "_id": str(n),
            "@timestamp": (start + timedelta(milliseconds=37 * n)).isoformat().replace("+00:00", "Z"),
            "log": {"offset": n},
            "level": "INFO",
            "text": f"generated {n}",
        }
        for n in range(25_000)
    )
    helpers.bulk(indexed.es, docs, chunk_size=5000, refresh=True)
    result = indexed.query(
        "--index", index, "--since", "2025-12-31", "--until", "2026-01-02", "--limit", "20000", "--sort", "asc",
        "-o", "jsonl", "--fields", "offset",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    offsets = [json.loads(line)["offset"] for line in result.stdout.splitlines()]
    assert offsets == list(range(20_000))
    newest = indexed.query(
        "--index", index, "--since", "2025-12-31", "--limit", "12000", "-o", "csv", "--fields", "offset"
    )
    assert [int(n) for n in newest.stdout.splitlines()[1:]] == list(range(24_999, 12_999, -1))


def test_follow_prints_a_record_indexed_after_it_started(indexed: Indexed) -> None:
    index = f"{indexed.family}-live-{datetime.now(UTC):%Y.%m}"
    indexed.es.index(index=index, id="old", document={"@timestamp": _now(), "text": "before", "level": "INFO"},
                     refresh=True)  # fmt: skip
    follower = subprocess.Popen(
        [VAC, "--config", str(indexed.config_file), "query", "--index", index, "--since", "5m", "--follow",
         "--poll", "0.3", "-o", "jsonl", "--fields", "@timestamp,text"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        assert json.loads(follower.stdout.readline())["text"] == "before"
        time.sleep(1)
        indexed.es.index(index=index, id="new", document={"@timestamp": _now(), "text": "after it started"},
                         refresh=True)  # fmt: skip
        assert json.loads(follower.stdout.readline())["text"] == "after it started"
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(30)
    assert follower.returncode == 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_table_on_a_terminal_is_coloured_and_highlights_the_match(indexed: Indexed) -> None:
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"} | {"TERM": "xterm-256color"}
    child = pexpect.spawn(
        VAC, ["--config", str(indexed.config_file), "query", "level:SEVERE AND text:lost", *WINDOW, "--limit", "3"],
        env=env, encoding="utf-8", timeout=60, dimensions=(40, 160),
    )  # fmt: skip
    child.expect("@timestamp")
    child.expect(r"\x1b\[31mSEVERE")  # the level in red
    child.expect(r"\x1b\[1;7mlost")  # the match highlighted
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_errors_say_what_is_wrong_with_their_exit_code(indexed: Indexed) -> None:
    bad = indexed.query("level:SEVERE AND text:(lost", *WINDOW)
    assert bad.returncode == 2 and "query ends before a ')' closes its '('" in error_line(bad)
    lucene = indexed.query("--lucene", "level:SEVERE AND text:(lost", *WINDOW)
    assert lucene.returncode == 2 and "not valid Lucene syntax" in error_line(lucene)
    assert re.search(r"^\s+\^$", lucene.stderr, re.M)  # the caret under the position
    assert indexed.query("lucene:level:SEVERE AND text:(lost", *WINDOW).returncode == 2
    # Also when the window holds no data (Elasticsearch would not even parse the query then).
    assert indexed.query("text:(lost", "--since", "1m").returncode == 2
    nothing = indexed.query("--index", "no-such-index-*")
    assert nothing.returncode == 2 and "matches no index" in error_line(nothing)
    assert f"{indexed.family}-lhc_1-2019.08" in nothing.stderr  # the indices there are
    too_many = indexed.query("--histogram", "1s", "--since", "2019-01-01")
    assert too_many.returncode == 2 and "bars" in error_line(too_many)
    full_text = indexed.query("--top", "text", *WINDOW)
    assert full_text.returncode == 2 and "full text" in error_line(full_text)


# KQL: the same text selects the same records in `vac query` (Elasticsearch) and in the
# dashboard's live filter (a predicate over the same records in memory).
KQL_TABLE = [
    "level:SEVERE",
    "level:severe",  # keywords are exact and case-sensitive, in both
    "level:SEVERE and manager:WCCILdist",
    "level:(SEVERE or WARNING)",
    "level:SEVERE OR level:WARNING",
    "manager:WCCIL* and not level:INFO",
    "not manager:WCCOA*",
    "manager:wccil*",
    'text:"connection lost"',
    'message:"Connection to"',
    'text:"(SYS: 1 Event"',
    '"Data Manager"',
    "failed",
    "conn*",
    "text:Connect*",
    "text:localhost\\:4998",
    "message: new attempt",
    "number >= 100 and number < 200",
    "lines >= 2",
    "lines:1",
    'type:(SYS or PARAM) and not (level:INFO or text:"failed")',
    '@timestamp >= "2019-08-03 15:00" and @timestamp < "2019-08-03T16:00:00+02:00"',
    "@timestamp < 2019-08-03",
    "host:* and tags:*",
    "params:*",
    "Renamed and not (failed or conn*)",
]


@pytest.fixture(scope="module")
def all_records(indexed: Indexed) -> list[dict[str, Any]]:
    hits = helpers.scan(indexed.es, index=f"{indexed.family}-lhc_1-*,{indexed.family}-vac_lhc_1*", size=5000)
    records = [hit["_source"] for hit in hits]
    assert len(records) == 4364
    return records


@pytest.mark.parametrize("query", KQL_TABLE)
def test_kql_selects_the_same_records_in_vac_query_and_in_the_dash(
    indexed: Indexed, all_records: list[dict[str, Any]], query: str
) -> None:
    from vac.search.livequery import compile_query

    result = indexed.query(query, *WINDOW, "--limit", "5000", "-o", "jsonl", "--fields", "id")
    assert result.returncode == 0, result.stderr
    in_es = sorted(json.loads(line)["id"] for line in result.stdout.splitlines())
    check = compile_query(query, ZURICH)
    live = sorted(record["event"]["id"] for record in all_records if check(record))
    assert in_es == live, f"{query}: {len(in_es)} in Elasticsearch, {len(live)} live"


def test_kql_table_is_not_trivial(indexed: Indexed, all_records: list[dict[str, Any]]) -> None:
    from vac.search.livequery import compile_query

    sizes = {query: sum(1 for r in all_records if compile_query(query, ZURICH)(r)) for query in KQL_TABLE}
    assert sum(1 for size in sizes.values() if 0 < size < 4364) >= len(KQL_TABLE) - 5, sizes


def test_the_dashboard_log_screen_opens_with_the_last_hour_from_elasticsearch(indexed: Indexed) -> None:
    from vac.dash.state import DashFeeds, DashState
    from vac.settings import load_settings

    index = f"{indexed.family}-lhc_1-{datetime.now(UTC):%Y.%m}"
    recent = {"@timestamp": _now(), "text": "indexed a minute ago", "level": "WARNING", "event": {"id": "recent-1"}}
    indexed.es.index(index=index, id="recent-1", document=recent, refresh=True)
    state = DashState(load_settings(indexed.config_file).settings)
    state.apply(DashFeeds(state.settings).log_history())
    shown = state.logs.shown()
    assert shown[-1]["text"] == "indexed a minute ago"  # newest last
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert all(doc["@timestamp"] >= hour_ago[:19] for doc in shown)  # none of the 2019 sample


ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202eevil\x00"


def test_the_table_shows_escape_sequences_in_documents_escaped(local_stack: StackEndpoints) -> None:
    """Anyone who can write a log line chooses these bytes: the table shows them as text;
    JSON lines keep the data (JSON escapes the controls itself)."""
    index = f"vacq-hostile-{uuid.uuid4().hex[:8]}"
    es = Elasticsearch(local_stack.elasticsearch_url, request_timeout=60)
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    doc = {"@timestamp": now, "level": "SEVERE", "manager": f"WCC{ESCAPES}", "text": f"lost [/] {ESCAPES}",
           "host": {"name": f"pc{ESCAPES}"}, "fields": {"app_id": "vac_lhc_1_scada_logs"}}  # fmt: skip
    es.index(index=index, document=doc, refresh=True)
    try:
        query = ("--config", str(local_stack.config_file), "query", "--index", index, "--since", "1h")
        table = run_vac(*query, "-o", "table", "--fields", "level,host,manager,text")
        assert table.returncode == 0, table.stderr
        assert not any(char in table.stdout for char in "\x1b\x07\x9b\u202e\x00"), repr(table.stdout)
        assert "lost [/] \\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202eevil\\x00" in table.stdout
        assert "pc\\x1b[2J" in table.stdout
        top = run_vac(*query, "--top", "host.name.keyword", "-o", "table")  # dynamic mapping here
        assert top.returncode == 0, top.stderr
        assert "\x1b" not in top.stdout and "pc\\x1b[2J" in top.stdout
        lines = run_vac(*query, "-o", "jsonl")
        assert lines.returncode == 0, lines.stderr
        assert json.loads(lines.stdout)["text"] == f"lost [/] {ESCAPES}"  # machine output: the data as it is
    finally:
        es.indices.delete(index=index, allow_no_indices=True)
        es.close()
