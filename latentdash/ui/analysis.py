"""Fit diagnosis, semantic map and topology in the page (issue 11, parts 5-7): the pure parts.

- the `rlabels` handler (the "Region labels" toggle) and the map annotations it asks for: one per
  HDBSCAN region of the shown 2-D map, at the region's medoid, "Sneaker 94%" (majority class and
  purity) or "cluster 3" for unlabelled data (atlas/regions.py computed them at precompute time);
- the Analysis card's render dicts: the reconstruction-error histograms (train vs test side by
  side, or the one split with the selected point's error marked), the generalisation gap and its
  reading (atlas/fit.py), the region list, and the H0/H1 persistence diagrams with their counts
  and reading (atlas/topology.py).

Figures are plain plotly dicts of `scatter` traces only (the page's plotly bundle has scatter,
scattergl and scatter3d: histograms are drawn as filled step lines). Nothing here touches Dash.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from .. import imaging
from ..errors import LatentdashError
from . import figures
from .handlers import NO_CHANGE, Env, Reject, check_index, view_of

log = logging.getLogger(__name__)

SPLIT_COLOURS = ("#4e79a7", "#e15759")  # train, test (also the map's "split" colouring)
SPLIT_NAMES = ("train", "test")
LABEL_BG = "rgba(255,255,255,0.82)"
DIAGRAM_PX = 200  # each persistence diagram is DIAGRAM_PX square (fixed: drawn inside a <details>)
FIT_HEIGHT = 190


# ----------------------------------------------------------------------------- the toggle
def on_region_labels(state, value, env: Env):
    """The "Region labels" checklist (["on"] or []) -> state["rlabels"]."""
    if value is not None and not isinstance(value, (list, tuple)):
        raise Reject(f"region labels toggle value {value!r} is not a list")
    on = bool(value) and "on" in value
    if bool(state.get("rlabels")) == on:
        return NO_CHANGE
    state["rlabels"] = on


# ----------------------------------------------------------------------------- map annotations
def is_2d(view, map_name) -> bool:
    try:
        return view.map_parts(map_name).dims == 2
    except ValueError:
        return False


def region_label(region: dict) -> str:
    """What the map writes at a region's centre: "Sneaker 94%", or "cluster 3" without labels."""
    if "majority" in region and region.get("purity") is not None:
        return f"{region['majority']} {region['purity']:.0%}"
    return f"cluster {region['id']}"


def region_annotations(view, map_name) -> list[dict]:
    """One plotly annotation per region of a 2-D map ([] on 3-D maps and where the regions were
    not computed: the Analysis card says so)."""
    if not is_2d(view, map_name):
        return []
    try:
        regions = view.explorer.regions(map_name)
    except LatentdashError as e:
        log.info("region labels not drawn: %s", e)
        return []
    out = []
    for r in regions.get("clusters", []):
        x, y = (round(float(v), 5) for v in r["centre"][:2])
        out.append(
            dict(
                x=x,
                y=y,
                xref="x",
                yref="y",
                text=region_label(r),
                name=f"region {r['id']}",
                showarrow=False,
                font={"size": 12, "color": "#111"},
                bgcolor=LABEL_BG,
                bordercolor="#444",
                borderwidth=1,
                borderpad=2,
                captureevents=False,
            )
        )
    return out


def map_labels(view, state) -> list[dict]:
    """The region annotations the state asks for ([] with the toggle off)."""
    return region_annotations(view, state.get("map")) if state.get("rlabels") else []


def annotation_ops(view, state, attr_pts) -> list[dict]:
    """The map patch that rewrites the 2-D map's annotations: the attribute arrow and the labels."""
    if not is_2d(view, state.get("map")):
        return []
    return [{"layout": {"annotations": figures.attr_arrow(attr_pts) + map_labels(view, state)}}]


# ----------------------------------------------------------------------------- fit
def ordinal(p: float) -> str:
    """83.2 -> "83rd"."""
    k = int(math.floor(p + 0.5))
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _centres(edges) -> list[float]:
    e = np.asarray(edges, np.float64)
    return ((e[:-1] + e[1:]) / 2).tolist()


def _step(edges, counts, name, colour, axis="") -> dict:
    """A histogram as a filled step line (fraction of the split per bin)."""
    e = np.asarray(edges, np.float64)
    c = np.asarray(counts, np.float64)
    frac = c / max(1.0, c.sum())
    xs = np.repeat(e, 2)[1:-1].tolist()
    ys = np.repeat(frac, 2).tolist()
    return {
        "type": "scatter",
        "mode": "lines",
        "x": [float(e[0]), *xs, float(e[-1])],
        "y": [0.0, *ys, 0.0],
        "fill": "tozeroy",
        "line": {"color": colour, "width": 1.5},
        "name": name,
        "hoverinfo": "skip",
        "xaxis": "x" + axis,
        "yaxis": "y" + axis,
    }


def _vline(x, ymax, text, axis="") -> dict:
    return {
        "type": "scatter",
        "mode": "lines+text",
        "x": [x, x],
        "y": [0, ymax],
        "text": ["", text],
        "textposition": "top center",
        "line": {"color": "#d00", "width": 2, "dash": "dot"},
        "name": text,
        "hoverinfo": "skip",
        "showlegend": False,
        "xaxis": "x" + axis,
        "yaxis": "y" + axis,
    }


def _axis(title="", **kw) -> dict:
    return {"title": {"text": title, "font": {"size": 11}}, "tickfont": {"size": 10}, "zeroline": False, **kw}


def fit_figure(fit: dict, point: dict | None = None) -> dict:
    """Train vs test side by side (shared bins, each as a fraction of its split), or the one
    split; `point` ({"error", "percentile", "split"}) draws the selected item's error as a line."""
    edges = fit["bins"]
    data, layout = (
        [],
        {
            "height": FIT_HEIGHT,
            "autosize": True,
            "margin": {"l": 38, "r": 8, "t": 22, "b": 34},
            "showlegend": False,
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"size": 11},
        },
    )
    top = 0.0
    if fit.get("has_split"):
        for k, (axis, split) in enumerate((("", "train"), ("2", "test"))):
            n = fit[split]["n"]
            data.append(_step(edges, fit["hist"][split], f"{split} ({n})", SPLIT_COLOURS[k], axis))
            top = max(top, max(data[-1]["y"]))
        layout["xaxis"] = _axis("train: recon. error", domain=[0.0, 0.47])
        layout["xaxis2"] = _axis("test: recon. error", domain=[0.53, 1.0], anchor="y2", matches="x")
        layout["yaxis"] = _axis("fraction")
        layout["yaxis2"] = _axis(anchor="x2", matches="y", showticklabels=False)
    else:
        data.append(_step(edges, fit["hist"]["all"], "all", SPLIT_COLOURS[1]))
        top = max(data[-1]["y"])
        layout["xaxis"] = _axis("reconstruction error (MSE per pixel)")
        layout["yaxis"] = _axis("fraction")
    for a in ("yaxis", "yaxis2"):
        if a in layout:
            layout[a]["range"] = [0, top * 1.25 or 1.0]
    if point is not None:
        axis = "2" if fit.get("has_split") and point.get("split") == 1 else ""
        x = min(float(point["error"]), float(edges[-1]))
        data.append(_vline(x, top * 1.08, "this point", axis))
    return {"data": data, "layout": layout}


def gap_text(fit: dict) -> str | None:
    """The generalisation gap as a number: "test / train mean error = 1.30"."""
    if not fit.get("has_split") or fit.get("gap") is None:
        return None
    return f"test / train mean error = {fit['gap']:.2f}"


def render_fit(state: dict, catalog) -> dict:
    """The fit panel: {"available", "figure", "gap", "reading", "point" (the selected item's
    error line, None without a selection), "summary"}."""
    view = view_of(catalog, state)
    try:
        fit = view.explorer.fit()
    except LatentdashError as e:
        return {"available": False, "reading": str(e)}
    if not fit.get("available"):
        return {"available": False, "reading": fit.get("reading", "no fit diagnosis")}
    point = None
    if state.get("sel") is not None:
        i = check_index(state["sel"], view)
        err = float(np.asarray(view.explorer.recon_error)[i])
        pct = view.explorer.error_percentile(i)
        split = view.explorer.split()
        point = {
            "i": i,
            "error": err,
            "percentile": pct,
            "split": None if split is None else int(split[i]),
            "text": f"this point's error ({err:.4f}) is at the {ordinal(pct)} percentile",
        }
    if fit.get("has_split"):
        tr, te = fit["train"], fit["test"]
        summary = f"train: {tr['n']} images, mean error {tr['mean']:.4g}; test: {te['n']}, mean {te['mean']:.4g}"
    else:
        summary = ""  # the reading says it all
    return {
        "available": True,
        "figure": fit_figure(fit, point),
        "gap": gap_text(fit),
        "reading": fit["reading"],
        "point": point,
        "summary": summary,
    }


# ----------------------------------------------------------------------------- regions
def render_regions(state: dict, catalog) -> dict:
    """The semantic-map section: the toggle's note and the regions of the shown 2-D map (for
    unlabelled data with their medoids' thumbnails)."""
    view = view_of(catalog, state)
    map_name = state.get("map")
    on = bool(state.get("rlabels"))
    if not is_2d(view, map_name):
        twin = view.sibling_map(map_name) if map_name in view.map_names else None
        return {
            "ok": False,
            "items": [],
            "note": "Region labels are drawn on 2-D maps only" + (" (switch View to 2D)." if twin else "."),
            "short": "2-D maps only" if on else "",
        }
    try:
        reg = view.explorer.regions(map_name)
    except LatentdashError as e:
        return {"ok": False, "items": [], "note": str(e), "short": "not computed" if on else ""}
    items = []
    for r in reg.get("clusters", []):
        item = {"id": r["id"], "text": region_label(r), "size": r["size"]}
        if "majority" not in r:  # unlabelled: the medoid's thumbnail stands for the region
            item["src"] = imaging.png_data_uri(view.explorer.thumbnail(int(r["medoid"])))
        items.append(item)
    p = reg.get("params", {})
    note = (
        f"{reg['n_clusters']} regions on this map (HDBSCAN {p.get('method', '?')}, min cluster size "
        f"{p.get('min_cluster_size', '?')}), {reg.get('noise_fraction', 0):.0%} of the points in none"
    )
    if reg.get("mean_purity") is not None:
        note += f"; mean purity {reg['mean_purity']:.0%}"
    return {"ok": True, "items": items, "note": note + ".", "short": f"{len(items)} regions" if on else ""}


# ----------------------------------------------------------------------------- topology
def _diagram(rows, dim: int, threshold: float, top: float) -> dict:
    """A persistence diagram: birth vs death, the diagonal, the long-lived band edge, and the
    infinite bars drawn at the top ("inf")."""
    pts = np.asarray([[b, top if d is None else d] for b, d in rows], np.float64).reshape(-1, 2)
    inf = np.asarray([d is None for _, d in rows], bool)
    life = pts[:, 1] - pts[:, 0]
    long_ = (life > threshold) & ~inf
    colour = "#4e79a7" if dim == 0 else "#e15759"
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, top],
            "y": [0, top],
            "line": {"color": "#888", "width": 1},
            "hoverinfo": "skip",
            "name": "diagonal",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, top - threshold],
            "y": [threshold, top],
            "line": {"color": "#bbb", "width": 1, "dash": "dot"},
            "hoverinfo": "skip",
            "name": "long-lived above",
        },
    ]
    for name, mask, size, op in (("short-lived", ~long_ & ~inf, 4, 0.45), ("long-lived", long_, 7, 1.0)):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [round(float(v), 5) for v in pts[mask, 0]],
                "y": [round(float(v), 5) for v in pts[mask, 1]],
                "marker": {"size": size, "color": colour, "opacity": op},
                "name": f"H{dim} {name}",
                "hovertemplate": "birth %{x:.3g}, death %{y:.3g}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [round(float(v), 5) for v in pts[inf, 0]],
            "y": [top] * int(inf.sum()),
            "marker": {"size": 9, "color": colour, "symbol": "triangle-up"},
            "name": f"H{dim} essential (never dies)",
            "hovertemplate": "birth %{x:.3g}, never dies<extra></extra>",
        }
    )
    axis = {"range": [-0.04 * top, top * 1.06], "zeroline": False, "tickfont": {"size": 9}}
    return {
        "data": data,
        "layout": {
            "width": DIAGRAM_PX,
            "height": DIAGRAM_PX,
            "autosize": False,
            "margin": {"l": 34, "r": 6, "t": 22, "b": 30},
            "showlegend": False,
            "title": {"text": f"H{dim}", "font": {"size": 12}, "x": 0.5, "y": 0.97},
            "xaxis": {**axis, "title": {"text": "birth", "font": {"size": 10}}},
            "yaxis": {**axis, "title": {"text": "death", "font": {"size": 10}}},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"size": 10},
        },
    }


def render_topology(state: dict, catalog) -> dict:
    """The topology panel: the two diagrams, the counts of long-lived components and loops, the
    reading and the parameters as small print ({"ok": False, "reading": why} when missing)."""
    view = view_of(catalog, state)
    try:
        t = view.explorer.topology()
    except LatentdashError as e:
        return {"ok": False, "reading": str(e)}
    finite = [d for _, d in t["h0"] + t["h1"] if d is not None]
    top = max([float(t.get("diameter") or 0.0), *finite, 1e-6]) * 1.02
    p = t.get("params", {})
    params = (
        f"{p.get('landmarks_used', '?')} landmarks ({p.get('sampling', '?')}, seed {p.get('seed', '?')}) of "
        f"{view.n} latents; {p.get('complex', 'Vietoris-Rips')}, {p.get('metric', 'euclidean')} metric; "
        f"covering radius {t['cover']:.3g}; long-lived: lifetime > {t['threshold']:.3g} "
        f"(max of {p.get('cover_factor', 2):g} x cover, {p.get('rel_threshold', 0.05):g} x diameter "
        f"{t['diameter']:.3g}); {p.get('library', 'ripser')}"
    )
    return {
        "ok": True,
        "h0": _diagram(t["h0"], 0, t["threshold"], top),
        "h1": _diagram(t["h1"], 1, t["threshold"], top),
        "components": int(t["components"]),
        "loops": int(t["loops"]),
        "counts": f"H0: {t['components']} long-lived component{'s' if t['components'] != 1 else ''}; "
        f"H1: {t['loops']} long-lived loop{'s' if t['loops'] != 1 else ''}",
        "reading": t["reading"],
        "params": params,
    }
