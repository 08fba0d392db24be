"""`latentdash info PATH`: a readable summary of a checkpoint or an atlas artifact."""

from __future__ import annotations

from pathlib import Path

from .errors import LatentdashError


def describe_checkpoint(path) -> str:
    from .models.checkpoint import read_checkpoint

    ck = read_checkpoint(path)
    cfg, ds, m, tr = ck["config"], ck.get("dataset", {}), ck.get("metrics", {}), ck.get("train", {})
    n_params = sum(int(t.numel()) for t in ck["state_dict"].values())
    lines = [
        f"checkpoint   {path}",
        f"architecture {ck['arch']} ({ck.get('kind', '?')}), {n_params:,} parameters, hidden {cfg.get('hidden', '-')}",
        f"latent size  {ck.get('latent_dim', cfg.get('latent_dim'))}",
        f"image shape  {tuple(ck.get('image_shape', cfg.get('image_shape')))} (C, H, W), values in [0, 1]",
        f"trained on   {ds.get('id', '?')}: {ds.get('n_train', '?')} train images "
        f"(fingerprint {ds.get('fingerprint', '?')}), evaluated on {ds.get('n_test', '?')}",
    ]
    if tr:
        lines.append(
            f"training     {tr.get('epochs')} epochs (best {tr.get('best_epoch')}), seed "
            f"{tr.get('seed')}, {tr.get('seconds')} s"
        )
        if tr.get("command"):
            lines.append(f"command      {tr['command']}")
    if m:
        lines.append("metrics      (on the held-out test images)")
        lines.append(f"  reconstruction MSE per pixel  {m.get('test_mse', float('nan')):.5f}")
        for key, label in (
            ("knn5_acc", "5-NN accuracy, latent (train->test)"),
            ("pixel_knn5_acc", "5-NN accuracy, pixels (train->test)"),
            ("knn5_loo_test", "5-NN accuracy, latent (leave-one-out, test)"),
            ("pixel_knn5_loo_test", "5-NN accuracy, pixels (leave-one-out, test)"),
        ):
            if key in m:
                lines.append(f"  {label:<44}{m[key]:.4f}")
    return "\n".join(lines)


def describe(path) -> str:
    from .atlas.shipped import resolve_checkpoint

    p = Path(resolve_checkpoint(path))  # a shipped checkpoint may be named: fashion-vae-16
    if not p.exists():
        raise LatentdashError(f"{p} does not exist; pass a checkpoint (.pt) or an atlas artifact")
    if p.suffix == ".pt":
        return describe_checkpoint(p)
    try:
        from .atlas.info import describe_atlas
    except ImportError as e:
        raise LatentdashError(f"{p} is not a checkpoint (.pt) and atlas support is unavailable") from e
    return describe_atlas(p)
