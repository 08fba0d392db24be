"""Decode anywhere and the manifold grid in a real headless Chromium (one page for the module):
a Shift-click on empty space of the 2-D map decodes that position into the sliders and marks it;
in "any position" mode a click on a point decodes its position instead of inspecting it; the grid
appears over the map and is recomputed after a zoom. Real models (conftest.py: pca-16, PCA maps)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from latentdash import imaging
from tests.test_browser import ARTIFACTS, GD, POINT_XY, open_page, query

pytestmark = pytest.mark.browser
MAP2 = "latent-pca-2d"

# the pixel (page coordinates) inside the points' bounding box farthest from every drawn point
EMPTY_SPOT = f"""() => {{ const gd = {GD}; const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
  const r = gd.getBoundingClientRect(); const P = [];
  gd._fullData.forEach(tr => {{ if (!tr.customdata || tr.visible !== true) return;
    for (let k = 0; k < tr.x.length; k++) P.push([xa.l2p(tr.x[k]), ya.l2p(tr.y[k])]); }});
  const xs = P.map(p => p[0]), ys = P.map(p => p[1]);
  const x0 = Math.max(Math.min(...xs), 10), x1 = Math.min(Math.max(...xs), xa._length - 10);
  const y0 = Math.max(Math.min(...ys), 10), y1 = Math.min(Math.max(...ys), ya._length - 10);
  let best = null;
  for (let px = x0; px <= x1; px += 6) for (let py = y0; py <= y1; py += 6) {{
    let m = Infinity; for (const q of P) {{ const d = Math.hypot(q[0] - px, q[1] - py); if (d < m) m = d; }}
    if (!best || m > best[2]) best = [px, py, m]; }}
  return [r.left + xa._offset + best[0], r.top + ya._offset + best[1], best[2], xa.p2l(best[0]), ya.p2l(best[1])]; }}"""
MARK_AT = """() => { const m = document.getElementById('any-mark');
  if (!m || m.style.display !== 'block') return null; const b = m.getBoundingClientRect();
  return [b.left + b.width / 2, b.top + b.height / 2, m.className]; }"""
GRID = """() => { const i = document.getElementById('any-grid');
  if (!i || i.style.display !== 'block' || !i.complete || !i.naturalWidth) return null;
  const b = i.getBoundingClientRect();
  return {x: i.dataset.x, y: i.dataset.y, src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight,
          box: [b.left, b.top, b.width, b.height]}; }"""
# where the grid's data ranges are on the page now (the axes' own l2p)
RANGE_BOX = f"""([x, y]) => {{ const gd = {GD}; const fl = gd._fullLayout, r = gd.getBoundingClientRect();
  const X = (v) => r.left + fl.xaxis._offset + fl.xaxis.l2p(v), Y = (v) => r.top + fl.yaxis._offset + fl.yaxis.l2p(v);
  return [X(x[0]), Y(y[1]), X(x[1]) - X(x[0]), Y(y[0]) - Y(y[1])]; }}"""
SLIDERS = (
    "() => Array.from(document.querySelectorAll('.ld-sliders [role=slider]'),"
    " t => parseFloat(t.getAttribute('aria-valuenow')))"
)


@pytest.fixture(scope="module")
def anypage(browser, live_server):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    errors = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    open_page(pg, live_server + f"?model=pca-16&map={MAP2}")
    yield pg
    ctx.close()
    assert errors == [], errors


def _png(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def _expected_sliders(catalog, z) -> list[float]:
    from latentdash.ui.handlers import slider_positions

    return slider_positions({"model": "pca-16", "basis": "dims", "z": [float(v) for v in z]}, catalog)


def test_a_shift_click_on_empty_space_decodes_there(anypage, explorers, catalog):
    page, ex = anypage, explorers[0]
    sliders0, img0 = page.evaluate(SLIDERS), page.get_attribute("#current-img", "src")
    x, y, gap, dx, dy = page.evaluate(EMPTY_SPOT)
    assert gap > 8, "no empty space on the map to click"
    page.mouse.move(x, y)
    page.wait_for_timeout(300)  # plotly's hover has seen the pointer (no point under it)
    page.keyboard.down("Shift")
    page.mouse.click(x, y)
    page.keyboard.up("Shift")
    page.wait_for_function("() => window.location.search.includes('at=')")
    q = query(page)
    at = np.asarray([float(v) for v in q["at"].split(",")])
    np.testing.assert_allclose(at, [dx, dy], rtol=1e-4, atol=1e-4 * float(np.ptp(ex.coords(MAP2))))
    assert q["sel"] == "0"  # the inspected point stays
    z = ex.unproject(at, MAP2)
    want = _expected_sliders(catalog, z)
    moved = f"(s0) => {{ const v = ({SLIDERS})(); return v.length === s0.length && v.some((s, k) => s !== s0[k]); }}"
    page.wait_for_function(moved, arg=sliders0)
    np.testing.assert_allclose(page.evaluate(SLIDERS), want, atol=0.03)  # the sliders hold the decoded vector
    # the current decode is decode(unproject(position))
    page.wait_for_function("(s) => document.getElementById('current-img').src !== s", arg=img0)
    got = _png(page.get_attribute("#current-img", "src"))
    assert np.abs(got.astype(int) - imaging.to_uint8(ex.decode(z)[0]).astype(int)).max() <= 1
    # the crosshair marks the clicked pixel, and the page says what kind of inverse this map has
    page.wait_for_function(f"() => ({MARK_AT})() !== null")
    mx, my, cls = page.evaluate(MARK_AT)
    assert abs(mx - x) <= 2 and abs(my - y) <= 2 and "ld-any-exact" in cls
    assert "the plane's mean-completion, not the point's code" in page.inner_text("#any-note")
    page.screenshot(path=str(ARTIFACTS / "anywhere-click.png"))


def test_in_any_position_mode_a_click_on_a_point_decodes_its_position(anypage, explorers):
    page, ex = anypage, explorers[0]
    page.locator("#click-mode label", has_text="any position").click()
    at0 = query(page)["at"]
    x, y, i = page.evaluate(POINT_XY, [2, 3])
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.wait_for_function("(a) => new URLSearchParams(window.location.search).get('at') !== a", arg=at0)
    q = query(page)
    at = np.asarray([float(v) for v in q["at"].split(",")])
    assert np.hypot(*(at - ex.coords(MAP2)[i])) < 0.01 * float(np.ptp(ex.coords(MAP2)))  # the point's position
    assert q["sel"] == "0" and page.inner_text("#ins-label").startswith("#0")  # not inspected
    page.locator("#click-mode label", has_text="inspected point").click()


def test_the_manifold_grid_appears_and_follows_a_zoom(anypage):
    page = anypage
    page.locator("#grid-on label", has_text="manifold grid").click()
    page.wait_for_function(f"() => ({GRID})() !== null")
    assert "grid=1" in page.url
    g0 = page.evaluate(GRID)
    x0, y0 = (list(map(float, g0[k].split(","))) for k in ("x", "y"))
    # the sprite sits on its data ranges and holds rows x cols images of 28 x 28
    np.testing.assert_allclose(g0["box"], page.evaluate(RANGE_BOX, [x0, y0]), atol=1.5)
    assert g0["w"] % 28 == 0 and g0["h"] % 28 == 0 and 120 <= (g0["w"] // 28) * (g0["h"] // 28) <= 170
    assert "Manifold grid" in page.inner_text("#grid-note")
    page.screenshot(path=str(ARTIFACTS / "anywhere-grid.png"))
    # zoom in (wheel over the middle of the plot): a new grid for the smaller region
    box = page.evaluate(f"() => {{ const gd = {GD}; const r = gd.getBoundingClientRect(), fl = gd._fullLayout;"
                        " return [r.left + fl.xaxis._offset + fl.xaxis._length / 2,"
                        " r.top + fl.yaxis._offset + fl.yaxis._length / 2]; }")  # fmt: skip
    page.mouse.move(*box)
    for _ in range(8):
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(60)
    page.wait_for_function(f"(s) => {{ const g = ({GRID})(); return g && g.src !== s; }}", arg=g0["src"])
    g1 = page.evaluate(GRID)
    x1, y1 = (list(map(float, g1[k].split(","))) for k in ("x", "y"))
    assert (x1[1] - x1[0]) * (y1[1] - y1[0]) < 0.7 * (x0[1] - x0[0]) * (y0[1] - y0[0])
    np.testing.assert_allclose(g1["box"], page.evaluate(RANGE_BOX, [x1, y1]), atol=1.5)
    page.wait_for_timeout(300)  # painted (a new data URI is decoded after it is set)
    page.screenshot(path=str(ARTIFACTS / "anywhere-grid-zoomed.png"))
    page.locator("#grid-on label", has_text="manifold grid").click()
    page.wait_for_function(f"() => ({GRID})() === null")
    assert "grid=1" not in page.url
