"""The latent-algebra cards (selection gallery, attribute vector, arithmetic, traversal grid,
prior samples) and the builders that turn their render dicts (algebra_render.py) into components.
"""

from __future__ import annotations

from dash import dcc, html

from .. import algebra as alg
from . import export_links, grids, ids
from .layout import BLANK, _card, _labelled, _radio, _thumb_button
from .schema import DEFAULT_PRIOR, DEFAULT_TRAV


def _slider(cid, lo, hi, step, value, marks):
    return dcc.Slider(
        id=cid, min=lo, max=hi, step=step, value=value, marks=marks, allow_direct_input=False,
        updatemode="mouseup", tooltip={"placement": "bottom", "always_visible": False},
    )  # fmt: skip


def _setting(label, *slider_args):
    """A labelled slider that takes the rest of its row."""
    return _labelled(label, html.Div(_slider(*slider_args), className="ld-sl"))


def _check(cid, label, on=False):
    return dcc.Checklist(id=cid, options=[{"label": label, "value": "on"}], value=["on"] if on else [], inline=True)


def gallery_card(view):
    return _card(
        "Selection",
        "Box or lasso select on a 2-D map (map toolbar), or pick a class. Click an image to inspect "
        "it; save the selection as a named group to use it in an attribute vector.",
        html.Div(
            [
                dcc.Dropdown(
                    id=ids.SEL_CLASS,
                    placeholder="Select a class...",
                    clearable=False,
                    searchable=False,
                    options=[],
                    style={"width": "200px"},
                ),  # fmt: skip
                dcc.Input(
                    id=ids.GROUP_NAME,
                    type="text",
                    placeholder="group name",
                    maxLength=24,
                    debounce=True,
                    className="ld-input",
                ),  # fmt: skip
                html.Button("Save as group", id=ids.BTN_SAVE_GROUP, className="ld-btn ld-btn-small"),
            ],
            className="ld-row ld-wrap",
        ),
        html.Div(id=ids.GROUPS, className="ld-groups"),
        html.Div(
            [
                html.Div(id=ids.GAL_INFO, className="ld-gal-info"),
                html.Figure(
                    [html.Img(id=ids.GAL_PIXMEAN, className="ld-px ld-mid", src=BLANK), html.Figcaption("pixel mean")]
                ),
                html.Figure(
                    [
                        html.Img(id=ids.GAL_DECMEAN, className="ld-px ld-mid", src=BLANK),
                        html.Figcaption("decoded mean code"),
                    ]
                ),
                html.Div(id=ids.GAL_HIST, className="ld-hist"),
            ],
            className="ld-row ld-top ld-wrap",
        ),
        html.Div(
            [
                html.Button("\u2190 prev", id=ids.GAL_PREV, className="ld-btn ld-btn-small", disabled=True),
                html.Button("next \u2192", id=ids.GAL_NEXT, className="ld-btn ld-btn-small", disabled=True),
            ],
            className="ld-row",
        ),
        html.Div(id=ids.GAL_PREVIEW, className="ld-thumbs ld-gallery ld-preview"),
        html.Div(id=ids.GAL_THUMBS, className="ld-thumbs ld-gallery"),
        cls="ld-gallery-card",
        id=ids.GALLERY_CARD,
    )


def attr_card():
    return _card(
        "Attribute vector",
        "The direction from one group's mean code to another's (or a principal direction, or one "
        "dimension), added to the current vector. Drag the strength: the image is decoded live.",
        html.Div(id=ids.ATTR_PRESETS, className="ld-row ld-wrap"),
        html.Div(
            [
                _radio(
                    ids.ATTR_KIND,
                    "groups",
                    {"groups": "between groups", "pc": "principal direction", "dim": "dimension"},
                ),
            ],
            className="ld-row ld-wrap",
        ),
        html.Div(
            [
                _labelled(
                    "from",
                    dcc.Dropdown(id=ids.ATTR_FROM, value="all", clearable=False, options=[], style={"width": "170px"}),
                    cls="ld-group-field",
                ),
                _labelled(
                    "to",
                    dcc.Dropdown(id=ids.ATTR_TO, value="sel", clearable=False, options=[], style={"width": "170px"}),
                    cls="ld-group-field",
                ),
                _labelled(
                    "axis",
                    dcc.Dropdown(id=ids.ATTR_AXIS, value=0, clearable=False, options=[], style={"width": "90px"}),
                    cls="ld-axis-field",
                ),
            ],
            className="ld-row ld-wrap",
        ),
        html.P(id=ids.ATTR_NOTE, className="ld-hint"),
        export_links.attr_downloads(),
        html.Div(
            [
                html.Figure(
                    [html.Img(id=ids.ATTR_BASE, className="ld-px ld-mid", src=BLANK), html.Figcaption("current")]
                ),
                html.Figure(
                    [
                        html.Img(id=ids.ATTR_EDIT, className="ld-px ld-big", src=BLANK),
                        html.Figcaption("+ strength \u00d7 vector"),
                    ]
                ),
                html.Div(
                    [
                        _labelled(
                            "strength",
                            html.Div(
                                _slider(
                                    ids.ATTR_STRENGTH,
                                    -alg.MAX_STRENGTH,
                                    alg.MAX_STRENGTH,
                                    0.05,
                                    1.0,
                                    {-3: "-3", -2: "-2", -1: "-1", 0: "0", 1: "1", 2: "2", 3: "3"},
                                ),
                                className="ld-strength",
                            ),
                        ),  # fmt: skip
                        html.Button("Load into sliders", id=ids.BTN_ATTR_APPLY, className="ld-btn", disabled=True),
                    ],
                    className="ld-col ld-grow",
                ),
            ],
            className="ld-row ld-top",
        ),
        html.Div(
            [
                html.Span("strength -2 \u2026 +2", className="ld-strip-label"),
                html.Div(id=ids.ATTR_STRIP, className="ld-strip"),
            ],
            className="ld-strip-row",
        ),
        cls="ld-attr",
    )


def arith_card():
    slots = [
        html.Button(
            f"Set {s.upper()} \u2190 current", id={"type": ids.ARITH_SET, "index": s}, className="ld-btn ld-btn-small"
        )
        for s in "abc"
    ]
    return _card(
        "Arithmetic",
        "A \u2212 B + C: click a point, a neighbour, a gallery image or a prior sample (it becomes the "
        "current vector), then set it as A, B or C. E.g. ankle boot \u2212 sneaker + sandal.",
        html.Div(
            [*slots, html.Button("Clear", id=ids.BTN_ARITH_CLEAR, className="ld-btn ld-btn-small")],
            className="ld-row ld-wrap",
        ),
        html.Div(id=ids.ARITH_EQ, className="ld-eq"),
        html.Div(
            [
                html.Button("Load result into sliders", id=ids.BTN_ARITH_LOAD, className="ld-btn", disabled=True),
                html.Span(id=ids.ARITH_HINT, className="ld-hint"),
            ],
            className="ld-row",
        ),
        cls="ld-arith",
    )


def trav_card():
    t = DEFAULT_TRAV
    return _card(
        "Traversal grid",
        "Around the current vector: each row moves along one direction from \u2212k\u03c3 to +k\u03c3 "
        "(\u03c3: the spread of the data's codes along it). Score: mean absolute pixel change per \u03c3. "
        "Click a cell to load it into the sliders.",
        html.Div(
            [
                _check(ids.TRAV_ON, "show"),
                _radio(
                    ids.TRAV_ROWS,
                    t["trows"],
                    {"var": "top dims by variance", "pcs": "principal directions", "attr": "attribute vectors"},
                ),
                _check(ids.TRAV_SORT, "sort rows by score"),
            ],
            className="ld-row ld-wrap",
        ),
        html.Div(
            [
                _setting("rows", ids.TRAV_N, 1, alg.MAX_ROWS, 1, t["tn"], {1: "1", 8: "8", 12: "12"}),
                _setting(
                    "columns", ids.TRAV_COLS, alg.MIN_COLS, alg.MAX_COLS, 2, t["tcols"], {3: "3", 9: "9", 15: "15"}
                ),
                _setting(
                    "range \u00b1k\u03c3",
                    ids.TRAV_K,
                    alg.MIN_RANGE,
                    alg.MAX_RANGE,
                    0.5,
                    t["tk"],
                    {1: "1", 2: "2", 3: "3", 4: "4"},
                ),
            ],
            className="ld-row ld-wrap",
        ),
        html.P(id=ids.TRAV_NOTE, className="ld-hint"),
        export_links.trav_downloads(),
        dcc.Loading(html.Div(id=ids.TRAV_GRID, className="ld-trav"), delay_show=400, type="dot"),
        cls="ld-trav-card",
    )


def prior_card():
    p = DEFAULT_PRIOR
    return _card(
        "Prior samples",
        "New images from the model's prior (a VAE or a generator). Temperature scales the prior's "
        "spread (0: its mean). The samples are marked \u00d7 on the map; click one to load it.",
        html.Div(
            [
                _check(ids.PRIOR_ON, "show"),
                html.Button("Re-roll", id=ids.BTN_PRIOR_ROLL, className="ld-btn ld-btn-small"),
                _labelled(
                    "seed",
                    dcc.Input(
                        id=ids.PRIOR_SEED,
                        type="number",
                        value=p["pseed"],
                        min=0,
                        step=1,
                        debounce=True,
                        className="ld-input ld-num",
                    ),
                ),
            ],
            className="ld-row ld-wrap",
        ),
        html.Div(
            [
                _setting(
                    "samples", ids.PRIOR_N, alg.MIN_PRIOR, alg.MAX_PRIOR, 8, p["pn"], {16: "16", 32: "32", 64: "64"}
                ),
                _setting(
                    "temperature",
                    ids.PRIOR_T,
                    0.0,
                    alg.MAX_TEMPERATURE,
                    0.1,
                    p["ptemp"],
                    {0: "0", 1: "1", 2: "2", 3: "3"},
                ),
            ],
            className="ld-row ld-wrap",
        ),
        html.P(id=ids.PRIOR_NOTE, className="ld-hint"),
        export_links.prior_downloads(),
        html.Div(id=ids.PRIOR_GRID, className="ld-thumbs ld-prior"),
        cls="ld-prior-card",
    )


# ----------------------------------------------------------------------------- builders
def gallery_items(items: list[dict]) -> list:
    return [
        _thumb_button({"type": ids.GALLERY, "index": it["i"]}, it["src"], f"#{it['i']} {it['label']}: inspect")
        for it in items
    ]


def histogram(hist: list[dict]) -> list:
    top = max((h["frac"] for h in hist), default=1.0) or 1.0
    return [
        html.Div(
            [
                html.Span(h["name"], className="ld-hist-name"),
                html.Span(
                    className="ld-hist-bar",
                    style={"width": f"{max(2, round(90 * h['frac'] / top))}px"},
                    title=f"{100 * h['frac']:.1f}%",
                ),
                html.Span(str(h["count"]), className="ld-hist-n"),
            ],
            className="ld-hist-row",
        )
        for h in hist
    ]


def group_chips(groups: list[dict]) -> list:
    out = []
    for g in groups:
        out.append(
            html.Span(
                [
                    html.Button(f"{g['name']} ({g['count']})", id={"type": ids.GROUP_USE, "index": g["name"]},
                                className="ld-chip", title="select this group again"),
                    html.Button("\u00d7", id={"type": ids.GROUP_DEL, "index": g["name"]}, className="ld-chip ld-chip-x",
                                title="delete this group"),
                ],
                className="ld-chip-pair",
            )
        )  # fmt: skip
    return out


def preset_buttons(presets: list[dict]) -> list:
    if not presets:
        return []
    return [html.Span("try", className="ld-label")] + [
        html.Button(p["label"], id={"type": ids.ATTR_PRESET, "index": p["spec"]}, className="ld-btn ld-btn-small")
        for p in presets
    ]


def strip_buttons(strip: list[dict]) -> list:
    return [
        _thumb_button(
            {"type": ids.ATTR_STRIP_BTN, "index": k}, s["src"], f"strength {s['s']:+g}: load into the sliders"
        )
        for k, s in enumerate(strip)
    ]


def equation(r: dict) -> list:
    def term(o, slot):
        if o is None:
            return html.Figure([html.Div(slot, className="ld-slot ld-mid"), html.Figcaption("not set")])
        return html.Figure([html.Img(src=o["src"], className="ld-px ld-mid"), html.Figcaption(f"{slot}: {o['label']}")])

    ops = r["ops"]
    out = [term(ops["A"], "A"), html.Span("\u2212", className="ld-op"), term(ops["B"], "B"),
           html.Span("+", className="ld-op"), term(ops["C"], "C"), html.Span("=", className="ld-op")]  # fmt: skip
    if r.get("result"):
        n = r["nearest"]
        out += [
            html.Figure([html.Img(src=r["result"], className="ld-px ld-mid ld-result"), html.Figcaption("decoded")]),
            html.Figure(
                [
                    html.Img(src=n["src"], className="ld-px ld-mid"),
                    html.Figcaption(f"nearest real: #{n['i']} {n['label']}"),
                ],
                title=f"distance {n['dist']}",
            ),
        ]
    else:
        out.append(html.Figure([html.Div("?", className="ld-slot ld-mid"), html.Figcaption("result")]))
    return out


def trav_grid(r: dict) -> list:
    if not r.get("on"):
        return []
    head = html.Div(
        [html.Span("", className="ld-trav-label")]
        + [html.Span(f"{t:+g}\u03c3" if t else "0", className="ld-trav-off") for t in r["offsets"]]
        + [html.Span("score", className="ld-trav-score")],
        className="ld-trav-row ld-trav-head",
    )
    rows = [head]
    for row in r["rows"]:
        extra = f" KL {row['kl']:.2f}" if row.get("kl") is not None else ""
        rows.append(
            html.Div(
                [html.Span(row["label"], className="ld-trav-label", title=f"{row['label']} \u03c3={row['sigma']:g}")]
                + [
                    _thumb_button({"type": ids.TRAV_CELL, "index": f"{row['spec']}|{c}"}, src,
                                  f"{row['label']} at {r['offsets'][c]:+g}\u03c3: load into the sliders")
                    for c, src in enumerate(row["cells"])
                ]
                + [grids.score_cell(extra.strip()) if row["score"] is None else
                   html.Span([f"{row['score']:.3f}", html.Br(), extra.strip()] if extra else f"{row['score']:.3f}",
                             className="ld-trav-score")],
                className="ld-trav-row", **grids.row_props(r, row),
            )
        )  # fmt: skip
    return rows


def trav_note(r: dict) -> str:
    if not r.get("on"):
        return "Tick 'show' to decode the grid."
    note = "Score = mean absolute pixel change per \u03c3 of movement."
    if "active" in r:
        note += (
            f" KL to the prior per dimension (on {r['kl_n']} images): {r['active']} of {len(r['kl'])} "
            f"units active (KL > {alg.ACTIVE_KL:g} nats)."
        )
    return note


def prior_cells(r: dict) -> list:
    from .plaus_layout import mark_cells

    cells = [
        _thumb_button({"type": ids.PRIOR_CELL, "index": k}, src, f"prior sample {k + 1}: load into the sliders")
        for k, src in enumerate(r.get("samples") or [])
    ]
    return mark_cells(cells, r.get("verdicts"))  # samples off the data get a border (ui/plaus_layout.py)
