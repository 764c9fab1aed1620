#!/usr/bin/env bash
# The README's first command: set everything up, start the local Kafka and Elasticsearch,
# stream the simulated LHC vacuum (9,927 real DPEs; its rare, local events raise a handful of
# alarms through the headless evaluator), ship the sample WinCC OA log and the simulator's live
# one through Kafka into Elasticsearch, and open `vac dash`.
# Without a terminal it prints what flowed instead and exits 0.
# Stop the stack afterwards with `.venv/bin/vac local down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
vac=.venv/bin/vac
$vac local up
$vac doctor

work=$(mktemp -d)
# The real LHC DPE list and WinCC OA log sample, kept in the repository (data/winccoa/).
source_args=(--dpes data/winccoa/LHC_KafkaStream.config)
sample=data/winccoa/PVSS_II.sample.log
interactive=false
if [ -t 0 ] && [ -t 1 ]; then interactive=true; fi
# Long enough to watch on a terminal; a fixed quarter-minute otherwise.
if $interactive; then seconds=${VAC_DEMO_SECONDS:-3600}; else seconds=${VAC_DEMO_SECONDS:-20}; fi

live_log="$work/PVSS_II.log"
: >"$live_log"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
# The evaluator first: it reads the SCADA topics from now on.
echo "demo: evaluating alarms headless (vac alarms watch)" >&2
$vac alarms watch -o jsonl >"$work/alarms.jsonl" 2>"$work/alarms.err" &
pids+=($!)
sleep 3
# Events every half minute or so (the default is 12 an hour): a handful of alarms within minutes.
echo "demo: streaming the simulator (${seconds}s at 2,000 changes/s, 120 events an hour, a live log)" >&2
$vac stream scada "${source_args[@]}" --rate 2000 --events-per-hour "${VAC_DEMO_EVENTS:-120}" \
  --sim-log "$live_log" --duration "$seconds" -q -o json >"$work/stream.json" &
stream=$!
pids+=($stream)
echo "demo: shipping the live log and indexing it as it grows" >&2
$vac ship logs --path "$live_log" --app-id vac_lhc_1_scada_logs --registry "$work/live-registry.json" -q \
  >"$work/ship-live.out" 2>&1 &
pids+=($!)

echo "demo: shipping $sample into Kafka, indexing it into Elasticsearch" >&2
$vac ship logs --path "$sample" --app-id vac_lhc_1_scada_logs --once --from-beginning \
  --registry "$work/registry.json" -q -o json >"$work/ship.json"
$vac index --until-caught-up -q -o json >"$work/index.json"
$vac index -q >"$work/index-live.out" 2>&1 &
pids+=($!)

if $interactive; then
  $vac dash
  exit 0
fi

$vac probe latency --path scada --rate 1000 --duration 5 -q -o json >"$work/probe.json" || true
wait $stream || true  # events strike and the live log grows meanwhile
$vac dash --summary-after 5 -o json >"$work/dash.json"
.venv/bin/python - "$work" <<'PY'
import json, sys
from pathlib import Path

work = Path(sys.argv[1])
def load(name):
    path = work / name
    return json.loads(path.read_text()) if path.exists() and path.stat().st_size else {}

stream, ship, index = load("stream.json"), load("ship.json"), load("index.json")
alarm_events = [json.loads(line) for line in (work / "alarms.jsonl").read_text().splitlines() if line.strip()]
live_lines = (work / "PVSS_II.log").read_bytes().count(b"\n")
dash, probe = load("dash.json"), load("probe.json")
print(f"changes streamed:  {stream.get('acked', 0):,} acked of {stream.get('changes', 0):,} "
      f"({stream.get('rate', 0):,.0f}/s, p99 ack {stream.get('ack_latency_ms', {}).get('p99', 0):.1f} ms)")
print(f"lines shipped:     {ship.get('lines', 0):,} lines, {ship.get('acked', 0):,} records acked")
print(f"documents indexed: {index.get('indexed', 0):,}")
print(f"live log:          {live_lines:,} lines written by the simulator")
print(f"alarms evaluated:  {sum(e['event'] == 'raised' for e in alarm_events)} raised, "
      f"{sum(e['event'] == 'cleared' for e in alarm_events)} cleared (vac alarms watch)")
print(f"p99 latency:       {probe.get('latency_ms', {}).get('p99', 0):.1f} ms change -> Kafka -> consumer (scada path, 1,000/s)")
print(f"dashboard saw:     {dash.get('dpes_seen', 0):,} DPEs, {dash.get('alarms_total', 0)} alarms, "
      f"{dash.get('log_records_seen', 0):,} log records; Kafka {dash.get('kafka')}, Elasticsearch {dash.get('elasticsearch')}")
PY
cat >&2 <<'TXT'

The local stack runs: Kafka on 127.0.0.1:9092, Elasticsearch on http://127.0.0.1:9200.
  source .venv/bin/activate
  vac dash                  # the on-call screen (1 overview, 2 SCADA, 3 logs, ? help)
  vac alarms list           # the shared alarms; vac alarms ack DPE/kind acknowledges for every dashboard
  vac query --since 2019-08-03 --top manager
  vac local down            # stop it (the data stays)
TXT
