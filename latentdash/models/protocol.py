"""The LatentModel protocol every model in latentdash implements.

x: float32 images in [0, 1], shape [N, C, H, W]; z: float32 latents, shape [N, latent_dim]
(the posterior mean for a VAE). Both numpy arrays at this seam: callers never touch torch.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

KINDS = ("ae", "vae", "generator", "linear")


@runtime_checkable
class LatentModel(Protocol):
    latent_dim: int
    image_shape: tuple[int, int, int]
    kind: str  # one of KINDS
    has_encoder: bool

    def encode(self, x: np.ndarray) -> np.ndarray: ...

    def decode(self, z: np.ndarray) -> np.ndarray: ...

    def sample_prior(self, n: int, seed: int | None = None) -> np.ndarray: ...


class TorchLatentModel:
    """Wraps a torch module with `encode_tensor`/`decode_tensor` into the numpy protocol.

    Runs in eval mode under `torch.inference_mode`, batches large inputs, and is safe to call
    from many threads (inference only, no state changes).
    """

    def __init__(
        self,
        net: torch.nn.Module,
        *,
        latent_dim: int,
        image_shape,
        kind: str,
        has_encoder: bool = True,
        batch_size: int = 1024,
        info: dict | None = None,
    ):
        self.net = net.eval()
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.kind = kind
        self.has_encoder = has_encoder
        self.batch_size = batch_size
        self.info = info or {}

    def _run(self, fn, arr: np.ndarray, in_shape: tuple) -> np.ndarray:
        arr = np.asarray(arr, dtype=np.float32)
        if arr.ndim == len(in_shape):
            arr = arr[None]
        outs = []
        with torch.inference_mode():
            for i in range(0, len(arr), self.batch_size):
                t = torch.from_numpy(np.ascontiguousarray(arr[i : i + self.batch_size]))
                outs.append(fn(t).float().numpy())
        if not outs:
            return np.zeros((0,), np.float32)
        return np.concatenate(outs)

    def encode(self, x: np.ndarray) -> np.ndarray:
        if not self.has_encoder:
            from ..errors import LatentdashError

            raise LatentdashError(
                "this model is a decoder-only generator and cannot encode images; "
                "build its map from prior samples instead"
            )
        return self._run(self.net.encode_tensor, x, self.image_shape)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return self._run(self.net.decode_tensor, z, (self.latent_dim,))

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(mu, logvar) of a VAE's encoder for images x, or None for a model without them."""
        stats = getattr(self.net, "_stats", None)
        if not self.has_encoder or stats is None or not getattr(self.net, "variational", False):
            return None
        d = self.latent_dim
        out = self._run(lambda t: torch.cat(stats(t), dim=1), x, self.image_shape)
        return out[:, :d], out[:, d:]

    @property
    def prior_mean(self) -> np.ndarray:
        return np.zeros(self.latent_dim, np.float32)  # sample_prior draws from N(0, I)

    def sample_prior(self, n: int, seed: int | None = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.standard_normal((n, self.latent_dim)).astype(np.float32)
