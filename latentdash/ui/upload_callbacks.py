"""Callback wiring of the "Your image" card (ui/upload_card.py).

Two callbacks. `convert` turns what the browser sends (dcc.Upload's data URL, up to 5 MB, or the
canvas PNG that assets/ld-9-draw.js writes into st-updraw) into the model input, in memory, and
writes the small converted PNG into st-upin, the reducer's input for the `upload` event; the file
itself never reaches the reducer (whose inputs every interaction posts) and is never written to
disk. Anything that is not a usable image leaves the page as it was and says why in the message
line. `draw_upload` renders the card from st-upload.
"""

from __future__ import annotations

import logging
import time

from dash import ALL, Input, Output, State, ctx, no_update, set_props

from .. import uploads
from ..errors import LatentdashError
from . import ids, layout
from . import upload as up
from . import upload_card as card
from .callbacks import shown
from .handlers import view_of

log = logging.getLogger(__name__)


def converted(catalog, source: str, payload, name, invert: bool, model, backgrounds: dict) -> dict:
    """The browser's file or drawing -> st-upin's value {"img", "name", "src", "n"}; raises a
    one-line LatentdashError for anything that is not a usable image (pure but for the nonce)."""
    view = view_of(catalog, {"model": model})
    up.check_encoder(view)
    if view.name not in backgrounds:
        backgrounds[view.name] = uploads.background_of(view.explorer.atlas.thumbnails)
    bg = backgrounds[view.name]
    if source == "drawing":
        png = payload.get("png") if isinstance(payload, dict) else None
        data = up.data_url_bytes(png, up.MAX_DRAWING_BYTES, "drawing")
        x = up.convert(data, view, invert=invert, background=bg)
        up.check_drawing(x)
        name = "drawing"
    else:
        data = up.data_url_bytes(payload)
        x = up.convert(data, view, invert=invert, background=bg)
    return {"img": up.image_uri(x), "name": up.clean_name(name) or "your image", "src": source, "n": time.time_ns()}


def register_upload(app, catalog):
    backgrounds: dict = {}

    # fmt: off
    @app.callback(Output(ids.ST_UPIN, "data"),
                  Input(ids.UPLOAD, "contents"), Input(ids.ST_UPDRAW, "data"), Input(ids.UP_INVERT, "value"),
                  State(ids.UPLOAD, "filename"), State(ids.ST_UPLOAD, "data"), State(ids.ST_UPIN, "data"),
                  prevent_initial_call=True)
    # fmt: on
    def convert(contents, drawing, invert, filename, upload_part, last):
        trig = ctx.triggered_id
        source = {ids.UPLOAD: "file", ids.ST_UPDRAW: "drawing"}.get(trig)
        if source is None:  # the invert switch: convert the image on show again
            if not isinstance(upload_part, dict) or not upload_part.get("upimg"):
                return no_update
            source = last.get("src") if isinstance(last, dict) else None
            if source is None or (source == "file" and not contents) or (source == "drawing" and not drawing):
                return no_update
        if source == "file" and not contents:
            return no_update
        model = (upload_part or {}).get("model") if isinstance(upload_part, dict) else None
        try:
            return converted(
                catalog,
                source,
                drawing if source == "drawing" else contents,
                filename,
                bool(invert) and "on" in invert,
                model or catalog.default,
                backgrounds,
            )
        except LatentdashError as e:
            log.warning("upload: %s", e)
            set_props(ids.MSG, {"children": f"Could not use the {'drawing' if source == 'drawing' else 'image'}: {e}"})
            return no_update

    # fmt: off
    @app.callback(Output(ids.UP_ORIG, "src"), Output(ids.UP_RECON, "src"), Output(ids.UP_INFO, "children"),
                  Output(ids.UP_NBRS, "children"), Output(ids.BTN_UP_LOAD, "disabled"),
                  Output(ids.BTN_UP_CLEAR, "disabled"), Output({"type": ids.UP_USE, "index": ALL}, "disabled"),
                  Input(ids.ST_UPLOAD, "data"), State(ids.ST_UPIN, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("uploaded image", 7)
    def draw_upload(upload_part, upin):
        r = card.render_upload(upload_part or {"model": catalog.default}, catalog, upin)
        n_use = len(ctx.outputs_list[-1])
        if not r["has"]:
            note = r.get("note") or "Nothing uploaded yet."
            return layout.BLANK, layout.BLANK, note, [], True, True, [True] * n_use
        return (
            r["orig"],
            r["recon"],
            card.info_lines(r),
            card.neighbour_buttons(r["neighbours"]),
            False,
            False,
            [False] * n_use,
        )
