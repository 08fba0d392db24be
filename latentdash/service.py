"""Explorer: one per (model, atlas) per process; answers everything the page asks.

Read-only after construction and safe to share between threads (numpy/scipy queries and torch
inference only; no per-user state). Every bad argument raises a one-line LatentdashError.
See docs/interfaces.md for the binding API and latentdash/atlas/placement.py for how new latents
are placed on t-SNE / UMAP / pixel-space maps.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from .atlas.placement import Placer
from .atlas.projections import latent_pcs
from .atlas.store import Atlas
from .errors import LatentdashError

log = logging.getLogger(__name__)


class Explorer:
    def __init__(self, model, atlas: Atlas, name: str = "model", extras=None):
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
        from .atlas.extras import extras_for  # plausibility, regions, topology, fit (atlas/extras.py)
        from .plausibility import PlausibilityIndex

        self.extras = extras if extras is not None else extras_for(atlas, model)
        prior = "standard-normal" if self.kind == "vae" else None
        ref = atlas.latents if self.extras.reference is None else self.extras.reference
        self._plaus = PlausibilityIndex(ref, self.extras.nn_dist, prior)

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

    def use_onnx(self, data: bytes) -> None:
        """Decode live frames (decode_live) with this verified ONNX export of the decoder (its
        pixels within 1/255 of the model's: onnx_export checks that before offering it)."""
        self._onnx, self._onnx_sessions = data, {}

    def decode_live(self, z) -> np.ndarray:
        """decode() for the frames of a drag, one vector at a time: through onnxruntime when the
        decoder has a verified ONNX export (~0.2 ms for the shipped conv decoders, against ~0.9 ms
        through torch's module calls), else through the model. The session is made per process, on
        first use, after any fork (a session from before a fork would share its thread pool)."""
        data = getattr(self, "_onnx", None)
        if data is None:
            return self.decode(z)
        z = self._as_latents(z)
        try:
            sess = self._onnx_sessions.get(os.getpid())
            if sess is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = 1, 1, 3
                sess = ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
                self._onnx_sessions = {os.getpid(): sess}
            out = sess.run(None, {sess.get_inputs()[0].name: z.astype(np.float32, copy=False)})[0]
            return np.asarray(out, np.float32).reshape((len(z),) + self.image_shape)
        except Exception as e:  # the export ran in the check but not here: the model, from now on
            log.exception("%s: ONNX decoding failed; decoding live frames with the model", self.name, exc_info=e)
            self._onnx = None
            return self.decode(z)

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

    def unproject_many(self, xy, map_name: str) -> np.ndarray:
        """unproject for many positions at once (one tree query): float32 [n, d] for xy [n, 2]."""
        name = self._check_map(map_name)
        dims = self.atlas.maps[name].shape[1]
        if dims != 2:
            raise LatentdashError(f"unproject works on 2-D maps only and {name} is {dims}-D; pick a -2d map")
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
            raise LatentdashError(f"positions on {name} need shape [n, 2] (x, y), got {list(xy.shape)}")
        if not np.isfinite(xy).all():
            raise LatentdashError("positions contain NaN or infinite values; pass real x, y coordinates")
        return np.asarray(self._placer.unproject(xy, name), np.float32)

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

    # ------------------------------------------------------------------ extras
    def plausibility(self, z):
        """How far z is from the data (latentdash/plausibility.py): for one vector [d] a dict
        (distance, nearest, percentile, verdict, log_prior_nats for a VAE); for [n, d] a dict of
        lists with the same keys."""
        z = self._as_latents(z)
        if np.ndim(z) == 2 and len(z) == 1:
            return self._plaus.one(z[0])
        r = self._plaus.query(z)
        return {
            "distance": r["distance"].tolist(),
            "nearest": r["nearest"].tolist(),
            "percentile": r["percentile"].tolist(),
            "verdict": r["verdict"],
            "log_prior_nats": None if r["log_prior"] is None else r["log_prior"].tolist(),
        }

    def plausibility_path(self, a, b, steps: int = 16, mode: str | None = None) -> dict:
        """Plausibility of each step of the path a -> b: one mode, or {linear, spherical}."""
        a, b = self._as_latents(a), self._as_latents(b)
        if len(a) != 1 or len(b) != 1:
            raise LatentdashError("an interpolation path takes two latent vectors, a and b")
        if mode is None:
            return self._plaus.compare_paths(a[0], b[0], steps)
        return self._plaus.path(a[0], b[0], steps, mode)

    def regions(self, map_name: str) -> dict:
        """Semantic regions of a 2-D map (atlas/regions.py): params, clusters (id, size, centre,
        medoid, majority, purity, name), noise fraction."""
        name = self._check_map(map_name)
        if self.atlas.maps[name].shape[1] != 2:
            raise LatentdashError(f"regions are found on 2-D maps and {name} is 3-D; pick a -2d map")
        if name not in self.extras.regions:
            raise LatentdashError(
                f"semantic regions of {self.name} were not computed; run `latentdash precompute` for this model"
            )
        return self.extras.regions[name]

    def region_labels(self, map_name: str) -> np.ndarray:
        """Cluster number of every item on a 2-D map (int32 [n], -1 = in no region)."""
        self.regions(map_name)
        return self.extras.region_labels[map_name]

    def topology(self) -> dict:
        """Persistent homology of the latent codes (atlas/topology.py): summary with counts and
        reading, the H0/H1 diagrams as [[birth, death], ...] (death None = infinite)."""
        t = self.extras.topology
        if t is None:
            raise LatentdashError(f"the topology of {self.name} was not computed; run `latentdash precompute`")

        def rows(d):
            return [[float(b), None if not np.isfinite(e) else float(e)] for b, e in np.asarray(d, np.float64)]

        return dict(t["summary"], h0=rows(t["h0"]), h1=rows(t["h1"]), landmarks=np.asarray(t["landmarks"]).tolist())

    def fit(self) -> dict:
        """Reconstruction-error histograms of train vs test, the gap and its reading (atlas/fit.py)."""
        if self.extras.fit is None:
            raise LatentdashError(f"the fit diagnosis of {self.name} was not computed; run `latentdash precompute`")
        return self.extras.fit

    def split(self) -> np.ndarray | None:
        """int8 [n]: 0 for a train-split item, 1 for a test-split one; None without a split."""
        return self.extras.split

    def error_percentile(self, i) -> float:
        """Where item i's reconstruction error falls among the atlas's (percent <= it)."""
        from .atlas.fit import error_percentile

        return error_percentile(self.atlas.recon_error, float(self.atlas.recon_error[self._check_index(i)]))

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
