"""UMAP from a precomputed kNN graph, with every compiled function cached on disk.

Follows umap-learn 0.5 (McInnes, Healy & Melville; BSD-3): the fuzzy simplicial set
(smooth_knn_dist + membership strengths + fuzzy union), a spectral initialisation and the
negative-sampling SGD of `optimize_layout_euclidean` (non-densMAP path, move_other=True).
Why not call umap-learn: its graph and SGD kernels are numba functions compiled without
`cache=True`, so every new process paid ~10 s of compilation before the first epoch. Here the
graph is vectorised numpy, the spectral step is scipy, and the SGD kernel is one
`numba.njit(cache=True)` function (compiled once per machine into NUMBA_CACHE_DIR, which
`projections.numba_cache_dir` points at the latentdash cache). It also lets the build report
progress per epoch. The embedding is deterministic for a given seed (serial SGD, like umap
with random_state).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

log = logging.getLogger(__name__)

SMOOTH_K_TOLERANCE = 1e-5
MIN_K_DIST_SCALE = 1e-3


def smooth_knn_dist(dists: np.ndarray, k: int, n_iter: int = 64):
    """Per-point (sigma, rho) as umap's smooth_knn_dist (local_connectivity=1, bandwidth=1).
    dists: [N, k] including the point itself at column 0 (distance 0)."""
    dists = np.asarray(dists, np.float64)
    n = len(dists)
    target = np.log2(k)
    nz = np.where(dists > 0, dists, np.inf)
    rho = nz.min(1)
    rho[~np.isfinite(rho)] = 0.0
    lo, hi, mid = np.zeros(n), np.full(n, np.inf), np.ones(n)
    active = np.ones(n, bool)
    rest = dists[:, 1:]
    for _ in range(n_iter):
        if not active.any():
            break
        a = np.flatnonzero(active)
        d = rest[a] - rho[a, None]
        psum = np.where(d > 0, np.exp(-np.maximum(d, 0) / mid[a, None]), 1.0).sum(1)
        done = np.abs(psum - target) < SMOOTH_K_TOLERANCE
        big = psum > target
        upd = ~done
        hi[a[big & upd]] = mid[a[big & upd]]
        lo[a[~big & upd]] = mid[a[~big & upd]]
        inf_hi = ~np.isfinite(hi[a])
        new_mid = np.where(inf_hi, mid[a] * 2.0, (lo[a] + hi[a]) / 2.0)
        new_mid = np.where(big, (lo[a] + hi[a]) / 2.0, new_mid)
        mid[a] = np.where(upd, new_mid, mid[a])
        active[a[done]] = False
    sigma = mid
    mean_all = dists.mean()
    floor = np.where(rho > 0, MIN_K_DIST_SCALE * dists.mean(1), MIN_K_DIST_SCALE * mean_all)
    return np.maximum(sigma, floor), rho


def fuzzy_graph(knn_idx: np.ndarray, knn_dist: np.ndarray, n_neighbors: int) -> sp.csr_matrix:
    """Symmetric fuzzy simplicial set (CSR) from a kNN graph that excludes self."""
    n = len(knn_idx)
    k = n_neighbors - 1
    idx = np.column_stack([np.arange(n), knn_idx[:, :k]])
    dd = np.column_stack([np.zeros(n), knn_dist[:, :k]]).astype(np.float64)
    sigma, rho = smooth_knn_dist(dd, n_neighbors)
    d = dd - rho[:, None]
    vals = np.where(d <= 0, 1.0, np.exp(-np.maximum(d, 0) / sigma[:, None]))
    vals[idx == np.arange(n)[:, None]] = 0.0
    g = sp.csr_matrix(
        (vals.ravel().astype(np.float32), (np.repeat(np.arange(n), idx.shape[1]), idx.ravel())), shape=(n, n)
    )
    g.eliminate_zeros()
    t = g.T.tocsr()
    prod = g.multiply(t)
    g = (g + t - prod).tocsr()
    g.eliminate_zeros()
    return g


def find_ab_params(spread: float, min_dist: float):
    from scipy.optimize import curve_fit

    def curve(x, a, b):
        return 1.0 / (1.0 + a * x ** (2 * b))

    xv = np.linspace(0, spread * 3, 300)
    yv = np.where(xv < min_dist, 1.0, np.exp(-(xv - min_dist) / spread))
    (a, b), _ = curve_fit(curve, xv, yv)
    return float(a), float(b)


def spectral_init(graph: sp.csr_matrix, dims: int, seed: int) -> np.ndarray | None:
    """Leading non-trivial eigenvectors of the normalised adjacency (= the smallest of the
    normalised Laplacian, as umap's spectral_layout). None when the graph is disconnected or
    the solver fails (the caller falls back)."""
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import eigsh

    n = graph.shape[0]
    n_comp, _ = connected_components(graph, directed=False)
    if n_comp > 1 or n <= dims + 2:
        return None
    deg = np.asarray(graph.sum(1)).ravel()
    dinv = sp.diags(1.0 / np.sqrt(np.maximum(deg, 1e-12)))
    a = (dinv @ graph @ dinv).astype(np.float64)
    rng = np.random.default_rng(seed)
    try:
        w, v = eigsh(
            a,
            k=dims + 1,
            which="LA",
            tol=1e-4,
            v0=rng.uniform(0.5, 1.0, n),
            ncv=max(2 * dims + 8, int(np.sqrt(n))),
            maxiter=n * 5,
        )
    except Exception as e:  # ArpackNoConvergence and friends
        log.info("spectral initialisation did not converge (%s)", e)
        return None
    order = np.argsort(w)[::-1]
    return v[:, order[1 : dims + 1]]


def scale_init(coords: np.ndarray, seed: int, max_coord: float = 10.0, noise: float = 1e-4):
    rng = np.random.default_rng(seed)
    c = np.asarray(coords, np.float64)
    c = c * (max_coord / max(np.abs(c).max(), 1e-12))
    return (c + rng.normal(scale=noise, size=c.shape)).astype(np.float32)


def embed(
    graph: sp.csr_matrix,
    init: np.ndarray,
    n_epochs: int,
    min_dist: float,
    seed: int,
    negative_sample_rate: int = 5,
    gamma: float = 1.0,
    initial_alpha: float = 1.0,
    callback=None,
) -> np.ndarray:
    """umap's simplicial_set_embedding (euclidean output) from a given initialisation."""
    from ._umap_sgd import optimize_epoch

    a, b = find_ab_params(1.0, min_dist)
    g = graph.tocoo()
    g.sum_duplicates()
    keep = g.data >= g.data.max() / float(n_epochs)
    head, tail, w = g.row[keep].astype(np.int32), g.col[keep].astype(np.int32), g.data[keep]
    eps = np.full(len(w), -1.0)
    ns = n_epochs * (w / w.max())
    eps[ns > 0] = float(n_epochs) / ns[ns > 0]
    emb = np.asarray(init, np.float32)
    lo, hi = emb.min(0), emb.max(0)
    emb = np.ascontiguousarray(10.0 * (emb - lo) / np.maximum(hi - lo, 1e-12), dtype=np.float32)
    eps_neg = eps / negative_sample_rate
    next_neg = eps_neg.copy()
    next_s = eps.copy()
    rng = np.random.default_rng(seed)
    state = rng.integers(1, 2**62, size=emb.shape[0], dtype=np.int64)
    n_vertices = emb.shape[0]
    for ep in range(n_epochs):
        alpha = initial_alpha * (1.0 - float(ep) / float(n_epochs))
        optimize_epoch(
            emb,
            head,
            tail,
            n_vertices,
            eps,
            np.float32(a),
            np.float32(b),
            state,
            np.float32(gamma),
            np.float32(alpha),
            eps_neg,
            next_neg,
            next_s,
            ep,
        )
        if callback is not None:
            callback(1)
    return emb


def umap_init(graph: sp.csr_matrix, data: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """Spectral initialisation; PCA of the data when the graph is disconnected."""
    spec = spectral_init(graph, dims, seed)
    if spec is None:
        x = np.asarray(data, np.float64)
        x = x - x.mean(0)
        _, _, vt = np.linalg.svd(x[:: max(1, len(x) // 20000)], full_matrices=False)
        spec = x @ vt[:dims].T
        if spec.shape[1] < dims:
            spec = np.column_stack([spec, np.random.default_rng(seed).normal(size=(len(x), dims - spec.shape[1]))])
    return scale_init(spec, seed)
