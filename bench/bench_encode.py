"""Encode all 70,000 Fashion-MNIST images with the default VAE: latentdash vs a plain torch loop.

Run: .venv/bin/python bench/bench_encode.py [--checkpoint fashion-vae-16 (a shipped name or a path)] [--repeats 3]
Needs the full dataset (apt-get install dataset-fashion-mnist). Prints a Markdown table row.
"""

import argparse
import time

import numpy as np
import torch

from latentdash.atlas.shipped import resolve_checkpoint
from latentdash.data import load_dataset
from latentdash.models import load_checkpoint


def plain_loop(net, images_u8, batch=1024):
    out = []
    with torch.inference_mode():
        for s in range(0, len(images_u8), batch):
            x = torch.from_numpy(images_u8[s : s + batch]).float().div_(255.0)
            out.append(net.encode_tensor(x))
    return torch.cat(out).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="fashion-vae-16")
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    ds = load_dataset(a.dataset)
    model = load_checkpoint(resolve_checkpoint(a.checkpoint))
    res = {"latentdash": [], "plain torch": []}
    for _ in range(a.repeats):  # interleave so both see the same machine load
        t = time.perf_counter()
        z_ours = model.encode(ds.float_images())
        res["latentdash"].append(time.perf_counter() - t)
        t = time.perf_counter()
        z_ref = plain_loop(model.net, ds.images)
        res["plain torch"].append(time.perf_counter() - t)
    np.testing.assert_allclose(z_ours, z_ref, atol=1e-4)
    ours, ref = min(res["latentdash"]), min(res["plain torch"])
    n = len(ds)
    print(
        f"| encode {n} images ({a.checkpoint}) | latentdash {ours:.2f} s ({n / ours:,.0f} img/s) "
        f"| plain torch {ref:.2f} s ({n / ref:,.0f} img/s) | ratio {ours / ref:.2f}x "
        f"| threads {torch.get_num_threads()} |"
    )


if __name__ == "__main__":
    main()
