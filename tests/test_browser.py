"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright).

One server (a thread on a free port, real models and atlases) and one browser for the session.
Screenshots go to test-artifacts/. No timing assertions here: speed is measured in bench/.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# the server's drag path, for tests of it: decoding in the browser (ld-6-onnx.js) switched off
SERVER_DECODING = "window.localStorage.setItem('latentdash.decode', 'server')"
GD = "document.querySelector('.ld-graph.ld-on .js-plotly-plot')"  # the graph on show (2-D or 3-D)
MAP_READY = f"() => {{ const gd = {GD}; return gd && gd._fullData && gd._fullData.length > 5; }}"
IMG_READY = "() => document.getElementById('current-img').src.startsWith('data:image/png')"
# pixel position (page coordinates) of point k of 2-D trace t, and its point id
POINT_XY = f"""([t, k]) => {{ const gd = {GD}; const fl = gd._fullLayout, tr = gd._fullData[t];
  const r = gd.getBoundingClientRect();
  return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[k]), r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[k]),
          tr.customdata[k]]; }}"""
# ids of every point drawn within `rad` px of (x, y): the ones a click there may pick
POINTS_NEAR = f"""([x, y, rad]) => {{ const gd = {GD}; const fl = gd._fullLayout;
  const r = gd.getBoundingClientRect(); const out = [];
  gd._fullData.forEach(tr => {{ if (!tr.customdata || tr.visible !== true) return;
    for (let k = 0; k < tr.x.length; k++) {{
      const px = r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[k]);
      const py = r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[k]);
      if (Math.hypot(px - x, py - y) <= rad) out.push(tr.customdata[k]); }} }});
  return out; }}"""
# pixel position of point k of 3-D trace t (plotly's own projection, as for its hover label)
POINT_XY_3D = f"""([t, k]) => {{ const gd = {GD}; const sc = gd._fullLayout.scene._scene;
  const cp = sc.glplot.cameraParams, ds = sc.dataScale, tr = gd._fullData[t];
  const xf = (m, v) => {{ const o = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) o[j] += m[4 * i + j] * v[i]; return o; }};
  const p = xf(cp.projection, xf(cp.view, xf(cp.model, [tr.x[k] * ds[0], tr.y[k] * ds[1], tr.z[k] * ds[2], 1])));
  const r = sc.glplot.canvas.getBoundingClientRect();
  return [r.left + (0.5 + 0.5 * p[0] / p[3]) * r.width, r.top + (0.5 - 0.5 * p[1] / p[3]) * r.height,
          tr.customdata[k]]; }}"""
# the 3-D 'selected' ring sits on point i (the figure update for a selection has been drawn)
SELECTED_RING_3D = f"""(i) => {{ const gd = {GD}; const ring = gd._fullData.find(t => t.name === 'selected');
  if (!ring || !ring.x || ring.x.length !== 1) return false;
  for (const tr of gd._fullData) {{ if (!tr.customdata) continue;
    const k = Array.from(tr.customdata).indexOf(i);
    const near = (a, b) => Math.abs(a - b) <= 1e-3 * (1 + Math.abs(a));   // float32 map, rounded ring
    if (k >= 0) return near(tr.x[k], ring.x[0]) && near(tr.y[k], ring.y[0]) && near(tr.z[k], ring.z[0]); }}
  return false; }}"""
TRACE = (
    f"(name) => {{ const t = {GD}._fullData.find(t => t.name === name); return [Array.from(t.x), Array.from(t.y)]; }}"
)


PLOT_BOX = (
    f"() => {{ const gd = {GD}; if (!gd) return null; const b = gd.getBoundingClientRect();"
    " return [b.left, b.top, b.width, b.height].map(Math.round).join(','); }"
)


def open_page(page, url):
    page.goto(url)
    page.wait_for_function(MAP_READY, timeout=30_000)
    page.wait_for_function(IMG_READY, timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.ld-slider-label').length > 0", timeout=30_000)
    # then until the map stays put: late-mounting controls (the model dropdown) move it a few
    # pixels after its first draw, and a mouse aimed at a point would land on another one
    page.wait_for_selector("#model", timeout=30_000)
    last, same = None, 0
    for _ in range(120):
        now = page.evaluate(PLOT_BOX)
        same = same + 1 if now == last else 0
        if same >= 3:
            break
        last = now
        page.wait_for_timeout(200)


SELECTED_IS = (
    "(ids) => { const m = document.getElementById('ins-label').innerText.match(/#(\\d+)/);"
    " return m && ids.includes(parseInt(m[1])); }"
)


def click_point(page, trace: int, k: int) -> set:
    """Click point k of class trace `trace`; returns the ids a click there may select. A click
    that lands while the map is redrawing can be dropped by plotly, so it is tried up to 3 times,
    each time at the point's position then (a control mounting late can shift the page a little)."""
    for attempt in range(3):
        x, y, _ = page.evaluate(POINT_XY, [trace, k])
        near = set(page.evaluate(POINTS_NEAR, [x, y, 4]))
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        try:
            page.wait_for_function(SELECTED_IS, arg=sorted(near), timeout=15_000)
            break
        except Exception:
            if attempt == 2:
                raise
    page.wait_for_timeout(300)  # let the highlight patch land before the next action
    return near


def hold_and_drag_first_slider(page, moves: int) -> None:
    """Press the first latent slider's handle and move it right in `moves` steps (still held)."""
    box = page.locator(".ld-sliders [role=slider]").first.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, moves + 1):
        page.mouse.move(x0 + 6 * k, y0)
        page.wait_for_timeout(60)


def selected(page) -> int:
    return int(page.inner_text("#ins-label").split()[0].lstrip("#"))


def query(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_page_loads_without_console_errors(page, live_server):
    open_page(page, live_server)
    assert page.title() == "latentdash Explorer"
    assert page.inner_text("#ins-label").startswith("#0")
    assert len(page.query_selector_all("#ins-nbrs button")) == 8
    assert page.evaluate(f"() => {GD}._fullData[0].type") == "scattergl"
    for hint in ("Scroll to zoom", "Drag a slider", "Pick endpoints A and B"):
        assert hint in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "browser-01-initial.png"))


def test_click_point_shows_reconstruction(page, live_server):
    open_page(page, live_server)
    recon0 = page.get_attribute("#ins-recon", "src")
    near = click_point(page, 3, 10)
    i = selected(page)
    assert i in near and query(page)["sel"] == str(i)
    page.wait_for_function("(s) => document.getElementById('ins-recon').src !== s", arg=recon0, timeout=30_000)
    assert page.get_attribute("#ins-recon", "src").startswith("data:image/png;base64,")
    assert page.evaluate("() => document.getElementById('ins-recon').naturalWidth") == 28
    # the point is highlighted on the map
    xs, ys = page.evaluate(TRACE, "selected")
    x, y, _ = page.evaluate(POINT_XY, [3, 10])
    assert len(xs) == 1
    # neighbours are clickable thumbnails that select their point
    nb = page.query_selector_all("#ins-nbrs button")[0]
    nb_id = int(nb.get_attribute("title").split()[0].lstrip("#"))
    nb.click()
    page.wait_for_function(f"() => document.getElementById('ins-label').innerText.startsWith('#{nb_id} ')")
    page.screenshot(path=str(ARTIFACTS / "browser-02-clicked.png"))


def test_dragging_a_slider_decodes_while_moving(page, live_server):
    page.add_init_script(SERVER_DECODING)  # the server's path (the browser's: test_browser_onnx.py)
    open_page(page, live_server)
    page.evaluate("""() => { window.__srcs = new Set();
        new MutationObserver(() => window.__srcs.add(document.getElementById('current-img').src))
          .observe(document.getElementById('current-img'), {attributes: true, attributeFilter: ['src']}); }""")
    marker_pos = (
        "() => { const m = document.getElementById('map-marker');"
        " return [m.style.display, m.style.left, m.style.top]; }"
    )
    page.wait_for_function("() => document.getElementById('map-marker').style.display === 'block'")
    marker0 = page.evaluate(marker_pos)
    hold_and_drag_first_slider(page, 15)
    during = page.evaluate("() => window.__srcs.size")
    marker_mid = page.evaluate(marker_pos)
    page.screenshot(path=str(ARTIFACTS / "browser-03-dragging.png"))
    page.mouse.up()
    assert during >= 3, f"only {during} decoded frames while the handle moved"
    assert marker_mid[0] == "block" and marker_mid[1:] != marker0[1:]  # the marker follows on the map
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)
    # reset brings back the selected point's reconstruction
    page.click("#btn-reset")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('z')", timeout=30_000)
    page.click("#btn-random")
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)


def test_two_endpoints_show_strip_and_path(page, live_server):
    open_page(page, live_server)
    click_point(page, 1, 5)
    a = selected(page)
    page.click("#btn-set-a")
    click_point(page, 7, 5)
    b = selected(page)
    page.click("#btn-set-b")
    page.wait_for_function("() => document.querySelectorAll('#strip button').length === 8", timeout=30_000)
    assert len(page.query_selector_all("#blend img")) == 8
    page.wait_for_function(f"() => {GD}._fullData.find(t => t.name === 'path').x.length === 8")
    q = query(page)
    assert (q["a"], q["b"]) == (str(a), str(b))
    # a step goes into the sliders
    before = page.get_attribute("#current-img", "src")
    page.locator("#strip button").nth(3).click()
    page.wait_for_function("(s) => document.getElementById('current-img').src !== s", arg=before)
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)
    page.locator("#strip").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-04-interpolation.png"))
    # from the map directly: 'Click sets' endpoint A, then the mode moves on to B
    page.click("text=endpoint A")
    click_point_any(page, 4, 3)
    page.wait_for_function("() => document.querySelector('#click-mode input[value=b]').checked")
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('a') !== '{a}'")


def click_point_any(page, trace, k):
    x, y, _ = page.evaluate(POINT_XY, [trace, k])
    page.mouse.click(x, y)


def test_shared_url_restores_the_view(browser, page, live_server):
    url = (
        live_server + "?model=pca-16&map=pixel-pca-2d&color=recon&sel=33&a=4&b=44&steps=5"
        "&mode=spherical&z=" + ",".join(["0.5"] * 16) + "&cam=-4,4,-3,3"
    )
    open_page(page, url)
    page.wait_for_function("() => document.querySelectorAll('#strip button').length === 5", timeout=30_000)
    assert selected(page) == 33
    assert page.is_checked("#space input[value=pixel]") and page.is_checked("#interp-mode input[value=spherical]")
    rng = page.evaluate(f"() => [{GD}._fullLayout.xaxis.range, {GD}._fullLayout.yaxis.range]")
    # equal-aspect axes may widen one range to keep the scale; the requested box stays in view
    assert rng[0][0] <= -4 + 1e-6 and rng[0][1] >= 4 - 1e-6 and rng[1][0] <= -3 + 1e-6 and rng[1][1] >= 3 - 1e-6
    assert page.evaluate(f"() => {GD}._fullData[0].marker.showscale") is True
    page.screenshot(path=str(ARTIFACTS / "browser-05-shared-url.png"))
    # same URL, another browser profile: same view
    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_page(other, url)
    other.wait_for_function("() => document.querySelectorAll('#strip button').length === 5", timeout=30_000)
    assert selected(other) == 33
    assert other.get_attribute("#current-img", "src") == page.get_attribute("#current-img", "src")
    other.context.close()


def test_back_and_forward(page, live_server):
    open_page(page, live_server)
    click_point(page, 2, 4)
    first = selected(page)
    click_point(page, 8, 4)
    second = selected(page)
    assert first != second
    page.go_back()
    page.wait_for_function(f"() => document.getElementById('ins-label').innerText.startsWith('#{first} ')")
    page.go_forward()
    page.wait_for_function(f"() => document.getElementById('ins-label').innerText.startsWith('#{second} ')")


def test_switch_3d_colour_and_model(page, live_server):
    open_page(page, live_server)
    page.click("#dims input[value='3']")
    page.wait_for_function(f"() => {GD}._fullData[0].type === 'scatter3d'", timeout=30_000)
    assert "map=latent-pca-3d" in page.url
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "browser-06-3d.png"))
    page.click("#dims input[value='2']")
    page.wait_for_function(f"() => {GD}._fullData[0].type === 'scattergl'", timeout=30_000)
    page.click("#model")
    page.click("text=pca-2")
    page.wait_for_function("() => document.querySelectorAll('.ld-slider-label').length === 2", timeout=30_000)
    assert "model=pca-2" in page.url and "map=latent-raw-2d" in page.url


def test_modern_browser_skips_dash_polyfill(page, live_server):
    """Chromium has everything core-js 2 adds: only the regenerator runtime is loaded."""
    urls = []
    page.on("request", lambda r: urls.append(r.url))
    open_page(page, live_server)
    assert any("vendor/regenerator-runtime.js" in u for u in urls)
    assert not any("polyfill@" in u for u in urls)
    assert page.evaluate("() => typeof regeneratorRuntime.mark") == "function"


def test_older_browser_still_gets_dash_polyfill(browser, live_server):
    """A browser missing an ES2019 method gets Dash's full polyfill first, and the page works."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.add_init_script("delete Array.prototype.flatMap;")
    pg = ctx.new_page()
    errors, urls = [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("request", lambda r: urls.append(r.url))
    try:
        open_page(pg, live_server)
        assert any("polyfill@" in u for u in urls)
        assert pg.evaluate("() => typeof Array.prototype.flatMap") == "function"  # put back by core-js
        assert errors == [], errors
    finally:
        ctx.close()


def test_3d_hover_quick_click_and_drag(page, live_server):
    """In 3-D (plotly's gl3d, with latentdash's patches: on-demand pick buffers, quick clicks):
    hovering a point shows its thumbnail, a press-and-release with no pause selects that point,
    and a drag rotates the camera without selecting anything."""
    open_page(page, live_server)
    page.click("#dims input[value='3']")
    page.wait_for_function(f"() => {GD}._fullData[0].type === 'scatter3d'", timeout=30_000)
    page.wait_for_timeout(500)
    before = selected(page)
    page.evaluate(f"() => {GD}.on('plotly_hover', (d) => {{ window.__hov = d.points[0].customdata; }})")
    # screen positions of a few points of a class trace, projected as plotly's hover label does
    for k in range(0, 60, 6):
        x, y, _ = page.evaluate(POINT_XY_3D, [3, k])
        page.evaluate("() => { window.__hov = null; }")
        page.mouse.move(x - 25, y - 25)
        page.mouse.move(x, y)
        try:
            page.wait_for_function("() => typeof window.__hov === 'number'", timeout=3_000)
        except Exception:
            continue  # hidden behind another point's square: next one
        hovered = page.evaluate("() => window.__hov")
        if hovered != before:
            break
    else:
        pytest.fail("no 3-D point answered the mouse")
    page.wait_for_function(
        "(i) => document.getElementById('map-tip-label').innerText.startsWith('#' + i + ' ')",
        arg=hovered,
        timeout=30_000,
    )
    page.mouse.down()
    page.mouse.up()  # no pause: press and release inside one frame
    page.wait_for_function(SELECTED_IS, arg=[hovered], timeout=30_000)
    assert query(page)["sel"] == str(hovered)
    # let the selection's figure update land first: plotly resets a 3-D camera that a redraw
    # finds in mid-rotation (a drag then starts again from where the figure says)
    page.wait_for_function(SELECTED_RING_3D, arg=hovered, timeout=30_000)
    page.wait_for_timeout(300)
    cam = query(page).get("cam")
    page.mouse.move(x + 120, y + 120)  # a drag rotates and never selects, even from a point
    page.mouse.down()
    for d in range(1, 9):
        page.mouse.move(x + 120 - 15 * d, y + 120)
    page.mouse.up()
    page.wait_for_function(
        "(cam) => { const m = location.search.match(/[?&]cam=([^&]*)/); "
        "return m !== null && decodeURIComponent(m[1]) !== cam; }",
        arg=cam,
        timeout=30_000,
    )
    assert selected(page) == hovered
    page.screenshot(path=str(ARTIFACTS / "browser-06c-3d-click.png"))


def test_idle_page_prefetches_3d_so_switching_is_a_toggle(page, live_server):
    """Left alone, the page draws the 3-D sibling into the hidden graph; 2-D -> 3-D then shows it
    without sending a figure, and a click on the (hidden) other graph never reaches the state."""
    open_page(page, live_server)
    page.wait_for_function(
        "() => { const gd = document.querySelector('#map3d .js-plotly-plot'); "
        "return gd && gd._fullData && gd._fullData.length > 5 "
        "&& gd._fullData[0].type === 'scatter3d'; }",
        timeout=60_000,
    )
    assert page.evaluate("() => document.getElementById('map3d-box').classList.contains('ld-on')") is False
    sizes = []
    page.on(
        "response",
        lambda r: (
            sizes.append(len(r.body()))
            if "_dash-update-component" in r.url and "map3d.figure" in (r.request.post_data or "")
            else None
        ),
    )
    page.click("#dims input[value='3']")
    page.wait_for_function(f"() => {GD}._fullData[0].type === 'scatter3d'", timeout=30_000)
    page.wait_for_timeout(300)
    assert page.evaluate("() => document.getElementById('map-box').classList.contains('ld-on')") is False
    assert sizes and max(sizes) < 20_000  # a patch of the overlays at most, not 2,000 points
    page.screenshot(path=str(ARTIFACTS / "browser-06b-3d-prefetched.png"))
    page.click("#dims input[value='2']")
    page.wait_for_function(f"() => {GD}._fullData[0].type === 'scattergl'", timeout=30_000)


def test_hover_shows_thumbnail(page, live_server):
    open_page(page, live_server)
    x, y, i = page.evaluate(POINT_XY, [5, 2])
    page.mouse.move(x - 30, y - 30)
    page.mouse.move(x, y)
    page.wait_for_function("() => document.getElementById('map-tip-img').src.includes('/thumb/')", timeout=30_000)
    page.wait_for_function("() => document.getElementById('map-tip-img').naturalWidth === 28", timeout=30_000)
    assert "#" in page.inner_text("#map-tip-label")
    page.screenshot(path=str(ARTIFACTS / "browser-07-hover.png"))


def test_bad_link_shows_message_not_error(page, live_server):
    open_page(page, live_server + "?model=pca-16&sel=999999&steps=77&z=1,2")
    page.wait_for_function("() => document.getElementById('message').innerText.includes('Ignored')")
    assert selected(page) == 0


def test_camera_survives_colour_change_and_goes_into_the_url(page, live_server):
    open_page(page, live_server)
    page.evaluate(f"() => Plotly.relayout({GD}, {{'xaxis.range': [-2, 2], 'yaxis.range': [-1.5, 1.5]}})")
    page.wait_for_function("() => new URLSearchParams(location.search).has('cam')")
    n_history = page.evaluate("() => history.length")
    page.click("#colour")
    page.get_by_text("reconstruction error", exact=True).click()
    page.wait_for_function(f"() => {GD}._fullData[0].marker.showscale === true")
    rng = page.evaluate(f"() => {GD}._fullLayout.xaxis.range")
    assert rng[0] <= -2 + 1e-6 and rng[1] >= 2 - 1e-6 and rng[1] - rng[0] < 8  # not reset
    assert query(page)["color"] == "recon" and "cam" in query(page)
    assert page.evaluate("() => history.length") == n_history + 1  # colour: one entry; camera: none
    page.screenshot(path=str(ARTIFACTS / "browser-08-zoomed-recolored.png"))
