#!/usr/bin/env bash
# `make test-image`: what the image does, without a Docker engine. Builds the wheelhouse the
# Dockerfile installs from (docker/wheelhouse.sh), installs it with docker/install.sh into a new
# venv in an empty temporary directory (runtime lock only, no index, no source tree), then runs
# docker/smoke.py there: package data from site-packages, `cem serve` + /readyz + POST /v1/score +
# a sync against `cem sandbox serve`, on SQLite and, when CEM_TEST_POSTGRES_URL is set, PostgreSQL
# (required under CI=true; skipped with a note elsewhere when the server does not answer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3.11}
build_python=${BUILD_PYTHON:-$python}
wheelhouse=${WHEELHOUSE:-$root/build/wheelhouse}
started=$SECONDS

echo "test-image: wheelhouse $wheelhouse"
PYTHON=$build_python BUILD_FLAGS=${BUILD_FLAGS:-} "$root/docker/wheelhouse.sh" "$wheelhouse"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cem-test-image.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
"$python" -m venv "$tmp/venv"
"$root/docker/install.sh" "$wheelhouse" "$tmp/venv/bin/python"
echo "test-image: installed into a clean venv in $((SECONDS - started)) s"

postgres=()
if [[ -n "${CEM_TEST_POSTGRES_URL:-}" ]]; then
  if "$tmp/venv/bin/python" -I -c 'import sys, psycopg
psycopg.connect(sys.argv[1].replace("+psycopg", "", 1), connect_timeout=5).close()' \
      "$CEM_TEST_POSTGRES_URL" 2>/dev/null; then
    postgres=(--postgres "$CEM_TEST_POSTGRES_URL")
  elif [[ "${CI:-}" == "true" ]]; then
    echo "test-image: FAILED: PostgreSQL at CEM_TEST_POSTGRES_URL does not answer (CI=true)" >&2
    exit 1
  else
    echo "test-image: note: PostgreSQL at CEM_TEST_POSTGRES_URL does not answer; SQLite only" >&2
  fi
fi

cp "$root/docker/smoke.py" "$tmp/smoke.py"
mkdir "$tmp/run"
cd "$tmp/run"
"$tmp/venv/bin/python" -I "$tmp/smoke.py" --lock "$wheelhouse/requirements.lock" "${postgres[@]}"
echo "test-image: $((SECONDS - started)) s in all"
