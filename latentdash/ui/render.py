"""Pure render handlers: view state -> what each part of the page shows (JSON-able dicts).

They raise `Reject` (from handlers.py) on input they can't draw; callbacks then leave the page
as it was. Images are tiny native-resolution PNG data URIs (CSS enlarges them, crisp), or
/thumb/... URLs for dataset images the browser can cache.
"""
from __future__ import annotations

import logging
from urllib.parse import quote

import numpy as np

from .. import imaging, latent_ops
from ..errors import LatentdashError
from . import figures
from .handlers import (N_NEIGHBOURS, Reject, _index, _slider_values, _state_z, _view,
                       check_steps)

log = logging.getLogger(__name__)
THUMB_ROUTE = "/thumb/<model>/<int:i>.png"


def thumb_url(model: str, i: int, prefix: str = "/") -> str:
    return f"{prefix}thumb/{quote(model, safe='')}/{int(i)}.png"


# ----------------------------------------------------------------------------- map
def _overlay_inputs(state) -> dict:
    return {"selected": [state.get("sel")],
            "A": [state.get("a")], "B": [state.get("b")],
            "path": [state.get("a"), state.get("b"), state.get("steps"), state.get("mode")],
            "current": [state.get("z")]}


def compute_overlays(state, view, names) -> dict:
    """Map coordinates of the requested overlays (empty arrays when not applicable)."""
    map_name = state["map"]
    coords = None
    out = {}
    for name in names:
        pts = None
        try:
            if name in ("selected", "A", "B"):
                i = state.get({"selected": "sel", "A": "a", "B": "b"}[name])
                if i is not None:
                    coords = view.ex.coords(map_name) if coords is None else coords
                    pts = np.asarray(coords[_index(i, view)], np.float32)[None]
            elif name == "path" and state.get("a") is not None and state.get("b") is not None:
                za, zb = (np.asarray(view.ex.latents[_index(state[k], view)], np.float32) for k in ("a", "b"))
                path = latent_ops.interpolate(za, zb, check_steps(state.get("steps")),
                                              state.get("mode") or "linear")
                pts = view.ex.project(path, map_name)
            elif name == "current":
                pts = view.ex.project(_state_z(view, state), map_name)
        except (LatentdashError, IndexError, TypeError, ValueError) as e:
            log.warning("overlay %s not drawn: %s", name, e)
            pts = None
        out[name] = pts
    return out


def map_key(model, state: dict) -> str:
    """What a drawn map figure shows: model, map and revision (also its plotly uirevision)."""
    return f"{model}|{state.get('map')}|{state.get('rev', 0)}"


def render_map(state: dict, rendered, catalog) -> dict:
    """{"kind": "full", "figure"} | {"kind": "patch", "ops"} | {"kind": "none"}, plus the new
    `rendered` record (what the browser's figure now shows)."""
    view = _view(catalog, state)
    if state.get("map") not in view.map_names:
        raise Reject(f"model {view.name!r} has no map {state.get('map')!r}")
    key = map_key(view.name, state)
    inputs = _overlay_inputs(state)
    rec = {"key": key, "colour": state.get("colour"), "ov": inputs}
    if not isinstance(rendered, dict) or rendered.get("key") != key:
        ov = compute_overlays(state, view, figures.OVERLAYS)
        fig = figures.map_figure(view, state["map"], state.get("colour", "class"), ov,
                                 cam=state.get("cam"), rev=state.get("rev", 0))
        return {"kind": "full", "figure": fig, "rendered": rec}
    ops = []
    if rendered.get("colour") != state.get("colour"):
        ops += figures.colour_ops(view, state["map"], state.get("colour", "class"))
    old = rendered.get("ov") or {}
    changed = [n for n in figures.OVERLAYS if old.get(n) != inputs[n]]
    if changed:
        ops += figures.overlay_ops(view, state["map"], compute_overlays(state, view, changed))
    if not ops:
        return {"kind": "none", "rendered": rec}
    return {"kind": "patch", "ops": ops, "rendered": rec}


def sibling_map(view, map_name: str):
    """The same space and method in the other dimensionality (2-D <-> 3-D), or None."""
    space, method, dims = view.map_parts(map_name)
    other = f"{space}-{method}-{5 - dims}d"
    return other if other in view.map_names else None


def render_graphs(state: dict, rendered, catalog, prefetch=None) -> dict:
    """The page has two map graphs, one for 2-D and one for 3-D maps; the one matching the
    state's map is shown, the other stays mounted (hidden) with what it last drew, so switching
    2-D <-> 3-D back and forth only toggles them (plotly never tears down a WebGL scene).

    rendered: {"key": shown graph's key, "active": "2"|"3", "g": {"2": record, "3": record}}.
    prefetch: {"for": key} asks to draw the sibling map (other dimensionality) into the hidden
    graph while the user looks at the shown one; ignored unless `for` is still the shown key.
    Returns {"figs": {"2": render_map result or None, "3": ...}, "rendered": new record}, or None
    when a prefetch has nothing to do (stale, no sibling, or already drawn)."""
    view = _view(catalog, state)
    if state.get("map") not in view.map_names:
        raise Reject(f"model {view.name!r} has no map {state.get('map')!r}")
    graphs = dict(rendered.get("g") or {}) if isinstance(rendered, dict) else {}
    graphs = {k: v for k, v in graphs.items() if k in ("2", "3") and isinstance(v, dict)}
    dims = str(view.map_parts(state["map"])[2])
    figs = {"2": None, "3": None}
    if prefetch is not None:
        other = sibling_map(view, state["map"])
        key = map_key(view.name, state)
        if (not isinstance(prefetch, dict) or prefetch.get("for") != key or other is None
                or graphs.get(dims, {}).get("key") != key):
            return None                   # stale, or no sibling: nothing to do
        sib = str(5 - int(dims))
        r = render_map(dict(state, map=other, cam=None), graphs.get(sib), catalog)
        if r["kind"] == "none":
            return None                   # the hidden graph already shows it
        figs[sib] = r
        graphs[sib] = r["rendered"]
    else:
        r = render_map(state, graphs.get(dims), catalog)
        figs[dims] = r
        graphs[dims] = r["rendered"]
    return {"figs": figs, "rendered": {"key": graphs[dims]["key"], "active": dims, "g": graphs}}


# ----------------------------------------------------------------------------- inspector
def render_inspector(state: dict, catalog) -> dict:
    view = _view(catalog, state)
    if state.get("sel") is None:
        return {"i": None}
    i = _index(state["sel"], view)
    z = np.asarray(view.ex.latents[i], np.float32)
    recon = view.ex.decode(z)[0]
    idx, dist = view.ex.neighbours(z, N_NEIGHBOURS + 1)
    nbrs = [{"i": int(j), "label": view.label_of(int(j)), "dist": round(float(d), 3),
             "src": thumb_url(view.name, int(j), catalog.url_prefix)}
            for j, d in zip(np.asarray(idx).tolist(), np.asarray(dist).tolist()) if int(j) != i][:N_NEIGHBOURS]
    err = float(np.asarray(view.ex.recon_error)[i])
    return {"i": i, "label": view.label_of(i), "model": view.name,
            "orig": imaging.png_data_uri(view.ex.thumbnail(i)),
            "recon": imaging.png_data_uri(recon), "error": round(err, 5),
            "bar": imaging.bar_chart_svg(z), "neighbours": nbrs}


# ----------------------------------------------------------------------------- sliders
def slider_key(state: dict) -> str:
    return f"{state.get('model')}|{state.get('basis', 'dims')}"


def render_sliders(state: dict, catalog) -> dict:
    view = _view(catalog, state)
    basis = state.get("basis", "dims")
    if basis not in view.sliders:
        raise Reject(f"unknown slider basis {basis!r}")
    axes = view.sliders[basis]
    vals = axes.values_of(_state_z(view, state))
    note = ""
    if basis == "dims" and axes.k < view.d:
        note = f"{axes.k} of {view.d} dimensions shown: those with the most variance."
    elif basis == "pcs":
        note = (f"Sliders move along the {axes.k} principal directions of the latent codes"
                + ("." if axes.k == view.d else f" (of {view.d})."))
    items = [{"label": lab, "min": float(lo), "max": float(hi),
              "step": float(max((hi - lo) / 200.0, 1e-4)), "value": round(float(v), 4)}
             for lab, lo, hi, v in zip(axes.labels, axes.lo, axes.hi, vals)]
    return {"key": slider_key(state), "axes": items, "note": note}


def render_current(state: dict, catalog) -> str:
    """The decoded image of the committed slider vector (state z)."""
    view = _view(catalog, state)
    return imaging.png_data_uri(view.ex.decode(_state_z(view, state))[0])


def live_decode(values, state: dict, catalog) -> dict:
    """Slider positions (during a drag) -> the decoded image and the map marker patch."""
    view = _view(catalog, state)
    axes = view.sliders.get(state.get("basis", "dims"))
    if axes is None:
        raise Reject(f"unknown slider basis {state.get('basis')!r}")
    z = axes.compose(_state_z(view, state), _slider_values(values, axes))
    src = imaging.png_data_uri(view.ex.decode(z)[0])
    ops, pt, dims = [], None, None
    if state.get("map") in view.map_names:
        try:
            pts = view.ex.project(z, state["map"])
            dims = int(pts.shape[1])
            pt = [round(float(v), 5) for v in pts[0]]
            ops = figures.overlay_ops(view, state["map"], {"current": pts})
        except LatentdashError as e:
            log.warning("slider marker not drawn: %s", e)
    return {"src": src, "ops": ops, "pt": pt, "dims": dims}


# ----------------------------------------------------------------------------- interpolation
def render_interp(state: dict, catalog) -> dict:
    view = _view(catalog, state)
    ends = {}
    for k in ("a", "b"):
        i = state.get(k)
        ends[k] = None if i is None else {"i": _index(i, view, k.upper()), "label": view.label_of(int(i)),
                                          "src": thumb_url(view.name, int(i), catalog.url_prefix)}
    if ends["a"] is None or ends["b"] is None:
        return {**ends, "steps": [], "blend": []}
    steps = check_steps(state.get("steps"))
    za, zb = (np.asarray(view.ex.latents[ends[k]["i"]], np.float32) for k in ("a", "b"))
    path = latent_ops.interpolate(za, zb, steps, state.get("mode") or "linear")
    imgs = view.ex.decode(path)
    blend = latent_ops.pixel_blend(view.ex.image01(ends["a"]["i"]), view.ex.image01(ends["b"]["i"]), steps)
    return {**ends, "steps": [imaging.png_data_uri(x) for x in imgs],
            "blend": [imaging.png_data_uri(x) for x in blend]}
