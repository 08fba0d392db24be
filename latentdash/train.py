"""Training loop for the built-in nets and the PCA baseline, with evaluation for the model card."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from .data import ImageDataset
from .errors import LatentdashError
from .metrics import knn_accuracy, reconstruction_mse
from .models.checkpoint import save_checkpoint
from .models.nets import ARCHITECTURES, build_net
from .models.pca import PCAModel
from .models.protocol import TorchLatentModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    model: str = "conv-vae"  # conv-vae | conv-ae | mlp-vae | mlp-ae | pca
    latent_dim: int = 16
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    hidden: int = 128  # width of the dense layer(s)
    beta: float = 1.0  # KL weight for VAEs
    val_size: int = 5000  # held out from the train split to choose the best epoch
    seed: int = 0
    threads: int = 0  # torch threads; 0 = torch's default
    max_steps: int = 0  # stop after this many optimiser steps (tests); 0 = no limit


def split_for_training(ds: ImageDataset, seed: int):
    """(train, test): the official split when the dataset has one, else a seeded 15% hold-out."""
    if ds.n_train:
        return ds.split("train"), ds.split("test")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(ds))
    n_test = max(1, int(round(0.15 * len(ds))))
    return ds.subset(np.sort(perm[n_test:])), ds.subset(np.sort(perm[:n_test]))


def evaluate(model, train: ImageDataset, test: ImageDataset, pixel_baseline: bool = True) -> dict:
    """Metrics recorded in each checkpoint and model card (see latentdash/checkpoints/README.md)."""
    xt = test.float_images()
    zt = model.encode(xt)
    m = {"n_test": len(test), "test_mse": float(reconstruction_mse(model, xt).mean())}
    if test.labels is not None:
        ztr = model.encode(train.float_images())
        m["knn5_acc"] = knn_accuracy(ztr, train.labels, 5, zt, test.labels)
        m["knn5_loo_test"] = knn_accuracy(zt, test.labels, 5)
        n1k = min(1000, len(test))
        m["slice_1k"] = {
            "n": n1k,
            "mse": float(reconstruction_mse(model, xt[:n1k]).mean()),
            "knn5_loo": knn_accuracy(zt[:n1k], test.labels[:n1k], 5),
        }
        if pixel_baseline:
            m["pixel_knn5_acc"] = knn_accuracy(train.float_images(), train.labels, 5, xt, test.labels)
            m["pixel_knn5_loo_test"] = knn_accuracy(xt, test.labels, 5)
    return m


def _progress(total, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", dynamic_ncols=True, mininterval=0.5)


def train_model(cfg: TrainConfig, ds: ImageDataset, progress: bool = True):
    """Train (or fit, for pca) and return (LatentModel, checkpoint payload without the header)."""
    if cfg.model != "pca" and cfg.model not in ARCHITECTURES:
        raise LatentdashError(
            f"unknown model {cfg.model!r}; choose one of {', '.join(sorted(ARCHITECTURES) + ['pca'])}"
        )
    if cfg.latent_dim < 2:
        raise LatentdashError(f"--latent-dim must be >= 2, got {cfg.latent_dim}")
    if cfg.epochs < 1 and cfg.model != "pca":
        raise LatentdashError(f"--epochs must be >= 1, got {cfg.epochs}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    train, test = split_for_training(ds, cfg.seed)
    config = {"image_shape": list(ds.image_shape), "latent_dim": cfg.latent_dim, "hidden": cfg.hidden, "beta": cfg.beta}
    t0 = time.perf_counter()
    history = []
    if cfg.model == "pca":
        model = PCAModel.fit(train.float_images(), cfg.latent_dim, seed=cfg.seed)
        config, state = model.state()
        kind, best_epoch = "linear", 0
    else:
        model, kind, state, best_epoch, history = _fit_net(cfg, config, train, progress)
    seconds = time.perf_counter() - t0
    metrics = evaluate(model, train, test)
    payload = {
        "arch": cfg.model,
        "config": config,
        "state_dict": state,
        "kind": kind,
        "image_shape": list(ds.image_shape),
        "latent_dim": cfg.latent_dim,
        "dataset": {
            "id": ds.id,
            "fingerprint": ds.fingerprint(),
            "n_train": len(train),
            "n_test": len(test),
            "class_names": list(ds.class_names or []),
            "normalisation": "uint8 / 255 -> [0, 1], no mean/std",
        },
        "metrics": metrics,
        "train": {
            "epochs": cfg.epochs,
            "best_epoch": best_epoch,
            "seed": cfg.seed,
            "batch_size": cfg.batch_size,
            "lr": cfg.lr,
            "val_size": cfg.val_size,
            "seconds": round(seconds, 1),
            "history": history,
            "torch": str(torch.__version__),
        },
    }
    return model, payload


def _fit_net(cfg: TrainConfig, config: dict, train: ImageDataset, progress: bool):
    net, kind = build_net(cfg.model, config)
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(train))
    n_val = min(cfg.val_size, max(1, len(train) // 10))
    x_all = torch.from_numpy(train.float_images())
    x_val, x_tr = x_all[perm[:n_val]], x_all[perm[n_val:]]
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = (len(x_tr) + cfg.batch_size - 1) // cfg.batch_size
    best, best_state, best_epoch, history, step = float("inf"), None, 0, [], 0
    bar = _progress(steps_per_epoch * cfg.epochs, cfg.model) if progress else None
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        order = torch.randperm(len(x_tr), generator=gen)
        run = 0.0
        for b in range(steps_per_epoch):
            xb = x_tr[order[b * cfg.batch_size : (b + 1) * cfg.batch_size]]
            loss, _ = net.loss(xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run += loss.item()
            step += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=f"{epoch}/{cfg.epochs}", loss=f"{run / (b + 1):.2f}", refresh=False)
            if cfg.max_steps and step >= cfg.max_steps:
                break
        val = _val_loss(net, x_val)
        history.append({"epoch": epoch, "train_loss": run / max(1, b + 1), "val_loss": val})
        log.info("epoch %d: train %.3f val %.3f", epoch, run / max(1, b + 1), val)
        if val < best:
            best, best_epoch = val, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if cfg.max_steps and step >= cfg.max_steps:
            break
    if bar is not None:
        bar.close()
    net.load_state_dict(best_state)
    model = TorchLatentModel(net, latent_dim=cfg.latent_dim, image_shape=config["image_shape"], kind=kind)
    return model, kind, best_state, best_epoch, history


def _val_loss(net, x_val, batch=1000) -> float:
    net.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, len(x_val), batch):
            xb = x_val[s : s + batch]
            total += net.loss(xb)[0].item() * len(xb)
    return total / len(x_val)


def save_trained(path, payload: dict, force: bool = False) -> None:
    save_checkpoint(path, payload, force=force)
