"""Bring-your-own-model adapters and the single entry point `load_model(spec)`.

Specs: a latentdash checkpoint path (`*.pt`), a TorchScript file (`*.ts`/`*.pt` saved with
torch.jit.save, with `encode` and `decode` methods), or `package.module:function` returning an
object with `encode`, `decode`, `latent_dim`, `image_shape` (a torch module or plain object).
Every result is validated by a round trip before use.
"""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import LatentdashError
from .checkpoint import FORMAT, load_checkpoint


class ForeignModel:
    """Wraps any object with encode/decode (torch or numpy) into the LatentModel protocol."""

    def __init__(self, obj, *, latent_dim: int, image_shape, name: str, kind: str | None = None):
        self.obj = obj
        if isinstance(obj, torch.nn.Module):
            obj.eval()
        self.name = name
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.has_encoder = callable(getattr(obj, "encode", None))
        self.kind = kind or ("ae" if self.has_encoder else "generator")
        self.info = {"arch": "foreign", "source": name, "kind": self.kind}

    def _call(self, fn, arr):
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        with torch.inference_mode():
            out = fn(t)
        if isinstance(out, (tuple, list)):  # e.g. (mu, logvar)
            out = out[0]
        if isinstance(out, torch.Tensor):
            out = out.detach().float().cpu().numpy()
        return np.asarray(out, np.float32)

    def encode(self, x):
        if not self.has_encoder:
            raise LatentdashError(
                f"{self.name} has no encode(); it is a generator, so its map is built from prior samples"
            )
        return self._call(self.obj.encode, x).reshape(len(x), -1)

    def decode(self, z):
        z = np.asarray(z, np.float32).reshape(-1, self.latent_dim)
        out = self._call(self.obj.decode, z)
        if out.ndim == 2 and out.shape[1] == int(np.prod(self.image_shape)):  # flat decoders
            out = out.reshape((len(z),) + self.image_shape)
        return out

    def sample_prior(self, n, seed=None):
        if hasattr(self.obj, "sample_prior"):
            return np.asarray(self.obj.sample_prior(n, seed), np.float32)
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    @property
    def prior_mean(self):
        """The prior's mean: the object's own `prior_mean`, zero for the default N(0, I) prior, or
        None when the object samples its own prior and does not say (the caller estimates it)."""
        if hasattr(self.obj, "prior_mean"):
            return np.asarray(self.obj.prior_mean, np.float32).reshape(self.latent_dim)
        return None if hasattr(self.obj, "sample_prior") else np.zeros(self.latent_dim, np.float32)


def validate_model(model, name: str):
    """Round-trip a tiny batch and check shapes and value ranges; one-line error when off."""
    d, shape = model.latent_dim, tuple(model.image_shape)
    if d < 1 or len(shape) != 3 or shape[0] not in (1, 3):
        raise LatentdashError(
            f"{name}: latent_dim {d} / image_shape {shape} invalid; need latent_dim "
            f">= 1 and image_shape (C, H, W) with C = 1 or 3"
        )
    z = model.sample_prior(4, seed=0)
    try:
        x = model.decode(z)
    except Exception as e:
        raise LatentdashError(
            f"{name}: decode failed on a [4, {d}] batch ({type(e).__name__}: "
            f"{' '.join(str(e).split())[:120]}); check latent_dim"
        ) from e
    if x.shape != (4,) + shape:
        raise LatentdashError(
            f"{name}: decode returned shape {x.shape}, expected {(4,) + shape}; fix image_shape or the decoder"
        )
    if not np.isfinite(x).all() or x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise LatentdashError(
            f"{name}: decode returned values in [{np.nanmin(x):.3g}, {np.nanmax(x):.3g}], "
            f"expected images in [0, 1]; end the decoder with a sigmoid"
        )
    if model.has_encoder:
        try:
            z2 = model.encode(x)
        except Exception as e:
            raise LatentdashError(
                f"{name}: encode failed on a {list(x.shape)} batch ({type(e).__name__}: "
                f"{' '.join(str(e).split())[:120]}); check image_shape"
            ) from e
        if z2.shape != (4, d):
            raise LatentdashError(
                f"{name}: encode returned shape {z2.shape}, expected (4, {d}); fix latent_dim or the encoder"
            )
    return model


def from_factory(spec: str):
    mod_name, _, fn_name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as e:
        raise LatentdashError(
            f"cannot import factory {spec!r} ({e}); give it as package.module:function "
            f"importable from the current directory or PYTHONPATH"
        ) from e
    obj = fn()
    for attr in ("decode", "latent_dim", "image_shape"):
        if not hasattr(obj, attr):
            raise LatentdashError(
                f"factory {spec!r} returned an object without {attr!r}; it needs "
                f"encode (optional), decode, latent_dim and image_shape"
            )
    m = ForeignModel(
        obj, latent_dim=obj.latent_dim, image_shape=obj.image_shape, name=spec, kind=getattr(obj, "kind", None)
    )
    return validate_model(m, spec)


def from_torchscript(path: Path):
    try:
        mod = torch.jit.load(str(path), map_location="cpu")
    except Exception as e:
        raise LatentdashError(
            f"{path} is not a loadable TorchScript file ({type(e).__name__}); save it "
            f"with torch.jit.save(torch.jit.script(model), path)"
        ) from e
    if not hasattr(mod, "decode"):
        raise LatentdashError(
            f"TorchScript module {path} has no decode method; export encode/decode with @torch.jit.export"
        )
    try:
        latent_dim, image_shape = int(mod.latent_dim), tuple(mod.image_shape)
    except Exception as e:
        raise LatentdashError(
            f"TorchScript module {path} needs attributes latent_dim (int) and "
            f"image_shape (C, H, W); set them before scripting"
        ) from e
    m = ForeignModel(mod, latent_dim=latent_dim, image_shape=image_shape, name=str(path))
    return validate_model(m, str(path))


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_model(spec: str):
    """Load any supported model spec as a validated LatentModel (a shipped checkpoint may be
    named: "fashion-vae-16")."""
    from ..atlas.shipped import resolve_checkpoint

    spec = resolve_checkpoint(spec)
    p = Path(spec)
    if ":" in spec and not p.exists() and not spec.startswith(("/", ".")):
        return from_factory(spec)
    if p.is_file() and _is_torchscript(p):
        return from_torchscript(p)
    model = load_checkpoint(p)
    return model


__all__ = ["load_model", "validate_model", "from_factory", "from_torchscript", "ForeignModel", "FORMAT"]
