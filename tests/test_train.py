import numpy as np
import pytest

from latentdash.errors import LatentdashError
from latentdash.train import TrainConfig, split_for_training, train_model


def test_loss_goes_down_and_best_epoch_is_kept(digits):
    cfg = TrainConfig(model="mlp-vae", latent_dim=4, epochs=3, batch_size=64, val_size=200, seed=0)
    model, payload = train_model(cfg, digits, progress=False)
    h = payload["train"]["history"]
    assert h[-1]["val_loss"] < h[0]["val_loss"]
    assert payload["train"]["best_epoch"] == int(np.argmin([e["val_loss"] for e in h])) + 1
    m = payload["metrics"]
    assert 0 < m["test_mse"] < 0.2 and 0 <= m["knn5_acc"] <= 1 and "pixel_knn5_acc" in m


def test_training_is_seeded(digits):
    cfg = TrainConfig(model="conv-ae", latent_dim=2, epochs=1, max_steps=5, batch_size=32, val_size=100)
    a = train_model(cfg, digits, progress=False)[1]["state_dict"]
    b = train_model(cfg, digits, progress=False)[1]["state_dict"]
    assert all((a[k] == b[k]).all() for k in a)


def test_holdout_split_is_disjoint(digits):
    tr, te = split_for_training(digits, seed=0)
    assert len(tr) + len(te) == len(digits) and 0.1 < len(te) / len(digits) < 0.2


def test_pca_baseline(digits):
    model, payload = train_model(TrainConfig(model="pca", latent_dim=8), digits, progress=False)
    assert payload["kind"] == "linear" and model.latent_dim == 8
    assert payload["metrics"]["test_mse"] < 0.05


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"model": "gan"}, "unknown model 'gan'"),
        ({"latent_dim": 1}, "latent-dim must be >= 2"),
        ({"epochs": 0}, "epochs must be >= 1"),
    ],
)
def test_bad_config(digits, kw, msg):
    with pytest.raises(LatentdashError, match=msg):
        train_model(TrainConfig(**kw), digits, progress=False)
