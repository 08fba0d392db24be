"""Decode anywhere and the manifold grid (ui/anywhere.py): the handlers and render handlers
directly, then the app through Dash's HTTP protocol (Flask's test client). Real models: the two
PCA test models of conftest.py (16-D and 2-D latents) and the shipped VAE-2 on its shipped atlas
(a 2-D latent: its latent map is the latent plane itself, exact both ways; its pixel-space t-SNE
and UMAP maps are estimated)."""

from __future__ import annotations

import base64
import io
import math
from urllib.parse import parse_qs

import numpy as np
import pytest
from PIL import Image

from latentdash import imaging
from latentdash.ui import anywhere, events, ids, urlstate
from latentdash.ui.catalog import Catalog
from latentdash.ui.events import reduce
from latentdash.ui.handlers import NO_CHANGE, Env, on_click, on_sliders, slider_positions, view_of
from tests.dashclient import REDUCER, stores_of

MAP2, MAP3 = "latent-pca-2d", "latent-pca-3d"
RAW = "latent-raw-2d"  # the map of a 2-D latent: the plane itself


def key(state) -> str:
    return f"{state['model']}|{state['map']}|{state.get('rev', 0)}"


def click(state, xy, **kw):
    return {"xy": list(map(float, xy)), "key": key(state), "nonce": 1, **kw}


def state_for(catalog, model, map_name=MAP2):
    s = urlstate.default_state(catalog, model)
    s["map"] = map_name
    return s


def png_pixels(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def cell(sprite: np.ndarray, i: int, j: int, h: int, w: int) -> np.ndarray:
    return sprite[i * h : (i + 1) * h, j * w : (j + 1) * w]


@pytest.fixture(scope="module")
def vae2():
    """The shipped VAE-2 on its shipped atlas (fashion-mnist-test, 10k; PCA, t-SNE and UMAP maps)."""
    from latentdash.atlas.shipped import CHECKPOINT_DIR, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    path = CHECKPOINT_DIR / "fashion-vae-2.pt"
    ex = Explorer(load_model(str(path)), load_atlas(shipped_atlas_path(path), verify=False), "fashion-vae-2")
    return Catalog([ex])


# ----------------------------------------------------------------------------- handlers
def test_a_click_loads_the_vector_there_into_the_sliders(catalog):
    s = state_for(catalog, "pca-16")
    view = view_of(catalog, s)
    xy = np.asarray(view.explorer.coords(MAP2)[7], np.float64) + [0.37, -0.21]  # near a point, not on it
    res = reduce(s, "anywhere", click(s, xy), catalog)
    new = res["state"]
    assert res["message"] is None and res["url"] == "push"
    z = np.asarray(new["z"], np.float32)
    np.testing.assert_allclose(z, view.explorer.unproject(xy, MAP2), atol=1e-6)
    assert res["sliders"] == slider_positions(new, catalog)  # the sliders follow
    assert new["anyat"] == {"model": "pca-16", "map": MAP2, "xy": [float(xy[0]), float(xy[1])]}
    # a PCA map: the decoded vector lands back exactly where it was clicked
    np.testing.assert_allclose(view.explorer.project(z, MAP2)[0], xy, atol=1e-4)
    assert new["sel"] == s["sel"]  # the inspected point stays


def test_on_a_16d_pca_map_the_inverse_is_the_planes_mean_completion(catalog):
    s = state_for(catalog, "pca-16")
    view = view_of(catalog, s)
    i = 11
    xy = view.explorer.coords(MAP2)[i]
    new = reduce(s, "anywhere", click(s, xy), catalog)["state"]
    z, own = np.asarray(new["z"]), view.explorer.latents[i]
    # not the point's own code: that one has other principal components than the mean
    assert np.linalg.norm(z - own) > 0.1 * np.linalg.norm(own - view.lat_mean)
    mean, comps, _ = view.explorer.latent_pcs
    np.testing.assert_allclose((z - mean) @ comps[2:].T, 0, atol=1e-3)  # on the plane through the mean
    r = anywhere.render_anywhere(new, catalog)
    assert "mean-completion, not the point's code" in r["note"]
    assert r["mark"] == {"xy": [float(xy[0]), float(xy[1])], "style": "exact", "kind": "completion"}


def test_on_a_2d_latent_map_the_inverse_is_exact(catalog):
    s = state_for(catalog, "pca-2", RAW)
    view = view_of(catalog, s)
    for i in (0, 123, 1999):
        new = reduce(s, "anywhere", click(s, view.explorer.coords(RAW)[i]), catalog)["state"]
        np.testing.assert_allclose(new["z"], view.explorer.latents[i], atol=1e-6)
    r = anywhere.render_anywhere(new, catalog)
    assert "exact: this map is the model's 2-D latent plane itself" in r["note"]
    # a PCA map of a 2-D latent would be a rotation of it: exact too; of a 16-D one, not
    assert anywhere.inverse_kind(view, MAP2) == "exact" and "rotation" in anywhere.inverse_note(view, MAP2)
    assert anywhere.inverse_kind(view_of(catalog, state_for(catalog, "pca-16")), MAP2) == "completion"


def test_vae2_decode_anywhere_at_a_points_position_reproduces_its_reconstruction(vae2):
    s = state_for(vae2, "fashion-vae-2", RAW)
    ex = view_of(vae2, s).explorer
    idx = [0, 17, 4242, 9999]
    for i in idx:
        new = reduce(s, "anywhere", click(s, ex.coords(RAW)[i]), vae2)["state"]
        got = ex.decode(np.asarray(new["z"], np.float32))[0]
        recon = ex.decode(ex.latents[i])[0]
        assert np.abs(got - recon).max() <= 1 / 255, i
    assert "exact" in anywhere.render_anywhere(new, vae2)["note"]


def test_vae2_tsne_map_is_estimated_and_says_where_the_vector_lands(vae2):
    m = "pixel-tsne-2d"
    s = state_for(vae2, "fashion-vae-2", m)
    ex = view_of(vae2, s).explorer
    xy = ex.coords(m)[100] + 0.5
    new = reduce(s, "anywhere", click(s, xy), vae2)["state"]
    np.testing.assert_allclose(new["z"], ex.unproject(xy, m), atol=1e-6)
    r = anywhere.render_anywhere(new, vae2)
    assert r["mark"]["style"] == "estimated" and "estimated by the placer's inverse" in r["note"]
    assert "pixel-space t-SNE map has no exact inverse" in r["note"]
    back = ex.project(np.asarray(new["z"], np.float32), m)[0]
    assert f"lands {float(np.hypot(*(back - xy))):.3g} map units away" in r["note"]
    assert "a UMAP map has no exact inverse" in anywhere.inverse_note(view_of(vae2, s), "latent-umap-2d")


@pytest.mark.parametrize(
    "xy,words",
    [
        ([float("nan"), 0.0], "not two finite numbers"),
        ([None, 1.0], "not two finite numbers"),
        (["1", 2], "not two finite numbers"),
        ([float("inf"), 0.0], "not two finite numbers"),
        ([True, 0.0], "not two finite numbers"),
        ([1.0], "needs two numbers"),
        ("1,2", "needs two numbers"),
        ([1e6, 0.0], "outside the map's range"),
    ],
)
def test_bad_positions_leave_the_state_and_say_why(catalog, xy, words):
    s = state_for(catalog, "pca-16")
    res = reduce(s, "anywhere", {"xy": xy, "key": key(s)}, catalog)
    assert res["state"] is None and words in res["message"]


def test_positions_outside_the_range_are_refused_not_clamped(catalog):
    s = state_for(catalog, "pca-16")
    view = view_of(catalog, s)
    lo, hi = anywhere.map_extent(view, MAP2)
    xy = view.explorer.coords(MAP2)
    assert (lo < xy.min(0)).all() and (hi > xy.max(0)).all()
    inside = reduce(s, "anywhere", click(s, hi - 1e-6), catalog)
    assert inside["state"] is not None
    res = reduce(s, "anywhere", click(s, [hi[0] + 0.01, 0.0]), catalog)
    assert res["state"] is None and "not decoded" in res["message"]


def test_a_3d_map_or_another_figure_is_refused(catalog):
    s = state_for(catalog, "pca-16", MAP3)
    res = reduce(s, "anywhere", {"xy": [0.0, 0.0], "key": key(s)}, catalog)
    assert res["state"] is None and "2-D maps only" in res["message"]
    s2 = state_for(catalog, "pca-16")
    res = reduce(s2, "anywhere", {"xy": [0.0, 0.0], "key": "pca-2|latent-pca-2d|0"}, catalog)
    assert res["state"] is None and "map changed" in res["message"]
    assert reduce(s2, "anywhere", "no", catalog)["message"] == "a decode-anywhere click carries no position"
    assert reduce(s2, "anywhere", None, catalog)["state"] is None
    r = anywhere.render_anywhere(s, catalog)
    assert r["mark"] is None and "2-D maps only" in r["note"]


def test_in_any_position_mode_a_point_click_is_left_to_the_page(catalog):
    s = state_for(catalog, "pca-16")
    view = view_of(catalog, s)
    pt = {"points": [{"curveNumber": 0, "pointNumber": 0, "customdata": 5}]}
    assert on_click(dict(s), pt, Env(catalog, view, "anywhere")) is NO_CHANGE
    three = state_for(catalog, "pca-16", MAP3)  # no decode anywhere on a 3-D map: a click inspects
    on_click(three, pt, Env(catalog, view, "anywhere"))
    assert three["sel"] == 5
    assert events.click_mode_after("click", "anywhere") is None  # the mode stays


def test_the_link_carries_the_position_and_the_crosshair_goes_when_the_sliders_move(catalog):
    s = state_for(catalog, "pca-16")
    view = view_of(catalog, s)
    xy = view.explorer.coords(MAP2)[3] + 0.25
    new = reduce(s, "anywhere", click(s, xy), catalog)["state"]
    q = urlstate.serialize(new, catalog)
    at = [float(v) for v in parse_qs(q[1:])["at"][0].split(",")]
    np.testing.assert_allclose(at, xy, rtol=1e-5)
    back, problems = urlstate.parse(q, catalog)
    assert problems == [] and back["anyat"]["map"] == MAP2
    assert anywhere.render_anywhere(back, catalog)["mark"] is not None  # restored with its crosshair
    moved = dict(new)
    axes = view.sliders["dims"]
    vals = list(axes.values_of(np.asarray(new["z"], np.float32)) + 0.5)
    on_sliders(moved, vals, Env(catalog, view))
    assert anywhere.render_anywhere(moved, catalog)["mark"] is None
    # a bad or out-of-range position in a link is named and dropped
    for bad in ("1,2,3", "nan,0", "1e9,0"):
        st, problems = urlstate.parse(f"?model=pca-16&map={MAP2}&at={bad}", catalog)
        assert problems == ["at"] and st["anyat"] is None
    st, problems = urlstate.parse(f"?model=pca-16&map={MAP3}&at=0,0", catalog)
    assert problems == ["at"]


def test_the_grid_toggle_rides_in_the_link(catalog):
    s = state_for(catalog, "pca-16")
    view = view_of(catalog, s)
    assert anywhere.on_grid(dict(s), [], Env(catalog, view)) is NO_CHANGE
    res = reduce(s, "grid", ["on"], catalog)
    assert res["state"]["grid"] is True and res["sliders"] is None
    q = urlstate.serialize(res["state"], catalog)
    assert "grid=1" in q and urlstate.parse(q, catalog)[0]["grid"] is True
    assert events.control_values(res["state"], view)[ids.GRID_ON] == ["on"]


# ----------------------------------------------------------------------------- the grid
def _grid_req(state, x, y):
    return {"key": key(state), "x": list(map(float, x)), "y": list(map(float, y)), "nonce": 3}


@pytest.mark.parametrize("model,map_name", [("pca-16", MAP2), ("fashion-vae-2", "pixel-umap-2d")])
def test_grid_cells_are_the_decodes_of_their_centres(catalog, vae2, model, map_name):
    cat = vae2 if model == "fashion-vae-2" else catalog
    s = dict(state_for(cat, model, map_name), grid=True)
    ex = view_of(cat, s).explorer
    c = ex.coords(map_name)
    x = [float(np.percentile(c[:, 0], 20)), float(np.percentile(c[:, 0], 70))]
    y = [float(np.percentile(c[:, 1], 30)), float(np.percentile(c[:, 1], 90))]
    r = anywhere.render_grid(_grid_req(s, x, y), s, cat)
    assert r["x"] == pytest.approx(x, abs=1e-6) and r["y"] == pytest.approx(y, abs=1e-6)
    cols, rows = r["cols"], r["rows"]
    assert (cols, rows) == anywhere.grid_shape(x[1] - x[0], y[1] - y[0]) and r["nonce"] == 3 and r["key"] == key(s)
    assert 120 <= cols * rows <= 170  # about 12 x 12, square cells
    cw, ch = (x[1] - x[0]) / cols, (y[1] - y[0]) / rows
    assert 0.8 < cw / ch < 1.25
    sprite = png_pixels(r["src"])
    h, w = ex.image_shape[1:]
    assert sprite.shape[:2] == (rows * h, cols * w)
    for i, j in [(0, 0), (0, cols - 1), (rows // 2, cols // 2), (rows - 1, 0), (rows - 1, cols - 1)]:
        cx = r["x"][0] + (j + 0.5) * (r["x"][1] - r["x"][0]) / cols
        cy = r["y"][1] - (i + 0.5) * (r["y"][1] - r["y"][0]) / rows  # row 0 at the top
        want = imaging.to_uint8(ex.decode(ex.unproject([cx, cy], map_name))[0])
        got = cell(sprite, i, j, h, w)
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, (i, j)
    # the images really change across the plane (the top-left and bottom-right cells differ)
    corner = cell(sprite, rows - 1, cols - 1, h, w).astype(int)
    assert np.abs(cell(sprite, 0, 0, h, w).astype(int) - corner).mean() > 5


def test_grid_shape_is_12_by_12_on_a_square_view_and_square_cells_otherwise():
    assert anywhere.grid_shape(3.0, 3.0) == (12, 12)
    assert anywhere.grid_shape(2.0, 1.0) == (17, 8)
    assert anywhere.grid_shape(1.0, 2.0) == (8, 18)
    assert anywhere.grid_shape(1000.0, 1.0) == (24, 6)  # at most MAX_SIDE along a side


def test_the_grid_covers_the_visible_region_clipped_to_the_map(catalog):
    s = dict(state_for(catalog, "pca-16"), grid=True)
    view = view_of(catalog, s)
    lo, hi = anywhere.map_extent(view, MAP2)
    r = anywhere.render_grid(_grid_req(s, [lo[0] - 100, hi[0] + 100], [lo[1] + 1, hi[1] + 50]), s, catalog)
    assert r["x"] == pytest.approx([lo[0], hi[0]], abs=1e-5) and r["y"] == pytest.approx([lo[1] + 1, hi[1]], abs=1e-5)
    with pytest.raises(anywhere.Reject, match="off the map"):
        anywhere.render_grid(_grid_req(s, [hi[0] + 1, hi[0] + 2], [0, 1]), s, catalog)


@pytest.mark.parametrize(
    "x,y,words",
    [
        ([1.0, 0.0], [0.0, 1.0], "not two finite increasing"),
        ([float("nan"), 1.0], [0.0, 1.0], "not two finite increasing"),
        ([0.0], [0.0, 1.0], "two numbers"),
        (None, [0.0, 1.0], "two numbers"),
    ],
)
def test_bad_grid_requests_are_refused(catalog, x, y, words):
    s = dict(state_for(catalog, "pca-16"), grid=True)
    with pytest.raises(anywhere.Reject, match=words):
        anywhere.render_grid({"key": key(s), "x": x, "y": y}, s, catalog)


def test_grid_off_stale_and_3d(catalog):
    s = state_for(catalog, "pca-16")
    assert anywhere.render_grid(_grid_req(s, [0, 1], [0, 1]), s, catalog) == {"off": True}
    on = dict(s, grid=True)
    stale = anywhere.render_grid({"key": "pca-2|latent-pca-2d|0", "x": [0, 1], "y": [0, 1]}, on, catalog)
    assert stale["stale"] is True and "src" not in stale
    with pytest.raises(anywhere.Reject, match="2-D maps only"):
        anywhere.render_grid(_grid_req(on, [0, 1], [0, 1]), dict(on, map=MAP3), catalog)
    assert "Manifold grid: about 12 x 12" in anywhere.render_anywhere(on, catalog)["grid_note"]


# ----------------------------------------------------------------------------- over HTTP
def _sliders(catalog, state):
    return list(range(view_of(catalog, state).sliders[state.get("basis", "dims")].k))


def test_http_a_click_decodes_and_the_page_says_how(dc, initial, catalog):
    s = dict(initial, map=MAP2)
    view = view_of(catalog, s)
    xy = view.explorer.coords(MAP2)[40] + 0.3
    k = _sliders(catalog, s)
    values = {
        **stores_of(s),
        f"{ids.ST_ANYCLICK}.data": click(s, xy),
        "click-mode.value": "inspect",
        f"{ids.SLIDER}.value": slider_positions(s, catalog),
    }
    status, data = dc.call(REDUCER, values, [f"{ids.ST_ANYCLICK}.data"], pattern={ids.SLIDER: k})
    assert status == 200
    r = data["response"]
    z = view.explorer.unproject(xy, MAP2)
    np.testing.assert_allclose(r[ids.ST_Z]["data"]["z"], z, atol=1e-6)
    assert r[ids.ST_MAP]["data"]["anyat"]["xy"] == pytest.approx(list(xy))
    assert "at=" in r[ids.URL]["search"] and "z=" in r[ids.URL]["search"]
    got = [r[f'{{"index":{i},"type":"{ids.SLIDER}"}}']["value"] for i in k]  # the sliders follow
    assert got == slider_positions(urlstate.merge(s, r[ids.ST_Z]["data"]), catalog)
    # the map card's line and what the page draws over the map
    status, data = dc.call(
        f"{ids.ANY_NOTE}.children",
        {f"{ids.ST_MAP}.data": r[ids.ST_MAP]["data"], f"{ids.ST_Z}.data": r[ids.ST_Z]["data"]},
        [f"{ids.ST_MAP}.data"],
    )
    out = data["response"]
    assert "mean-completion" in out[ids.ANY_NOTE]["children"]
    assert out[ids.ST_ANYOUT]["data"]["mark"]["xy"] == pytest.approx(list(xy))
    assert out[ids.ST_ANYOUT]["data"]["key"] == key(s)


@pytest.mark.parametrize("xy", [[None, 1.0], ["nan", 0.0], [1e9, 1e9]])
def test_http_a_bad_click_changes_nothing_and_says_so(dc, initial, xy):
    s = dict(initial, map=MAP2)
    values = {**stores_of(s), f"{ids.ST_ANYCLICK}.data": {"xy": xy, "key": key(s)}, "click-mode.value": "inspect"}
    status, data = dc.call(REDUCER, values, [f"{ids.ST_ANYCLICK}.data"])
    assert status == 200
    r = data["response"]
    assert r[ids.MSG]["children"] and all(sid not in r for sid in ids.STORE_OF.values())


def test_http_the_grid_round_trip(dc, initial, catalog):
    s = dict(initial, map=MAP2, grid=True)
    ex = view_of(catalog, s).explorer
    c = ex.coords(MAP2)
    mid, half = c.mean(0), 0.4 * float((c.max(0) - c.min(0)).min())
    req = _grid_req(s, [mid[0] - half, mid[0] + half], [mid[1] - half, mid[1] + half])  # a square view: 12 x 12
    status, data = dc.call(
        f"{ids.ST_GRIDOUT}.data",
        {f"{ids.ST_GRIDREQ}.data": req, f"{ids.ST_MAP}.data": urlstate.split(s)["map"]},
        [f"{ids.ST_GRIDREQ}.data"],
    )
    assert status == 200
    g = data["response"][ids.ST_GRIDOUT]["data"]
    sprite = png_pixels(g["src"])
    assert (g["cols"], g["rows"]) == (12, 12) and sprite.shape[:2] == (12 * 28, 12 * 28)
    top_left = [g["x"][0] + (g["x"][1] - g["x"][0]) / 24, g["y"][1] - (g["y"][1] - g["y"][0]) / 24]
    want = imaging.to_uint8(ex.decode(ex.unproject(top_left, MAP2))[0])
    assert np.abs(cell(sprite, 0, 0, 28, 28).astype(int) - want.astype(int)).max() <= 1
    # a bad request: the page keeps its grid and the message line says why
    bad = dict(req, x=[1.0, math.nan])
    status, data = dc.call(
        f"{ids.ST_GRIDOUT}.data",
        {f"{ids.ST_GRIDREQ}.data": bad, f"{ids.ST_MAP}.data": urlstate.split(s)["map"]},
        [f"{ids.ST_GRIDREQ}.data"],
    )
    assert status == 200 and data["response"] == {}
    assert data["sideUpdate"][ids.MSG]["children"].startswith("Could not show the manifold grid:")


def test_a_camera_move_reads_back_from_the_address_bar_as_the_same_view(catalog):
    """A pan or zoom writes the link (history replace); the URL event that follows must not look
    like a new view (a full map redraw and a new figure key, which drops the grid's request)."""
    s = state_for(catalog, "pca-16")
    rel = {"xaxis.range[0]": -2.9109736376852964, "xaxis.range[1]": 3.5633936376852957}
    rel.update({"yaxis.range[0]": -2.68752291342519, "yaxis.range[1]": 2.3089996577847236})
    moved = reduce(s, "relayout", rel, catalog)["state"]
    assert moved["cam"] == {"x": [-2.911, 3.5634], "y": [-2.6875, 2.309]}
    assert reduce(moved, "url", urlstate.serialize(moved, catalog), catalog)["state"] is None
    s3 = state_for(catalog, "pca-16", MAP3)
    cam = {"eye": {"x": 1.234567, "y": -0.9876543, "z": 0.5}, "center": {"x": 0, "y": 0, "z": 0}}
    moved3 = reduce(s3, "relayout", {"scene.camera": cam}, catalog)["state"]
    assert reduce(moved3, "url", urlstate.serialize(moved3, catalog), catalog)["state"] is None


def test_unproject_many_is_unproject_row_by_row(vae2, catalog):
    from latentdash.errors import LatentdashError

    ex16, ex2 = (
        view_of(catalog, state_for(catalog, "pca-16")).explorer,
        view_of(vae2, {"model": "fashion-vae-2"}).explorer,
    )
    for e, m in ((ex16, MAP2), (ex2, "pixel-umap-2d"), (ex2, RAW)):
        xy = e.coords(m)[:20].astype(np.float64) + 0.1
        np.testing.assert_allclose(e.unproject_many(xy, m), np.stack([e.unproject(p, m) for p in xy]), atol=1e-6)
    with pytest.raises(LatentdashError, match="shape"):
        ex2.unproject_many([1.0, 2.0], RAW)
    with pytest.raises(LatentdashError, match="NaN"):
        ex2.unproject_many([[1.0, float("nan")]], RAW)
    with pytest.raises(LatentdashError, match="2-D maps only"):
        ex2.unproject_many([[1.0, 2.0]], "pixel-pca-3d")
