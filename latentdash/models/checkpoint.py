"""The latentdash checkpoint: one self-describing file, always loaded with weights_only=True.

Layout (plain dicts, lists, numbers, strings and tensors only):
    format: "latentdash-checkpoint", version: 1,
    arch: "conv-vae" | "conv-ae" | "mlp-vae" | "mlp-ae" | "pca",
    config: {image_shape, latent_dim, hidden, beta, ...},
    state_dict: {...}, kind, image_shape, latent_dim,
    dataset: {id, fingerprint, n_train, class_names, normalisation},
    metrics: {...}, train: {epochs, seed, seconds, command, ...}
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import torch

from ..errors import LatentdashError
from ..fileio import atomic_write
from .protocol import TorchLatentModel

FORMAT = "latentdash-checkpoint"
VERSION = 1


def atomic_write_bytes(path: Path, data: bytes, force: bool = False) -> None:
    """Write data to path atomically (fileio.atomic_write); refuse to replace a file without force."""
    path = Path(path)
    if path.exists() and not force:
        raise LatentdashError(f"{path} already exists; pass --force to overwrite it or choose another --out")
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError as e:
        raise LatentdashError(
            f"cannot write {path} ({e.strerror or e}); choose another --out or free some space"
        ) from e


def _plain(obj):
    """Numpy scalars/arrays and other non-plain values -> types weights_only loading accepts."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, torch.Tensor) or obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def save_checkpoint(path, payload: dict, force: bool = False) -> None:
    """Save atomically; the bytes are checked to load with weights_only=True before they land."""
    payload = _plain({"format": FORMAT, "version": VERSION, **payload})
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    atomic_write_bytes(Path(path), data, force=force)


def read_checkpoint(path) -> dict:
    """Read and validate the raw checkpoint dict; one-line errors for every failure."""
    p = Path(path)
    if not p.is_file():
        raise LatentdashError(
            f"checkpoint {p} does not exist; pass the path of a .pt file or the name of a shipped one "
            f"(fashion-vae-16, fashion-ae-16, fashion-vae-2, fashion-pca-16)"
        )
    try:
        ck = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        lines = [
            ln.strip()
            for ln in str(e).splitlines()
            if ln.strip() and not ln.startswith(("Weights only load failed", "Check the doc"))
        ]
        hits = [ln for ln in lines if "global" in ln.lower()]
        detail = (hits or lines or [type(e).__name__])[0].replace("WeightsUnpickler error: ", "")[:120]
        if hits:
            raise LatentdashError(
                f"refused to load {p}: it asks to run Python code on load ({detail}); latentdash "
                f"only loads plain weights, re-save the model with `latentdash train`"
            ) from e
        raise LatentdashError(f"checkpoint {p} is truncated or corrupt ({detail}); re-download or re-train it") from e
    except Exception as e:  # a damaged file can fail inside the unpickler in any way
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise LatentdashError(
            f"checkpoint {p} is truncated or corrupt ({first[:120]}); re-download or re-train it"
        ) from e
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise LatentdashError(
            f"{p} is not a latentdash checkpoint (no '{FORMAT}' tag); train one with "
            f"`latentdash train`, or load your own model with --checkpoint "
            f"package.module:function (a factory) or a TorchScript file"
        )
    if int(ck.get("version", 0)) > VERSION:
        raise LatentdashError(
            f"{p} has checkpoint format version {ck.get('version')}, newer than this "
            f"latentdash understands ({VERSION}); upgrade latentdash"
        )
    for key in ("arch", "config", "state_dict"):
        if key not in ck:
            raise LatentdashError(f"checkpoint {p} lacks '{key}'; it is damaged, re-train it")
    return ck


def model_from_checkpoint_dict(ck: dict, name: str = "checkpoint"):
    """Rebuild the LatentModel a checkpoint dict describes (nanoGPT-style from its config)."""
    arch, config = ck["arch"], dict(ck["config"])
    if arch == "pca":
        from .pca import PCAModel

        try:
            return PCAModel.from_state(config, ck["state_dict"], info=ck)
        except (KeyError, ValueError) as e:
            raise LatentdashError(f"{name}: PCA weights don't match its config ({e}); re-fit it") from e
    from .nets import build_net

    net, kind = build_net(arch, config)
    try:
        net.load_state_dict(ck["state_dict"], strict=True)
    except RuntimeError as e:
        first = " ".join(str(e).split())[:160]
        raise LatentdashError(
            f"{name}: weights don't match the {arch} config ({first}); the file was "
            f"edited or saved by other code, re-train it"
        ) from e
    return TorchLatentModel(net, latent_dim=config["latent_dim"], image_shape=config["image_shape"], kind=kind, info=ck)


def load_checkpoint(path):
    """Load a latentdash checkpoint file as a LatentModel (with `.info` = the checkpoint dict)."""
    ck = read_checkpoint(path)
    model = model_from_checkpoint_dict(ck, name=str(path))
    model.info = {k: v for k, v in ck.items() if k != "state_dict"}
    model.info["path"] = str(path)
    return model
