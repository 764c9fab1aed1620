#!/usr/bin/env bash
# A Kafka client that speaks Kerberos: the production cluster accepts only SASL_SSL with GSSAPI,
# and confluent-kafka's wheels on PyPI carry a librdkafka built without Cyrus SASL. This builds
# librdkafka with Cyrus SASL + MIT krb5 (Debian's), and confluent-kafka from its source against
# it, into vac's cache, once; every later run only installs the cached wheel into .venv.
#
# The pair: librdkafka 2.15.1, whose sources the npm package @confluentinc/kafka-javascript
# 1.10.1 carries (deps/librdkafka), and confluent-kafka 2.15.1, the Python release built for it.
#
# Where the build is impossible (no npm, no compiler, not root to install the -dev packages),
# it warns and leaves the PyPI wheel in place: vac works, without GSSAPI (`vac doctor` says so).
# Called by scripts/bootstrap.sh; VAC_KAFKA_CLIENT=wheel skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

RDKAFKA_VERSION=2.15.1
RDKAFKA_NPM_PACKAGE=@confluentinc/kafka-javascript@1.10.1
CONFLUENT_KAFKA_VERSION=2.15.1

warn() {
  echo "build-kafka-client: warning: $*; keeping the PyPI wheel of confluent-kafka (no GSSAPI)" >&2
  exit 0
}

python=.venv/bin/python
cache=$($python -c 'from vac.paths import default_cache_dir; print(default_cache_dir())')/kafka-client-$RDKAFKA_VERSION-gssapi
prefix=$cache/librdkafka

gssapi_ready() {  # the venv's client is ours and can do GSSAPI
  $python - "$RDKAFKA_VERSION" <<'PY' 2>/dev/null
import sys
import confluent_kafka
from vac.kafka.client import sasl_support
sys.exit(0 if confluent_kafka.libversion()[0] == sys.argv[1] and sasl_support("GSSAPI") is None else 1)
PY
}

gssapi_ready && exit 0  # installed by an earlier run

wheel=$(ls "$cache"/wheels/confluent_kafka-"$CONFLUENT_KAFKA_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ] || [ ! -e "$prefix/lib/librdkafka.so.1" ]; then
  packages=(build-essential pkg-config libssl-dev libsasl2-dev libsasl2-modules-gssapi-mit libkrb5-dev krb5-user zlib1g-dev libzstd-dev liblz4-dev)
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  command -v npm >/dev/null 2>&1 || missing+=(npm)  # node's own npm may stand outside dpkg
  if ((${#missing[@]})); then
    [ "$(id -u)" -eq 0 ] || warn "please install ${missing[*]}"
    echo "build-kafka-client: installing ${missing[*]}" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
      warn "could not install ${missing[*]}"
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "build-kafka-client: building librdkafka $RDKAFKA_VERSION with SASL/GSSAPI (a minute or two)" >&2
  (cd "$work" && npm pack --silent "$RDKAFKA_NPM_PACKAGE" >/dev/null 2>&1) || warn "npm could not fetch $RDKAFKA_NPM_PACKAGE"
  tar -xzf "$work"/*.tgz -C "$work" package/deps/librdkafka
  source_dir=$work/package/deps/librdkafka
  grep -q "RD_KAFKA_VERSION *0x020f01ff" "$source_dir/src/rdkafka.h" || warn "the npm package does not carry librdkafka $RDKAFKA_VERSION"
  rm -rf "$prefix"
  (
    cd "$source_dir" &&
      ./configure --prefix="$prefix" --enable-ssl --enable-sasl --enable-gssapi --enable-zstd --enable-lz4-ext \
        --disable-curl --disable-debug-symbols >"$work/configure.log" 2>&1 &&
      make -j"$(nproc)" -C src >"$work/make.log" 2>&1 &&
      make -C src install >"$work/install.log" 2>&1
  ) || { tail -n 20 "$work"/*.log >&2; warn "building librdkafka failed (above)"; }
  grep -q SASL_CYRUS "$source_dir/Makefile.config" || warn "librdkafka was configured without Cyrus SASL"
  echo "build-kafka-client: building confluent-kafka $CONFLUENT_KAFKA_VERSION against it" >&2
  rm -rf "$cache/wheels"
  C_INCLUDE_PATH=$prefix/include LIBRARY_PATH=$prefix/lib LDFLAGS="-Wl,-rpath,$prefix/lib" \
    $python -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps \
    --no-binary confluent-kafka "confluent-kafka==$CONFLUENT_KAFKA_VERSION" -w "$cache/wheels" ||
    warn "building confluent-kafka $CONFLUENT_KAFKA_VERSION failed (above)"
  wheel=$(ls "$cache"/wheels/confluent_kafka-"$CONFLUENT_KAFKA_VERSION"-*.whl | head -n 1)
fi

$python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
if ! gssapi_ready; then
  rm -rf "$cache"  # a broken build must not be reused
  $python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "confluent-kafka>=2.6"
  warn "the built client cannot do GSSAPI"
fi
echo "build-kafka-client: confluent-kafka $CONFLUENT_KAFKA_VERSION on librdkafka $RDKAFKA_VERSION with GSSAPI" >&2
