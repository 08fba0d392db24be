"""The atlas shipped in latentdash/shipped/ belongs to the shipped checkpoint and meets the
issue's quality bar (trustworthiness >= 0.95 for the 2-D t-SNE and UMAP latent maps)."""

from __future__ import annotations

import numpy as np
import pytest

from latentdash.atlas import AtlasParams, atlas_key, load_atlas, planned_maps
from latentdash.atlas.shipped import (
    DEFAULT_CHECKPOINT,
    DEFAULT_DATASET,
    default_params,
    shipped_atlas_for,
    shipped_atlas_path,
)
from latentdash.fileio import file_sha256

pytestmark = pytest.mark.skipif(
    not DEFAULT_CHECKPOINT.is_file(), reason="latentdash/checkpoints/fashion-vae-16.pt not trained yet"
)


@pytest.fixture(scope="module")
def model():
    from latentdash.models import load_model

    return load_model(str(DEFAULT_CHECKPOINT))


@pytest.fixture(scope="module")
def dataset():
    from latentdash.data import load_dataset

    return load_dataset(DEFAULT_DATASET)


@pytest.fixture(scope="module")
def atlas():
    path = shipped_atlas_path()
    assert path.is_file(), f"{path} is missing: run scripts/build_shipped_atlas.py"
    assert path.stat().st_size <= 12 * 1024 * 1024
    return load_atlas(path)


def test_shipped_atlas_matches_shipped_checkpoint_and_data(atlas, model, dataset):
    assert atlas.meta["model_sha256"] == file_sha256(DEFAULT_CHECKPOINT)
    assert atlas.meta["dataset_fingerprint"] == dataset.fingerprint()
    key, _ = atlas_key(model, dataset, default_params(), DEFAULT_CHECKPOINT)
    assert atlas.key == key
    assert list(atlas.maps) == planned_maps(default_params(), 16)
    assert atlas.n == len(dataset) == 10_000
    np.testing.assert_array_equal(atlas.thumbnails, dataset.images)
    np.testing.assert_allclose(atlas.latents[:200], model.encode(dataset.float_images(slice(0, 200))), atol=1e-4)


def test_default_start_finds_the_shipped_atlas(atlas, model, dataset):
    """The lookup every default start makes (load_explorers with ServeConfig's defaults) returns
    the shipped file for the shipped checkpoint on the bundled data."""
    from latentdash.server.config import ServeConfig

    config = ServeConfig()
    assert config.checkpoint_list()[0] == str(DEFAULT_CHECKPOINT) and config.dataset == DEFAULT_DATASET
    params = config.atlas_params()
    assert params == default_params()
    a = shipped_atlas_for(model, dataset, params, DEFAULT_CHECKPOINT)
    assert a is not None and a.path == shipped_atlas_path() and a.key == atlas.key
    assert a.key == atlas_key(model, dataset, params, DEFAULT_CHECKPOINT)[0]


def test_shipped_atlas_lookup_refuses_a_mismatch(model, dataset, tmp_path, caplog):
    assert shipped_atlas_for(model, dataset, default_params(), None) is None  # no file
    assert shipped_atlas_for(model, dataset, AtlasParams(limit=500), DEFAULT_CHECKPOINT) is None
    assert shipped_atlas_for(model, dataset, AtlasParams(methods="pca"), DEFAULT_CHECKPOINT) is None
    # another version of the checkpoint under the shipped name: its content hash differs
    from latentdash.models.checkpoint import read_checkpoint, save_checkpoint

    ck = read_checkpoint(DEFAULT_CHECKPOINT)
    ck["train"] = dict(ck.get("train") or {}, note="re-trained")
    other = tmp_path / DEFAULT_CHECKPOINT.name
    save_checkpoint(other, ck)
    with caplog.at_level("INFO", logger="latentdash.atlas.shipped"):
        assert shipped_atlas_for(model, dataset, default_params(), other) is None
    assert "another version of fashion-vae-16.pt" in caplog.text


def test_load_explorers_builds_nothing_on_the_default_start(atlas, tmp_path):
    from latentdash.server.app_factory import load_explorers
    from latentdash.server.config import ServeConfig

    config = ServeConfig(checkpoints=(str(DEFAULT_CHECKPOINT),), cache_dir=str(tmp_path), threads=0)
    (ex,) = load_explorers(config, progress=False)
    assert ex.name == "fashion-vae-16" and ex.atlas.path == shipped_atlas_path() and ex.atlas.key == atlas.key
    assert not (tmp_path / "atlas").exists()  # nothing was built


def test_quality_on_the_bundled_default(atlas):
    m = atlas.metrics["maps"]
    for name in ("latent-tsne-2d", "latent-umap-2d"):
        assert m[name]["trustworthiness"] >= 0.95, (name, m[name])
    assert 0.5 < m["latent-pca-2d"]["trustworthiness"] < 1.0  # reported, no bar
    latent_acc = atlas.metrics["latent_knn_acc"]
    assert latent_acc > 0.75 and atlas.metrics["pixel_knn_acc"] > 0.75
    for name in ("latent-tsne-2d", "latent-umap-2d"):  # a good 2-D map keeps most of the accuracy
        assert m[name]["knn_acc"] > latent_acc - 0.08 and m[name]["knn_acc"] > m["latent-pca-2d"]["knn_acc"]


def test_project_own_latent_on_the_shipped_atlas(atlas, model):
    from latentdash.service import Explorer

    ex = Explorer(model, atlas, "fashion-vae-16")
    rng = np.random.default_rng(0)
    items = rng.choice(ex.n, 200, replace=False)
    for name in ex.map_names:
        c = ex.coords(name)
        got = ex.project(ex.latents[items], name)
        for j, i in enumerate(items):
            d = np.linalg.norm(c - c[i], axis=1)
            d[i] = np.inf
            assert np.linalg.norm(got[j] - c[i]) <= np.sort(d)[4] + 1e-4, (name, i)


@pytest.mark.parametrize("stem", ["fashion-ae-16", "fashion-vae-2", "fashion-pca-16"])
def test_other_shipped_atlases_match_their_checkpoints(stem, dataset):
    """Every shipped checkpoint has a shipped atlas, so the page's first start builds nothing."""
    from latentdash.models import load_model

    ckpt = DEFAULT_CHECKPOINT.parent / f"{stem}.pt"
    path = shipped_atlas_path().parent / f"{stem}.{DEFAULT_DATASET}.atlas.npz"
    a = load_atlas(path)
    model = load_model(str(ckpt))
    assert a.meta["model_sha256"] == file_sha256(ckpt)
    assert a.key == atlas_key(model, dataset, default_params(), ckpt)[0]
    assert list(a.maps) == planned_maps(default_params(), model.latent_dim)
