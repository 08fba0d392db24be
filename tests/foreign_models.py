"""Models written the way a user outside this project would write them, loaded through
`latentdash.models.load_model("tests.foreign_models:<factory>")`."""

from __future__ import annotations

import numpy as np


class RGBGenerator:
    """A decoder-only generator with numpy weights: 5-D latents -> RGB 16x16 images, no encoder."""

    latent_dim = 5
    image_shape = (3, 16, 16)

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.w = rng.normal(0, 1.5, (self.latent_dim, int(np.prod(self.image_shape)))).astype(np.float32)

    def decode(self, z):
        z = np.asarray(z, np.float32).reshape(-1, self.latent_dim)
        return (1 / (1 + np.exp(-z @ self.w))).reshape((len(z),) + self.image_shape)


def rgb_generator():
    return RGBGenerator()
