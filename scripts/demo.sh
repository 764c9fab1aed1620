#!/usr/bin/env bash
# The README's first command: set everything up, start the local Kafka and Elasticsearch,
# show that vac sees them healthy, and stream ten seconds of simulated vacuum data through
# Kafka. Stop the stack afterwards with `.venv/bin/vac local down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/vac local up
.venv/bin/vac doctor

# Ten seconds of the 9,927 real LHC pressure DPEs, simulated, into topic `pressures`.
dpes=../shared/data/winccoa/LHC_KafkaStream.config
if [ -f "$dpes" ]; then source_args=(--dpes "$dpes"); else source_args=(--devices 9927); fi
.venv/bin/vac stream scada "${source_args[@]}" --rate 5000 --duration 10
echo "The last 5 changes of each partition of topic pressures:" >&2
.venv/bin/vac tail topic pressures --from -5 --no-follow
cat >&2 <<'TXT'

The local stack runs: Kafka on 127.0.0.1:9092, Elasticsearch on http://127.0.0.1:9200.
  source .venv/bin/activate
  vac local status          # what runs, where, how healthy
  vac local logs kafka -f   # follow the broker's log
  vac local down            # stop it (the data stays)
TXT
