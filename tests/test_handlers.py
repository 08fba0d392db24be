"""Pure handlers, tested directly (no browser, no HTTP) on real models and real atlases:
every interaction of the Explorer page, and the malformed payloads a tampered client can send."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from PIL import Image

from latentdash import latent_ops
from latentdash.ui import figures, handlers, render, schema, urlstate
from latentdash.ui.events import reduce
from latentdash.ui.figures import OVERLAYS
from latentdash.ui.handlers import Reject


@pytest.fixture()
def state(catalog):
    return urlstate.default_state(catalog)


def png(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def decode_b64(spec) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), "<" + spec["dtype"])


def click(i=None, curve=0, pos=0):
    pt = {"curveNumber": curve, "pointNumber": pos}
    if i is not None:
        pt["customdata"] = i
    return {"points": [pt]}


def applied(res):
    assert res["state"] is not None, res["message"]
    return res["state"]


def rejected(res):
    assert res["state"] is None
    return res["message"]


# ------------------------------------------------------------------------------- URL state
def test_default_state_is_valid(catalog, state):
    view = catalog.get(state["model"])
    assert state["map"] in view.map_names and state["sel"] == 0
    assert len(state["z"]) == view.d


def test_url_roundtrip(catalog, state):
    s = dict(
        state,
        map="pixel-pca-3d",
        colour="dim3",
        sel=17,
        a=3,
        b=40,
        steps=12,
        mode="spherical",
        basis="pcs",
        z=[round(v + 0.5, 3) for v in state["z"]],
        cam={"eye": {"x": 1.0, "y": 2.0, "z": 0.5}, "center": {"x": 0, "y": 0, "z": 0}, "up": {"x": 0, "y": 0, "z": 1}},
    )
    back, problems = urlstate.parse(urlstate.serialize(s, catalog), catalog)
    assert problems == []
    for k in ("model", "map", "colour", "sel", "a", "b", "steps", "mode", "basis"):
        assert back[k] == s[k], k
    np.testing.assert_allclose(back["z"], s["z"], rtol=1e-4)
    assert back["cam"]["eye"] == {"x": 1.0, "y": 2.0, "z": 0.5}


def test_url_without_z_follows_the_selected_point(catalog, state):
    s = dict(state, sel=5, z=schema.latent_of(catalog.get(state["model"]), 5))
    q = urlstate.serialize(s, catalog)
    assert "z=" not in q and "sel=5" in q
    back, _ = urlstate.parse(q, catalog)
    np.testing.assert_allclose(back["z"], s["z"])


def test_2d_camera_roundtrip(catalog, state):
    s = dict(state, cam={"x": [-1.5, 2.0], "y": [0.25, 3.0]})
    back, problems = urlstate.parse(urlstate.serialize(s, catalog), catalog)
    assert problems == [] and back["cam"] == s["cam"]


@pytest.mark.parametrize(
    "query,bad",
    [
        ("?model=nope", "model"),
        ("?map=latent-tsne-9d", "map"),
        ("?sel=99999", "sel"),
        ("?sel=-1", "sel"),
        ("?sel=1.5", "sel"),
        ("?a=abc", "a"),
        ("?b=1e400", "b"),
        ("?steps=1", "steps"),
        ("?steps=33", "steps"),
        ("?steps=x", "steps"),
        ("?mode=cubic", "mode"),
        ("?z=1,2,3", "z"),
        ("?z=" + ",".join(["nan"] * 16), "z"),
        ("?z=" + ",".join(["inf"] * 16), "z"),
        ("?cam=1,2", "cam"),
        ("?cam=5,1,0,1", "cam"),
        ("?color=purple", "color"),
        ("?basis=xyz", "basis"),
    ],
)
def test_tampered_url_falls_back_and_names_the_parameter(catalog, query, bad):
    s, problems = urlstate.parse(query, catalog)
    assert problems == [bad]
    default = urlstate.default_state(catalog)
    assert s["model"] == default["model"] and len(s["z"]) == catalog.get(s["model"]).d
    assert all(math.isfinite(v) for v in s["z"])


@pytest.mark.parametrize("query", [None, 42, "?" + "x" * 10000, "?%%%", "?sel=1&sel=2&sel=3"])
def test_garbage_url_never_raises(catalog, query):
    s, _ = urlstate.parse(query, catalog)
    assert s["model"] in catalog.names


def test_reduce_url_bumps_revision_and_reports_problems(catalog, state):
    res = reduce(state, "url", "?sel=7&steps=99", catalog)
    new = applied(res)
    assert new["sel"] == 7 and new["steps"] == urlstate.DEFAULT_STEPS and new["rev"] == 1
    assert "steps" in res["message"] and res["url"] is None
    assert res["sliders"] == handlers.slider_positions(new, catalog)


def test_reduce_url_identical_to_state_changes_nothing(catalog, state):
    q = urlstate.serialize(state, catalog)
    assert reduce(state, "url", q, catalog)["state"] is None


# ------------------------------------------------------------------------------- model, map, colour
def test_switch_model_keeps_selection_and_maps_to_closest(catalog, state):
    s = dict(state, sel=12, a=3, colour="dim9")
    new = applied(reduce(s, "model", "pca-2", catalog))
    assert new["model"] == "pca-2" and new["sel"] == 12 and new["a"] == 3
    assert new["map"] == "latent-raw-2d"  # the 2-D model's latent map
    assert new["colour"] == "class"  # dim9 doesn't exist in a 2-D latent
    assert len(new["z"]) == 2


@pytest.mark.parametrize("bad", ["nope", None, 3, ["pca-16"], {"x": 1}])
def test_unknown_model_is_rejected(catalog, state, bad):
    assert rejected(reduce(state, "model", bad, catalog))


def test_choose_map(catalog, state):
    new = applied(reduce(state, "map", {"space": "pixel", "method": "pca", "dims": 3}, catalog))
    assert new["map"] == "pixel-pca-3d" and new["cam"] is None
    # a method this atlas lacks: the closest map of the same space and dims
    new = applied(reduce(state, "map", {"space": "latent", "method": "umap", "dims": 2}, catalog))
    assert new["map"] == "latent-pca-2d"
    assert rejected(reduce(state, "map", "latent-pca-2d", catalog))


def test_colour(catalog, state):
    assert applied(reduce(state, "colour", "recon", catalog))["colour"] == "recon"
    for bad in ("dim99", "rainbow", None, 5):
        assert rejected(reduce(state, "colour", bad, catalog))


# ------------------------------------------------------------------------------- clicks
def test_click_selects_and_sets_z(catalog, state):
    view = catalog.get(state["model"])
    new = applied(reduce(state, "click", click(42), catalog))
    assert new["sel"] == 42
    np.testing.assert_allclose(new["z"], view.explorer.latents[42])
    assert reduce(state, "click", click(42), catalog)["url"] == "push"


def test_click_without_customdata_uses_trace_position(catalog, state):
    view = catalog.get(state["model"])
    new = applied(reduce(state, "click", click(None, curve=3, pos=5), catalog))
    assert new["sel"] == int(view.trace_idx[3][5])


def test_click_modes_set_endpoints(catalog, state):
    assert applied(reduce(state, "click", click(9), catalog, click_mode="a"))["a"] == 9
    new = applied(reduce(state, "click", click(11), catalog, click_mode="b"))
    assert new["b"] == 11 and new["sel"] == state["sel"]


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"points": []},
        {"points": [None]},
        "x",
        click(99999),
        click(-1),
        click("abc"),
        click(float("nan")),
        click(1.5),
        click(True),
        click([1, 2]),
        click(None, curve=10, pos=0),  # an overlay trace
        click(None, curve=0, pos=10**6),
    ],
)
def test_bad_clicks_leave_state(catalog, state, payload):
    assert rejected(reduce(state, "click", payload, catalog))


def test_neighbour_click(catalog, state):
    assert applied(reduce(state, "nbr", 77, catalog))["sel"] == 77
    for bad in (-3, 10**6, "x", None):
        assert rejected(reduce(state, "nbr", bad, catalog))


# ------------------------------------------------------------------------------- camera
def test_relayout_2d_camera(catalog, state):
    rel = {"xaxis.range[0]": -1, "xaxis.range[1]": 2, "yaxis.range[0]": 0, "yaxis.range[1]": 1}
    res = reduce(state, "relayout", rel, catalog)
    assert applied(res)["cam"] == {"x": [-1.0, 2.0], "y": [0.0, 1.0]} and res["url"] == "replace"
    s = res["state"]
    assert applied(reduce(s, "relayout", {"xaxis.autorange": True}, catalog))["cam"] is None
    assert reduce(s, "relayout", {"autosize": True}, catalog)["state"] is None  # not a camera move
    both = {"xaxis.range": [-1, 2], "yaxis.range": [0, 1]}  # Plotly.relayout form
    assert applied(reduce(state, "relayout", both, catalog))["cam"] == {"x": [-1.0, 2.0], "y": [0.0, 1.0]}
    assert rejected(reduce(state, "relayout", {"xaxis.range": [1, 2, 3], "yaxis.range": [0, 1]}, catalog))
    bad = dict(rel, **{"xaxis.range[1]": float("nan")})
    assert rejected(reduce(state, "relayout", bad, catalog))
    assert rejected(reduce(state, "relayout", "zoom", catalog))


def test_relayout_3d_camera(catalog, state):
    s = dict(state, map="latent-pca-3d")
    cam = {"eye": {"x": 1, "y": 1, "z": 1}, "center": {"x": 0, "y": 0, "z": 0}, "up": {"x": 0, "y": 0, "z": 1}}
    assert applied(reduce(s, "relayout", {"scene.camera": cam}, catalog))["cam"]["eye"]["x"] == 1.0
    bad = {"scene.camera": {"eye": {"x": "a"}}}
    assert rejected(reduce(s, "relayout", bad, catalog))


# ------------------------------------------------------------------------------- endpoints, steps
def test_endpoints_swap_steps_mode(catalog, state):
    s = applied(reduce(dict(state, sel=4), "set_a", 1, catalog))
    s = applied(reduce(dict(s, sel=8), "set_b", 1, catalog))
    assert (s["a"], s["b"]) == (4, 8)
    s = applied(reduce(s, "swap", 1, catalog))
    assert (s["a"], s["b"]) == (8, 4)
    assert applied(reduce(s, "steps", 32, catalog))["steps"] == 32
    assert applied(reduce(s, "steps", 2.0, catalog))["steps"] == 2
    assert applied(reduce(s, "mode", "spherical", catalog))["mode"] == "spherical"


@pytest.mark.parametrize("bad", [1, 33, 2.5, "x", None, float("nan"), float("inf"), -4])
def test_steps_outside_range_rejected(catalog, state, bad):
    assert "steps" in rejected(reduce(state, "steps", bad, catalog))


def test_set_endpoint_without_selection(catalog, state):
    assert "select" in rejected(reduce(dict(state, sel=None), "set_a", 1, catalog))
    assert rejected(reduce(state, "mode", "cubic", catalog))


# ------------------------------------------------------------------------------- z: reset, random, step, sliders
def test_reset_random_and_step(catalog, state):
    view = catalog.get(state["model"])
    s = dict(state, z=[0.0] * view.d)
    np.testing.assert_allclose(applied(reduce(s, "reset", 1, catalog))["z"], view.explorer.latents[s["sel"]])
    z = applied(reduce(s, "random", 1, catalog))["z"]
    assert len(z) == view.d and all(math.isfinite(v) for v in z)
    s = dict(s, a=1, b=2, steps=5, mode="linear")
    res = reduce(s, "step", 2, catalog)
    expect = latent_ops.lerp(view.explorer.latents[1], view.explorer.latents[2], 5)[2]
    np.testing.assert_allclose(applied(res)["z"], expect, rtol=1e-5)
    assert res["sliders"] == handlers.slider_positions(res["state"], catalog)
    assert rejected(reduce(s, "step", 5, catalog))
    assert rejected(reduce(dict(s, b=None), "step", 0, catalog))


def test_slider_commit(catalog, state):
    view = catalog.get(state["model"])
    axes = view.sliders["dims"]
    vals = list(axes.values_of(np.asarray(state["z"], np.float32)))
    vals[0] = float(axes.hi[0])
    new = applied(reduce(state, "sliders", vals, catalog))
    assert new["z"][axes.idx[0]] == pytest.approx(float(axes.hi[0]))
    # unchanged positions (e.g. sliders re-rendered) are not an event
    assert reduce(new, "sliders", vals, catalog) == {"state": None, "url": None, "sliders": None, "message": None}


@pytest.mark.parametrize(
    "bad", [[1.0] * 3, [float("nan")] * 16, [float("inf")] * 16, ["a"] * 16, [True] * 16, None, "1,2,3", [[1]] * 16]
)
def test_bad_slider_values(catalog, state, bad):
    assert rejected(reduce(state, "sliders", bad, catalog))


def test_out_of_range_slider_values_are_clipped(catalog, state):
    axes = catalog.get(state["model"]).sliders["dims"]
    new = applied(reduce(state, "sliders", [1e5] * axes.k, catalog))
    assert max(new["z"]) <= float(axes.hi.max()) + 1e-4


def test_pc_basis_sliders(catalog, state):
    view = catalog.get(state["model"])
    s = applied(reduce(state, "basis", "pcs", catalog))
    axes = view.sliders["pcs"]
    pos = handlers.slider_positions(s, catalog)
    z = axes.compose(np.asarray(s["z"], np.float32), pos)
    np.testing.assert_allclose(z, s["z"], atol=2e-3)
    assert rejected(reduce(state, "basis", "random", catalog))


def test_unknown_event_and_missing_state(catalog, state):
    assert rejected(reduce(state, "explode", 1, catalog))
    assert applied(reduce(None, "click", click(3), catalog))["sel"] == 3
    assert applied(reduce({"model": "gone"}, "click", click(3), catalog))["sel"] == 3


# ------------------------------------------------------------------------------- render: map
def test_full_map_figure(catalog, state):
    view = catalog.get(state["model"])
    r = render.render_map(state, None, catalog)
    assert r["kind"] == "full"
    fig = r["figure"]
    assert len(fig["data"]) == len(view.trace_idx) + len(OVERLAYS)
    ids_ = np.concatenate([t["customdata"] for t in fig["data"][: len(view.trace_idx)]])
    assert sorted(ids_.tolist()) == list(range(view.n))
    t0 = fig["data"][0]
    assert t0["type"] == "scattergl" and t0["x"]["dtype"] == "f4"
    np.testing.assert_allclose(decode_b64(t0["x"]), view.explorer.coords(state["map"])[t0["customdata"], 0])
    assert fig["layout"]["uirevision"].startswith(view.name)
    sel = fig["data"][figures.overlay_index(view, "selected")]
    np.testing.assert_allclose([sel["x"][0], sel["y"][0]], view.explorer.coords(state["map"])[state["sel"]], atol=1e-4)


def test_3d_map_and_camera(catalog, state):
    cam = {"eye": {"x": 2, "y": 0, "z": 0}, "center": {"x": 0, "y": 0, "z": 0}, "up": {"x": 0, "y": 0, "z": 1}}
    fig = render.render_map(dict(state, map="pixel-pca-3d", cam=cam), None, catalog)["figure"]
    assert fig["data"][0]["type"] == "scatter3d" and "z" in fig["data"][0]
    assert fig["layout"]["scene"]["camera"] == cam
    fig2 = render.render_map(dict(state, cam={"x": [0, 1], "y": [2, 3]}), None, catalog)["figure"]
    assert fig2["layout"]["xaxis"]["range"] == [0, 1] and fig2["layout"]["xaxis"]["autorange"] is False


def test_two_graphs_prefetch_and_toggle(catalog, state):
    """render_graphs: the shown map goes to the graph of its dimensionality; a prefetch draws the
    sibling into the other graph; a stale or repeated prefetch has nothing to do (None)."""
    view = catalog.get(state["model"])
    dims = view.map_parts(state["map"])[2]
    r = render.render_graphs(state, None, catalog)
    shown, hidden = str(dims), str(5 - dims)
    assert r["figs"][shown]["kind"] == "full" and r["figs"][hidden] is None
    rec = r["rendered"]
    assert rec["active"] == shown and rec["key"] == render.map_key(view.name, state)
    assert render.render_graphs(state, rec, catalog, {"for": "stale"}) is None
    assert render.render_graphs(state, rec, catalog, {}) is None
    p = render.render_graphs(state, rec, catalog, {"for": rec["key"]})
    sib = render.sibling_map(view, state["map"])
    assert p["figs"][shown] is None and p["figs"][hidden]["kind"] == "full"
    assert p["rendered"]["graphs"][hidden]["key"] == render.map_key(view.name, dict(state, map=sib))
    assert render.render_graphs(state, p["rendered"], catalog, {"for": rec["key"]}) is None
    # switching to the sibling: its graph already shows it, so nothing is sent, only the toggle
    t = render.render_graphs(dict(state, map=sib), p["rendered"], catalog)
    assert t["figs"][hidden]["kind"] == "none" and t["rendered"]["active"] == hidden


def test_map_patches_only_what_changed(catalog, state):
    view = catalog.get(state["model"])
    rec = render.render_map(state, None, catalog)["rendered"]
    assert render.render_map(state, rec, catalog)["kind"] == "none"
    r = render.render_map(dict(state, colour="recon"), rec, catalog)
    assert r["kind"] == "patch" and len(r["ops"]) == len(view.trace_idx)
    assert r["ops"][0]["props"]["marker"]["color"]["dtype"] == "f4"
    r = render.render_map(dict(state, sel=9, z=schema.latent_of(view, 9)), rec, catalog)
    assert {op["trace"] for op in r["ops"]} == {
        figures.overlay_index(view, "selected"),
        figures.overlay_index(view, "current"),
    }
    r = render.render_map(dict(state, a=1, b=2), rec, catalog)
    path = next(op for op in r["ops"] if op["trace"] == figures.overlay_index(view, "path"))
    assert len(path["props"]["x"]) == state["steps"]
    assert render.render_map(dict(state, map="pixel-pca-2d"), rec, catalog)["kind"] == "full"


@pytest.mark.parametrize("colour", ["recon", "pres", "dim0", "dim15"])
def test_continuous_colourings(catalog, state, colour):
    fig = render.render_map(dict(state, colour=colour), None, catalog)["figure"]
    m = fig["data"][0]["marker"]
    assert m["cmax"] > m["cmin"] and m["showscale"] is True and "colorbar" in m
    assert len(decode_b64(m["color"])) == len(fig["data"][0]["customdata"])


def test_map_rejects_unknown_map_and_model(catalog, state):
    with pytest.raises(Reject):
        render.render_map(dict(state, map="latent-tsne-2d"), None, catalog)
    with pytest.raises(Reject):
        render.render_map(dict(state, model="nope"), None, catalog)


# ------------------------------------------------------------------------------- render: panels
def test_inspector(catalog, state):
    view = catalog.get(state["model"])
    r = render.render_inspector(dict(state, sel=21), catalog)
    assert r["i"] == 21 and r["label"] == view.explorer.label_name(21)
    orig, recon = png(r["orig"]), png(r["recon"])
    assert orig.shape == recon.shape == (28, 28)
    np.testing.assert_array_equal(orig, view.explorer.thumbnail(21)[0])
    assert len(r["neighbours"]) == handlers.N_NEIGHBOURS
    assert 21 not in [n["i"] for n in r["neighbours"]]
    assert r["neighbours"][0]["src"] == f"/thumb/{view.name}/{r['neighbours'][0]['i']}.png"
    svg = base64.b64decode(r["bar"].split(",", 1)[1]).decode()
    assert r["bar"].startswith("data:image/svg+xml;base64,") and svg.count("<rect") == view.d + 1
    assert render.render_inspector(dict(state, sel=None), catalog) == {"i": None}
    for bad in (10**6, -1, "x", 2.5):
        with pytest.raises(Reject):
            render.render_inspector(dict(state, sel=bad), catalog)


def test_sliders_spec(catalog, state):
    r = render.render_sliders(state, catalog)
    assert len(r["axes"]) == 16 and r["key"] == "pca-16|dims"
    for a in r["axes"]:
        assert a["min"] <= a["value"] <= a["max"] and a["step"] > 0
    assert len(render.render_sliders(dict(state, basis="pcs"), catalog)["axes"]) == 16
    s2 = applied(reduce(state, "model", "pca-2", catalog))
    assert len(render.render_sliders(s2, catalog)["axes"]) == 2


def test_live_decode(catalog, state):
    view = catalog.get(state["model"])
    vals = handlers.slider_positions(state, catalog)
    r0 = render.live_decode(vals, state, catalog)
    recon = png(render.render_inspector(state, catalog)["recon"]).astype(int)
    assert np.abs(png(r0["src"]).astype(int) - recon).max() <= 2  # slider positions are rounded
    moved = list(vals)
    moved[0] = float(view.sliders["dims"].hi[0])
    r1 = render.live_decode(moved, state, catalog)
    assert r1["src"] != r0["src"]
    assert r1["ops"][0]["trace"] == figures.overlay_index(view, "current")
    assert r1["ops"][0]["props"]["x"] != r0["ops"][0]["props"]["x"]


@pytest.mark.parametrize("bad", [[], [0.0] * 15, [float("nan")] * 16, [float("-inf")] * 16, ["1"] * 16, None, {"0": 1}])
def test_live_decode_rejects_bad_values(catalog, state, bad):
    with pytest.raises(Reject):
        render.live_decode(bad, state, catalog)


def test_live_decode_rejects_bad_state(catalog, state):
    vals = handlers.slider_positions(state, catalog)
    with pytest.raises(Reject):
        render.live_decode(vals, dict(state, z=[0.0] * 3), catalog)
    with pytest.raises(Reject):
        render.live_decode(vals, dict(state, basis="zzz"), catalog)
    with pytest.raises(Reject):
        render.live_decode(vals, dict(state, model="nope"), catalog)


def test_interpolation(catalog, state):
    view = catalog.get(state["model"])
    r = render.render_interp(dict(state, a=3, b=30, steps=6, mode="spherical"), catalog)
    assert len(r["steps"]) == len(r["blend"]) == 6
    first = view.explorer.decode(view.explorer.latents[3])[0, 0]
    assert np.abs(png(r["steps"][0]).astype(int) - np.rint(first * 255)).max() <= 1
    np.testing.assert_array_equal(png(r["blend"][0]), view.explorer.thumbnail(3)[0])
    np.testing.assert_array_equal(png(r["blend"][-1]), view.explorer.thumbnail(30)[0])
    assert r["a"]["i"] == 3 and r["b"]["label"] == view.explorer.label_name(30)
    half = render.render_interp(dict(state, a=3, b=None), catalog)
    assert half["steps"] == [] and half["b"] is None
    with pytest.raises(Reject):
        render.render_interp(dict(state, a=10**7, b=1), catalog)


def test_catalog_maps(catalog):
    v16, v2 = catalog.get("pca-16"), catalog.get("pca-2")
    assert v16.resolve_map("pixel", "tsne", 3) == "pixel-pca-3d"
    assert v2.resolve_map("latent", "pca", 3) == "latent-raw-2d"
    assert v16.resolve_map(None, None, "x") in v16.map_names
    assert v16.point_from_trace(0, 10**6) is None
    assert catalog.shared_index
