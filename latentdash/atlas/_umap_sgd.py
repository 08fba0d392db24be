"""The UMAP SGD epoch kernel (umap-learn's `_optimize_layout_euclidean_single_epoch`, serial,
move_other=True), compiled with numba `cache=True` so the compile happens once per machine.
Import this module only after `projections.numba_cache_dir()` has set NUMBA_CACHE_DIR."""

import numba
import numpy as np


@numba.njit(cache=True, fastmath=True, inline="always")
def _clip(v):
    if v > 4.0:
        return 4.0
    if v < -4.0:
        return -4.0
    return v


@numba.njit(cache=True, inline="always")
def _rand(state, j):
    # xorshift64 per head vertex (deterministic for a seed)
    x = state[j]
    x ^= (x << 13) & 0x7FFFFFFFFFFFFFFF
    x ^= x >> 7
    x ^= (x << 17) & 0x7FFFFFFFFFFFFFFF
    x &= 0x7FFFFFFFFFFFFFFF
    if x == 0:
        x = 88172645463325252
    state[j] = x
    return x


@numba.njit(cache=True, fastmath=True)
def optimize_epoch(
    emb,
    head,
    tail,
    n_vertices,
    epochs_per_sample,
    a,
    b,
    state,
    gamma,
    alpha,
    epochs_per_negative_sample,
    epoch_of_next_negative_sample,
    epoch_of_next_sample,
    n,
):
    dim = emb.shape[1]
    for i in range(epochs_per_sample.shape[0]):
        if epoch_of_next_sample[i] <= n:
            j = head[i]
            k = tail[i]
            d2 = np.float32(0.0)
            for d in range(dim):
                diff = emb[j, d] - emb[k, d]
                d2 += diff * diff
            if d2 > 0.0:
                gc = -2.0 * a * b * d2 ** (b - 1.0)
                gc /= a * d2**b + 1.0
            else:
                gc = 0.0
            for d in range(dim):
                g = _clip(gc * (emb[j, d] - emb[k, d]))
                emb[j, d] += g * alpha
                emb[k, d] += -g * alpha
            epoch_of_next_sample[i] += epochs_per_sample[i]
            n_neg = int((n - epoch_of_next_negative_sample[i]) / epochs_per_negative_sample[i])
            for _ in range(n_neg):
                k = _rand(state, j) % n_vertices
                d2 = np.float32(0.0)
                for d in range(dim):
                    diff = emb[j, d] - emb[k, d]
                    d2 += diff * diff
                if d2 > 0.0:
                    gc = 2.0 * gamma * b
                    gc /= (0.001 + d2) * (a * d2**b + 1)
                elif j == k:
                    continue
                else:
                    gc = 0.0
                for d in range(dim):
                    if gc > 0.0:
                        g = _clip(gc * (emb[j, d] - emb[k, d]))
                    else:
                        g = 0.0
                    emb[j, d] += g * alpha
            epoch_of_next_negative_sample[i] += n_neg * epochs_per_negative_sample[i]
