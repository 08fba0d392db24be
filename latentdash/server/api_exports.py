"""The REST API's downloads (issue 11, part 8): PNGs of a decode, the interpolation strip, the
traversal and prior grids (exact pixels, x1..x8), GIFs of an interpolation, a slider sweep and an
attribute sweep (there and back). Declared here (`export_ops`, added to `api.operations()`), so
the routes, the validation and the OpenAPI document come from the same list as the rest of the
API; the page's download links (ui/export_links.py) point at these operations.

The vectors are made by the same functions the page draws with (ui/handlers.interp_path,
ui/algebra.row_specs / row_axis / prior_samples / direction, algebra.traversal and
strength_strip), so a download shows what the page shows. Everything happens in memory; each
answer is an attachment whose file name says what it is (export/names.py)."""

from __future__ import annotations

import numpy as np
from flask import Response

from .. import algebra as alg
from .. import export
from ..export import names
from ..latent_ops import MODES
from ..ui import algebra as A
from ..ui.export_links import sweep_range
from ..ui.handlers import interp_path, state_z
from ..ui.schema import (
    DEFAULT_STEPS,
    MAX_STEPS,
    MIN_STEPS,
    TRAV_ROWS,
    KeptInBrowser,
    decode_groups,
    parse_direction,
    parse_index_ranges,
)
from .api_schema import NUMBER, VECTOR, ApiError, Op, Param

PRIOR_COLS = 8  # columns of the prior-sample sheet
SWEEP_STEPS = 16
_INT = "integer"
_BINARY = {"type": "string", "format": "binary"}
_ERRORS = (400, 404, 405, 422)


def _int(lo, hi, example=None) -> dict:
    s = {"type": _INT, "minimum": lo, "maximum": hi}
    return s if example is None else dict(s, example=example)


def _num(lo, hi) -> dict:
    return {"type": "number", "minimum": lo, "maximum": hi}


def export_ops(model, first) -> list:
    """The download operations; `first` is the default model's view (working examples)."""
    z0 = [round(float(v), 4) for v in first.lat_mean]
    scale = Param("scale", "query", _int(1, export.MAX_SCALE), f"enlargement 1..{export.MAX_SCALE} (default 1)")
    duration = Param(
        "duration",
        "query",
        _int(export.MIN_DURATION_MS, export.MAX_DURATION_MS),
        "milliseconds per frame (default 100)",
    )
    steps = Param("steps", "query", _int(MIN_STEPS, MAX_STEPS), f"{MIN_STEPS}..{MAX_STEPS}")
    base = [
        Param("z", "query", dict(VECTOR, example=z0), "the latent vector, comma-separated (or pass index)"),
        Param("index", "query", {"type": _INT, "minimum": 0}, "an atlas item whose code is the vector (or pass z)"),
    ]
    ends = [
        Param("a", "query", _int(0, 10**9, 0), "endpoint A: an atlas item", True),
        Param("b", "query", _int(0, 10**9, 1), "endpoint B: an atlas item", True),
        steps,
        Param("mode", "query", {"type": "string", "enum": list(MODES)}, "linear (default) or spherical"),
    ]
    direction = Param(
        "dir",
        "query",
        {"type": "string", "pattern": "^[A-Za-z0-9:_ .>-]{1,200}$", "example": "pc0"},
        "a direction as in the page's link: '<group>><group>' (c<label>, all, sel, g:<name>), pc<k> or dim<k>",
    )
    groups = Param("groups", "query", {"type": "string"}, "named groups as in the page's link (name:ranges;...)")
    selection = Param("selection", "query", {"type": "string"}, "the selection as in the page's link (0-99,140)")
    attr_params = [  # attribute.png and attribute.gif
        *base,
        direction,
        Param("v", "query", VECTOR, "the direction as a vector (instead of dir)"),
        Param("lo", "query", _num(-alg.MAX_STRENGTH, alg.MAX_STRENGTH), "first strength (default -2)"),
        Param("hi", "query", _num(-alg.MAX_STRENGTH, alg.MAX_STRENGTH), "last strength (default 2)"),
        steps,
        groups,
        selection,
        scale,
    ]

    def op(path, op_id, summary, handler, params, ctype, description):
        return Op("get", path, op_id, summary, handler, description, params=[model, *params],
                  response=(ctype, _BINARY), errors=_ERRORS)  # fmt: skip

    return [
        op(
            "/models/{model}/decode.png",
            "decodePng",
            "PNG of one decoded latent vector (exact pixels, x1..x8)",
            h_decode_png,
            [*base, scale],
            "image/png",
            "Pass exactly one of `z` and `index`. Each pixel of the decode becomes a scale x scale block.",
        ),  # fmt: skip
        op(
            "/models/{model}/interpolation.png",
            "interpolationPng",
            "PNG strip of the interpolation A -> B",
            h_interp_png,
            [*ends, scale],
            "image/png",
            "The decoded path of `steps` images side by side (1 white pixel between them), as the page's strip.",
        ),  # fmt: skip
        op(
            "/models/{model}/interpolation.gif",
            "interpolationGif",
            "Animated GIF of the interpolation A -> B -> A",
            h_interp_gif,
            [*ends, scale, duration],
            "image/gif",
            "2 * steps - 2 frames: A to B, then back without repeating an end; loops forever.",
        ),  # fmt: skip
        op(
            "/models/{model}/sweep.gif",
            "sweepGif",
            "Animated GIF of one latent dimension swept lo -> hi -> lo",
            h_sweep_gif,
            [
                *base,
                Param("dim", "query", _int(0, 4095, 0), "the latent dimension", True),
                Param("lo", "query", NUMBER, "start (default: the page's slider range)"),
                Param("hi", "query", NUMBER, "end (default: the page's slider range)"),
                steps,
                scale,
                duration,
            ],
            "image/gif",
            f"The vector with dimension `dim` set to `steps` (default {SWEEP_STEPS}) values from lo to "
            "hi, there and back (2 * steps - 2 frames).",
        ),  # fmt: skip
        op(
            "/models/{model}/attribute.gif",
            "attributeGif",
            "Animated GIF of an attribute sweep: z + s * v, s lo -> hi -> lo",
            h_attr_gif,
            [*attr_params, duration],
            "image/gif",
            "Pass exactly one of `dir` and `v`; a strength of 1 moves by the direction's length.",
        ),  # fmt: skip
        op(
            "/models/{model}/attribute.png",
            "attributePng",
            "PNG strip of an attribute sweep: z + s * v for steps strengths from lo to hi",
            h_attr_png,
            attr_params,
            "image/png",
            "As attribute.gif, side by side; steps 5 from -2 to 2 (the default here) is the page's strength strip.",
        ),
        op(
            "/models/{model}/traversal.png",
            "traversalPng",
            "PNG of the traversal grid around a vector",
            h_traversal_png,
            [
                *base,
                Param("rows", "query", {"type": "string", "enum": list(TRAV_ROWS)}, "var (default), pcs or attr"),
                Param("n", "query", _int(1, alg.MAX_ROWS), "rows (default 8)"),
                Param("cols", "query", _int(alg.MIN_COLS, alg.MAX_COLS), "columns (default 9)"),
                Param("k", "query", _num(alg.MIN_RANGE, alg.MAX_RANGE), "range +-k sigma (default 2)"),
                Param("sort", "query", _int(0, 1), "1: rows sorted by score, as the page's 'sort'"),
                direction,
                groups,
                selection,
                scale,
            ],
            "image/png",
            "Each row moves along one direction from -k to +k sigma, as the page's grid.",
        ),  # fmt: skip
        op(
            "/models/{model}/prior.png",
            "priorPng",
            "PNG of prior samples (rows of 8)",
            h_prior_png,
            [
                Param("n", "query", _int(alg.MIN_PRIOR, alg.MAX_PRIOR), "samples (default 16)"),
                Param("seed", "query", _int(0, 2**31 - 1), "seed (default 0)"),
                Param("temp", "query", _num(0.0, alg.MAX_TEMPERATURE), "temperature (default 1)"),
                scale,
            ],
            "image/png",
            "The page's prior grid (same seed, same samples) as one sheet.",
        ),  # fmt: skip
    ]


# ---------------------------------------------------------------------------------- helpers
def _attachment(data: bytes, ctype: str, name: str) -> Response:
    resp = Response(data, mimetype=ctype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _base(view, q) -> tuple[np.ndarray, str]:
    """The vector of `z` or `index` (exactly one) and how a file name says it."""
    if ("z" in q) == ("index" in q):
        raise ApiError(422, "pass exactly one of ?z=a,b,... (a latent vector) or ?index=I (an atlas item)")
    if "index" in q:
        i = int(q["index"])
        if i >= view.n:
            raise ApiError(422, f"index {i} is past the atlas; use 0..{view.n - 1}")
        return np.asarray(view.explorer.latents[i], np.float32), f"item{i}"
    z = np.asarray(q["z"], np.float64)
    if z.size != view.d:
        raise ApiError(422, f"z has {z.size} numbers but {view.name} has latent_dim {view.d}; send {view.d}")
    z = z.astype(np.float32)
    return z, names.vector_tag(z)


def _need(q, *keys):
    for k in keys:
        if k not in q:
            raise ApiError(400, f"pass ?{k}=...; it is required here (see GET /api/v1/openapi.json)")


def _range(q, lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(q.get("lo", lo)), float(q.get("hi", hi))
    if not lo < hi:
        raise ApiError(422, f"lo ({lo:g}) must be below hi ({hi:g})")
    return lo, hi


def _state_extras(view, q, state: dict) -> dict:
    """`selection` and `groups` in the page's link codec (schema.py), for directions that use them."""
    parsers = (
        ("selection", lambda t: parse_index_ranges(t, view.n)),
        ("groups", lambda t: decode_groups(t, view, state)),
        ("dir", lambda t: parse_direction(t, view, state)),
    )
    for key, parse in parsers:
        if key not in q:
            continue
        try:
            state[key] = parse(q[key])
        except KeptInBrowser:
            raise ApiError(
                422, f"{key}=~ means 'kept in the browser that made the link': send the {key} itself"
            ) from None
        except (ValueError, TypeError, KeyError, IndexError):
            raise ApiError(
                422, f"{key}={q[key][:40]!r} does not fit {view.name} (unknown class, group, axis or index range)"
            ) from None
    return state


def _interp(view, q):
    _need(q, "a", "b")
    a, b = int(q["a"]), int(q["b"])
    for k, i in (("a", a), ("b", b)):
        if i >= view.n:
            raise ApiError(422, f"{k} = {i} is past the atlas; use 0..{view.n - 1}")
    steps, mode = int(q.get("steps", DEFAULT_STEPS)), q.get("mode", "linear")
    path = interp_path(view, {"a": a, "b": b, "steps": steps, "mode": mode})
    return view.explorer.decode(path), (a, b, steps, mode)


# ---------------------------------------------------------------------------------- handlers
def h_decode_png(ctx, view, q, body):
    z, base = _base(view, q)
    s = int(q.get("scale", 1))
    data = export.image_png(view.explorer.decode(z)[0], s)
    return _attachment(data, "image/png", names.decode_name(view.name, base, s))


def h_interp_png(ctx, view, q, body):
    imgs, args = _interp(view, q)
    s = int(q.get("scale", 1))
    return _attachment(export.strip_png(imgs, s), "image/png", names.interp_name(view.name, *args, s, "png"))


def h_interp_gif(ctx, view, q, body):
    imgs, args = _interp(view, q)
    s, d = int(q.get("scale", 1)), int(q.get("duration", 100))
    data = export.gif_bytes(export.there_and_back(imgs), s, d)
    return _attachment(data, "image/gif", names.interp_name(view.name, *args, s, "gif"))


def sweep_latents(z, dim: int, lo: float, hi: float, steps: int) -> np.ndarray:
    """[steps, d]: z with dimension `dim` set to steps values from lo to hi."""
    zs = np.repeat(np.asarray(z, np.float32).reshape(1, -1), steps, axis=0)
    zs[:, dim] = np.linspace(lo, hi, steps, dtype=np.float32)
    return zs


def h_sweep_gif(ctx, view, q, body):
    _need(q, "dim")
    z, base = _base(view, q)
    dim = int(q["dim"])
    if dim >= view.d:
        raise ApiError(422, f"dim = {dim} but {view.name} has latent dimensions 0..{view.d - 1}")
    lo, hi = _range(q, *sweep_range(view, dim))
    steps, s, d = int(q.get("steps", SWEEP_STEPS)), int(q.get("scale", 1)), int(q.get("duration", 100))
    frames = export.there_and_back(view.explorer.decode(sweep_latents(z, dim, lo, hi, steps)))
    name = names.sweep_name(view.name, dim, lo, hi, steps, base, s)
    return _attachment(export.gif_bytes(frames, s, d), "image/gif", name)


def _attr(view, q, default_steps: int):
    z, base = _base(view, q)
    if ("dir" in q) == ("v" in q):
        raise ApiError(422, "pass exactly one of ?dir=SPEC (e.g. c7>c9, pc0, dim3) or ?v=a,b,... (a vector)")
    if "v" in q:
        v = np.asarray(q["v"], np.float64)
        if v.size != view.d:
            raise ApiError(422, f"v has {v.size} numbers but {view.name} has latent_dim {view.d}; send {view.d}")
        v, label = v.astype(np.float32), "vector"
    else:
        direction = A.direction(view, _state_extras(view, q, {}))
        v, label = direction.v, direction.label
    lo, hi = _range(q, -2.0, 2.0)
    steps = int(q.get("steps", default_steps))
    imgs = view.explorer.decode(alg.strength_strip(z, v, np.linspace(lo, hi, steps)))
    return imgs, (label, lo, hi, steps, base)


def h_attr_gif(ctx, view, q, body):
    imgs, args = _attr(view, q, SWEEP_STEPS)
    s, d = int(q.get("scale", 1)), int(q.get("duration", 100))
    data = export.gif_bytes(export.there_and_back(imgs), s, d)
    return _attachment(data, "image/gif", names.attr_name(view.name, *args, s))


def h_attr_png(ctx, view, q, body):
    imgs, args = _attr(view, q, len(alg.STRIP_STRENGTHS))
    s = int(q.get("scale", 1))
    return _attachment(export.strip_png(imgs, s), "image/png", names.attr_name(view.name, *args, s, ext="png"))


def traversal_images(view, state: dict) -> tuple[np.ndarray, list[str]]:
    """The page's traversal grid (ui/algebra_render.render_trav) as images [rows, cols, C, H, W]
    in the page's row order, and the rows' labels."""
    _, _, cols, k = A.check_trav(state)
    specs = A.row_specs(view, state)
    axes = [A.row_axis(view, state, s) for s in specs]
    units, sigmas = np.stack([u for _, u, _ in axes]), np.asarray([s for _, _, s in axes])
    grid = alg.traversal(state_z(view, state), units, sigmas, cols, k)
    imgs = view.explorer.decode(grid.reshape(-1, view.d)).reshape((len(specs), cols) + view.image_shape)
    order = list(range(len(specs)))
    if state.get("tsort"):
        scores = [round(float(x), 5) for x in alg.row_scores(imgs, k)]
        order.sort(key=lambda r: -scores[r])  # stable, as the page's rows.sort
    return imgs[order], [axes[r][0] for r in order]


def h_traversal_png(ctx, view, q, body):
    z, base = _base(view, q)
    state = {
        "z": [float(x) for x in z],
        "trows": q.get("rows", "var"),
        "tn": int(q.get("n", 8)),
        "tcols": int(q.get("cols", 9)),
        "tk": float(q.get("k", 2.0)),
        "tsort": bool(q.get("sort", 0)),
    }
    imgs, _ = traversal_images(view, _state_extras(view, q, state))
    s = int(q.get("scale", 1))
    data = export.grid_png(imgs.reshape((-1,) + view.image_shape), imgs.shape[1], s)
    name = names.traversal_name(
        view.name, state["trows"], state["tn"], state["tcols"], state["tk"], state["tsort"], base, s
    )
    return _attachment(data, "image/png", name)


def h_prior_png(ctx, view, q, body):
    state = {"pn": int(q.get("n", 16)), "pseed": int(q.get("seed", 0)), "ptemp": float(q.get("temp", 1.0))}
    imgs = view.explorer.decode(A.prior_samples(view, state))
    s = int(q.get("scale", 1))
    name = names.prior_name(view.name, state["pn"], state["pseed"], state["ptemp"], s)
    return _attachment(export.grid_png(imgs, PRIOR_COLS, s), "image/png", name)
