#!/usr/bin/env bash
# Sets everything up (see setup.sh), then starts the explorer page (default: the shipped VAE on
# the bundled Fashion-MNIST test images) and prints its URL. Extra args go to `latentdash serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/latentdash serve "$@"
