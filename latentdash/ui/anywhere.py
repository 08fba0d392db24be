"""Decode anywhere and the manifold grid (issue 11, parts 1 and 2): a click on any position of a
2-D map decodes the latent vector there, and a grid of about 12 x 12 decodes can cover the visible
part of the map. Handlers, render handlers, the layout bits and the callbacks, all in one place.

- Decode anywhere: the page (assets/ld-8-anywhere.js) turns a Shift/Alt-click on empty space, or
  any click while "Click sets" is "any position", into data coordinates and writes them to
  `st-anyclick` with a nonce; `on_anywhere` loads `Explorer.unproject(xy)` into the sliders
  (state `z`) and remembers the position (`anyat`, in the URL as `at=x,y`). The crosshair marker
  and the grid are HTML drawn over the plot by the page, so neither redraws the WebGL points.
- Which inverse a map has (`inverse_kind`): PCA of a 2-D latent and the raw 2-D latent are exact;
  PCA of a d > 2 latent gives the plane's mean-completion (a point's own code lies off the plane);
  t-SNE, UMAP and pixel-space maps are estimated by the placer's inverse (atlas/placement.py).
- Positions beyond the points' extent (padded by RANGE_PAD of its size on each side) are refused,
  not clamped: a clamped decode would show a vector the user did not point at. The grid covers
  the visible region clipped to the same extent.
- The manifold grid: the page posts the visible ranges to `st-gridreq` (debounced, after a pan or
  zoom); `render_grid` unprojects the cell centres (about 144, square cells: 12 x 12 on a square
  view), decodes them in one batch and answers one sprite PNG with the ranges it covers, which the
  page lays over the plot in data coordinates.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from dash import ClientsideFunction, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from .. import imaging
from ..atlas.placement import K_PLACE
from . import ids, urlstate
from .handlers import NO_CHANGE, Env, Reject, state_z, view_of
from .render import map_key

GRID_N = 12  # cells per side of the manifold grid on a square view: about GRID_N**2 cells, square ones
MAX_SIDE = 24  # at most this many cells along a side (a very wide or tall view)
RANGE_PAD = 0.05  # positions may lie this fraction of the points' extent beyond it (each side)
SHOW_TOL = 1e-3  # the crosshair stays while the slider vector is the decoded one (relative)


# ----------------------------------------------------------------------------- map facts
def map_extent(view, map_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(lo [2], hi [2]): the points' bounding box on a 2-D map, padded by RANGE_PAD."""
    xy = np.asarray(view.explorer.coords(map_name), np.float64)[:, :2]
    lo, hi = np.nanmin(xy, 0), np.nanmax(xy, 0)
    pad = RANGE_PAD * np.maximum(hi - lo, 1e-9)
    return lo - pad, hi + pad


def inverse_kind(view, map_name: str) -> str:
    """'exact' | 'completion' | 'estimated': how a position of this map becomes a latent vector."""
    space, method, _ = view.map_parts(map_name)
    if method == "raw" or (space == "latent" and method == "pca" and view.d == 2):
        return "exact"
    if space == "latent" and method == "pca":
        return "completion"
    return "estimated"


def inverse_note(view, map_name: str) -> str:
    """One sentence for the page: is a decoded position exact or estimated, and why."""
    space, method, _ = view.map_parts(map_name)
    kind = inverse_kind(view, map_name)
    if kind == "exact" and method == "raw":
        return "exact: this map is the model's 2-D latent plane itself."
    if kind == "exact":
        return "exact: this PCA map is a rotation of the model's 2-D latent plane, so a position is one latent vector."
    if kind == "completion":
        return (
            f"the plane's mean-completion, not the point's code: the {view.d}-D vector on the map's plane "
            f"with the other {view.d - 2} principal components at the codes' mean (it lands back exactly "
            "here; a data point's own code lies off this plane)."
        )
    name = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}.get(method, method)
    where = "pixel-space " if space == "pixel" else ""
    return (
        f"estimated by the placer's inverse (the inverse-distance-weighted mean of the codes of the {K_PLACE} "
        f"nearest points on the map): a {where}{name} map has no exact inverse."
    )


def two_d_map(view, state) -> str:
    name = state.get("map")
    if name not in view.map_names:
        raise Reject(f"model {view.name!r} has no map {name!r}")
    if view.map_parts(name).dims != 2:
        raise Reject(f"decode anywhere works on 2-D maps only and {name} is 3-D: switch View to 2D")
    return name


def _number(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def check_position(xy, view, map_name: str) -> np.ndarray:
    """A clicked position as float64 [2]; Reject for anything but two finite numbers inside the
    map's range (refused, not clamped)."""
    if not isinstance(xy, (list, tuple)) or len(xy) != 2:
        raise Reject("a decode-anywhere position needs two numbers (x, y)")
    vals = [_number(v) for v in xy]
    if None in vals:
        raise Reject(f"position {list(xy)!r} is not two finite numbers (NaN or infinity?)")
    p = np.asarray(vals, np.float64)
    lo, hi = map_extent(view, map_name)
    if (p < lo).any() or (p > hi).any():
        raise Reject(
            f"position ({p[0]:.4g}, {p[1]:.4g}) is outside the map's range x {lo[0]:.4g}..{hi[0]:.4g}, "
            f"y {lo[1]:.4g}..{hi[1]:.4g}: not decoded (click among the points)"
        )
    return p


def _same_map(key, view, map_name) -> bool:
    """The click's figure key (model|map|rev, the figure's uirevision) names this model and map."""
    if not isinstance(key, str):
        return False
    parts = key.rsplit("|", 2)
    return len(parts) == 3 and parts[0] == view.name and parts[1] == map_name


# ----------------------------------------------------------------------------- handlers
def on_anywhere(state, value, env: Env):
    """A click on a 2-D map at data coordinates {"xy": [x, y], "key": figure key, "nonce"}: the
    latent vector there goes into the sliders; the position is remembered for the crosshair."""
    if value is None:
        return NO_CHANGE
    if not isinstance(value, dict) or "xy" not in value:
        raise Reject("a decode-anywhere click carries no position")
    name = two_d_map(env.view, state)
    if "key" in value and not _same_map(value["key"], env.view, name):
        raise Reject("the map changed before the click arrived: click again")
    xy = check_position(value["xy"], env.view, name)
    z = env.view.explorer.unproject(xy, name)
    state["z"] = [float(v) for v in np.asarray(z, np.float32)]
    state["anyat"] = {"model": env.view.name, "map": name, "xy": [float(xy[0]), float(xy[1])]}


def on_grid(state, value, env: Env):
    """The "Manifold grid" toggle (a one-box checklist: ["on"] or [])."""
    on = bool(value) and "on" in value
    if on == bool(state.get("grid")):
        return NO_CHANGE
    state["grid"] = on


# ----------------------------------------------------------------------------- URL codec
def encode_at(v, s, view):
    if not isinstance(v, dict) or v.get("model") != s.get("model") or v.get("map") != s.get("map"):
        return None
    return ",".join(f"{float(c):.6g}" for c in v["xy"])


def decode_at(text, view, s):
    xy = [float(t) for t in text.split(",")]
    if len(xy) != 2 or view.map_parts(s["map"]).dims != 2:
        raise ValueError(text)
    try:
        p = check_position(xy, view, s["map"])
    except Reject as e:
        raise ValueError(text) from e
    return {"model": view.name, "map": s["map"], "xy": [float(p[0]), float(p[1])]}


# ----------------------------------------------------------------------------- render
def anywhere_marker(view, state) -> dict | None:
    """The decoded position's marker on the shown 2-D map, or None: {"xy", "style", "kind"}.
    Shown while the slider vector is the one decoded there. style: "exact" (a solid crosshair)
    or "estimated" (dashed); other styles (e.g. an uncertain placement) can be added here and in
    the page's CSS (`.ld-any-mark.ld-any-<style>`)."""
    at = state.get("anyat")
    name = state.get("map")
    if not isinstance(at, dict) or at.get("model") != view.name or at.get("map") != name:
        return None
    if name not in view.map_names or view.map_parts(name).dims != 2:
        return None
    try:
        xy = np.asarray(at["xy"], np.float64)
        z_at = np.asarray(view.explorer.unproject(xy, name), np.float32)
    except (KeyError, TypeError, ValueError, Reject):
        return None
    z = state_z(view, state)
    if np.max(np.abs(z - z_at)) > SHOW_TOL * (1.0 + float(np.max(np.abs(z_at)))):
        return None  # the sliders have moved on: the red diamond shows the vector now
    kind = inverse_kind(view, name)
    return {"xy": [float(xy[0]), float(xy[1])], "style": "exact" if kind != "estimated" else "estimated", "kind": kind}


def render_anywhere(state: dict, catalog) -> dict:
    """The map card's decode-anywhere line and what the page draws over the 2-D map:
    {"key", "dims", "grid", "mark", "note", "grid_note"}."""
    view = view_of(catalog, state)
    name = state.get("map")
    if name not in view.map_names:
        raise Reject(f"model {view.name!r} has no map {name!r}")
    dims = view.map_parts(name).dims
    out = {"key": map_key(view.name, state), "dims": dims, "grid": bool(state.get("grid")), "mark": None}
    if dims != 2:
        out["note"] = "Decode anywhere and the manifold grid work on 2-D maps only (switch View to 2D)."
        out["grid_note"] = ""
        return out
    mark = anywhere_marker(view, state)
    out["mark"] = mark
    how = inverse_note(view, name)
    if mark is None:
        out["note"] = "Decode anywhere: Shift-click empty space (or Click sets: any position). The inverse is " + how
    else:
        x, y = mark["xy"]
        note = f"Decoded the map at ({x:.4g}, {y:.4g}) into the sliders; the inverse is {how}"
        if mark["kind"] == "estimated":
            back = np.asarray(view.explorer.project(state_z(view, state), name), np.float64)[0, :2]
            lo, hi = map_extent(view, name)
            off = float(np.hypot(*(back - np.asarray(mark["xy"]))))
            note += (
                f" Placed back, the vector lands {off:.3g} map units away "
                f"({100 * off / float(hi[0] - lo[0]):.2g}% of the map's width: the red diamond)."
            )
        out["note"] = note
    out["grid_note"] = (
        f"Manifold grid: about {GRID_N} x {GRID_N} decodes of the visible region, {inverse_kind_short(view, name)}; "
        "pan or zoom to recompute it."
        if out["grid"]
        else ""
    )
    return out


def inverse_kind_short(view, map_name: str) -> str:
    return {
        "exact": "exact",
        "completion": "the plane's mean-completion",
        "estimated": "estimated by the placer's inverse",
    }[inverse_kind(view, map_name)]


def _range(v, what: str) -> tuple[float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise Reject(f"the grid request needs the visible {what} range as two numbers")
    a, b = (_number(t) for t in v)
    if a is None or b is None or not b > a:
        raise Reject(f"the grid request's {what} range {list(v)!r} is not two finite increasing numbers")
    return a, b


def grid_shape(width: float, height: float, n: int = GRID_N) -> tuple[int, int]:
    """(cols, rows) of about n * n cells as close to square as a region width x height allows
    (the map's axes have equal scales, so square in data units is square on screen)."""
    cols = int(np.clip(round(math.sqrt(n * n * width / height)), 2, MAX_SIDE))
    rows = int(np.clip(round(n * n / cols), 2, MAX_SIDE))
    return cols, rows


def grid_centres(x0, x1, y0, y1, cols: int = GRID_N, rows: int = GRID_N) -> np.ndarray:
    """[rows * cols, 2] cell centres, row-major from the top row (largest y) down, left to right."""
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def grid_vectors(view, map_name: str, centres: np.ndarray) -> np.ndarray:
    """The latent vectors [n, d] at the given map positions (Explorer.unproject_many: the same
    vectors as unproject, one position at a time, in one tree query)."""
    return view.explorer.unproject_many(centres, map_name)


def render_grid(req, state: dict, catalog) -> dict:
    """A grid request {"key", "x": [x0, x1], "y": [y0, y1], "nonce"} (the visible ranges) ->
    {"key", "x", "y", "cols", "rows", "src", "nonce"}: one sprite PNG of the rows x cols decodes
    (about GRID_N x GRID_N, square cells), covering the visible region clipped to the map's range.
    {"off": True} when the grid is off; {"stale": True} when the request was for another figure
    (the page asks again)."""
    if not state.get("grid"):
        return {"off": True}
    view = view_of(catalog, state)
    name = two_d_map(view, state)
    key = map_key(view.name, state)
    if not isinstance(req, dict):
        raise Reject("the grid request is not an object")
    if not _same_map(req.get("key"), view, name):
        return {"stale": True, "key": key, "nonce": req.get("nonce")}
    (x0, x1), (y0, y1) = _range(req.get("x"), "x"), _range(req.get("y"), "y")
    lo, hi = map_extent(view, name)
    x0, x1, y0, y1 = (round(float(v), 6) for v in (max(x0, lo[0]), min(x1, hi[0]), max(y0, lo[1]), min(y1, hi[1])))
    if not (x1 > x0 and y1 > y0):
        raise Reject("the visible region is off the map: pan back or zoom out")
    cols, rows = grid_shape(x1 - x0, y1 - y0)
    centres = grid_centres(x0, x1, y0, y1, cols, rows)
    imgs = view.explorer.decode(grid_vectors(view, name, centres))
    src = imaging.png_data_uri(imaging.grid(imgs, cols=cols, pad=0))
    return {"key": key, "x": [x0, x1], "y": [y0, y1], "cols": cols, "rows": rows, "src": src, "nonce": req.get("nonce")}


# ----------------------------------------------------------------------------- layout
def grid_toggle():
    """The map controls' "Manifold grid" switch."""
    return html.Div(
        [
            html.Span("Overlay", className="ld-label"),
            dcc.Checklist(id=ids.GRID_ON, options=[{"label": "manifold grid", "value": "on"}], value=[], inline=True),
        ],
        className="ld-field",
        title="About 12 x 12 decodes (square cells) over the visible region of the 2-D map",
    )


def note_row():
    """The map card's decode-anywhere line (and the stores its page code talks through)."""
    return html.Div(
        [
            html.Span(id=ids.ANY_NOTE, className="ld-hint"),
            html.Span(id=ids.GRID_NOTE, className="ld-hint"),
            dcc.Store(id=ids.ST_ANYCLICK),  # {"xy", "key", "nonce"}: a click to decode (the reducer's input)
            dcc.Store(id=ids.ST_ANYOUT),  # render_anywhere's result, for the page's overlay
            dcc.Store(id=ids.ST_GRIDREQ),  # {"key", "x", "y", "nonce"}: the visible ranges
            dcc.Store(id=ids.ST_GRIDOUT),  # render_grid's result
        ],
        className="ld-anywhere",
    )


# ----------------------------------------------------------------------------- callbacks
def register_anywhere(app, catalog):
    from .callbacks import shown

    @app.callback(
        Output(ids.ANY_NOTE, "children"),
        Output(ids.GRID_NOTE, "children"),
        Output(ids.ST_ANYOUT, "data"),
        Input(ids.ST_MAP, "data"),
        Input(ids.ST_Z, "data"),
        prevent_initial_call=True,
    )
    @shown("decode-anywhere note", 3)
    def draw_anywhere(map_part, z):
        r = render_anywhere(urlstate.merge(map_part, z), catalog)
        return r["note"], r["grid_note"], {k: r[k] for k in ("key", "dims", "grid", "mark")}

    @app.callback(
        Output(ids.ST_GRIDOUT, "data"),
        Input(ids.ST_GRIDREQ, "data"),
        State(ids.ST_MAP, "data"),
        prevent_initial_call=True,
    )
    @shown("manifold grid", 1)
    def draw_grid(req, map_part):
        if req is None:
            raise PreventUpdate
        return render_grid(req, map_part or {}, catalog)

    def js(name, *deps, **kw):
        app.clientside_callback(ClientsideFunction("latentdashAnywhere", name), *deps, **kw)

    js(
        "render",
        Output(ids.ST_ANYOUT, "modified_timestamp"),
        Input(ids.ST_ANYOUT, "data"),
        Input(ids.GRAPH, "figure"),
        prevent_initial_call=True,
    )
    js(
        "grid",
        Output(ids.ST_GRIDOUT, "modified_timestamp"),
        Input(ids.ST_GRIDOUT, "data"),
        prevent_initial_call=True,
    )
