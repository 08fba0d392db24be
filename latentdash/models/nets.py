"""Built-in networks: conv VAE, conv AE, MLP VAE.

Each net exposes `encode_tensor(x) -> z` (the mean for a VAE), `decode_tensor(z) -> x in [0, 1]`,
and `loss(x) -> (total, parts)` for training. Architectures are rebuilt from a plain config dict
(see `build_net`), which is what a checkpoint stores.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LatentdashError


class _ConvTrunk(nn.Module):
    """Two stride-2 convs down (H, W must be divisible by 4) and the mirror up."""

    def __init__(
        self, channels: int, height: int, width: int, hidden: int, out_dim: int, latent_dim: int, base: int = 32
    ):
        super().__init__()
        if height % 4 or width % 4:
            raise LatentdashError(
                f"conv models need image height and width divisible by 4, got "
                f"{height}x{width}; resize the images (e.g. folder:PATH size 28)"
            )
        self.h4, self.w4, self.base = height // 4, width // 4, base
        flat = 2 * base * self.h4 * self.w4
        self.enc = nn.Sequential(
            nn.Conv2d(channels, base, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(base, 2 * base, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(flat, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_dim),
        )
        self.dec = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, flat),
            nn.ReLU(),
            nn.Unflatten(1, (2 * base, self.h4, self.w4)),
            nn.ConvTranspose2d(2 * base, base, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(base, channels, 4, 2, 1),
        )


class _MLPTrunk(nn.Module):
    def __init__(self, channels: int, height: int, width: int, hidden: int, out_dim: int, latent_dim: int):
        super().__init__()
        d = channels * height * width
        self.enc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(d, 2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_dim),
        )
        self.dec = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, d),
            nn.Unflatten(1, (channels, height, width)),
        )


class AutoEncoder(nn.Module):
    """Deterministic AE (variational=False) or Gaussian VAE with a standard-normal prior."""

    def __init__(
        self, trunk: str, image_shape, latent_dim: int, hidden: int = 128, variational: bool = True, beta: float = 1.0
    ):
        super().__init__()
        c, h, w = (int(s) for s in image_shape)
        if latent_dim < 1:
            raise LatentdashError(f"latent size must be >= 1, got {latent_dim}")
        self.variational, self.beta, self.latent_dim = variational, float(beta), int(latent_dim)
        out_dim = 2 * latent_dim if variational else latent_dim
        cls = _ConvTrunk if trunk == "conv" else _MLPTrunk
        t = cls(c, h, w, hidden, out_dim, latent_dim)
        self.enc, self.dec = t.enc, t.dec

    def _stats(self, x):
        out = self.enc(x)
        if not self.variational:
            return out, None
        mu, logvar = out.chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)

    def encode_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self._stats(x)[0]

    def decode_tensor(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.dec(z))

    def loss(self, x: torch.Tensor):
        """Per-image loss: summed BCE over pixels (+ beta * KL for a VAE), batch mean."""
        mu, logvar = self._stats(x)
        z = mu
        if self.variational and self.training:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.dec(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        mse = F.mse_loss(torch.sigmoid(logits), x).detach()
        if not self.variational:
            return rec, {"rec": rec.item(), "mse": mse.item()}
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
        total = rec + self.beta * kl
        return total, {"rec": rec.item(), "kl": kl.item(), "mse": mse.item()}


# name -> (trunk, variational, kind)
ARCHITECTURES = {
    "conv-vae": ("conv", True, "vae"),
    "conv-ae": ("conv", False, "ae"),
    "mlp-vae": ("mlp", True, "vae"),
    "mlp-ae": ("mlp", False, "ae"),
}


def build_net(arch: str, config: dict) -> tuple[nn.Module, str]:
    """Rebuild a net from its architecture name and config; returns (net, kind)."""
    if arch not in ARCHITECTURES:
        raise LatentdashError(f"unknown architecture {arch!r}; choose one of {', '.join(sorted(ARCHITECTURES))}")
    trunk, variational, kind = ARCHITECTURES[arch]
    net = AutoEncoder(
        trunk,
        config["image_shape"],
        int(config["latent_dim"]),
        hidden=int(config.get("hidden", 128)),
        variational=variational,
        beta=float(config.get("beta", 1.0)),
    )
    return net, kind
