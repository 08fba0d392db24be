"""Pure render handlers of the latent-algebra panels: gallery, attribute vector, arithmetic,
traversal grid and prior samples (view state -> JSON-able dicts; see render.py for the contract).
"""

from __future__ import annotations

import numpy as np

from .. import algebra as alg
from .. import imaging
from . import algebra as A
from . import grids
from .handlers import check_indices, state_z, view_of
from .render import thumb_url
from .schema import selection_fits_url


def _png(x) -> str:
    return imaging.png_data_uri(x)


# ----------------------------------------------------------------------------- gallery
def render_gallery(state: dict, catalog) -> dict:
    """The selection's page of images (64 a page), its class histogram, its pixel-mean image and
    the decoded mean of its codes; and the saved groups."""
    view = view_of(catalog, state)
    groups = [{"name": k, "count": len(v)} for k, v in (state.get("groups") or {}).items()]
    sel = state.get("selection")
    if not sel:
        return {"count": 0, "items": [], "groups": groups, "page": 0, "pages": 1, "hist": []}
    idx = check_indices(sel, view)
    pages = A.gallery_pages(state)
    page = min(max(int(state.get("gpage") or 0), 0), pages - 1)
    shown = idx[page * A.GALLERY_PAGE : (page + 1) * A.GALLERY_PAGE]
    items = [
        {"i": int(i), "label": view.label_of(int(i)), "src": thumb_url(view.name, int(i), catalog.url_prefix)}
        for i in shown
    ]
    hist = []
    if view.has_labels:
        counts = np.bincount(view.trace_of[idx], minlength=len(view.trace_names))
        hist = [
            {"name": view.trace_names[t], "count": int(counts[t]), "frac": float(counts[t]) / len(idx)}
            for t in np.argsort(-counts, kind="stable")
            if counts[t]
        ]
    thumbs = view.explorer.atlas.thumbnails
    step = max(1, len(idx) // 20000)  # the pixel mean of a huge selection from a 20k subsample
    pixel_mean = np.asarray(thumbs[np.sort(idx[::step])], np.float32).mean(0) / 255.0
    mean_z = alg.group_mean(view.explorer.latents, idx, "selection")
    return {
        "count": len(idx),
        "items": items,
        "page": page,
        "pages": pages,
        "hist": hist,
        "pixel_mean": _png(pixel_mean),
        "decoded_mean": _png(view.explorer.decode(mean_z)[0]),
        "groups": groups,
        "fits_url": selection_fits_url(sel),
    }


def class_choices(view) -> list[dict]:
    return (
        [{"label": n, "value": int(c)} for c, n in zip(view.trace_classes, view.trace_names)] if view.has_labels else []
    )


def group_choices(view, state) -> list[dict]:
    """The groups a direction can run between: classes, saved groups, the selection, everything."""
    out = [{"label": "everything", "value": "all"}, {"label": "the selection", "value": "sel"}]
    out += [{"label": f"group: {g}", "value": f"g:{g}"} for g in state.get("groups") or {}]
    out += [{"label": n, "value": f"c{c}"} for c, n in zip(view.trace_classes, view.trace_names) if view.has_labels]
    return out


def axis_choices(view, kind: str) -> list[dict]:
    if kind == "pc":
        return [{"label": f"PC{k + 1}", "value": k} for k in range(len(view.explorer.latent_pcs[1]))]
    return [{"label": f"z{k}", "value": k} for k in range(view.d)]


# ----------------------------------------------------------------------------- attribute vector
def render_attr(state: dict, catalog) -> dict:
    """The attribute edit of the current vector: base and edited image, the strength strip and
    the direction as a vector (the page's strength drag decodes z + s * v)."""
    view = view_of(catalog, state)
    out = {"presets": A.presets(view), "dir": state.get("dir"), "ok": False}
    if not state.get("dir"):
        return out
    d, z_edit = A.edited(view, state)
    z = state_z(view, state)
    strip = alg.strength_strip(z, d.v)
    imgs = view.explorer.decode(np.concatenate([z[None], z_edit[None], strip]))
    note = f"{d.label}: length {float(np.linalg.norm(d.v)):.3g}"
    if d.sizes:
        note += f" (means of {d.sizes[0]} and {d.sizes[1]} points)"
    return {
        **out,
        "ok": True,
        "label": d.label,
        "note": note,
        "strength": float(state.get("strength", 1.0)),
        "base": _png(imgs[0]),
        "edit": _png(imgs[1]),
        "strip": [{"s": float(s), "src": _png(x)} for s, x in zip(alg.STRIP_STRENGTHS, imgs[2:])],
        "v": [round(float(x), 6) for x in d.v],
    }


def live_strength(values, vec, state: dict, catalog) -> dict:
    """One strength-drag frame: the current vector + s * v (v from the page's attribute store)."""
    view = view_of(catalog, state)
    if not isinstance(values, (list, tuple)) or len(values) != 1:
        raise A.Reject("expected one strength value")
    if not isinstance(vec, dict) or vec.get("model") != view.name:
        raise A.Reject("the attribute vector is not ready yet; pick a direction first")
    v = A.latent_ops.as_vector(vec.get("v"), view.d, "attribute vector")
    z = alg.apply_direction(state_z(view, state), v, values[0])
    return {"src": _png(view.explorer.decode_live(z)[0])}


# ----------------------------------------------------------------------------- arithmetic
def _operand_view(view, op, slot, prefix):
    if not isinstance(op, dict):
        return None
    z = A.operand_z(view, op, slot)
    if "i" in op:
        i = int(op["i"])
        return {"slot": slot, "label": f"#{i} {view.label_of(i)}", "src": thumb_url(view.name, i, prefix), "z": z}
    return {"slot": slot, "label": "a vector", "src": _png(view.explorer.decode(z)[0]), "z": z}


def render_arith(state: dict, catalog) -> dict:
    """A - B + C: the operands set so far, the decoded result and the nearest real image to it."""
    view = view_of(catalog, state)
    ops = {s: _operand_view(view, state.get(f"ar{s}"), s, catalog.url_prefix) for s in "ABC"}
    out = {"ops": {s: (None if o is None else {k: o[k] for k in ("slot", "label", "src")}) for s, o in ops.items()}}
    if any(o is None for o in ops.values()):
        missing = ", ".join(s for s, o in ops.items() if o is None)
        return {**out, "result": None, "hint": f"Set {missing}: each button puts the current vector there."}
    r = A.arithmetic(view, state)
    idx, dist = view.explorer.neighbours(r, 1)
    j = int(idx[0])
    return {
        **out,
        "result": _png(view.explorer.decode(r)[0]),
        "nearest": {
            "i": j,
            "label": view.label_of(j),
            "dist": round(float(dist[0]), 3),
            "src": thumb_url(view.name, j, catalog.url_prefix),
        },
        "hint": "",
    }


# ----------------------------------------------------------------------------- traversal
def render_trav(state: dict, catalog, browser: bool = False) -> dict:
    """The traversal grid around the current vector: per row its label, score (mean absolute
    pixel change per sigma), KL of its dimension for a VAE, and the decoded cells. browser: the
    page decodes the cells, scores and orders the rows (ui/grids.py): vectors, no score yet."""
    view = view_of(catalog, state)
    if not state.get("ton"):
        return {"on": False}
    _, _, cols, k = A.check_trav(state)
    specs = A.row_specs(view, state)
    axes = [A.row_axis(view, state, s) for s in specs]
    z = state_z(view, state)
    grid = alg.traversal(z, np.stack([u for _, u, _ in axes]), np.asarray([s for _, _, s in axes]), cols, k)
    if browser:
        cells, scores = [grids.vector_cells(view, row) for row in grid], [None] * len(specs)
    else:
        imgs = view.explorer.decode(grid.reshape(-1, view.d)).reshape((len(specs), cols) + view.image_shape)
        cells, scores = [[_png(x) for x in row] for row in imgs], alg.row_scores(imgs, k)
    rows = []
    for r, (spec, (label, _, sigma)) in enumerate(zip(specs, axes)):
        kl = float(view.kl[int(spec[3:])]) if view.kl is not None and spec.startswith("dim") else None
        rows.append(
            {
                "spec": spec,
                "label": label,
                "sigma": round(sigma, 4),
                "score": None if scores[r] is None else round(float(scores[r]), 5),
                "kl": None if kl is None else round(kl, 4),
                "cells": cells[r],
            }
        )
    if state.get("tsort") and not browser:
        rows.sort(key=lambda row: -row["score"])
    out = {"on": True, "rows": rows, "offsets": [round(float(t), 2) for t in alg.offsets(cols, k)]}
    if browser:  # what the page needs to score and order the rows
        out["page"] = grids.row_attrs(cols, k, bool(state.get("tsort")))
    if view.kl is not None:
        out["kl"] = [round(float(v), 4) for v in view.kl]
        out["active"] = alg.active_units(view.kl)
        out["kl_n"] = view.kl_n
    return out


# ----------------------------------------------------------------------------- prior
def render_prior(state: dict, catalog, browser: bool = False) -> dict:
    """browser: the page decodes the samples itself (ui/grids.py): their vectors, not PNGs."""
    view = view_of(catalog, state)
    if not view.has_prior:
        return {"on": False, "available": False}
    if not state.get("pon"):
        return {"on": False, "available": True}
    samples = A.prior_samples(view, state)
    from .plaus_render import grid_note, step_verdicts

    verdicts = step_verdicts(view, samples)  # a border on the samples off the data
    return {
        "on": True,
        "available": True,
        "samples": grids.vector_cells(view, samples) if browser else [_png(x) for x in view.explorer.decode(samples)],
        "note": f"{len(samples)} samples, seed {state.get('pseed')}, temperature {float(state.get('ptemp')):g}"
        + grid_note(verdicts),
        "verdicts": verdicts,
    }
