"""Turning (model, dataset) into the atlas's rows: subset, latent codes, thumbnails, errors.

A model with an encoder encodes the dataset's images (the posterior mean for a VAE) and records
each image's reconstruction MSE (the same per-image mean as `metrics.reconstruction_mse`, computed
in the same pass as the encoding). A generator (`has_encoder == False`) has no encoder: its rows are
`sample_prior(N, seed)` and their decodes (as uint8 thumbnails), with no labels and no error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..errors import LatentdashError
from ..fileio import file_sha256

BATCH = 1024


def stratified_subset(labels, n_total: int, limit: int | None, seed: int) -> np.ndarray | None:
    """Sorted row indices of a subset of `limit` rows keeping class proportions (None: all)."""
    if limit is None or limit >= n_total:
        return None
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.choice(n_total, limit, replace=False))
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts / n_total * limit).astype(int)
    # hand out the remainder to the classes with the largest fractional parts
    rest = limit - quota.sum()
    frac = counts / n_total * limit - quota
    quota[np.argsort(-frac, kind="stable")[:rest]] += 1
    quota = np.minimum(quota, counts)
    picks = [rng.choice(np.flatnonzero(labels == c), q, replace=False) for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(picks))


def check_finite(z: np.ndarray, what: str = "latent codes", offset: int = 0, total: int | None = None) -> None:
    """One-line error when any row of z (rows offset.. of total) is not finite."""
    bad = ~np.isfinite(z).all(axis=1)
    if bad.any():
        first = offset + int(np.flatnonzero(bad)[0])
        raise LatentdashError(
            f"the model produced NaN or infinite {what} (first at row {first} of "
            f"{total or len(z)}); the checkpoint is broken or diverged: re-train it "
            f"or pick another checkpoint"
        )


def encode_rows(model, images_u8: np.ndarray, tick=None):
    """(latents float32 [N, d], recon_error float32 [N]) in one pass over the images."""
    n = len(images_u8)
    d = int(model.latent_dim)
    z_all = np.empty((n, d), np.float32)
    err = np.empty(n, np.float32)
    for s in range(0, n, BATCH):
        x = images_u8[s : s + BATCH].astype(np.float32) / 255.0
        z = np.asarray(model.encode(x), np.float32).reshape(len(x), -1)
        if z.shape[1] != d:
            raise LatentdashError(
                f"the model's encode returned {z.shape[1]} values per image but its "
                f"latent_dim is {d}; fix the model's latent_dim"
            )
        check_finite(z, offset=s, total=n)
        r = np.asarray(model.decode(z), np.float32)
        z_all[s : s + len(x)] = z
        err[s : s + len(x)] = ((r.reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2).mean(1)
        if tick:
            tick(len(x))
    return z_all, err


def sample_rows(model, n: int, seed: int, tick=None):
    """(latents, thumbnails uint8) for a generator: prior samples and their decodes."""
    z = np.asarray(model.sample_prior(n, seed), np.float32).reshape(n, -1)
    check_finite(z, "prior samples")
    thumbs = np.empty((n,) + tuple(model.image_shape), np.uint8)
    for s in range(0, n, BATCH):
        x = np.asarray(model.decode(z[s : s + BATCH]), np.float32)
        if not np.isfinite(x).all():
            raise LatentdashError(
                "the generator decoded NaN or infinite pixels; the checkpoint is "
                "broken: re-train it or pick another checkpoint"
            )
        thumbs[s : s + len(x)] = np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
        if tick:
            tick(len(x))
    return z, thumbs


def model_hash(model, checkpoint_path=None) -> str:
    """sha256 identifying the model: its checkpoint file's bytes, else its weights, else a
    functional fingerprint (decodes of fixed prior samples)."""
    path = checkpoint_path or (getattr(model, "info", None) or {}).get("path")
    if path and Path(path).is_file():
        return file_sha256(path)
    import torch

    h = hashlib.sha256()
    h.update(f"{type(model).__name__}|{model.latent_dim}|{tuple(model.image_shape)}|{model.kind}".encode())
    module = getattr(model, "net", None) or getattr(model, "obj", None)
    if isinstance(module, torch.nn.Module):
        for name, t in sorted(module.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()
    arrays = [getattr(model, a, None) for a in ("components", "mean", "std")]
    if all(isinstance(a, np.ndarray) for a in arrays):
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()
    z = np.random.default_rng(12345).standard_normal((8, model.latent_dim)).astype(np.float32)
    h.update(np.asarray(model.decode(z), np.float32).tobytes())
    return h.hexdigest()
