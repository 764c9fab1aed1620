#!/usr/bin/env bash
# The README's second command, and what CI runs: set everything up, lint, type-check and run
# the whole test suite (unit, CLI and integration tests against the real local stack, which
# the tests start themselves). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check vac commands tui tests
.venv/bin/ruff format --check vac commands tui tests
.venv/bin/mypy
if command -v cargo >/dev/null 2>&1; then
  if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then  # rustup's default profile
    cargo fmt --check --manifest-path native/Cargo.toml
    cargo clippy --quiet --release --manifest-path native/Cargo.toml -- -D warnings
  fi
  cargo test --quiet --release --manifest-path native/Cargo.toml
  export VAC_REQUIRE_NATIVE=1  # the compiled parser's tests fail instead of skipping
fi
# Where bootstrap could build the Kerberos-capable Kafka client (root to install Debian's
# packages, npm for librdkafka's sources), the GSSAPI tests fail instead of skipping.
if [ "$(id -u)" -eq 0 ] && command -v npm >/dev/null 2>&1 && [ "${VAC_KAFKA_CLIENT:-}" != wheel ]; then
  export VAC_REQUIRE_GSSAPI=1
fi
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "vac: error: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
