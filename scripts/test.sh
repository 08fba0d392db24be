#!/usr/bin/env bash
# Sets everything up (see setup.sh), then runs the whole test suite. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LATENTDASH_CACHE="${LATENTDASH_CACHE:-$PWD/.cache/latentdash}"
exec .venv/bin/python -m pytest -m "not slow" "$@"
