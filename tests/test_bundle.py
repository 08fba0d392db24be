"""The page runs our patched plotly.js bundle (scripts/build_plotly_bundle.sh), not Dash's own.

The bundle's sha256 is recorded by the build script next to it, in sha256sum format.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

import pytest

from . import test_browser as tb

# the live server, browser and page of tests/test_browser.py

VENDOR = Path(__file__).resolve().parents[1] / "latentdash" / "assets" / "vendor"
BUNDLE = VENDOR / "plotly-latentdash.min.js"
BUNDLE_URL_PATH = "/assets/vendor/plotly-latentdash.min.js"
# each WebGL canvas plotly made for the 2-D map: its layer, whether it is the pick layer, and the
# context's actual antialias attribute
GL_CANVASES = f"""() => {{ const out = [];
  {tb.GD}._fullLayout._glcanvas.each(function (d) {{
    const gl = d.regl && d.regl._gl;
    out.push([d.key, !!d.pick, gl ? gl.getContextAttributes().antialias : null]); }});
  return out; }}"""
# whether this browser grants MSAA when asked (else the check above could not tell)
MSAA_GRANTED = """() => { const gl = document.createElement('canvas').getContext('webgl', {antialias: true});
  return gl.getContextAttributes().antialias; }"""


def recorded_sha256() -> str:
    digest, name = (VENDOR / f"{BUNDLE.name}.sha256").read_text().split()
    assert name == BUNDLE.name
    return digest


def test_vendored_bundle_matches_recorded_sha256():
    assert hashlib.sha256(BUNDLE.read_bytes()).hexdigest() == recorded_sha256()


@pytest.mark.browser
def test_page_loads_the_patched_bundle(page, live_server):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    with page.expect_response(lambda r: urlparse(r.url).path.endswith(BUNDLE_URL_PATH)) as resp:
        tb.open_page(page, live_server)
    # (a) plotly came from our bundle, and from nowhere else
    assert urlparse(page.evaluate("() => window._dashPlotlyJSURL")).path.endswith(BUNDLE_URL_PATH)
    plotly = [u for u in requests if urlparse(u).path.rsplit("/", 1)[-1].lower().startswith("plotly")]
    assert plotly and all(urlparse(u).path.endswith(BUNDLE_URL_PATH) for u in plotly), plotly
    # (b) what was served is the recorded build
    assert resp.value.status == 200
    body = resp.value.body()
    assert hashlib.sha256(body).hexdigest() == recorded_sha256()
    # (c) under its fingerprint (the bundle's own hash), so browsers keep it for a year
    from latentdash.ui.contract import plotly_version

    assert urlparse(resp.value.url).query == f"m={plotly_version()}"
    assert plotly_version() == hashlib.sha256(body).hexdigest()[:16]
    assert "immutable" in resp.value.headers["cache-control"]
    version = page.evaluate("() => window.Plotly.version")
    assert body.startswith(f"/**\n* plotly.js (latentdash - minified) v{version}\n".encode())
    # (c) the patches are in it: quick 3-D clicks (property names survive minification), and the
    # 2-D WebGL canvases really are drawn without MSAA
    assert b"._clickReady" in body and b"._clickPending" in body
    assert b"{antialias:!1,preserveDrawingBuffer:!0}" in body
    assert page.evaluate(f"() => {tb.GD}._fullData[0].type") == "scattergl"
    canvases = page.evaluate(GL_CANVASES)
    drawn = [c for c in canvases if not c[1] and c[2] is not None]
    assert drawn, canvases
    assert all(c[2] is False for c in canvases if c[2] is not None), canvases
    assert page.evaluate(MSAA_GRANTED) is True, "this browser never grants MSAA: the check above proves nothing"
