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
# As root (servers, CI): a real MIT Kerberos KDC for the secured stack's tests (vac/local/kdc.py),
# and kinit/klist for clients. Elsewhere those tests skip themselves.
if [ "$(id -u)" -eq 0 ]; then
  [ -x /usr/sbin/krb5kdc ] && [ -x /usr/sbin/kadmin.local ] || missing+=(krb5-kdc krb5-admin-server)
  command -v kinit >/dev/null 2>&1 || missing+=(krb5-user)
  # kcat, the peer `vac tail -o kcat` is compared with byte for byte (tests/integration/test_kcat_habits.py).
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)
fi
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

# The compiled WinCC OA parser (native/, Rust with PyO3, built by maturin): `vac ship logs`
# parses several times faster with it. Without cargo, vac uses its Python parser (same
# documents, slower). Rebuilt only when its sources change.
if command -v cargo >/dev/null 2>&1; then
  digest=$(cat native/Cargo.toml native/Cargo.lock native/pyproject.toml native/vac_native.pyi native/src/*.rs | sha256sum | cut -c1-16)
  if [ "$(cat .venv/vac_native.digest 2>/dev/null)" != "$digest" ] || ! .venv/bin/python -c 'import vac_native' 2>/dev/null; then
    echo "bootstrap: building the compiled WinCC OA parser (native/, cargo)" >&2
    if .venv/bin/python -m pip install --quiet --disable-pip-version-check ./native; then
      echo "$digest" >.venv/vac_native.digest
    else  # vac still works (a stale build must not linger); scripts/test.sh fails its native tests where cargo is
      .venv/bin/python -m pip uninstall --quiet --yes vac-native >/dev/null 2>&1 || true
      echo "bootstrap: warning: building vac_native failed (above): WinCC OA logs will be parsed in Python" >&2
    fi
  fi
else
  echo "bootstrap: no cargo: WinCC OA logs are parsed in Python (same documents, slower; Rust from rustup.rs builds the compiled parser)" >&2
fi

# A Kafka client that speaks Kerberos (GSSAPI), which the production cluster demands and the
# PyPI wheel lacks: built once into vac's cache, the wheel kept where that is impossible.
[ "${VAC_KAFKA_CLIENT:-}" = wheel ] || bash scripts/build-kafka-client.sh

.venv/bin/vac local fetch >/dev/null
echo "bootstrap: ready (activate with: source .venv/bin/activate)" >&2
