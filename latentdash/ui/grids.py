"""The interpolation strip and the traversal / prior grids decoded in the browser (issue 13).

When the page decodes the current model itself (assets/ld-6-onnx.js has a working session, and
the switch does not force the server), assets/ld-7-grids.js writes `{"model": name}` into the
store `st-decode`. The strip's and the grids' render callbacks read it: for that model they send
each cell's latent vector (float32, little-endian, base64, in the cell's `data-ld-z` attribute)
instead of a server-decoded PNG, and the page decodes them all in one batch and draws them into
canvases at the model's resolution. For a traversal grid the page also computes the row scores
(mean absolute pixel change per sigma) and, when asked, orders the rows by them. Otherwise (no
WebAssembly, no ONNX export, a decoder that failed, the switch, another model) `st-decode` is
empty and the server's images are sent as before. A cell built here is the same button as the
server's (same id, class, title: clicking a step still loads it into the sliders), keyed so that
React remounts it when the mode changes (the page's canvases never linger over a server image).
"""

from __future__ import annotations

import base64

import numpy as np
from dash import ctx, html

from . import ids

Z_ATTR = "data-ld-z"  # a cell's vector: base64 of float32 little-endian
MODEL_ATTR = "data-ld-model"  # the model whose decoder draws it
STEP_ATTR = "data-ld-step"  # a traversal row: sigmas between neighbouring columns (for its score)
SORT_ATTR = "data-ld-sort"  # a traversal row: "1" when rows are ordered by score
KL_ATTR = "data-ld-kl"  # a traversal row's score cell: the KL read-out shown under the score


def decodes_here(decode, model: str) -> bool:
    """Does the page decode this model's images itself (the `st-decode` store says so)?"""
    return isinstance(decode, dict) and isinstance(model, str) and decode.get("model") == model


def encode_z(z) -> str:
    return base64.b64encode(np.ascontiguousarray(np.asarray(z, "<f4").reshape(-1)).tobytes()).decode("ascii")


def decode_z(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f4")


def vector_cells(view, zs) -> list[dict]:
    """One cell per vector (rows of `zs`), to be decoded by the page."""
    return [{"z": encode_z(z), "model": view.name} for z in np.asarray(zs, np.float32).reshape(-1, view.d)]


def is_cell(src) -> bool:
    return isinstance(src, dict) and "z" in src


def vector_button(cid, cell: dict, title: str):
    """A thumbnail button whose image the page decodes (layout._thumb_button for a vector cell)."""
    key = cid.get("index") if isinstance(cid, dict) else cid
    return html.Button(
        id=cid,
        className="ld-thumb-btn ld-px ld-zcell",
        title=title,
        key=f"z-{key}",
        **{Z_ATTR: cell["z"], MODEL_ATTR: cell["model"]},
    )


def row_attrs(cols: int, k: float, sort: bool) -> dict:
    """A traversal row decoded in the page: what its score needs (offsets(cols, k) step)."""
    return {STEP_ATTR: repr(2.0 * float(k) / (cols - 1)), SORT_ATTR: "1" if sort else "0"}


def row_props(r: dict, row: dict) -> dict:
    """A traversal row's extra props: none from the server's images; decoded in the page, what its
    score needs and a key of its own (React remounts it when the mode changes)."""
    return {**r["page"], "key": f"z-{row['spec']}"} if r.get("page") else {}


def score_cell(kl_text: str):
    """The score of a row decoded in the page: filled in by the page (assets/ld-7-grids.js)."""
    return html.Span(className="ld-trav-score", **{KL_ATTR: kl_text})


def skip_for(decode, model: str) -> bool:
    """A render callback fired by `st-decode` alone has nothing to redraw when the page now decodes
    (what is shown stays, server images included); when it goes back to the server, it redraws
    with the server's images."""
    return only_decode_fired() and decodes_here(decode, model)


def only_decode_fired() -> bool:
    return set(ctx.triggered_prop_ids or ()) == {f"{ids.ST_DECODE}.data"}
