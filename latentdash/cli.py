"""Command line: `latentdash train | info | precompute | export-onnx | export-static | serve`.

Every user error is a LatentdashError: printed as one line `error: ...`, exit status 2; Ctrl-C
prints `interrupted`, exit status 130 (see _cli_runner.py, shared with `python app.py`).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from ._cli_runner import run_cli
from .errors import LatentdashError


def _add_train(sub):
    p = sub.add_parser("train", help="train a built-in model (or fit the PCA baseline)")
    p.add_argument("--model", default="conv-vae", help="conv-vae | conv-ae | mlp-vae | mlp-ae | pca (default conv-vae)")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-root", default=None)
    p.add_argument("--download", action="store_true", help="allow torchvision to download the data")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(func=cmd_train)


def cmd_train(a) -> int:
    from pathlib import Path

    from .data import load_dataset
    from .train import TrainConfig, save_trained, train_model

    if Path(a.out).exists() and not a.force:
        raise LatentdashError(f"{a.out} already exists; pass --force to overwrite it or choose another --out")
    ds = load_dataset(a.dataset, data_root=a.data_root, download=a.download or None)
    names = ("model", "latent_dim", "epochs", "batch_size", "lr", "hidden", "beta", "seed", "threads", "max_steps")
    cfg = TrainConfig(**{k: getattr(a, k) for k in names})
    _, payload = train_model(cfg, ds)
    payload["train"]["command"] = "latentdash " + " ".join(shlex.quote(s) for s in sys.argv[1:])
    save_trained(a.out, payload, force=a.force)
    m = payload["metrics"]
    print(
        f"saved {a.out}: best epoch {payload['train']['best_epoch']}, test MSE {m['test_mse']:.4f}"
        + (f", 5-NN acc {m['knn5_acc']:.3f} (pixels {m['pixel_knn5_acc']:.3f})" if "knn5_acc" in m else "")
    )
    return 0


def _add_info(sub):
    p = sub.add_parser("info", help="describe a checkpoint or an atlas artifact")
    p.add_argument("path", help="a checkpoint (.pt), the name of a shipped one (fashion-vae-16) or an atlas (.npz)")
    p.set_defaults(func=cmd_info)


def cmd_info(a) -> int:
    from .info import describe

    print(describe(a.path))
    return 0


def _add_precompute(sub):
    from .atlas import cli

    p = sub.add_parser("precompute", help="encode a dataset and build every map (the atlas)")
    cli.add_arguments(p)
    p.set_defaults(func=cli.run)


def _add_export_onnx(sub):
    from . import onnx_export

    p = sub.add_parser("export-onnx", help="export a model's decoder to ONNX (decoding in the browser)")
    onnx_export.add_arguments(p)
    p.set_defaults(func=onnx_export.run)


def _add_export_static(sub):
    from . import export_static

    p = sub.add_parser("export-static", help="write a static demo folder (no server: any static host)")
    export_static.add_arguments(p)
    p.set_defaults(func=export_static.run)


def _add_serve(sub):
    from .server import cli

    p = sub.add_parser("serve", help="start the explorer page")
    cli.add_arguments(p)
    p.set_defaults(func=cli.run)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="latentdash", description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="log INFO messages too")
    sub = ap.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_info, _add_precompute, _add_export_onnx, _add_export_static, _add_serve):
        add(sub)
    return ap


def main(argv=None) -> int:
    return run_cli(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
