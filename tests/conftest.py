"""Shared fixtures: real models fitted on the bundled Fashion-MNIST test images, with small real
atlases (PCA maps, 2,000 images) cached under .cache/test-atlas so reruns are fast."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("LATENTDASH_TEST_CACHE", ROOT / ".cache" / "test-atlas"))
N_TEST = 2000
CHECKPOINTS = ROOT / "latentdash" / "checkpoints"
os.environ.setdefault("LATENTDASH_CACHE", str(ROOT / ".cache" / "latentdash"))


# --- foundation fixtures (models/data/checkpoints tests) --------------------------------------
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


# --- UI / atlas fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def ui_dataset():
    from latentdash.data import load_dataset

    return load_dataset("fashion-mnist-test")


def _pca_explorer(dataset, k: int, name: str):
    from latentdash.atlas import AtlasParams, get_or_build_atlas
    from latentdash.models import PCAModel
    from latentdash.service import Explorer

    model = PCAModel.fit(dataset.float_images(slice(0, 5000)), k, seed=0)
    params = AtlasParams(methods=("pca",), dims=(2, 3), limit=N_TEST)
    atlas = get_or_build_atlas(model, dataset, params, cache_dir=CACHE, progress=False)
    return Explorer(model, atlas, name)


@pytest.fixture(scope="session")
def explorers(ui_dataset):
    """Two real models on the same 2,000 images: a 16-D and a 2-D linear (PCA) autoencoder."""
    return [_pca_explorer(ui_dataset, 16, "pca-16"), _pca_explorer(ui_dataset, 2, "pca-2")]


@pytest.fixture(scope="session")
def catalog(explorers):
    from latentdash.ui.catalog import Catalog

    return Catalog(explorers)


@pytest.fixture(scope="session")
def pca_checkpoint(explorers, tmp_path_factory):
    """The 16-D test model saved as a real latentdash checkpoint file."""
    from latentdash.models import save_checkpoint

    model = explorers[0].model
    config, sd = model.state()
    path = tmp_path_factory.mktemp("ckpt") / "pca-16.pt"
    save_checkpoint(
        path,
        {
            "arch": "pca",
            "config": config,
            "state_dict": sd,
            "kind": "linear",
            "image_shape": list(model.image_shape),
            "latent_dim": model.latent_dim,
        },
    )
    return path


@pytest.fixture(scope="session")
def generator_explorer(tmp_path_factory):
    """A decoder-only generator written as a user would (tests/foreign_models.py: numpy, RGB 16x16,
    5-D latents, no encoder), with a small real atlas of prior samples."""
    from latentdash.atlas import AtlasParams, get_or_build_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    model = load_model("tests.foreign_models:rgb_generator")
    params = AtlasParams(methods=("pca",), dims=(2,), limit=300)
    atlas = get_or_build_atlas(model, None, params, cache_dir=tmp_path_factory.mktemp("gen"), progress=False)
    return Explorer(model, atlas, "rgb-gen")


# --- the app through Flask's test client (module-scoped; test_app_http.py has its own) ----------
@pytest.fixture(scope="module")
def app(explorers):
    from latentdash.server.app_factory import create_app

    return create_app(explorers=explorers)


@pytest.fixture(scope="module")
def dc(app):
    from tests.dashclient import DashClient

    return DashClient(app.server.test_client())


@pytest.fixture()
def initial(dc):
    """The default view state, as the page's first reducer call returns it."""
    from latentdash.ui import ids, urlstate
    from tests.dashclient import REDUCER

    status, data = dc.call(REDUCER, {"url.search": ""}, [])
    assert status == 200
    return urlstate.merge(*(data["response"][sid]["data"] for sid in ids.STORE_OF.values()))


# --- browser fixtures (one server and one Chromium for the whole session, shared by every -----
# --- browser test module: playwright allows one sync instance per process) ---------------------
@pytest.fixture(scope="session")
def live_server(explorers):
    import waitress

    from latentdash.server.app_factory import create_app

    app = create_app(explorers=explorers)
    # the server `latentdash serve` runs (waitress), on a free port, in this process
    srv = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=4)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.effective_port}/"
    srv.close()


@pytest.fixture(scope="session")
def browser():
    from tests.test_browser import ARTIFACTS, CHROMIUM, FLAGS

    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)  # generous: CI machines can be busy (no timing assertions)
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    errors = list(pg.errors)
    ctx.close()
    assert errors == [], errors
