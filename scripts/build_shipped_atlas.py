#!/usr/bin/env python
"""Build the atlas shipped with latentdash: latentdash/checkpoints/fashion-vae-16.pt on the bundled
fashion-mnist-test (10,000 images), default parameters (pca, tsne, umap; 2-D and 3-D; latent and
pixel maps). Written compressed to latentdash/shipped/ (the cache copy stays uncompressed).

    .venv/bin/python scripts/build_shipped_atlas.py [--checkpoint PATH|NAME] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentdash.atlas import get_or_build_atlas  # noqa: E402
from latentdash.atlas.shipped import (  # noqa: E402
    DEFAULT_CHECKPOINT,
    DEFAULT_DATASET,
    default_params,
    resolve_checkpoint,
    shipped_atlas_path,
)
from latentdash.atlas.store import load_atlas, save_atlas  # noqa: E402
from latentdash.data import load_dataset  # noqa: E402
from latentdash.models import load_model  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    ap.add_argument("--cache-dir", default=None, help="default: a fresh temporary folder")
    a = ap.parse_args()
    a.checkpoint = resolve_checkpoint(a.checkpoint)  # a path or a shipped name (fashion-ae-16)
    t0 = time.perf_counter()
    model = load_model(a.checkpoint)
    ds = load_dataset(DEFAULT_DATASET)
    with tempfile.TemporaryDirectory() as tmp:
        atlas = get_or_build_atlas(
            model, ds, default_params(), cache_dir=a.cache_dir or tmp, checkpoint_path=a.checkpoint, progress=True
        )
        name = f"{Path(a.checkpoint).stem}.{DEFAULT_DATASET}.atlas.npz"
        out = save_atlas(atlas, shipped_atlas_path().parent / name, compress=True)
    load_atlas(out)  # verify what was written
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s; key {atlas.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
