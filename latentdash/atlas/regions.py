"""Semantic regions of a 2-D map: HDBSCAN clusters on the map's coordinates, each with its centre.

HDBSCAN is scikit-learn's (`sklearn.cluster.HDBSCAN`) with `cluster_selection_method="leaf"`
(the finest clusters of at least `min_cluster_size` points), min_cluster_size = max(10, N / 100)
(100 for the 10k test set) and min_samples = min_cluster_size (scikit-learn's default). HDBSCAN's
default selection "eom" keeps the most stable clusters, which on the shipped VAE's UMAP map of
Fashion-MNIST are "footwear" and "everything else" (or, with min_samples 10, 9 regions of mean
purity 0.5); "leaf" finds 17 regions there, 12 of them purer than 0.7. Points in no cluster are
noise (label -1). The parameters used are recorded with the regions.

Above FIT_MAX = 20,000 points HDBSCAN runs on a seeded random sample of 20,000 (its parameters
from the sample's size) and every other point takes the label (a cluster, or noise) of its nearest
sampled point on the map: scikit-learn's HDBSCAN takes ~30-45 s on a 70k map on 2 busy cores, the
sample ~3 s (bench/bench_extras.py).

Per cluster: size, centre = its medoid in map space (the member with the least summed distance to
the other members; computed among a seeded sample of 3,000 members for larger clusters), the
medoid's row index, and for labelled data the majority class and its share (purity).
"""

from __future__ import annotations

import numpy as np

MIN_SAMPLES = None  # None: min_cluster_size
METHOD = "leaf"
FIT_MAX = 20_000
MEDOID_SAMPLE = 3000


def default_params(n: int) -> dict:
    return {"min_cluster_size": int(max(10, round(n / 100))), "min_samples": MIN_SAMPLES, "method": METHOD}


def find_regions(coords: np.ndarray, labels=None, class_names=None, params: dict | None = None, seed: int = 0):
    """(cluster label per point int32 [N] (-1 = noise), summary dict) for one 2-D map."""
    from sklearn.cluster import HDBSCAN

    xy = np.asarray(coords, np.float64)
    n = len(xy)
    rng = np.random.default_rng(seed)
    fit_rows = None if n <= FIT_MAX else np.sort(rng.choice(n, FIT_MAX, replace=False))
    params = dict(default_params(n if fit_rows is None else FIT_MAX), **(params or {}))
    mcs = int(min(params["min_cluster_size"], max(2, n)))
    ms = int(min(params["min_samples"] or mcs, max(1, n - 1)))
    method = params["method"]
    if method not in ("eom", "leaf"):
        raise ValueError(f"unknown cluster selection {method!r}; use leaf or eom")
    if n < 3:
        lab = np.full(n, -1, np.int32)
    elif fit_rows is None:
        lab = _hdbscan(HDBSCAN, xy, mcs, ms, method)
    else:
        from scipy.spatial import cKDTree

        sample_lab = _hdbscan(HDBSCAN, xy[fit_rows], mcs, ms, method)
        lab = sample_lab[cKDTree(xy[fit_rows]).query(xy, k=1)[1]]
    clusters = []
    for c in range(int(lab.max(initial=-1)) + 1):
        members = np.flatnonzero(lab == c)
        if len(members) == 0:
            continue
        medoid = _medoid(xy, members, rng)
        entry = {
            "id": c,
            "size": int(len(members)),
            "centre": [float(v) for v in xy[medoid]],
            "medoid": int(medoid),
        }
        if labels is not None:
            counts = np.bincount(np.asarray(labels)[members].astype(np.int64))
            top = int(counts.argmax())
            entry["label"] = top
            entry["majority"] = (
                str(class_names[top]) if class_names is not None and 0 <= top < len(class_names) else str(top)
            )
            entry["purity"] = float(counts[top] / len(members))
            entry["name"] = f"{entry['majority']} ({entry['purity']:.0%})"
        else:
            entry["name"] = f"cluster {c}"
        clusters.append(entry)
    summary = {
        "params": {
            "min_cluster_size": mcs,
            "min_samples": ms,
            "method": method,
            "fitted_on": int(n if fit_rows is None else len(fit_rows)),
            "library": _library(),
        },
        "n_clusters": len(clusters),
        "noise_fraction": float((lab < 0).mean()) if n else 0.0,
        "clusters": clusters,
    }
    if labels is not None and clusters:
        summary["mean_purity"] = float(
            np.average([c["purity"] for c in clusters], weights=[c["size"] for c in clusters])
        )
    return lab, summary


def _hdbscan(cls, xy, mcs: int, ms: int, method: str) -> np.ndarray:
    h = cls(min_cluster_size=max(2, mcs), min_samples=ms, cluster_selection_method=method, copy=True)
    return h.fit_predict(xy).astype(np.int32)


def _medoid(xy: np.ndarray, members: np.ndarray, rng) -> int:
    cand = members if len(members) <= MEDOID_SAMPLE else np.sort(rng.choice(members, MEDOID_SAMPLE, replace=False))
    p = xy[cand]
    sums = np.zeros(len(cand))
    for s in range(0, len(cand), 500):
        sums[s : s + 500] = np.sqrt(((p[s : s + 500, None, :] - p[None, :, :]) ** 2).sum(-1)).sum(1)
    return int(cand[int(sums.argmin())])


def _library() -> str:
    import sklearn

    return f"sklearn.cluster.HDBSCAN (scikit-learn {sklearn.__version__})"
