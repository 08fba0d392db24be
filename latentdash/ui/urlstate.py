"""The per-user view state: its defaults, its split into dcc.Stores, and its URL form.

The state is one flat dict (handlers work on it); the page keeps it in five stores so each
render callback wakes only for what it draws. The URL carries all of it, so a link restores the
view in another browser:

    ?model=fashion-vae-16&map=latent-umap-2d&color=class&sel=12&a=3&b=40&steps=8&mode=linear
     &basis=dims&z=0.12,-1.3,...&cam=x0,x1,y0,y1   (3-D: eye xyz, center xyz, up xyz)

Parsing never raises: each bad or tampered parameter is dropped (its default is used) and named
in the returned list of problems.
"""
from __future__ import annotations

import math
from urllib.parse import parse_qs, urlencode

import numpy as np

from ..latent_ops import MODES
from .catalog import BASES

MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 2, 32, 8
# "model" rides along in several stores so each render callback depends on one store only.
STORES = {
    "view": ("model", "map", "colour", "basis", "rev"),
    "sel": ("model", "sel"),
    "interp": ("model", "a", "b", "steps", "mode"),
    "z": ("model", "z"),
    "cam": ("cam",),
}
MAX_QUERY = 8000


def default_state(catalog, model: str | None = None) -> dict:
    view = catalog.get(model) or catalog.get(catalog.default)
    return {"model": view.name, "map": view.default_map(),
            "colour": "class" if view.has_labels else "recon", "basis": "dims", "rev": 0,
            "sel": 0, "a": None, "b": None, "steps": DEFAULT_STEPS, "mode": "linear",
            "z": [float(v) for v in np.asarray(view.ex.latents[0], np.float32)], "cam": None}


def split(state: dict) -> dict:
    return {store: {k: state.get(k) for k in keys} for store, keys in STORES.items()}


def merge(*parts) -> dict:
    out = {}
    for p in parts:
        if isinstance(p, dict):
            out.update(p)
    return out


def _num(v: float) -> str:
    return f"{v:.5g}"


def serialize(state: dict, catalog) -> str:
    """State -> '?query' (only what differs from what the rest of the state implies)."""
    view = catalog.get(state.get("model"))
    q = {"model": state.get("model"), "map": state.get("map")}
    if state.get("colour") not in (None, "class"):
        q["color"] = state["colour"]
    if state.get("sel") is not None:
        q["sel"] = int(state["sel"])
    for k in ("a", "b"):
        if state.get(k) is not None:
            q[k] = int(state[k])
    if state.get("a") is not None or state.get("b") is not None or state.get("steps") != DEFAULT_STEPS:
        q["steps"] = int(state.get("steps") or DEFAULT_STEPS)
        q["mode"] = state.get("mode") or "linear"
    if state.get("basis") == "pcs":
        q["basis"] = "pcs"
    z = state.get("z")
    if z is not None and view is not None:
        sel = state.get("sel")
        implied = None if sel is None else np.asarray(view.ex.latents[int(sel)], np.float32)
        if implied is None or np.max(np.abs(np.asarray(z, np.float32) - implied)) > 1e-4:
            q["z"] = ",".join(_num(float(v)) for v in z)
    cam = state.get("cam")
    if isinstance(cam, dict):
        if "x" in cam:
            q["cam"] = ",".join(_num(v) for v in (*cam["x"], *cam["y"]))
        elif "eye" in cam:
            q["cam"] = ",".join(_num(cam[p][a]) for p in ("eye", "center", "up") for a in "xyz")
    return "?" + urlencode(q, safe=",")


def _floats(text: str, n: int | None = None):
    vals = [float(s) for s in text.split(",")]
    if (n is not None and len(vals) != n) or not all(math.isfinite(v) and abs(v) <= 1e6 for v in vals):
        raise ValueError(text)
    return vals


def _one_of(text: str, options) -> str:
    if text not in options:
        raise ValueError(text)
    return text


def _index(text: str, n: int) -> int:
    i = int(text)
    if not 0 <= i < n:
        raise ValueError(text)
    return i


def _steps(text: str) -> int:
    k = int(text)
    if not MIN_STEPS <= k <= MAX_STEPS:
        raise ValueError(text)
    return k


def parse_camera(text: str, dims: int):
    if dims == 2:
        x0, x1, y0, y1 = _floats(text, 4)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(text)
        return {"x": [x0, x1], "y": [y0, y1]}
    v = _floats(text, 9)
    return {p: dict(zip("xyz", v[3 * k:3 * k + 3])) for k, p in enumerate(("eye", "center", "up"))}


def parse(search, catalog) -> tuple[dict, list[str]]:
    """'?query' -> (state, problems). Unknown keys are ignored; bad values fall back to defaults."""
    problems: list[str] = []
    if not isinstance(search, str) or len(search) > MAX_QUERY:
        return default_state(catalog), (["url"] if search else [])
    try:
        q = {k: v[-1] for k, v in parse_qs(search.lstrip("?"), keep_blank_values=False).items()}
    except ValueError:
        return default_state(catalog), ["url"]
    model = q.get("model")
    if model is not None and catalog.get(model) is None:
        problems.append("model")
        model = None
    state = default_state(catalog, model)
    view = catalog.get(state["model"])

    def take(key, fn):
        if key in q:
            try:
                return fn(q[key])
            except (ValueError, TypeError, KeyError, IndexError):
                problems.append(key)
        return None

    mp = take("map", lambda s: _one_of(s, view.map_names))
    if mp:
        state["map"] = mp
    colour = take("color", lambda s: _one_of(s, view.colour_options))
    if colour:
        state["colour"] = colour
    basis = take("basis", lambda s: _one_of(s, BASES))
    if basis:
        state["basis"] = basis
    sel = take("sel", lambda s: _index(s, view.n))
    if sel is not None:
        state["sel"] = sel
    for k in ("a", "b"):
        state[k] = take(k, lambda s: _index(s, view.n))
    steps = take("steps", lambda s: _steps(s))
    if steps:
        state["steps"] = steps
    mode = take("mode", lambda s: _one_of(s, MODES))
    if mode:
        state["mode"] = mode
    sel = state["sel"]
    state["z"] = (None if sel is None else
                  [float(v) for v in np.asarray(view.ex.latents[sel], np.float32)])
    z = take("z", lambda s: _floats(s, view.d))
    if z is not None:
        state["z"] = z
    if state["z"] is None:
        state["z"] = [float(v) for v in view.lat_mean]
    _, _, dims = view.map_parts(state["map"])
    state["cam"] = take("cam", lambda s: parse_camera(s, dims))
    return state, problems
