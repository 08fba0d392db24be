"""The Analysis card (fit diagnosis, semantic regions, topology) and the map's "Region labels"
toggle, with their render callbacks. The render dicts come from analysis.py; registered by
callbacks.register on one app."""

from __future__ import annotations

from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from . import analysis, ids, urlstate
from .figures import empty_figure
from .layout import _card, _labelled

GRAPH_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": False}


def region_toggle():
    """The map card's toggle (URL-carried as `regions=1`) and its short note."""
    return _labelled(
        "Regions",
        html.Span(
            [
                dcc.Checklist(id=ids.REGION_ON, options=[{"label": "labels", "value": "on"}], value=[], inline=True),
                html.Span(id=ids.REGION_SHORT, className="ld-hint ld-region-short"),
            ],
            className="ld-row",
        ),
    )


def _diagram_graph(gid):
    return dcc.Graph(
        id=gid,
        figure=empty_figure(),
        config={**GRAPH_CONFIG, "staticPlot": False},
        style={"width": f"{analysis.DIAGRAM_PX}px", "height": f"{analysis.DIAGRAM_PX}px"},
    )


def analysis_card():
    return _card(
        "Analysis",
        "How well the model fits its data, the regions of the map and the shape of the latent codes.",
        html.H3("Fit: reconstruction error", className="ld-h3"),
        dcc.Graph(
            id=ids.FIT_GRAPH,
            figure=empty_figure(),
            config={**GRAPH_CONFIG, "staticPlot": True},
            style={"height": f"{analysis.FIT_HEIGHT}px", "width": "100%"},
        ),
        html.Div(id=ids.FIT_TEXT, className="ld-fit-text"),
        html.H3("Semantic regions", className="ld-h3"),
        html.P(id=ids.REGION_NOTE, className="ld-hint"),
        html.Div(id=ids.REGION_LIST, className="ld-region-list"),
        html.Details(
            [
                html.Summary("Topology (persistent homology of the latent codes)"),
                html.Div(
                    [_diagram_graph(ids.TOPO_H0), _diagram_graph(ids.TOPO_H1)],
                    id=ids.TOPO_DIAGRAMS,
                    className="ld-row ld-topo-diagrams",
                ),
                html.Div(id=ids.TOPO_TEXT, className="ld-topo-text"),
                html.Small(id=ids.TOPO_PARAMS, className="ld-hint ld-topo-params"),
            ],
            id=ids.TOPO_BOX,
            open=True,
            className="ld-topo",
        ),
        dcc.Store(id=ids.ST_TOPOKEY),
        cls="ld-analysis",
        id=ids.ANALYSIS_CARD,
    )


def fit_text(r: dict) -> list:
    if not r["available"]:
        return [html.P(r["reading"], className="ld-hint")]
    out = []
    if r["gap"]:
        out.append(html.P([html.Strong("Generalisation gap: "), r["gap"]], className="ld-fit-gap"))
    out.append(html.P(r["reading"], className="ld-fit-reading"))
    if r["summary"]:
        out.append(html.P(r["summary"], className="ld-hint"))
    if r["point"] is not None:
        out.append(html.P(r["point"]["text"], className="ld-fit-point"))
    return out


def region_items(r: dict) -> list:
    out = []
    for it in r["items"]:
        kids = [html.Span(it["text"]), html.Small(f" ({it['size']})", className="ld-hint")]
        if "src" in it:
            kids.insert(0, html.Img(src=it["src"], className="ld-px ld-region-thumb", title=f"medoid of {it['text']}"))
        out.append(html.Span(kids, className="ld-region-item"))
    return out


def register_analysis(app, catalog):
    from .callbacks import shown

    @app.callback(
        Output(ids.FIT_GRAPH, "figure"),
        Output(ids.FIT_TEXT, "children"),
        Input(ids.ST_SEL, "data"),
        Input(ids.ST_DRAWN, "data"),
        prevent_initial_call=True,
    )
    @shown("fit diagnosis", 2)
    def draw_fit(sel, drawn):
        if not drawn:  # after the first map is on screen: nothing here should delay it
            raise PreventUpdate
        r = analysis.render_fit(sel or {"model": catalog.default}, catalog)
        return (r["figure"] if r["available"] else empty_figure("not available")), fit_text(r)

    @app.callback(
        Output(ids.REGION_NOTE, "children"),
        Output(ids.REGION_LIST, "children"),
        Output(ids.REGION_SHORT, "children"),
        Input(ids.ST_MAP, "data"),
        Input(ids.ST_DRAWN, "data"),
        prevent_initial_call=True,
    )
    @shown("semantic regions", 3)
    def draw_regions(map_part, drawn):
        if not drawn or not map_part:
            raise PreventUpdate
        r = analysis.render_regions(urlstate.merge(map_part), catalog)
        return r["note"], region_items(r), r["short"]

    @app.callback(
        Output(ids.TOPO_H0, "figure"),
        Output(ids.TOPO_H1, "figure"),
        Output(ids.TOPO_TEXT, "children"),
        Output(ids.TOPO_PARAMS, "children"),
        Output(ids.ST_TOPOKEY, "data"),
        Output(ids.TOPO_DIAGRAMS, "hidden"),
        Input(ids.ST_MAP, "data"),
        Input(ids.ST_DRAWN, "data"),
        State(ids.ST_TOPOKEY, "data"),
        prevent_initial_call=True,
    )
    @shown("topology", 6)
    def draw_topology(map_part, drawn, key):
        model = (map_part or {}).get("model")
        if not drawn or not model or model == key:  # the diagrams depend on the model only
            raise PreventUpdate
        r = analysis.render_topology({"model": model}, catalog)
        if not r["ok"]:
            blank = empty_figure()
            return blank, blank, html.P(r["reading"], className="ld-hint"), "", model, True
        text = [html.P(html.Strong(r["counts"]), className="ld-topo-counts"), html.P(r["reading"])]
        return r["h0"], r["h1"], text, r["params"], model, False
