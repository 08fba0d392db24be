"""In a real headless Chromium: the latent-algebra panels (selection gallery and named groups,
attribute vector with its live strength drag, arithmetic, traversal grid, prior samples), driven
with the mouse where a user would use it, and their state in links and across a reload.
No timing assertions."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from tests.test_browser import ARTIFACTS, GD, SERVER_DECODING, click_point, open_page, query
from tests.test_browser_state import NOTE, box_select

pytestmark = pytest.mark.browser
FASHION = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
GAL_INFO = "() => (document.getElementById('gallery-info') || {}).innerText || ''"
GAL_COUNT = f"() => {{ const m = ({GAL_INFO})().match(/^(\\d+) images?, page/); return m ? parseInt(m[1]) : null; }}"
SLIDER_VALUES = (
    "() => Array.from(document.querySelectorAll('.ld-sliders [role=slider]'), "
    "(t) => parseFloat(t.getAttribute('aria-valuenow')))"
)
SRC_OF = "(id) => document.getElementById(id).src"
SRC_CHANGED = "([id, s]) => document.getElementById(id).src !== s"
HAS_PARAM = "(k) => new URLSearchParams(location.search).has(k)"
PLOT_AREA = (
    f"() => {{ const gd = {GD}; const fl = gd._fullLayout; const b = gd.getBoundingClientRect();"
    " return [b.left + fl.xaxis._offset, b.top + fl.yaxis._offset, fl.xaxis._length, fl.yaxis._length]; }"
)
MAP_GEOMETRY = (
    f"() => {{ const gd = {GD}; const fl = gd._fullLayout; const b = gd.getBoundingClientRect();"
    " return [b.left, b.top, b.width, b.height, fl.xaxis.range, fl.yaxis.range, window.scrollX, window.scrollY]; }"
)
ATTR_IMAGES = "() => ['attr-base', 'attr-edit'].map((id) => document.getElementById(id).src)"
TRAV_CELL = '[id*=\'"type":"trav-cell"\']'
PRIOR_CELL = '#prior-grid button[id*=\'"type":"prior-cell"\']'
COUNT_IS = "([sel, n]) => document.querySelectorAll(sel).length === n"
COUNT_ABOVE = "([sel, n]) => document.querySelectorAll(sel).length > n"
CELL_IMAGES = "(sel) => Array.from(document.querySelectorAll(sel), (b) => b.style.backgroundImage)"


def steady(pg, fn: str, arg=None, polls: int = 4, every_ms: int = 250, timeout_s: float = 45):
    """fn's value once it has stayed the same for `polls` polls in a row."""
    last, same, deadline = None, 0, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = pg.evaluate(fn, arg)
        same = same + 1 if now == last else 0
        if same >= polls:
            return now
        last = now
        pg.wait_for_timeout(every_ms)
    raise AssertionError(f"never settled: {last!r}")


def open_settled(pg, url: str) -> None:
    """open_page, then wait until the map stays put: the page's late-mounting controls (the model
    dropdown) and first redraws move the plot a few pixels after it is first drawn, which makes a
    mouse aimed at a point land on another one."""
    open_page(pg, url)
    pg.wait_for_selector("#model", timeout=30_000)
    steady(pg, MAP_GEOMETRY)


def lasso(pg, centre=(0.45, 0.5), radius=(0.14, 0.17), corners=7):
    """Choose the modebar's lasso and draw a closed polygon with the mouse over the 2-D map."""
    pg.hover(".ld-graph.ld-on .js-plotly-plot")
    pg.click(".ld-graph.ld-on .modebar-btn[data-val='lasso']")
    x0, y0, w, h = pg.evaluate(PLOT_AREA)
    pts = [
        (
            x0 + w * (centre[0] + radius[0] * math.cos(2 * math.pi * k / corners)),
            y0 + h * (centre[1] + radius[1] * math.sin(2 * math.pi * k / corners)),
        )
        for k in range(corners + 1)
    ]
    pg.mouse.move(*pts[0])
    pg.mouse.down()
    for (ax, ay), (bx, by) in zip(pts, pts[1:]):
        for s in range(1, 5):  # several moves along each edge, as a hand draws it
            pg.mouse.move(ax + (bx - ax) * s / 4, ay + (by - ay) * s / 4)
            pg.wait_for_timeout(15)
    pg.mouse.up()
    return pts


def inside_polygon(xy, poly):
    """Which of the points xy (n x 2) lie inside the polygon (k x 2): even-odd rule, numpy."""
    x, y = xy[:, 0][:, None], xy[:, 1][:, None]
    a, b = poly, np.roll(poly, -1, axis=0)
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) / (b[:, 1] - a[:, 1]) + a[:, 0]
    return ((crosses & (x < at)).sum(axis=1) % 2) == 1


def arith_button(slot: str) -> str:
    """'Set A/B/C <- current': a pattern id, rendered as JSON in the id attribute."""
    return f'[id*=\'"type":"arith-set"\'][id*=\'"index":"{slot}"\']'


def gallery_count(pg) -> int:
    """The selection's size as the gallery states it ("N images, page 1 of P")."""
    try:
        pg.wait_for_function(f"() => ({GAL_COUNT})() !== null", timeout=30_000)
    except Exception:
        pytest.fail(
            f"the gallery never showed a selection: {pg.evaluate(GAL_INFO)!r}; map note "
            f"{pg.inner_text('#selection-note')!r}; url {pg.url}"
        )
    return pg.evaluate(GAL_COUNT)


def selection_size(text: str) -> int:
    return sum(int(b) - int(a) + 1 if b else 1 for a, _, b in (p.partition("-") for p in text.split(",")))


def wait_for_data_src(pg, cid: str) -> str:
    pg.wait_for_function(f"() => document.getElementById('{cid}').src.startsWith('data:image/png')", timeout=30_000)
    return pg.evaluate(SRC_OF, cid)


def test_lasso_selects_exactly_the_points_inside_it(page, live_server, explorers):
    """The page's own box/lasso (assets/ld-3-map.js) selects what lies inside the drawn outline:
    the same set as a point-in-polygon test here on the atlas's own coordinates of that map, with
    the mouse's pixels turned into map coordinates by plotly's axes. Then a click without a drag
    clears it, and the points left out are dimmed only while there is a selection."""
    open_settled(page, live_server)
    pts = lasso(page, centre=(0.5, 0.45), radius=(0.2, 0.25), corners=9)
    n = gallery_count(page)
    rev = page.evaluate(f"() => {GD}.layout.uirevision")
    model, map_name = rev.split("|")[:2]
    ex = next(e for e in explorers if e.name == model)
    poly = np.array(
        page.evaluate(
            f"(pts) => {{ const gd = {GD}; const fl = gd._fullLayout; const b = gd.getBoundingClientRect();"
            " return pts.map(([x, y]) => [fl.xaxis.p2l(x - b.left - fl.xaxis._offset),"
            " fl.yaxis.p2l(y - b.top - fl.yaxis._offset)]); }",
            [list(p) for p in pts],
        )
    )
    want = np.flatnonzero(inside_polygon(ex.coords(map_name)[:, :2], poly))
    assert len(want) > 20 and n == len(want)
    page.wait_for_function(HAS_PARAM, arg="selection", timeout=30_000)
    # the server dims the points left out: each class trace shows exactly its selected points
    page.wait_for_function(f"() => {GD}.data.some((t) => Array.isArray(t.selectedpoints))", timeout=30_000)
    shown = page.evaluate(
        f"() => {GD}.data.filter((t) => t.customdata && Array.isArray(t.selectedpoints))"
        ".flatMap((t) => t.selectedpoints.map((k) => t.customdata[k]))"
    )
    assert sorted(shown) == want.tolist()
    # the outline stays on the map with the selection
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('.ld-graph.ld-on svg.ld-lasso')).display")
        == "block"
    )
    # a click without a drag in lasso mode clears the selection, its outline and the dimming
    x0, y0, w, h = page.evaluate(PLOT_AREA)
    page.mouse.click(x0 + 0.05 * w, y0 + 0.95 * h)
    page.wait_for_function(f"() => ({GAL_INFO})().startsWith('No selection')", timeout=30_000)
    page.wait_for_function(f"() => !{GD}.data.some((t) => Array.isArray(t.selectedpoints))", timeout=30_000)
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('.ld-graph.ld-on svg.ld-lasso')).display")
        == "none"
    )


def test_lasso_fills_the_gallery_and_saves_a_group(page, live_server):
    open_settled(page, live_server)
    assert page.evaluate(GAL_INFO).startswith("No selection")
    lasso(page)
    n = gallery_count(page)
    assert n > 5
    assert page.evaluate(GAL_INFO).startswith(f"{n} image")
    page.wait_for_function(HAS_PARAM, arg="selection", timeout=30_000)
    assert selection_size(query(page)["selection"]) == n
    thumbs = page.locator('#gal-thumbs button[id*=\'"type":"gal"\']')
    page.wait_for_function(
        "(k) => document.querySelectorAll('#gal-thumbs button').length === k", arg=min(n, 64), timeout=30_000
    )
    assert thumbs.count() == min(n, 64)
    # the page's own first-page preview (drawn at mouseup) made way for the server's gallery, and
    # showed the same images
    page.wait_for_function("() => !document.querySelector('#gal-preview').children.length", timeout=30_000)
    assert not page.evaluate("() => document.getElementById('gal-thumbs').classList.contains('ld-stale')")
    # the class histogram: known classes whose counts add up to the selection
    rows = page.locator("#gal-hist .ld-hist-row")
    assert rows.count() >= 1
    names = [rows.nth(k).locator(".ld-hist-name").inner_text() for k in range(rows.count())]
    counts = [int(rows.nth(k).locator(".ld-hist-n").inner_text()) for k in range(rows.count())]
    assert set(names) <= FASHION and sum(counts) == n
    for cid in ("gal-pixmean", "gal-decmean"):
        wait_for_data_src(page, cid)
    # a thumbnail inspects its image
    thumb = thumbs.nth(min(2, n - 1))
    i = int(thumb.get_attribute("title").split()[0].lstrip("#"))
    assert json.loads(thumb.get_attribute("id")) == {"type": "gal", "index": i}
    thumb.click()
    page.wait_for_function(
        "(i) => document.getElementById('ins-label').innerText.startsWith('#' + i + ' ')", arg=i, timeout=30_000
    )
    assert query(page)["sel"] == str(i)
    # saved under a typed name: a chip with the name and the count
    page.fill("#group-name", "my lasso")
    page.press("#group-name", "Enter")
    page.click("#btn-save-group")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#groups .ld-chip'), (c) => c.innerText)"
        ".some((t) => t.startsWith('my lasso'))",
        timeout=30_000,
    )
    chip = page.locator("#groups .ld-chip", has_text="my lasso").first
    assert chip.inner_text().strip() == f"my lasso ({n})"
    page.locator("#gal-thumbs").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-21-gallery.png"))


def test_dragging_the_strength_decodes_the_edit_live(page, live_server):
    posted = []
    page.on(
        "request",
        lambda r: (
            posted.append(r.post_data)
            if "_dash-update-component" in r.url and '"kind":"strength"' in (r.post_data or "")
            else None
        ),
    )
    page.add_init_script(SERVER_DECODING)  # the server's path (the browser's: test_browser_onnx.py)
    open_settled(page, live_server + "?dir=c7%3Ec9")
    src0 = wait_for_data_src(page, "attr-edit")
    page.wait_for_function("() => !document.getElementById('btn-attr-apply').disabled", timeout=30_000)
    handle = page.locator(".ld-strength [role=slider]")
    handle.scroll_into_view_if_needed()
    assert float(handle.get_attribute("aria-valuenow")) == 1
    box = handle.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 13):
        page.mouse.move(x0 + 6 * k, y0)
        page.wait_for_timeout(60)
    # still held: the edited image has followed the handle
    page.wait_for_function(SRC_CHANGED, arg=["attr-edit", src0], timeout=30_000)
    during = page.evaluate(SRC_OF, "attr-edit")
    assert during.startswith("data:image/png")
    assert float(handle.get_attribute("aria-valuenow")) > 1
    assert "strength" not in query(page)  # not committed while held
    page.mouse.up()
    assert posted, "no strength frame was posted while the handle moved"
    body = json.loads(posted[0])
    assert body["inputs"][0]["value"]["kind"] == "strength" and len(body["inputs"][0]["value"]["values"]) == 1
    page.wait_for_function(HAS_PARAM, arg="strength", timeout=30_000)
    s = float(query(page)["strength"])
    assert 1 < s <= 3 and query(page)["dir"] == "c7>c9"
    assert abs(float(handle.get_attribute("aria-valuenow")) - s) < 1e-6


def test_a_traversal_cell_loads_the_sliders(page, live_server):
    open_page(page, live_server + "?trav=1")
    page.wait_for_function(COUNT_ABOVE, arg=["#trav-grid " + TRAV_CELL, 0], timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.ld-sliders [role=slider]').length === 16")
    before = page.evaluate(SLIDER_VALUES)
    img0 = page.evaluate(SRC_OF, "current-img")
    assert "z" not in query(page) and query(page)["trav"] == "1"
    first_row = page.locator("#trav-grid .ld-trav-row:not(.ld-trav-head)").first
    cells = first_row.locator(TRAV_CELL)
    assert cells.count() == 9  # the default: 9 columns, -2 sigma .. +2 sigma
    last = cells.last
    spec, _, col = json.loads(last.get_attribute("id"))["index"].rpartition("|")
    assert spec.startswith("dim") and col == "8"
    last.scroll_into_view_if_needed()
    last.click()
    page.wait_for_function(HAS_PARAM, arg="z", timeout=30_000)
    page.wait_for_function(SRC_CHANGED, arg=["current-img", img0], timeout=30_000)
    page.wait_for_function(
        "(b) => { const v = Array.from(document.querySelectorAll('.ld-sliders [role=slider]'),"
        " (t) => parseFloat(t.getAttribute('aria-valuenow')));"
        " return v.some((x, k) => Math.abs(x - b[k]) > 0.05); }",
        arg=before,
        timeout=30_000,
    )
    after = page.evaluate(SLIDER_VALUES)
    moved = [k for k, (a, b) in enumerate(zip(after, before)) if abs(a - b) > 0.05]
    assert moved == [int(spec[3:])], (spec, moved)  # only the row's dimension moved
    sigma = float(first_row.locator(".ld-trav-label").get_attribute("title").split("=")[1])
    k = moved[0]
    assert after[k] - before[k] == pytest.approx(2 * sigma, abs=0.02 + 0.01 * sigma), (before[k], after[k], sigma)


def test_a_shared_link_restores_the_attribute_edit(browser, page, live_server):
    open_page(page, live_server + "?dir=c7%3Ec9&strength=2")
    wait_for_data_src(page, "attr-edit")
    base, src = steady(page, ATTR_IMAGES)
    assert float(page.get_attribute(".ld-strength [role=slider]", "aria-valuenow")) == 2
    assert "Sneaker" in page.inner_text("#attr-note") and "Ankle boot" in page.inner_text("#attr-note")
    url = page.url
    assert (query(page)["dir"], query(page)["strength"]) == ("c7>c9", "2")
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        open_page(other, url)
        wait_for_data_src(other, "attr-edit")
        assert steady(other, ATTR_IMAGES) == [base, src]  # the same current and edited image
        assert float(other.get_attribute(".ld-strength [role=slider]", "aria-valuenow")) == 2
    finally:
        other.context.close()
    # the preset for the same direction, from the UI: the direction stays, the strength is back at 1
    page.locator("#attr-presets button", has_text="Sneaker \u2192 Ankle boot").click()
    page.wait_for_function("() => !new URLSearchParams(location.search).has('strength')", timeout=30_000)
    page.wait_for_function(SRC_CHANGED, arg=["attr-edit", src], timeout=30_000)
    assert query(page)["dir"] == "c7>c9"
    assert float(page.get_attribute(".ld-strength [role=slider]", "aria-valuenow")) == 1


def test_prior_samples_reroll_and_load(page, live_server):
    open_page(page, live_server)
    page.locator("#prior-on input[type=checkbox]").check()
    page.wait_for_function(COUNT_IS, arg=[PRIOR_CELL, 16], timeout=30_000)
    assert query(page)["prior"] == "1"
    imgs0 = page.evaluate(CELL_IMAGES, PRIOR_CELL)
    assert all(s.startswith('url("data:image/png') for s in imgs0)
    page.get_by_role("button", name="Re-roll").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('pseed') === '1'", timeout=30_000)
    page.wait_for_function(
        "([sel, old]) => { const now = Array.from(document.querySelectorAll(sel), (b) => b.style.backgroundImage);"
        " return now.length === old.length && now.some((s, k) => s !== old[k]); }",
        arg=[PRIOR_CELL, imgs0],
        timeout=30_000,
    )
    imgs1 = page.evaluate(CELL_IMAGES, PRIOR_CELL)
    assert sum(a != b for a, b in zip(imgs0, imgs1)) >= 12  # a new draw, not one changed cell
    assert page.input_value("#prior-seed") == "1"
    img0 = page.evaluate(SRC_OF, "current-img")
    assert "z" not in query(page)
    page.locator(PRIOR_CELL).nth(5).click()
    page.wait_for_function(SRC_CHANGED, arg=["current-img", img0], timeout=30_000)
    page.wait_for_function(HAS_PARAM, arg="z", timeout=30_000)


def test_arithmetic_of_three_points(page, live_server):
    open_settled(page, live_server)
    eq = "() => document.getElementById('arith-eq').innerText"
    picked = []
    for slot, (trace, k) in zip("abc", ((9, 4), (7, 4), (5, 4))):
        click_point(page, trace, k)
        i = int(page.inner_text("#ins-label").split()[0].lstrip("#"))
        picked.append(i)
        page.click(arith_button(slot))
        page.wait_for_function(
            "([s, i]) => document.getElementById('arith-eq').innerText.includes(s + ': #' + i + ' ')",
            arg=[slot.upper(), i],
            timeout=30_000,
        )
        assert query(page)["ar" + slot.upper()] == str(i)
    assert len(set(picked)) == 3
    page.wait_for_function(f"() => ({eq})().includes('nearest real')", timeout=30_000)
    text = page.evaluate(eq)
    assert "decoded" in text and "not set" not in text
    assert page.locator("#arith-eq img.ld-result").get_attribute("src").startswith("data:image/png")
    page.wait_for_function("() => !document.getElementById('btn-arith-load').disabled", timeout=30_000)
    img0 = page.evaluate(SRC_OF, "current-img")
    page.click("#btn-arith-load")
    page.wait_for_function(SRC_CHANGED, arg=["current-img", img0], timeout=30_000)
    page.wait_for_function(HAS_PARAM, arg="z", timeout=30_000)
    page.locator("#arith-eq").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-22-arithmetic.png"))


def test_set_a_on_a_fresh_page_names_the_inspected_image(page, live_server):
    """The sliders sit on the inspected image (#0) when a page opens: 'Set A' takes that image,
    not an anonymous vector."""
    open_settled(page, live_server)
    assert page.inner_text("#ins-label").startswith("#0 ") and "z" not in query(page)
    page.click(arith_button("a"))
    page.wait_for_function("() => document.getElementById('arith-eq').innerText.includes('A: ')", timeout=30_000)
    assert "A: #0 " in page.inner_text("#arith-eq")
    assert query(page)["arA"] == "0"


def test_a_large_selection_survives_a_reload(page, live_server):
    """A box over most of the map: too many index ranges for the link (selection=~), so the page's
    local storage keeps it, and a reload shows the same selection."""
    open_settled(page, live_server)
    box_select(page, (0.02, 0.02, 0.6, 0.98))
    n = gallery_count(page)
    assert n > 500
    page.wait_for_function(HAS_PARAM, arg="selection", timeout=30_000)
    assert query(page)["selection"] == "~"
    assert "too large for a link" in page.evaluate(GAL_INFO)
    page.reload()
    page.wait_for_function(f"() => ({GAL_COUNT})() === {n}", timeout=30_000)
    assert "too large for a link" in page.evaluate(GAL_INFO)
    assert page.evaluate("() => document.querySelectorAll('#gal-thumbs button').length") == 64
    assert query(page)["selection"] == "~"
    page.wait_for_function(f"() => ({NOTE})().startsWith('{n} image')", timeout=30_000)


def test_screenshot_of_the_filled_panels(page, live_server):
    """Every panel filled from one link: a selection, a direction, the operands, the traversal
    grid and the prior samples."""
    open_page(
        page,
        live_server + "?sel=12&selection=0-99&dir=c7%3Ec9&strength=1.5&arA=9&arB=7&arC=5&trav=1&prior=1",
    )
    page.wait_for_function(f"() => ({GAL_COUNT})() === 100", timeout=30_000)
    wait_for_data_src(page, "attr-edit")
    page.wait_for_function("() => document.getElementById('arith-eq').innerText.includes('nearest real')")
    page.wait_for_function(COUNT_IS, arg=["#trav-grid " + TRAV_CELL, 72], timeout=30_000)
    page.wait_for_function(COUNT_IS, arg=[PRIOR_CELL, 16], timeout=30_000)
    page.wait_for_timeout(500)
    assert page.inner_text("#message").strip() == ""
    page.screenshot(path=str(ARTIFACTS / "browser-20-algebra.png"), full_page=True)


def test_the_first_gallery_page_is_drawn_at_mouseup_with_the_servers_images(page, live_server):
    """The page draws the selection's first page itself from plotly's event (no round trip), then
    the server's gallery replaces it: the same images in the same order."""
    open_settled(page, live_server)
    page.evaluate(
        "() => { window.__preview = null; new MutationObserver(() => {"
        " const imgs = [...document.querySelectorAll('#gal-preview img')];"
        " if (imgs.length && !window.__preview) { window.__preview = imgs.map(i => i.getAttribute('src')); }"
        " }).observe(document.getElementById('gal-preview'), {childList: true}); }"
    )
    lasso(page)
    page.wait_for_function("() => window.__preview !== null", timeout=30_000)
    gallery_count(page)
    page.wait_for_function("() => !document.querySelector('#gal-preview').children.length", timeout=30_000)
    server = page.evaluate(
        "() => [...document.querySelectorAll('#gal-thumbs button')].map(b => b.style.backgroundImage"
        ".replace(/^url\\(\"?/, '').replace(/\"?\\)$/, ''))"
    )
    assert page.evaluate("() => window.__preview") == server[: len(server)]
