"""Explorer: one per (model, atlas) per process; answers everything the page asks.

Read-only after construction and safe to share between threads (numpy/scipy queries and torch
inference only; no per-user state). Every bad argument raises a one-line LatentdashError.
See docs/interfaces.md for the binding API and latentdash/atlas/placement.py for how new latents
are placed on t-SNE / UMAP / pixel-space maps.
"""

from __future__ import annotations

import numpy as np

from .atlas.placement import Placer
from .atlas.projections import latent_pcs
from .atlas.store import Atlas
from .errors import LatentdashError


class Explorer:
    def __init__(self, model, atlas: Atlas, name: str = "model"):
        d = int(model.latent_dim)
        if atlas.latents.shape[1] != d:
            raise LatentdashError(
                f"atlas {atlas.key} has {atlas.latents.shape[1]}-D latents but the model "
                f"{name!r} has latent_dim {d}; build the atlas for this model"
            )
        if tuple(atlas.thumbnails.shape[1:]) != tuple(model.image_shape):
            raise LatentdashError(
                f"atlas images are {tuple(atlas.thumbnails.shape[1:])} but model {name!r} "
                f"makes {tuple(model.image_shape)}; build the atlas for this model"
            )
        self.model, self.atlas, self.name = model, atlas, name
        self.n = int(atlas.n)
        self.latent_dim = d
        self.image_shape = tuple(int(s) for s in model.image_shape)
        self.kind = model.kind
        self.class_names = list(atlas.class_names) if atlas.class_names is not None else None
        self.labels = atlas.labels
        self.map_names = list(atlas.maps)
        self._placer = Placer(atlas)
        self._pcs = latent_pcs(atlas.latents)

    # ------------------------------------------------------------------ arrays
    @property
    def latents(self) -> np.ndarray:
        return self.atlas.latents

    @property
    def recon_error(self) -> np.ndarray:
        return self.atlas.recon_error

    @property
    def metrics(self) -> dict:
        return self.atlas.metrics

    @property
    def latent_pcs(self):
        """(mean [d], components [d, d] (rows, by decreasing variance), std [d]) of the codes."""
        return self._pcs

    def coords(self, map_name: str) -> np.ndarray:
        return self.atlas.maps[self._check_map(map_name)]

    def preservation(self, map_name: str) -> np.ndarray:
        return self.atlas.preservation[self._check_map(map_name)]

    # ------------------------------------------------------------------ model
    def decode(self, z) -> np.ndarray:
        z = self._as_latents(z)
        return np.asarray(self.model.decode(z), np.float32).reshape((len(z),) + self.image_shape)

    def encode(self, x) -> np.ndarray:
        if not getattr(self.model, "has_encoder", True):
            raise LatentdashError(
                f"{self.name} is a generator without an encoder; it cannot encode "
                f"images: pick points on the map or sample the prior instead"
            )
        return np.asarray(self.model.encode(self._as_images(x)), np.float32)

    def sample_prior(self, n: int, seed=None) -> np.ndarray:
        if int(n) < 1 or int(n) > 100_000:
            raise LatentdashError(f"cannot sample {n} latents; ask for between 1 and 100000")
        return np.asarray(self.model.sample_prior(int(n), seed), np.float32).reshape(int(n), -1)

    # ------------------------------------------------------------------ placement
    def project(self, z, map_name: str) -> np.ndarray:
        """Map coordinates float32 [n, 2|3] of latent vector(s) z ([d] or [n, d])."""
        name = self._check_map(map_name)
        return self._placer.project(self._as_latents(z), name)

    def project_pixels(self, images, map_name: str) -> np.ndarray:
        """Place images (float [n, C, H, W] or [C, H, W] in [0, 1], e.g. decode(z)) on a pixel-space
        map by their pixels: exact for pixel-pca, nearest dataset images for pixel-tsne/umap."""
        name = self._check_map(map_name)
        if not name.startswith("pixel-"):
            raise LatentdashError(
                f"project_pixels places images on pixel-space maps; {name} is a latent "
                f"map: use project(encode(images), {name!r})"
            )
        x = self._as_images(images)
        return self._placer.project_pixels(x, name)

    def unproject(self, xy, map_name: str) -> np.ndarray:
        """The latent float32 [d] at a position of a 2-D map (anywhere, also in empty space)."""
        name = self._check_map(map_name)
        dims = self.atlas.maps[name].shape[1]
        if dims != 2:
            raise LatentdashError(f"unproject works on 2-D maps only and {name} is {dims}-D; pick a -2d map")
        xy = np.asarray(xy, dtype=np.float64).reshape(-1)
        if xy.shape != (2,):
            raise LatentdashError(f"a position on {name} needs 2 coordinates (x, y), got {xy.size}")
        if not np.isfinite(xy).all():
            raise LatentdashError(f"position {xy.tolist()} is not finite; pass real x, y coordinates")
        return self._placer.unproject(xy[None], name)[0]

    def neighbours(self, z, k: int = 8):
        """(indices int64 [k], distances float32 [k]) of the k dataset items nearest to z."""
        z = self._as_latents(z)
        if len(z) != 1:
            raise LatentdashError(f"neighbours takes one latent vector, got {len(z)}; call it per vector")
        k = int(k)
        if not 1 <= k <= self.n:
            raise LatentdashError(f"k = {k} neighbours asked but the atlas has {self.n} items; use 1 <= k <= {self.n}")
        idx, dist = self._placer.neighbours(z, k)
        return idx[0].astype(np.int64), dist[0].astype(np.float32)

    # ------------------------------------------------------------------ items
    def thumbnail(self, i) -> np.ndarray:
        return self.atlas.thumbnails[self._check_index(i)]

    def image01(self, i) -> np.ndarray:
        return self.atlas.thumbnails[self._check_index(i)].astype(np.float32) / 255.0

    def label_name(self, i) -> str:
        i = self._check_index(i)
        if self.labels is None:
            return "unlabelled"
        return self.class_name(int(self.labels[i]))

    def class_name(self, label: int) -> str:
        """A label's name: its class name when the data has one, else the number."""
        if self.class_names and 0 <= label < len(self.class_names):
            return str(self.class_names[label])
        return str(label)

    # ------------------------------------------------------------------ checks
    def _check_map(self, map_name) -> str:
        if map_name not in self.atlas.maps:
            raise LatentdashError(f"no map named {map_name!r}; this atlas has {', '.join(self.map_names)}")
        return map_name

    def _check_index(self, i) -> int:
        try:
            j = int(i)
        except (TypeError, ValueError):
            raise LatentdashError(f"item index {i!r} is not an integer; pass a row index 0..{self.n - 1}") from None
        if j != i:
            raise LatentdashError(f"item index {i!r} is not an integer; pass a row index 0..{self.n - 1}")
        if not 0 <= j < self.n:
            raise LatentdashError(f"item index {i!r} is out of range; pass a row index 0..{self.n - 1}")
        return j

    def _as_images(self, x) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if x.shape == self.image_shape:
            x = x[None]
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape or len(x) == 0:
            raise LatentdashError(
                f"images must have shape [n, {', '.join(map(str, self.image_shape))}], "
                f"got {list(x.shape)}; resize them to the model's image shape"
            )
        if not np.isfinite(x).all():
            raise LatentdashError("images contain NaN or infinite values; pass pixels in [0, 1]")
        return np.clip(x, 0.0, 1.0)

    def _as_latents(self, z) -> np.ndarray:
        try:
            z = np.asarray(z, dtype=np.float32)
        except (TypeError, ValueError):
            raise LatentdashError(f"a latent vector must be {self.latent_dim} numbers") from None
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim or len(z) == 0:
            got = z.shape[-1] if z.ndim >= 1 else 1
            raise LatentdashError(
                f"latent vector has length {got} (shape {list(z.shape)}) but this model's "
                f"latent size is {self.latent_dim}; pass [{self.latent_dim}] or "
                f"[n, {self.latent_dim}]"
            )
        if not np.isfinite(z).all():
            raise LatentdashError("latent vector contains NaN or infinite values; pass finite numbers")
        return np.ascontiguousarray(z)
