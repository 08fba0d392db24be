"""How far a latent vector is from the data: nearest-neighbour percentile and prior log-density.

For any latent z:
- `distance`: the Euclidean distance from z to the nearest data latent (exact, brute force);
- `percentile`: that distance as a percentile of the data's own nearest-neighbour distances (each
  data latent's distance to its nearest *other* data latent, precomputed once: see
  `self_nn_distances`). 50 means "as close to the data as a typical data point is to its
  neighbour", 100 "farther than any data point is from its neighbour";
- `log_prior` (VAEs only): log N(z; 0, I) in nats, -(|z|^2 + d log 2 pi) / 2;
- `verdict`: "typical" (percentile <= 95), "unusual" (95 < percentile <= 99) or "off the data"
  (percentile > 99). Held-out data lands above 95 about 5 % of the time and above 99 about 1 %,
  by construction of the reference distribution.

"Data latents" are the reference set given to `PlausibilityIndex`: the atlas latents, or for a VAE
one posterior sample per item (latentdash/atlas/extras.py says why).

Pure numpy, no torch, no model. One vector against 70k x 16 float32 latents takes about 1 ms
(bench/bench_extras.py): one single-threaded einsum against the transposed latents, a min, and the
exact float64 distance of the few rows within float32 round-off of the best score.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import LatentdashError
from .latent_ops import MODES, interpolate

TYPICAL_MAX = 95.0  # percentile <= this: "typical"
UNUSUAL_MAX = 99.0  # percentile <= this: "unusual"; above: "off the data"
VERDICTS = ("typical", "unusual", "off the data")


def verdict(percentile: float) -> str:
    """The word for a distance percentile (thresholds TYPICAL_MAX, UNUSUAL_MAX)."""
    if percentile <= TYPICAL_MAX:
        return VERDICTS[0]
    if percentile <= UNUSUAL_MAX:
        return VERDICTS[1]
    return VERDICTS[2]


def log_prior_std_normal(z) -> np.ndarray:
    """log N(z; 0, I) in nats for each row of z ([n, d] or [d])."""
    z = np.atleast_2d(np.asarray(z, np.float64))
    return -0.5 * (np.einsum("ij,ij->i", z, z) + z.shape[1] * math.log(2.0 * math.pi))


def self_nn_distances(x: np.ndarray, rows: np.ndarray | None = None, chunk: int = 1024) -> np.ndarray:
    """Distance of each data row (or of the given `rows` only) to its nearest *other* row of x
    (exact: chunked float64 |q|^2 + |x|^2 - 2 q.x, so round-off is ~1e-7; duplicates count at
    distance 0). float32 [len(rows)]."""
    x = np.ascontiguousarray(x, np.float64)
    n = len(x)
    if n < 2:
        raise LatentdashError(f"nearest-neighbour distances need at least 2 latents, got {n}")
    rows = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    x_sq = np.einsum("ij,ij->i", x, x)
    xt = np.ascontiguousarray(x.T)
    out = np.empty(len(rows), np.float32)
    for s in range(0, len(rows), chunk):
        r = rows[s : s + chunk]
        d2 = x[r] @ xt
        d2 *= -2.0
        d2 += x_sq[None, :]
        d2 += x_sq[r][:, None]
        d2[np.arange(len(r)), r] = np.inf  # not itself
        out[s : s + chunk] = np.sqrt(np.maximum(d2.min(1), 0.0))
    return out


class PlausibilityIndex:
    """Read-only after construction; one instance serves many threads.

    latents: the data latents [N, d]; nn_dist: each one's distance to its nearest other data
    latent (`self_nn_distances`, stored in the atlas extras), or a sample of those distances;
    prior: "standard-normal" for a VAE (adds the log-density), None otherwise."""

    def __init__(self, latents: np.ndarray, nn_dist: np.ndarray, prior: str | None = None):
        self.latents = np.ascontiguousarray(latents, np.float32)
        if self.latents.ndim != 2 or len(self.latents) < 2:
            raise LatentdashError("plausibility needs at least 2 data latents as an [N, d] array")
        self.d = self.latents.shape[1]
        self.x_sq = np.einsum("ij,ij->i", self.latents, self.latents)
        self.x_sq_max = float(self.x_sq.max())
        self.xt = np.ascontiguousarray(self.latents.T)  # [d, N]: q @ xt is one fast pass
        self.ref = np.sort(np.asarray(nn_dist, np.float64).reshape(-1))
        if len(self.ref) == 0 or not np.isfinite(self.ref).all():
            raise LatentdashError("the reference nearest-neighbour distances are empty or not finite; rebuild extras")
        if prior not in (None, "standard-normal"):
            raise LatentdashError(f"unknown prior {prior!r}; use 'standard-normal' or None")
        self.prior = prior
        self.median_nn = float(np.median(self.ref))
        data_lp = log_prior_std_normal(self.latents) if prior else None
        self.data_log_prior_median = float(np.median(data_lp)) if prior else None

    # ------------------------------------------------------------------ core
    def nearest(self, z) -> tuple[np.ndarray, np.ndarray]:
        """(index int64 [n], distance float64 [n]) of the nearest data latent of each row of z.

        Scores |x|^2 - 2 q.x in float32 (one matrix-vector product against the transposed
        latents), then the exact float64 distance of every row whose score is within float32
        round-off of the best one, so a query equal to a data latent gets distance 0."""
        z = self._check(z)
        x = self.latents
        idx = np.empty(len(z), np.int64)
        dist = np.empty(len(z), np.float64)
        step = 256
        for s in range(0, len(z), step):
            q = z[s : s + step]
            # a few queries: einsum's single-threaded loop over the [d, N] layout (0.14 ms for 70k x 16;
            # BLAS's threaded gemv stalls for 20 ms at p90 when the cores are busy); batches: BLAS
            sc = np.einsum("ji,kj->ki", self.xt, q) if len(q) <= 4 else q @ self.xt
            sc *= -2.0
            sc += self.x_sq[None, :]
            best = sc.min(1)
            q_sq = np.einsum("ij,ij->i", q, q)
            tol = 1e-5 * (self.x_sq_max + q_sq) + 1e-12  # float32 error bound, generous
            for r in range(len(q)):
                cand = np.flatnonzero(sc[r] <= best[r] + tol[r])
                diff = x[cand].astype(np.float64) - q[r].astype(np.float64)
                d2 = np.einsum("kd,kd->k", diff, diff)
                j = int(d2.argmin())
                idx[s + r] = cand[j]
                dist[s + r] = math.sqrt(d2[j])
        return idx, dist

    def percentile(self, dist) -> np.ndarray:
        """Percent of data latents whose nearest-neighbour distance is <= dist (monotone)."""
        dist = np.asarray(dist, np.float64)
        return 100.0 * np.searchsorted(self.ref, dist, side="right") / len(self.ref)

    def query(self, z) -> dict:
        """Batch: arrays `nearest`, `distance`, `percentile`, `verdict` (list of str),
        `log_prior` (nats, or None without a prior)."""
        idx, dist = self.nearest(z)
        pct = self.percentile(dist)
        return {
            "nearest": idx,
            "distance": dist,
            "percentile": pct,
            "verdict": [verdict(p) for p in pct],
            "log_prior": log_prior_std_normal(self._check(z)) if self.prior else None,
        }

    def one(self, z) -> dict:
        """One vector [d] -> a JSON-able dict (the page's and the API's answer)."""
        z = self._check(z)
        if len(z) != 1:
            raise LatentdashError(f"plausibility of one vector takes one latent vector, got {len(z)}")
        r = self.query(z)
        out = {
            "distance": float(r["distance"][0]),
            "nearest": int(r["nearest"][0]),
            "percentile": float(r["percentile"][0]),
            "verdict": r["verdict"][0],
            "distance_vs_median": float(r["distance"][0] / self.median_nn) if self.median_nn > 0 else None,
            "log_prior_nats": None if r["log_prior"] is None else float(r["log_prior"][0]),
        }
        if self.prior:
            out["data_log_prior_median_nats"] = self.data_log_prior_median
        return out

    # ------------------------------------------------------------------ paths
    def path(self, a, b, steps: int = 16, mode: str = "linear") -> dict:
        """Plausibility of each step of the interpolation a -> b (latent_ops.interpolate)."""
        a = self._check(a)[0]
        b = self._check(b)[0]
        if not 2 <= int(steps) <= 256:
            raise LatentdashError(f"an interpolation path needs 2..256 steps, got {steps}")
        zs = interpolate(a, b, int(steps), mode)
        r = self.query(zs)
        return {
            "mode": mode,
            "t": np.linspace(0.0, 1.0, int(steps)).tolist(),
            "distance": r["distance"].tolist(),
            "percentile": r["percentile"].tolist(),
            "verdict": r["verdict"],
            "log_prior_nats": None if r["log_prior"] is None else r["log_prior"].tolist(),
            "worst_percentile": float(r["percentile"].max()),
        }

    def compare_paths(self, a, b, steps: int = 16) -> dict:
        """{mode: path(...)} for linear and spherical paths between the same endpoints."""
        return {m: self.path(a, b, steps, m) for m in MODES}

    # ------------------------------------------------------------------ checks
    def _check(self, z) -> np.ndarray:
        try:
            z = np.asarray(z, np.float32)
        except (TypeError, ValueError):
            raise LatentdashError(f"a latent vector must be {self.d} numbers") from None
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.d or len(z) == 0:
            raise LatentdashError(
                f"latent vector has shape {list(z.shape)} but the latent size is {self.d}; "
                f"pass [{self.d}] or [n, {self.d}]"
            )
        if not np.isfinite(z).all():
            raise LatentdashError("latent vector contains NaN or infinite values; pass finite numbers")
        return np.ascontiguousarray(z)
