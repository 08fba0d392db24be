"""How plausible each decoded vector is, as the page shows it (issue 11, part 3): pure render
handlers over `Explorer.plausibility` / `plausibility_path` (latentdash/plausibility.py).

- `summary(view, z, map_name)`: the line next to the current decode (the slider vector, which is
  what an attribute edit, an arithmetic result, a decode-anywhere click, a loaded interpolation
  step and a loaded prior sample all end up as): the verdict, the nearest-data distance as a
  percentile of the data's own nearest-neighbour distances, a VAE's log prior density, a warning
  when the vector is not typical, and whether its marker on this map is an estimate (t-SNE,
  UMAP and pixel maps place a vector by its nearest data latents; PCA and raw maps are exact).
  The same small dict rides along with every slider drag frame (callbacks.drag_frame) and is
  what assets/ld-7-plaus.js draws;
- `live(values, state, catalog)`: the same for slider positions during a drag that the browser
  decodes itself (a plausibility-only frame: no image);
- `path_chart(state, catalog)`: the percentile of every step of the interpolation A -> B, for the
  linear and the spherical path, the state's mode highlighted (a small plotly figure);
- `step_verdicts(view, path)`: the verdict of each strip cell (an off-the-data cell gets a border).
"""

from __future__ import annotations

import logging

import numpy as np

from .. import plausibility as plaus
from ..atlas.params import parse_map_name
from ..errors import LatentdashError
from .handlers import Reject, check_index, check_steps, slider_values, state_z, view_of

log = logging.getLogger(__name__)

LEVEL = {v: k for k, v in enumerate(plaus.VERDICTS)}  # typical 0, unusual 1, off the data 2
UNCERTAIN_HOVER = "placement estimated; this vector is far from the data"
MODE_COLOUR = {"linear": "#1f6feb", "spherical": "#d9480f"}


def placement_exact(map_name) -> bool:
    """Is a vector's place on this map exact (PCA of the latents, raw latent axes), not estimated
    from its nearest data latents (t-SNE, UMAP, every pixel-space map but pixel PCA of images)?"""
    try:
        space, method, _ = parse_map_name(str(map_name))
    except (ValueError, TypeError):
        return False
    return method == "raw" or (space == "latent" and method == "pca")


def _pct(p: float) -> str:
    return "100" if p >= 100 else f"{p:.1f}" if p >= 99 else f"{p:.0f}"


def summary(view, z, map_name=None) -> dict:
    """The plausibility of one latent vector z [d] as the page shows it (JSON-able, small)."""
    r = view.explorer.plausibility(np.asarray(z, np.float32).reshape(-1))
    pct, verdict = float(r["percentile"]), r["verdict"]
    level = LEVEL[verdict]
    line = (
        f"distance to the data {r['distance']:.2f}: percentile {_pct(pct)} "
        "of the data's own nearest-neighbour distances"
    )
    lp = r.get("log_prior_nats")
    if lp is not None:
        med = r.get("data_log_prior_median_nats")
        line += f"; log prior {lp:.1f} nats" + ("" if med is None else f" (data median {med:.1f})")
    if level == 2:
        warn = (
            f"Off the data: farther from every data latent than {plaus.UNUSUAL_MAX:.0f} % of the data are "
            "from their nearest neighbour. The decode may look like no real image."
        )
    elif level == 1:
        warn = f"Unusual: farther from the data than {plaus.TYPICAL_MAX:.0f} % of the data are from their neighbour."
    else:
        warn = ""
    exact = map_name is None or placement_exact(map_name)
    uncertain = level > 0 and not exact
    if uncertain:
        warn += " Its marker on this map is an estimate and can land in the wrong cluster."
    return {
        "verdict": verdict,
        "level": level,
        "percentile": round(pct, 2),
        "distance": round(float(r["distance"]), 4),
        "log_prior": None if lp is None else round(float(lp), 2),
        "line": line,
        "warn": warn,
        "exact": exact,
        "uncertain": uncertain,
        "hover": UNCERTAIN_HOVER if uncertain else "",
    }


def render_plaus(state: dict, catalog) -> dict:
    """The committed slider vector's plausibility (the state's z, or the implied one)."""
    view = view_of(catalog, state)
    return summary(view, state_z(view, state), state.get("map"))


def frame_plaus(view, z, map_name):
    """A drag frame's plausibility, or None (logged) when it cannot be computed: the frame's image
    is still shown."""
    try:
        return summary(view, z, map_name)
    except LatentdashError as e:
        log.warning("plausibility of a drag frame not computed: %s", e)
        return None


def live(values, state: dict, catalog) -> dict:
    """Slider positions during a drag the browser decodes -> the vector's plausibility (the vector
    composed exactly as render.live_decode composes it)."""
    view = view_of(catalog, state)
    axes = view.sliders.get(state.get("basis", "dims"))
    if axes is None:
        raise Reject(f"unknown slider basis {state.get('basis')!r}")
    z = axes.compose(state_z(view, state), slider_values(values, axes))
    return summary(view, z, state.get("map"))


# ----------------------------------------------------------------------------- paths
def step_verdicts(view, path) -> list[str]:
    """The verdict of every vector of a path [steps, d] (strip cells)."""
    r = view.explorer.plausibility(np.asarray(path, np.float32).reshape(len(path), -1))
    v = r["verdict"]
    return [v] if isinstance(v, str) else list(v)


def grid_note(verdicts) -> str:
    """'; 3 of 16 off the data, 2 unusual (bordered)' for a grid's note, '' when all are typical."""
    off, odd = verdicts.count(plaus.VERDICTS[2]), verdicts.count(plaus.VERDICTS[1])
    if not off and not odd:
        return ""
    parts = ([f"{off} of {len(verdicts)} off the data"] if off else []) + ([f"{odd} unusual"] if odd else [])
    return "; " + ", ".join(parts) + " (bordered)"


def path_chart(state: dict, catalog) -> dict:
    """The percentile of each interpolation step, linear and spherical, from the same endpoints:
    {"figure", "note", "worst": {mode: percentile}, "steps"}; {"figure": None} without both ends."""
    view = view_of(catalog, state)
    if state.get("a") is None or state.get("b") is None:
        return {"figure": None, "note": "", "worst": {}, "steps": 0}
    za, zb = (np.asarray(view.explorer.latents[check_index(state[k], view, k.upper())], np.float32) for k in ("a", "b"))
    steps = check_steps(state.get("steps"))
    mode = state.get("mode") or "linear"
    paths = view.explorer.plausibility_path(za, zb, steps)
    x = list(range(1, steps + 1))
    traces = []
    for m in ("linear", "spherical"):
        p = paths[m]
        on = m == mode
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": m + (" (shown)" if on else ""),
                "x": x,
                "y": [round(float(v), 2) for v in p["percentile"]],
                "customdata": p["verdict"],
                "line": {"color": MODE_COLOUR[m], "width": 3 if on else 1.5, "dash": "solid" if on else "dot"},
                "marker": {"size": 6 if on else 4},
                "opacity": 1.0 if on else 0.75,
                "hovertemplate": m + " step %{x}: percentile %{y:.1f} (%{customdata})<extra></extra>",
            }
        )
    shapes = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": y,
            "y1": y,
            "line": {"color": c, "width": 1, "dash": "dash"},
        }
        for y, c in ((plaus.TYPICAL_MAX, "#e0a800"), (plaus.UNUSUAL_MAX, "#c92a2a"))
    ]
    worst = {m: round(float(paths[m]["worst_percentile"]), 1) for m in ("linear", "spherical")}
    off = {m: sum(v != "typical" for v in paths[m]["verdict"]) for m in ("linear", "spherical")}
    note = (
        f"Distance to the data along the path (percentile; above {plaus.TYPICAL_MAX:.0f}: unusual, above "
        f"{plaus.UNUSUAL_MAX:.0f}: off the data). Worst step: linear {worst['linear']}, spherical "
        f"{worst['spherical']}; steps not typical: linear {off['linear']}, spherical {off['spherical']} of {steps}."
    )
    figure = {
        "data": traces,
        "layout": {
            "height": 170,
            "margin": {"l": 36, "r": 8, "t": 24, "b": 28},
            "xaxis": {"title": {"text": "step"}, "dtick": 1 if steps <= 16 else 4, "range": [0.5, steps + 0.5]},
            "yaxis": {"title": {"text": "percentile"}, "range": [0, 101]},
            "shapes": shapes,
            "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": 11}},
            "showlegend": True,
            "font": {"size": 11},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "uirevision": f"{view.name}|plaus",
        },
    }
    return {"figure": figure, "note": note, "worst": worst, "steps": steps}
