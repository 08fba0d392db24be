"""Latent algebra through Dash's HTTP protocol (Flask's test client; what the page posts): the
reducer, the panels' render callbacks, the strength drag, and bad or tampered requests answered
with a message (never a 500)."""

from __future__ import annotations

from latentdash.ui import ids, urlstate
from tests.dashclient import REDUCER, stores_of

# fixtures app, dc (Flask's test client on the two PCA test models) and initial: tests/conftest.py


def reduce_http(dc, state, values, changed, pattern=None):
    status, data = dc.call(REDUCER, {**stores_of(state), "click-mode.value": "inspect", **values}, changed, pattern)
    assert status in (200, 204), status
    return data["response"] if data else None


def new_state(state, response):
    parts = [response[sid]["data"] for sid in ids.STORE_OF.values() if sid in response]
    return urlstate.merge(state, *parts)


def test_a_preset_sets_the_direction_and_the_attribute_card_draws_it(dc, initial, catalog):
    view = catalog.get(initial["model"])
    spec = "c7>c9"
    r = reduce_http(
        dc, initial, {"attr-preset.n_clicks": [1]}, ['{"index":"c7>c9","type":"attr-preset"}.n_clicks'],
        {ids.ATTR_PRESET: [spec]},
    )  # fmt: skip
    assert r[ids.ST_ATTR]["data"]["dir"] == spec and "dir=c7%3Ec9" in r[ids.URL]["search"]
    assert r[ids.ATTR_FROM]["value"] == "c7" and r[ids.ATTR_TO]["value"] == "c9"  # the controls follow
    s = new_state(initial, r)
    status, data = dc.call(
        f"{ids.ATTR_PRESETS}.children",
        {f"{ids.ST_ATTR}.data": s_part(s, "attr"), f"{ids.ST_Z}.data": s_part(s, "z"),
         f"{ids.ST_SELECTION}.data": s_part(s, "selection")},
        [f"{ids.ST_ATTR}.data"],
    )  # fmt: skip
    assert status == 200
    out = data["response"]
    assert out[ids.ATTR_EDIT]["src"].startswith("data:image/png") and out[ids.BTN_ATTR_APPLY]["disabled"] is False
    vec = out[ids.ST_ATTRVEC]["data"]
    assert vec["model"] == view.name and len(vec["v"]) == view.d
    # the strength drag: the drag callback with kind "strength" answers the edited image
    status, data = dc.call(
        f"{ids.ST_DRAGOUT}.data",
        {f"{ids.ST_DRAG}.data": {"values": [1.0], "kind": "strength"}, f"{ids.ST_MAP}.data": s_part(s, "map"),
         f"{ids.ST_Z}.data": s_part(s, "z"), f"{ids.ST_RENDERED}.data": None, f"{ids.ST_ATTRVEC}.data": vec},
        [f"{ids.ST_DRAG}.data"],
    )  # fmt: skip
    frame = data["response"][ids.ST_DRAGOUT]["data"]
    assert status == 200 and frame["kind"] == "strength" and frame["src"] == out[ids.ATTR_EDIT]["src"]
    # a NaN strength or a tampered vector: a message, not a 500
    for drag, attrvec in (
        ({"values": [float("nan")], "kind": "strength"}, vec),
        ({"values": [1.0], "kind": "strength"}, {"model": view.name, "v": [1.0, 2.0]}),
        ({"values": [1.0], "kind": "strength"}, None),
    ):
        status, data = dc.call(
            f"{ids.ST_DRAGOUT}.data",
            {f"{ids.ST_DRAG}.data": drag, f"{ids.ST_MAP}.data": s_part(s, "map"), f"{ids.ST_Z}.data": s_part(s, "z"),
             f"{ids.ST_RENDERED}.data": None, f"{ids.ST_ATTRVEC}.data": attrvec},
            [f"{ids.ST_DRAG}.data"],
        )  # fmt: skip
        assert status == 200 and data["response"][ids.ST_DRAGOUT]["data"]["error"].startswith("Could not decode")


def s_part(state, store):
    return urlstate.split(state)[store]


def test_a_lasso_fills_the_gallery_and_a_gallery_click_inspects(dc, initial, catalog):
    r = reduce_http(dc, initial, {f"{ids.ST_LASSO}.data": {"idx": list(range(100, 180))}}, [f"{ids.ST_LASSO}.data"])
    s = new_state(initial, r)
    status, data = dc.call(f"{ids.GAL_INFO}.children", {f"{ids.ST_SELECTION}.data": s_part(s, "selection")}, [])
    out = data["response"]
    assert status == 200 and out[ids.GAL_INFO]["children"].startswith("80 images, page 1 of 2")
    thumbs = out[ids.GAL_THUMBS]["children"]
    assert len(thumbs) == 64 and thumbs[0]["props"]["id"] == {"type": ids.GALLERY, "index": 100}
    assert out[ids.GAL_NEXT]["disabled"] is False and out[ids.GAL_PREV]["disabled"] is True
    r = reduce_http(
        dc, s, {f"{ids.GALLERY}.n_clicks": [None, 1]}, [f'{{"index":101,"type":"{ids.GALLERY}"}}.n_clicks'],
        {ids.GALLERY: [100, 101]},
    )  # fmt: skip
    assert r[ids.ST_SEL]["data"]["sel"] == 101 and "sel=101" in r[ids.URL]["search"]


def test_traversal_and_prior_grids_render_over_http(dc, initial):
    s = dict(initial, ton=True, tn=8, tcols=9, tk=2.0, trows="var", pon=True, pn=64)
    status, data = dc.call(
        f"{ids.TRAV_GRID}.children",
        {f"{ids.ST_TRAV}.data": s_part(s, "trav"), f"{ids.ST_Z}.data": s_part(s, "z"),
         f"{ids.ST_ATTR}.data": s_part(s, "attr"), f"{ids.ST_SELECTION}.data": s_part(s, "selection")},
        [f"{ids.ST_TRAV}.data"],
    )  # fmt: skip
    rows = data["response"][ids.TRAV_GRID]["children"]
    assert status == 200 and len(rows) == 1 + 8  # a header and 8 rows
    cells = [c for c in rows[1]["props"]["children"] if isinstance(c.get("props", {}).get("id"), dict)]
    assert len(cells) == 9 and cells[8]["props"]["id"]["index"].endswith("|8")
    status, data = dc.call(f"{ids.PRIOR_GRID}.children", {f"{ids.ST_PRIOR}.data": s_part(s, "prior")}, [])
    assert status == 200 and len(data["response"][ids.PRIOR_GRID]["children"]) == 64
    # a tampered store (a grid beyond the limits): the panel says so, nothing is 500
    bad = dict(s_part(s, "trav"), tn=99)
    status, data = dc.call(
        f"{ids.TRAV_GRID}.children",
        {f"{ids.ST_TRAV}.data": bad, f"{ids.ST_Z}.data": s_part(s, "z"), f"{ids.ST_ATTR}.data": s_part(s, "attr"),
         f"{ids.ST_SELECTION}.data": s_part(s, "selection")},
        [f"{ids.ST_TRAV}.data"],
    )  # fmt: skip
    assert status == 200
    assert data["sideUpdate"][ids.MSG]["children"].startswith("Could not show the traversal grid: a traversal grid has")
    assert ids.TRAV_GRID not in (data.get("response") or {})  # the grid on the page stays as it was


def test_a_link_with_the_whole_algebra_view_restores_it(dc, catalog):
    q = "?dir=c7%3Ec9&strength=-1.5&arA=3&arB=4&arC=5&trav=1&tn=4&tcols=5&tk=1&prior=1&pn=32&pseed=9&ptemp=0.5"
    status, data = dc.call(REDUCER, {"url.search": q}, [])
    r = data["response"]
    assert status == 200 and r[ids.MSG]["children"] == ""
    assert r[ids.ST_ATTR]["data"]["dir"] == "c7>c9" and r[ids.ST_ATTR]["data"]["strength"] == -1.5
    assert r[ids.ST_ARITH]["data"]["arA"] == {"i": 3} and r[ids.ST_TRAV]["data"]["tn"] == 4
    assert r[ids.ST_PRIOR]["data"]["pseed"] == 9 and r[ids.PRIOR_SEED]["value"] == 9
    assert r[ids.ATTR_STRENGTH]["value"] == -1.5 and r[ids.TRAV_ON]["value"] == ["on"]


def test_bad_events_over_http_are_messages(dc, initial):
    r = reduce_http(dc, initial, {f"{ids.BTN_ARITH_LOAD}.n_clicks": 1}, [f"{ids.BTN_ARITH_LOAD}.n_clicks"])
    assert r[ids.MSG]["children"].startswith("set A first") and ids.ST_Z not in r
    values = {f"{c}.value": v for c, v in ((ids.ATTR_KIND, "groups"), (ids.ATTR_FROM, "c3"), (ids.ATTR_TO, "c3"))}
    r = reduce_http(dc, initial, values, [f"{ids.ATTR_TO}.value"])
    assert "zero length" in r[ids.MSG]["children"] and ids.ST_ATTR not in r


def test_a_lasso_reported_with_a_relayout_in_one_request_selects(dc, initial):
    """plotly reports a finished lasso as a relayout (its outline) and a selection at once: both
    fire in one request and the selection must not be lost behind the relayout."""
    values = {
        **stores_of(initial),
        "click-mode.value": "inspect",
        f"{ids.GRAPH}.relayoutData": {"selections": [{"type": "path", "path": "M1,1L2,2Z"}]},
        f"{ids.ST_LASSO}.data": {"idx": [7, 8, 9]},
    }
    status, data = dc.call(REDUCER, values, [f"{ids.GRAPH}.relayoutData", f"{ids.ST_LASSO}.data"])
    assert status == 200 and data["response"][ids.ST_SELECTION]["data"]["selection"] == [7, 8, 9]
    assert "selection=7-9" in data["response"][ids.URL]["search"]


def test_save_as_group_reads_the_typed_name(dc, initial):
    s = dict(initial, selection=[4, 5, 6])
    values = {f"{ids.BTN_SAVE_GROUP}.n_clicks": 1, f"{ids.GROUP_NAME}.value": "my shoes"}
    r = reduce_http(dc, s, values, [f"{ids.BTN_SAVE_GROUP}.n_clicks"])
    assert r[ids.ST_SELECTION]["data"]["groups"] == {"my shoes": [4, 5, 6]}
    assert "groups=my+shoes:4-6" in r[ids.URL]["search"]
    # the From/To choices now offer the group
    assert {"label": "group: my shoes", "value": "g:my shoes"} in r[ids.ATTR_FROM]["options"]
    # no typed name: "group 1"; a bad one: a message, nothing saved
    r = reduce_http(dc, s, {f"{ids.BTN_SAVE_GROUP}.n_clicks": 1}, [f"{ids.BTN_SAVE_GROUP}.n_clicks"])
    assert r[ids.ST_SELECTION]["data"]["groups"] == {"group 1": [4, 5, 6]}
    values = {f"{ids.BTN_SAVE_GROUP}.n_clicks": 1, f"{ids.GROUP_NAME}.value": "<script>"}
    r = reduce_http(dc, s, values, [f"{ids.BTN_SAVE_GROUP}.n_clicks"])
    assert "group name" in r[ids.MSG]["children"] and ids.ST_SELECTION not in r
