"""Plausibility on the page, in a real headless Chromium (assets/ld-7-plaus.js): dragging the first
latent slider to its end brings the "off the data" warning while the handle is still held (server
decoding: from the drag frames' replies; browser decoding: from plausibility-only frames), the
marker on a map whose placement is estimated is drawn as uncertain (not on the exact PCA map), and
the interpolation card's path chart has a linear and a spherical line with one point per step,
the shown mode highlighted, and the strip's cells off the data have a border."""

from __future__ import annotations

import json

import pytest

from tests.test_browser import ARTIFACTS, SERVER_DECODING, open_page
from tests.test_browser_onnx import wait_where

pytestmark = pytest.mark.browser

VERDICT = "() => document.getElementById('plaus-line').dataset.verdict || null"
WARN = "() => { const w = document.querySelector('#plaus-line .ld-plaus-warn'); return w ? w.textContent : null; }"
MARKER = "() => { const m = document.getElementById('map-marker'); return [m.dataset.plaus || null, m.title]; }"
SYMBOL3D = """() => { const gd = document.querySelector('#map3d .js-plotly-plot');
  const t = gd && gd.data && gd.data.find((t) => t.name === 'current'); return t ? t.marker.symbol : null; }"""
HAS_Z = "() => new URLSearchParams(location.search).has('z')"
PATH = """() => { const gd = document.querySelector('#plaus-path .js-plotly-plot');
  return gd && gd.data ? gd.data.map((t) => [t.name, t.x.length, t.y.length, t.line.width]) : null; }"""


def hold_at_the_end_of_the_first_slider(page) -> None:
    """Press the first latent slider's handle and move it past the right end of its track (held)."""
    box = page.locator(".ld-sliders [role=slider]").first.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 13):
        page.mouse.move(x0 + 30 * k, y0)
        page.wait_for_timeout(60)


def test_server_decoding_warning_uncertain_marker_and_path_chart(page, live_server):
    page.add_init_script(SERVER_DECODING)
    open_page(page, live_server + "?a=3&b=700&steps=12")
    page.wait_for_function(f"() => ({VERDICT})() === 'typical'")  # the selected point's own vector
    assert page.evaluate(WARN) is None
    updates = page.evaluate("window.latentdashPlaus.updates")
    hold_at_the_end_of_the_first_slider(page)
    page.wait_for_function(f"() => ({VERDICT})() === 'off'")  # still held: from the drag frames
    assert not page.evaluate(HAS_Z) and page.evaluate("window.latentdashPlaus.updates") > updates
    assert page.evaluate(WARN).startswith("\u26a0 Off the data")
    assert page.inner_text("#plaus-line .ld-plaus-badge") == "off the data"
    assert page.evaluate(MARKER) == [None, "slider vector"]  # the PCA map places it exactly
    page.screenshot(path=str(ARTIFACTS / "browser-plaus-01-off-the-data.png"))
    page.mouse.up()
    page.wait_for_function(HAS_Z)
    page.wait_for_function(f"() => ({VERDICT})() === 'off'")  # committed: the same verdict
    # a map whose placement is an estimate: the marker is drawn as uncertain, with a hover text
    page.click("#space input[value=pixel]")
    page.wait_for_function(f"() => ({MARKER})()[0] === 'uncertain'")
    assert page.evaluate(MARKER)[1] == "placement estimated; this vector is far from the data"
    assert "estimate" in page.evaluate(WARN)
    page.wait_for_function("() => document.getElementById('map-marker').style.display === 'block'")
    page.screenshot(path=str(ARTIFACTS / "browser-plaus-02-uncertain-marker.png"))
    # the path chart: both paths, one point per step, the shown mode (linear) highlighted
    page.wait_for_function(f"() => {{ const p = ({PATH})(); return p && p.length === 2; }}")
    lin, sph = page.evaluate(PATH)
    assert lin[:3] == ["linear (shown)", 12, 12] and sph[:3] == ["spherical", 12, 12] and lin[3] > sph[3]
    assert "Worst step" in page.inner_text("#plaus-path-note")
    page.click("#interp-mode input[value=spherical]")
    page.wait_for_function(f"() => ({PATH})()[1][0] === 'spherical (shown)'")
    lin, sph = page.evaluate(PATH)
    assert sph[3] > lin[3]
    # the strip's cells off the data have a border: as many as the chart's spherical steps not typical
    odd = page.evaluate(
        "() => document.querySelector('#plaus-path .js-plotly-plot').data[1].customdata"
        ".filter((v) => v !== 'typical').length"
    )
    cells = "() => document.querySelectorAll('#strip .ld-cell-off, #strip .ld-cell-unusual').length"
    page.wait_for_function(f"(n) => ({cells})() === n", arg=odd)
    assert odd > 0
    page.locator("#plaus-path-box").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-plaus-03-path-chart.png"))
    # 3-D (pixel PCA, estimated too): the figure's own marker trace is drawn hollow
    page.click("#dims input[value='3']")
    page.wait_for_function(f"() => ({SYMBOL3D})() === 'diamond-open'")


def test_browser_decoding_asks_for_the_plausibility_at_a_lower_rate(page, live_server):
    posts = []
    page.on(
        "request",
        lambda r: (
            posts.append(json.loads(r.post_data)["inputs"][0]["value"]["kind"])
            if "_dash-update-component" in r.url and "st-dragout" in (r.post_data or "")
            else None
        ),
    )
    open_page(page, live_server)
    wait_where(page, "browser")
    page.wait_for_function(f"() => ({VERDICT})() === 'typical'")
    frames0 = page.evaluate("window.latentdashOnnx.frames")
    hold_at_the_end_of_the_first_slider(page)
    page.wait_for_function(f"() => ({VERDICT})() === 'off'")  # still held
    assert not page.evaluate(HAS_Z)
    frames = page.evaluate("window.latentdashOnnx.frames") - frames0
    page.mouse.up()
    assert set(posts) == {"plaus"} and frames >= 3  # no image frame went to the server
    page.wait_for_function(HAS_Z)
