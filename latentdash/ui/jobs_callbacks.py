"""Wiring of the Jobs card (ui/jobs_layout.py) to the background-job runtime (server/jobs.py,
duck-typed here as `catalog.jobs`: the ui layer imports nothing from the server).

- Start (an ordinary callback, web process): the runtime checks the token, the form and the rate
  limit and issues a one-use ticket, or the card's note says in one line what to fix.
- The ticket starts the background callback (`register_background`, run by the Celery worker or
  a DiskcacheManager process): progress bar, Cancel, then a status line with the result or why
  it failed.
- The Model list's options (and the hover card's trace names) follow the views the runtime
  discovers: on page load, when a job of this page ends, and every POLL_MS.
"""

from __future__ import annotations

import logging

import dash
from dash import Input, Output, Patch, State, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import request

from ..errors import LatentdashError
from . import ids
from . import jobs_layout as jl

log = logging.getLogger(__name__)


def status_line(text: str, error: bool = False):
    return html.Span(text, className="ld-job-error" if error else "ld-job-ok")


def failure_output(msg: str) -> list:
    """The background callback's outputs for a job that failed outside its function (the job
    store stopped answering, the process died): the manager returns these as the result."""
    return [status_line(msg, error=True), None]


def run_job(rt, set_progress, ticket) -> list:
    """The background callback's body: run the ticket, say how it went (never raise)."""
    rt = rt.for_ticket(ticket)
    try:
        entry = rt.run_ticket(ticket, rt.progress(set_progress))
    except LatentdashError as e:
        log.warning("job failed: %s", e)
        return [status_line(f"The job failed: {e}", error=True), None]
    except Exception as e:  # a bug: the worker's log has the traceback; the card says so
        log.exception("background job failed")
        return [status_line(f"The job failed on the server ({type(e).__name__}: {e}); see the server log", True), None]
    return [
        status_line(f"Done: “{entry['name']}” is now in the Model list, for everyone on this server."),
        {"name": entry["name"], "written": entry["written"]},
    ]


def register_background(app, rt) -> None:
    """The job callback. Registered with Dash's own `Dash.callback` (not the app's wrapper, which
    marks requests in flask.g): its function runs outside any request, in the job process. The
    Celery worker registers the very same function on a bare app (server/jobs.worker_app), so
    both sides compute the same task name."""

    @dash.Dash.callback(
        app,
        Output(jl.STATUS, "children"),
        Output(jl.ST_DONE, "data"),
        Input(jl.ST_REQ, "data"),
        background=True,
        manager=rt.manager,
        progress=[Output(jl.BAR, "value"), Output(jl.BAR, "max"), Output(jl.PROGRESS, "children")],
        progress_default=["0", "1", ""],
        running=[
            (Output(jl.BTN_START, "disabled"), True, False),
            (Output(jl.BTN_CANCEL, "disabled"), False, True),
            (Output(jl.BAR, "style"), jl.BAR_SHOWN, jl.BAR_HIDDEN),
            (Output(jl.STATUS, "hidden"), True, False),  # the last job's result, until this one's
        ],
        cancel=[Input(jl.BTN_CANCEL, "n_clicks")],
        interval=700,
        prevent_initial_call=True,
    )
    def background_job(set_progress, ticket):
        if not ticket:
            raise PreventUpdate
        return run_job(rt, set_progress, ticket)

    rt.manager.failure_output = failure_output


def register_jobs(app, catalog) -> None:
    rt = getattr(catalog, "jobs", None)
    if rt is None:
        return
    from .layout import model_options

    @app.callback(
        Output(jl.NOTE, "children"),
        Output(jl.ST_REQ, "data"),
        Input(jl.BTN_START, "n_clicks"),
        Input(jl.BTN_CANCEL, "n_clicks"),
        State(jl.KIND, "value"),
        State(jl.SPACE, "value"),
        State(jl.METHOD, "value"),
        State(jl.PERPLEXITY, "value"),
        State(jl.NEIGHBORS, "value"),
        State(jl.MIN_DIST, "value"),
        State(jl.SEED, "value"),
        State(jl.OFFER, "value"),
        State(jl.TOKEN, "value"),
        State(ids.ST_MAP, "data"),
        prevent_initial_call=True,
    )
    def start(n, n_cancel, kind, space, method, perplexity, neighbors, min_dist, seed, offer, token, map_part):
        """Start: check and issue a ticket. Cancel (Dash's own callback stops the job): say so."""
        if ctx.triggered_id == jl.BTN_CANCEL and n_cancel:
            return status_line("Cancelled: the job was stopped and nothing was added.", error=True), no_update
        if not n:
            raise PreventUpdate
        form = dict(
            kind=kind,
            space=space,
            method=method,
            perplexity=perplexity,
            n_neighbors=neighbors,
            min_dist=min_dist,
            seed=0 if seed in (None, "") else seed,
            offer=offer,
            token=token,
        )
        model = (map_part or {}).get("model") if isinstance(map_part, dict) else None
        try:
            ticket = rt.submit(form, model or catalog.default, request.remote_addr or "unknown")
        except LatentdashError as e:
            log.info("job refused: %s", e)
            return status_line(str(e), error=True), no_update
        return status_line(f"Started: “{ticket['name']}” (waiting for {rt.backend})."), ticket

    register_background(app, rt)

    @app.callback(
        Output(ids.MODEL, "options"),
        Output(ids.ST_META, "data"),
        Output(jl.OFFER, "options"),
        Input(jl.ST_DONE, "data"),
        Input(jl.POLL, "n_intervals"),
        State(ids.MODEL, "options"),
        State(ids.ST_META, "data"),
    )
    def options(done, _n, shown, meta):
        """The Model list as this process knows it (views other processes added included)."""
        rt.refresh()
        opts = model_options(catalog)
        if opts == shown:
            raise PreventUpdate
        have = set((meta or {}).get("traces", {}))
        traces = Patch()
        for v in catalog.views.values():
            if v.name not in have:
                traces["traces"][v.name] = v.trace_names
        offers = [{"label": n, "value": n} for n in rt.offer_names()]
        return opts, traces, offers
