#!/usr/bin/env bash
# The README's first command: set everything up, start the local Kafka and Elasticsearch,
# and show that vac sees them healthy. Stop the stack afterwards with `.venv/bin/vac local down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/vac local up
.venv/bin/vac doctor
cat >&2 <<'TXT'

The local stack runs: Kafka on 127.0.0.1:9092, Elasticsearch on http://127.0.0.1:9200.
  source .venv/bin/activate
  vac local status          # what runs, where, how healthy
  vac local logs kafka -f   # follow the broker's log
  vac local down            # stop it (the data stays)
TXT
