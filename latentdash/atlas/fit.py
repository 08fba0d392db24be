"""Fit diagnosis: reconstruction-error distributions of the train and test splits, and their gap.

The atlas holds each item's reconstruction error (MSE per pixel). When the dataset has an official
train/test split (`fashion-mnist`, `mnist`: the first 60,000 rows are the train split) both
distributions are histogrammed on shared bins and the generalisation gap is
`test mean error / train mean error`, read in bands:

    gap < 0.9        "test error below train error: no sign of overfitting"
    0.9 <= gap < 1.1 "no sign of overfitting"
    1.1 <= gap < 1.5 "mild overfitting"
    1.5 <= gap < 2.5 "clear overfitting"
    gap >= 2.5       "strong overfitting"

The gap says something about overfitting only when the model was trained on that train split (the
checkpoint records its training data); otherwise the reading says so. On a dataset with no split
(the bundled test split) there is one histogram, and `error_percentile` says where an error falls.
Bins: 40 equal bins from 0 to the 99.5th percentile of all errors; larger errors are counted in
the last bin (`clipped` says how many).
"""

from __future__ import annotations

import numpy as np

N_BINS = 40
TOP_QUANTILE = 99.5
BANDS = (
    (0.9, "test error below train error: no sign of overfitting"),
    (1.1, "no sign of overfitting"),
    (1.5, "mild overfitting"),
    (2.5, "clear overfitting"),
    (float("inf"), "strong overfitting"),
)
KNOWN_TRAIN_ROWS = {"fashion-mnist": 60_000, "mnist": 60_000}  # official splits of the builtin ids


def band(gap: float) -> str:
    for upper, words in BANDS:
        if gap < upper:
            return words
    return BANDS[-1][1]


def split_of(n_rows: int, n_train: int, index=None) -> np.ndarray | None:
    """int8 [N]: 0 for a train-split row, 1 for a test-split row; None without a split."""
    if not n_train:
        return None
    rows = np.arange(n_rows) if index is None else np.asarray(index, np.int64)
    return (rows >= int(n_train)).astype(np.int8)


def _hist(values: np.ndarray, edges: np.ndarray) -> list[int]:
    clipped = np.minimum(values, edges[-1])
    return np.histogram(clipped, bins=edges)[0].astype(int).tolist()


def _stats(e: np.ndarray) -> dict:
    return {
        "n": int(len(e)),
        "mean": float(e.mean()),
        "median": float(np.median(e)),
        "p90": float(np.percentile(e, 90)),
    }


def fit_diagnosis(
    recon_error: np.ndarray, split: np.ndarray | None = None, trained_on_split: bool | None = None
) -> dict:
    """Histograms (shared bins), per-split statistics, the gap and a one-line reading."""
    e = np.asarray(recon_error, np.float64)
    if len(e) == 0 or not np.isfinite(e).all() or not (e > 0).any():
        return {
            "available": False,
            "reading": "no reconstruction errors (a generator has no encoder): nothing to diagnose",
        }
    top = float(np.percentile(e, TOP_QUANTILE))
    if top <= 0:
        top = float(e.max())
    edges = np.linspace(0.0, top, N_BINS + 1)
    out = {
        "available": True,
        "bins": edges.tolist(),
        "clipped": int((e > top).sum()),
        "measure": "reconstruction MSE per pixel",
        "all": _stats(e),
        "params": {"n_bins": N_BINS, "top_quantile": TOP_QUANTILE},
    }
    has_both = split is not None and (split == 0).any() and (split == 1).any()
    if not has_both:
        out["hist"] = {"all": _hist(e, edges)}
        out["has_split"] = False
        out["gap"] = None
        out["reading"] = (
            f"one split only ({len(e)} images): mean error {e.mean():.4g}, median {np.median(e):.4g}; "
            f"no train split to compare against"
        )
        return out
    tr, te = e[split == 0], e[split == 1]
    gap = float(te.mean() / tr.mean()) if tr.mean() > 0 else float("inf")
    out["has_split"] = True
    out["hist"] = {"train": _hist(tr, edges), "test": _hist(te, edges)}
    out["train"], out["test"] = _stats(tr), _stats(te)
    out["gap"] = gap
    out["band"] = band(gap)
    out["trained_on_split"] = trained_on_split
    line = f"test error {gap:.2f}x train: {band(gap)}"
    if trained_on_split is False:
        line += " (but the model was not trained on this train split, so this is no overfitting measure)"
    out["reading"] = line
    return out


def error_percentile(errors: np.ndarray, value: float) -> float:
    """Percent of `errors` that are <= value (where an item's error falls in the histogram)."""
    s = np.sort(np.asarray(errors, np.float64))
    return float(100.0 * np.searchsorted(s, float(value), side="right") / max(1, len(s)))
