#!/usr/bin/env bash
# Set up everything vac needs on a fresh machine, idempotently:
#   - Java 17+, Maven and mosquitto from Debian when missing (as root; otherwise it says what to install),
#   - a virtualenv in .venv with vac and its development tools,
#   - Kafka and Elasticsearch from Maven Central into vac's cache (`vac local fetch`).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# The MQTT source's tests run a real broker.
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "vac: error: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "vac: error: Python 3.11 or newer is needed (found $(python3 --version 2>&1))" >&2
  exit 1
}
[ -x .venv/bin/python ] || python3 -m venv .venv
echo "bootstrap: installing vac into .venv" >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

.venv/bin/vac local fetch >/dev/null
echo "bootstrap: ready (activate with: source .venv/bin/activate)" >&2
