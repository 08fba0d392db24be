"""Placing new latents on precomputed maps (project) and reading latents off 2-D maps (unproject).

- PCA maps: exact. project = (z - mean) @ components.T; unproject = mean + xy @ components[:2],
  the point of the PCA plane at xy.
- t-SNE / UMAP maps: the k = 8 nearest dataset latents (exact brute force, Euclidean) and the
  inverse-squared-distance weighted mean of their map positions; a latent equal to a dataset
  latent lands exactly on that item. unproject: the k nearest map points (cKDTree on the 2-D
  coordinates) and the same weighted mean of their latents; it works anywhere, empty space too.
- Pixel-space maps, project(z): like t-SNE/UMAP above, through the k nearest dataset *latents*
  (so a dataset item's own latent lands on the item, and placement is continuous in z).
  To place *images* instead (e.g. decode(z), which for a blurry decoder sits elsewhere in pixel
  space than the original), use project_pixels: exact for pixel-pca, and the nearest dataset
  images in the space of the first (up to) 50 pixel principal components for pixel-tsne/umap.
  unproject on a pixel map returns the weighted mean latent of the nearest map points.
- `latent-raw-2d` (2-D latent models): identity both ways.
Everything here is read-only after construction, so one Placer serves many threads.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .knn import query_knn
from .params import parse_map_name

K_PLACE = 8
EPS = 1e-12


def idw(values: np.ndarray, idx: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Inverse-squared-distance weighted mean of values[idx] per row; exact hits snap."""
    w = 1.0 / (dist.astype(np.float64) ** 2 + EPS)
    exact = dist[:, 0] <= 1e-6 * (1.0 + dist[:, -1])
    w[exact] = 0.0
    w[exact, 0] = 1.0
    w /= w.sum(1, keepdims=True)
    return np.einsum("nk,nkd->nd", w, values[idx].astype(np.float64)).astype(np.float32)


class Placer:
    def __init__(self, atlas):
        self.atlas = atlas
        self.latents = np.ascontiguousarray(atlas.latents, np.float32)
        self.lat_sq = np.einsum("ij,ij->i", self.latents, self.latents)
        st = atlas.state
        self.lat_mean = st.get("latent_pca_mean")
        self.lat_comps = st.get("latent_pca_components")
        self.pix_mean = st.get("pixel_pca_mean")
        self.pix_comps = st.get("pixel_pca_components")
        self.pix_feats = None
        if self.pix_comps is not None:
            n = len(atlas.thumbnails)
            feats = np.empty((n, len(self.pix_comps)), np.float32)
            for s in range(0, n, 8192):
                x = atlas.thumbnails[s : s + 8192].reshape(-1, self.pix_comps.shape[1]).astype(np.float32)
                feats[s : s + 8192] = (x / 255.0 - self.pix_mean) @ self.pix_comps.T
            self.pix_feats = feats
            self.pix_sq = np.einsum("ij,ij->i", feats, feats)
        self.trees = {name: cKDTree(np.asarray(c, np.float64)) for name, c in atlas.maps.items() if c.shape[1] == 2}

    # ------------------------------------------------------------------ latent -> map
    def project(self, z: np.ndarray, name: str) -> np.ndarray:
        space, method, dims = parse_map_name(name)
        coords = self.atlas.maps[name]
        if method == "raw":
            return z[:, :2].astype(np.float32)
        if space == "latent" and method == "pca":
            return ((z - self.lat_mean) @ self.lat_comps[:dims].T).astype(np.float32)
        idx, dist = query_knn(z, self.latents, K_PLACE, self.lat_sq)
        return idw(coords, idx, dist)

    def project_pixels(self, images01: np.ndarray, name: str) -> np.ndarray:
        """Place images (float [n, C, H, W] in [0, 1]) on a pixel-space map."""
        _, method, dims = parse_map_name(name)
        coords = self.atlas.maps[name]
        f = self.pixel_features(images01)
        if method == "pca":
            return f[:, :dims].astype(np.float32)
        idx, dist = query_knn(f, self.pix_feats, K_PLACE, self.pix_sq)
        return idw(coords, idx, dist)

    def pixel_features(self, images01: np.ndarray) -> np.ndarray:
        x = np.asarray(images01, np.float32).reshape(len(images01), -1)
        return (x - self.pix_mean) @ self.pix_comps.T

    # ------------------------------------------------------------------ map -> latent
    def unproject(self, xy: np.ndarray, name: str) -> np.ndarray:
        space, method, _ = parse_map_name(name)
        if method == "raw":
            return xy.astype(np.float32)
        if space == "latent" and method == "pca":
            return (self.lat_mean + xy @ self.lat_comps[:2]).astype(np.float32)
        tree = self.trees[name]
        k = min(K_PLACE, tree.n)
        dist, idx = tree.query(xy, k=k)
        dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
        return idw(self.latents, idx, dist.astype(np.float32))

    # ------------------------------------------------------------------ neighbours
    def neighbours(self, z: np.ndarray, k: int):
        idx, dist = query_knn(z, self.latents, k, self.lat_sq)
        return idx, dist
