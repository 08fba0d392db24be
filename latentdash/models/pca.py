"""The linear PCA baseline as a LatentModel: encode = project, decode = reconstruct."""

from __future__ import annotations

import numpy as np
import torch


class PCAModel:
    kind = "linear"
    has_encoder = True

    def __init__(
        self, components: np.ndarray, mean: np.ndarray, std: np.ndarray, image_shape, info: dict | None = None
    ):
        self.components = np.asarray(components, np.float32)  # [k, D], orthonormal rows
        self.mean = np.asarray(mean, np.float32)  # [D]
        self.std = np.asarray(std, np.float32)  # [k] scale of each component
        self.latent_dim = int(self.components.shape[0])
        self.image_shape = tuple(int(s) for s in image_shape)
        if (
            self.components.shape[1] != int(np.prod(self.image_shape))
            or self.mean.shape != (self.components.shape[1],)
            or self.std.shape != (self.latent_dim,)
        ):
            raise ValueError(
                f"components {self.components.shape}, mean {self.mean.shape}, "
                f"std {self.std.shape} for image shape {self.image_shape}"
            )
        self.info = info or {}

    @classmethod
    def fit(cls, images01: np.ndarray, k: int, seed: int = 0) -> PCAModel:
        from sklearn.decomposition import PCA

        x = images01.reshape(len(images01), -1).astype(np.float32)
        p = PCA(n_components=k, svd_solver="randomized", random_state=seed).fit(x)
        return cls(p.components_, p.mean_, np.sqrt(p.explained_variance_), images01.shape[1:])

    def encode(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32).reshape(len(x), -1)
        return (x - self.mean) @ self.components.T

    def decode(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32).reshape(-1, self.latent_dim)
        out = z @ self.components + self.mean
        return np.clip(out, 0.0, 1.0).reshape((len(z),) + self.image_shape)

    def sample_prior(self, n: int, seed: int | None = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return (rng.standard_normal((n, self.latent_dim)) * self.std).astype(np.float32)

    @property
    def prior_mean(self) -> np.ndarray:
        return np.zeros(self.latent_dim, np.float32)  # N(0, diag(std^2))

    def state(self) -> tuple[dict, dict]:
        config = {"image_shape": list(self.image_shape), "latent_dim": self.latent_dim}
        sd = {
            "components": torch.from_numpy(self.components),
            "mean": torch.from_numpy(self.mean),
            "std": torch.from_numpy(self.std),
        }
        return config, sd

    @classmethod
    def from_state(cls, config: dict, sd: dict, info=None) -> PCAModel:
        m = cls(sd["components"].numpy(), sd["mean"].numpy(), sd["std"].numpy(), config["image_shape"], info=info)
        if m.latent_dim != int(config["latent_dim"]):
            raise ValueError(f"{m.latent_dim} components but latent_dim {config['latent_dim']}")
        return m
