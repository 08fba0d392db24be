"""Latent algebra on numpy arrays: group means and attribute vectors, applying a direction with a
strength, A - B + C, traversal grids with a per-row score, the per-dimension KL of a VAE, and
temperature-scaled prior samples. Pure functions (no model, no page): the explorer's handlers
(latentdash/ui/algebra_handlers.py) call them with the atlas's latent codes and the decoder.

Every bad argument raises a one-line LatentdashError that says what to change.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import LatentdashError

MIN_COLS, MAX_COLS = 3, 15  # traversal columns
MAX_ROWS = 12  # traversal rows
MIN_RANGE, MAX_RANGE = 0.5, 4.0  # traversal half-width, in sigmas
MIN_PRIOR, MAX_PRIOR = 16, 64  # prior grid size
MAX_TEMPERATURE = 3.0
MAX_STRENGTH = 3.0
STRIP_STRENGTHS = (-2.0, -1.0, 0.0, 1.0, 2.0)
ACTIVE_KL = 0.01  # nats: a latent unit with less KL to the prior than this is "inactive"


def group_mean(latents: np.ndarray, idx, what: str = "group") -> np.ndarray:
    """Mean latent code float32 [d] of the dataset items `idx` (an empty group is refused)."""
    idx = np.asarray(idx, np.int64).reshape(-1)
    if idx.size == 0:
        raise LatentdashError(f"{what} is empty; select some points first")
    return np.asarray(latents[idx], np.float64).mean(0).astype(np.float32)


def direction_between(latents: np.ndarray, idx_a, idx_b, names=("A", "B")) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The attribute vector mean(B) - mean(A) and the two means (float32 [d] each).

    Refused for an empty group, a group of one point against itself, or two groups with the same
    mean (a zero-length direction)."""
    ma = group_mean(latents, idx_a, f"group {names[0]}")
    mb = group_mean(latents, idx_b, f"group {names[1]}")
    v = mb - ma
    scale = float(np.linalg.norm(np.asarray(latents[:: max(1, len(latents) // 2000)], np.float32).std(0))) or 1.0
    if not np.isfinite(v).all() or float(np.linalg.norm(v)) <= 1e-6 * scale:
        raise LatentdashError(
            f"groups {names[0]} and {names[1]} have the same mean, so there is no direction between them; "
            "pick two different groups"
        )
    return v.astype(np.float32), ma, mb


def check_strength(s) -> float:
    if isinstance(s, bool) or not isinstance(s, (int, float)):
        raise LatentdashError(f"strength must be a number, got {s!r}")
    s = float(s)
    if not math.isfinite(s):
        raise LatentdashError(f"strength must be a finite number, got {s}")
    if abs(s) > MAX_STRENGTH + 1e-9:
        raise LatentdashError(f"strength {s:g} is outside -{MAX_STRENGTH:g}..{MAX_STRENGTH:g}")
    return s


def apply_direction(z, v, strength) -> np.ndarray:
    """z + strength * v (strength in units of the direction's length)."""
    z = np.asarray(z, np.float32).reshape(-1)
    v = np.asarray(v, np.float32).reshape(-1)
    if z.shape != v.shape:
        raise LatentdashError(f"vector has {z.size} values but the direction {v.size}")
    return (z + np.float32(check_strength(strength)) * v).astype(np.float32)


def strength_strip(z, v, strengths=STRIP_STRENGTHS) -> np.ndarray:
    """[len(strengths), d]: z moved along v by each strength."""
    z = np.asarray(z, np.float32).reshape(1, -1)
    s = np.asarray(strengths, np.float32).reshape(-1, 1)
    return (z + s * np.asarray(v, np.float32).reshape(1, -1)).astype(np.float32)


def arithmetic(a, b, c) -> np.ndarray:
    """A - B + C. Refused when A = B = C (the result is the same point: nothing to compute)."""
    a, b, c = (np.asarray(x, np.float32).reshape(-1) for x in (a, b, c))
    if not (a.shape == b.shape == c.shape):
        raise LatentdashError("A, B and C must have the same number of latent dimensions")
    if np.allclose(a, b, atol=1e-6) and np.allclose(b, c, atol=1e-6):
        raise LatentdashError("A, B and C are the same vector, so A - B + C is that vector too; pick different points")
    return (a - b + c).astype(np.float32)


def check_grid(rows: int, cols: int, k: float) -> tuple[int, int, float]:
    for name, v in (("rows", rows), ("columns", cols)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v):
            raise LatentdashError(f"traversal {name} must be a whole number, got {v!r}")
    if not 1 <= int(rows) <= MAX_ROWS:
        raise LatentdashError(f"a traversal grid has 1 to {MAX_ROWS} rows, got {rows}")
    if not MIN_COLS <= int(cols) <= MAX_COLS:
        raise LatentdashError(f"a traversal grid has {MIN_COLS} to {MAX_COLS} columns, got {cols}")
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k):
        raise LatentdashError(f"traversal range must be a number, got {k!r}")
    if not MIN_RANGE <= float(k) <= MAX_RANGE:
        raise LatentdashError(f"traversal range must be {MIN_RANGE:g} to {MAX_RANGE:g} sigma, got {k:g}")
    return int(rows), int(cols), float(k)


def spread_along(latents: np.ndarray, u: np.ndarray) -> float:
    """Standard deviation of the codes projected on unit direction u."""
    lat = np.asarray(latents, np.float32)
    step = max(1, len(lat) // 20000)  # a 20k subsample is plenty for one number
    return float(np.std(lat[::step] @ np.asarray(u, np.float32))) + 1e-6


def offsets(cols: int, k: float) -> np.ndarray:
    """The columns' positions in sigmas: -k .. +k."""
    return np.linspace(-k, k, cols).astype(np.float32)


def traversal(z, units: np.ndarray, sigmas: np.ndarray, cols: int, k: float) -> np.ndarray:
    """[rows, cols, d]: z moved along each unit direction (rows of `units`) by -k..+k sigmas."""
    z = np.asarray(z, np.float32).reshape(1, 1, -1)
    units = np.asarray(units, np.float32)
    t = offsets(cols, k).reshape(1, -1, 1) * np.asarray(sigmas, np.float32).reshape(-1, 1, 1)
    return (z + t * units[:, None, :]).astype(np.float32)


def row_scores(images: np.ndarray, k: float) -> np.ndarray:
    """Per row of a traversal grid of images [rows, cols, ...]: the mean absolute pixel change
    between neighbouring columns, per sigma of movement."""
    x = np.asarray(images, np.float32)
    rows, cols = x.shape[:2]
    step = 2.0 * float(k) / (cols - 1)
    diff = np.abs(np.diff(x.reshape(rows, cols, -1), axis=1)).mean(axis=(1, 2))
    return (diff / step).astype(np.float32)


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean over the data of KL(q(z_j|x) || N(0, 1)) for each latent dimension j (nats)."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return (0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)).mean(0).astype(np.float32)


def active_units(kl: np.ndarray, threshold: float = ACTIVE_KL) -> int:
    return int(np.count_nonzero(np.asarray(kl) > threshold))


def check_prior(n, seed, temperature) -> tuple[int, int, float]:
    if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n != int(n):
        raise LatentdashError(f"number of prior samples must be a whole number, got {n!r}")
    if not MIN_PRIOR <= int(n) <= MAX_PRIOR:
        raise LatentdashError(f"a prior grid has {MIN_PRIOR} to {MAX_PRIOR} samples, got {int(n)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, float)) or not math.isfinite(seed) or seed != int(seed):
        raise LatentdashError(f"seed must be a whole number, got {seed!r}")
    if not 0 <= int(seed) < 2**31:
        raise LatentdashError(f"seed must be 0 to {2**31 - 1}, got {int(seed)}")
    t = temperature
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        raise LatentdashError(f"temperature must be a finite number, got {t!r}")
    if not 0.0 <= float(t) <= MAX_TEMPERATURE:
        raise LatentdashError(f"temperature must be 0 to {MAX_TEMPERATURE:g}, got {float(t):g}")
    return int(n), int(seed), float(t)


def tempered(samples: np.ndarray, mean: np.ndarray, temperature: float) -> np.ndarray:
    """Prior samples with their spread scaled by `temperature` around the prior mean
    (0: every sample is the mean; 1: the prior itself)."""
    s = np.asarray(samples, np.float32)
    m = np.asarray(mean, np.float32).reshape(1, -1)
    return (m + np.float32(temperature) * (s - m)).astype(np.float32)
