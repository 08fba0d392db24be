"""Time one training epoch of the default conv VAE on the 60,000-image Fashion-MNIST train split.

Run: .venv/bin/python bench/bench_train_epoch.py [--model conv-vae]
"""

import argparse
import time

from latentdash.data import load_dataset
from latentdash.train import TrainConfig, _fit_net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="conv-vae")
    a = ap.parse_args()
    train = load_dataset("fashion-mnist").split("train")
    cfg = TrainConfig(model=a.model, latent_dim=16, epochs=1, val_size=1)
    config = {"image_shape": list(train.image_shape), "latent_dim": 16, "hidden": 128, "beta": 1.0}
    t = time.perf_counter()
    _fit_net(cfg, config, train, progress=False)
    print(f"| one epoch of {a.model} on {len(train)} images | {time.perf_counter() - t:.1f} s |")


if __name__ == "__main__":
    main()
