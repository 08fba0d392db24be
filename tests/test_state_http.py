"""The selection key, the generator's page and visible failures, through Dash's HTTP protocol
(Flask's test client; what the browser's renderer posts)."""

from __future__ import annotations

import logging

import pytest

from latentdash.ui import ids, urlstate
from tests.dashclient import REDUCER, DashClient, stores_of

# fixtures app, dc (Flask's test client on the two PCA test models) and initial: tests/conftest.py


def test_a_lasso_selection_reaches_the_stores_and_the_url(dc, initial, catalog):
    # the page reduces plotly's selection to indices (ld-3-map.js: latentdashLasso) into st-lasso
    values = {**stores_of(initial), f"{ids.ST_LASSO}.data": {"idx": [40, 10, 11, 12]}, "click-mode.value": "inspect"}
    status, data = dc.call(REDUCER, values, [f"{ids.ST_LASSO}.data"])
    assert status == 200
    r = data["response"]
    assert r[ids.ST_SELECTION]["data"]["selection"] == [10, 11, 12, 40]
    assert "selection=10-12,40" in r[ids.URL]["search"]
    assert ids.ST_SEL not in r and ids.ST_Z not in r  # nothing else was resent
    # the note under the map and the clear button
    status, data = dc.call(
        f"{ids.SEL_NOTE}.children",
        {f"{ids.ST_SELECTION}.data": r[ids.ST_SELECTION]["data"]},
        [f"{ids.ST_SELECTION}.data"],
    )
    assert data["response"][ids.SEL_NOTE]["children"].startswith("4 images selected")
    assert data["response"][ids.BTN_CLEAR_SEL]["disabled"] is False
    # clearing it
    selected = urlstate.merge(initial, r[ids.ST_SELECTION]["data"])
    values = {**stores_of(selected), f"{ids.BTN_CLEAR_SEL}.n_clicks": 1, "click-mode.value": "inspect"}
    status, data = dc.call(REDUCER, values, [f"{ids.BTN_CLEAR_SEL}.n_clicks"])
    assert data["response"][ids.ST_SELECTION]["data"]["selection"] is None
    assert "selection=" not in data["response"][ids.URL]["search"]


def test_a_link_with_a_selection_restores_it(dc):
    status, data = dc.call(REDUCER, {"url.search": "?selection=5-9"}, [])
    assert data["response"][ids.ST_SELECTION]["data"]["selection"] == [5, 6, 7, 8, 9]
    status, data = dc.call(REDUCER, {"url.search": "?selection=9-5"}, [])
    assert data["response"][ids.ST_SELECTION]["data"]["selection"] is None
    assert "selection" in data["response"][ids.MSG]["children"]


def test_a_failing_render_says_so_in_the_page(dc, initial, caplog):
    """A render callback given what it can't draw leaves its outputs alone and writes one line."""
    bad = dict(urlstate.split(initial)["interp"], a=0, b=99999)
    with caplog.at_level(logging.WARNING):
        status, data = dc.call(f"{ids.INT_A}.children", {f"{ids.ST_INTERP}.data": bad}, [f"{ids.ST_INTERP}.data"])
    assert status == 200
    assert data["response"] == {}  # the strip, the ends, ... stay as they are
    msg = data["sideUpdate"][ids.MSG]["children"]  # and the message line says why
    assert msg.startswith("Could not show the interpolation:") and "out of range" in msg
    assert any("interpolation" in r.getMessage() for r in caplog.records)


def test_a_bad_drag_answers_a_message_the_page_shows(dc, initial):
    p = urlstate.split(initial)
    status, data = dc.call(
        f"{ids.ST_DRAGOUT}.data",
        {f"{ids.ST_DRAG}.data": {"values": [1.0, 2.0]}, f"{ids.ST_MAP}.data": p["map"], f"{ids.ST_Z}.data": p["z"]},
        [f"{ids.ST_DRAG}.data"],
    )
    assert status == 200
    out = data["response"][ids.ST_DRAGOUT]["data"]
    assert out["error"].startswith("Could not decode the slider vector:") and "16 slider values" in out["error"]


@pytest.fixture(scope="module")
def generator_dc(generator_explorer):
    from latentdash.server.app_factory import create_app

    return DashClient(create_app(explorers=[generator_explorer]).server.test_client())


def test_a_generator_page_speaks_of_samples(generator_dc):
    status, data = generator_dc.call(REDUCER, {"url.search": ""}, [])
    r = data["response"]
    assert [o["value"] for o in r[ids.COLOUR]["options"]][:1] == ["pres"]
    assert "recon" not in [o["value"] for o in r[ids.COLOUR]["options"]]
    status, data = generator_dc.call(
        f"{ids.INS_ORIG}.src", {f"{ids.ST_SEL}.data": r[ids.ST_SEL]["data"]}, [f"{ids.ST_SEL}.data"]
    )
    ins = data["response"]
    assert ins[ids.INS_ORIG_CAP]["children"] == "sample" and ins[ids.INS_RECON_CAP]["children"] == "decoded"
    assert "reconstruction" not in str(ins[ids.INS_LABEL]["children"])
