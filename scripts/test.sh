#!/usr/bin/env bash
# Sets everything up (see setup.sh), checks the code with ruff, then runs the whole test suite.
# Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LATENTDASH_CACHE="${LATENTDASH_CACHE:-$PWD/.cache/latentdash}"
echo "test: ruff (lint and format check)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
