"""The drag frame without Dash's dispatch: a WSGI middleware in front of the Flask app.

While a slider handle moves, every page posts one request per frame to Dash's own endpoint
(`_dash-update-component`, output `st-dragout.data`; assets/ld-4-drag.js, ui/contract.py). Of the
~1.6 ms such a request costs in-process, ~1 ms was Flask's request context, Dash's dispatch and
the after-request hooks, around ~0.6 ms of work (ui/callbacks.drag_frame). A classroom of thirty
dragging at once is bound by exactly that CPU, so a request whose body is the drag callback's, in
the shape the page sends it, is answered here by the same function, in the same wire format as
Dash's (`{"multi": true, "response": {"st-dragout": {"data": ...}}}`) and with the headers every
other JSON response gets. Anything else, a malformed drag body included, goes on to Flask and Dash
unchanged, which answer it as before (a malformed body: 400; a bug: 500, logged).
"""

from __future__ import annotations

import io
import json
import logging

from ..ui import contract
from ..ui.callbacks import drag_frame

log = logging.getLogger("latentdash.server.routes")  # the app's error log: one place for a bug's traceback
MAX_BODY = 64 * 1024  # a drag body is ~1-2 kB; anything larger is not one: Dash's path decides
_OUTPUT = f"{contract.DRAG_OUTPUT[0]}.{contract.DRAG_OUTPUT[1]}"
_INPUT = contract.DRAG_INPUT
_STATE = [(i, p) for i, p, _ in contract.DRAG_STATE]


def parse_drag(body: bytes):
    """The drag callback's arguments (drag, *state in DRAG_STATE order) from a request body, or
    None when the body is not a well-formed drag request (then Dash handles it)."""
    try:
        req = json.loads(body)
    except ValueError:
        return None
    if not isinstance(req, dict) or req.get("output") != _OUTPUT:
        return None
    inputs, state = req.get("inputs"), req.get("state")
    if not (isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], dict)):
        return None
    if (inputs[0].get("id"), inputs[0].get("property")) != _INPUT or "value" not in inputs[0]:
        return None
    if not isinstance(state, list) or len(state) != len(_STATE):
        return None
    values = []
    for item, want in zip(state, _STATE):
        if not isinstance(item, dict) or (item.get("id"), item.get("property")) != want:
            return None
        values.append(item.get("value"))
    return [inputs[0]["value"], *values]


class DragFastPath:
    """WSGI middleware: drag frames answered by ui.callbacks.drag_frame, the rest by `app`."""

    def __init__(self, app, catalog, routes_prefix: str, headers: dict | None = None):
        self.app, self.catalog = app, catalog
        self.path = routes_prefix.rstrip("/") + "/_dash-update-component"
        self.headers = list((headers or {}).items())
        self.enabled = True  # tests compare both paths

    def __call__(self, environ, start_response):
        if not (self.enabled and environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == self.path):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if not 0 < length <= MAX_BODY:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        args = parse_drag(body)
        if args is None:  # Dash's own path, with the body it would have read
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        try:
            out = json.dumps(
                {
                    "multi": True,
                    "response": {contract.DRAG_OUTPUT[0]: {contract.DRAG_OUTPUT[1]: drag_frame(self.catalog, *args)}},
                },
                separators=(",", ":"),
                allow_nan=False,
            ).encode()
            status = "200 OK"
        except Exception as e:  # a bug of ours, exactly as routes.on_error reports one
            log.exception("POST %s failed", self.path, exc_info=e)
            out, status = b'{"error":"server error"}', "500 INTERNAL SERVER ERROR"
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(out))), *self.headers],
        )
        return [out]


def install(app, catalog) -> DragFastPath:
    """Put the fast path in front of `app.server` (a dash.Dash's Flask app); returns it."""
    server = app.server
    fast = DragFastPath(
        server.wsgi_app, catalog, app.config.routes_pathname_prefix or "/", server.config.get("LATENTDASH_HEADERS")
    )
    server.wsgi_app = fast
    return fast
