"""Render callbacks of the plausibility pieces (ui/plaus_render.py): the committed slider vector's
plausibility into st-plaus (drawn by assets/ld-7-plaus.js, which also draws every drag frame's),
and the interpolation path chart. The drag frames carry theirs (callbacks.drag_frame)."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output

from . import ids, plaus_render, urlstate
from .callbacks import shown

HIDDEN, SHOWN = {"display": "none"}, {}


def register_plaus(app, catalog):
    @app.callback(
        Output(ids.ST_PLAUS, "data"),
        Input(ids.ST_Z, "data"),
        Input(ids.ST_MAP, "data"),
        prevent_initial_call=True,
    )
    @shown("plausibility", 1)
    def draw_plaus(z, map_part):
        return plaus_render.render_plaus(urlstate.merge(map_part, z), catalog)

    @app.callback(
        Output(ids.PLAUS_PATH, "figure"),
        Output(ids.PLAUS_PATH_NOTE, "children"),
        Output(ids.PLAUS_PATH_BOX, "style"),
        Input(ids.ST_INTERP, "data"),
        prevent_initial_call=True,
    )
    @shown("path plausibility", 3)
    def draw_plaus_path(interp):
        r = plaus_render.path_chart(interp or {}, catalog)
        if r["figure"] is None:
            return {"data": [], "layout": {"height": 170}}, "", HIDDEN
        return r["figure"], r["note"], SHOWN

    # the page draws the line (the same function draws every drag frame's)
    app.clientside_callback(
        ClientsideFunction("latentdash", "plaus"),
        Output(ids.ST_PLAUS, "modified_timestamp"),
        Input(ids.ST_PLAUS, "data"),
        prevent_initial_call=True,
    )
