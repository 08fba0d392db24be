"""Fit diagnosis, semantic region labels and topology in the page (ui/analysis.py,
ui/analysis_card.py): render handlers and the toggle directly, then through Dash's HTTP protocol
(Flask's test client). Real models and atlases (the two PCA test models on 2,000 images;
tests/conftest.py), no mocks."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from latentdash.atlas import fit as fitmod
from latentdash.atlas.extras import QUICK_PARTS, compute_extras
from latentdash.ui import analysis, events, figures, ids, render, urlstate
from latentdash.ui.handlers import NO_CHANGE, Env, Reject
from tests.dashclient import REDUCER, DashClient, stores_of

MAP2, MAP3 = "latent-pca-2d", "latent-pca-3d"


@pytest.fixture(scope="module")
def split_explorer(explorers):
    """The 16-D test model on the same 2,000 images, the dataset's first 1,000 rows declared the
    train split (real extras: plausibility and fit computed from the atlas)."""
    from latentdash.service import Explorer

    ex = explorers[0]
    extras = compute_extras(ex.atlas, QUICK_PARTS, n_train=1000, trained=True)
    return Explorer(ex.model, ex.atlas, "pca-16-split", extras=extras)


@pytest.fixture(scope="module")
def split_catalog(split_explorer):
    from latentdash.ui.catalog import Catalog

    return Catalog([split_explorer])


def state_of(catalog, **kw):
    return {**urlstate.default_state(catalog), **kw}


def unb64(spec) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), "<" + spec["dtype"])


# ----------------------------------------------------------------------------- fit
def test_reading_and_gap_from_known_fit_numbers():
    rng = np.random.default_rng(0)
    train = rng.uniform(0.9, 1.1, 600) * 0.010
    test = rng.uniform(0.9, 1.1, 400) * 0.013
    test *= 0.013 / test.mean()
    train *= 0.010 / train.mean()  # means exactly 0.010 and 0.013: gap 1.30
    split = np.r_[np.zeros(600, np.int8), np.ones(400, np.int8)]
    fit = fitmod.fit_diagnosis(np.r_[train, test], split, trained_on_split=True)
    assert analysis.gap_text(fit) == "test / train mean error = 1.30"
    assert fit["reading"] == "test error 1.30x train: mild overfitting"
    fig = analysis.fit_figure(fit)
    tr, te = fig["data"]
    assert (tr["xaxis"], te["xaxis"]) == ("x", "x2")  # side by side
    assert fig["layout"]["xaxis"]["domain"][1] < fig["layout"]["xaxis2"]["domain"][0]
    # each step line is its split's histogram as fractions (each level drawn twice, hv steps)
    for trace, counts in ((tr, fit["hist"]["train"]), (te, fit["hist"]["test"])):
        levels = np.asarray(trace["y"][1:-1:2])
        assert np.allclose(levels, np.asarray(counts) / sum(counts))
    # the test split sits to the right: its weighted mean bin centre is larger
    centres = np.asarray(analysis._centres(fit["bins"]))
    mean_of = lambda c: float((centres * np.asarray(c)).sum() / sum(c))  # noqa: E731
    assert mean_of(fit["hist"]["test"]) > mean_of(fit["hist"]["train"]) * 1.2


def test_ordinals():
    got = [analysis.ordinal(p) for p in (1, 2, 3, 4, 11, 12, 13, 21, 22, 83.2, 99.6, 100, 111)]
    assert got == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "83rd",
        "100th",
        "100th",
        "111th",
    ]


def test_one_split_marks_the_selected_points_error(catalog):
    view = catalog.get("pca-16")
    err = np.asarray(view.explorer.recon_error, np.float64)
    i = int(np.argsort(err)[int(0.83 * len(err))])  # a point near the 83rd percentile
    r = analysis.render_fit(state_of(catalog, sel=i), catalog)
    assert r["available"] and r["gap"] is None and "no train split" in r["reading"]
    expected = 100.0 * (err <= err[i]).mean()
    assert r["point"]["percentile"] == pytest.approx(expected)
    assert r["point"]["text"].endswith(f"is at the {analysis.ordinal(expected)} percentile")
    assert "83rd" in r["point"]["text"] or "84th" in r["point"]["text"]
    hist, line = r["figure"]["data"]
    assert line["x"] == [pytest.approx(err[i])] * 2 and line["name"] == "this point"
    assert sum(hist["y"][1:-1:2]) == pytest.approx(1.0)
    assert analysis.render_fit(state_of(catalog, sel=None), catalog)["point"] is None


def test_split_explorer_gap_is_test_over_train_mean(split_catalog, split_explorer):
    err = np.asarray(split_explorer.recon_error, np.float64)
    split = split_explorer.split()
    rows = split_explorer.atlas.index if split_explorer.atlas.index is not None else np.arange(len(err))
    assert np.array_equal(split, (np.asarray(rows) >= 1000).astype(np.int8))  # 2,000 of the 10k images
    i = int(np.flatnonzero(split == 1)[0])
    r = analysis.render_fit(state_of(split_catalog, sel=i), split_catalog)
    gap = err[split == 1].mean() / err[split == 0].mean()
    assert r["gap"] == f"test / train mean error = {gap:.2f}"
    assert r["reading"].startswith(f"test error {gap:.2f}x train: {fitmod.band(gap)}")
    assert r["point"]["split"] == 1 and r["figure"]["data"][-1]["xaxis"] == "x2"  # the line in the test panel
    n0, n1 = int((split == 0).sum()), int((split == 1).sum())
    assert f"train: {n0} images" in r["summary"] and f"test: {n1}," in r["summary"]


def test_colour_by_split(split_catalog, split_explorer, catalog):
    view = split_catalog.get("pca-16-split")
    assert "split" in view.colour_options and "split" not in catalog.get("pca-16").colour_options
    assert view.colour_label("split") == "train / test split"
    specs = figures.marker_specs(view, "split", MAP2, 2)
    split = split_explorer.split()
    for t, idx in enumerate(view.trace_idx):
        assert np.array_equal(unb64(specs[t]["color"]), split[idx].astype(np.float32))
        assert (specs[t]["cmin"], specs[t]["cmax"]) == (0.0, 1.0)
    assert specs[0]["colorbar"]["ticktext"] == ["train", "test"]
    # chosen through the reducer like any colouring; a model without a split refuses it
    st = state_of(split_catalog)
    res = events.reduce(st, "colour", "split", split_catalog)
    assert res["state"]["colour"] == "split" and "color=split" in urlstate.serialize(res["state"], split_catalog)
    assert "unknown colouring" in events.reduce(state_of(catalog), "colour", "split", catalog)["message"]


# ----------------------------------------------------------------------------- region labels
def test_region_annotations_name_each_clusters_majority(catalog):
    view = catalog.get("pca-16")
    ex = view.explorer
    lab = ex.region_labels(MAP2)
    anns = analysis.region_annotations(view, MAP2)
    n = int(lab.max()) + 1
    assert n >= 2 and len(anns) == n == ex.regions(MAP2)["n_clusters"]
    coords = ex.coords(MAP2)
    for a in anns:
        c = int(a["name"].split()[-1])
        members = np.flatnonzero(lab == c)
        counts = np.bincount(np.asarray(ex.labels)[members])
        name, purity = ex.class_name(int(counts.argmax())), counts.max() / len(members)
        assert a["text"] == f"{name} {purity:.0%}"
        # drawn at one of its own members (the medoid), on the map's axes
        assert (a["xref"], a["yref"], a["showarrow"]) == ("x", "y", False)
        d = np.hypot(coords[members, 0] - a["x"], coords[members, 1] - a["y"]).min()
        assert d < 1e-4
    assert analysis.region_annotations(view, MAP3) == []  # 3-D: none (the card says why)


def test_toggle_handler_and_link():
    st = {"rlabels": False}
    env = Env(None, None)
    assert analysis.on_region_labels(st, ["on"], env) is None and st["rlabels"] is True
    assert analysis.on_region_labels(st, ["on"], env) is NO_CHANGE
    assert analysis.on_region_labels(st, [], env) is None and st["rlabels"] is False
    with pytest.raises(Reject):
        analysis.on_region_labels(st, "on", env)


def test_link_carries_the_toggle(catalog):
    st, problems = urlstate.parse("?regions=1", catalog)
    assert st["rlabels"] is True and not problems
    assert "regions=1" in urlstate.serialize(st, catalog)
    assert "regions" not in urlstate.serialize(dict(st, rlabels=False), catalog)
    st, problems = urlstate.parse("?regions=yes", catalog)
    assert st["rlabels"] is False and problems


def test_map_patch_adds_and_removes_the_labels(catalog):
    st = state_of(catalog, map=MAP2)
    full = render.render_map(st, None, catalog)
    assert full["kind"] == "full" and full["figure"]["layout"]["annotations"] == []
    on = render.render_map(dict(st, rlabels=True), full["rendered"], catalog)
    assert on["kind"] == "patch"
    (op,) = [o for o in on["ops"] if "layout" in o and "annotations" in o["layout"]]
    n = catalog.get("pca-16").explorer.regions(MAP2)["n_clusters"]
    assert len(op["layout"]["annotations"]) == n
    assert not any("trace" in o for o in on["ops"])  # no points resent
    off = render.render_map(dict(st, rlabels=False), on["rendered"], catalog)
    assert [o["layout"]["annotations"] for o in off["ops"] if "layout" in o] == [[]]
    # a full redraw with the toggle on has them too; and the attribute arrow keeps them
    full_on = render.render_map(dict(st, rlabels=True, rev=5), None, catalog)
    assert len(full_on["figure"]["layout"]["annotations"]) == n
    arrow = render.render_map(dict(st, rlabels=True, rev=5, dir="c0>c1"), full_on["rendered"], catalog)
    last = [o for o in arrow["ops"] if "layout" in o][-1]["layout"]["annotations"]
    assert len(last) == n + 1 and last[0]["showarrow"] is True


def test_regions_section(catalog):
    r = analysis.render_regions(state_of(catalog, map=MAP2, rlabels=True), catalog)
    reg = catalog.get("pca-16").explorer.regions(MAP2)
    assert r["ok"] and len(r["items"]) == reg["n_clusters"] and r["short"] == f"{reg['n_clusters']} regions"
    assert f"{reg['n_clusters']} regions on this map (HDBSCAN leaf" in r["note"]
    r3 = analysis.render_regions(state_of(catalog, map=MAP3, rlabels=True), catalog)
    assert not r3["ok"] and "2-D maps only" in r3["note"] and r3["short"] == "2-D maps only"


def test_unlabelled_regions_are_numbered_with_medoid_thumbnails(generator_explorer):
    """A generator's atlas (prior samples, no labels): "cluster k" on the map, and the card shows
    each region's medoid image."""
    from latentdash import imaging
    from latentdash.ui.catalog import Catalog

    cat = Catalog([generator_explorer])
    view = cat.get("rgb-gen")
    m = next(n for n in view.map_names if n.endswith("-2d"))
    reg = generator_explorer.regions(m)
    assert reg["n_clusters"] >= 1
    assert [a["text"] for a in analysis.region_annotations(view, m)] == [f"cluster {c['id']}" for c in reg["clusters"]]
    r = analysis.render_regions(state_of(cat, map=m), cat)
    for item, c in zip(r["items"], reg["clusters"]):
        assert item["src"] == imaging.png_data_uri(generator_explorer.thumbnail(c["medoid"]))
    assert "mean purity" not in r["note"]


# ----------------------------------------------------------------------------- topology
def test_topology_panel_counts_match_the_diagrams(catalog):
    r = analysis.render_topology({"model": "pca-16"}, catalog)
    t = catalog.get("pca-16").explorer.topology()
    assert r["ok"] and r["reading"] == t["reading"]
    by = {tr["name"]: tr for tr in r["h0"]["data"]}
    # every H0 bar drawn once; the long-lived ones plus the essential one are the components
    assert len(by["H0 short-lived"]["x"]) + len(by["H0 long-lived"]["x"]) + len(
        by["H0 essential (never dies)"]["x"]
    ) == len(t["h0"])
    assert len(by["H0 long-lived"]["x"]) + len(by["H0 essential (never dies)"]["x"]) == r["components"]
    h1 = {tr["name"]: tr for tr in r["h1"]["data"]}
    assert len(h1["H1 long-lived"]["x"]) == r["loops"] == t["loops"]
    assert r["counts"].startswith(f"H0: {t['components']} long-lived component")
    assert f"{t['params']['landmarks_used']} landmarks" in r["params"] and "euclidean" in r["params"]
    # long-lived points lie above the dotted band edge, short-lived below
    thr = t["threshold"]
    for tr in (by["H0 long-lived"], h1["H1 long-lived"]):
        assert all(d - b > thr for b, d in zip(tr["x"], tr["y"]))


def test_topology_of_two_blobs_and_a_circle():
    """The diagrams and counts the panel shows, on data with a known shape."""
    from latentdash.atlas.topology import persistence

    rng = np.random.default_rng(0)
    blobs = np.r_[rng.normal(0, 0.3, (300, 4)), rng.normal(0, 0.3, (300, 4)) + 10]
    ang = rng.uniform(0, 2 * np.pi, 400)
    circle = np.c_[np.cos(ang), np.sin(ang)] * 5 + rng.normal(0, 0.05, (400, 2))
    for x, comps, loops in ((blobs, 2, 0), (circle, 1, 1)):
        s = persistence(x, n_landmarks=200)["summary"]
        assert (s["components"], s["loops"]) == (comps, loops)


# ----------------------------------------------------------------------------- through HTTP
@pytest.fixture(scope="module")
def split_dc(split_explorer):
    from latentdash.server.app_factory import create_app

    return DashClient(create_app(explorers=[split_explorer]).server.test_client())


def test_link_with_regions_gives_annotations(dc):
    status, data = dc.call(REDUCER, {"url.search": f"?map={MAP2}&regions=1"}, [])
    r = data["response"]
    assert status == 200 and r[ids.ST_MAP]["data"]["rlabels"] is True and r[ids.REGION_ON]["value"] == ["on"]
    st = urlstate.merge(*(r[sid]["data"] for sid in ids.STORE_OF.values()))
    p = urlstate.split(st)
    status, data = dc.call(
        "map.figure",
        {
            **{f"{ids.STORE_OF[k]}.data": p[k] for k in ("map", "sel", "interp", "z", "cam", "selection")},
            "st-rendered.data": None,
        },
        ["st-map.data"],
    )
    anns = data["response"]["map"]["figure"]["layout"]["annotations"]
    assert status == 200 and len(anns) >= 2 and all(a["name"].startswith("region ") for a in anns)
    # the toggle through the reducer: off again, as a user would click it
    values = {**stores_of(st), f"{ids.REGION_ON}.value": [], "click-mode.value": "inspect"}
    status, data = dc.call(REDUCER, values, [f"{ids.REGION_ON}.value"])
    assert data["response"][ids.ST_MAP]["data"]["rlabels"] is False
    assert "regions=" not in data["response"][ids.URL]["search"]


def test_analysis_callbacks_over_http(dc, initial):
    p = urlstate.split(initial)
    status, data = dc.call(
        f"{ids.FIT_GRAPH}.figure", {f"{ids.ST_SEL}.data": p["sel"], f"{ids.ST_DRAWN}.data": True}, ["st-sel.data"]
    )
    r = data["response"]
    assert status == 200 and r[ids.FIT_GRAPH]["figure"]["data"][-1]["name"] == "this point"
    assert "percentile" in json.dumps(r[ids.FIT_TEXT]["children"])
    # a bad selection: the card stays as it was and the message line says why (no 500)
    bad = dict(p["sel"], sel=99999)
    status, data = dc.call(
        f"{ids.FIT_GRAPH}.figure", {f"{ids.ST_SEL}.data": bad, f"{ids.ST_DRAWN}.data": True}, ["st-sel.data"]
    )
    assert status == 200 and data["response"] == {}
    assert data["sideUpdate"][ids.MSG]["children"].startswith("Could not show the fit diagnosis:")
    # topology: drawn once per model
    values = {f"{ids.ST_MAP}.data": p["map"], f"{ids.ST_DRAWN}.data": True, f"{ids.ST_TOPOKEY}.data": None}
    status, data = dc.call(f"{ids.TOPO_H0}.figure", values, ["st-map.data"])
    r = data["response"]
    assert status == 200 and r[ids.ST_TOPOKEY]["data"] == p["map"]["model"] and r[ids.TOPO_DIAGRAMS]["hidden"] is False
    assert {t["name"] for t in r[ids.TOPO_H1]["figure"]["data"]} >= {"H1 long-lived", "diagonal"}
    values[f"{ids.ST_TOPOKEY}.data"] = p["map"]["model"]
    assert dc.call(f"{ids.TOPO_H0}.figure", values, ["st-map.data"])[0] == 204
    # an unknown model: a message, not a 500
    values = {f"{ids.ST_MAP}.data": dict(p["map"], model="nope"), f"{ids.ST_DRAWN}.data": True}
    status, data = dc.call(f"{ids.REGION_NOTE}.children", values, ["st-map.data"])
    assert status == 200 and "unknown model" in data["sideUpdate"][ids.MSG]["children"]


def test_split_model_over_http(split_dc):
    status, data = split_dc.call(REDUCER, {"url.search": "?color=split"}, [])
    r = data["response"]
    assert status == 200 and r[ids.ST_MAP]["data"]["colour"] == "split"
    assert {"label": "train / test split", "value": "split"} in r[ids.COLOUR]["options"]
    p = {k: r[ids.STORE_OF[k]]["data"] for k in ("sel",)}
    status, data = split_dc.call(
        f"{ids.FIT_GRAPH}.figure", {f"{ids.ST_SEL}.data": p["sel"], f"{ids.ST_DRAWN}.data": True}, ["st-sel.data"]
    )
    text = json.dumps(data["response"][ids.FIT_TEXT]["children"])
    assert "Generalisation gap" in text and "test / train mean error" in text
    # its extras have no topology: the panel says so and hides the diagrams
    values = {f"{ids.ST_MAP}.data": r[ids.ST_MAP]["data"], f"{ids.ST_DRAWN}.data": True, f"{ids.ST_TOPOKEY}.data": None}
    status, data = split_dc.call(f"{ids.TOPO_H0}.figure", values, ["st-map.data"])
    r = data["response"]
    assert status == 200 and r[ids.TOPO_DIAGRAMS]["hidden"] is True
    assert "was not computed; run `latentdash precompute`" in json.dumps(r[ids.TOPO_TEXT]["children"])
