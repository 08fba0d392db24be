"""The plausibility pieces of the page (ui/plaus_render.py says what they show): the line under the
current decode (filled by assets/ld-7-plaus.js from st-plaus and from every drag frame) and the
path chart under the interpolation strip."""

from __future__ import annotations

from dash import dcc, html

from . import ids


def plaus_line():
    """Under the current decode; empty until the first vector's plausibility arrives."""
    return html.Div(id=ids.PLAUS, className="ld-plaus", role="status", **{"aria-live": "polite"})


def path_box():
    """The percentile of each interpolation step, linear and spherical (hidden without a path)."""
    return html.Div(
        [
            html.Span("distance to data", className="ld-strip-label"),
            html.Div(
                [
                    dcc.Graph(
                        id=ids.PLAUS_PATH,
                        figure={"data": [], "layout": {"height": 170}},
                        config={"displayModeBar": False, "responsive": True},
                        style={"height": "170px"},
                    ),
                    html.P(id=ids.PLAUS_PATH_NOTE, className="ld-hint"),
                ],
                className="ld-plaus-path-body",
            ),
        ],
        id=ids.PLAUS_PATH_BOX,
        className="ld-strip-row ld-plaus-path",
        style={"display": "none"},
    )


def mark_cells(buttons: list, verdicts) -> list:
    """A strip or grid cell whose vector is not typical gets a border (and says so in its title):
    orange for "unusual", red for "off the data" (ui/plaus_render.step_verdicts)."""
    for b, v in zip(buttons, verdicts or []):
        if v != "typical":
            b.className += " ld-cell-off" if v == "off the data" else " ld-cell-unusual"
            b.title += f" ({v})"
    return buttons
