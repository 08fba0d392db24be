"""Pure event handlers: the view state + one event's value + the read-only Catalog -> new state.

Each handler changes the state dict it is given (a copy), returns `NO_CHANGE` when the event
changes nothing (not an error), or raises `Reject` with a short message for input it can't apply.
events.py declares which page input fires which handler; `reduce` (there) runs them. Rendering a
state is render.py's job. Nothing here touches Dash, so every interaction is tested directly.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .. import latent_ops
from ..errors import LatentdashError
from .catalog import BASES, ModelView
from .schema import MAX_STEPS, MIN_STEPS, implied_z, latent_of, number_text, parse_direction

N_NEIGHBOURS = 8
MAX_SELECTION = 200_000


class Reject(LatentdashError):
    """An interaction that can't be applied; the page keeps its current state and says why."""


class NoChange:
    """The value a handler returns when the event changes nothing (e.g. sliders re-rendered)."""

    def __repr__(self) -> str:
        return "NO_CHANGE"


NO_CHANGE = NoChange()


@dataclass(frozen=True)
class Env:
    """What a handler may read besides the state: the catalog, the state's model view and the
    page's click mode ("inspect" | "a" | "b")."""

    catalog: object
    view: ModelView
    click_mode: str = "inspect"


# ----------------------------------------------------------------------------- checks
def view_of(catalog, state) -> ModelView:
    view = catalog.get(state.get("model")) if isinstance(state, dict) else None
    if view is None:
        raise Reject(f"unknown model {state.get('model') if isinstance(state, dict) else state!r}")
    return view


def check_index(value, view: ModelView, what: str = "point") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Reject(f"{what} index {value!r} is not a number")
    try:
        f = float(value)
    except ValueError as e:
        raise Reject(f"{what} index {value!r} is not a number") from e
    if not math.isfinite(f) or f != int(f) or not 0 <= int(f) <= view.n - 1:
        raise Reject(f"{what} index {value!r} is out of range 0..{view.n - 1}")
    return int(f)


def check_indices(values, view: ModelView, what: str = "point") -> np.ndarray:
    """A list of dataset indices as int64 [n] (vectorised: selections have tens of thousands)."""
    if not isinstance(values, (list, tuple)) or any(isinstance(v, bool) for v in values):
        raise Reject(f"{what} indices must be a list of whole numbers")
    try:
        a = np.asarray(values, np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise Reject(f"{what} indices must be a list of whole numbers") from e
    if a.size and (not np.isfinite(a).all() or (a != np.floor(a)).any() or a.min() < 0 or a.max() > view.n - 1):
        raise Reject(f"{what} indices must be whole numbers in 0..{view.n - 1}")
    return a.astype(np.int64)


def check_steps(value) -> int:
    """A whole number of interpolation steps in 2..32 (Reject otherwise)."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value == int(value)
        and MIN_STEPS <= value <= MAX_STEPS
    )
    if not ok:
        raise Reject(f"steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}, got {value!r}")
    return int(value)


def state_z(view: ModelView, state: dict) -> np.ndarray:
    """The state's slider vector as float32 [d] (the implied one when the state has none)."""
    z = state.get("z")
    if z is None:
        return np.asarray(implied_z(view, state), np.float32)
    try:
        return latent_ops.as_vector(z, view.d, "slider vector")
    except LatentdashError as e:
        raise Reject(str(e)) from e


def slider_values(values, axes) -> np.ndarray:
    if not isinstance(values, (list, tuple)) or len(values) != axes.k:
        raise Reject(
            f"expected {axes.k} slider values, got "
            f"{len(values) if isinstance(values, (list, tuple)) else type(values).__name__}"
        )
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
        raise Reject("slider values must be numbers")
    v = np.asarray(values, np.float64)
    if not np.isfinite(v).all():
        raise Reject("slider values must be finite (got NaN or infinity)")
    return np.clip(v, axes.lo, axes.hi).astype(np.float32)


def interp_path(view: ModelView, state: dict) -> np.ndarray | None:
    """The latent path A -> B of the state's interpolation ([steps, d]), None without both ends."""
    if state.get("a") is None or state.get("b") is None:
        return None
    za, zb = (np.asarray(view.explorer.latents[check_index(state[k], view, k.upper())], np.float32) for k in ("a", "b"))
    return latent_ops.interpolate(za, zb, check_steps(state.get("steps")), state.get("mode") or "linear")


def point_index(pt, view: ModelView) -> int:
    """Dataset index of one plotly event point: its customdata, else (curveNumber, pointNumber)."""
    if not isinstance(pt, dict):
        raise Reject("click carries no point")
    curve = pt.get("curveNumber")
    if isinstance(curve, int) and curve >= len(view.trace_idx):
        raise Reject("click on an overlay, not a data point")
    if "customdata" in pt:
        return check_index(pt["customdata"], view)
    pos = pt.get("pointNumber")
    if isinstance(curve, int) and isinstance(pos, int):
        i = view.point_from_trace(curve, pos)
        if i is not None:
            return i
    raise Reject("click carries no point id")


def click_index(click, view: ModelView) -> int:
    try:
        pt = click["points"][0]
    except (TypeError, KeyError, IndexError) as e:
        raise Reject("click carries no point") from e
    return point_index(pt, view)


def slider_positions(state: dict, catalog) -> list[float]:
    view = view_of(catalog, state)
    axes = view.sliders[state.get("basis", "dims")]
    return [round(float(v), 4) for v in axes.values_of(state_z(view, state))]


# ----------------------------------------------------------------------------- camera
def _axis_range(rel: dict, axis: str) -> list[float]:
    pair = rel[f"{axis}.range"] if f"{axis}.range" in rel else (rel[f"{axis}.range[0]"], rel[f"{axis}.range[1]"])
    return [float(v) for v in pair]


def camera_from_relayout(rel, dims: int, old):
    """The camera to remember after a relayout event; `old` when the event isn't a camera move."""
    if not isinstance(rel, dict):
        raise Reject("relayout event is not an object")
    if dims == 2:
        if rel.get("xaxis.autorange") or rel.get("yaxis.autorange"):
            return None
        try:
            x, y = _axis_range(rel, "xaxis"), _axis_range(rel, "yaxis")
        except (KeyError, TypeError, ValueError):
            return old
        if len(x) != 2 or len(y) != 2:
            raise Reject("relayout ranges need two numbers per axis")
        if not all(map(math.isfinite, x + y)) or x[1] <= x[0] or y[1] <= y[0]:
            raise Reject("relayout ranges are not finite increasing numbers")
        # as the link writes them, so the address bar's copy parses back to this same camera (else
        # the URL event that follows a camera move looked like a new view: a full map redraw)
        rx, ry = [float(number_text(v)) for v in x], [float(number_text(v)) for v in y]
        return {"x": rx, "y": ry} if rx[1] > rx[0] and ry[1] > ry[0] else {"x": x, "y": y}
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
        out[p] = {a: float(number_text(c)) for a, c in out[p].items()}  # as the link writes them
    return out


# ----------------------------------------------------------------------------- the handlers
def select_point(state, view, i):
    state["sel"] = i
    state["z"] = latent_of(view, i)


def on_model(state, value, env: Env):
    view = env.catalog.get(value)
    if view is None:
        raise Reject(f"unknown model {value!r}")
    old = env.catalog.get(state.get("model"))
    space, method, dims = old.map_parts(state["map"]) if old else ("latent", "umap", 2)
    state["model"] = view.name
    state["map"] = view.resolve_map(space, method, dims)
    if state.get("colour") not in view.colour_options:
        state["colour"] = view.colour_options[0]
    if not env.catalog.shared_index:  # indices of one dataset mean nothing in another
        state.update(sel=0, a=None, b=None, selection=None, groups=None, gpage=0, dir=None)
        state.update({k: None for k in ("arA", "arB", "arC") if isinstance(state.get(k), dict) and "i" in state[k]})
    _drop_unfit(state, view)
    for k in ("sel", "a", "b"):
        if state.get(k) is not None and not 0 <= state[k] < view.n:
            state[k] = None
    state["z"] = implied_z(view, state)
    state["cam"] = None


def _drop_unfit(state, view):
    """After a model change: what does not fit the new model (a class it lacks, a dimension
    beyond its latent size, a vector of another length) is dropped."""
    if state.get("dir"):
        try:
            state["dir"] = parse_direction(state["dir"], view, state)
        except (ValueError, TypeError):
            state["dir"] = None
    for k in ("arA", "arB", "arC"):
        op = state.get(k)
        if isinstance(op, dict) and "z" in op and len(op["z"]) != view.d:
            state[k] = None
    if not view.has_prior:
        state["pon"] = False


def on_map(state, value, env: Env):
    if not isinstance(value, dict):
        raise Reject("map choice is not an object")
    name = env.view.resolve_map(value.get("space"), value.get("method"), value.get("dims"))
    if name != state["map"]:  # an unavailable choice resolves to the current map: the controls resync
        state["map"] = name
        state["cam"] = None


def on_colour(state, value, env: Env):
    if value not in env.view.colour_options:
        raise Reject(f"unknown colouring {value!r}")
    state["colour"] = value


def on_basis(state, value, env: Env):
    if value not in BASES:
        raise Reject(f"unknown slider basis {value!r}")
    state["basis"] = value


def on_click(state, value, env: Env):
    if env.click_mode == "anywhere" and env.view.map_parts(state["map"]).dims == 2:
        return NO_CHANGE  # the page posts the clicked position instead (ui/anywhere.py)
    i = click_index(value, env.view)
    if env.click_mode in ("a", "b"):
        state[env.click_mode] = i
    else:
        select_point(state, env.view, i)


def on_neighbour(state, value, env: Env):
    select_point(state, env.view, check_index(value, env.view, "neighbour"))


def _endpoint_setter(end: str):
    def on_set_endpoint(state, value, env: Env):
        if state.get("sel") is None:
            raise Reject("select a point first (click it on the map)")
        state[end] = state["sel"]

    return on_set_endpoint


on_set_a, on_set_b = _endpoint_setter("a"), _endpoint_setter("b")


def on_swap(state, value, env: Env):
    state["a"], state["b"] = state.get("b"), state.get("a")


def on_steps(state, value, env: Env):
    state["steps"] = check_steps(value)


def on_mode(state, value, env: Env):
    if value not in latent_ops.MODES:
        raise Reject(f"unknown interpolation {value!r}; use linear or spherical")
    state["mode"] = value


def on_reset(state, value, env: Env):
    state["z"] = implied_z(env.view, state)


def on_random(state, value, env: Env):
    seed = int(value) if isinstance(value, int) and not isinstance(value, bool) else None
    z = env.view.explorer.sample_prior(1, seed)
    state["z"] = [float(v) for v in np.asarray(z, np.float32).reshape(-1)]


def on_step(state, value, env: Env):
    path = interp_path(env.view, state)
    if path is None:
        raise Reject("pick endpoints A and B first")
    k = check_index(value, env.view, "step")
    if k >= len(path):
        raise Reject(f"step {k} is out of range 0..{len(path) - 1}")
    state["z"] = [float(v) for v in path[k]]


def on_sliders(state, value, env: Env):
    axes = env.view.sliders[state.get("basis", "dims")]
    base = state_z(env.view, state)
    vals = slider_values(value, axes)
    if np.allclose(vals, np.round(axes.values_of(base).astype(np.float64), 4), rtol=0, atol=1e-6):
        return NO_CHANGE  # the sliders as built for this vector (rounded): mounted, not moved
    z = axes.compose(base, vals)
    if np.allclose(z, base, atol=1e-6):
        return NO_CHANGE  # e.g. the sliders were re-rendered
    state["z"] = [float(v) for v in z]


def on_relayout(state, value, env: Env):
    cam = camera_from_relayout(value, env.view.map_parts(state["map"]).dims, state.get("cam"))
    if cam == state.get("cam"):
        return NO_CHANGE  # not a camera move (autosize, a legend click, ...)
    state["cam"] = cam


def on_select(state, value, env: Env):
    """Box or lasso selection on a 2-D map: the selected dataset indices, found in the page
    (assets/ld-3-map.js), which draws the outline but leaves the dimming of the points left out
    to the map patch (seldrawn False). `None` (a click without a drag in box/lasso mode) clears
    it. A plotly selectedData dict (points) is still understood; plotly drew that one itself."""
    if value is None:
        if state.get("selection") is None:
            return NO_CHANGE
        state["selection"], state["seldrawn"] = None, False
        return None
    if isinstance(value, dict) and isinstance(value.get("idx"), list):  # reduced in the page
        if len(value["idx"]) > MAX_SELECTION:
            raise Reject(f"selection has more than {MAX_SELECTION} points")
        sel = np.unique(check_indices(value["idx"], env.view)).tolist() or None
        if sel == state.get("selection"):
            return NO_CHANGE
        state["selection"], state["gpage"], state["seldrawn"] = sel, 0, False
        return None
    if not isinstance(value, dict) or not isinstance(value.get("points"), list):
        raise Reject("selection carries no points")
    if len(value["points"]) > MAX_SELECTION:
        raise Reject(f"selection has more than {MAX_SELECTION} points")
    idx = set()
    for pt in value["points"]:
        if (
            isinstance(pt, dict)
            and isinstance(pt.get("curveNumber"), int)
            and pt["curveNumber"] >= len(env.view.trace_idx)
        ):
            continue  # an overlay marker (A, B, the path) inside the lasso
        idx.add(point_index(pt, env.view))
    sel = sorted(idx) or None
    if sel == state.get("selection"):
        return NO_CHANGE
    state["selection"], state["gpage"], state["seldrawn"] = sel, 0, True


def on_clear_selection(state, value, env: Env):
    state["selection"], state["gpage"], state["seldrawn"] = None, 0, False
