"""Explorer (latentdash/service.py) on a real atlas: placement, inverse maps, neighbours, items,
and a one-line LatentdashError for every bad argument."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from latentdash.errors import LatentdashError
from latentdash.service import Explorer
from tests._atlas_helpers import shared_digits_atlas


@pytest.fixture(scope="module")
def ex(tmp_path_factory):
    model, ds, atlas, _ = shared_digits_atlas(tmp_path_factory)
    return Explorer(model, atlas, "digits-pca-8")


def _radius5(coords: np.ndarray, i: int) -> float:
    d = np.linalg.norm(coords - coords[i], axis=1)
    d[i] = np.inf
    return float(np.sort(d)[4])


def test_attributes(ex):
    assert ex.n == 1797 and ex.latent_dim == 8 and ex.image_shape == (1, 8, 8)
    assert ex.kind == "linear" and ex.class_names == [str(i) for i in range(10)]
    assert ex.labels.shape == (1797,) and ex.latents.shape == (1797, 8)
    assert ex.recon_error.shape == (1797,) and ex.recon_error.dtype == np.float32
    assert len(ex.map_names) == 12 and "latent-umap-2d" in ex.map_names
    assert set(ex.metrics["maps"]) == set(ex.map_names)
    assert ex.coords("pixel-tsne-3d").shape == (1797, 3)
    assert ex.preservation("latent-tsne-2d").shape == (1797,)


def test_project_own_latent_lands_within_its_5nn_radius(ex):
    rng = np.random.default_rng(0)
    items = rng.choice(ex.n, 60, replace=False)
    scale = ex.latents.std(0)
    for name in ex.map_names:
        c = ex.coords(name)
        got = ex.project(ex.latents[items], name)
        assert got.shape == (60, c.shape[1]) and got.dtype == np.float32
        for j, i in enumerate(items):
            assert np.linalg.norm(got[j] - c[i]) <= _radius5(c, i) + 1e-4, (name, i)
        if name.startswith("latent"):
            # a slightly moved latent stays close too (no snapping to help here)
            moved = ex.latents[items] + 0.02 * scale * rng.standard_normal((60, ex.latent_dim))
            got = ex.project(moved.astype(np.float32), name)
            ok = [np.linalg.norm(got[j] - c[i]) <= _radius5(c, i) for j, i in enumerate(items)]
            assert np.mean(ok) >= 0.9, (name, np.mean(ok))


def test_project_pixels_places_images_on_pixel_maps(ex):
    items = [0, 5, 900]
    imgs = np.stack([ex.image01(i) for i in items])
    for name in ("pixel-pca-2d", "pixel-pca-3d", "pixel-tsne-2d", "pixel-umap-3d"):
        c = ex.coords(name)
        got = ex.project_pixels(imgs, name)
        for j, i in enumerate(items):
            assert np.linalg.norm(got[j] - c[i]) <= _radius5(c, i) + 1e-4, (name, i)
    np.testing.assert_allclose(ex.project_pixels(imgs, "pixel-pca-2d"), ex.coords("pixel-pca-2d")[items], atol=1e-4)
    rec = ex.decode(ex.latents[items])  # reconstructions go where their pixels are
    assert np.isfinite(ex.project_pixels(rec, "pixel-umap-2d")).all()
    with pytest.raises(LatentdashError, match="pixel-space maps"):
        ex.project_pixels(imgs, "latent-umap-2d")


def test_pca_project_and_unproject_are_exact_inverses(ex):
    z = ex.latents[:5]
    xy = ex.project(z, "latent-pca-2d")
    back = np.stack([ex.unproject(p, "latent-pca-2d") for p in xy])
    np.testing.assert_allclose(ex.project(back, "latent-pca-2d"), xy, atol=1e-4)
    mean, comps, std = ex.latent_pcs
    np.testing.assert_allclose(comps @ comps.T, np.eye(8), atol=1e-5)
    assert (np.diff(std) <= 1e-6).all() and std[0] > 0
    np.testing.assert_allclose(np.abs(xy[:, 0]), np.abs((z - mean) @ comps[0]), rtol=1e-3, atol=1e-3)


def test_unproject_nonlinear_maps_anywhere(ex):
    for name in ("latent-tsne-2d", "latent-umap-2d", "pixel-umap-2d", "pixel-tsne-2d"):
        c = ex.coords(name)
        z = ex.unproject(c[7], name)
        assert z.shape == (8,) and z.dtype == np.float32
        np.testing.assert_allclose(z, ex.latents[7], atol=1e-5)  # on an item: that item
        far = c.max(0) + 10 * (c.max(0) - c.min(0))  # far outside the map
        zf = ex.unproject(far, name)
        assert np.isfinite(zf).all()
        mid = ex.unproject(c.mean(0), name)  # empty space is fine
        assert np.isfinite(mid).all()
        # round trip on a t-SNE/UMAP map lands near where we started
        idx = np.random.default_rng(1).choice(ex.n, 30, replace=False)
        back = (
            ex.project(np.stack([ex.unproject(c[i] + 1e-3, name) for i in idx]), name)
            if name.startswith("latent")
            else None
        )
        if back is not None:
            ok = [np.linalg.norm(back[j] - c[i]) <= _radius5(c, i) for j, i in enumerate(idx)]
            assert np.mean(ok) >= 0.9


def test_raw_map_of_a_two_dimensional_model(tmp_path):
    from latentdash.atlas import AtlasParams, get_or_build_atlas
    from tests._atlas_helpers import digits, pca_model

    ds = digits()
    m = pca_model(ds, 2)
    a = get_or_build_atlas(m, ds, AtlasParams(methods="pca", dims="2"), cache_dir=tmp_path, progress=False)
    e = Explorer(m, a, "pca-2")
    z = np.array([0.3, -1.2], np.float32)
    np.testing.assert_array_equal(e.project(z, "latent-raw-2d")[0], z)
    np.testing.assert_allclose(e.unproject(z, "latent-raw-2d"), z)


def test_neighbours(ex):
    i, d = ex.neighbours(ex.latents[11], 6)
    assert i.dtype == np.int64 and d.dtype == np.float32 and i.shape == d.shape == (6,)
    assert i[0] == 11 and d[0] == pytest.approx(0.0, abs=1e-3) and (np.diff(d) >= -1e-6).all()
    ref = np.argsort(np.linalg.norm(ex.latents - ex.latents[11], axis=1), kind="stable")[:6]
    assert set(i.tolist()) == set(ref.tolist())
    np.testing.assert_allclose(d, np.linalg.norm(ex.latents[i] - ex.latents[11], axis=1), atol=1e-3)


def test_items_decode_encode_sample(ex):
    t = ex.thumbnail(3)
    assert t.dtype == np.uint8 and t.shape == (1, 8, 8)
    np.testing.assert_allclose(ex.image01(3), t / 255.0, atol=1e-6)
    assert ex.label_name(3) == str(int(ex.labels[3]))
    x = ex.decode(ex.latents[3])
    assert x.shape == (1, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert ex.decode(ex.latents[:4]).shape == (4, 1, 8, 8)
    np.testing.assert_allclose(ex.encode(ex.image01(3)), ex.latents[3:4], atol=1e-4)
    s = ex.sample_prior(5, seed=0)
    assert s.shape == (5, 8) and np.array_equal(s, ex.sample_prior(5, seed=0))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda e: e.project(np.zeros(7), "latent-umap-2d"), "length 7"),
        (lambda e: e.project(np.zeros((2, 9)), "latent-umap-2d"), "length 9"),
        (lambda e: e.project(np.full(8, np.nan), "latent-umap-2d"), "NaN"),
        (lambda e: e.project(np.array([np.inf] + [0] * 7), "latent-pca-2d"), "NaN or infinite"),
        (lambda e: e.project(np.zeros(8), "latent-isomap-2d"), "no map named"),
        (lambda e: e.unproject([0, 0], "nope"), "no map named"),
        (lambda e: e.unproject([0, 0], "latent-umap-3d"), "2-D maps only"),
        (lambda e: e.unproject([0, 0, 0], "latent-umap-2d"), "2 coordinates"),
        (lambda e: e.unproject([np.nan, 0], "latent-umap-2d"), "not finite"),
        (lambda e: e.neighbours(np.zeros(3), 5), "latent size is 8"),
        (lambda e: e.neighbours(np.zeros(8), 0), "neighbours asked"),
        (lambda e: e.neighbours(np.zeros(8), 5000), "neighbours asked"),
        (lambda e: e.thumbnail(1797), "out of range"),
        (lambda e: e.thumbnail(-1), "out of range"),
        (lambda e: e.image01("x"), "not an integer"),
        (lambda e: e.label_name(2.5), "not an integer"),
        (lambda e: e.coords("latent-tsne-4d"), "no map named"),
        (lambda e: e.decode([[1, 2]]), "latent size is 8"),
        (lambda e: e.encode(np.zeros((1, 1, 9, 9))), "shape"),
    ],
)
def test_bad_arguments_raise_one_line_errors(ex, call, match):
    with pytest.raises(LatentdashError, match=match) as info:
        call(ex)
    assert "\n" not in str(info.value)


def test_explorer_refuses_a_mismatched_model(ex):
    from tests._atlas_helpers import digits, pca_model

    with pytest.raises(LatentdashError, match="latent_dim 5"):
        Explorer(pca_model(digits(), 5), ex.atlas, "other")


def test_concurrent_calls_agree(ex):
    z = ex.latents[:50] + 0.01
    want = {n: ex.project(z, n) for n in ex.map_names}
    errors = []

    def work():
        try:
            for n in ex.map_names:
                if not np.array_equal(ex.project(z, n), want[n]):
                    errors.append(n)
                if n.endswith("2d"):
                    ex.unproject(want[n][0], n)
            ex.neighbours(z[0], 5)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
