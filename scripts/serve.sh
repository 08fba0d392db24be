#!/usr/bin/env bash
# Sets everything up (see setup.sh), then starts the explorer page (default: the shipped VAE on
# the bundled Fashion-MNIST test images) and prints its URL. Extra args go to `latentdash serve`:
# gunicorn by default (one worker process per core, at most 4, forked after the models and atlases
# are loaded; --workers N to choose, --server waitress for one threaded process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/latentdash serve "$@"
