"""Small real models and datasets shared by the atlas and service tests (no mocks)."""

from __future__ import annotations

import contextlib
import os
import subprocess

import numpy as np
import torch

from latentdash.data import load_dataset
from latentdash.models import PCAModel
from latentdash.models.adapters import ForeignModel
from latentdash.models.checkpoint import save_checkpoint

# fast settings: full method set, fewer iterations (quality thresholds below still hold)
FAST = dict(tsne_iters=400, umap_epochs=120)


def digits():
    return load_dataset("digits")


def shared_digits_atlas(tmp_path_factory):
    """The digits atlas (PCA-8 model, every map) built once per test session, in a session cache
    folder that every test module shares (the second module finds it in the cache)."""
    from latentdash.atlas import AtlasParams, get_or_build_atlas

    ds = digits()
    model = pca_model(ds, 8)
    cache = tmp_path_factory.getbasetemp() / "shared-atlas-cache"
    atlas = get_or_build_atlas(model, ds, AtlasParams(**FAST), cache_dir=cache, progress=False)
    return model, ds, atlas, cache


def pca_model(ds, k: int = 8, seed: int = 0) -> PCAModel:
    return PCAModel.fit(ds.float_images(), k, seed=seed)


def save_pca_checkpoint(model: PCAModel, path, ds) -> str:
    config, sd = model.state()
    save_checkpoint(
        path,
        {
            "arch": "pca",
            "config": config,
            "state_dict": sd,
            "kind": "linear",
            "latent_dim": model.latent_dim,
            "image_shape": list(model.image_shape),
            "dataset": {"id": ds.id, "fingerprint": ds.fingerprint()},
        },
        force=True,
    )
    return str(path)


class TinyDecoder(torch.nn.Module):
    """A decoder-only generator: z -> sigmoid(linear) images, seeded weights."""

    def __init__(self, latent_dim=4, shape=(1, 8, 8), seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.shape = shape
        self.lin = torch.nn.Linear(latent_dim, int(np.prod(shape)))
        with torch.no_grad():
            self.lin.weight.copy_(torch.randn(self.lin.weight.shape, generator=g) * 2.0)
            self.lin.bias.zero_()

    def decode(self, z):
        return torch.sigmoid(self.lin(z)).reshape((len(z),) + self.shape)


def generator_model(latent_dim=4):
    return ForeignModel(TinyDecoder(latent_dim), latent_dim=latent_dim, image_shape=(1, 8, 8), name="tiny-generator")


@contextlib.contextmanager
def tmpfs(path, size="64k", ro=False):
    """Mount a small tmpfs at path (root only); yields False when mounting is not permitted."""
    os.makedirs(path, exist_ok=True)
    opts = f"size={size}" + (",ro" if ro else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
