"""Plausibility of a latent vector: nearest-neighbour percentile, prior log-density, verdict, paths.

Synthetic data with a known answer, then the shipped VAE-16 on its shipped atlas and extras."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latentdash.errors import LatentdashError
from latentdash.plausibility import (
    PlausibilityIndex,
    log_prior_std_normal,
    self_nn_distances,
    verdict,
)


def _gauss(n=4000, d=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_self_nn_distances_are_exact_and_exclude_the_point_itself():
    x = _gauss(600, 5)
    got = self_nn_distances(x, chunk=128)
    full = np.linalg.norm(x[:, None, :].astype(np.float64) - x[None, :, :], axis=-1)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(got, full.min(1), rtol=1e-5, atol=1e-6)
    dup = np.vstack([x, x[:1]])  # a duplicate is a neighbour at distance 0
    assert self_nn_distances(dup)[0] == 0.0


def test_held_out_data_is_typical_and_percentiles_are_calibrated():
    x = _gauss(8000, 8)
    ref, held = x[:4000], x[4000:]
    ix = PlausibilityIndex(ref, self_nn_distances(ref))
    r = ix.query(held)
    share = {v: r["verdict"].count(v) / len(held) for v in ("typical", "unusual", "off the data")}
    assert share["typical"] > 0.9
    assert share["off the data"] < 0.03  # ~1 % by construction
    assert abs(np.median(r["percentile"]) - 50) < 6  # same distribution as the reference


def test_data_latents_are_typical_and_far_pushes_are_off():
    x = _gauss(3000, 8)
    ix = PlausibilityIndex(x, self_nn_distances(x))
    r = ix.query(x[:200])
    assert set(r["verdict"]) == {"typical"} and np.all(r["distance"] == 0.0)
    assert np.all(r["nearest"] == np.arange(200))
    pushed = x[:200].copy()
    pushed[:, 3] += 6 * x[:, 3].std()
    r = ix.query(pushed)
    assert r["verdict"].count("off the data") >= 190


def test_percentile_is_monotone_in_distance():
    x = _gauss(2000, 4)
    ix = PlausibilityIndex(x, self_nn_distances(x))
    direction = np.ones(4, np.float32) / 2.0
    steps = [x[0] + t * direction for t in np.linspace(0, 8, 60)]
    r = ix.query(np.array(steps))
    order = np.argsort(r["distance"], kind="stable")
    assert np.all(np.diff(r["percentile"][order]) >= 0)
    assert r["percentile"][0] == pytest.approx(0.0, abs=0.1) and r["percentile"][-1] == 100.0
    assert np.all(np.diff(ix.percentile(np.linspace(0, 5, 200))) >= 0)


def test_one_vector_equals_the_batch_and_brute_force():
    x = _gauss(5000, 16, seed=3)
    ix = PlausibilityIndex(x, self_nn_distances(x), prior="standard-normal")
    q = _gauss(50, 16, seed=4) * 1.5
    r = ix.query(q)
    brute = np.linalg.norm(x[None].astype(np.float64) - q[:, None], axis=-1)
    np.testing.assert_allclose(r["distance"], brute.min(1), rtol=1e-6)
    assert np.array_equal(r["nearest"], brute.argmin(1))
    for i in (0, 7, 49):
        one = ix.one(q[i])
        assert one["nearest"] == r["nearest"][i] and one["percentile"] == r["percentile"][i]
        assert one["log_prior_nats"] == pytest.approx(r["log_prior"][i])


def test_log_prior_is_the_standard_normal_log_density():
    from scipy.stats import multivariate_normal

    z = _gauss(20, 6, seed=5) * 2
    np.testing.assert_allclose(log_prior_std_normal(z), multivariate_normal(np.zeros(6)).logpdf(z), rtol=1e-10)
    assert log_prior_std_normal(np.zeros(2))[0] == pytest.approx(-math.log(2 * math.pi))
    ix = PlausibilityIndex(_gauss(100, 6), np.ones(100))
    assert ix.one(np.zeros(6))["log_prior_nats"] is None  # no prior: no density


def test_verdict_thresholds():
    assert [verdict(p) for p in (0, 95, 95.01, 99, 99.5, 100)] == [
        "typical",
        "typical",
        "unusual",
        "unusual",
        "off the data",
        "off the data",
    ]


def test_spherical_path_stays_on_a_shell_where_the_straight_line_leaves_it():
    """Data on a sphere of radius 4 in 6-D: between two antipodal-ish points the straight line
    crosses the empty middle, the spherical path follows the data."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6000, 6))
    x = (4 * x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ix = PlausibilityIndex(x, self_nn_distances(x))
    a, b = x[0], -x[0] * 0.999 + 0.05 * x[1]
    both = ix.compare_paths(a, b, steps=21)
    assert both["linear"]["verdict"][10] == "off the data"
    assert both["spherical"]["worst_percentile"] <= 99.0
    assert both["linear"]["worst_percentile"] == 100.0
    assert len(both["linear"]["t"]) == 21 and both["linear"]["t"][-1] == 1.0


def test_bad_input_is_a_one_line_error():
    ix = PlausibilityIndex(_gauss(100, 4), np.ones(100))
    for bad, words in ((np.zeros(3), "latent size is 4"), ([np.nan] * 4, "NaN"), ("abc", "4 numbers")):
        with pytest.raises(LatentdashError, match=words):
            ix.one(bad)
    with pytest.raises(LatentdashError, match="steps"):
        ix.path(np.zeros(4), np.ones(4), steps=1)
    with pytest.raises(LatentdashError, match="linear or spherical"):
        ix.path(np.zeros(4), np.ones(4), steps=4, mode="cubic")
    with pytest.raises(LatentdashError):
        PlausibilityIndex(_gauss(100, 4), np.array([]))


# ----------------------------------------------------------------------------- shipped VAE-16
@pytest.fixture(scope="module")
def vae():
    from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    ex = Explorer(load_model(str(DEFAULT_CHECKPOINT)), load_atlas(shipped_atlas_path()), "fashion-vae-16")
    assert ex.extras.reference is not None, "the shipped extras (posterior-sample reference) were not found"
    return ex


def test_shipped_vae_prior_samples_typical_at_t1_not_at_t3(vae):
    z1 = vae.sample_prior(1000, seed=1)
    r1 = vae.plausibility(z1)
    assert r1["verdict"].count("typical") > 800
    r3 = vae.plausibility(3.0 * vae.sample_prior(1000, seed=2))
    assert r3["verdict"].count("typical") < 50 and r3["verdict"].count("off the data") > 900
    assert np.median(r3["log_prior_nats"]) < np.median(r1["log_prior_nats"]) - 50


def test_shipped_vae_data_latents_typical_pushed_latents_off(vae):
    lat = vae.latents[:500]
    r = vae.plausibility(lat)
    assert r["verdict"].count("typical") >= 490
    dim = int(vae.latents.std(0).argmax())
    pushed = lat.copy()
    pushed[:, dim] += 6 * vae.latents[:, dim].std()
    r = vae.plausibility(pushed)
    assert r["verdict"].count("off the data") > 450
    i = r["verdict"].index("off the data")
    one = vae.plausibility(pushed[i])
    assert one["verdict"] == "off the data" and one["percentile"] == r["percentile"][i]
    assert one["log_prior_nats"] < one["data_log_prior_median_nats"]


def test_shipped_vae_path_plausibility(vae):
    a, b = vae.latents[0], vae.latents[1]
    path = vae.plausibility_path(a, b, steps=9, mode="linear")
    assert path["verdict"][0] == "typical" and path["verdict"][-1] == "typical"
    both = vae.plausibility_path(a, b, steps=9)
    assert set(both) == {"linear", "spherical"} and len(both["spherical"]["percentile"]) == 9
    with pytest.raises(LatentdashError, match="latent size is 16"):
        vae.plausibility(np.zeros(3))
