"""The page: header, map card, inspector, sliders and interpolation cards, plus the builders that
turn render-handler dicts into components. No data loading here: everything comes from the Catalog.
"""

from __future__ import annotations

from dash import dcc, html

from . import ids
from .anywhere import grid_toggle, note_row
from .catalog import METHOD_LABELS, METHODS, SPACES
from .export_links import decode_downloads, header_downloads, interp_downloads
from .figures import empty_figure
from .plaus_layout import mark_cells, path_box, plaus_line
from .render import inspector_captions
from .schema import DEFAULT_STEPS, MAX_STEPS, MIN_STEPS

KIND_LABELS = {"vae": "VAE", "ae": "autoencoder", "linear": "PCA baseline", "generator": "generator"}
BLANK = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


def model_options(catalog) -> list[dict]:
    return [
        {"label": f"{v.name}  ({KIND_LABELS.get(v.kind, v.kind)}, {v.d}-D)", "value": v.name}
        for v in catalog.views.values()
    ]


def control_options(view, map_name: str | None = None) -> dict:
    """Options of the map controls for one model and the shown map: a choice is disabled when
    no map exists with it and the other two current choices."""
    have = set(view.map_table)
    space, method, _ = view.map_parts(map_name or view.default_map())
    spaces = [
        {
            "label": s.capitalize() + (" codes" if s == "latent" else "s"),
            "value": s,
            "disabled": not any(k[0] == s for k in have),
        }
        for s in SPACES
    ]
    methods = [
        {"label": METHOD_LABELS[m], "value": m, "disabled": not any(k[:2] == (space, m) for k in have)}
        for m in METHODS
        if m != "raw" or any(k[1] == "raw" for k in have)
    ]
    dims = [{"label": f"{d}D", "value": d, "disabled": (space, method, d) not in have} for d in (2, 3)]
    colours = [
        {"label": view.colour_label(c) if not c.startswith("dim") else f"latent dim z{c[3:]}", "value": c}
        for c in view.colour_options
    ]
    return {"space": spaces, "method": methods, "dims": dims, "colour": colours}


def algebra_options(view, state: dict) -> dict:
    """Options of the latent-algebra controls, which depend on the model, its classes, the saved
    groups and the kind of direction."""
    from .algebra_render import axis_choices, class_choices, group_choices

    spec = state.get("dir") or ""
    kind = "pc" if spec.startswith("pc") else "dim"
    groups = group_choices(view, state)
    return {
        "sel_class": class_choices(view),
        "attr_from": groups,
        "attr_to": groups,
        "attr_axis": axis_choices(view, kind),
    }


def _card(title, hint, *children, cls="", **kw):
    return html.Section(
        [html.H2(title), html.P(hint, className="ld-hint"), *children], className=f"ld-card {cls}", **kw
    )


def _radio(cid: str, value: str, choices: dict):
    """Inline radio buttons; choices: {value: label}."""
    return dcc.RadioItems(
        id=cid, value=value, inline=True, options=[{"label": lab, "value": v} for v, lab in choices.items()]
    )


def _labelled(label, control, cls=""):
    return html.Div([html.Span(label, className="ld-label"), control], className=f"ld-field {cls}")


def _graph(gid: str, cls: str, message: str):
    """One of the two map graphs (2-D, 3-D); CSS shows the one with class ld-on."""
    # responsive=False: dcc.Graph's own resize detector also fires when nothing changed size,
    # and each resize redraws all points; assets/ld-3-map.js resizes on real size changes only
    return html.Div(
        dcc.Graph(
            id=gid,
            figure=empty_figure(message),
            clear_on_unhover=True,
            responsive=False,
            style={"height": "100%", "width": "100%"},
            config={"scrollZoom": True, "displaylogo": False},
        ),
        id=ids.BOX_OF[gid],
        className=cls,
    )


def _header(catalog, view):
    return html.Header(
        [
            html.Div(
                [html.H1("latentdash"), html.Span("latent space explorer", className="ld-sub")], className="ld-brand"
            ),
            _labelled(
                "Model",
                dcc.Dropdown(
                    id=ids.MODEL,
                    options=model_options(catalog),
                    value=view.name,
                    clearable=False,
                    searchable=False,
                    style={"width": "330px"},
                ),
                cls="ld-model",
            ),
            html.Div(
                [html.Div(id=ids.MSG, role="status"), html.Div(id=ids.CLIENT_MSG, role="status")], className="ld-msg"
            ),
            header_downloads(),  # CSV of the atlas, Copy link (ui/export_links.py)
            # a theme switch for the user's assets/ (the shipped projector theme shows and drives
            # it from its own CSS/JS, in the page only); hidden when no theme is installed
            html.Button(
                "Projector",
                className="ld-theme-toggle",
                hidden=True,
                title="Large type, high contrast (for a projector)",
            ),
        ],
        className="ld-header",
    )


def _controls(view):
    from .analysis_card import region_toggle

    opts = control_options(view)
    space, method, dims = view.map_parts(view.default_map())
    return html.Div(
        [
            _labelled("Map of", dcc.RadioItems(id=ids.SPACE, options=opts["space"], value=space, inline=True)),
            _labelled("Method", dcc.RadioItems(id=ids.METHOD, options=opts["method"], value=method, inline=True)),
            _labelled("View", dcc.RadioItems(id=ids.DIMS, options=opts["dims"], value=dims, inline=True)),
            _labelled(
                "Colour by",
                dcc.Dropdown(
                    id=ids.COLOUR,
                    options=opts["colour"],
                    style={"width": "250px"},
                    value=view.colour_options[0],
                    clearable=False,
                ),
                cls="ld-colour",
            ),
            _labelled(
                "Click sets",
                _radio(
                    ids.CLICK_MODE,
                    "inspect",
                    {"inspect": "inspected point", "a": "endpoint A", "b": "endpoint B", "anywhere": "any position"},
                ),  # any position: decode anywhere (ui/anywhere.py)
            ),
            region_toggle(),  # semantic region labels on 2-D maps (ui/analysis_card.py)
            grid_toggle(),  # the manifold grid (ui/anywhere.py)
        ],
        className="ld-controls",
    )


def _map_card(view):
    return html.Section(
        [
            _controls(view),
            html.P(
                "Scroll to zoom, drag to pan (3D: drag to rotate). Hover a dot to see its image, "
                "click it to inspect it. Click a class in the legend to hide it.",
                className="ld-hint",
            ),
            html.Div(
                [
                    html.Span(id=ids.SEL_NOTE, className="ld-hint"),
                    html.Button(
                        "Clear selection", id=ids.BTN_CLEAR_SEL, className="ld-btn ld-btn-small", disabled=True
                    ),
                ],
                className="ld-row ld-selection",
            ),
            note_row(),  # decode anywhere: exact or estimated (ui/anywhere.py)
            html.Div(
                [
                    dcc.Loading(
                        html.Div(
                            [
                                _graph(ids.GRAPH, "ld-graph ld-on", "Loading the map..."),
                                _graph(ids.GRAPH3, "ld-graph", ""),
                            ],
                            className="ld-graphs",
                        ),
                        delay_show=400,
                        type="circle",
                        overlay_style={"visibility": "visible"},
                        parent_style={"height": "100%"},
                    ),
                    html.Div(id=ids.MARKER, className="ld-marker", title="slider vector"),
                    dcc.Tooltip(
                        id=ids.TIP,
                        children=[
                            html.Img(id=ids.TIP_IMG, className="ld-px ld-tip-img", src=BLANK),
                            html.Div(id=ids.TIP_LABEL, className="ld-tip-label"),
                        ],
                        direction="right",
                        show=False,
                    ),
                ],
                className="ld-graph-wrap",
            ),
        ],
        className="ld-card ld-map-card",
    )


def _inspector(view):
    captions = inspector_captions(view)
    return _card(
        "Inspector",
        "The clicked image, what the model makes of it, its latent code "
        "and its nearest neighbours in latent space (click one to jump to it).",
        html.Div(
            [
                html.Figure(
                    [
                        html.Img(id=ids.INS_ORIG, className="ld-px ld-big", src=BLANK),
                        html.Figcaption(captions[0], id=ids.INS_ORIG_CAP),
                    ]
                ),
                html.Figure(
                    [
                        html.Img(id=ids.INS_RECON, className="ld-px ld-big", src=BLANK),
                        html.Figcaption(captions[1], id=ids.INS_RECON_CAP),
                    ]
                ),
                html.Div(
                    [
                        html.Div(id=ids.INS_LABEL, className="ld-ins-label"),
                        html.Button("Use as A", id=ids.BTN_A, className="ld-btn ld-btn-a"),
                        html.Button("Use as B", id=ids.BTN_B, className="ld-btn ld-btn-b"),
                    ],
                    className="ld-ins-side",
                ),
            ],
            className="ld-row",
        ),
        html.Img(id=ids.INS_BAR, className="ld-bar", src=BLANK, alt="latent code"),
        html.Div(id=ids.INS_NBRS, className="ld-thumbs"),
        cls="ld-inspector",
    )


def _sliders_card():
    return _card(
        "Latent sliders",
        "Drag a slider: the image is decoded live and the red diamond on the map follows the vector.",
        html.Div(
            [
                html.Div(
                    [
                        html.Img(id=ids.CUR_IMG, className="ld-px ld-big", src=BLANK),
                        html.Div(
                            [
                                html.Button("Reset to point", id=ids.BTN_RESET, className="ld-btn"),
                                html.Button("Random from prior", id=ids.BTN_RANDOM, className="ld-btn"),
                                # where decoding happens + the switch, filled by assets/ld-6-onnx.js
                                html.Div(id=ids.DECODE_WHERE, className="ld-decode"),
                            ],
                            className="ld-col",
                        ),
                    ],
                    className="ld-cur",
                ),
                html.Div(
                    [
                        _labelled(
                            "Sliders move",
                            _radio(ids.BASIS, "dims", {"dims": "latent dims", "pcs": "principal directions"}),
                        ),
                        html.P(id=ids.SLIDER_NOTE, className="ld-hint"),
                        html.Div(id=ids.SLIDERS, className="ld-sliders"),
                    ],
                    className="ld-slider-col",
                ),
            ],
            className="ld-row ld-top",
        ),
        plaus_line(),  # the current vector's plausibility (ui/plaus_layout.py)
        decode_downloads(),  # PNG x1..x8 of the current decode, GIF sweep (ui/export_links.py)
        cls="ld-slider-card",
    )


def _interp_card():
    return _card(
        "Interpolation",
        "Pick endpoints A and B (inspector buttons, or 'Click sets' above the "
        "map). Top: decoded latent path (click a step to load it into the sliders); bottom: plain "
        "pixel blend of the two originals.",
        html.Div(
            [
                html.Div(id=ids.INT_A, className="ld-end"),
                html.Div(id=ids.INT_B, className="ld-end"),
                html.Button("Swap", id=ids.BTN_SWAP, className="ld-btn"),
                _labelled(
                    "Steps",
                    dcc.Slider(
                        id=ids.STEPS,
                        min=MIN_STEPS,
                        max=MAX_STEPS,
                        step=1,
                        value=DEFAULT_STEPS,
                        marks={2: "2", 8: "8", 16: "16", 32: "32"},
                        allow_direct_input=False,
                        tooltip={"placement": "bottom", "always_visible": False},
                    ),
                    cls="ld-steps",
                ),
                _labelled(
                    "Path",
                    dcc.RadioItems(
                        id=ids.MODE,
                        value="linear",
                        inline=True,
                        options=[{"label": "linear", "value": "linear"}, {"label": "spherical", "value": "spherical"}],
                    ),
                ),
            ],
            className="ld-row ld-wrap",
        ),
        html.P(id=ids.INT_HINT, className="ld-hint"),
        dcc.Loading(
            [
                html.Div(
                    [
                        html.Span("latent path", className="ld-strip-label"),
                        html.Div(id=ids.STRIP, className="ld-strip"),
                    ],
                    className="ld-strip-row",
                ),
                html.Div(
                    [
                        html.Span("pixel blend", className="ld-strip-label"),
                        html.Div(id=ids.BLEND, className="ld-strip"),
                    ],
                    className="ld-strip-row ld-blend",
                ),
            ],
            delay_show=400,
            type="dot",
        ),
        path_box(),  # plausibility of each step, linear vs spherical (ui/plaus_layout.py)
        interp_downloads(),  # PNG strip, GIF there and back (ui/export_links.py)
        cls="ld-interp",
    )


def build_layout(catalog, prefix: str = "/"):
    from .algebra_layout import arith_card, attr_card, gallery_card, prior_card, trav_card
    from .analysis_card import analysis_card
    from .jobs_layout import jobs_card
    from .schema import BROWSER_STORES
    from .upload_card import upload_card

    view = catalog.get(catalog.default)
    kept = [ids.STORE_OF[name] for name in BROWSER_STORES]  # survive a reload (local storage)
    stores = [dcc.Store(id=i, storage_type="local") for i in kept] + [
        dcc.Store(id=i)
        for i in (
            *(v for v in ids.STORE_OF.values() if v not in kept),
            ids.ST_LASSO,
            ids.ST_ATTRVEC,
            ids.ST_RENDERED,
            ids.ST_SLIDERKEY,
            ids.ST_URL_REPLACE,
            ids.ST_DRAG,
            ids.ST_DRAGOUT,
            ids.ST_PREFETCH,
            ids.ST_DRAWN,
            ids.ST_PLAUS,
            ids.ST_DECODE,
            ids.ST_UPDRAW,
            ids.ST_UPIN,
        )
    ]
    meta = {"traces": {v.name: v.trace_names for v in catalog.views.values()}}  # for the hover card
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            *stores,
            dcc.Store(id=ids.ST_META, data=meta),
            _header(catalog, view),
            html.Main(
                [
                    _map_card(view),
                    html.Div(
                        [
                            _inspector(view),
                            _sliders_card(),
                            upload_card(),
                            attr_card(),
                            gallery_card(view),
                            arith_card(),
                            trav_card(),
                            prior_card(),
                            _interp_card(),
                            analysis_card(),
                            jobs_card(catalog),
                        ],
                        className="ld-side",
                    ),
                ],
                className="ld-main",
            ),
        ],
        className="ld-app",
    )


# ----------------------------------------------------------------------------- builders
# Builders keep the number of Dash components small (one per thumbnail, two per slider): the
# renderer's work on every slider frame grows with the number of components on the page.
def _thumb_button(cid, src: str, title: str):
    from . import grids

    if grids.is_cell(src):  # a vector the page decodes (ui/grids.py)
        return grids.vector_button(cid, src, title)
    return html.Button(id=cid, className="ld-thumb-btn ld-px", title=title, style={"backgroundImage": f"url({src})"})


def neighbour_buttons(nbrs: list[dict]) -> list:
    return [
        _thumb_button({"type": ids.NBR, "index": n["i"]}, n["src"], f"#{n['i']} {n['label']} (distance {n['dist']})")
        for n in nbrs
    ]


def slider_rows(spec: dict) -> list:
    out = []
    for k, a in enumerate(spec["axes"]):
        out += [
            html.Span(a["label"], className="ld-slider-label"),
            dcc.Slider(
                id={"type": ids.SLIDER, "index": k},
                min=a["min"],
                max=a["max"],
                step=a["step"],
                value=a["value"],
                updatemode="mouseup",
                marks=None,
                allow_direct_input=False,
                className="ld-slider",
                # the tooltip shows the value rounded (assets/ld-1-contract.js)
                tooltip={"placement": "top", "always_visible": False, "transform": "latentdashRound"},
            ),
        ]
    return out


def endpoint(tag: str, end) -> list:
    if end is None:
        return [html.Span(tag, className=f"ld-tag ld-tag-{tag.lower()}"), html.Span("not set", className="ld-hint")]
    return [
        html.Span(tag, className=f"ld-tag ld-tag-{tag.lower()}"),
        html.Img(src=end["src"], className="ld-px ld-mid"),
        html.Span(f"#{end['i']} {end['label']}", className="ld-end-label"),
    ]


def step_buttons(srcs: list[str], verdicts=None) -> list:
    out = [
        _thumb_button({"type": ids.STEP, "index": k}, s, f"step {k + 1} of {len(srcs)}: load into the sliders")
        for k, s in enumerate(srcs)
    ]
    return mark_cells(out, verdicts)  # a cell off the data gets a border (ui/plaus_layout.py)


def blend_images(srcs: list[str]) -> list:
    return [html.Img(src=s, className="ld-px ld-thumb", title="pixel blend") for s in srcs]
