"""Thin callback wiring: component properties <-> pure handlers. Registered on one app instance
(`app.callback`, never the module-global `dash.callback`), so two apps never share callbacks.

Flow: every interaction goes through one reducer callback (handlers.reduce) that writes the state
stores, the URL and the controls; render callbacks each watch one store. The slider drag callback
is separate and tiny (slider positions in; one PNG data URI and the marker position out) and is
posted by assets/clientside.js while a handle moves, so no Dash re-render happens per frame.
"""
from __future__ import annotations

import logging

from dash import ALL, ClientsideFunction, Input, Output, Patch, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from ..errors import LatentdashError
from . import handlers, ids, layout, render, urlstate

log = logging.getLogger(__name__)

EVENTS = {ids.URL: "url", ids.MODEL: "model", ids.SPACE: "map", ids.METHOD: "map", ids.DIMS: "map",
          ids.COLOUR: "colour", ids.BASIS: "basis", ids.BTN_A: "set_a", ids.BTN_B: "set_b",
          ids.BTN_SWAP: "swap", ids.STEPS: "steps", ids.MODE: "mode", ids.BTN_RESET: "reset",
          ids.BTN_RANDOM: "random", ids.NBR: "nbr", ids.STEP: "step", ids.SLIDER: "sliders"}
CONTROLS = {"model": ids.MODEL, "space": ids.SPACE, "method": ids.METHOD, "dims": ids.DIMS,
            "colour": ids.COLOUR, "basis": ids.BASIS, "steps": ids.STEPS, "mode": ids.MODE}


def to_patch(ops: list[dict]) -> Patch:
    p = Patch()
    for op in ops:
        for key, val in op["props"].items():
            p["data"][op["trace"]][key] = val
    return p


def _event(trig, kw):
    """(event name, value) for the component that fired, or (None, None) to ignore it."""
    tid = ctx.triggered_id
    if tid is None:
        return "url", kw["search"]
    if isinstance(tid, dict):
        kind = tid.get("type")
        if kind == ids.SLIDER:
            return "sliders", kw["slider_values"]
        if not trig or not trig[0].get("value"):  # a new button appeared; nothing was clicked
            return None, None
        return EVENTS.get(kind), tid.get("index")
    if tid in (ids.GRAPH, ids.GRAPH3):
        prop = trig[0]["prop_id"].rsplit(".", 1)[-1]
        sfx = "3" if tid == ids.GRAPH3 else ""
        return ("click", kw["click" + sfx]) if prop == "clickData" else ("relayout", kw["relayout" + sfx])
    event = EVENTS.get(tid)
    if event in ("set_a", "set_b", "swap", "reset", "random") and not trig[0].get("value"):
        return None, None
    value = {"url": kw["search"], "model": kw["model"], "colour": kw["colour"], "basis": kw["basis"],
             "steps": kw["steps"], "mode": kw["mode"], "random": None,
             "map": {"space": kw["space"], "method": kw["method"], "dims": kw["dims"]}}.get(event)
    return event, value


def _shown_graph(state) -> str:
    """Id of the graph that shows the state's map (the 2-D graph unless the map is 3-D)."""
    return ids.GRAPH3 if str(state.get("map", "")).endswith("-3d") else ids.GRAPH


def register_reducer(app, catalog):
    outputs = dict(
        stores={k: Output(v, "data") for k, v in ids.STORE_OF.items()},
        search=Output(ids.URL, "search"), replace=Output(ids.ST_URL_REPLACE, "data"),
        sliders=Output({"type": ids.SLIDER, "index": ALL}, "value"),
        controls={k: Output(cid, "value") for k, cid in CONTROLS.items()},
        options={k: Output(CONTROLS[k], "options") for k in ("space", "method", "dims", "colour")},
        click_mode=Output(ids.CLICK_MODE, "value"), msg=Output(ids.MSG, "children"))
    inputs = dict(
        search=Input(ids.URL, "search"), model=Input(ids.MODEL, "value"),
        space=Input(ids.SPACE, "value"), method=Input(ids.METHOD, "value"), dims=Input(ids.DIMS, "value"),
        colour=Input(ids.COLOUR, "value"), basis=Input(ids.BASIS, "value"),
        click=Input(ids.GRAPH, "clickData"), relayout=Input(ids.GRAPH, "relayoutData"),
        click3=Input(ids.GRAPH3, "clickData"), relayout3=Input(ids.GRAPH3, "relayoutData"),
        set_a=Input(ids.BTN_A, "n_clicks"), set_b=Input(ids.BTN_B, "n_clicks"),
        swap=Input(ids.BTN_SWAP, "n_clicks"), nbr=Input({"type": ids.NBR, "index": ALL}, "n_clicks"),
        steps=Input(ids.STEPS, "value"), mode=Input(ids.MODE, "value"),
        reset=Input(ids.BTN_RESET, "n_clicks"), random=Input(ids.BTN_RANDOM, "n_clicks"),
        step=Input({"type": ids.STEP, "index": ALL}, "n_clicks"),
        slider_values=Input({"type": ids.SLIDER, "index": ALL}, "value"))
    state = dict(stores={k: State(v, "data") for k, v in ids.STORE_OF.items()},
                 click_mode=State(ids.CLICK_MODE, "value"))

    @app.callback(output=outputs, inputs=inputs, state=state)
    def reducer(stores, click_mode, **kw):
        event, value = _event(ctx.triggered, kw)
        nothing = {k: no_update for k in outputs}
        nothing.update(sliders=[no_update] * len(kw["slider_values"]),
                       stores={k: no_update for k in ids.STORE_OF},
                       controls={k: no_update for k in CONTROLS},
                       options={k: no_update for k in outputs["options"]})
        if event is None:
            raise PreventUpdate
        old = urlstate.merge(*stores.values()) if stores.get("view") else None
        if event in ("click", "relayout") and old is not None and ctx.triggered_id != _shown_graph(old):
            raise PreventUpdate   # only the graph on show speaks for the map (the hidden one may redraw)
        res = handlers.reduce(old, event, value, catalog, click_mode=click_mode or "inspect")
        out = dict(nothing)
        out["msg"] = res["message"] or ""
        new = res["state"]
        if new is None:
            if not res["message"]:
                raise PreventUpdate
            return out
        old_parts = urlstate.split(old) if old else {}
        out["stores"] = {k: (v if old_parts.get(k) != v else no_update)
                         for k, v in urlstate.split(new).items()}
        if res["url"] == "push":
            out["search"] = urlstate.serialize(new, catalog)
        elif res["url"] == "replace":
            out["replace"] = urlstate.serialize(new, catalog)
        if res["sliders"] is not None and len(kw["slider_values"]) == len(res["sliders"]):
            out["sliders"] = res["sliders"]
        view = catalog.get(new["model"])
        space, method, dims = view.map_parts(new["map"])
        want = {"model": new["model"], "space": space, "method": method, "dims": dims,
                "colour": new["colour"], "basis": new["basis"], "steps": new["steps"], "mode": new["mode"]}
        out["controls"] = {k: (v if kw[k] != v else no_update) for k, v in want.items()}
        if old is None or old.get("model") != new["model"] or old.get("map") != new["map"]:
            opts = layout.control_options(view, new["map"])
            out["options"] = opts if old is None or old.get("model") != new["model"] else {
                k: (v if k != "colour" else no_update) for k, v in opts.items()}
        if event == "click" and click_mode in ("a", "b"):
            out["click_mode"] = "b" if click_mode == "a" else "inspect"
        return out


def register_renderers(app, catalog):
    @app.callback(Output(ids.GRAPH, "figure"), Output(ids.GRAPH3, "figure"), Output(ids.ST_RENDERED, "data"),
                  Input(ids.ST_VIEW, "data"), Input(ids.ST_SEL, "data"), Input(ids.ST_INTERP, "data"),
                  Input(ids.ST_Z, "data"), Input(ids.ST_PREFETCH, "data"),
                  State(ids.ST_CAM, "data"), State(ids.ST_RENDERED, "data"), prevent_initial_call=True)
    def draw_map(view, sel, interp, z, prefetch, cam, rendered):
        """Draws the map into the graph for its dimensionality; on a prefetch request (posted by
        assets/clientside.js once the shown map is idle) draws the sibling map into the hidden
        graph, so a later 2-D <-> 3-D switch only toggles the graphs."""
        pre = (prefetch or {}) if ctx.triggered_id == ids.ST_PREFETCH else None   # {}: nothing to do
        try:
            r = render.render_graphs(urlstate.merge(view, sel, interp, z, cam), rendered, catalog, pre)
        except LatentdashError as e:
            log.warning("map: %s", e)
            raise PreventUpdate from None
        if r is None:
            raise PreventUpdate
        figs = []
        for d in ("2", "3"):
            f = r["figs"][d]
            figs.append(no_update if f is None or f["kind"] == "none" else
                        f["figure"] if f["kind"] == "full" else to_patch(f["ops"]))
        return figs[0], figs[1], r["rendered"]

    @app.callback(Output(ids.INS_ORIG, "src"), Output(ids.INS_RECON, "src"), Output(ids.INS_LABEL, "children"),
                  Output(ids.INS_BAR, "src"), Output(ids.INS_NBRS, "children"),
                  Output(ids.BTN_A, "disabled"), Output(ids.BTN_B, "disabled"),
                  Input(ids.ST_SEL, "data"), prevent_initial_call=True)
    def draw_inspector(sel):
        try:
            r = render.render_inspector(sel or {}, catalog)
        except LatentdashError as e:
            log.warning("inspector: %s", e)
            raise PreventUpdate from None
        if r["i"] is None:
            return (layout.BLANK, layout.BLANK, "Click a point on the map to inspect it.",
                    no_update, [], True, True)
        label = [html.Strong(f"#{r['i']}"), f" {r['label']}",
                 html.Br(), html.Small(f"reconstruction error {r['error']:.4f}")]
        return (r["orig"], r["recon"], label, r["bar"], layout.neighbour_buttons(r["neighbours"]),
                False, False)

    @app.callback(Output(ids.SLIDERS, "children"), Output(ids.SLIDER_NOTE, "children"),
                  Output(ids.ST_SLIDERKEY, "data"),
                  Input(ids.ST_VIEW, "data"), Input(ids.ST_DRAWN, "data"), State(ids.ST_Z, "data"),
                  State(ids.ST_SLIDERKEY, "data"), prevent_initial_call=True)
    def draw_sliders(view, drawn, z, key):
        # built once the first map is on screen (assets/clientside.js sets st-drawn): mounting a
        # dozen sliders costs ~0.25 s of the browser's main thread, which would otherwise come
        # before the map's first draw
        if not drawn:
            raise PreventUpdate
        state = urlstate.merge(view, z)
        if render.slider_key(state) == key:
            raise PreventUpdate
        try:
            r = render.render_sliders(state, catalog)
        except LatentdashError as e:
            log.warning("sliders: %s", e)
            raise PreventUpdate from None
        return layout.slider_rows(r), r["note"], r["key"]

    @app.callback(Output(ids.ST_DRAGOUT, "data"), Input(ids.ST_DRAG, "data"),
                  State(ids.ST_VIEW, "data"), State(ids.ST_Z, "data"), State(ids.ST_RENDERED, "data"),
                  prevent_initial_call=True)
    def drag(drag, view, z, rendered):
        """The hot path, posted by assets/clientside.js while a slider handle moves (at most one
        request in flight per page, newest values first): slider positions in, one small PNG and
        the marker position out. The figure is never sent; the page moves the marker itself."""
        state = urlstate.merge(view, z)
        try:
            values = drag.get("values") if isinstance(drag, dict) else None
            r = render.live_decode(values, state, catalog)
        except LatentdashError as e:
            log.warning("slider: %s", e)
            raise PreventUpdate from None
        key = render.map_key(state.get('model'), state)
        shown = isinstance(rendered, dict) and rendered.get("key") == key
        return {"src": r["src"], "key": key, "pt": r["pt"] if shown else None}

    @app.callback(Output(ids.CUR_IMG, "src"), Input(ids.ST_Z, "data"), prevent_initial_call=True)
    def draw_current(z):
        try:
            return render.render_current(z or {}, catalog)
        except LatentdashError as e:
            log.warning("current vector: %s", e)
            raise PreventUpdate from None

    @app.callback(Output(ids.INT_A, "children"), Output(ids.INT_B, "children"), Output(ids.STRIP, "children"),
                  Output(ids.BLEND, "children"), Output(ids.INT_HINT, "children"),
                  Output(ids.BTN_SWAP, "disabled"),
                  Input(ids.ST_INTERP, "data"), prevent_initial_call=True)
    def draw_interp(interp):
        try:
            r = render.render_interp(interp or {}, catalog)
        except LatentdashError as e:
            log.warning("interpolation: %s", e)
            raise PreventUpdate from None
        hint = ("" if r["steps"] else
                "Now pick endpoint B." if r["a"] is not None else
                "Now pick endpoint A." if r["b"] is not None else "No endpoints yet.")
        return (layout.endpoint("A", r["a"]), layout.endpoint("B", r["b"]), layout.step_buttons(r["steps"]),
                layout.blend_images(r["blend"]), hint, r["a"] is None and r["b"] is None)


def register_clientside(app):
    app.clientside_callback(
        ClientsideFunction("latentdash", "hover"),
        Output(ids.TIP, "show"), Output(ids.TIP, "bbox"), Output(ids.TIP_IMG, "src"),
        Output(ids.TIP_LABEL, "children"),
        Input(ids.GRAPH, "hoverData"), Input(ids.GRAPH3, "hoverData"), State(ids.ST_VIEW, "data"),
        State(ids.ST_META, "data"))
    app.clientside_callback(  # hands the drag loop (assets/clientside.js) what it must send
        ClientsideFunction("latentdash", "dragContext"),
        Output(ids.ST_DRAG, "data"),
        Input(ids.ST_VIEW, "data"), Input(ids.ST_Z, "data"), Input(ids.ST_RENDERED, "data"),
        State(ids.ST_META, "data"), prevent_initial_call=True)
    app.clientside_callback(
        ClientsideFunction("latentdash", "marker"),
        Output(ids.MARKER, "className"),
        Input(ids.GRAPH, "figure"), prevent_initial_call=True)
    app.clientside_callback(  # show the graph for the map's dimensionality; ask for the sibling
        ClientsideFunction("latentdash", "shown"),
        Output(ids.BOX_OF[ids.GRAPH], "className"), Output(ids.BOX_OF[ids.GRAPH3], "className"),
        Input(ids.ST_RENDERED, "data"), prevent_initial_call=True)
    app.clientside_callback(
        ClientsideFunction("latentdash", "replaceUrl"),
        Output(ids.ST_URL_REPLACE, "modified_timestamp"),
        Input(ids.ST_URL_REPLACE, "data"), prevent_initial_call=True)


def register(app, catalog) -> None:
    register_reducer(app, catalog)
    register_renderers(app, catalog)
    register_clientside(app)
