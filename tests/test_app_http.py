"""The app through HTTP with Flask's test client: layout, dependencies, routes and every callback,
including malformed payloads (400, never a 500) and a bug in a callback (500, its traceback logged),
plus the command-line failure modes."""

from __future__ import annotations

import json
import logging
import re
import runpy
import socket
import time
from pathlib import Path

import pytest

from latentdash.errors import LatentdashError
from latentdash.server.app_factory import create_app
from latentdash.ui import handlers, ids, urlstate

from .dashclient import DashClient, _outputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app(explorers):
    return create_app(explorers=explorers)


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def dc(client):
    return DashClient(client)


@pytest.fixture()
def initial(dc):
    """The state the page gets on first load (URL without a query)."""
    status, data = dc.call("st-map.data", {"url.search": ""}, [])
    assert status == 200
    r = data["response"]
    return urlstate.merge(*(r[sid]["data"] for sid in ids.STORE_OF.values()))


def reducer(dc, event_prop: str, value, stores: dict, extra=None, pattern=None, click_mode="inspect"):
    values = {f"{sid}.data": part for sid, part in zip(ids.STORE_OF.values(), urlstate.split(stores).values())}
    values.update({event_prop: value, "click-mode.value": click_mode, **(extra or {})})
    return dc.call("st-map.data", values, [event_prop], pattern)


def left_as_it_was(result) -> str:
    """A render callback given what it can't draw: 200, no output changed, and the page's message
    line says why (Dash's sideUpdate). Returns the message."""
    status, data = result
    assert status == 200 and data["response"] == {}, (status, data)
    msg = data["sideUpdate"][ids.MSG]["children"]
    assert msg.startswith("Could not show the "), msg
    return msg


def drag_refused(result) -> str:
    """The drag callback's answer to a bad request: 200 with {"error": one line} (the page shows it)."""
    status, data = result
    assert status == 200, status
    err = data["response"][ids.ST_DRAGOUT]["data"]["error"]
    assert err.startswith("Could not decode the slider vector: ") and "\n" not in err
    return err


# ------------------------------------------------------------------------------- page and routes
def test_index_and_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and b"latentdash Explorer" in r.data
    assert b"style.css" in r.data and b"ld-1-contract.js" in r.data and b"ld-4-drag.js" in r.data
    assert client.get("/assets/style.css").status_code == 200
    assert b"latentdash" in client.get("/assets/ld-4-drag.js").data


def test_index_loads_dash_polyfill_only_when_needed(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'^\s*<script src="[^"]*polyfill@', html, re.M) is None  # not unconditionally
    fallback = re.search(r"""document\.write\('<script src="([^"]*polyfill@[^"]*)"><\\/script>'\)""", html)
    assert fallback and client.get(fallback.group(1)).status_code == 200
    runtime = re.search(r'<script src="([^"]*vendor/regenerator-runtime\.js[^"]*)"', html)
    assert runtime and html.index(fallback.group(0)) < html.index(runtime.group(0)) < html.index("react@")
    assert b"regeneratorRuntime = runtime" in client.get(runtime.group(1)).data


def test_layout_has_every_part(client):
    r = client.get("/_dash-layout")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    for cid in (
        ids.GRAPH,
        ids.GRAPH3,
        ids.MODEL,
        ids.SPACE,
        ids.METHOD,
        ids.DIMS,
        ids.COLOUR,
        ids.INS_RECON,
        ids.INS_NBRS,
        ids.SLIDERS,
        ids.CUR_IMG,
        ids.STRIP,
        ids.BLEND,
        ids.STEPS,
        ids.URL,
        ids.TIP,
    ):
        assert f'"{cid}"' in text, cid
    assert '"pca-16"' in text and '"pca-2"' in text
    assert len(r.data) < 100_000  # the points are not in the layout


def test_dependencies(dc):
    firsts = [d["output"] for d in dc.deps]
    # 18 + the Jobs card's 4 + the Analysis card's 3, plausibility's 3, decode anywhere's 4, the upload
    # card's 2 and the export links' 3
    assert len(dc.deps) == 18 + 4 + 3 + 3 + 4 + 2 + 3
    clientside = [d for d in dc.deps if d.get("clientside_function")]
    named = [d for d in clientside if d["clientside_function"]["namespace"] != "_dashprivate_clientside_funcs"]
    assert {d["clientside_function"]["function_name"] for d in named} == {
        "hover",
        "replaceUrl",
        "marker",
        "dragContext",
        "shown",
        "plaus",
        "render",
        "grid",
    }
    assert len(clientside) - len(named) == 1  # the Copy link button's inline function
    drag = dc.dep(f"{ids.ST_DRAGOUT}.data")
    # the lookup found the server-side drag callback: one output (no multi-output "..a...b.." id)
    assert drag["output"] == f"{ids.ST_DRAGOUT}.data" and not drag.get("clientside_function")
    assert [i["id"] for i in drag["inputs"]] == [ids.ST_DRAG]
    assert len(drag["state"]) == 4 and all(s["id"] != ids.GRAPH for s in drag["state"])  # never the figure
    assert not any("@" in o for o in firsts)  # no duplicate outputs
    # every dependency is found by its first output, and only by it
    for d in dc.deps:
        cid, prop = _outputs(d)[0]
        first = json.dumps(cid, separators=(",", ":"), sort_keys=True) if isinstance(cid, dict) else cid
        assert dc.dep(f"{first}.{prop}") is d
    with pytest.raises(KeyError):
        dc.dep("nope.data")


def _health(app) -> dict:
    return app.server.test_client().get("/healthz").get_json()["models"]


def test_two_apps_do_not_share_callbacks(app, explorers):
    """Two apps in one process, each with its own model, each serve only their own: the health
    check, the thumbnails, the layout's model list and the callbacks' latent vectors."""
    other = create_app(explorers=explorers[:1])
    other.server.test_client().get("/_dash-dependencies")  # Dash adds a background job's Cancel callback here
    assert len(other.callback_map) == len(app.callback_map)
    assert other.callback_map is not app.callback_map
    a16, a2 = other, create_app(explorers=explorers[1:])
    assert (_health(a16), _health(a2), _health(app)) == (
        {"pca-16": 2000},
        {"pca-2": 2000},
        {"pca-16": 2000, "pca-2": 2000},
    )
    for own, theirs, d in ((a16, "pca-2", 16), (a2, "pca-16", 2)):
        c = own.server.test_client()
        assert c.get(f"/thumb/{theirs}/5.png").status_code == 404
        assert f'"{theirs}"' not in c.get("/_dash-layout").get_data(as_text=True)
        dc_own = DashClient(c)
        status, data = dc_own.call(f"{ids.ST_MAP}.data", {"url.search": ""}, [])
        r = data["response"]
        assert status == 200 and r[ids.ST_MAP]["data"]["model"] != theirs and len(r[ids.ST_Z]["data"]["z"]) == d
        for n in (d, 18 - d):  # its own latent size decodes; the other one's does not
            status, data = dc_own.call(
                f"{ids.ST_DRAGOUT}.data",
                {
                    f"{ids.ST_DRAG}.data": {"values": [0.5] * n},
                    f"{ids.ST_MAP}.data": r[ids.ST_MAP]["data"],
                    f"{ids.ST_Z}.data": r[ids.ST_Z]["data"],
                },
                [f"{ids.ST_DRAG}.data"],
            )
            out = data["response"][ids.ST_DRAGOUT]["data"]
            assert status == 200
            assert out["src"].startswith("data:image/png") if n == d else f"{d} slider values" in out["error"]


def test_thumbnails_and_health(client):
    r = client.get("/thumb/pca-16/5.png")
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data[:4] == b"\x89PNG"
    assert "max-age" in r.headers["Cache-Control"]
    for bad in ("/thumb/pca-16/999999.png", "/thumb/nope/1.png", "/thumb/pca-16/-1.png", "/thumb/pca-16/abc.png"):
        assert client.get(bad).status_code == 404
    assert client.get("/healthz").get_json()["models"] == {"pca-16": 2000, "pca-2": 2000}


# ------------------------------------------------------------------------------- reducer
def test_initial_load_sets_state_controls_and_options(dc):
    status, data = dc.call("st-map.data", {"url.search": ""}, [])
    r = data["response"]
    assert r["st-map"]["data"]["model"] == "pca-16" and r["st-sel"]["data"]["sel"] == 0
    assert r["method"]["options"][0]["value"] == "pca"
    assert any(o["disabled"] for o in r["method"]["options"])  # no t-SNE/UMAP in this atlas
    assert "message" not in r or not r["message"]["children"]


def test_shared_url_restores_state(dc, initial):
    q = "?model=pca-16&map=pixel-pca-3d&sel=17&a=3&b=40&steps=12&mode=spherical&color=recon"
    status, data = reducer(dc, "url.search", q, initial)
    r = data["response"]
    assert r["st-map"]["data"]["map"] == "pixel-pca-3d" and r["st-map"]["data"]["colour"] == "recon"
    assert r["st-interp"]["data"]["a"] == 3 and r["st-interp"]["data"]["steps"] == 12
    assert r["dims"]["value"] == 3 and r["space"]["value"] == "pixel" and r["steps"]["value"] == 12


@pytest.mark.parametrize(
    "q", ["?sel=99999", "?model=zzz", "?z=nan,nan", "?steps=0&mode=<script>", "?cam=1,2,3", "?" + "a" * 9000]
)
def test_tampered_url_is_never_a_500(dc, initial, q):
    status, data = reducer(dc, "url.search", q, initial)
    assert status == 200
    assert data["response"]["message"]["children"].startswith("Ignored bad link parameter")


def test_click_selects_and_pushes_url(dc, initial):
    status, data = reducer(
        dc, "map.clickData", {"points": [{"curveNumber": 1, "pointNumber": 0, "customdata": 123}]}, initial
    )
    r = data["response"]
    assert r["st-sel"]["data"]["sel"] == 123 and "sel=123" in r["url"]["search"]
    assert len(r["st-z"]["data"]["z"]) == 16
    assert "st-map" not in r  # unchanged stores are not resent


def test_only_the_shown_graph_speaks_for_the_map(dc, initial):
    """The hidden graph (3-D while a 2-D map shows, and back) may redraw in the background; its
    clicks and camera events never change the state."""
    click = {"points": [{"curveNumber": 1, "pointNumber": 0, "customdata": 77}]}
    assert initial["map"].endswith("-2d")
    assert reducer(dc, "map3d.clickData", click, initial)[0] == 204
    assert reducer(dc, "map3d.relayoutData", {"scene.camera": {"eye": {"x": 1, "y": 1, "z": 1}}}, initial)[0] == 204
    st3 = dict(initial, map="latent-pca-3d")
    assert reducer(dc, "map.clickData", click, st3)[0] == 204
    status, data = reducer(dc, "map3d.clickData", click, st3)
    assert status == 200 and data["response"]["st-sel"]["data"]["sel"] == 77


@pytest.mark.parametrize(
    "payload", [{"points": [{"customdata": 10**9}]}, {"points": "x"}, [], {"points": [{"customdata": "NaN"}]}]
)
def test_bad_click_leaves_page(dc, initial, payload):
    status, data = reducer(dc, "map.clickData", payload, initial)
    assert status == 200
    r = data["response"]
    assert set(r) == {"message"} and r["message"]["children"]


@pytest.mark.parametrize("steps", [1, 33, "7"])
def test_bad_steps(dc, initial, steps):
    status, data = reducer(dc, "steps.value", steps, initial)
    assert status == 200 and "steps" in data["response"]["message"]["children"]


SLIDER0 = json.dumps({"index": 0, "type": ids.SLIDER}, separators=(",", ":")) + ".value"


def slider_commit(dc, values, stores):
    body_values = {f"{sid}.data": part for sid, part in zip(ids.STORE_OF.values(), urlstate.split(stores).values())}
    body_values.update({f"{ids.SLIDER}.value": values, "click-mode.value": "inspect"})
    return dc.call("st-map.data", body_values, [SLIDER0], {ids.SLIDER: list(range(len(values)))})


def test_slider_commit_and_bad_sliders(dc, initial):
    status, data = slider_commit(dc, [0.5] * 16, initial)
    assert status == 200 and "z=" in data["response"]["url"]["search"]
    assert len(data["response"]["st-z"]["data"]["z"]) == 16
    for bad in ([None] * 16, ["x"] * 16, [0.5] * 3):
        status, data = slider_commit(dc, bad, initial)
        assert status == 200 and "slider" in data["response"]["message"]["children"]


def test_model_switch_updates_options(dc, initial):
    status, data = reducer(dc, "model.value", "pca-2", initial)
    r = data["response"]
    assert r["st-map"]["data"]["map"] == "latent-raw-2d"
    assert [o["value"] for o in r["method"]["options"]][-1] == "raw"
    assert {o["value"]: o["disabled"] for o in r["method"]["options"]} == {
        "pca": True,
        "tsne": True,
        "umap": True,
        "raw": False,
    }  # in latent space: raw only
    assert [o["disabled"] for o in r["dims"]["options"]] == [False, True]
    status, data = reducer(dc, "model.value", "<none>", initial)
    assert status == 200 and "unknown model" in data["response"]["message"]["children"]


def test_camera_move_replaces_url(dc, initial):
    rel = {"xaxis.range[0]": -3, "xaxis.range[1]": 3, "yaxis.range[0]": -2, "yaxis.range[1]": 2}
    status, data = reducer(dc, "map.relayoutData", rel, initial)
    r = data["response"]
    assert "url" not in r and "cam=-3,3,-2,2" in r[ids.ST_URL_REPLACE]["data"]


# ------------------------------------------------------------------------------- render callbacks
def figure_call(dc, state, rendered=None, prefetch=None):
    p = urlstate.split(state)
    return dc.call(
        "map.figure",
        {
            "st-map.data": p["map"],
            "st-sel.data": p["sel"],
            "st-interp.data": p["interp"],
            "st-z.data": p["z"],
            "st-cam.data": p["cam"],
            "st-rendered.data": rendered,
            "st-prefetch.data": prefetch,
        },
        ["st-prefetch.data" if prefetch is not None else "st-map.data"],
    )


def test_map_figure_full_then_patch(dc, initial):
    status, data = figure_call(dc, initial)
    fig = data["response"]["map"]["figure"]
    rendered = data["response"][ids.ST_RENDERED]["data"]
    assert status == 200 and fig["data"][0]["x"]["dtype"] == "f4"
    status, data = figure_call(dc, dict(initial, colour="dim2"), rendered)
    patch = data["response"]["map"]["figure"]
    assert "__dash_patch_update" in patch and len(json.dumps(patch)) < 60_000
    assert "no map 'nope'" in left_as_it_was(figure_call(dc, dict(initial, map="nope"), rendered))


def test_two_graphs_prefetch_then_switch_is_a_toggle(dc, initial):
    """The 2-D map draws into `map`; a prefetch draws the 3-D sibling into the hidden `map3d`;
    switching to 3-D then sends no figure (only overlays that changed), and back again."""
    st2 = dict(initial, map="latent-pca-2d")
    status, data = figure_call(dc, st2)
    r = data["response"]
    assert status == 200 and "map3d" not in r and r[ids.ST_RENDERED]["data"]["active"] == "2"
    rendered = r[ids.ST_RENDERED]["data"]
    status, data = figure_call(dc, st2, rendered, prefetch={"for": "nope"})  # stale request
    assert status == 204
    status, data = figure_call(dc, st2, rendered, prefetch={"for": rendered["key"]})
    r = data["response"]
    fig3 = r["map3d"]["figure"]
    assert status == 200 and "map" not in r and fig3["data"][0]["type"] == "scatter3d"
    rendered = r[ids.ST_RENDERED]["data"]
    assert rendered["active"] == "2" and rendered["graphs"]["3"]["key"].endswith("latent-pca-3d|0")
    assert figure_call(dc, st2, rendered, prefetch={"for": rendered["key"]})[0] == 204  # already there
    st3 = dict(st2, map="latent-pca-3d", sel=7)
    status, data = figure_call(dc, st3, rendered)
    r = data["response"]
    assert status == 200 and "map" not in r and r[ids.ST_RENDERED]["data"]["active"] == "3"
    assert "__dash_patch_update" in r["map3d"]["figure"] and len(json.dumps(r)) < 20_000
    rendered = r[ids.ST_RENDERED]["data"]
    status, data = figure_call(dc, dict(st3, map="latent-pca-2d"), rendered)
    assert (
        status == 200 and "map3d" not in data["response"] and "__dash_patch_update" in data["response"]["map"]["figure"]
    )  # back to 2-D: the selection moved, nothing else


def test_inspector_callback(dc, initial):
    status, data = dc.call("ins-orig.src", {"st-sel.data": {"model": "pca-16", "sel": 8}}, ["st-sel.data"])
    r = data["response"]
    assert r["ins-recon"]["src"].startswith("data:image/png;base64,")
    assert len(r["ins-nbrs"]["children"]) == handlers.N_NEIGHBOURS
    for bad in ({"model": "pca-16", "sel": 10**6}, {"model": "x", "sel": 1}, "junk"):
        left_as_it_was(dc.call("ins-orig.src", {"st-sel.data": bad}, ["st-sel.data"]))


def test_sliders_callback(dc, initial):
    p = urlstate.split(initial)
    status, _ = dc.call("sliders.children", {"st-map.data": p["map"], "st-z.data": p["z"]}, ["st-map.data"])
    assert status == 204  # not before the first map is drawn (the page sets st-drawn then)
    status, data = dc.call(
        "sliders.children", {"st-map.data": p["map"], "st-z.data": p["z"], "st-drawn.data": True}, ["st-drawn.data"]
    )
    r = data["response"]
    sliders = [c for c in r["sliders"]["children"] if c["type"] == "Slider"]
    assert len(sliders) == 16 and r[ids.ST_SLIDERKEY]["data"] == "pca-16|dims"
    status, _ = dc.call(
        "sliders.children",
        {"st-map.data": p["map"], "st-z.data": p["z"], "st-drawn.data": True, "st-sliderkey.data": "pca-16|dims"},
        ["st-map.data"],
    )
    assert status == 204  # same model and basis: sliders stay as they are


def drag_call(dc, values, state, rendered=None):
    """What the page posts while a slider handle moves (assets/ld-4-drag.js)."""
    p = urlstate.split(state)
    return dc.call(
        "st-dragout.data",
        {
            "st-drag.data": {"values": values},
            "st-map.data": p["map"],
            "st-z.data": p["z"],
            "st-rendered.data": rendered,
        },
        ["st-drag.data"],
    )


def test_slider_drag_returns_image_and_marker(dc, initial):
    rendered = {"key": f"pca-16|{initial['map']}|0"}
    status, data = drag_call(dc, [0.25] * 16, initial, rendered)
    out = data["response"]["st-dragout"]["data"]
    assert status == 200 and out["src"].startswith("data:image/png;base64,")
    assert len(out["pt"]) == 2 and out["key"] == rendered["key"]
    assert len(json.dumps(data)) < 4000  # image + one marker, never the figure
    status, data = drag_call(dc, [0.25] * 16, initial, None)  # figure not drawn yet: no marker
    assert data["response"]["st-dragout"]["data"]["pt"] is None


def test_slider_drag_on_3d_map(dc, initial):
    s = dict(initial, map="latent-pca-3d")
    status, data = drag_call(dc, [0.25] * 16, s, {"key": "pca-16|latent-pca-3d|0"})
    assert len(data["response"]["st-dragout"]["data"]["pt"]) == 3


@pytest.mark.parametrize("values", [[None] * 16, ["nan"] * 16, [1.0] * 5, [[1]] * 16, None, "x"])
def test_slider_drag_bad_values_never_500(dc, initial, values):
    drag_refused(drag_call(dc, values, initial))


def test_slider_drag_bad_payloads_never_500(client, dc, initial):
    p = urlstate.split(initial)
    body = dc.body(
        "st-dragout.data",
        {"st-drag.data": {"values": [0.0] * 16}, "st-map.data": p["map"], "st-z.data": p["z"]},
        ["st-drag.data"],
    )
    for lit in ("NaN", "Infinity", "-Infinity"):  # raw JSON literals a tampered client could send
        text = json.dumps(body).replace("0.0", lit, 3)
        r = client.post("/_dash-update-component", data=text, content_type="application/json")
        assert r.status_code in (200, 400), r.status_code
        if r.status_code == 200:
            assert "finite" in r.get_json()["response"][ids.ST_DRAGOUT]["data"]["error"]
    for drag in ("junk", {"values": 5}, {}, [1, 2]):
        drag_refused(
            dc.call(
                "st-dragout.data",
                {"st-drag.data": drag, "st-map.data": p["map"], "st-z.data": p["z"]},
                ["st-drag.data"],
            )
        )
    assert "unknown model" in drag_refused(
        dc.call(
            "st-dragout.data",
            {
                "st-drag.data": {"values": [0.0] * 16},
                "st-map.data": {"model": "nope"},
                "st-z.data": dict(p["z"], model="nope"),
            },
            ["st-drag.data"],
        )
    )


DRAG_OUT = f"{ids.ST_DRAGOUT}.data"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"output": DRAG_OUT},
        {"output": "nope.data", "inputs": []},  # KeyError, CallbackException
        {"output": DRAG_OUT, "outputs": {}, "inputs": "x", "state": 5},  # TypeError
        [],
        "text",
        None,  # AttributeError
        {"output": DRAG_OUT, "inputs": [{"id": ids.ST_DRAG}]},  # KeyError: 'property'
        {"output": DRAG_OUT, "outputs": [1, 2, 3], "inputs": [{"id": ids.ST_DRAG, "property": "data", "value": {}}]},
        {"output": DRAG_OUT, "outputs": [], "inputs": [], "state": []},  # inputs don't match
    ],
)
def test_malformed_callback_requests_are_400_not_500(client, body, caplog):
    """A body Dash cannot dispatch is the client's mistake: 400, a one-line JSON reason and one
    WARNING line; never a traceback, in the reply or in the log."""
    with caplog.at_level(logging.WARNING, logger="latentdash.server.routes"):
        r = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 400, r.status_code
    assert r.is_json and set(r.get_json()) == {"error"} and r.get_json()["error"].startswith("bad callback request")
    assert b"Traceback" not in r.data and b"\n" not in r.data.strip()
    recs = [rec for rec in caplog.records if rec.name == "latentdash.server.routes"]
    assert [rec.levelname for rec in recs] == ["WARNING"] and recs[0].exc_info is None
    assert "\n" not in recs[0].getMessage()


def test_a_body_that_is_not_json_is_400(client):
    r = client.post("/_dash-update-component", data="{not json", content_type="application/json")
    assert r.status_code == 400 and b"Traceback" not in r.data


@pytest.mark.parametrize("error", [RuntimeError("simulated bug"), KeyError("simulated bug")])
def test_a_bug_in_a_callback_is_500_with_the_traceback_logged(
    client, dc, initial, explorers, monkeypatch, caplog, error
):
    """A real exception raised once our callback runs is a server bug, whatever its type (a KeyError
    too, the type Dash raises for a malformed body): 500 {"error": "server error"} and an ERROR
    record with the traceback in the log; the page never sees the traceback."""

    def broken_decode(z):
        raise error

    monkeypatch.setattr(explorers[0], "decode_live", broken_decode)  # what a drag frame decodes with
    p = urlstate.split(initial)
    with caplog.at_level(logging.WARNING, logger="latentdash.server.routes"):
        status, data = dc.call(
            DRAG_OUT,
            {f"{ids.ST_DRAG}.data": {"values": [0.5] * 16}, f"{ids.ST_MAP}.data": p["map"], f"{ids.ST_Z}.data": p["z"]},
            [f"{ids.ST_DRAG}.data"],
        )
    assert status == 500 and data == {"error": "server error"}
    recs = [rec for rec in caplog.records if rec.name == "latentdash.server.routes"]
    assert [rec.levelname for rec in recs] == ["ERROR"]
    assert recs[0].exc_info[0] is type(error) and "simulated bug" in caplog.text
    assert "broken_decode" in caplog.text and "Traceback" in caplog.text  # the traceback, down to the bug
    monkeypatch.undo()  # and the same request works again
    status, data = dc.call(
        DRAG_OUT,
        {f"{ids.ST_DRAG}.data": {"values": [0.5] * 16}, f"{ids.ST_MAP}.data": p["map"], f"{ids.ST_Z}.data": p["z"]},
        [f"{ids.ST_DRAG}.data"],
    )
    assert status == 200 and data["response"][ids.ST_DRAGOUT]["data"]["src"].startswith("data:image/png")


def test_current_image_callback(dc, initial):
    p = urlstate.split(initial)
    status, data = dc.call("current-img.src", {"st-z.data": p["z"]}, ["st-z.data"])
    assert data["response"]["current-img"]["src"].startswith("data:image/png;base64,")
    for bad in ({"model": "pca-16", "z": [1.0, 2.0]}, {"model": "pca-16", "z": ["a"] * 16}, None):
        left_as_it_was(dc.call("current-img.src", {"st-z.data": bad}, ["st-z.data"]))


def test_interpolation_callback(dc):
    status, data = dc.call(
        "int-a.children",
        {"st-interp.data": {"model": "pca-16", "a": 1, "b": 2, "steps": 16, "mode": "linear"}},
        ["st-interp.data"],
    )
    r = data["response"]
    assert len(r["strip"]["children"]) == 16 and len(r["blend"]["children"]) == 16
    for bad in (
        {"model": "pca-16", "a": 1, "b": 2, "steps": 99, "mode": "linear"},
        {"model": "pca-16", "a": -5, "b": 2, "steps": 4, "mode": "linear"},
        {"model": "pca-16", "a": 1, "b": 2, "steps": 4, "mode": "warp"},
    ):
        left_as_it_was(dc.call("int-a.children", {"st-interp.data": bad}, ["st-interp.data"]))


# ------------------------------------------------------------------------------- entry points
def test_port_in_use_is_one_line(capsys):
    from latentdash.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(port) in err and "in use" in err


def test_serve_runs_waitress_end_to_end(pca_checkpoint):
    """`latentdash serve` as a user starts it: prints the URL, serves the page, the health check
    and the slider callback over real HTTP; a bad --server value is one line and exit 2."""
    import subprocess

    import requests

    from .dashclient import DashClient
    from .test_server import free_port, serve_cmd

    port = free_port()
    cmd = serve_cmd(pca_checkpoint, port)
    bad = subprocess.run(cmd + ["--server", "nginx"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "nginx" in bad.stderr
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        while not any("running at" in ln for ln in lines):  # printed once the models are loaded
            lines.append(proc.stdout.readline())
            assert lines[-1], "".join(lines)
        assert f"http://127.0.0.1:{port}/" in lines[-1]
        base = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                r = requests.get(base + "healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert r.json()["models"] == {"pca-16": 2000}
        page = requests.get(base, timeout=5)
        assert page.status_code == 200 and "latentdash Explorer" in page.text

        class Http:
            def get(self, path):
                return requests.get(base + path.lstrip("/"), timeout=10)

            def post(self, path, json=None):
                return requests.post(base + path.lstrip("/"), json=json, timeout=10)

        dc = DashClient(Http())
        status, data = dc.call("st-map.data", {"url.search": "", "click-mode.value": "inspect"}, [])
        view, z = data["response"]["st-map"]["data"], data["response"]["st-z"]["data"]
        status, data = dc.call(
            "st-dragout.data",
            {"st-drag.data": {"values": [0.5] * 16}, "st-map.data": view, "st-z.data": z, "st-rendered.data": None},
            ["st-drag.data"],
        )
        assert status == 200 and data["response"]["st-dragout"]["data"]["src"].startswith("data:image/png")
    finally:
        proc.terminate()
        proc.wait(10)


def test_unknown_checkpoint_and_dataset(capsys, tmp_path):
    from latentdash.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["serve", "--checkpoint", str(tmp_path / "nope.pt"), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "nope.pt" in err and "\n" not in err
    assert main(["serve", "--checkpoint", str(tmp_path / "nope.pt"), "--dataset", "nonsense", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert "nonsense" in err and "\n" not in err


def test_app_py_exposes_app_and_server(monkeypatch, pca_checkpoint):
    from .conftest import CACHE

    monkeypatch.setenv("LATENTDASH_CHECKPOINTS", str(pca_checkpoint))
    monkeypatch.setenv("LATENTDASH_METHODS", "pca")
    monkeypatch.setenv("LATENTDASH_LIMIT", "2000")
    monkeypatch.setenv("LATENTDASH_CACHE", str(CACHE))
    monkeypatch.setenv("LATENTDASH_THREADS", "0")  # leave torch's thread count to other tests
    g = runpy.run_path(str(ROOT / "app.py"), run_name="app")
    assert g["server"] is g["app"].server
    assert g["server"].test_client().get("/healthz").get_json()["models"] == {"pca-16": 2000}


def test_config_from_env_and_errors():
    from latentdash.server.config import ServeConfig, from_env

    c = from_env({"LATENTDASH_PORT": "9000", "LATENTDASH_DIMS": "2", "LATENTDASH_METHODS": "pca,umap"})
    assert (c.port, c.dims, c.methods) == (9000, (2,), ("pca", "umap"))
    assert from_env({"LATENTDASH_PORT": "9000"}, port=9001).port == 9001
    for bad in ({"LATENTDASH_PORT": "x"}, {"LATENTDASH_PORT": "70000"}, {"LATENTDASH_LIMIT": "1"}):
        with pytest.raises(LatentdashError):
            from_env(bad)
    with pytest.raises(LatentdashError):
        ServeConfig(max_sliders=0)


def test_shipped_atlas_lookup(explorers, pca_checkpoint, ui_dataset):
    from latentdash.atlas import AtlasParams, shipped_atlas_for
    from latentdash.server.app_factory import model_name

    model = explorers[0].model
    assert shipped_atlas_for(model, ui_dataset, AtlasParams(), None) is None
    assert shipped_atlas_for(model, ui_dataset, AtlasParams(), pca_checkpoint) is None  # none shipped
    assert model_name("checkpoints/a.pt", set()) == "a"
    assert model_name("checkpoints/a.pt", {"a"}) == "a-2"
    assert model_name("pkg.mod:make", set()) == "pkg.mod-make"
