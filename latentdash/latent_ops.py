"""Pure operations on latent vectors: validation, interpolation, pixel blends and slider bases.

Everything here is numpy in, numpy out, no model and no I/O, so it is trivially testable and can be
reused by the page, a REST API or batch exports (traversals, arithmetic and prior grids fit here).
"""

from __future__ import annotations

import numpy as np

from .errors import LatentdashError

MODES = ("linear", "spherical")


def as_vector(z, d: int, what: str = "latent vector") -> np.ndarray:
    """Validate a length-d finite vector (list or array) and return it as float32 [d]."""
    try:
        v = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise LatentdashError(f"{what} is not a list of numbers; expected {d} numbers") from e
    if v.ndim != 1 or v.shape[0] != d:
        raise LatentdashError(f"{what} has shape {list(v.shape)}; expected {d} numbers")
    if not np.isfinite(v).all():
        raise LatentdashError(f"{what} contains NaN or infinite values; give finite numbers")
    if np.abs(v).max(initial=0.0) > 1e6:
        raise LatentdashError(f"{what} has values beyond +-1e6; give values of a sensible size")
    return v.astype(np.float32)


def _ts(steps: int) -> np.ndarray:
    steps = int(steps)
    if steps < 2:
        raise LatentdashError(f"interpolation needs at least 2 steps, got {steps}")
    return np.linspace(0.0, 1.0, steps)


def lerp(a, b, steps: int) -> np.ndarray:
    """Straight line from a to b, endpoints included: float32 [steps, d]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = _ts(steps)[:, None]
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(a, b, steps: int, eps: float = 1e-6) -> np.ndarray:
    """Spherical interpolation (White 2016): follows the great circle between the directions of a
    and b while the norm changes linearly. Falls back to lerp when either vector is ~0 or the two
    are (anti)parallel, where the great circle is undefined. Endpoints are exact."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = _ts(steps)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < eps or nb < eps:
        return lerp(a, b, steps)
    ua, ub = a / na, b / nb
    cos = float(np.clip(ua @ ub, -1.0, 1.0))
    theta = np.arccos(cos)
    if theta < 1e-4 or np.pi - theta < 1e-4:
        return lerp(a, b, steps)
    s = np.sin(theta)
    w_a = np.sin((1.0 - t) * theta) / s
    w_b = np.sin(t * theta) / s
    dirs = w_a[:, None] * ua + w_b[:, None] * ub
    norms = (1.0 - t) * na + t * nb
    out = dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * norms[:, None]
    out[0], out[-1] = a, b
    return out.astype(np.float32)


def interpolate(a, b, steps: int, mode: str = "linear") -> np.ndarray:
    if mode not in MODES:
        raise LatentdashError(f"unknown interpolation {mode!r}; use linear or spherical")
    return lerp(a, b, steps) if mode == "linear" else slerp(a, b, steps)


def pixel_blend(xa, xb, steps: int) -> np.ndarray:
    """Plain cross-fade of two images [C, H, W] in [0, 1] -> [steps, C, H, W] (the baseline the
    latent path is compared against)."""
    xa, xb = np.asarray(xa, np.float32), np.asarray(xb, np.float32)
    if xa.shape != xb.shape:
        raise LatentdashError(f"cannot blend images of shapes {xa.shape} and {xb.shape}")
    t = _ts(steps).astype(np.float32).reshape(-1, *([1] * xa.ndim))
    return (1.0 - t) * xa + t * xb


# ------------------------------------------------------------------------- slider bases
def top_variance_dims(latents: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k latent dimensions with the largest variance, in dimension order."""
    var = np.asarray(latents, np.float64).var(0)
    k = max(1, min(int(k), len(var)))
    return np.sort(np.argsort(-var, kind="stable")[:k])


def to_basis(z, basis: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Coordinates of z along the rows of `basis` ([k, d], orthonormal) relative to `origin`."""
    return ((np.asarray(z, np.float64) - origin) @ np.asarray(basis, np.float64).T).astype(np.float32)


def from_basis(base_z, values, basis: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Replace base_z's coordinates along the rows of `basis` by `values`; the part of base_z
    outside the span of the basis is kept (so k < d sliders still give a full vector)."""
    base_z = np.asarray(base_z, np.float64)
    basis = np.asarray(basis, np.float64)
    cur = (base_z - origin) @ basis.T
    return (base_z + (np.asarray(values, np.float64) - cur) @ basis).astype(np.float32)


def set_dims(base_z, values, dims) -> np.ndarray:
    """Copy of base_z with z[dims] = values."""
    z = np.array(base_z, dtype=np.float32)
    z[np.asarray(dims, dtype=np.int64)] = np.asarray(values, np.float32)
    return z
