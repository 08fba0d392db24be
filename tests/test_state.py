"""The state schema (schema.py, urlstate.py) and the event registry (events.py), tested directly:
the selection key added through them, the wiring helpers the reducer callback uses, and the page
speaking a generator's language. Real models and atlases (conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from latentdash.ui import events, ids, render, schema, urlstate
from latentdash.ui.catalog import Catalog
from latentdash.ui.events import reduce
from latentdash.ui.handlers import NO_CHANGE, Env, on_relayout, on_select, on_sliders, view_of


@pytest.fixture()
def state(catalog):
    return urlstate.default_state(catalog)


def lasso(view, indices, overlay=False):
    pts = [
        {"curveNumber": int(view.trace_of[i]), "pointNumber": int(view.pos_in_trace[i]), "customdata": int(i)}
        for i in indices
    ]
    if overlay:  # a marker of an overlay trace (A, B, the path) caught in the lasso
        pts.append({"curveNumber": len(view.trace_idx) + 1, "pointNumber": 0})
    return {"points": pts, "lassoPoints": {"x": [0, 1, 1], "y": [0, 0, 1]}}


# ------------------------------------------------------------------------------- the schema
def test_every_key_has_one_field_and_every_store_is_declared():
    assert [f.key for f in schema.SCHEMA] == list(schema.FIELDS)
    assert set(urlstate.split({}).keys()) == set(schema.STORE_NAMES) == set(ids.STORE_OF)
    for f in schema.SCHEMA:
        if f.param is not None and f.key != "model":
            assert f.encode is not None and f.decode is not None, f.key


@pytest.mark.parametrize("indices,text", [([0, 1, 2, 5, 7, 8], "0-2,5,7-8"), ([3], "3"), ([9, 2, 2, 3], "2-3,9")])
def test_index_ranges_roundtrip(indices, text):
    assert schema.index_ranges(indices) == text
    assert schema.parse_index_ranges(text, 10) == sorted(set(indices))


@pytest.mark.parametrize("bad", ["", "5-2", "-1", "0-10", "a", "1,,2", "1-2-3", "3.5"])
def test_bad_index_ranges_are_refused(bad):
    with pytest.raises(ValueError):
        schema.parse_index_ranges(bad, 10)


def test_selection_rides_in_the_url_and_survives_a_reload(catalog, state):
    s = dict(state, selection=[4, 5, 6, 100, 1999])
    q = urlstate.serialize(s, catalog)
    assert "selection=4-6,100,1999" in q
    back, problems = urlstate.parse(q, catalog)
    assert problems == [] and back["selection"] == [4, 5, 6, 100, 1999]
    assert urlstate.parse("?selection=0-99999", catalog) == (urlstate.default_state(catalog), ["selection"])


def test_a_selection_too_large_for_the_link_is_kept_by_the_browser_and_says_so(catalog, state):
    every_other = list(range(0, 2000, 2))  # 1000 ranges: longer than the link allows
    s = dict(state, selection=every_other)
    q = urlstate.serialize(s, catalog)
    assert "selection=~" in q and "0,2,4" not in q  # the link says: kept in the browser
    # a reload in the same browser restores it from local storage ...
    kept = urlstate.split(s)["selection"]
    back, problems = urlstate.parse(q, catalog, kept)
    assert problems == [] and back["selection"] == every_other
    # ... another browser (nothing stored) falls back to no selection and says why
    back, problems = urlstate.parse(q, catalog)
    assert back["selection"] is None and problems and problems[0].startswith("selection (too large")
    # a tampered local copy is refused like a tampered link
    back, problems = urlstate.parse(q, catalog, dict(kept, selection=[-5, "x"]))
    assert back["selection"] is None and problems
    assert "too large for the link" in render.render_selection(s, catalog)["note"]
    assert "too large" not in render.render_selection(dict(state, selection=[1, 2]), catalog)["note"]


# ------------------------------------------------------------------------------- the selection event
def test_lasso_selects_the_points_and_ignores_overlays(catalog, state):
    view = catalog.get(state["model"])
    res = reduce(state, "select", lasso(view, [7, 3, 1500], overlay=True), catalog)
    assert res["state"]["selection"] == [3, 7, 1500] and res["url"] == "push" and res["sliders"] is None
    assert res["state"]["sel"] == state["sel"] and res["state"]["z"] == state["z"]  # nothing else moves
    again = reduce(res["state"], "select", lasso(view, [1500, 3, 7]), catalog)
    assert again == {"state": None, "url": None, "sliders": None, "message": None}  # no change
    cleared = reduce(res["state"], "select", None, catalog)["state"]  # double click
    assert cleared["selection"] is None
    assert reduce(res["state"], "clear_selection", 1, catalog)["state"]["selection"] is None


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        {"points": "all"},
        {"points": [{"customdata": 10**6}]},
        {"points": [{"customdata": "abc"}]},
        {"points": [None]},
    ],
)
def test_bad_selections_leave_the_state(catalog, state, bad):
    res = reduce(state, "select", bad, catalog)
    assert res["state"] is None and res["message"]


def test_selection_note_counts_classes(catalog, state):
    view = catalog.get(state["model"])
    trousers = [int(i) for i in view.trace_idx[1][:5]]
    r = render.render_selection(dict(state, selection=trousers + [int(view.trace_idx[0][0])]), catalog)
    assert r["count"] == 6 and r["note"].startswith("6 images selected: Trouser 5, T-shirt/top 1")


def test_selection_is_drawn_on_the_map_and_cleared(catalog, state):
    view = catalog.get(state["model"])
    chosen = [int(view.trace_idx[2][4]), int(view.trace_idx[2][9])]
    first = render.render_map(dict(state, selection=chosen), None, catalog)
    data = first["figure"]["data"]
    assert data[2]["selectedpoints"] == [4, 9] and data[0]["selectedpoints"] == []
    patch = render.render_map(state, first["rendered"], catalog)  # cleared
    assert patch["kind"] == "patch"
    ops = {op["trace"]: op["props"] for op in patch["ops"] if "trace" in op}
    assert ops[2] == {"selectedpoints": None} and {"layout": {"selections": []}} in patch["ops"]


def test_model_switch_keeps_the_selection_when_the_images_are_shared(catalog, state):
    s = dict(state, selection=[1, 2, 3])
    assert catalog.shared_index
    assert reduce(s, "model", "pca-2", catalog)["state"]["selection"] == [1, 2, 3]


# ------------------------------------------------------------------------------- NoChange
def test_no_change_is_a_value_not_an_error(catalog, state):
    env = Env(catalog, view_of(catalog, state))
    s = dict(state)
    assert (
        on_sliders(s, [float(v) for v in view_of(catalog, s).sliders["dims"].values_of(np.asarray(s["z"]))], env)
        is NO_CHANGE
    )
    assert on_relayout(s, {"autosize": True}, env) is NO_CHANGE
    assert on_select(dict(s, selection=None), None, env) is NO_CHANGE
    assert s == state


# ------------------------------------------------------------------------------- the registry
def test_every_event_has_a_handler_and_distinct_sources():
    names = [e.name for e in events.EVENTS]
    assert len(names) == len(set(names))
    for e in events.EVENTS:
        assert callable(e.handler) and e.history in ("push", "replace") and e.sources
    assert events.BY_NAME["relayout"].history == "replace"
    assert {e.name for e in events.EVENTS if e.resync_sliders} == {
        "model",
        "basis",
        "click",
        "nbr",
        "reset",
        "random",
        "step",
        # latent algebra: each of these loads a vector into the sliders
        "gallery",
        "attr_apply",
        "attr_strip",
        "arith_load",
        "trav_cell",
        "prior_cell",
        # your image: "Load into sliders" and a click on one of its neighbours
        "upload_load",
        "upload_nbr",
        # decode anywhere: the clicked position's vector goes into the sliders
        "anywhere",
    }


def test_resolve_reads_each_kind_of_trigger():
    slider_key = events.Source(ids.SLIDER, "value", pattern=True).key
    inputs = {
        slider_key: [0.1, 0.2],
        events.Source(ids.SPACE, "value").key: "pixel",
        events.Source(ids.METHOD, "value").key: "pca",
        events.Source(ids.DIMS, "value").key: 3,
        events.URL_SOURCE.key: "?sel=4",
    }
    assert events.resolve(None, "", None, inputs) == ("url", "?sel=4")
    assert events.resolve({"type": ids.SLIDER, "index": 1}, "value", 0.2, inputs) == ("sliders", [0.1, 0.2])
    assert events.resolve({"type": ids.NBR, "index": 77}, "n_clicks", 1, inputs) == ("nbr", 77)
    assert events.resolve({"type": ids.NBR, "index": 77}, "n_clicks", None, inputs) == (None, None)
    assert events.resolve(ids.DIMS, "value", 3, inputs) == ("map", {"space": "pixel", "method": "pca", "dims": 3})
    assert events.resolve(ids.BTN_RANDOM, "n_clicks", 2, inputs) == ("random", None)
    assert events.resolve(ids.BTN_SWAP, "n_clicks", 0, inputs) == (None, None)
    assert events.resolve(ids.GRAPH3, "clickData", {"points": []}, inputs) == ("click", {"points": []})
    assert events.resolve(ids.GRAPH, "hoverData", {}, inputs) == (None, None)


def test_only_the_graph_on_show_speaks_for_the_map():
    two, three = {"map": "latent-pca-2d"}, {"map": "latent-pca-3d"}
    assert events.from_hidden_graph("click", ids.GRAPH3, two)
    assert not events.from_hidden_graph("click", ids.GRAPH, two)
    assert events.from_hidden_graph("relayout", ids.GRAPH, three)
    assert not events.from_hidden_graph("model", ids.MODEL, two)
    assert not events.from_hidden_graph("click", ids.GRAPH3, None)  # the page's first event


def test_store_updates_send_only_what_changed(catalog, state):
    new = dict(state, sel=9, z=schema.latent_of(catalog.get(state["model"]), 9))
    up = events.store_updates(state, new)
    assert up["sel"] == {"model": state["model"], "sel": 9} and up["z"]["z"] == new["z"]
    assert up["map"] is None and up["interp"] is None and up["cam"] is None and up["selection"] is None
    assert all(v is not None for v in events.store_updates(None, state).values())


def test_click_mode_cycles_a_then_b_then_inspect():
    assert events.click_mode_after("click", "a") == "b"
    assert events.click_mode_after("click", "b") == "inspect"
    assert events.click_mode_after("click", "inspect") is None
    assert events.click_mode_after("nbr", "a") is None


def test_control_values_follow_the_state(catalog, state):
    view = catalog.get(state["model"])
    vals = events.control_values(dict(state, map="pixel-pca-3d", steps=12), view)
    assert vals[ids.SPACE] == "pixel" and vals[ids.METHOD] == "pca" and vals[ids.DIMS] == 3
    assert vals[ids.STEPS] == 12 and vals[ids.MODEL] == state["model"]


# ------------------------------------------------------------------------------- a generator
@pytest.fixture(scope="module")
def generator_catalog(generator_explorer):
    return Catalog([generator_explorer])


def test_a_generator_is_shown_as_one(generator_catalog):
    view = generator_catalog.get("rgb-gen")
    assert not view.has_encoder and "recon" not in view.colour_options
    s = urlstate.default_state(generator_catalog)
    assert s["colour"] == "pres"  # no labels, no reconstruction error: the first real colouring
    r = render.render_inspector(s, generator_catalog)
    assert r["captions"] == ("sample", "decoded") and r["error"] is None
    assert render.inspector_captions(view) == ("sample", "decoded")
    assert reduce(s, "colour", "recon", generator_catalog)["state"] is None


def test_slider_steps_are_round_numbers(catalog, state):
    for a in render.render_sliders(state, catalog)["axes"]:
        assert a["step"] in {m * 10.0**e for m in (1, 2, 5) for e in range(-4, 3)}
        assert (a["max"] - a["min"]) / a["step"] <= 400
