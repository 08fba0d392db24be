"""Plain Flask routes next to the Dash app: hover thumbnails on demand and a health check.

Thumbnails are served per point instead of embedding 70k images in the page; they are immutable
for a given model name and atlas, so the browser may cache them.
"""
from __future__ import annotations

import logging

from flask import Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import imaging

log = logging.getLogger(__name__)


def register_routes(server, catalog, prefix: str = "/") -> None:
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"

    def thumb(model: str, i: int):
        view = catalog.get(model)
        if view is None or not 0 <= i < view.n:
            abort(404)
        resp = Response(imaging.png_bytes(view.ex.thumbnail(i)), mimetype="image/png")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    def health():
        return jsonify(status="ok", models={n: v.n for n, v in catalog.views.items()})

    def not_found(rest):
        abort(404)

    server.add_url_rule(f"{prefix}thumb/<path:model>/<int:i>.png", "latentdash_thumb", thumb)
    server.add_url_rule(f"{prefix}thumb/<path:rest>", "latentdash_thumb_404", not_found)
    server.add_url_rule(f"{prefix}healthz", "latentdash_health", health)

    def on_error(e):
        """Anything a handler didn't expect (e.g. a hand-made callback request missing fields):
        one log line and a short reply, never a traceback in the page."""
        if isinstance(e, HTTPException):
            return e
        log.warning("%s %s failed: %s: %s", request.method, request.path, type(e).__name__,
                    " ".join(str(e).split())[:200])
        log.debug("traceback", exc_info=e)
        bad_request = request.path.endswith("_dash-update-component")
        return jsonify(error="bad callback request" if bad_request else "server error"), (
            400 if bad_request else 500)

    server.register_error_handler(Exception, on_error)
