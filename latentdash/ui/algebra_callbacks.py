"""Callback wiring of the latent-algebra cards (gallery, attribute vector, arithmetic, traversal
grid, prior samples): each render callback watches the stores its card is drawn from, and skips
the changes that cannot affect it. Registered by callbacks.register on one app."""

from __future__ import annotations

from dash import Input, Output, ctx
from dash.exceptions import PreventUpdate

from . import algebra_layout as alay
from . import algebra_render, grids, ids, layout, urlstate
from .callbacks import shown
from .handlers import view_of


def register_algebra(app, catalog):
    # fmt: off
    @app.callback(Output(ids.GAL_INFO, "children"), Output(ids.GAL_THUMBS, "children"),
                  Output(ids.GAL_HIST, "children"), Output(ids.GAL_PIXMEAN, "src"), Output(ids.GAL_DECMEAN, "src"),
                  Output(ids.GROUPS, "children"), Output(ids.GAL_PREV, "disabled"), Output(ids.GAL_NEXT, "disabled"),
                  Output(ids.BTN_SAVE_GROUP, "disabled"),
                  Input(ids.ST_SELECTION, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("selection gallery", 9)
    def draw_gallery(selection):
        r = algebra_render.render_gallery(selection or {"model": catalog.default}, catalog)
        chips = alay.group_chips(r["groups"])
        if not r["count"]:
            return ("No selection.", [], [], layout.BLANK, layout.BLANK, chips, True, True, True)
        info = f"{r['count']} image{'s' if r['count'] != 1 else ''}, page {r['page'] + 1} of {r['pages']}"
        if not r["fits_url"]:
            info += " (too large for a link: this browser keeps it, a shared link will not carry it)"
        return (info, alay.gallery_items(r["items"]), alay.histogram(r["hist"]), r["pixel_mean"],
                r["decoded_mean"], chips, r["page"] == 0, r["page"] >= r["pages"] - 1, False)  # fmt: skip

    # fmt: off
    @app.callback(Output(ids.ATTR_PRESETS, "children"), Output(ids.ATTR_NOTE, "children"),
                  Output(ids.ATTR_BASE, "src"), Output(ids.ATTR_EDIT, "src"), Output(ids.ATTR_STRIP, "children"),
                  Output(ids.BTN_ATTR_APPLY, "disabled"), Output(ids.ST_ATTRVEC, "data"),
                  Input(ids.ST_ATTR, "data"), Input(ids.ST_Z, "data"), Input(ids.ST_SELECTION, "data"),
                  prevent_initial_call=True)
    # fmt: on
    @shown("attribute vector", 7)
    def draw_attr(attr, z, selection):
        if only_fired(ids.ST_SELECTION) and not uses_groups((attr or {}).get("dir")):
            raise PreventUpdate  # a new selection changes nothing of this direction
        state = urlstate.merge(selection, z, attr)
        r = algebra_render.render_attr(state, catalog)
        presets = alay.preset_buttons(r["presets"])
        if not r["ok"]:
            hint = "Pick a direction: a preset, two groups, a principal direction or a dimension."
            return presets, hint, layout.BLANK, layout.BLANK, [], True, None
        vec = {"model": state["model"], "v": r["v"]}
        return presets, r["note"], r["base"], r["edit"], alay.strip_buttons(r["strip"]), False, vec

    # fmt: off
    @app.callback(Output(ids.ARITH_EQ, "children"), Output(ids.BTN_ARITH_LOAD, "disabled"),
                  Output(ids.ARITH_HINT, "children"), Input(ids.ST_ARITH, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("arithmetic", 3)
    def draw_arith(arith):
        r = algebra_render.render_arith(arith or {"model": catalog.default}, catalog)
        return alay.equation(r), r["result"] is None, r["hint"]

    # fmt: off
    @app.callback(Output(ids.TRAV_GRID, "children"), Output(ids.TRAV_NOTE, "children"),
                  Input(ids.ST_TRAV, "data"), Input(ids.ST_Z, "data"), Input(ids.ST_ATTR, "data"),
                  Input(ids.ST_SELECTION, "data"), Input(ids.ST_DECODE, "data"), prevent_initial_call=True)
    # fmt: on
    @shown("traversal grid", 2)
    def draw_trav(trav, z, attr, selection, decode):
        if not (trav or {}).get("ton") and f"{ids.ST_TRAV}.data" not in ctx.triggered_prop_ids:
            raise PreventUpdate  # off: nothing to redraw when the vector changes
        if only_fired(ids.ST_SELECTION, ids.ST_ATTR) and (trav or {}).get("trows") != "attr":
            raise PreventUpdate  # only attribute rows depend on the direction, selection and groups
        state = urlstate.merge(selection, attr, z, trav)
        model = view_of(catalog, state).name  # the page may decode its cells (ui/grids.py)
        if grids.skip_for(decode, model):
            raise PreventUpdate
        r = algebra_render.render_trav(state, catalog, grids.decodes_here(decode, model))
        return alay.trav_grid(r), alay.trav_note(r)

    # fmt: off
    @app.callback(Output(ids.PRIOR_GRID, "children"), Output(ids.PRIOR_NOTE, "children"),
                  Output(ids.BTN_PRIOR_ROLL, "disabled"), Input(ids.ST_PRIOR, "data"), Input(ids.ST_DECODE, "data"),
                  prevent_initial_call=True)
    # fmt: on
    @shown("prior samples", 3)
    def draw_prior(prior, decode):
        state = prior or {"model": catalog.default}
        model = view_of(catalog, state).name  # the page may decode its samples (ui/grids.py)
        if grids.skip_for(decode, model) or (grids.only_decode_fired() and not state.get("pon")):
            raise PreventUpdate
        r = algebra_render.render_prior(state, catalog, grids.decodes_here(decode, model))
        if not r["available"]:
            return [], "This model is an autoencoder: it has no prior to sample.", True
        if not r["on"]:
            return [], "Tick 'show' (or Re-roll) to sample the prior.", False
        return alay.prior_cells(r), r["note"], False


def only_fired(*store_ids) -> bool:
    """Did only these stores fire this render callback?"""
    fired = set(ctx.triggered_prop_ids or ())
    return bool(fired) and fired <= {f"{sid}.data" for sid in store_ids}


def uses_groups(spec) -> bool:
    """Does a direction depend on the selection or the saved groups?"""
    return bool(spec) and any(r == "sel" or r.startswith("g:") for r in str(spec).split(">"))
