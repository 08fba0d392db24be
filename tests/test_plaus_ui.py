"""Plausibility of every decode on the page (ui/plaus_render.py): the render handlers on real models
(the two PCA test models on 2,000 bundled images, and the shipped VAE-16 for the log prior), then
the app through Flask's test client: the drag frame's reply carries the frame's plausibility
(through the fast path and through Dash alike), a plausibility-only frame, the committed vector's
store, the path chart, and bad input answered with a message, never a 500."""

from __future__ import annotations

import numpy as np
import pytest

from latentdash import plausibility
from latentdash.ui import handlers, ids, layout, plaus_render, render, urlstate
from latentdash.ui.handlers import Reject
from tests.test_fastpath import both, drag_body  # noqa: F401  (both: a fixture)

DRAG_OUT = f"{ids.ST_DRAGOUT}.data"


@pytest.fixture()
def state(catalog):
    return urlstate.default_state(catalog)


def _noise(view, seed=0, scale=6.0):
    """A random-noise vector far from the data: each coordinate `scale` spreads of the data's."""
    lat = np.asarray(view.explorer.latents, np.float64)
    rng = np.random.default_rng(seed)
    return (lat.mean(0) + scale * lat.std(0) * rng.choice([-1.0, 1.0], lat.shape[1])).astype(np.float32)


# ----------------------------------------------------------------------------- handlers
def test_a_data_latent_is_typical_and_noise_far_from_the_data_is_off_it(catalog):
    view = catalog.get("pca-16")
    for i in (0, 17, 1999):
        r = plaus_render.summary(view, view.explorer.latents[i], "latent-pca-2d")
        assert r["verdict"] == "typical" and r["level"] == 0 and r["warn"] == ""
        assert r["distance"] == 0.0 and r["percentile"] < 5 and not r["uncertain"]
    far = plaus_render.summary(view, _noise(view), "latent-pca-2d")
    assert far["verdict"] == "off the data" and far["level"] == 2 and far["percentile"] > 99
    assert far["warn"].startswith("Off the data") and "percentile 100" in far["line"]
    assert far["log_prior"] is None and "log prior" not in far["line"]  # not a VAE
    # a PCA map places it exactly: the marker stays as it is; a pixel map's placement is an estimate
    assert far["exact"] and not far["uncertain"] and far["hover"] == ""
    est = plaus_render.summary(view, _noise(view), "pixel-pca-2d")
    assert est["uncertain"] and est["hover"] == plaus_render.UNCERTAIN_HOVER and "estimate" in est["warn"]


def test_the_percentile_grows_with_the_distance_from_the_data(catalog):
    view = catalog.get("pca-16")
    z0 = view.explorer.latents[5].astype(np.float64)
    d = _noise(view, seed=3) - view.explorer.latents.mean(0)
    pcts = [plaus_render.summary(view, z0 + t * d / 6.0, None)["percentile"] for t in (0.0, 0.3, 1.0, 3.0, 6.0)]
    assert pcts == sorted(pcts) and pcts[0] < 5 and pcts[-1] == 100.0
    verdicts = {plausibility.verdict(p) for p in pcts}
    assert {"typical", "off the data"} <= verdicts


def test_placement_exact_only_for_pca_of_latents_and_raw_maps():
    assert plaus_render.placement_exact("latent-pca-2d") and plaus_render.placement_exact("latent-raw-2d")
    for name in ("latent-umap-2d", "latent-tsne-3d", "pixel-pca-2d", "pixel-umap-2d", "nonsense", None):
        assert not plaus_render.placement_exact(name), name


def test_the_committed_vector_and_the_sliders_live_vector(catalog, state):
    view = catalog.get(state["model"])
    r = plaus_render.render_plaus(state, catalog)  # the implied z: the selected point's own latent
    assert r["verdict"] == "typical" and r["distance"] == 0.0
    off = plaus_render.render_plaus(dict(state, z=_noise(view).tolist()), catalog)
    assert off["verdict"] == "off the data"
    vals = handlers.slider_positions(state, catalog)
    assert plaus_render.live(vals, state, catalog)["verdict"] == "typical"
    vals[0] = float(view.sliders["dims"].hi[0])  # the first slider at its end
    end = plaus_render.live(vals, state, catalog)
    assert end["verdict"] == "off the data" and end["warn"]
    for bad in ([], [float("nan")] * 16, None):
        with pytest.raises(Reject):
            plaus_render.live(bad, state, catalog)
    with pytest.raises(Reject):
        plaus_render.live(vals, dict(state, basis="zzz"), catalog)


def test_the_vae_shows_its_log_prior(vae_catalog):
    view = vae_catalog.get("fashion-vae-16")
    ex = view.explorer
    r = plaus_render.summary(view, np.zeros(16, np.float32), "latent-umap-2d")
    want = -0.5 * 16 * np.log(2 * np.pi)  # log N(0; 0, I)
    assert abs(r["log_prior"] - want) < 0.01 and "log prior" in r["line"] and "data median" in r["line"]
    assert plaus_render.summary(view, ex.latents[3], "latent-umap-2d")["verdict"] == "typical"
    far = plaus_render.summary(view, np.full(16, 3.5, np.float32), "latent-umap-2d")
    assert far["verdict"] == "off the data" and far["uncertain"] and far["log_prior"] < r["log_prior"] - 50


@pytest.fixture(scope="module")
def vae_catalog():
    from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer
    from latentdash.ui.catalog import Catalog

    ex = Explorer(load_model(str(DEFAULT_CHECKPOINT)), load_atlas(shipped_atlas_path()), "fashion-vae-16")
    return Catalog([ex])


def test_the_path_chart_has_both_paths_with_the_shown_one_highlighted(catalog, state):
    view = catalog.get("pca-16")
    assert plaus_render.path_chart(state, catalog)["figure"] is None  # no endpoints yet
    s = dict(state, a=3, b=700, steps=12, mode="spherical")
    r = plaus_render.path_chart(s, catalog)
    lin, sph = r["figure"]["data"]
    assert r["steps"] == 12 and lin["x"] == sph["x"] == list(range(1, 13))
    assert lin["name"] == "linear" and sph["name"] == "spherical (shown)"
    assert sph["line"]["width"] > lin["line"]["width"] and lin["line"]["dash"] == "dot"
    za, zb = view.explorer.latents[3], view.explorer.latents[700]
    want = view.explorer.plausibility_path(za, zb, 12)
    np.testing.assert_allclose(lin["y"], want["linear"]["percentile"], atol=0.01)
    np.testing.assert_allclose(sph["y"], want["spherical"]["percentile"], atol=0.01)
    assert lin["y"][0] < 5 and lin["y"][-1] < 5  # the endpoints are data points
    assert f"linear {r['worst']['linear']}" in r["note"]
    with pytest.raises(Reject):
        plaus_render.path_chart(dict(s, steps=99), catalog)


def test_strip_cells_off_the_data_get_a_border(catalog, state):
    view = catalog.get("pca-16")
    path = np.stack([view.explorer.latents[0], _noise(view), view.explorer.latents[1]])
    assert plaus_render.step_verdicts(view, path) == ["typical", "off the data", "typical"]
    btns = layout.step_buttons(["a", "b", "c"], ["typical", "off the data", "unusual"])
    assert [b.className.split()[2:] for b in btns] == [[], ["ld-cell-off"], ["ld-cell-unusual"]]
    assert btns[1].title.endswith("(off the data)") and "(" not in btns[0].title
    r = render.render_interp(dict(state, a=3, b=700, steps=8), catalog)
    assert len(r["verdicts"]) == len(r["steps"]) == 8 and r["verdicts"][0] == "typical"


# ----------------------------------------------------------------------------- over HTTP
def _frame(j):
    return j["response"][ids.ST_DRAGOUT]["data"]


def test_the_drag_frame_reply_carries_the_plausibility(dc, initial, both, catalog):  # noqa: F811
    view = catalog.get(initial["model"])
    key = f"{initial['model']}|{initial['map']}|{initial['rev']}"
    vals = handlers.slider_positions(initial, catalog)
    end = list(vals)
    end[0] = float(view.sliders["dims"].hi[0])
    for values, verdict in ((vals, "typical"), (end, "off the data")):
        body = drag_body(dc, initial, {"values": values, "kind": "z"}, rendered={"key": key})
        (s_fast, j_fast, _), (s_dash, j_dash, _) = both(body, True), both(body, False)
        assert s_fast == s_dash == 200 and j_fast == j_dash
        f = _frame(j_fast)
        assert f["src"].startswith("data:image/png") and f["plaus"]["verdict"] == verdict
        assert f["plaus"] == plaus_render.live(values, initial, catalog)
    # the bench's A/B: the same frame without it
    body = drag_body(dc, initial, {"values": end, "kind": "z", "plaus": False}, rendered={"key": key})
    f = _frame(both(body, True)[1])
    assert "plaus" not in f and f["src"].startswith("data:image/png")


def test_a_plausibility_only_frame_for_browser_decoded_drags(dc, initial, both, catalog):  # noqa: F811
    view = catalog.get(initial["model"])
    end = handlers.slider_positions(initial, catalog)
    end[0] = float(view.sliders["dims"].lo[0])
    body = drag_body(dc, initial, {"values": end, "kind": "plaus"})
    (s, j, _), (s2, j2, _) = both(body, True), both(body, False)
    assert s == s2 == 200 and j == j2
    f = _frame(j)
    assert f["kind"] == "plaus" and "src" not in f and f["plaus"]["verdict"] == "off the data"
    # bad positions: a one-line message in the reply, never a 500
    for bad in ([float("nan")] * 16, [0.0] * 3, "x"):
        s, j, _ = both(drag_body(dc, initial, {"values": bad, "kind": "plaus"}), True)
        assert s == 200 and _frame(j)["error"].startswith("Could not decode the slider vector")


def test_the_committed_vector_store_and_the_path_chart_callbacks(dc, initial, catalog):
    view = catalog.get(initial["model"])
    p = urlstate.split(initial)
    st, j = dc.call(f"{ids.ST_PLAUS}.data", {f"{ids.ST_Z}.data": p["z"], f"{ids.ST_MAP}.data": p["map"]}, [])
    assert st == 200 and j["response"][ids.ST_PLAUS]["data"]["verdict"] == "typical"
    far = dict(p["z"], z=_noise(view).tolist())
    st, j = dc.call(f"{ids.ST_PLAUS}.data", {f"{ids.ST_Z}.data": far, f"{ids.ST_MAP}.data": p["map"]}, [])
    got = j["response"][ids.ST_PLAUS]["data"]
    assert st == 200 and got["verdict"] == "off the data" and got["warn"].startswith("Off the data")
    # a bad vector: the page keeps what it shows, the message line says why
    bad = dict(p["z"], z=[1.0, 2.0])
    st, j = dc.call(f"{ids.ST_PLAUS}.data", {f"{ids.ST_Z}.data": bad, f"{ids.ST_MAP}.data": p["map"]}, [])
    assert st == 200 and "Could not show the plausibility" in str(j)
    out = f"{ids.PLAUS_PATH}.figure"
    interp = dict(p["interp"], a=3, b=700, steps=8, mode="linear")
    st, j = dc.call(out, {f"{ids.ST_INTERP}.data": interp}, [])
    fig = j["response"][ids.PLAUS_PATH]["figure"]
    assert st == 200 and [len(t["y"]) for t in fig["data"]] == [8, 8]
    assert j["response"][ids.PLAUS_PATH_BOX]["style"] == {}
    st, j = dc.call(out, {f"{ids.ST_INTERP}.data": dict(interp, a=None)}, [])
    assert st == 200 and j["response"][ids.PLAUS_PATH_BOX]["style"] == {"display": "none"}
    st, j = dc.call(out, {f"{ids.ST_INTERP}.data": dict(interp, b=10**6)}, [])
    assert st == 200 and "Could not show the path plausibility" in str(j)


def test_prior_samples_off_the_data_get_a_border_and_a_count(catalog, state):
    from latentdash.ui import algebra_layout, algebra_render

    hot = algebra_render.render_prior(dict(state, pon=True, pn=16, pseed=0, ptemp=3.0), catalog)
    cool = algebra_render.render_prior(dict(state, pon=True, pn=16, pseed=0, ptemp=0.3), catalog)
    off = hot["verdicts"].count("off the data")
    assert len(hot["verdicts"]) == 16 and off > cool["verdicts"].count("off the data")
    assert f"{off} of 16 off the data" in hot["note"] and hot["note"].endswith("(bordered)")
    cells = algebra_layout.prior_cells(hot)
    assert sum("ld-cell-off" in c.className.split() for c in cells) == off
    assert plaus_render.grid_note(["typical"] * 4) == ""
