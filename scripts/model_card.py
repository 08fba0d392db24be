"""Write latentdash/checkpoints/README.md (the model card) and a sample grid PNG per shipped checkpoint.

Run after scripts/train_shipped.sh: .venv/bin/python scripts/model_card.py
Each grid: row 1 originals (bundled test images), row 2 reconstructions, rows 3-4 prior samples.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from latentdash.data import load_dataset
from latentdash.models import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
CK = ROOT / "latentdash" / "checkpoints"  # package data: the checkpoints travel in the wheel
ORDER = [
    ("fashion-vae-16.pt", "Conv VAE, 16-D latent (the page's default)"),
    ("fashion-ae-16.pt", "Conv AE, 16-D latent"),
    ("fashion-vae-2.pt", "Conv VAE, 2-D latent (the latent space is the map)"),
    ("fashion-pca-16.pt", "PCA baseline, 16 components (linear)"),
]


def reproduce(command: str) -> str:
    """The recorded training command, writing where the checkpoints live now (they were trained
    into the old top-level checkpoints/; the command is stored inside each checkpoint)."""
    return command.replace("--out checkpoints/", "--out latentdash/checkpoints/")


def grid(rows, scale=3):
    rows = [np.concatenate(list(r[:, 0]), axis=1) for r in rows]
    img = (np.concatenate(rows, axis=0) * 255).round().astype(np.uint8)
    im = Image.fromarray(img, "L")
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST)


def main():
    ds = load_dataset("fashion-mnist-test")
    idx = np.array(
        [np.flatnonzero(ds.labels == c)[0] for c in range(10)] + [np.flatnonzero(ds.labels == c)[1] for c in range(2)]
    )
    x = ds.float_images(idx)
    parts = [
        "# Shipped checkpoints (model card)",
        "",
        "All trained on the CPU of a 2-core machine on the full 60,000-image Fashion-MNIST train split "
        "(5,000 of them held out to pick the best epoch), and evaluated on the 10,000 test images, "
        "which are bundled with latentdash. Images are uint8/255 in [0, 1], no other normalisation.",
        "5-NN accuracy: a 5-nearest-neighbour classifier fit on the 60,000 train codes, scored on the "
        "10,000 test codes (the dataset's own kNN protocol); pixel figures come from the same run. "
        "VAE codes are the posterior means. MSE: mean per-pixel squared error of the reconstruction.",
        "",
        "| file | model | size | epochs (best) | train time | test MSE | 5-NN acc latent | 5-NN acc pixels "
        "| 5-NN leave-one-out on test (latent / pixels) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for name, title in ORDER:
        p = CK / name
        m = load_checkpoint(p)
        info, met, tr = m.info, m.info["metrics"], m.info["train"]
        n = 12
        rows = [x, m.decode(m.encode(x)), m.decode(m.sample_prior(n, seed=1)), m.decode(m.sample_prior(n, seed=2))]
        png = p.with_suffix(".png")
        grid(rows).save(png)
        ep = f"{tr['epochs']} ({tr['best_epoch']})" if info["arch"] != "pca" else "fit (SVD)"
        parts.append(
            f"| `{name}` | {title} | {p.stat().st_size / 1e6:.2f} MB | {ep} | {tr['seconds']:.0f} s | "
            f"{met['test_mse']:.4f} | {met['knn5_acc']:.3f} | {met['pixel_knn5_acc']:.3f} | "
            f"{met['knn5_loo_test']:.3f} / {met['pixel_knn5_loo_test']:.3f} |"
        )
        details += [
            f"## {title}",
            "",
            f"![samples]({png.name})",
            "",
            f"- architecture: `{info['arch']}`, config `{info['config']}`",
            f"- data: `{info['dataset']['id']}` ({info['dataset']['n_train']} train images, "
            f"fingerprint `{info['dataset']['fingerprint']}`)",
            f"- reproduce: `{reproduce(tr.get('command', ''))}` (seed {tr['seed']}, torch {tr.get('torch', '?')})",
            "",
        ]
    parts += [
        "",
        "Grids: row 1 test originals, row 2 reconstructions, rows 3-4 samples from the prior "
        "(N(0, I); for PCA, Gaussian with each component's variance).",
        "",
    ] + details
    (CK / "README.md").write_text("\n".join(parts) + "\n")
    print("wrote", CK / "README.md")


if __name__ == "__main__":
    main()
