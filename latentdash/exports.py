"""The atlas as a CSV table, streamed in chunks. Pure (numpy + csv), no Flask: the REST API's
`atlas.csv` and the page's future export share it.

One row per atlas item: `index` (the row in the atlas, what the API's `index` means),
`dataset_row` (the row in the dataset: differs from `index` for a --limit subset), `label`,
`class_name`, `split` (train / test when the dataset has a known official split, else empty),
the latent vector `z0..z{d-1}`, the coordinates on every map (`{map}_x`, `{map}_y`, and `{map}_z`
for 3-D maps) and `recon_error` (mean squared pixel error of the reconstruction; 0 for a
generator). Floats are written with 9 significant digits, which round-trips float32 exactly.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

# datasets with an official split: id -> number of leading train rows (None: every row is test)
KNOWN_SPLITS = {"fashion-mnist": 60_000, "mnist": 60_000, "fashion-mnist-test": None}
AXES = "xyz"
CHUNK = 2000


def csv_columns(explorer) -> list[str]:
    cols = ["index", "dataset_row", "label", "class_name", "split"]
    cols += [f"z{k}" for k in range(explorer.latent_dim)]
    for m in explorer.map_names:
        cols += [f"{m}_{AXES[j]}" for j in range(explorer.coords(m).shape[1])]
    return cols + ["recon_error"]


def csv_filename(explorer) -> str:
    """`<model>.<dataset>.atlas.csv`, reduced to characters safe in a Content-Disposition header."""
    ds = (explorer.atlas.meta or {}).get("dataset_id") or "data"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{explorer.name}.{ds}.atlas.csv")


def dataset_rows(explorer) -> np.ndarray:
    idx = explorer.atlas.index
    return np.arange(explorer.n, dtype=np.int64) if idx is None else np.asarray(idx, np.int64)


def splits(explorer) -> np.ndarray:
    """'train' / 'test' / '' per atlas item."""
    ds = (explorer.atlas.meta or {}).get("dataset_id")
    rows = dataset_rows(explorer)
    out = np.full(explorer.n, "", dtype=object)
    if ds in KNOWN_SPLITS and explorer.atlas.meta.get("source", "dataset") == "dataset":
        n_train = KNOWN_SPLITS[ds]
        out[:] = "test"
        if n_train is not None:
            out[rows < n_train] = "train"
    return out


def _fmt(a: np.ndarray) -> np.ndarray:
    """float array -> strings with 9 significant digits (exact for float32)."""
    return np.char.mod("%.9g", np.asarray(a, np.float64))


def atlas_csv(explorer, chunk: int = CHUNK):
    """Yield the CSV (header first) as text chunks of `chunk` rows each."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(csv_columns(explorer))
    yield buf.getvalue()
    rows, sp = dataset_rows(explorer), splits(explorer)
    labels = explorer.labels
    names = None
    if labels is not None:
        labels = np.asarray(labels, np.int64)
        names = np.array([explorer.class_name(int(c)) for c in range(int(labels.max(initial=0)) + 1)], dtype=object)
    coords = [explorer.coords(m) for m in explorer.map_names]
    for s in range(0, explorer.n, chunk):
        e = min(explorer.n, s + chunk)
        m = e - s
        parts = [
            np.arange(s, e).astype(str)[:, None],
            rows[s:e].astype(str)[:, None],
            (labels[s:e].astype(str) if labels is not None else np.full(m, "", object))[:, None],
            (names[labels[s:e]] if names is not None else np.full(m, "", object))[:, None],
            sp[s:e][:, None],
            _fmt(explorer.latents[s:e]),
            *(_fmt(c[s:e]) for c in coords),
            _fmt(explorer.recon_error[s:e])[:, None],
        ]
        table = np.concatenate([p.astype(object) for p in parts], axis=1)
        buf.seek(0)
        buf.truncate()
        w.writerows(table.tolist())
        yield buf.getvalue()
