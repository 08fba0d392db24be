"""The "Your image" card: upload an image (PNG, JPEG, WebP) or draw one on a canvas; it is encoded,
shown next to its reconstruction with its nearest neighbours, marked on the map (a star) and can
be used as A, B or C of the arithmetic, as an interpolation endpoint, or loaded into the sliders.

Here: the pure event handlers (same contract as handlers.py), the render handler and the card's
components. ui/upload.py holds what the image is in the state; ui/upload_callbacks.py wires the
card (the conversion of the file or drawing, the card's render); assets/ld-9-draw.js runs the
canvas.
"""

from __future__ import annotations

import numpy as np
from dash import dcc, html

from . import ids
from . import upload as up
from .handlers import NO_CHANGE, Env, Reject
from .layout import BLANK, _card, _thumb_button

USE_SLOTS = {"a": "A", "b": "B", "c": "C"}  # arithmetic A - B + C
CANVAS_PX = 224  # the drawing canvas (8x a 28x28 image); its strokes are CANVAS_STROKE wide
CANVAS_STROKE = 18  # ~2.2 px at 28x28, about a Fashion-MNIST outline's width


def _z_list(z) -> list[float]:
    return [round(float(v), 5) for v in np.asarray(z, np.float32).reshape(-1)]


def _need_z(env: Env, state) -> np.ndarray:
    try:
        z = up.upload_z(env.view, state)
    except up.UploadError as e:
        raise Reject(str(e)) from None
    if z is None:
        raise Reject("upload or draw an image first")
    return z


# ----------------------------------------------------------------------------- handlers
def on_upload(state, value, env: Env):
    """The converted image arrived (ui/upload_callbacks.py wrote it into st-upin): keep it.
    value: {"img": PNG data URI of the model input, "name": file name or "drawing", "n": nonce}."""
    if value is None:
        return NO_CHANGE  # the page's first call: nothing uploaded yet
    if not isinstance(value, dict) or not isinstance(value.get("img"), str):
        raise Reject("the upload carries no image; choose the file again")
    try:
        up.check_encoder(env.view)
        up.decode_image(value["img"], env.view.image_shape)
    except up.UploadError as e:
        raise Reject(str(e)) from None
    if state.get("upimg") == value["img"]:
        return NO_CHANGE
    state["upimg"] = value["img"]


def on_upload_use(state, value, env: Env):
    """'Use as A/B/C': the image's code as an operand of the arithmetic (a vector)."""
    if value not in USE_SLOTS:
        raise Reject(f"unknown operand {value!r}; use A, B or C")
    z = _need_z(env, state)
    key = "ar" + value.upper()
    op = {"z": _z_list(z)}
    if state.get(key) == op:
        return NO_CHANGE
    state[key] = op


def on_upload_load(state, value, env: Env):
    state["z"] = [float(v) for v in _need_z(env, state)]


def on_upload_clear(state, value, env: Env):
    if state.get("upimg") is None:
        return NO_CHANGE
    state["upimg"] = None


# ----------------------------------------------------------------------------- render
def render_upload(state: dict, catalog, upin=None) -> dict:
    """What the card shows: {"available": False, "note"} for a model without an encoder,
    {"has": False} without an image, else the image, its reconstruction and error, its nearest
    neighbours, its distance to the data and whether a link carries it. `upin`: the conversion's
    record (st-upin), whose file name is shown while it is the image on show (the name is not
    view state: a link does not carry it)."""
    from .handlers import view_of
    from .render import _neighbours

    view = view_of(catalog, state)
    if not view.has_encoder:
        return {"available": False, "has": False, "note": f"{view.name} has no encoder: it cannot encode images."}
    try:
        x = up.upload_image(view, state)
    except up.UploadError as e:
        raise Reject(str(e)) from None
    if x is None:
        return {"available": True, "has": False}
    ex = view.explorer
    z = np.asarray(ex.encode(x[None]), np.float32)[0]
    recon = ex.decode(z)[0]
    nbrs = _neighbours(view, z, -1, catalog.url_prefix)
    out = {
        "available": True,
        "has": True,
        "name": (
            up.clean_name(upin.get("name")) if isinstance(upin, dict) and upin.get("img") == state["upimg"] else ""
        )
        or "your image",
        "orig": state["upimg"],
        "recon": up.image_uri(recon),
        "error": round(float(np.mean((recon - x) ** 2)), 5),
        "neighbours": nbrs,
        "nearest": nbrs[0] if nbrs else None,
        "fits_url": up.fits_url(state["upimg"]),
        "z": _z_list(z),
    }
    p = ex.plausibility(z)
    out["plaus"] = {"percentile": float(p["percentile"]), "verdict": str(p["verdict"])}
    return out


def info_lines(r: dict) -> list:
    """The card's text next to the images."""
    lines = [html.Strong(r["name"]), html.Br(), html.Small(f"reconstruction error {r['error']:.4f}")]
    if r.get("nearest"):
        n = r["nearest"]
        lines += [html.Br(), html.Small(f"nearest: #{n['i']} {n['label']} (distance {n['dist']})")]
    p = r.get("plaus")
    if p and "percentile" in p:
        lines += [
            html.Br(),
            html.Small(f"{p['verdict']}: distance to the data at percentile {p['percentile']:.0f} of the data's own"),
        ]
    if not r["fits_url"]:
        lines += [html.Br(), html.Small("too large for a link: a shared link will not carry it", className="ld-hint")]
    return lines


def neighbour_buttons(nbrs: list[dict]) -> list:
    return [
        _thumb_button({"type": ids.UP_NBR, "index": n["i"]}, n["src"], f"#{n['i']} {n['label']} (distance {n['dist']})")
        for n in nbrs
    ]


# ----------------------------------------------------------------------------- layout
def _use_button(slot: str, label: str, title: str):
    return html.Button(
        label, id={"type": ids.UP_USE, "index": slot}, className="ld-btn ld-btn-small", title=title, disabled=True
    )


def upload_card():
    return _card(
        "Your image",
        "Upload an image (PNG, JPEG or WebP, up to 5 MB; converted to the model's size and channels) or "
        "draw one. It is encoded, reconstructed, marked on the map with a star and its nearest "
        "neighbours are shown.",
        html.Div(
            [
                dcc.Upload(
                    id=ids.UPLOAD,
                    children=html.Div(["Drop an image here or ", html.U("choose a file")]),
                    accept="image/png,image/jpeg,image/webp,.png,.jpg,.jpeg,.webp",
                    max_size=up.MAX_UPLOAD_BYTES,
                    multiple=False,
                    className="ld-upload",
                    className_active="ld-upload ld-upload-active",
                    className_reject="ld-upload ld-upload-reject",
                ),
                dcc.Checklist(
                    id=ids.UP_INVERT,
                    options=[{"label": "invert (dark drawing on a light background)", "value": "on"}],
                    value=[],
                    inline=True,
                ),
            ],
            className="ld-col ld-upload-col",
        ),
        html.Div(
            [
                html.Canvas(
                    id=ids.UP_CANVAS,
                    width=CANVAS_PX,
                    height=CANVAS_PX,
                    className="ld-draw",
                    **{"data-stroke": CANVAS_STROKE},
                ),
                html.Div(
                    [
                        html.Button("Encode drawing", id=ids.BTN_UP_DRAW, className="ld-btn"),
                        html.Button("Clear", id=ids.BTN_UP_CLEARDRAW, className="ld-btn"),
                        html.P("Draw with the mouse, a pen or a finger.", className="ld-hint"),
                    ],
                    className="ld-col",
                ),
            ],
            className="ld-row ld-top",
        ),
        html.Div(
            [
                html.Figure([html.Img(id=ids.UP_ORIG, className="ld-px ld-big", src=BLANK), html.Figcaption("yours")]),
                html.Figure(
                    [html.Img(id=ids.UP_RECON, className="ld-px ld-big", src=BLANK), html.Figcaption("reconstruction")]
                ),
                html.Div(
                    [
                        html.Div("Nothing uploaded yet.", id=ids.UP_INFO, className="ld-ins-label"),
                        html.Div(
                            [
                                html.Button("Load into sliders", id=ids.BTN_UP_LOAD, className="ld-btn", disabled=True),
                                html.Button("Remove", id=ids.BTN_UP_CLEAR, className="ld-btn", disabled=True),
                            ],
                            className="ld-row ld-wrap",
                        ),
                        html.Div(
                            [
                                html.Span("in A \u2212 B + C as", className="ld-label"),
                                *(
                                    _use_button(k, v, f"its code as {v} of A \u2212 B + C")
                                    for k, v in USE_SLOTS.items()
                                ),
                            ],
                            className="ld-row ld-wrap",
                        ),
                    ],
                    className="ld-ins-side",
                ),
            ],
            className="ld-row ld-top",
        ),
        html.Div(id=ids.UP_NBRS, className="ld-thumbs"),
        cls="ld-upload-card",
        id=ids.UPLOAD_CARD,
        **{"data-maxbytes": up.MAX_UPLOAD_BYTES},  # assets/ld-9-draw.js says why a larger file is refused
    )
