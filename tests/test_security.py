"""Safe to put on the internet (latentdash/server/security.py): compressed responses (the
callbacks and /api/v1 too), long cache lifetimes only for fingerprinted files, security
headers with a CSP the page runs under in Chromium without one violation, a request size limit
answered as JSON, debug off, and no route that reads a file the client names."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
from pathlib import Path

import brotli
import pytest

from latentdash.server.app_factory import create_app
from latentdash.server.config import ServeConfig

ROOT = Path(__file__).resolve().parents[1]
BR = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture(scope="module")
def hosted(explorers):
    cfg = ServeConfig(frame_ancestors="'self' https://course.example.org", max_upload_mb=0.05)
    return create_app(cfg, explorers=explorers)


@pytest.fixture(scope="module")
def client(hosted):
    return hosted.server.test_client()


def index_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/[^"]+)"', html)


def plain(client, url):
    r = client.get(url, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    return r.data


def test_static_files_and_callbacks_are_compressed(client):
    page = client.get("/", headers=BR)
    assert page.headers["Content-Encoding"] == "br" and "Accept-Encoding" in page.headers["Vary"]
    html = brotli.decompress(page.data).decode()
    assert "<title>latentdash Explorer</title>" in html and len(page.data) < len(plain(client, "/")) / 2
    scripts = [u for u in index_urls(html) if u.split("?")[0].endswith((".js", ".css"))]
    assert any("dash_renderer" in u for u in scripts) and any("style.css" in u for u in scripts)
    total_plain = total_sent = 0
    for u in scripts:
        raw = plain(client, u)
        r = client.get(u, headers=BR)
        assert r.headers.get("Content-Encoding") == "br", u
        assert brotli.decompress(r.data) == raw, u  # the same bytes, compressed
        assert int(r.headers["Content-Length"]) == len(r.data)
        total_plain, total_sent = total_plain + len(raw), total_sent + len(r.data)
        gz = client.get(u, headers={"Accept-Encoding": "gzip"})  # a client without brotli
        assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == raw
    assert total_sent < total_plain / 2.5
    # the plotly bundle, loaded on demand by assets/ld-2-plotly.js
    r = client.get("/assets/vendor/plotly-latentdash.min.js", headers=BR)
    assert r.headers["Content-Encoding"] == "br" and len(r.data) < 0.4 * len(brotli.decompress(r.data))
    # JSON: Dash's layout and dependencies, and the REST API (a blueprint added by another module)
    for url in ("/_dash-layout", "/_dash-dependencies", "/api/v1/openapi.json"):
        r = client.get(url, headers=BR)
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "br", url
        json.loads(brotli.decompress(r.data))
    # a callback response large enough to be worth it (the map figure)
    from tests.dashclient import REDUCER, DashClient

    dc = DashClient(client)
    body = dc.body(REDUCER, {"url.search": ""}, [])
    r = client.post("/_dash-update-component", json=body, headers=BR)
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "br"
    assert "response" in json.loads(brotli.decompress(r.data))


def test_cache_lifetimes_only_for_fingerprinted_files(client):
    html = plain(client, "/").decode()
    urls = [u for u in index_urls(html) if u.split("?")[0].endswith((".js", ".css"))]
    suites = [u for u in urls if u.startswith("/_dash-component-suites/")]
    assets = [u for u in urls if u.startswith("/assets/") and "?m=" in u]
    assert suites and assets
    for u in suites + assets:
        cc = client.get(u, headers=BR).headers["Cache-Control"]
        assert "max-age=31536000" in cc and "immutable" in cc and "public" in cc, (u, cc)
    # the same file without its fingerprint may change under that name: revalidate every time
    unfp = assets[0].split("?")[0]
    r = client.get(unfp)
    assert r.headers["Cache-Control"] == "no-cache" and r.headers.get("ETag")
    again = client.get(unfp, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/assets/vendor/plotly-latentdash.min.js").headers["Cache-Control"] == "no-cache"
    assert "max-age=31536000" not in (client.get("/", headers=BR).headers.get("Cache-Control") or "")
    assert client.get("/thumb/pca-16/3.png").headers["Cache-Control"] == "public, max-age=86400"


def test_security_headers_and_csp(client, hosted):
    r = client.get("/", headers=BR)
    h = r.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "X-Frame-Options" not in h  # a course page may embed it: frame-ancestors says who
    policy = dict(p.strip().split(" ", 1) for p in h["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'self' https://course.example.org"
    assert policy["object-src"] == "'none'" and "'unsafe-inline'" not in policy["script-src"]
    # ('unsafe-eval' is there: plotly's WebGL layer, regl, compiles its draw calls with Function)
    # every inline script of the page as sent is allowed by its hash, and nothing else inline
    html = brotli.decompress(r.data).decode()
    inline = [
        m.group(2)
        for m in re.finditer(r"<script([^>]*)>(.*?)</script>", html, re.S)
        if "src=" not in m.group(1) and "application/json" not in m.group(1)
    ]
    assert inline  # Dash's renderer start-up and our polyfill switch
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert policy["script-src"].count("'sha256-") == len(set(inline))
    # the API and the health check get the headers too
    for url in ("/api/v1/models", "/healthz"):
        assert client.get(url).headers["X-Content-Type-Options"] == "nosniff"
    # debug off: Flask's debugger and Dash's dev tools are not there
    assert hosted.server.debug is False and not hosted._dev_tools.ui


def test_default_frame_policy(explorers):
    c = create_app(ServeConfig(), explorers=explorers).server.test_client()
    h = c.get("/").headers
    assert "frame-ancestors 'self'" in h["Content-Security-Policy"] and h["X-Frame-Options"] == "SAMEORIGIN"


def test_request_size_limit_is_a_json_413(client):
    big = json.dumps({"output": "x", "inputs": [], "pad": "a" * 60_000})  # > 0.05 MB
    # Dash's endpoint takes 4/3 of the limit + 256 kB (the page's upload arrives as base64)
    huge = json.dumps({"output": "x", "inputs": [], "pad": "a" * 400_000})
    r = client.post("/_dash-update-component", data=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    msg = r.get_json()["error"]
    assert "\n" not in msg and "0.05 MB" in msg and "LATENTDASH_MAX_UPLOAD_MB" in msg
    r = client.post("/api/v1/models/pca-16/decode", data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "LATENTDASH_MAX_UPLOAD_MB" in r.get_json()["error"]  # the API says it its way
    # under the limit the same endpoint answers normally
    ok = client.post("/api/v1/models/pca-16/decode", json={"latents": [[0.0] * 16]})
    assert ok.status_code == 200


def test_no_route_reads_a_file_the_client_names(client, hosted):
    """Every route with a path parameter is one of the known ones, and none of them serves a file
    from outside its folder, however the path is spelt."""
    rules = {r.rule: r.endpoint for r in hosted.server.url_map.iter_rules()}
    with_paths = sorted(rule for rule in rules if "<path:" in rule)
    known = {
        "/static/<path:filename>",  # Flask's own (folder absent: 404)
        "/assets/<path:filename>",  # Dash: our package assets (safe_join)
        "/user-assets/<path:filename>",  # ours: the user's assets folder (safe_join)
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",  # registered files only
        "/<path:path>",  # Dash's catch-all: the index page
        "/thumb/<path:model>/<int:i>.png",  # a model name looked up in the catalog
        "/thumb/<path:rest>",  # 404
        "/api/v1/<path:rest>",  # 404
        # onnx_export.py: a model name looked up in the catalog (bytes held in memory)
        "/onnx/<path:model>.json",
        "/onnx/<path:model>.onnx",
        "/onnx/<path:model>.latents.bin",
    }
    assert set(with_paths) <= known, set(with_paths) - known
    secret = (ROOT / "pyproject.toml").read_text()[:60]
    for url in (
        "/assets/../pyproject.toml",
        "/assets/..%2f..%2fpyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/user-assets/../pyproject.toml",
        "/user-assets/%2e%2e/pyproject.toml",
        "/user-assets//etc/passwd",
        "/_dash-component-suites/dash/../../../../pyproject.toml",
        "/_dash-component-suites/latentdash/server/app_factory.py",
        "/thumb/..%2f..%2fpyproject.toml/1.png",
        "/static/../pyproject.toml",
        "/onnx/..%2f..%2fpyproject.toml.json",
    ):
        r = client.get(url)
        assert secret not in r.get_data(as_text=True) and "root:x:" not in r.get_data(as_text=True), url


@pytest.mark.browser
def test_page_runs_under_the_csp_in_chromium(browser, explorers):
    """The real page in headless Chromium, with the headers as served: no CSP violation while it
    loads (Dash's scripts, the inline start-up script, the plotly bundle loaded on demand, the
    contract data block), a point is clicked and a slider dragged."""
    import waitress

    from tests.test_browser import click_point, hold_and_drag_first_slider, open_page

    app = create_app(ServeConfig(), explorers=explorers)
    srv = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=4)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    try:
        open_page(page, f"http://127.0.0.1:{srv.effective_port}/")
        assert page.evaluate("() => typeof window.Plotly === 'object' && !!window.latentdash.contract.drag")
        click_point(page, 2, 4)
        hold_and_drag_first_slider(page, 8)
        page.mouse.up()
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.__csp") == []
        assert "not supported" not in page.inner_text("body")  # plotly's WebGL layer ran (regl: eval)
        assert page.evaluate("() => document.querySelectorAll('.ld-graph.ld-on canvas').length") > 0
        assert problems == []
    finally:
        ctx.close()
        srv.close()
