#!/usr/bin/env bash
# Fill a wheelhouse with what the runtime image installs: the cem-bridge wheel (built from this
# tree) and one wheel per pin of requirements.lock (runtime only; never requirements-dev.lock).
# Used by docker/Dockerfile's build stage and by `make test-image`, so both install the same set.
#   docker/wheelhouse.sh OUT_DIR        (PYTHON=... picks the interpreter; BUILD_FLAGS=... extra
#                                        `pip wheel` flags for the project wheel)
set -euo pipefail
out=${1:?usage: wheelhouse.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The project's wheel, fresh every time (the version does not change between commits).
rm -f "$out"/cem_bridge-*.whl
# shellcheck disable=SC2086  # BUILD_FLAGS is a list of flags
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps ${BUILD_FLAGS:-} -w "$out" "$root"
cp "$root/requirements.lock" "$out/requirements.lock"

# The runtime pins, as wheels only: offline from the wheelhouse when it already holds them all,
# else fetched once from the configured index.
if ! PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS='' "$python" -m pip download --quiet \
    --disable-pip-version-check --no-index --find-links "$out" --only-binary=:all: --no-deps \
    -r "$out/requirements.lock" -d "$out" >/dev/null 2>&1; then
  echo "wheelhouse: fetching the runtime wheels of requirements.lock into $out" >&2
  "$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps \
    -r "$out/requirements.lock" -d "$out"
fi
