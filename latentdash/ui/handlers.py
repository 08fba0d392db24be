"""Pure handlers: JSON-able inputs + the read-only Catalog -> JSON-able outputs.

`reduce` is the single place where user interactions change the view state; the `render_*`
functions turn a state into what the page shows. Callbacks (callbacks.py) only move values
between component properties and these functions, so every interaction is testable without a
browser. Bad input never raises out of here: `reduce` returns the state unchanged plus a short
message, and logs one line; the render functions raise `Reject`, which callbacks turn into
"leave the page as it was".
"""
from __future__ import annotations

import logging
import math
import numbers

import numpy as np

from .. import latent_ops
from ..errors import LatentdashError
from . import urlstate
from .catalog import BASES, ModelView

log = logging.getLogger(__name__)
N_NEIGHBOURS = 8


class Reject(LatentdashError):
    """An interaction that can't be applied; the page keeps its current state."""


# ----------------------------------------------------------------------------- helpers
def _view(catalog, state) -> ModelView:
    view = catalog.get(state.get("model")) if isinstance(state, dict) else None
    if view is None:
        raise Reject(f"unknown model {state.get('model') if isinstance(state, dict) else state!r}")
    return view


def _index(value, view: ModelView, what: str = "point") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Reject(f"{what} index {value!r} is not a number")
    try:
        f = float(value)
    except ValueError as e:
        raise Reject(f"{what} index {value!r} is not a number") from e
    if not math.isfinite(f) or f != int(f) or not 0 <= int(f) <= view.n - 1:
        raise Reject(f"{what} index {value!r} is out of range 0..{view.n - 1}")
    return int(f)


def check_steps(value) -> int:
    """A whole number of interpolation steps in 2..32 (Reject otherwise)."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
          and value == int(value) and urlstate.MIN_STEPS <= value <= urlstate.MAX_STEPS)
    if not ok:
        raise Reject(f"steps must be a whole number from {urlstate.MIN_STEPS} to "
                     f"{urlstate.MAX_STEPS}, got {value!r}")
    return int(value)


def _latent(view: ModelView, i: int) -> list[float]:
    return [float(v) for v in np.asarray(view.ex.latents[i], np.float32)]


def _state_z(view: ModelView, state: dict) -> np.ndarray:
    z = state.get("z")
    if z is None:
        sel = state.get("sel")
        return np.asarray(view.ex.latents[sel] if sel is not None else view.lat_mean, np.float32)
    try:
        return latent_ops.as_vector(z, view.d, "slider vector")
    except LatentdashError as e:
        raise Reject(str(e)) from e


def click_index(click, view: ModelView) -> int:
    """Dataset index of a clicked point: its customdata, else (curveNumber, pointNumber)."""
    try:
        pt = click["points"][0]
    except (TypeError, KeyError, IndexError) as e:
        raise Reject("click carries no point") from e
    if not isinstance(pt, dict):
        raise Reject("click carries no point")
    curve = pt.get("curveNumber")
    if isinstance(curve, int) and curve >= len(view.trace_idx):
        raise Reject("click on an overlay, not a data point")
    if "customdata" in pt:
        return _index(pt["customdata"], view)
    pos = pt.get("pointNumber")
    if isinstance(curve, int) and isinstance(pos, int):
        i = view.point_from_trace(curve, pos)
        if i is not None:
            return i
    raise Reject("click carries no point id")


def camera_from_relayout(rel, dims: int, old):
    """The camera to remember after a relayout event; `old` when the event isn't a camera move."""
    if not isinstance(rel, dict):
        raise Reject("relayout event is not an object")
    if dims == 2:
        if rel.get("xaxis.autorange") or rel.get("yaxis.autorange"):
            return None
        try:
            x = [float(v) for v in (rel["xaxis.range"] if "xaxis.range" in rel else
                                    (rel["xaxis.range[0]"], rel["xaxis.range[1]"]))]
            y = [float(v) for v in (rel["yaxis.range"] if "yaxis.range" in rel else
                                    (rel["yaxis.range[0]"], rel["yaxis.range[1]"]))]
        except (KeyError, TypeError, ValueError):
            return old
        if len(x) != 2 or len(y) != 2:
            raise Reject("relayout ranges need two numbers per axis")
        if not all(map(math.isfinite, x + y)) or x[1] <= x[0] or y[1] <= y[0]:
            raise Reject("relayout ranges are not finite increasing numbers")
        return {"x": x, "y": y}
    cam = rel.get("scene.camera")
    if not isinstance(cam, dict):
        return old
    out = {}
    for p in ("eye", "center", "up"):
        v = cam.get(p) if isinstance(cam.get(p), dict) else {}
        try:
            out[p] = {a: float(v.get(a, 0.0 if p != "up" or a != "z" else 1.0)) for a in "xyz"}
        except (TypeError, ValueError) as e:
            raise Reject("3-D camera has non-numeric values") from e
        if not all(math.isfinite(c) for c in out[p].values()):
            raise Reject("3-D camera has non-finite values")
    return out


# ----------------------------------------------------------------------------- reduce
def _set_sel(state, view, i):
    state["sel"] = i
    state["z"] = _latent(view, i)


def _change_model(state, catalog, name):
    view = catalog.get(name)
    if view is None:
        raise Reject(f"unknown model {name!r}")
    old = catalog.get(state.get("model"))
    space, method, dims = old.map_parts(state["map"]) if old else ("latent", "umap", 2)
    state["model"] = view.name
    state["map"] = view.resolve_map(space, method, dims)
    if state.get("colour") not in view.colour_options:
        state["colour"] = view.colour_options[0]
    if not catalog.shared_index:
        state.update(sel=0, a=None, b=None)
    for k in ("sel", "a", "b"):
        if state.get(k) is not None and not 0 <= state[k] < view.n:
            state[k] = None
    state["z"] = _latent(view, state["sel"]) if state.get("sel") is not None else [
        float(v) for v in view.lat_mean]
    state["cam"] = None


def _choose_map(state, view, value):
    if not isinstance(value, dict):
        raise Reject("map choice is not an object")
    name = view.resolve_map(value.get("space"), value.get("method"), value.get("dims"))
    if name != state["map"]:
        state["map"] = name
        state["cam"] = None


def _interp_steps(state, view):
    if state.get("a") is None or state.get("b") is None:
        raise Reject("pick endpoints A and B first")
    za, zb = (np.asarray(view.ex.latents[_index(state[k], view, k.upper())], np.float32) for k in ("a", "b"))
    return latent_ops.interpolate(za, zb, check_steps(state.get("steps")), state.get("mode") or "linear")


def _apply(state: dict, event: str, value, catalog, click_mode: str) -> bool:
    """Mutate `state` for one event. Returns True when the URL should get a history entry
    (False: replace it, e.g. camera moves). Raises Reject for bad input."""
    view = _view(catalog, state)
    if event == "model":
        _change_model(state, catalog, value)
    elif event == "map":
        _choose_map(state, view, value)
    elif event == "colour":
        if value not in view.colour_options:
            raise Reject(f"unknown colouring {value!r}")
        state["colour"] = value
    elif event == "basis":
        if value not in BASES:
            raise Reject(f"unknown slider basis {value!r}")
        state["basis"] = value
    elif event == "click":
        i = click_index(value, view)
        if click_mode == "a":
            state["a"] = i
        elif click_mode == "b":
            state["b"] = i
        else:
            _set_sel(state, view, i)
    elif event == "nbr":
        _set_sel(state, view, _index(value, view, "neighbour"))
    elif event in ("set_a", "set_b"):
        if state.get("sel") is None:
            raise Reject("select a point first (click it on the map)")
        state[event[-1]] = state["sel"]
    elif event == "swap":
        state["a"], state["b"] = state.get("b"), state.get("a")
    elif event == "steps":
        state["steps"] = check_steps(value)
    elif event == "mode":
        if value not in latent_ops.MODES:
            raise Reject(f"unknown interpolation {value!r}; use linear or spherical")
        state["mode"] = value
    elif event == "reset":
        state["z"] = (_latent(view, state["sel"]) if state.get("sel") is not None
                      else [float(v) for v in view.lat_mean])
    elif event == "random":
        seed = int(value) if isinstance(value, int) and not isinstance(value, bool) else None
        state["z"] = [float(v) for v in np.asarray(view.ex.sample_prior(1, seed), np.float32).reshape(-1)]
    elif event == "step":
        path = _interp_steps(state, view)
        k = _index(value, view, "step")
        if k >= len(path):
            raise Reject(f"step {k} is out of range 0..{len(path) - 1}")
        state["z"] = [float(v) for v in path[k]]
    elif event == "sliders":
        axes = view.sliders[state.get("basis", "dims")]
        vals = _slider_values(value, axes)
        z = axes.compose(_state_z(view, state), vals)
        if np.allclose(z, _state_z(view, state), atol=1e-6):
            raise Reject("")  # nothing changed (e.g. sliders re-rendered); not an error
        state["z"] = [float(v) for v in z]
    elif event == "relayout":
        _, _, dims = view.map_parts(state["map"])
        cam = camera_from_relayout(value, dims, state.get("cam"))
        if cam == state.get("cam"):
            raise Reject("")
        state["cam"] = cam
        return False
    else:
        raise Reject(f"unknown event {event!r}")
    return True


def _slider_values(values, axes) -> np.ndarray:
    if not isinstance(values, (list, tuple)) or len(values) != axes.k:
        raise Reject(f"expected {axes.k} slider values, got "
                     f"{len(values) if isinstance(values, (list, tuple)) else type(values).__name__}")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
        raise Reject("slider values must be numbers")
    v = np.asarray(values, np.float64)
    if not np.isfinite(v).all():
        raise Reject("slider values must be finite (got NaN or infinity)")
    return np.clip(v, axes.lo, axes.hi).astype(np.float32)


def reduce(state: dict, event: str, value, catalog, click_mode: str = "inspect") -> dict:
    """Apply one user event to the view state.

    Returns {"state": new state or None (unchanged), "url": "push" | "replace" | None,
             "sliders": slider positions for the new state or None, "message": str or None}.
    """
    if event == "url":
        new, problems = urlstate.parse(value, catalog)
        msg = None
        if problems:
            msg = "Ignored bad link parameter(s): " + ", ".join(problems)
            log.warning("url: ignored bad parameter(s) %s in %.200r", ", ".join(problems), value)
        if isinstance(state, dict) and {k: new.get(k) for k in new if k != "rev"} == {
                k: state.get(k) for k in new if k != "rev"}:
            return {"state": None, "url": None, "sliders": None, "message": msg}
        new["rev"] = int(state.get("rev") or 0) + 1 if isinstance(state, dict) else 0
        return {"state": new, "url": None, "sliders": slider_positions(new, catalog),
                "message": msg}
    try:
        if not isinstance(state, dict) or catalog.get(state.get("model")) is None:
            state = urlstate.default_state(catalog)
        new = dict(state)
        push = _apply(new, event, value, catalog, click_mode)
    except Reject as e:
        if str(e):
            log.warning("%s: %s", event, e)
        return {"state": None, "url": None, "sliders": None, "message": str(e) or None}
    except LatentdashError as e:
        log.warning("%s: %s", event, e)
        return {"state": None, "url": None, "sliders": None, "message": str(e)}
    sliders = None
    if event not in ("sliders", "relayout", "colour", "map", "steps", "mode", "swap", "set_a", "set_b"):
        sliders = slider_positions(new, catalog)
    return {"state": new, "url": "push" if push else "replace", "sliders": sliders, "message": None}


def slider_positions(state: dict, catalog) -> list[float]:
    view = _view(catalog, state)
    axes = view.sliders[state.get("basis", "dims")]
    return [round(float(v), 4) for v in axes.values_of(_state_z(view, state))]
