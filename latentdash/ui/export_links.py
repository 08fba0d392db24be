"""Downloads on the page: links to the REST API's exports (server/api_exports.py, exports.py)
built from the current view state, a scale picker (x1..x8, for every image download), the
dimension a slider-sweep GIF moves, and "Copy link" (the current view's URL).

Every link is an `html.A(href, download)` whose href and file name one render callback updates
(`download_links`, pure: state -> hrefs); the download itself comes from the server, so it is
the same bytes the REST API gives (exact pixels, file names from export/names.py). The scale
and the sweep dimension are download options, not view state: they stay out of the link.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import numpy as np
from dash import Input, Output, State, dcc, html, no_update

from .. import exports
from ..export import MAX_SCALE, names
from . import algebra as A
from . import ids
from .handlers import Reject, check_index, check_steps, state_z, view_of
from .schema import DEFAULT_PRIOR, DEFAULT_TRAV, KEPT, encode_groups, encode_z, index_ranges, number_text

DEFAULT_SCALE = 4
SWEEP_STEPS = 16
LINKS = ("decode", "sweep", "interp_png", "interp_gif", "attr_png", "attr_gif", "trav_png", "prior_png", "csv")
LINK_ID = {
    "decode": ids.EXP_DECODE,
    "sweep": ids.EXP_SWEEP,
    "interp_png": ids.EXP_INTERP_PNG,
    "interp_gif": ids.EXP_INTERP_GIF,
    "attr_png": ids.EXP_ATTR_PNG,
    "attr_gif": ids.EXP_ATTR_GIF,
    "trav_png": ids.EXP_TRAV_PNG,
    "prior_png": ids.EXP_PRIOR_PNG,
    "csv": ids.EXP_CSV,
}
LINK_TEXT = {
    "decode": "PNG",
    "sweep": "GIF sweep",
    "interp_png": "PNG strip",
    "interp_gif": "GIF",
    "attr_png": "PNG strip",
    "attr_gif": "GIF sweep",
    "trav_png": "PNG grid",
    "prior_png": "PNG grid",
    "csv": "CSV of the atlas",
}
_LINK_CLS = "ld-btn ld-btn-small ld-dl"
HIDDEN = {"display": "none"}


# ----------------------------------------------------------------------------- pure: state -> links
def api_base(catalog, model: str) -> str:
    return f"{catalog.url_prefix}api/v1/models/{quote(model, safe='')}/"


def _href(catalog, model, path, params) -> str:
    return api_base(catalog, model) + path + ("?" + urlencode(params, safe=",:>;") if params else "")


def _vector_text(z) -> str:
    """A float32 vector with 9 significant digits: exact, so the download decodes the very vector."""
    return ",".join(f"{float(v):.9g}" for v in np.asarray(z, np.float32).reshape(-1))


def _base(view, state) -> tuple[dict, str]:
    """The current vector as API parameters (the inspected item's index when the sliders sit on
    its code, else z) and as the file name says it (item412 / vector-<hash>)."""
    z = state_z(view, state)
    sel = state.get("sel")
    if sel is not None and encode_z([float(v) for v in z], state, view) is None:
        i = check_index(sel, view)
        return {"index": i}, f"item{i}"
    text = _vector_text(z)
    return {"z": text}, names.vector_tag([float(v) for v in text.split(",")])


def check_scale(scale) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale != int(scale):
        raise Reject(f"download scale must be a whole number 1..{MAX_SCALE}, got {scale!r}")
    if not 1 <= int(scale) <= MAX_SCALE:
        raise Reject(f"download scale must be 1..{MAX_SCALE}, got {scale!r}")
    return int(scale)


def _off(reason: str) -> dict:
    return {"href": None, "download": None, "title": reason}


def _on(href: str, name: str, title: str) -> dict:
    return {"href": href, "download": name, "title": f"{title} ({name})"}


def _scaled(params: dict, scale: int) -> dict:
    return {**params, "scale": scale} if scale != 1 else params


def decode_link(view, state, catalog, scale) -> dict:
    params, base = _base(view, state)
    href = _href(catalog, view.name, "decode.png", _scaled(params, scale))
    return _on(href, names.decode_name(view.name, base, scale), f"the current decode, x{scale}")


def sweep_range(view, dim: int) -> tuple[float, float]:
    """A sweep's default range for latent dimension `dim`: its slider's range on the page (mean
    +- 4 sigma of the codes where it has no slider). The REST API's default too."""
    axes = view.sliders["dims"]
    if dim in axes.idx:
        k = axes.idx.index(dim)
        return float(axes.lo[k]), float(axes.hi[k])
    m, s = float(view.lat_mean[dim]), float(view.lat_std[dim])
    return round(m - 4 * s, 3), round(m + 4 * s, 3)


def sweep_link(view, state, catalog, scale, dim) -> dict:
    if dim is None or isinstance(dim, bool) or not isinstance(dim, (int, float)) or not 0 <= int(dim) < view.d:
        return _off("pick a dimension to sweep")
    dim = int(dim)
    params, base = _base(view, state)
    lo, hi = sweep_range(view, dim)
    href = _href(catalog, view.name, "sweep.gif", _scaled({**params, "dim": dim, "steps": SWEEP_STEPS}, scale))
    name = names.sweep_name(view.name, dim, lo, hi, SWEEP_STEPS, base, scale)
    return _on(href, name, f"z{dim} from {lo:g} to {hi:g} and back, x{scale}")


def interp_links(view, state, catalog, scale) -> tuple[dict, dict]:
    a, b = state.get("a"), state.get("b")
    if a is None or b is None:
        off = _off("pick endpoints A and B first")
        return off, off
    a, b = check_index(a, view, "A"), check_index(b, view, "B")
    steps, mode = check_steps(state.get("steps")), state.get("mode") or "linear"
    params = _scaled({"a": a, "b": b, "steps": steps, "mode": mode}, scale)
    out = []
    for ext in ("png", "gif"):
        href = _href(catalog, view.name, f"interpolation.{ext}", params)
        what = "the strip" if ext == "png" else f"A to B and back ({2 * steps - 2} frames)"
        out.append(_on(href, names.interp_name(view.name, a, b, steps, mode, scale, ext), f"{what}, x{scale}"))
    return out[0], out[1]


def _uses_groups(spec) -> bool:
    return bool(spec) and any(r == "sel" or r.startswith("g:") for r in str(spec).split(">"))


def attr_links(view, state, catalog, scale) -> tuple[dict, dict]:
    """The strength strip (-2, -1, 0, 1, 2: the card's strip) as a PNG, and a GIF sweep."""
    spec = state.get("dir")
    if not spec:
        off = _off("pick a direction first")
        return off, off
    d = A.direction(view, state)
    params, base = _base(view, state)
    # a direction between the selection or saved groups goes as its vector (a link can't carry them)
    params.update({"v": _vector_text(d.v)} if _uses_groups(spec) else {"dir": spec})
    label = "vector" if _uses_groups(spec) else d.label
    out = []
    for ext, steps, what in (("png", 5, "strength -2 to 2"), ("gif", SWEEP_STEPS, "strength -2 to 2 and back")):
        href = _href(catalog, view.name, f"attribute.{ext}", _scaled({**params, "steps": steps}, scale))
        out.append(
            _on(href, names.attr_name(view.name, label, -2.0, 2.0, steps, base, scale, ext), f"{what}, x{scale}")
        )
    return out[0], out[1]


def trav_link(view, state, catalog, scale) -> dict:
    if not state.get("ton"):
        return _off("tick 'show' to make the grid")
    rows, n, cols, k = A.check_trav(state)
    sort = bool(state.get("tsort"))
    params, base = _base(view, state)
    params.update({"rows": rows, "n": n, "cols": cols, "k": number_text(k)})
    if sort:
        params["sort"] = 1
    if rows == "attr":
        spec = state.get("dir")
        if spec and ">" in spec:
            params["dir"] = spec
        if state.get("groups"):
            text = encode_groups(state["groups"], state, view)
            if text == KEPT:
                return _off("the saved groups are too large for a link; download without them")
            params["groups"] = text
        if spec and "sel" in spec.split(">") and state.get("selection"):
            text = index_ranges(state["selection"])
            if len(text) > 6000:
                return _off("the selection is too large for a link")
            params["selection"] = text
    href = _href(catalog, view.name, "traversal.png", _scaled(params, scale))
    name = names.traversal_name(view.name, rows, n, cols, k, sort, base, scale)
    return _on(href, name, f"the grid, x{scale}")


def prior_link(view, state, catalog, scale) -> dict:
    if not view.has_prior:
        return _off(f"{view.name} has no prior to sample")
    if not state.get("pon"):
        return _off("tick 'show' to sample the prior")
    n = int(state.get("pn", DEFAULT_PRIOR["pn"]))
    seed, temp = int(state.get("pseed", 0)), float(state.get("ptemp", 1.0))
    params = _scaled({"n": n, "seed": seed, "temp": number_text(temp)}, scale)
    href = _href(catalog, view.name, "prior.png", params)
    return _on(href, names.prior_name(view.name, n, seed, temp, scale), f"the samples, x{scale}")


def csv_link(view, catalog) -> dict:
    href = api_base(catalog, view.name) + "atlas.csv"
    return _on(href, exports.csv_filename(view.explorer), f"{view.n} rows: index, label, latent, map positions")


def _each(build, n: int = 1):
    """One link builder's result; a part of the state it can't link greys that link (its
    title says why) and leaves the others."""
    try:
        return build()
    except Reject as e:
        return _off(str(e)) if n == 1 else (_off(str(e)),) * n


def download_links(state: dict, catalog, scale=DEFAULT_SCALE, dim=None) -> dict:
    """{link: {"href", "download", "title"}} for every download (href None: not available now,
    title says why). Raises Reject for a bad model or scale (the page keeps its links)."""
    view = view_of(catalog, state)
    scale = check_scale(scale)
    state = {**DEFAULT_TRAV, **DEFAULT_PRIOR, **state}
    png, gif = _each(lambda: interp_links(view, state, catalog, scale), 2)
    attr_png, attr_gif = _each(lambda: attr_links(view, state, catalog, scale), 2)
    return {
        "decode": _each(lambda: decode_link(view, state, catalog, scale)),
        "sweep": _each(lambda: sweep_link(view, state, catalog, scale, dim)),
        "interp_png": png,
        "interp_gif": gif,
        "attr_png": attr_png,
        "attr_gif": attr_gif,
        "trav_png": _each(lambda: trav_link(view, state, catalog, scale)),
        "prior_png": _each(lambda: prior_link(view, state, catalog, scale)),
        "csv": csv_link(view, catalog),
    }


def dim_options(view) -> list[dict]:
    return [{"label": f"z{k}", "value": k} for k in range(view.d)]


# ----------------------------------------------------------------------------- components
def link(name: str):
    return html.A(
        LINK_TEXT[name], id=LINK_ID[name], className=f"{_LINK_CLS} ld-off", title="not available yet", role="button"
    )


def decode_downloads():
    """Under the current decode: scale picker, PNG, and a GIF sweep of one dimension."""
    scale = dcc.Dropdown(
        id=ids.EXP_SCALE,
        options=[{"label": f"\u00d7{s}", "value": s} for s in range(1, MAX_SCALE + 1)],
        value=DEFAULT_SCALE,
        clearable=False,
        searchable=False,
        style={"width": "84px"},
    )
    dim = dcc.Dropdown(
        id=ids.EXP_DIM, options=[], value=None, clearable=False, searchable=False, style={"width": "84px"}
    )
    return html.Div(
        [
            html.Span("Download", className="ld-label", title="scale for every image download on the page"),
            scale,
            link("decode"),
            link("sweep"),
            html.Span("of", className="ld-hint"),
            dim,
        ],
        className="ld-row ld-wrap ld-downloads",
    )


def _row(*names_):
    return html.Div(
        [html.Span("Download", className="ld-label"), *(link(n) for n in names_)], className="ld-row ld-downloads"
    )


def interp_downloads():
    return _row("interp_png", "interp_gif")


def attr_downloads():
    return _row("attr_png", "attr_gif")


def trav_downloads():
    return _row("trav_png")


def prior_downloads():
    return _row("prior_png")


def header_downloads():
    """In the header: the atlas as CSV, and Copy link (with a text box for browsers without
    clipboard access: plain http on another host)."""
    return html.Div(
        [
            link("csv"),
            html.Button("Copy link", id=ids.BTN_COPY_LINK, className="ld-btn ld-btn-small"),
            dcc.Input(id=ids.COPY_BOX, type="text", readOnly=True, value="", style=HIDDEN, className="ld-copy-box"),
            html.Span(id=ids.COPY_NOTE, className="ld-copy-note", role="status"),
        ],
        className="ld-row ld-share",
    )


# ----------------------------------------------------------------------------- callbacks
_COPY_JS = """
async function (n) {
    const nu = window.dash_clientside.no_update;
    if (!n) { return [nu, nu, nu]; }
    const url = window.location.href;
    try {
        if (!navigator.clipboard || !window.isSecureContext) { throw new Error("no clipboard here"); }
        await navigator.clipboard.writeText(url);
        return ["Link copied", url, {"display": "none"}];
    } catch (e) {
        /* no clipboard (e.g. plain http from another machine): the link, selected, in a box */
        window.setTimeout(function () {
            const box = document.getElementById("%s");
            if (box) { box.focus(); box.select(); }
        }, 30);
        return ["Press Ctrl+C to copy the selected link", url, {"width": "260px"}];
    }
}
"""


def register_exports(app, catalog) -> None:
    from . import urlstate
    from .callbacks import shown

    outputs = [Output(LINK_ID[n], p) for n in LINKS for p in ("href", "download", "title", "className")]

    @app.callback(
        *outputs,
        Input(ids.ST_MAP, "data"),
        Input(ids.ST_SEL, "data"),
        Input(ids.ST_Z, "data"),
        Input(ids.ST_INTERP, "data"),
        Input(ids.ST_ATTR, "data"),
        Input(ids.ST_TRAV, "data"),
        Input(ids.ST_PRIOR, "data"),
        Input(ids.ST_SELECTION, "data"),
        Input(ids.EXP_SCALE, "value"),
        Input(ids.EXP_DIM, "value"),
        prevent_initial_call=True,
    )
    @shown("download links", len(outputs))
    def draw_links(m, sel, z, interp, attr, trav, prior, selection, scale, dim):
        state = urlstate.merge(selection, prior, trav, attr, interp, sel, m, z)
        if not state.get("model"):
            return [no_update] * len(outputs)
        links = download_links(state, catalog, scale if scale is not None else DEFAULT_SCALE, dim)
        out = []
        for n in LINKS:
            r = links[n]
            out += [r["href"], r["download"], r["title"], _LINK_CLS + ("" if r["href"] else " ld-off")]
        return out

    @app.callback(
        Output(ids.EXP_DIM, "options"),
        Output(ids.EXP_DIM, "value"),
        Input(ids.ST_MAP, "data"),
        State(ids.EXP_DIM, "value"),
        prevent_initial_call=True,
    )
    @shown("sweep dimensions", 2)
    def draw_dims(m, dim):
        view = view_of(catalog, m or {"model": catalog.default})
        keep = isinstance(dim, int) and 0 <= dim < view.d
        return dim_options(view), (dim if keep else int(view.var_order[0]))

    app.clientside_callback(
        _COPY_JS % ids.COPY_BOX,
        Output(ids.COPY_NOTE, "children"),
        Output(ids.COPY_BOX, "value"),
        Output(ids.COPY_BOX, "style"),
        Input(ids.BTN_COPY_LINK, "n_clicks"),
        prevent_initial_call=True,
    )
