"""What a public server needs, applied once to the built app (`secure(app, config)` in create_app):

- compression (flask-compress: brotli, else gzip) of HTML, CSS, JS and JSON, the callback and
  /api/v1 responses included; static files (Dash's scripts, assets/, the user's assets) are
  compressed once per worker and kept (keyed by path and validator), so thirty first visits
  cost one compression, not thirty;
- cache lifetimes: a fingerprinted file (Dash's `_dash-component-suites/...v4_4_1m123.js`, an
  asset with `?m=<mtime>`) is `public, max-age=1 year, immutable`; an unfingerprinted static
  file (e.g. assets/vendor/, loaded on demand) is `no-cache` (revalidated by ETag, 304);
- security headers on every response: a Content-Security-Policy Dash works under (scripts only
  from this origin plus the exact inline scripts of the page, by hash, computed from the page
  as sent; no plugins; frames only from `config.frame_ancestors`), X-Content-Type-Options,
  Referrer-Policy, X-Frame-Options (for browsers without frame-ancestors), COOP;
- a request size limit (`config.max_upload_mb`; a larger body is a 413 with a JSON message;
  Dash's callback endpoint takes 4/3 of it + 256 kB: the page's image upload arrives as base64);
- Flask's debug mode off unless `--debug`.
No route takes a file path from the client except Flask's static routes, which resolve it
inside their folder (werkzeug's safe_join) or answer 404.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import threading

from flask import jsonify, request

# what is worth compressing (PNG thumbnails and other images are compressed already)
MIMETYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/x-javascript",
    "image/svg+xml",
]
BROTLI_DYNAMIC = 4  # callbacks/JSON: fast (a drag reply is ~2 kB)
BROTLI_STATIC = 5  # static files, compressed once: plotly 1.8 MB -> 0.55 MB in ~65 ms
GZIP_LEVEL = 6
YEAR = 31536000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
_FINGERPRINT = re.compile(r"\.v[\w-]+m[0-9a-fA-F]+\.[^/]+$")  # Dash's cache-busting file names
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
_SCRIPT_TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
_JS_TYPES = {"", "text/javascript", "application/javascript", "module", "application/ecmascript"}


def static_prefixes(app) -> tuple[str, ...]:
    prefix = app.config.routes_pathname_prefix or "/"
    assets = prefix + app.config.assets_url_path.strip("/") + "/"
    return (prefix + "_dash-component-suites/", assets, prefix + "user-assets/")


def csp(script_hashes=(), frame_ancestors: str = "'self'") -> str:
    """The Content-Security-Policy of a response. plotly's WebGL traces need eval (regl); the
    plotly bundle injects <style> elements and React sets inline styles, hence style-src
    'unsafe-inline' (styles cannot run code)."""
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            # 'unsafe-eval': plotly's WebGL layer (regl) compiles its draw commands with
            # Function(...): without it every 2-D/3-D map shows "WebGL is not supported" (lead, 14:35)
            f"script-src {scripts} 'unsafe-eval' 'wasm-unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def inline_script_hashes(html: str) -> list[str]:
    """CSP sources ('sha256-...') for every inline script the page would run (not JSON data
    blocks such as the contract, which CSP does not apply to)."""
    out = []
    for m in _INLINE_SCRIPT.finditer(html):
        attrs = m.group("attrs")
        if re.search(r"\bsrc\s*=", attrs, re.I):
            continue
        t = _SCRIPT_TYPE.search(attrs)
        if (t.group(1).lower() if t else "") not in _JS_TYPES:
            continue
        digest = base64.b64encode(hashlib.sha256(m.group("body").encode("utf-8")).digest()).decode()
        if f"'sha256-{digest}'" not in out:
            out.append(f"'sha256-{digest}'")
    return out


def _choose(accept_encoding: str) -> str | None:
    """brotli when the client takes it, else gzip, else nothing (q=0 excludes)."""
    ok = set()
    for part in accept_encoding.lower().split(","):
        name, _, q = part.strip().partition(";q=")
        try:
            if float(q or 1) > 0:
                ok.add(name.strip())
        except ValueError:
            ok.add(name.strip())
    for algo in ("br", "gzip"):
        if algo in ok or "*" in ok:
            return algo
    return None


class StaticCompressor:
    """Compressed copies of static files, one per (path, validator, algorithm), made on first
    request in this worker and reused."""

    def __init__(self, prefixes, max_bytes: int = 64 << 20):
        self.prefixes, self.max_bytes = tuple(prefixes), max_bytes
        self.cache: dict = {}
        self.size = 0
        self.lock = threading.Lock()

    def applies(self, response) -> bool:
        return (
            request.method == "GET"
            and response.status_code == 200
            and request.path.startswith(self.prefixes)
            and response.mimetype in MIMETYPES
            and "Content-Encoding" not in response.headers
        )

    def __call__(self, response):
        if not self.applies(response):
            return response
        algo = _choose(request.headers.get("Accept-Encoding", ""))
        if algo is None:
            return response
        etag, _ = response.get_etag()
        key = (request.path, request.args.get("m", ""), etag or "", algo)
        body = self.cache.get(key)
        if body is None:
            response.direct_passthrough = False
            data = response.get_data()
            if algo == "br":
                import brotli

                body = brotli.compress(data, quality=BROTLI_STATIC)
            else:
                body = gzip.compress(data, GZIP_LEVEL, mtime=0)
            with self.lock:
                if self.size + len(body) <= self.max_bytes:
                    self.cache[key] = body
                    self.size += len(body)
        response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = algo
        response.headers["Content-Length"] = str(len(body))
        if etag:
            response.set_etag(f"{etag}:{algo}")
        _vary(response)
        return response


def _vary(response) -> None:
    vary = response.headers.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


def secure(app, config) -> None:
    """Compression, cache lifetimes, security headers and the request size limit on `app`
    (a dash.Dash); every route of its Flask server gets them, blueprints added later included."""
    from flask_compress import Compress

    server = app.server
    server.debug = bool(config.debug)
    server.config["MAX_CONTENT_LENGTH"] = int(float(config.max_upload_mb) * 1024 * 1024)
    server.config["MAX_FORM_MEMORY_SIZE"] = server.config["MAX_CONTENT_LENGTH"]
    # the page's image upload reaches Dash as a base64 data URL in a JSON body: 4/3 of the file
    # plus the rest of the request (ui/upload_callbacks.py checks the file itself against the limit)
    dash_allowance = int(server.config["MAX_CONTENT_LENGTH"] * 4 / 3) + 256 * 1024

    @server.before_request
    def upload_allowance():
        if request.path.endswith("/_dash-update-component"):
            request.max_content_length = dash_allowance

    server.config.update(
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=BROTLI_DYNAMIC,
        COMPRESS_LEVEL=GZIP_LEVEL,
        # a drag frame's reply (~0.7 kB: one small PNG) would shrink by ~120 bytes for ~0.25 ms of
        # CPU on the hot path (30 students x 20 frames/s): sent as is; everything larger is compressed
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_REGISTER=False,  # registered below, in the order the hooks must run
    )
    compress = Compress()
    compress.init_app(server)
    static = StaticCompressor(static_prefixes(app))
    mb = float(config.max_upload_mb)
    plain_csp = csp((), config.frame_ancestors)  # every response but a page with inline scripts
    fixed = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    fa = str(config.frame_ancestors).strip()
    if fa in ("'self'", "'none'"):  # the same for browsers that predate frame-ancestors
        fixed["X-Frame-Options"] = "SAMEORIGIN" if fa == "'self'" else "DENY"

    # what every non-page response carries (server/fastpath.py answers drag frames outside Flask)
    server.config["LATENTDASH_HEADERS"] = {"Content-Security-Policy": plain_csp, **fixed}

    # Flask runs after_request hooks in reverse order of registration: headers (which read the
    # page to hash its inline scripts) first, then the static cache, then flask-compress for the rest
    server.after_request(compress.after_request)
    server.after_request(static)

    @server.after_request
    def headers(response):
        h = response.headers
        if response.mimetype == "text/html" and not response.direct_passthrough:
            h["Content-Security-Policy"] = csp(inline_script_hashes(response.get_data(as_text=True)), fa)
        else:
            h["Content-Security-Policy"] = plain_csp
        for k, v in fixed.items():
            if k not in h:
                h[k] = v
        if request.method == "GET" and response.status_code in (200, 304) and request.path.startswith(static.prefixes):
            fingerprinted = bool(_FINGERPRINT.search(request.path)) or bool(request.args.get("m"))
            h["Cache-Control"] = IMMUTABLE if fingerprinted else "no-cache"
        return response

    def too_large(e):
        return jsonify(
            error=f"request body too large: the limit is {mb:g} MB (LATENTDASH_MAX_UPLOAD_MB); send a smaller one"
        ), 413

    server.register_error_handler(413, too_large)
