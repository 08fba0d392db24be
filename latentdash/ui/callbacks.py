"""Callback wiring: component properties <-> the event registry and the render handlers.
Registered on one app instance (`app.callback`, never the module-global `dash.callback`), so two
apps never share callbacks.

Flow: every interaction goes through one reducer callback, generated from events.EVENTS, that
writes the state stores, the URL and the controls; render callbacks each watch one store. The
slider drag callback is separate and tiny (slider positions in; one PNG data URI and the marker
position out) and is posted by assets/ld-4-drag.js while a handle moves, so no Dash re-render
happens per frame. A render callback that fails says so in the page's message line (`shown`).
"""

from __future__ import annotations

import functools
import json
import logging

from dash import ALL, ClientsideFunction, Input, Output, Patch, State, ctx, html, no_update, set_props
from dash.exceptions import PreventUpdate

from ..errors import LatentdashError
from . import algebra_render, contract, events, handlers, ids, layout, plaus_render, render, urlstate
from .events import URL_SOURCE, Source

log = logging.getLogger(__name__)
OPTIONS = {"space": ids.SPACE, "method": ids.METHOD, "dims": ids.DIMS, "colour": ids.COLOUR}
ALGEBRA_OPTIONS = {
    "sel_class": ids.SEL_CLASS,
    "attr_from": ids.ATTR_FROM,
    "attr_to": ids.ATTR_TO,
    "attr_axis": ids.ATTR_AXIS,
}


def to_patch(ops: list[dict]) -> Patch:
    p = Patch()
    for op in ops:
        if "layout" in op:
            for key, val in op["layout"].items():
                p["layout"][key] = val
            continue
        for key, val in op["props"].items():
            p["data"][op["trace"]][key] = val
    return p


def shown(what: str, n_outputs: int):
    """Decorator for render callbacks: a one-line LatentdashError leaves the page as it was and
    writes "Could not show the <what>: <reason>" into the message line. Anything else is a bug:
    it propagates (logged with its traceback by the server, answered 500)."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args):
            try:
                return fn(*args)
            except LatentdashError as e:
                log.warning("%s: %s", what, e)
                set_props(ids.MSG, {"children": f"Could not show the {what}: {e}"})
                return no_update if n_outputs == 1 else [no_update] * n_outputs

        return run

    return wrap


def _dash_dep(cls, source: Source):
    return cls({"type": source.id, "index": ALL} if source.pattern else source.id, source.prop)


def fired_inputs() -> list:
    """[(component id, property, value)] of every input that fired this request; the page's
    first call (nothing fired) is the URL: [(None, None, None)]."""
    out = []
    for t in ctx.triggered or []:
        cid, _, prop = str(t.get("prop_id", "")).rpartition(".")
        if not cid:
            continue
        out.append((json.loads(cid) if cid.startswith("{") else cid, prop, t.get("value")))
    return out or [(None, None, None)]


# ----------------------------------------------------------------------------- the reducer
def _reducer_outputs(outputs) -> dict:
    return {k: ({kk: no_update for kk in v} if isinstance(v, dict) else no_update) for k, v in outputs.items()}


def _write_state(out, res, old, event, click_mode, kw, catalog):
    new = res["state"]
    out["stores"] = {k: (no_update if v is None else v) for k, v in events.store_updates(old, new).items()}
    if res["url"] == "push":
        out["search"] = urlstate.serialize(new, catalog)
    elif res["url"] == "replace":
        out["replace"] = urlstate.serialize(new, catalog)
    sliders_now = kw[Source(ids.SLIDER, "value", pattern=True).key]
    if res["sliders"] is not None and len(sliders_now) == len(res["sliders"]):
        out["sliders"] = res["sliders"]
    view = catalog.get(new["model"])
    out["controls"] = {
        cid: (v if kw[Source(cid, "value").key] != v else no_update)
        for cid, v in events.control_values(new, view).items()
    }
    if old is None or old.get("model") != new["model"] or old.get("map") != new["map"]:
        opts = layout.control_options(view, new["map"])
        model_changed = old is None or old.get("model") != new["model"]
        out["options"] = {k: (v if model_changed or k != "colour" else no_update) for k, v in opts.items()}
    new_opts = layout.algebra_options(view, new)
    old_opts = layout.algebra_options(catalog.get(old["model"]), old) if old and catalog.get(old.get("model")) else {}
    out["algebra_options"] = {k: (v if old_opts.get(k) != v else no_update) for k, v in new_opts.items()}
    mode = events.click_mode_after(event, click_mode)
    if mode is not None:
        out["click_mode"] = mode


def register_reducer(app, catalog):
    control_ids = tuple(events.control_values(urlstate.default_state(catalog), catalog.get(catalog.default)))
    outputs = dict(
        stores={k: Output(v, "data") for k, v in ids.STORE_OF.items()},
        search=Output(ids.URL, "search"),
        replace=Output(ids.ST_URL_REPLACE, "data"),
        sliders=Output({"type": ids.SLIDER, "index": ALL}, "value"),
        controls={cid: Output(cid, "value") for cid in control_ids},
        options={k: Output(cid, "options") for k, cid in OPTIONS.items()},
        algebra_options={k: Output(cid, "options") for k, cid in ALGEBRA_OPTIONS.items()},
        click_mode=Output(ids.CLICK_MODE, "value"),
        msg=Output(ids.MSG, "children"),
    )
    inputs = {s.key: _dash_dep(Input, s) for s in (URL_SOURCE, *events.SOURCES)}
    state = dict(
        stores={k: State(v, "data") for k, v in ids.STORE_OF.items()},
        click_mode=State(ids.CLICK_MODE, "value"),
        reads={s.key: _dash_dep(State, s) for s in events.READS},
    )

    @app.callback(output=outputs, inputs=inputs, state=state)
    def reducer(stores, click_mode, reads, **kw):
        kw = {**kw, **reads}
        old = urlstate.merge(*stores.values()) if stores.get("map") else None
        kept = stores.get(urlstate.BROWSER_KEPT)  # the browser's stored copy (local storage)
        res, names = events.reduce_all(old, fired_inputs(), kw, catalog, click_mode or "inspect", kept)
        if res is None or (res["state"] is None and not res["message"]):
            raise PreventUpdate
        event = "click" if "click" in names else names[-1]
        out = _reducer_outputs(outputs)
        out["sliders"] = [no_update] * len(kw[Source(ids.SLIDER, "value", pattern=True).key])
        out["msg"] = res["message"] or ""
        if res["state"] is not None:
            _write_state(out, res, old, event, click_mode, kw, catalog)
        return out


# ----------------------------------------------------------------------------- renderers
def register_map(app, catalog):
    # fmt: off
    @app.callback(Output(ids.GRAPH, "figure"), Output(ids.GRAPH3, "figure"), Output(ids.ST_RENDERED, "data"),
                  Input(ids.ST_MAP, "data"), Input(ids.ST_SEL, "data"), Input(ids.ST_INTERP, "data"),
                  Input(ids.ST_Z, "data"), Input(ids.ST_SELECTION, "data"), Input(ids.ST_ATTR, "data"),
                  Input(ids.ST_ARITH, "data"), Input(ids.ST_PRIOR, "data"), Input(ids.ST_PREFETCH, "data"),
                  Input(ids.ST_UPLOAD, "data"),
                  State(ids.ST_CAM, "data"), State(ids.ST_RENDERED, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("map", 3)
    def draw_map(map_part, sel, interp, z, selection, attr, arith, prior, prefetch, upload, cam, rendered):
        """Draws the map into the graph for its dimensionality; on a prefetch request (posted by
        assets/ld-3-map.js once the shown map is idle) draws the sibling map into the hidden
        graph, so a later 2-D <-> 3-D switch only toggles the graphs."""
        pre = (prefetch or {}) if ctx.triggered_id == ids.ST_PREFETCH else None  # {}: nothing to do
        state = urlstate.merge(map_part, sel, interp, z, selection, attr, arith, prior, upload, cam)
        r = render.render_graphs(state, rendered, catalog, pre)
        if r is None:
            raise PreventUpdate
        figs = []
        for d in ("2", "3"):
            f = r["figs"][d]
            figs.append(
                no_update
                if f is None or f["kind"] == "none"
                else f["figure"]
                if f["kind"] == "full"
                else to_patch(f["ops"])
            )
        return figs[0], figs[1], r["rendered"]


def register_inspector(app, catalog):
    # fmt: off
    @app.callback(Output(ids.INS_ORIG, "src"), Output(ids.INS_RECON, "src"), Output(ids.INS_LABEL, "children"),
                  Output(ids.INS_BAR, "src"), Output(ids.INS_NBRS, "children"),
                  Output(ids.BTN_A, "disabled"), Output(ids.BTN_B, "disabled"),
                  Output(ids.INS_ORIG_CAP, "children"), Output(ids.INS_RECON_CAP, "children"),
                  Input(ids.ST_SEL, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("inspector", 9)
    def draw_inspector(sel):
        r = render.render_inspector(sel or {}, catalog)
        if r["i"] is None:
            captions = render.inspector_captions(handlers.view_of(catalog, sel or {}))
            return (
                layout.BLANK,
                layout.BLANK,
                "Click a point on the map to inspect it.",
                no_update,
                [],
                True,
                True,
                *captions,
            )
        label = [html.Strong(f"#{r['i']}"), f" {r['label']}"]
        if r["error"] is not None:
            label += [html.Br(), html.Small(f"reconstruction error {r['error']:.4f}")]
        return (
            r["orig"],
            r["recon"],
            label,
            r["bar"],
            layout.neighbour_buttons(r["neighbours"]),
            False,
            False,
            *r["captions"],
        )

    @app.callback(
        Output(ids.SEL_NOTE, "children"), Output(ids.BTN_CLEAR_SEL, "disabled"), Input(ids.ST_SELECTION, "data")
    )
    @shown("selection", 2)
    def draw_selection(selection):
        if not selection:  # the page's first call: the default state has no selection
            return render.render_selection({"model": catalog.default}, catalog)["note"], True
        r = render.render_selection(selection, catalog)
        return r["note"], r["count"] == 0


def register_sliders(app, catalog):
    # fmt: off
    @app.callback(Output(ids.SLIDERS, "children"), Output(ids.SLIDER_NOTE, "children"),
                  Output(ids.ST_SLIDERKEY, "data"),
                  Input(ids.ST_MAP, "data"), Input(ids.ST_DRAWN, "data"), State(ids.ST_Z, "data"),
                  State(ids.ST_SLIDERKEY, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("sliders", 3)
    def draw_sliders(map_part, drawn, z, key):
        # built once the first map is on screen (assets/ld-2-plotly.js sets st-drawn): mounting a
        # dozen sliders costs ~0.25 s of the browser's main thread, which would otherwise come
        # before the map's first draw
        if not drawn:
            raise PreventUpdate
        state = urlstate.merge(map_part, z)
        if render.slider_key(state) == key:
            raise PreventUpdate
        r = render.render_sliders(state, catalog)
        return layout.slider_rows(r), r["note"], r["key"]

    @app.callback(Output(ids.CUR_IMG, "src"), Input(ids.ST_Z, "data"), prevent_initial_call=True)
    @shown("current vector", 1)
    def draw_current(z):
        return render.render_current(z or {}, catalog)


def drag_frame(catalog, drag, map_part, z, rendered, attrvec) -> dict:
    """The hot path, posted by assets/ld-4-drag.js while a slider handle moves (at most one
    request in flight per page, newest values first): slider positions in, one small PNG and
    the marker position out. The figure is never sent; the page moves the marker itself.
    A bad request answers {"error": reason}, which the page shows in its message line.
    Served by the `drag` callback below and, for a well-formed request, by the same function
    without Dash's dispatch (server/fastpath.py)."""
    state = urlstate.merge(map_part, z)
    kind = drag.get("kind", "z") if isinstance(drag, dict) else "z"
    try:
        values = drag.get("values") if isinstance(drag, dict) else None
        if kind == "strength":  # the attribute-strength slider: one image, no marker
            return {**algebra_render.live_strength(values, attrvec, state, catalog), "kind": kind}
        if kind == "plaus":  # a frame the browser decoded: its plausibility only (assets/ld-7-plaus.js)
            return {"kind": kind, "plaus": plaus_render.live(values, state, catalog)}
        r = render.live_decode(values, state, catalog)
    except LatentdashError as e:
        log.warning("%s drag: %s", kind, e)
        what = "attribute edit" if kind == "strength" else "slider vector"
        return {"error": f"Could not decode the {what}: {e}"}
    key = render.map_key(state.get("model"), state)
    on_show = isinstance(rendered, dict) and rendered.get("key") == key
    out = {"src": r["src"], "key": key, "pt": r["pt"] if on_show else None}
    if not (isinstance(drag, dict) and drag.get("plaus") is False):  # rides along (False: the bench's A/B)
        out["plaus"] = plaus_render.frame_plaus(handlers.view_of(catalog, state), r["z"], state.get("map"))
    return out


def register_drag(app, catalog):
    @app.callback(
        Output(*contract.DRAG_OUTPUT),
        Input(*contract.DRAG_INPUT),
        *(State(i, p) for i, p, _ in contract.DRAG_STATE),
        prevent_initial_call=True,
    )
    def drag(drag, map_part, z, rendered, attrvec):
        return drag_frame(catalog, drag, map_part, z, rendered, attrvec)


def register_interp(app, catalog):
    # fmt: off
    @app.callback(Output(ids.INT_A, "children"), Output(ids.INT_B, "children"), Output(ids.STRIP, "children"),
                  Output(ids.BLEND, "children"), Output(ids.INT_HINT, "children"), Output(ids.BTN_SWAP, "disabled"),
                  Input(ids.ST_INTERP, "data"), Input(ids.ST_DECODE, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("interpolation", 6)
    def draw_interp(interp, decode):
        from . import grids  # the page decodes the strip when st-decode names the model (ui/grids.py)

        model = handlers.view_of(catalog, interp or {}).name
        if grids.skip_for(decode, model):
            raise PreventUpdate
        r = render.render_interp(interp or {}, catalog, grids.decodes_here(decode, model))
        hint = (
            ""
            if r["steps"]
            else "Now pick endpoint B."
            if r["a"] is not None
            else "Now pick endpoint A."
            if r["b"] is not None
            else "No endpoints yet."
        )
        return (
            layout.endpoint("A", r["a"]),
            layout.endpoint("B", r["b"]),
            layout.step_buttons(r["steps"], r.get("verdicts")),
            layout.blend_images(r["blend"]),
            hint,
            r["a"] is None and r["b"] is None,
        )


def register_clientside(app):
    def js(name, *deps, **kw):
        app.clientside_callback(ClientsideFunction("latentdash", name), *deps, **kw)

    js(
        "hover",
        Output(ids.TIP, "show"),
        Output(ids.TIP, "bbox"),
        Output(ids.TIP_IMG, "src"),
        Output(ids.TIP_LABEL, "children"),
        Input(ids.GRAPH, "hoverData"),
        Input(ids.GRAPH3, "hoverData"),
        State(ids.ST_MAP, "data"),
        State(ids.ST_META, "data"),
    )
    # hands the drag loop (assets/ld-4-drag.js) the state it must send: the drag callback's State
    js(
        "dragContext",
        Output(ids.ST_DRAG, "data"),
        *(Input(i, p) for i, p, _ in contract.DRAG_STATE),
        prevent_initial_call=True,
    )
    js("marker", Output(ids.MARKER, "className"), Input(ids.GRAPH, "figure"), prevent_initial_call=True)
    # (a box/lasso selection reaches st-lasso from plotly's own event: assets/ld-3-map.js)
    # show the graph for the map's dimensionality; ask for the sibling
    js(
        "shown",
        Output(ids.GRAPH_BOX, "className"),
        Output(ids.GRAPH3_BOX, "className"),
        Input(ids.ST_RENDERED, "data"),
        prevent_initial_call=True,
    )
    js(
        "replaceUrl",
        Output(ids.ST_URL_REPLACE, "modified_timestamp"),
        Input(ids.ST_URL_REPLACE, "data"),
        prevent_initial_call=True,
    )


def register(app, catalog) -> None:
    contract.install(app, catalog.url_prefix)
    register_reducer(app, catalog)
    register_map(app, catalog)
    register_inspector(app, catalog)
    register_sliders(app, catalog)
    register_drag(app, catalog)
    register_interp(app, catalog)
    from . import algebra_callbacks  # it uses `shown` from here

    algebra_callbacks.register_algebra(app, catalog)
    from . import jobs_callbacks

    jobs_callbacks.register_jobs(app, catalog)  # no-op without a job runtime (catalog.jobs)
    from .analysis_card import register_analysis

    register_analysis(app, catalog)  # fit diagnosis, semantic regions, topology
    from . import plaus_callbacks

    plaus_callbacks.register_plaus(app, catalog)
    from .anywhere import register_anywhere

    register_anywhere(app, catalog)  # decode anywhere, the manifold grid
    from .upload_callbacks import register_upload

    register_upload(app, catalog)  # your image: upload or draw
    from .export_links import register_exports

    register_exports(app, catalog)  # download links, copy link
    register_clientside(app)
