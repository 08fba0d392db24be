"""Plain Flask routes next to the Dash app: hover thumbnails on demand and a health check, and
the app-wide error handler (a malformed callback request: 400; a bug: 500, logged with traceback).

Thumbnails are served per point instead of embedding 70k images in the page; they are immutable
for a given model name and atlas, so the browser may cache them.
"""

from __future__ import annotations

import functools
import inspect
import logging

from dash.exceptions import CallbackException
from flask import Response, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import imaging

log = logging.getLogger(__name__)
# what Dash raises on a hand-made callback body (dash 4: KeyError for a missing "output" or an
# unknown one, TypeError/AttributeError for wrong JSON shapes, IndexError for too few outputs,
# CallbackException when inputs or outputs don't match the callback's definition)
MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, CallbackException)


def register_routes(server, catalog, prefix: str = "/") -> None:
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"

    def thumb(model: str, i: int):
        view = catalog.get(model)
        if view is None or not 0 <= i < view.n:
            abort(404)
        resp = Response(imaging.png_bytes(view.explorer.thumbnail(i)), mimetype="image/png")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    def health():
        return jsonify(status="ok", models={n: v.n for n, v in catalog.views.items()})

    def not_found(rest):
        abort(404)

    server.add_url_rule(f"{prefix}thumb/<path:model>/<int:i>.png", "latentdash_thumb", thumb)
    server.add_url_rule(f"{prefix}thumb/<path:rest>", "latentdash_thumb_404", not_found)
    server.add_url_rule(f"{prefix}healthz", "latentdash_health", health)
    # decoding in the browser: the ONNX decoders by model name, and onnxruntime-web (onnx_export.py)
    from .. import onnx_export

    catalog.decoders = onnx_export.register_routes(server, catalog, prefix)

    def on_error(e):
        """What no handler caught. HTTP errors (404, a body that is not JSON: 400) pass through.
        A callback request Dash could not dispatch (fields missing, wrong JSON shapes: KeyError,
        TypeError, ... raised inside Dash before any of our callbacks started) is the client's
        mistake: 400 and one WARNING line. Anything else is a bug of ours (a LatentdashError
        too: callbacks turn those into messages): its traceback is logged at ERROR and the
        client gets 500 {"error": "server error"}, never the traceback."""
        if isinstance(e, HTTPException):
            return e
        if is_malformed_callback_request(e):
            log.warning(
                "bad callback request %s %s: %s: %s",
                request.method,
                request.path,
                type(e).__name__,
                " ".join(str(e).split())[:200],
            )
            return jsonify(error=f"bad callback request ({type(e).__name__})"), 400
        log.exception("%s %s failed", request.method, request.path, exc_info=e)
        return jsonify(error="server error"), 500

    server.register_error_handler(Exception, on_error)


def marks_start(func):
    """Wrap a callback function so that the request records that it started (see on_error)."""
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(*args, **kwargs):
            g.latentdash_callback_started = True
            return await func(*args, **kwargs)

        return run_async

    @functools.wraps(func)
    def run(*args, **kwargs):
        g.latentdash_callback_started = True
        return func(*args, **kwargs)

    return run


def is_malformed_callback_request(e: BaseException) -> bool:
    """True when a callback request failed while Dash parsed it, before any callback ran."""
    return (
        request.path.endswith("/_dash-update-component")
        and not g.get("latentdash_callback_started", False)
        and isinstance(e, MALFORMED)
    )
