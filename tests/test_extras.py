"""Atlas extras: semantic regions (HDBSCAN), topology (ripser), fit diagnosis, their storage and
the Explorer methods; synthetic data with a known answer, the shipped atlases, and precompute."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from latentdash.atlas import fit as fitmod
from latentdash.atlas.extras import (
    PARTS,
    compute_extras,
    extras_for,
    load_extras,
    read_extras,
    save_extras,
)
from latentdash.atlas.regions import find_regions
from latentdash.atlas.store import Atlas, CorruptArtifact
from latentdash.atlas.topology import maxmin_landmarks, persistence
from latentdash.errors import LatentdashError


def _blobs(centres, n=300, spread=0.3, d=None, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, np.float64)
    if d is not None:
        centres = np.column_stack([centres, np.zeros((len(centres), d - centres.shape[1]))])
    x = np.concatenate([c + spread * rng.standard_normal((n, centres.shape[1])) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(len(centres)), n)


# ----------------------------------------------------------------------------- regions
def test_regions_find_labelled_blobs_with_their_medoids():
    xy, labels = _blobs([[0, 0], [10, 0], [0, 10]], n=1000, spread=0.5)
    lab, s = find_regions(xy, labels, ["ring", "bag", "boot"], params={"min_cluster_size": 60})
    assert s["n_clusters"] == 3 and s["params"]["method"] == "leaf" and "HDBSCAN" in s["params"]["library"]
    by_name = {c["majority"]: c for c in s["clusters"]}
    assert set(by_name) == {"ring", "bag", "boot"}
    for name, centre in (("ring", (0, 0)), ("bag", (10, 0)), ("boot", (0, 10))):
        c = by_name[name]
        assert c["purity"] == 1.0 and c["name"] == f"{name} (100%)"
        assert np.linalg.norm(np.subtract(c["centre"], centre)) < 0.3  # the medoid sits at the blob centre
        assert labels[c["medoid"]] == c["label"] and xy[c["medoid"]].tolist() == pytest.approx(c["centre"])
        assert c["size"] == int((lab == c["id"]).sum()) > 900
    unl, su = find_regions(xy, None, None, params={"min_cluster_size": 60})
    assert [c["name"] for c in su["clusters"]] == ["cluster 0", "cluster 1", "cluster 2"]
    assert "purity" not in su["clusters"][0] and np.array_equal(unl, lab)
    # default parameters (min_cluster_size N / 100 = 30): finer pieces, each still pure
    lab, s = find_regions(xy, labels, ["ring", "bag", "boot"])
    assert s["params"]["min_cluster_size"] == 30 and s["n_clusters"] >= 3
    assert {c["majority"] for c in s["clusters"]} == {"ring", "bag", "boot"}
    assert all(c["purity"] == 1.0 for c in s["clusters"]) and s["noise_fraction"] < 0.5


def test_regions_of_a_big_map_are_fitted_on_a_sample_and_given_to_every_point(monkeypatch):
    from latentdash.atlas import regions

    monkeypatch.setattr(regions, "FIT_MAX", 1500)
    xy, labels = _blobs([[0, 0], [10, 0], [0, 10]], n=2000, spread=0.5)
    lab, s = regions.find_regions(xy, labels, ["a", "b", "c"], params={"min_cluster_size": 60})
    assert s["params"]["fitted_on"] == 1500 and s["n_clusters"] == 3
    for c in s["clusters"]:  # every point of a blob, sampled or not, carries its blob's cluster
        assert c["purity"] == 1.0 and c["size"] > 1900


@pytest.fixture(scope="module")
def shipped():
    from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    model = load_model(str(DEFAULT_CHECKPOINT))
    atlas = load_atlas(shipped_atlas_path())
    return Explorer(model, atlas, "fashion-vae-16")


def test_shipped_extras_are_complete_for_every_shipped_atlas():
    from latentdash.atlas.shipped import CHECKPOINT_DIR, SHIPPED_CHECKPOINTS, shipped_atlas_path
    from latentdash.atlas.store import load_atlas

    for name in SHIPPED_CHECKPOINTS:
        atlas = load_atlas(shipped_atlas_path(CHECKPOINT_DIR / name), verify=False)
        ex = load_extras(atlas)
        assert ex is not None, f"no extras for {name}: run latentdash.atlas.extras.ship_extras"
        assert ex.parts == list(PARTS) and ex.path.parent == atlas.path.parent
        assert set(ex.regions) == {k for k, c in atlas.maps.items() if c.shape[1] == 2}
        assert ex.path.stat().st_size < 1_000_000


def test_shipped_vae_umap_regions_are_mostly_pure(shipped):
    s = shipped.regions("latent-umap-2d")
    clusters = s["clusters"]
    assert len(clusters) >= 8
    assert sum(c["purity"] > 0.7 for c in clusters) > len(clusters) / 2
    for cls in ("Trouser", "Bag"):
        assert max(c["purity"] for c in clusters if c["majority"] == cls) > 0.9, cls
    lab = shipped.region_labels("latent-umap-2d")
    assert len(lab) == shipped.n and lab.max() == len(clusters) - 1
    assert s["params"] == {**s["params"], "min_cluster_size": 100, "min_samples": 100, "method": "leaf"}
    with pytest.raises(LatentdashError, match="2-D maps"):
        shipped.regions("latent-umap-3d")
    with pytest.raises(LatentdashError, match="no map named"):
        shipped.regions("latent-nope-2d")


# ----------------------------------------------------------------------------- topology
def test_circle_has_exactly_one_long_loop():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 1500)
    circle = np.column_stack([np.cos(t), np.sin(t)]) + 0.03 * rng.standard_normal((1500, 2))
    rot, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    x = np.column_stack([circle, np.zeros((1500, 14))]) @ rot  # a circle in a random plane of R^16
    r = persistence(x, n_landmarks=300, seed=0)
    s = r["summary"]
    assert s["loops"] == 1 and s["components"] == 1
    life = r["h1"][:, 1] - r["h1"][:, 0]
    assert (life > s["threshold"]).sum() == 1 and life.max() > 1.0  # born small, dies near r * sqrt(3)
    assert "one connected component, 1 persistent loop" in s["reading"]


def test_three_separated_blobs_have_three_long_components():
    x, _ = _blobs([[0, 0], [20, 0], [0, 20]], n=300, spread=1.0, d=16)
    r = persistence(x, n_landmarks=400, seed=0)
    s = r["summary"]
    assert s["components"] == 3 and s["loops"] == 0
    assert np.isinf(r["h0"][:, 1]).sum() == 1  # one essential class
    assert s["reading"].startswith("3 well-separated components, no persistent loops")


def test_maxmin_landmarks_are_deterministic_and_spread():
    x, _ = _blobs([[0, 0], [5, 5]], n=500, spread=1.0, d=8)
    a, cover = maxmin_landmarks(x, 50, seed=3)
    b, _ = maxmin_landmarks(x, 50, seed=3)
    assert np.array_equal(a, b) and len(set(a.tolist())) == 50
    d = np.linalg.norm(x[:, None] - x[a][None], axis=-1).min(1)
    assert d.max() == pytest.approx(cover, rel=1e-5)  # every point lies within the cover radius
    assert not np.array_equal(maxmin_landmarks(x, 50, seed=4)[0], a)


def test_shipped_vae_topology_is_reproducible(shipped):
    stored = shipped.topology()
    again = persistence(shipped.latents, seed=0)
    np.testing.assert_array_equal(np.asarray(shipped.extras.topology["h0"]), again["h0"])
    np.testing.assert_array_equal(np.asarray(shipped.extras.topology["h1"]), again["h1"])
    assert again["summary"]["reading"] == stored["reading"]
    assert stored["params"]["seed"] == 0 and stored["params"]["landmarks_used"] == 1000
    assert stored["h0"][-1][1] is None  # the infinite bar as JSON null
    json.dumps(stored)


# ----------------------------------------------------------------------------- fit
def test_fit_gap_and_bands_on_shared_bins():
    rng = np.random.default_rng(0)
    train = rng.gamma(4.0, 0.005, 6000)
    test = rng.gamma(4.0, 0.0065, 1000)  # 1.3x the train error
    err = np.concatenate([train, test])
    split = fitmod.split_of(len(err), 6000)
    f = fitmod.fit_diagnosis(err, split, trained_on_split=True)
    assert f["gap"] == pytest.approx(test.mean() / train.mean()) and 1.2 < f["gap"] < 1.4
    assert f["reading"] == f"test error {f['gap']:.2f}x train: mild overfitting"
    assert len(f["bins"]) == fitmod.N_BINS + 1
    assert sum(f["hist"]["train"]) == 6000 and sum(f["hist"]["test"]) == 1000  # clipped ones in the last bin
    assert [fitmod.band(g) for g in (0.8, 1.0, 1.2, 2.0, 3.0)] == [b[1] for b in fitmod.BANDS]
    same = fitmod.fit_diagnosis(np.concatenate([train, rng.gamma(4.0, 0.005, 1000)]), split)
    assert "no sign of overfitting" in same["reading"]
    other = fitmod.fit_diagnosis(err, split, trained_on_split=False)
    assert "not trained on this train split" in other["reading"]


def test_fit_on_a_test_only_dataset_and_error_percentile(shipped):
    f = shipped.fit()
    assert f["has_split"] is False and f["gap"] is None and sum(f["hist"]["all"]) == shipped.n
    assert shipped.split() is None
    err = shipped.recon_error
    lo, hi = int(err.argmin()), int(err.argmax())
    assert shipped.error_percentile(lo) == pytest.approx(100 / shipped.n)
    assert shipped.error_percentile(hi) == 100.0
    order = np.argsort(err)[::997]
    pct = [shipped.error_percentile(int(i)) for i in order]
    assert pct == sorted(pct)


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists() and not FASHION.is_dir(), reason="no 70k")
def test_fit_of_the_shipped_vae_on_real_train_and_test_images(shipped):
    """The shipped VAE was trained on the train split: a sample of train and test images gives a
    gap near 1 (no overfitting after 12 epochs; its checkpoint's val loss tracked the train loss)."""
    from latentdash.atlas.encode import encode_rows
    from latentdash.data import load_dataset

    try:
        ds = load_dataset("fashion-mnist")
    except LatentdashError:
        pytest.skip("fashion-mnist not installed")
    rows = np.concatenate([np.arange(0, 60000, 40), np.arange(60000, 70000, 7)])
    _, err = encode_rows(shipped.model, ds.images[rows], None)
    split = fitmod.split_of(len(ds), ds.n_train, rows)
    f = fitmod.fit_diagnosis(err, split, trained_on_split=True)
    assert f["train"]["n"] == 1500 and f["test"]["n"] == 1429
    assert 0.95 < f["gap"] < 1.2 and f["reading"].startswith(f"test error {f['gap']:.2f}x train")


# ----------------------------------------------------------------------------- storage
def _small_atlas(tmp_path, n=400, key="k" * 32) -> Atlas:
    x, labels = _blobs([[0, 0], [8, 0]], n=n // 2, spread=0.5, d=4)
    maps = {"latent-pca-2d": x[:, :2].copy(), "latent-pca-3d": x[:, :3].copy()}
    return Atlas(
        key=key,
        meta={"params": {"seed": 0}, "source": "dataset", "dataset_id": "fashion-mnist"},
        latents=x,
        labels=labels,
        class_names=["a", "b"],
        thumbnails=np.zeros((n, 1, 2, 2), np.uint8),
        recon_error=np.linspace(0.01, 0.02, n).astype(np.float32),
        maps=maps,
        path=tmp_path / f"{key}.atlas.npz",
    )


def test_extras_round_trip_checksums_and_belong_to_one_atlas(tmp_path):
    atlas = _small_atlas(tmp_path)
    ex = compute_extras(atlas, PARTS, n_train=300)
    path = save_extras(ex, tmp_path / f"{atlas.key}.extras-v1.npz")
    assert path.name == "k" * 32 + ".extras-v1.npz" and not list(tmp_path.glob(".*.tmp"))
    back = load_extras(atlas, cache_dir=tmp_path / "cache")
    assert back is not None and back.path == path and back.parts == list(PARTS)
    np.testing.assert_array_equal(back.nn_dist, ex.nn_dist)
    np.testing.assert_array_equal(back.region_labels["latent-pca-2d"], ex.region_labels["latent-pca-2d"])
    assert back.regions == json.loads(json.dumps(ex.regions)) and "latent-pca-3d" not in back.regions
    assert {c["majority"] for c in back.regions["latent-pca-2d"]["clusters"]} == {"a", "b"}
    assert back.fit["has_split"] and back.split.tolist() == [0] * 300 + [1] * 100
    np.testing.assert_array_equal(back.topology["h1"], ex.topology["h1"])
    other = _small_atlas(tmp_path, key="j" * 32)
    other.path = atlas.path  # same place, another atlas: not used
    assert load_extras(other, cache_dir=tmp_path / "cache") is None
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptArtifact):
        read_extras(path, atlas.key)
    assert load_extras(atlas, cache_dir=tmp_path / "cache") is None  # damaged: recomputed by its caller


def test_explorer_without_extras_computes_the_quick_parts_only(tmp_path, caplog):
    from latentdash.atlas.extras import SMALL_N
    from latentdash.models import PCAModel
    from latentdash.service import Explorer

    atlas = _small_atlas(tmp_path, n=2 * (SMALL_N // 2 + 100))  # above the size that gets everything
    rows = np.arange(60_000 - atlas.n // 2, 60_000 + atlas.n // 2)  # fashion-mnist rows: half train, half test
    atlas.index = rows
    with caplog.at_level("INFO", logger="latentdash.atlas.extras"):
        ex = extras_for(atlas, None, cache_dir=tmp_path / "cache")
    assert ex.parts == ["plausibility", "fit"] and ex.nn_dist is not None
    assert "no extras file" in caplog.text and "latentdash precompute" in caplog.text
    assert not list(tmp_path.rglob("*.extras-v1.npz"))  # nothing written at start-up
    model = PCAModel(np.eye(4, dtype=np.float32), np.zeros(4, np.float32), np.ones(4, np.float32), (1, 2, 2))
    explorer = Explorer(model, atlas, "toy", extras=ex)
    assert explorer.plausibility(atlas.latents[0])["verdict"] == "typical"
    assert explorer.fit()["has_split"] is True and explorer.fit()["train"]["n"] == atlas.n // 2
    assert explorer.split().tolist() == (rows >= 60_000).astype(int).tolist()
    for call in (lambda: explorer.regions("latent-pca-2d"), explorer.topology):
        with pytest.raises(LatentdashError, match="latentdash precompute"):
            call()


def test_a_small_atlas_gets_every_part_at_start_and_keeps_it(tmp_path):
    atlas = _small_atlas(tmp_path, n=400)
    ex = extras_for(atlas, None, cache_dir=tmp_path / "cache")
    assert ex.parts == list(PARTS) and ex.path == tmp_path / f"{atlas.key}.extras-v1.npz"
    again = extras_for(atlas, None, cache_dir=tmp_path / "cache")
    assert again.path == ex.path and again.regions == json.loads(json.dumps(ex.regions))


def test_precompute_writes_the_extras_next_to_the_atlas(tmp_path):
    from latentdash.cli import main
    from tests._atlas_helpers import digits, pca_model, save_pca_checkpoint

    ds = digits()
    ckpt = save_pca_checkpoint(pca_model(ds, 6), tmp_path / "digits-pca-6.pt", ds)
    cache = tmp_path / "c"
    args = ["precompute", "--checkpoint", ckpt, "--dataset", "digits", "--limit", "300"]
    args += ["--methods", "pca,umap", "--dims", "2", "--n-neighbors", "10", "--cache-dir", str(cache), "--quiet"]
    assert main(args) == 0
    (atlas_path,) = [p for p in (cache / "atlas").glob("*.atlas.npz") if not p.name.startswith("pixel-")]
    extras_path = atlas_path.with_name(atlas_path.name.replace(".atlas.npz", ".extras-v1.npz"))
    assert extras_path.is_file()
    from latentdash.atlas.store import load_atlas

    ex = read_extras(extras_path, load_atlas(atlas_path).key)
    assert ex.parts == list(PARTS) and set(ex.regions) == {
        "latent-pca-2d",
        "latent-umap-2d",
        "pixel-pca-2d",
        "pixel-umap-2d",
    }
    assert ex.regions["latent-umap-2d"]["mean_purity"] > 0.7  # digits separate well on UMAP
    mtime = os.stat(extras_path).st_mtime_ns
    assert main(args) == 0 and os.stat(extras_path).st_mtime_ns == mtime  # up to date: not rewritten
