"""Persistent homology (H0, H1) of the latent codes on a landmark subsample, and a reading of it.

- Landmarks: maxmin (farthest-point) sampling, `n_landmarks` = 1,000 by default, starting from a
  seeded random point; all points when there are fewer. `cover` (epsilon) is the covering radius:
  every data latent lies within epsilon of a landmark.
- Diagrams: `ripser` (Vietoris-Rips, Euclidean, maxdim 1) on the landmarks' distance matrix; an
  H0 bar per landmark (one of them infinite: the data's one essential component), H1 bars for loops.
- Long-lived: a bar whose lifetime (death - birth) exceeds `threshold` = max(2 epsilon,
  0.05 x diameter), diameter = the largest distance between two landmarks (the diagram's scale).
  Bars shorter than 2 epsilon can be made by the subsampling itself (the landmark diagram lies
  within 2 epsilon of the full data's in bottleneck distance), and bars under 5 % of the diameter
  are noise at any resolution. The essential H0 bar counts as one component.
"""

from __future__ import annotations

import numpy as np

N_LANDMARKS = 1000
REL_THRESHOLD = 0.05  # of the landmark set's diameter
COVER_FACTOR = 2.0  # times the covering radius


def maxmin_landmarks(x: np.ndarray, n: int = N_LANDMARKS, seed: int = 0) -> tuple[np.ndarray, float]:
    """(row indices int64 [min(n, N)], covering radius) by farthest-point sampling from a seeded
    random start; deterministic for a seed."""
    x = np.ascontiguousarray(x, np.float64)
    m = min(int(n), len(x))
    rng = np.random.default_rng(seed)
    first = int(rng.integers(len(x)))
    x_sq = np.einsum("ij,ij->i", x, x)
    xt = np.ascontiguousarray(x.T)
    idx = np.empty(m, np.int64)
    idx[0] = first
    d2 = np.maximum(x_sq - 2.0 * np.einsum("ji,j->i", xt, x[first]) + x_sq[first], 0.0)
    for k in range(1, m):
        j = int(d2.argmax())
        idx[k] = j
        np.minimum(d2, np.maximum(x_sq - 2.0 * np.einsum("ji,j->i", xt, x[j]) + x_sq[j], 0.0), out=d2)
        d2[j] = 0.0
    return idx, float(np.sqrt(d2.max()))


def persistence(x: np.ndarray, n_landmarks: int = N_LANDMARKS, seed: int = 0) -> dict:
    """Diagrams and summary of the latent codes x [N, d] (see the module docstring)."""
    from ripser import ripser
    from scipy.spatial.distance import pdist, squareform

    x = np.asarray(x, np.float64)
    lm, cover = maxmin_landmarks(x, n_landmarks, seed)
    dm = squareform(pdist(x[lm]))
    dgms = ripser(dm, maxdim=1, distance_matrix=True)["dgms"]
    h0 = np.asarray(dgms[0], np.float64).reshape(-1, 2)
    h1 = np.asarray(dgms[1], np.float64).reshape(-1, 2)
    diameter = float(dm.max()) if len(lm) > 1 else 0.0
    summary = summarise(h0, h1, cover, diameter)
    summary["params"] = {
        "n_landmarks": int(n_landmarks),
        "landmarks_used": int(len(lm)),
        "sampling": "maxmin (farthest point)",
        "seed": int(seed),
        "metric": "euclidean",
        "complex": "Vietoris-Rips",
        "maxdim": 1,
        "library": _library(),
        "rel_threshold": REL_THRESHOLD,
        "cover_factor": COVER_FACTOR,
    }
    return {"h0": h0.astype(np.float32), "h1": h1.astype(np.float32), "landmarks": lm, "summary": summary}


def summarise(h0: np.ndarray, h1: np.ndarray, cover: float, diameter: float) -> dict:
    threshold = max(COVER_FACTOR * cover, REL_THRESHOLD * diameter)
    life0 = h0[:, 1] - h0[:, 0]
    life1 = h1[:, 1] - h1[:, 0] if len(h1) else np.zeros(0)
    finite0 = np.isfinite(life0)
    components = int((~finite0).sum() + (life0[finite0] > threshold).sum())
    loops = int((life1 > threshold).sum())
    top0 = np.sort(life0[finite0])[::-1][: max(5, components + 1)]
    top1 = np.sort(life1)[::-1][:5]
    return {
        "components": components,
        "loops": loops,
        "threshold": float(threshold),
        "cover": float(cover),
        "diameter": float(diameter),
        "longest_h0": [float(v) for v in top0],
        "longest_h1": [float(v) for v in top1],
        "reading": reading(components, loops, top0, top1, threshold),
    }


def reading(components: int, loops: int, top0, top1, threshold: float) -> str:
    """One line. "well-separated" when the shortest counted H0 bar is at least twice the longest
    uncounted one (the count does not hinge on the threshold); "separated" otherwise."""
    if components == 1:
        comp = "one connected component"
    else:
        counted = float(top0[components - 2]) if len(top0) >= components - 1 else 0.0
        rest = float(top0[components - 1]) if len(top0) >= components else 0.0
        sep = "well-separated" if counted >= 2.0 * rest else "separated"
        comp = f"{components} {sep} components"
    if loops == 0:
        loop = "no persistent loops"
    else:
        loop = f"{loops} persistent loop{'s' if loops != 1 else ''}"
    return f"{comp}, {loop} (bars longer than {threshold:.3g} counted)"


def _library() -> str:
    try:
        from importlib.metadata import version

        return f"ripser {version('ripser')}"
    except Exception:  # metadata missing in an unusual install
        return "ripser"
