"""Pure render handlers: view state -> what each part of the page shows (JSON-able dicts).

They raise `Reject` (handlers.py) or another one-line LatentdashError on input they can't draw;
the callbacks then leave the page as it was and say why in the message line. Images are tiny
native-resolution PNG data URIs (CSS enlarges them, crisp), or /thumb/... URLs for dataset images
the browser can cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from urllib.parse import quote

import numpy as np

from .. import imaging, latent_ops
from ..errors import LatentdashError
from . import algebra, analysis, figures, upload
from .handlers import (
    N_NEIGHBOURS,
    Reject,
    check_index,
    check_indices,
    check_steps,
    interp_path,
    slider_values,
    state_z,
    view_of,
)
from .schema import selection_fits_url

log = logging.getLogger(__name__)


def thumb_url(model: str, i: int, prefix: str = "/") -> str:
    return f"{prefix}thumb/{quote(model, safe='')}/{int(i)}.png"


# ----------------------------------------------------------------------------- map
def _overlay_inputs(state) -> dict:
    """Per overlay, the state values it is drawn from (a changed value = redraw that overlay)."""
    return {
        "selected": [state.get("sel")],
        "A": [state.get("a")],
        "B": [state.get("b")],
        "path": [state.get("a"), state.get("b"), state.get("steps"), state.get("mode")],
        "current": [state.get("z")],
        "selection": [state.get("selection")],
        "prior": [state.get(k) for k in ("pon", "pn", "pseed", "ptemp")],
        "attr": [state.get("dir")] + ([state.get("selection"), state.get("groups")] if state.get("dir") else []),
        "arith": [state.get(k) for k in ("arA", "arB", "arC")],
        "edit": [state.get("dir"), state.get("strength")]
        + ([state.get("z"), state.get("selection"), state.get("groups")] if state.get("dir") else []),
        "labels": [state.get("rlabels")],  # region labels: annotations, not a trace (ui/analysis.py)
        "upload": [state.get("upimg")],  # your image's star (ui/upload.py)
    }


def _overlay_points(name, state, view, map_name, coords):
    if name in ("selected", "A", "B"):
        i = state.get({"selected": "sel", "A": "a", "B": "b"}[name])
        return None if i is None else np.asarray(coords()[check_index(i, view)], np.float32)[None]
    if name == "path":
        path = interp_path(view, state)
        return None if path is None else view.explorer.project(path, map_name)
    if name == "current":
        return view.explorer.project(state_z(view, state), map_name)
    if name == "prior":
        return view.explorer.project(algebra.prior_samples(view, state), map_name) if state.get("pon") else None
    if name == "attr":
        d = algebra.direction(view, state) if state.get("dir") else None
        return None if d is None or d.ends is None else view.explorer.project(np.stack(d.ends), map_name)
    if name == "arith":
        if any(state.get(k) is None for k in ("arA", "arB", "arC")):
            return None
        return view.explorer.project(algebra.arithmetic(view, state), map_name)
    if name == "edit":
        return view.explorer.project(algebra.edited(view, state)[1], map_name) if state.get("dir") else None
    if name == "upload":
        return upload.overlay_points(view, state, map_name)
    raise ValueError(name)


def _digest(value) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= 64 else hashlib.sha1(text.encode()).hexdigest()[:16]


def compute_overlays(state, view, names) -> dict:
    """Map coordinates of the requested overlays (None where not applicable or not drawable)."""
    map_name = state["map"]
    cache = []

    def coords():
        if not cache:
            cache.append(view.explorer.coords(map_name))
        return cache[0]

    out = {}
    for name in names:
        try:
            out[name] = _overlay_points(name, state, view, map_name, coords)
        except (LatentdashError, IndexError, TypeError, ValueError) as e:
            log.warning("overlay %s not drawn: %s", name, e)
            out[name] = None
    return out


def map_key(model, state: dict) -> str:
    """What a drawn map figure shows: model, map and revision (also its plotly uirevision)."""
    return figures.uirevision(model, state.get("map"), state.get("rev", 0))


def _check_map(view, state):
    if state.get("map") not in view.map_names:
        raise Reject(f"model {view.name!r} has no map {state.get('map')!r}")


def render_map(state: dict, rendered, catalog) -> dict:
    """{"kind": "full", "figure"} | {"kind": "patch", "ops"} | {"kind": "none"}, plus the new
    `rendered` record (what the browser's figure now shows: its key, colouring and overlays)."""
    view = view_of(catalog, state)
    _check_map(view, state)
    key = map_key(view.name, state)
    inputs = _overlay_inputs(state)
    # what each overlay was drawn from, as a short digest: the record travels with every map
    # request, and a selection's inputs are tens of thousands of indices
    inputs = {name: _digest(v) for name, v in inputs.items()}
    record = {"key": key, "colour": state.get("colour"), "overlays": inputs}
    selection = state.get("selection")
    if not isinstance(rendered, dict) or rendered.get("key") != key:
        overlays = compute_overlays(state, view, figures.OVERLAYS)
        overlays["labels"] = analysis.map_labels(view, state)
        fig = figures.map_figure(
            view,
            state["map"],
            state.get("colour", "class"),
            overlays,
            cam=state.get("cam"),
            rev=state.get("rev", 0),
            selection=selection,
        )
        return {"kind": "full", "figure": fig, "rendered": record}
    ops = []
    if rendered.get("colour") != state.get("colour"):
        ops += figures.colour_ops(view, state["map"], state.get("colour", "class"))
    old = rendered.get("overlays") or {}
    changed = [n for n in figures.OVERLAYS if old.get(n) != inputs[n]]
    if changed:
        ops += figures.overlay_ops(view, state["map"], compute_overlays(state, view, changed))
    if old.get("labels") != inputs["labels"] or ("attr" in changed and state.get("rlabels")):
        ops += analysis.annotation_ops(view, state, compute_overlays(state, view, ["attr"])["attr"])
    if old.get("selection") != inputs["selection"] and not state.get("seldrawn"):
        ops += figures.selection_ops(view, state["map"], selection)
    if not ops:
        return {"kind": "none", "rendered": record}
    return {"kind": "patch", "ops": ops, "rendered": record}


def sibling_map(view, map_name: str):
    """The same space and method in the other dimensionality (2-D <-> 3-D), or None."""
    return view.sibling_map(map_name)


def _prefetch(state, view, graphs, dims, prefetch, catalog):
    """The sibling map drawn into the hidden graph, or None when there is nothing to do."""
    other = view.sibling_map(state["map"])
    key = map_key(view.name, state)
    if (
        not isinstance(prefetch, dict)
        or prefetch.get("for") != key
        or other is None
        or graphs.get(dims, {}).get("key") != key
    ):
        return None  # stale, or no sibling
    r = render_map(dict(state, map=other, cam=None), graphs.get(str(5 - int(dims))), catalog)
    return None if r["kind"] == "none" else r  # "none": the hidden graph already shows it


def render_graphs(state: dict, rendered, catalog, prefetch=None) -> dict | None:
    """The page has two map graphs, one for 2-D and one for 3-D maps; the one matching the
    state's map is shown, the other stays mounted (hidden) with what it last drew, so switching
    2-D <-> 3-D back and forth only toggles them (plotly never tears down a WebGL scene).

    rendered: {"key": shown graph's key, "active": "2"|"3", "graphs": {"2": record, "3": record}}.
    prefetch: {"for": key} asks to draw the sibling map (other dimensionality) into the hidden
    graph while the user looks at the shown one; ignored unless `for` is still the shown key.
    Returns {"figs": {"2": render_map result or None, "3": ...}, "rendered": new record}, or None
    when a prefetch has nothing to do (stale, no sibling, or already drawn)."""
    view = view_of(catalog, state)
    _check_map(view, state)
    graphs = dict(rendered.get("graphs") or {}) if isinstance(rendered, dict) else {}
    graphs = {k: v for k, v in graphs.items() if k in ("2", "3") and isinstance(v, dict)}
    dims = str(view.map_parts(state["map"]).dims)
    figs = {"2": None, "3": None}
    if prefetch is not None:
        r = _prefetch(state, view, graphs, dims, prefetch, catalog)
        if r is None:
            return None
        target = str(5 - int(dims))
    else:
        r, target = render_map(state, graphs.get(dims), catalog), dims
    figs[target] = r
    graphs[target] = r["rendered"]
    return {"figs": figs, "rendered": {"key": graphs[dims]["key"], "active": dims, "graphs": graphs}}


# ----------------------------------------------------------------------------- inspector
def _neighbours(view, z, i, prefix) -> list[dict]:
    idx, dist = view.explorer.neighbours(z, N_NEIGHBOURS + 1)
    return [
        {
            "i": int(j),
            "label": view.label_of(int(j)),
            "dist": round(float(d), 3),
            "src": thumb_url(view.name, int(j), prefix),
        }
        for j, d in zip(np.asarray(idx).tolist(), np.asarray(dist).tolist())
        if int(j) != i
    ][:N_NEIGHBOURS]


def inspector_captions(view) -> tuple[str, str]:
    """A generator (no encoder) has prior samples and their decodes, not originals and
    reconstructions."""
    return ("original", "reconstruction") if view.has_encoder else ("sample", "decoded")


def render_inspector(state: dict, catalog) -> dict:
    """The inspected item ({"i": None} when nothing is selected). For a generator the captions
    say "sample" / "decoded" and there is no reconstruction error."""
    view = view_of(catalog, state)
    captions = inspector_captions(view)
    if state.get("sel") is None:
        return {"i": None}
    i = check_index(state["sel"], view)
    z = np.asarray(view.explorer.latents[i], np.float32)
    recon = view.explorer.decode(z)[0]
    err = round(float(np.asarray(view.explorer.recon_error)[i]), 5) if view.has_encoder else None
    return {
        "i": i,
        "label": view.label_of(i),
        "model": view.name,
        "captions": captions,
        "orig": imaging.png_data_uri(view.explorer.thumbnail(i)),
        "recon": imaging.png_data_uri(recon),
        "error": err,
        "bar": imaging.bar_chart_svg(z),
        "neighbours": _neighbours(view, z, i, catalog.url_prefix),
    }


# ----------------------------------------------------------------------------- selection
def render_selection(state: dict, catalog) -> dict:
    """The box/lasso selection's one-line summary: how many images, of which classes."""
    view = view_of(catalog, state)
    sel = state.get("selection")
    if not sel:
        return {"count": 0, "note": "Box or lasso select (map toolbar) to select images."}
    idx = check_indices(sel, view)
    note = f"{len(idx)} image{'s' if len(idx) != 1 else ''} selected"
    if view.has_labels:
        counts = np.bincount(view.trace_of[idx], minlength=len(view.trace_names))
        top = [f"{view.trace_names[t]} {counts[t]}" for t in np.argsort(-counts)[:3] if counts[t]]
        note += ": " + ", ".join(top) + (", ..." if np.count_nonzero(counts) > 3 else "")
    if not selection_fits_url(sel):
        note += " (too large for the link: a shared link will not carry it)"
    return {"count": len(idx), "note": note}


# ----------------------------------------------------------------------------- sliders
def slider_key(state: dict) -> str:
    return f"{state.get('model')}|{state.get('basis', 'dims')}"


def _nice_step(lo: float, hi: float) -> float:
    """A round step giving about 200 positions (0.05, 0.02, 0.01, ...): values stay short."""
    raw = max((hi - lo) / 200.0, 1e-4)
    q = 10 ** np.floor(np.log10(raw))
    return float(next(m * q for m in (1, 2, 5, 10) if m * q >= raw))


def _slider_note(view, basis, axes) -> str:
    if basis == "dims" and axes.k < view.d:
        return f"{axes.k} of {view.d} dimensions shown: those with the most variance."
    if basis == "pcs":
        return f"Sliders move along the {axes.k} principal directions of the latent codes" + (
            "." if axes.k == view.d else f" (of {view.d})."
        )
    return ""


def render_sliders(state: dict, catalog) -> dict:
    view = view_of(catalog, state)
    basis = state.get("basis", "dims")
    if basis not in view.sliders:
        raise Reject(f"unknown slider basis {basis!r}")
    axes = view.sliders[basis]
    vals = axes.values_of(state_z(view, state))
    items = [
        {
            "label": lab,
            "min": float(lo),
            "max": float(hi),
            "step": _nice_step(float(lo), float(hi)),
            "value": round(float(v), 4),
        }
        for lab, lo, hi, v in zip(axes.labels, axes.lo, axes.hi, vals)
    ]
    return {"key": slider_key(state), "axes": items, "note": _slider_note(view, basis, axes)}


def render_current(state: dict, catalog) -> str:
    """The decoded image of the committed slider vector (state z)."""
    view = view_of(catalog, state)
    return imaging.png_data_uri(view.explorer.decode(state_z(view, state))[0])


def live_decode(values, state: dict, catalog) -> dict:
    """Slider positions (during a drag) -> the decoded image and the map marker patch."""
    view = view_of(catalog, state)
    axes = view.sliders.get(state.get("basis", "dims"))
    if axes is None:
        raise Reject(f"unknown slider basis {state.get('basis')!r}")
    z = axes.compose(state_z(view, state), slider_values(values, axes))
    src = imaging.png_data_uri(view.explorer.decode_live(z)[0])
    ops, pt, dims = [], None, None
    if state.get("map") in view.map_names:
        try:
            pts = view.explorer.project(z, state["map"])
            dims = int(pts.shape[1])
            pt = [round(float(v), 5) for v in pts[0]]
            ops = figures.overlay_ops(view, state["map"], {"current": pts})
        except LatentdashError as e:
            log.warning("slider marker not drawn: %s", e)
    return {"src": src, "ops": ops, "pt": pt, "dims": dims, "z": z}  # z: for the frame's plausibility


# ----------------------------------------------------------------------------- interpolation
def _endpoint(view, state, k, prefix):
    i = state.get(k)
    if i is None:
        return None
    i = check_index(i, view, k.upper())
    return {"i": i, "label": view.label_of(i), "src": thumb_url(view.name, i, prefix)}


def render_interp(state: dict, catalog, browser: bool = False) -> dict:
    """browser: the page decodes the steps itself (ui/grids.py): their vectors, not PNGs."""
    view = view_of(catalog, state)
    ends = {k: _endpoint(view, state, k, catalog.url_prefix) for k in ("a", "b")}
    path = interp_path(view, state)
    if path is None:
        return {**ends, "steps": [], "blend": []}
    from .grids import vector_cells

    steps = vector_cells(view, path) if browser else [imaging.png_data_uri(x) for x in view.explorer.decode(path)]
    blend = latent_ops.pixel_blend(
        view.explorer.image01(ends["a"]["i"]), view.explorer.image01(ends["b"]["i"]), check_steps(state.get("steps"))
    )
    from .plaus_render import step_verdicts

    return {
        **ends,
        "steps": steps,
        "blend": [imaging.png_data_uri(x) for x in blend],
        "verdicts": step_verdicts(view, path),  # a border on the cells off the data
    }
