#!/usr/bin/env bash
# Re-trains the shipped checkpoints exactly as recorded in checkpoints/README.md.
# Needs the full Fashion-MNIST (apt-get install dataset-fashion-mnist). Takes ~40 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
LD=${LD:-.venv/bin/latentdash}
EPOCHS=${EPOCHS:-12}
$LD train --model conv-vae --latent-dim 16 --dataset fashion-mnist --epochs "$EPOCHS" --seed 0 --out checkpoints/fashion-vae-16.pt --force
$LD train --model conv-ae --latent-dim 16 --dataset fashion-mnist --epochs "$EPOCHS" --seed 0 --out checkpoints/fashion-ae-16.pt --force
$LD train --model conv-vae --latent-dim 2 --dataset fashion-mnist --epochs "$EPOCHS" --seed 0 --out checkpoints/fashion-vae-2.pt --force
$LD train --model pca --latent-dim 16 --dataset fashion-mnist --seed 0 --out checkpoints/fashion-pca-16.pt --force
