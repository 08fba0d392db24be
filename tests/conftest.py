import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
os.environ.setdefault("LATENTDASH_CACHE", str(ROOT / ".cache" / "latentdash"))


@pytest.fixture(scope="session")
def fashion_test():
    from latentdash.data import load_dataset
    return load_dataset("fashion-mnist-test")


@pytest.fixture(scope="session")
def digits():
    from latentdash.data import load_dataset
    return load_dataset("digits")


@pytest.fixture(scope="session")
def tiny_vae_ckpt(tmp_path_factory, digits):
    """A real (briefly trained) conv VAE on digits, saved as a latentdash checkpoint."""
    from latentdash.train import TrainConfig, save_trained, train_model
    cfg = TrainConfig(model="conv-vae", latent_dim=4, epochs=1, max_steps=20, batch_size=64, val_size=200)
    _, payload = train_model(cfg, digits, progress=False)
    path = tmp_path_factory.mktemp("ck") / "digits-vae.pt"
    save_trained(path, payload)
    return path


def images01(ds, n):
    return ds.float_images(np.arange(n))
