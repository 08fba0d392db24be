"""Each shipped checkpoint loads, fits the size budget, and still meets its recorded metrics."""

import numpy as np
import pytest

from latentdash.metrics import knn_accuracy, reconstruction_mse
from latentdash.models import load_checkpoint

from .conftest import CHECKPOINTS

SHIPPED = {
    "fashion-vae-16.pt": ("conv-vae", 16),
    "fashion-ae-16.pt": ("conv-ae", 16),
    "fashion-vae-2.pt": ("conv-vae", 2),
    "fashion-pca-16.pt": ("pca", 16),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoint_holds_its_metrics(name, fashion_test):
    path = CHECKPOINTS / name
    assert path.is_file(), f"{path} missing"
    assert path.stat().st_size <= 5 * 1024 * 1024
    m = load_checkpoint(path)
    arch, dim = SHIPPED[name]
    assert (m.info["arch"], m.latent_dim, m.image_shape) == (arch, dim, (1, 28, 28))
    assert m.info["dataset"]["id"] == "fashion-mnist" and m.info["dataset"]["n_train"] == 60_000
    rec = m.info["metrics"]["slice_1k"]
    x = fashion_test.float_images(np.arange(rec["n"]))
    z = m.encode(x)
    assert abs(float(reconstruction_mse(m, x).mean()) - rec["mse"]) < 1e-4
    assert abs(knn_accuracy(z, fashion_test.labels[: rec["n"]], 5) - rec["knn5_loo"]) < 0.005
    out = m.decode(m.sample_prior(16, seed=0))
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("name", ["fashion-vae-16.pt", "fashion-ae-16.pt"])
def test_16d_models_reach_knn_target(name):
    m = load_checkpoint(CHECKPOINTS / name).info["metrics"]
    assert m["knn5_acc"] >= 0.80


def test_ae_beats_pca_baseline():
    ae = load_checkpoint(CHECKPOINTS / "fashion-ae-16.pt").info["metrics"]["test_mse"]
    pca = load_checkpoint(CHECKPOINTS / "fashion-pca-16.pt").info["metrics"]["test_mse"]
    assert ae < pca
