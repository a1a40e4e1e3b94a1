#!/usr/bin/env bash
# Install cem-bridge and its runtime pins from a wheelhouse (docker/wheelhouse.sh) into the
# environment of PYTHON: no index, no source tree, no configuration of the machine's pip.
#   docker/install.sh WHEELHOUSE PYTHON
set -euo pipefail
wheelhouse=${1:?usage: install.sh WHEELHOUSE PYTHON}
python=${2:?usage: install.sh WHEELHOUSE PYTHON}
wheels=("$wheelhouse"/cem_bridge-*.whl)
export PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS='' PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
"$python" -m pip install --quiet --no-index --find-links "$wheelhouse" \
  -r "$wheelhouse/requirements.lock" "${wheels[0]}"
"$python" -m pip check
