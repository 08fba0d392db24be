"""The drag frame's fast path (server/fastpath.py): a well-formed drag request is answered without
Dash's dispatch, with exactly what Dash's own `drag` callback answers; anything else still goes
through Dash. Through Flask's test client, which calls the same WSGI stack a server does."""

from __future__ import annotations

import json
import logging

import pytest

from latentdash.ui import ids, urlstate
from tests.dashclient import DashClient

DRAG_OUT = f"{ids.ST_DRAGOUT}.data"


@pytest.fixture()
def both(app, dc, initial):
    """post(body) -> (status, parsed JSON, headers) through the fast path and through Dash."""
    c = app.server.test_client()
    fast = app.drag_fast_path

    def post(body, enabled):
        fast.enabled = enabled
        try:
            r = c.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        finally:
            fast.enabled = True
        r.headers["X-Raw"] = " ".join(r.get_data(as_text=True)[:200].split())
        return r.status_code, r.get_json(silent=True), r.headers

    return post


def drag_body(dc: DashClient, state: dict, drag, attrvec=None, rendered=None) -> dict:
    p = urlstate.split(state)
    values = {
        f"{ids.ST_DRAG}.data": drag,
        f"{ids.ST_MAP}.data": p["map"],
        f"{ids.ST_Z}.data": p["z"],
        f"{ids.ST_RENDERED}.data": rendered,
        f"{ids.ST_ATTRVEC}.data": attrvec,
    }
    return dc.body(DRAG_OUT, values, [f"{ids.ST_DRAG}.data"])


def test_the_fast_path_answers_what_dash_answers(app, dc, initial, both, explorers):
    view = explorers[0]
    key = f"{initial['model']}|{initial['map']}|{initial['rev']}"
    cases = [
        {"values": [0.5] * 16, "kind": "z"},  # a frame with its marker on the shown map
        {"values": [-1.0, 2.0] + [0.0] * 14, "kind": "z"},
        {"values": [float("nan")] * 16, "kind": "z"},  # a bad frame: a message, from both
        {"values": [1.5], "kind": "strength"},  # the strength slider, with the page's vector
    ]
    vec = {"model": view.name, "v": [0.1] * view.latent_dim}
    for drag in cases:
        body = drag_body(dc, initial, drag, attrvec=vec, rendered={"key": key})
        s_fast, j_fast, h_fast = both(body, True)
        s_dash, j_dash, _ = both(body, False)
        assert s_fast == s_dash == 200
        assert j_fast == j_dash, drag
        assert h_fast["X-Content-Type-Options"] == "nosniff" and "frame-ancestors" in h_fast["Content-Security-Policy"]
    frame = j_fast["response"][ids.ST_DRAGOUT]["data"]
    assert frame["kind"] == "strength" and frame["src"].startswith("data:image/png;base64,")
    # the fast path really answered: Dash's encoder writes "/" as \u002f, the fast path doesn't
    assert '"data:image/png;' in h_fast["X-Raw"] and "image\\u002fpng" in both(body, False)[2]["X-Raw"]
    # the first case's frame: an image and the marker on the shown map
    first = both(drag_body(dc, initial, cases[0], rendered={"key": key}), True)[1]["response"][ids.ST_DRAGOUT]["data"]
    assert first["src"].startswith("data:image/png") and first["key"] == key and len(first["pt"]) == 2


def test_what_is_not_a_well_formed_drag_request_goes_through_dash(app, dc, initial, both):
    body = drag_body(dc, initial, {"values": [0.5] * 16})
    wrong_state = dict(body, state=body["state"][:2])  # Dash: the state doesn't match the callback
    assert both(wrong_state, True)[0] == both(wrong_state, False)[0] == 400
    other = dc.body(f"{ids.CUR_IMG}.src", {f"{ids.ST_Z}.data": urlstate.split(initial)["z"]}, [f"{ids.ST_Z}.data"])
    s, j, _ = both(other, True)  # another callback entirely: Dash answers it as before
    assert s == 200 and j["response"][ids.CUR_IMG]["src"].startswith("data:image/png")
    r = app.server.test_client().post("/_dash-update-component", data="{not json", content_type="application/json")
    assert r.status_code == 400


def test_a_bug_on_the_fast_path_is_500_logged_with_its_traceback(
    app, dc, initial, both, explorers, monkeypatch, caplog
):
    def broken(z):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(explorers[0], "decode_live", broken)
    body = drag_body(dc, initial, {"values": [0.5] * 16})
    with caplog.at_level(logging.ERROR, logger="latentdash.server.routes"):
        status, data, _ = both(body, True)
    assert status == 500 and data == {"error": "server error"}
    recs = [r for r in caplog.records if r.name == "latentdash.server.routes" and r.levelname == "ERROR"]
    assert len(recs) == 1 and recs[0].exc_info[0] is RuntimeError and "broken" in caplog.text
    monkeypatch.undo()
    assert both(body, True)[0] == 200
