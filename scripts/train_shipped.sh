#!/usr/bin/env bash
# Re-trains the shipped checkpoints exactly as recorded in latentdash/checkpoints/README.md.
# Needs the full Fashion-MNIST (apt-get install dataset-fashion-mnist). ~6 min per model on a quiet
# 2-core machine. Pass model names to train only some: scripts/train_shipped.sh ae vae2 pca
set -euo pipefail
cd "$(dirname "$0")/.."
LD=${LD:-.venv/bin/latentdash}
EPOCHS=${EPOCHS:-12}
THREADS=${THREADS:-0}
common=(--dataset fashion-mnist --epochs "$EPOCHS" --seed 0 --threads "$THREADS" --force)
for m in "${@:-vae16 ae vae2 pca}"; do
  for one in $m; do
    case $one in
      vae16) $LD train --model conv-vae --latent-dim 16 "${common[@]}" --out latentdash/checkpoints/fashion-vae-16.pt ;;
      ae) $LD train --model conv-ae --latent-dim 16 "${common[@]}" --out latentdash/checkpoints/fashion-ae-16.pt ;;
      vae2) $LD train --model conv-vae --latent-dim 2 "${common[@]}" --out latentdash/checkpoints/fashion-vae-2.pt ;;
      pca) $LD train --model pca --latent-dim 16 --dataset fashion-mnist --seed 0 --force --out latentdash/checkpoints/fashion-pca-16.pt ;;
      *) echo "unknown model $one (vae16 ae vae2 pca)" >&2; exit 2 ;;
    esac
  done
done
