"""Plotly figure dicts for the map and the latent bar chart, plus overlay patch operations.

Figures are plain dicts (no plotly.graph_objects validation on the hot path). Large arrays travel
as Plotly's base64 typed-array spec ({dtype, bdata}), so 70k float32 coordinates cost 4 bytes
each plus base64 instead of ~18 bytes of JSON text. Point ids are `customdata` (plain int lists:
Dash reads them out of `gd.data`, which typed-array specs would hide).

Trace order is fixed: one trace per class (`ModelView.trace_idx`), then the overlays in OVERLAYS
order, so an overlay's trace number is `n_classes + OVERLAYS.index(name)` and a Patch can address
it without resending the points.
"""

from __future__ import annotations

import base64

import numpy as np

OVERLAYS = ("prior", "path", "A", "B", "attr", "arith", "edit", "selected", "current")
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#aec7e8",
    "#ff7f0e",
    "#ffbb78",
    "#2ca02c",
    "#98df8a",
    "#d62728",
    "#ff9896",
    "#9467bd",
    "#c5b0d5",
]
SCALES = {"recon": "Viridis", "pres": "RdYlGn", "dim": "RdBu"}
# train (0) / test (1) split: two colours (ui/analysis.py SPLIT_COLOURS)
SCALES["split"] = [[0.0, "#4e79a7"], [0.5, "#4e79a7"], [0.5, "#e15759"], [1.0, "#e15759"]]
POINT_SIZE_2D = 4
POINT_SIZE_3D = 2


def endpoint_style(tag: str, colour: str) -> dict:
    """An interpolation endpoint: a square in its colour, labelled A or B."""
    return dict(
        mode="markers+text",
        text=[tag],
        textposition="top center",
        textfont={"size": 16, "color": "#111"},
        marker={"size": 16, "color": colour, "symbol": "square", "line": {"color": "#111", "width": 2}},
    )


OVERLAY_STYLE = {
    "path": dict(
        mode="lines+markers",
        line={"color": "#111", "width": 2},
        marker={"size": 7, "color": "#ffd400", "line": {"color": "#111", "width": 1}},
    ),
    "A": endpoint_style("A", "#00b3ff"),
    "B": endpoint_style("B", "#ff3df5"),
    "selected": dict(
        mode="markers", marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"color": "#111", "width": 3}}
    ),
    "current": dict(
        mode="markers",
        marker={"size": 14, "color": "#ff2d2d", "symbol": "diamond", "line": {"color": "#fff", "width": 2}},
    ),
    # latent algebra: prior samples, the attribute vector's group means (an arrow on 2-D maps),
    # the arithmetic result and the attribute-edited vector
    "prior": dict(mode="markers", marker={"size": 7, "color": "#111", "symbol": "x-thin", "line": {"width": 2}}),
    "attr": dict(
        mode="lines+markers",
        line={"color": "#7a00cc", "width": 3},
        marker={"size": 11, "color": "#7a00cc", "symbol": "circle", "line": {"color": "#fff", "width": 2}},
    ),
    "arith": dict(
        mode="markers+text",
        text=["A\u2212B+C"],
        textposition="bottom center",
        textfont={"size": 13, "color": "#111"},
        marker={"size": 15, "color": "#00c48c", "symbol": "star", "line": {"color": "#111", "width": 1}},
    ),
    "edit": dict(
        mode="markers",
        marker={"size": 13, "color": "#ff8c00", "symbol": "triangle-up", "line": {"color": "#111", "width": 1}},
    ),
}
# your image (ui/upload.py): a large gold star, labelled
OVERLAYS += ("upload",)
OVERLAY_STYLE["upload"] = dict(
    mode="markers+text",
    text=["your image"],
    textposition="top center",
    textfont={"size": 13, "color": "#111"},
    marker={"size": 22, "color": "#ffc400", "symbol": "star", "line": {"color": "#111", "width": 2}},
)
ARROW_COLOUR = "#7a00cc"


def attr_arrow(pts) -> list[dict]:
    """A 2-D map's annotation: an arrow from group A's placed mean to group B's."""
    if pts is None or len(pts) != 2:
        return []
    (x0, y0), (x1, y1) = (tuple(round(float(v), 5) for v in p[:2]) for p in pts)
    return [
        dict(
            x=x1,
            y=y1,
            ax=x0,
            ay=y0,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            text="",
            showarrow=True,
            arrowhead=3,
            arrowsize=1.6,
            arrowwidth=3,
            arrowcolor=ARROW_COLOUR,
            standoff=4,
        )
    ]


def b64(arr, dtype: str = "f4") -> dict:
    """numpy array -> Plotly typed-array spec (little-endian)."""
    a = np.ascontiguousarray(np.asarray(arr).astype("<" + dtype, copy=False))
    return {"dtype": dtype, "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def uirevision(model, map_name, rev) -> str:
    """The figure's plotly uirevision, also the key the page knows a drawn map by."""
    return f"{model}|{map_name}|{rev or 0}"


def overlay_index(view, name: str) -> int:
    return len(view.trace_idx) + OVERLAYS.index(name)


def _xyz(pts, dims: int) -> dict:
    """{x, y[, z]} lists for a few overlay points (pts: [n, dims] or None)."""
    if pts is None or len(pts) == 0:
        out = {"x": [], "y": []}
        if dims == 3:
            out["z"] = []
        return out
    pts = np.asarray(pts, np.float64)
    out = {"x": [round(float(v), 5) for v in pts[:, 0]], "y": [round(float(v), 5) for v in pts[:, 1]]}
    if dims == 3:
        out["z"] = [round(float(v), 5) for v in pts[:, 2]]
    return out


def colour_values(view, colour: str, map_name: str):
    """Per-point float32 values for a continuous colouring (None for 'class')."""
    ex = view.explorer
    if colour == "recon":
        return np.asarray(ex.recon_error, np.float32)
    if colour == "pres":
        return np.asarray(ex.preservation(map_name), np.float32)
    if colour.startswith("dim"):
        return np.asarray(ex.latents, np.float32)[:, int(colour[3:])]
    if colour == "split" and ex.split() is not None:
        return np.asarray(ex.split(), np.float32)
    return None


def marker_specs(view, colour: str, map_name: str, dims: int) -> list[dict]:
    """One marker dict per class trace for this colouring."""
    size = POINT_SIZE_2D if dims == 2 else POINT_SIZE_3D
    # 3-D points are drawn as glyph meshes: a square is 2 triangles where a circle is dozens,
    # which halves the time to draw 70k points in software WebGL; at 2 px they look the same
    shape = {} if dims == 2 else {"symbol": "square"}
    vals = colour_values(view, colour, map_name)
    if vals is None:
        return [{"size": size, "color": PALETTE[c % len(PALETTE)], "opacity": 0.8, **shape} for c in view.trace_classes]
    finite = vals[np.isfinite(vals)]
    if colour.startswith("dim"):
        m = float(np.percentile(np.abs(finite), 99)) if finite.size else 1.0
        cmin, cmax, scale = -m, m, SCALES["dim"]
    elif colour == "split":
        cmin, cmax, scale = 0.0, 1.0, SCALES["split"]
    else:
        cmin = float(np.percentile(finite, 1)) if finite.size else 0.0
        cmax = float(np.percentile(finite, 99)) if finite.size else 1.0
        scale = SCALES[colour]
    if not cmax > cmin:
        cmax = cmin + 1e-6
    title = {"recon": "recon. error", "pres": "preservation", "split": "split"}.get(colour, f"z{colour[3:]}")
    specs = []
    for t, idx in enumerate(view.trace_idx):
        m = {
            "size": size,
            "color": b64(np.nan_to_num(vals[idx], nan=cmin)),
            "colorscale": scale,
            "cmin": cmin,
            "cmax": cmax,
            "opacity": 0.85,
            "showscale": t == 0,
            **shape,
        }
        if t == 0:
            m["colorbar"] = {
                "title": {"text": title},
                "thickness": 12,
                "len": 0.5,
                "x": 1.0,
                "y": 0.0,
                "yanchor": "bottom",
            }
            if colour == "split":
                m["colorbar"].update(tickvals=[0.25, 0.75], ticktext=["train", "test"])
        specs.append(m)
    return specs


def camera_layout(cam, dims: int) -> dict:
    """Layout entries that restore a camera from the URL state."""
    if not isinstance(cam, dict):
        return {}
    if dims == 2 and "x" in cam and "y" in cam:
        return {"xaxis.range": list(cam["x"]), "yaxis.range": list(cam["y"])}
    if dims == 3 and "eye" in cam:
        return {"scene.camera": cam}
    return {}


def selected_points(view, selection) -> list:
    """Per class trace, the positions of the selected points in it (None for all: no selection)."""
    if not selection:
        return [None] * len(view.trace_idx)
    idx = np.asarray(selection, np.int64)
    out = [[] for _ in view.trace_idx]
    for t, pos in zip(view.trace_of[idx].tolist(), view.pos_in_trace[idx].tolist()):
        out[t].append(pos)
    return out


def selection_ops(view, map_name: str, selection) -> list[dict]:
    """Patch operations that show a selection (2-D maps; 3-D maps have no box/lasso select).
    Clearing it also removes the box/lasso outline plotly keeps in layout.selections."""
    if view.map_parts(map_name).dims != 2:
        return []
    ops = [{"trace": t, "props": {"selectedpoints": sp}} for t, sp in enumerate(selected_points(view, selection))]
    if not selection:
        ops.append({"layout": {"selections": []}})
    return ops


def map_figure(view, map_name: str, colour: str, overlays: dict, cam=None, rev: int = 0, selection=None) -> dict:
    """The full map: one Scattergl/Scatter3d trace per class, then the overlay traces."""
    _, _, dims = view.map_parts(map_name)
    xy = np.asarray(view.explorer.coords(map_name), np.float32)
    chosen = selected_points(view, selection) if dims == 2 else [None] * len(view.trace_idx)
    ttype = "scattergl" if dims == 2 else "scatter3d"
    markers = marker_specs(view, colour, map_name, dims)
    data = []
    for t, idx in enumerate(view.trace_idx):
        tr = {
            "type": ttype,
            "mode": "markers",
            "name": view.trace_names[t],
            "x": b64(xy[idx, 0]),
            "y": b64(xy[idx, 1]),
            "customdata": idx.tolist(),
            "marker": markers[t],
            "hoverinfo": "none",
            "showlegend": view.has_labels,
        }
        if dims == 3:
            tr["z"] = b64(xy[idx, 2])
        if chosen[t] is not None:
            tr["selectedpoints"] = chosen[t]
        data.append(tr)
    for name in OVERLAYS:
        tr = {
            "type": ttype,
            "name": name,
            "showlegend": False,
            "hoverinfo": "skip",
            **OVERLAY_STYLE[name],
            **_xyz(overlays.get(name), dims),
        }
        if dims == 3:
            tr["marker"] = {**tr["marker"], "size": max(4, tr["marker"]["size"] // 2)}
        else:  # a box/lasso selection dims what it leaves out, never the markers drawn over the map
            tr["unselected"] = {"marker": {"opacity": 1}}
        if dims == 2 and name == "current":
            # on 2-D maps an HTML overlay (assets/ld-3-map.js) draws the slider vector, so that
            # dragging never redraws the WebGL points; the trace keeps the committed position
            tr["visible"] = False
        data.append(tr)
    layout = map_layout(view, map_name, dims, xy, cam, rev)
    if dims == 2:
        layout["annotations"] = attr_arrow(overlays.get("attr")) + list(overlays.get("labels") or [])
    return {"data": data, "layout": layout}


def map_layout(view, map_name: str, dims: int, xy: np.ndarray, cam=None, rev: int = 0) -> dict:
    """The map's layout: fixed ranges around the points (overlays such as the slider marker or a
    path never make the view jump while dragging), the camera from the state, no axes."""
    axis = {"visible": False, "showgrid": False, "zeroline": False}
    lo, hi = np.nanmin(xy, 0).astype(float), np.nanmax(xy, 0).astype(float)
    pad = 0.04 * np.maximum(hi - lo, 1e-6)
    ranges = [[round(a, 5), round(b, 5)] for a, b in zip(lo - pad, hi + pad)]
    layout = {
        "uirevision": uirevision(view.name, map_name, rev),
        "autosize": True,  # take the graph box's size on the first draw (no second draw)
        "margin": {"l": 4, "r": 4, "t": 30, "b": 4},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hovermode": "closest",
        "dragmode": "pan" if dims == 2 else "turntable",
        "legend": {
            "title": {"text": "class<br>(click: hide)"},
            "itemsizing": "constant",
            "x": 1.01,
            "xanchor": "left",
            "y": 1.0,
            "font": {"size": 13},
        },
        "font": {"size": 13},
    }
    # fixed ranges: overlays (the slider marker, a path) never make the view jump while dragging
    if dims == 2:
        layout["xaxis"] = {**axis, "range": ranges[0], "autorange": False}
        layout["yaxis"] = {**axis, "range": ranges[1], "autorange": False, "scaleanchor": "x", "scaleratio": 1}
    else:
        layout["scene"] = {
            "xaxis": {**axis, "range": ranges[0], "autorange": False},
            "yaxis": {**axis, "range": ranges[1], "autorange": False},
            "zaxis": {**axis, "range": ranges[2], "autorange": False},
            "aspectmode": "data",
            "bgcolor": "white",
        }
    for key, val in camera_layout(cam, dims).items():
        a, b = key.split(".")
        layout.setdefault(a, {})[b] = val
        if b == "range":
            layout[a]["autorange"] = False
    return layout


def overlay_ops(view, map_name: str, overlays: dict) -> list[dict]:
    """Patch operations that move the given overlays: [{trace, props}]."""
    _, _, dims = view.map_parts(map_name)
    ops = [{"trace": overlay_index(view, name), "props": _xyz(pts, dims)} for name, pts in overlays.items()]
    if dims == 2 and "attr" in overlays:
        ops.append({"layout": {"annotations": attr_arrow(overlays["attr"])}})
    return ops


def colour_ops(view, map_name: str, colour: str) -> list[dict]:
    _, _, dims = view.map_parts(map_name)
    return [{"trace": t, "props": {"marker": m}} for t, m in enumerate(marker_specs(view, colour, map_name, dims))]


def empty_figure(message: str = "") -> dict:
    return {
        "data": [],
        "layout": {
            "autosize": True,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "annotations": [{"text": message, "showarrow": False, "font": {"size": 16}}] if message else [],
        },
    }
