"""The "Jobs" card: recompute a map with new parameters, or build the atlas of an offered model, as
a background job with a progress bar, a Cancel button and a status line (server/jobs.py runs them).
The admin-token field is shown only in hosted mode (--admin-token)."""

from __future__ import annotations

from dash import dcc, html

# component ids (the card's own; nothing in the page's JavaScript uses them)
CARD = "jobs-card"
KIND, SPACE, METHOD = "job-kind", "job-space", "job-method"
PERPLEXITY, NEIGHBORS, MIN_DIST, SEED = "job-perplexity", "job-neighbors", "job-min-dist", "job-seed"
OFFER, TOKEN = "job-offer", "job-token"
BTN_START, BTN_CANCEL = "btn-job-start", "btn-job-cancel"
BAR, PROGRESS, STATUS = "job-bar", "job-progress", "job-status"  # STATUS: how the last job ended
NOTE = "job-note"  # what became of the last Start / Cancel press
ST_REQ, ST_DONE, POLL = "st-job-req", "st-job-done", "job-poll"
POLL_MS = 60_000  # how often an open page looks for views that other users' jobs added
BAR_SHOWN, BAR_HIDDEN = {"width": "100%"}, {"width": "100%", "display": "none"}


def _field(label, control):
    return html.Label([html.Span(label, className="ld-label"), control], className="ld-field")


def _number(cid, value, step, width="5.5em"):
    return dcc.Input(id=cid, type="number", value=value, step=step, debounce=True, style={"width": width})


def jobs_card(catalog):
    """The card, or nothing when the app runs without background jobs (catalog.jobs is None)."""
    rt = getattr(catalog, "jobs", None)
    if rt is None:
        return html.Div(id=CARD, hidden=True)
    offers = rt.offer_names()
    return html.Section(
        [
            html.H2("Jobs"),
            html.P(
                "Recompute the shown model's map with other settings, or build the atlas of another "
                f"model this server offers. Jobs run in the background on {rt.backend}; the result "
                "becomes a new choice in the Model list, for everyone.",
                className="ld-hint",
            ),
            html.Div(
                [
                    _field(
                        "Job",
                        dcc.RadioItems(
                            id=KIND,
                            value="recompute",
                            inline=True,
                            options=[
                                {"label": "recompute the map", "value": "recompute"},
                                {"label": "build an offered model", "value": "offer", "disabled": not rt.offers},
                            ],
                        ),
                    ),
                    _field(
                        "Map of",
                        dcc.RadioItems(
                            id=SPACE,
                            value="latent",
                            inline=True,
                            options=[
                                {"label": "latent codes", "value": "latent"},
                                {"label": "pixels", "value": "pixel"},
                            ],
                        ),
                    ),
                    _field(
                        "Method",
                        dcc.RadioItems(
                            id=METHOD,
                            value="tsne",
                            inline=True,
                            options=[{"label": "t-SNE", "value": "tsne"}, {"label": "UMAP", "value": "umap"}],
                        ),
                    ),
                ],
                className="ld-row ld-wrap",
            ),
            html.Div(
                [
                    _field("t-SNE perplexity", _number(PERPLEXITY, 30, 1)),
                    _field("UMAP n_neighbors", _number(NEIGHBORS, 15, 1)),
                    _field("min_dist", _number(MIN_DIST, 0.1, 0.05)),
                    _field("seed", _number(SEED, 0, 1)),
                ],
                className="ld-row ld-wrap",
            ),
            html.Div(
                [
                    _field(
                        "Offered model",
                        dcc.Dropdown(
                            id=OFFER,
                            options=[{"label": n, "value": n} for n in offers],
                            value=offers[0] if offers else None,
                            placeholder="none offered" if not rt.offers else "all built",
                            clearable=False,
                            searchable=False,
                            style={"width": "220px"},
                        ),
                    ),
                    html.Label(
                        [
                            html.Span("Admin token", className="ld-label"),
                            dcc.Input(id=TOKEN, type="password", value="", debounce=True, autoComplete="off"),
                        ],
                        className="ld-field",
                        hidden=not rt.hosted,
                    ),
                ],
                className="ld-row ld-wrap",
            ),
            html.Div(
                [
                    html.Button("Start", id=BTN_START, className="ld-btn"),
                    html.Button("Cancel", id=BTN_CANCEL, className="ld-btn", disabled=True),
                    html.Progress(id=BAR, value="0", max="1", style=BAR_HIDDEN),
                ],
                className="ld-row",
            ),
            html.Div(id=NOTE, role="status", className="ld-job-status"),
            html.Div(id=PROGRESS, className="ld-hint"),
            html.Div(id=STATUS, role="status", className="ld-job-status"),
            dcc.Store(id=ST_REQ),
            dcc.Store(id=ST_DONE),
            dcc.Interval(id=POLL, interval=POLL_MS),
        ],
        id=CARD,
        className="ld-card ld-jobs",
    )
