"""The atlas shipped in latentdash/shipped/ belongs to the shipped checkpoint and meets the
issue's quality bar (trustworthiness >= 0.95 for the 2-D t-SNE and UMAP latent maps)."""
from __future__ import annotations

import numpy as np
import pytest

from latentdash.atlas import atlas_key, load_atlas, planned_maps
from latentdash.atlas.encode import file_sha256
from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, DEFAULT_DATASET, default_atlas, default_params, shipped_atlas_path

pytestmark = pytest.mark.skipif(not DEFAULT_CHECKPOINT.is_file(),
                                reason="checkpoints/fashion-vae-16.pt not trained yet")


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
    np.testing.assert_allclose(atlas.latents[:200], model.encode(dataset.float_images(slice(0, 200))),
                               atol=1e-4)


def test_default_atlas_serves_the_shipped_file(atlas, model, dataset, tmp_path):
    a = default_atlas(model=model, dataset=dataset, cache_dir=tmp_path)
    assert a.path == shipped_atlas_path() and a.key == atlas.key
    assert not (tmp_path / "atlas").exists()          # nothing was built


def test_quality_on_the_bundled_default(atlas):
    m = atlas.metrics["maps"]
    for name in ("latent-tsne-2d", "latent-umap-2d"):
        assert m[name]["trustworthiness"] >= 0.95, (name, m[name])
    assert 0.5 < m["latent-pca-2d"]["trustworthiness"] < 1.0           # reported, no bar
    latent_acc = atlas.metrics["latent_knn_acc"]
    assert latent_acc > 0.75 and atlas.metrics["pixel_knn_acc"] > 0.75
    for name in ("latent-tsne-2d", "latent-umap-2d"):   # a good 2-D map keeps most of the accuracy
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
