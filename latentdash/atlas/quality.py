"""Map quality: trustworthiness (k = 10), kNN label accuracy (k = 5), neighbourhood preservation.

Trustworthiness follows Venna & Kaski / scikit-learn's `trustworthiness`: for each point, every
map neighbour (of its k nearest in the map) that is not among its k nearest input-space neighbours
is penalised by its input-space rank minus k. Ranks are exact against all N points: one chunk of
query points at a time (no N x N matrix), each query's distance row is sorted once and every
map's neighbours are looked up in it (searchsorted), so all maps of a space share the cost. Up to
`TRUST_EXACT_MAX` points all are queries (the exact value); above it a fixed random subset of
`TRUST_SUBSAMPLE` query points (seeded, recorded in the metrics) gives an unbiased estimate of
the full-data value.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree

from .knn import chunk_rows, scores

TRUST_K = 10
ACC_K = 5
PRES_K = 10
TRUST_EXACT_MAX = 12_000
TRUST_SUBSAMPLE = 5_000


def map_knn(coords: np.ndarray, k: int) -> np.ndarray:
    """Exact kNN indices [N, k] within a 2-D/3-D map, self excluded (cKDTree)."""
    n = len(coords)
    k = min(k, n - 1)
    _, idx = cKDTree(np.asarray(coords, np.float64)).query(coords, k=k + 1, workers=-1)
    out = np.ascontiguousarray(idx[:, 1:], dtype=np.int64)
    for r in np.flatnonzero(idx[:, 0] != np.arange(n)):  # duplicates can come before self
        row = idx[r]
        out[r] = row[row != r][:k]
    return out


def trust_queries(n: int, seed: int = 0) -> np.ndarray:
    if n <= TRUST_EXACT_MAX:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, TRUST_SUBSAMPLE, replace=False))


def trustworthiness_many(
    x: np.ndarray,
    map_neighbours: dict,
    k: int = TRUST_K,
    metric: str = "euclidean",
    queries: np.ndarray | None = None,
    callback=None,
) -> dict:
    """Trustworthiness of several maps of the same input x at once.

    map_neighbours: name -> int [N, >=k] map-space neighbour indices (self excluded).
    One pass over the input-space distance rows serves every map.
    """
    n = len(x)
    k = min(k, (n - 1) // 2) if n > 3 else 1
    q_all = np.arange(n) if queries is None else np.asarray(queries)
    penalty = {name: 0.0 for name in map_neighbours}
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if metric == "cosine":
        xt = xt / xt.norm(dim=1, keepdim=True).clamp_min(1e-12)
    x_sq = (xt * xt).sum(1) if metric == "euclidean" else None
    step = chunk_rows(n, x.shape[1], 64 << 20)
    with torch.inference_mode():
        for s in range(0, len(q_all), step):
            q = q_all[s : s + step]
            qt = torch.from_numpy(q)
            d = scores(xt[qt], xt, metric, x_sq)
            d[torch.arange(len(q)), qt] = -float("inf")  # self ranks first: nearest other = rank 1
            # one sort per chunk serves every map (numpy's SIMD sort is ~10x faster than torch's)
            d_sorted = torch.from_numpy(np.sort(d.numpy(), axis=1))
            for name, nb in map_neighbours.items():
                cols = torch.from_numpy(np.ascontiguousarray(nb[q, :k]))
                dj = torch.gather(d, 1, cols).contiguous()  # [q, k]
                ranks = torch.searchsorted(d_sorted, dj, right=False)  # points strictly closer
                penalty[name] += float(torch.clamp(ranks - k, min=0).sum())
            if callback:
                callback(len(q))
    m = len(q_all)
    denom = m * k * (2.0 * n - 3.0 * k - 1.0)
    return {name: float(1.0 - 2.0 / denom * p) for name, p in penalty.items()}


def preservation(input_nb: np.ndarray, map_nb: np.ndarray, k: int = PRES_K) -> np.ndarray:
    """Per point: fraction of its k input-space neighbours among its k map neighbours."""
    out = np.empty(len(input_nb), np.float32)
    for s in range(0, len(input_nb), 8192):
        a = input_nb[s : s + 8192, :k]
        b = map_nb[s : s + 8192, :k]
        out[s : s + 8192] = (a[:, :, None] == b[:, None, :]).any(2).sum(1) / a.shape[1]
    return out


def vote_accuracy(knn_idx: np.ndarray, labels, k: int = ACC_K):
    """Leave-one-out k-NN label accuracy from exact neighbour lists (self excluded, nearest
    first), with the vote of `metrics.knn_accuracy` (majority; a tie goes to the label of the
    nearest neighbour among the tied labels), vectorised over all points."""
    if labels is None:
        return None
    from ..metrics import majority_vote

    labels = np.asarray(labels)
    return float((majority_vote(labels[knn_idx[:, :k]]) == labels).mean())
