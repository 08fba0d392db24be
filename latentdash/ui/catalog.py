"""Read-only, precomputed UI facts about each Explorer: class traces, map options, slider axes.

Built once when the app starts (never in a callback) and shared by every request. Nothing here
changes after construction, so any number of threads and workers can read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .. import algebra, latent_ops
from ..atlas.params import MapName
from ..errors import LatentdashError

log = logging.getLogger(__name__)

MAX_SLIDERS = 16
KL_SAMPLE = 2000  # images the per-dimension KL of a VAE is measured on (at start-up)
SPACES = ("latent", "pixel")
METHODS = ("pca", "tsne", "umap", "raw")
METHOD_LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "raw": "raw latent"}
BASES = ("dims", "pcs")


@dataclass(frozen=True)
class SliderAxes:
    """What the sliders control. `dims`: latent dimensions `idx`; `pcs`: coordinates along the
    principal directions `basis` [k, d] of the latent codes around `origin`."""

    kind: str
    idx: tuple[int, ...]
    basis: np.ndarray | None
    origin: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    labels: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.idx)

    def values_of(self, z: np.ndarray) -> np.ndarray:
        """Slider positions for latent z (clipped to the slider ranges)."""
        v = z[list(self.idx)] if self.kind == "dims" else latent_ops.to_basis(z, self.basis, self.origin)
        return np.clip(v, self.lo, self.hi).astype(np.float32)

    def compose(self, base_z: np.ndarray, values) -> np.ndarray:
        """The latent vector the sliders describe: base_z with the slider coordinates replaced."""
        if self.kind == "dims":
            return latent_ops.set_dims(base_z, values, self.idx)
        return latent_ops.from_basis(base_z, values, self.basis, self.origin)


def _round_range(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    q = 10 ** np.floor(np.log10(span / 20)) if span > 0 else 0.1
    return float(np.floor(lo / q) * q), float(np.ceil(hi / q) * q)


class ModelView:
    """One model's Explorer plus everything the page derives from it once."""

    def __init__(self, explorer, max_sliders: int = MAX_SLIDERS):
        ex = self.explorer = explorer
        self.name = str(ex.name)
        self.n = int(ex.n)
        self.d = int(ex.latent_dim)
        self.image_shape = tuple(int(s) for s in ex.image_shape)
        self.kind = str(getattr(ex, "kind", "ae"))
        labels = ex.labels
        self.trace_of = np.zeros(self.n, np.int32)
        self.pos_in_trace = np.arange(self.n, dtype=np.int64)
        if labels is not None and len(labels) == self.n:
            labels = np.asarray(labels, np.int64)
            classes = np.unique(labels)
            self.trace_names = [ex.class_name(int(c)) for c in classes]
            self.trace_idx = [np.flatnonzero(labels == c) for c in classes]
            self.trace_classes = [int(c) for c in classes]
            for t, idx in enumerate(self.trace_idx):
                self.trace_of[idx] = t
                self.pos_in_trace[idx] = np.arange(len(idx))
            self.has_labels = True
        else:
            self.trace_names, self.trace_idx, self.trace_classes = ["images"], [np.arange(self.n)], [0]
            self.has_labels = False
        self.map_names = list(ex.map_names)
        if not self.map_names:
            raise LatentdashError(f"model {self.name!r} has no maps in its atlas; rebuild the atlas")
        self.map_table: dict[MapName, str] = {}
        for m in self.map_names:
            try:
                self.map_table[MapName.parse(m)] = m
            except ValueError:
                log.warning("map %r of model %r has an unexpected name; it is not offered", m, self.name)
        lat = np.asarray(ex.latents, np.float32)
        self.lat_mean = lat.mean(0)
        self.lat_std = lat.std(0) + 1e-6
        self.sliders = {"dims": self._dims_axes(lat, max_sliders), "pcs": self._pc_axes(max_sliders)}
        # a generator has no encoder: nothing is reconstructed, so no (all-zero) error to colour by
        self.has_encoder = self.kind != "generator" and bool(getattr(ex.model, "has_encoder", True))
        split = ex.split() if callable(getattr(ex, "split", None)) else None  # train/test (ui/analysis.py)
        self.has_split = split is not None and len(split) == self.n and len(np.unique(split)) == 2
        self.colour_options = (
            (["class"] if self.has_labels else [])
            + (["recon"] if self.has_encoder else [])
            + (["split"] if self.has_split else [])
            + ["pres"]
            + [f"dim{k}" for k in range(self.d)]
        )
        self.class_of_trace = dict(zip(self.trace_classes, self.trace_idx)) if self.has_labels else {}
        # latent dimensions by decreasing variance of the codes (traversal rows, "top dims")
        self.var_order = tuple(int(i) for i in np.argsort(-lat.astype(np.float64).var(0), kind="stable"))
        # prior samples: VAEs, generators and the PCA baseline (a Gaussian) have a prior to sample
        self.has_prior = self.kind in ("vae", "generator", "linear")
        self.prior_mean = self._prior_mean()
        self.kl, self.kl_n = self._kl_per_dim()

    # ---------------------------------------------------------------- prior and KL
    def _prior_mean(self) -> np.ndarray:
        m = getattr(self.explorer.model, "prior_mean", None)
        if m is not None:
            return np.asarray(m, np.float32).reshape(self.d)
        # a model that samples its own prior and does not say its mean: estimate it once
        return np.asarray(self.explorer.sample_prior(4096, 0), np.float32).mean(0)

    def _kl_per_dim(self, n: int = KL_SAMPLE):
        """A VAE's per-dimension KL to the prior on (a fixed subsample of) the dataset, or None."""
        post = getattr(self.explorer.model, "posterior", None)
        if self.kind != "vae" or post is None:
            return None, 0
        idx = np.linspace(0, self.n - 1, min(n, self.n)).astype(np.int64)
        x = np.asarray(self.explorer.atlas.thumbnails[idx], np.float32) / 255.0
        stats = post(x)
        if stats is None:
            return None, 0
        return algebra.kl_per_dim(*stats), len(idx)

    # ---------------------------------------------------------------- slider axes
    def _dims_axes(self, lat, k) -> SliderAxes:
        idx = tuple(int(i) for i in latent_ops.top_variance_dims(lat, k))
        lo, hi = zip(
            *(
                _round_range(
                    min(float(lat[:, i].min()), float(self.lat_mean[i] - 4 * self.lat_std[i])),
                    max(float(lat[:, i].max()), float(self.lat_mean[i] + 4 * self.lat_std[i])),
                )
                for i in idx
            )
        )
        return SliderAxes(
            "dims",
            idx,
            None,
            np.zeros(self.d, np.float32),
            np.array(lo, np.float32),
            np.array(hi, np.float32),
            tuple(f"z{i}" for i in idx),
        )

    def _pc_axes(self, k) -> SliderAxes:
        mean, comps, std = (np.asarray(a, np.float32) for a in self.explorer.latent_pcs)
        k = min(k, len(comps))
        std = np.maximum(std[:k], 1e-6)
        lo, hi = zip(*(_round_range(-4.5 * s, 4.5 * s) for s in std))
        return SliderAxes(
            "pcs",
            tuple(range(k)),
            comps[:k],
            mean,
            np.array(lo, np.float32),
            np.array(hi, np.float32),
            tuple(f"PC{i + 1}" for i in range(k)),
        )

    # ---------------------------------------------------------------- maps
    def resolve_map(self, space: str | None, method: str | None, dims) -> str:
        """The closest existing map to (space, method, dims): exact, else same space and dims,
        else same space, else the first map."""
        try:
            dims = int(dims)
        except (TypeError, ValueError):
            dims = 2
        if (space, method, dims) in self.map_table:
            return self.map_table[MapName(space, method, dims)]
        for pref in (
            [MapName(space, m, dims) for m in METHODS]
            + [MapName(space, method, 5 - dims)]
            + [MapName(space, m, 5 - dims) for m in METHODS]
        ):
            if pref in self.map_table:
                return self.map_table[pref]
        return self.default_map()

    def default_map(self) -> str:
        for cand in ("latent-umap-2d", "latent-raw-2d", "latent-tsne-2d", "latent-pca-2d"):
            if cand in self.map_names:
                return cand
        return self.map_names[0]

    @staticmethod
    def map_parts(name: str) -> MapName:
        return MapName.parse(name)

    def sibling_map(self, map_name: str) -> str | None:
        """The same space and method in the other dimensionality (2-D <-> 3-D), or None."""
        return self.map_table.get(MapName.parse(map_name).sibling())

    def point_from_trace(self, curve: int, pos: int) -> int | None:
        """Dataset index of point `pos` of class trace `curve` (None if out of range)."""
        if 0 <= curve < len(self.trace_idx) and 0 <= pos < len(self.trace_idx[curve]):
            return int(self.trace_idx[curve][pos])
        return None

    def label_of(self, i: int) -> str:
        return self.trace_names[int(self.trace_of[i])] if self.has_labels else ""

    def colour_label(self, colour: str) -> str:
        if colour == "class":
            return "class"
        if colour == "recon":
            return "reconstruction error"
        if colour == "pres":
            return "neighbourhood preservation"
        if colour == "split":
            return "train / test split"
        return f"latent dimension z{colour[3:]}"


class Catalog:
    """Every ModelView the server offers, by name, in the order given (the first is the default)."""

    def __init__(self, explorers, max_sliders: int = MAX_SLIDERS):
        if not explorers:
            raise LatentdashError("no models to serve; pass at least one --checkpoint")
        self.views: dict[str, ModelView] = {}
        for ex in explorers:
            v = ModelView(ex, max_sliders=max_sliders)
            if v.name in self.views:
                raise LatentdashError(f"two models are both named {v.name!r}; give them distinct names")
            self.views[v.name] = v
        self.default = next(iter(self.views))
        self.url_prefix = "/"  # where the app is mounted; set once by create_app
        ns = {v.n for v in self.views.values()}
        # Indices (selection, endpoints) carry across models only when they index the same images.
        self.shared_index = len(ns) == 1
        self.jobs = None  # the background-job runtime (server/jobs.py), when the app has one
        self.discover = None  # callable: loads views that background jobs added (server/jobs.py)

    def get(self, name) -> ModelView | None:
        if not isinstance(name, str):
            return None
        view = self.views.get(name)
        if view is None and self.discover is not None:  # maybe a job's result another process saw
            self.discover()
            view = self.views.get(name)
        return view

    def add(self, view: ModelView) -> None:
        """A view a background job made (server/jobs.py). Copy-on-write: a request iterating
        the views never sees the dict change under it."""
        self.views = {**self.views, view.name: view}
        # (a job with another seed under --limit maps another subset of the images)
        rows = [getattr(v.explorer.atlas, "index", None) for v in self.views.values()]
        same_rows = all((r is None) == (rows[0] is None) and (r is None or np.array_equal(r, rows[0])) for r in rows)
        self.shared_index = len({v.n for v in self.views.values()}) == 1 and same_rows

    @property
    def names(self) -> list[str]:
        return list(self.views)
