"""In a real headless Chromium: the box/lasso selection (the key added through the state schema),
the page's contract with the server, failed requests made visible, rounded slider values, and a
decoder-only generator shown as one. No timing assertions."""

from __future__ import annotations

import threading

import pytest

from tests.test_browser import ARTIFACTS, GD, SERVER_DECODING, hold_and_drag_first_slider, open_page, query

pytestmark = pytest.mark.browser
NOTE = "() => document.getElementById('selection-note').innerText"


def box_select(pg, frac=(0.2, 0.2, 0.5, 0.6)):
    """Choose the modebar's box select and drag a box over part of the 2-D map."""
    pg.hover(".ld-graph.ld-on .js-plotly-plot")
    pg.click(".ld-graph.ld-on .modebar-btn[data-val='select']")
    r = pg.evaluate(
        f"() => {{ const gd = {GD}; const fl = gd._fullLayout; const b = gd.getBoundingClientRect();"
        " return [b.left + fl.xaxis._offset, b.top + fl.yaxis._offset, fl.xaxis._length,"
        " fl.yaxis._length]; }"
    )
    x0, y0 = r[0] + frac[0] * r[2], r[1] + frac[1] * r[3]
    x1, y1 = r[0] + frac[2] * r[2], r[1] + frac[3] * r[3]
    pg.mouse.move(x0, y0)
    pg.mouse.down()
    for k in range(1, 11):
        pg.mouse.move(x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10)
        pg.wait_for_timeout(30)
    pg.mouse.up()


def test_box_selection_is_named_shared_and_cleared(browser, page, live_server):
    open_page(page, live_server)
    assert "Box or lasso select" in page.evaluate(NOTE)
    box_select(page)
    page.wait_for_function(f"() => ({NOTE})().includes('selected')", timeout=30_000)
    note = page.evaluate(NOTE)
    n = int(note.split()[0])
    assert n > 5
    page.wait_for_function("() => new URLSearchParams(location.search).has('selection')", timeout=30_000)
    # the overlays (the inspected point's ring) are not dimmed by the selection
    assert page.evaluate(
        f"() => {GD}._fullData.filter(t => !t.customdata && t.visible === true)"
        ".every(t => t.unselected.marker.opacity === 1)"
    )
    sel = query(page)["selection"]
    assert sum(int(b) - int(a) + 1 if b else 1 for a, _, b in (p.partition("-") for p in sel.split(","))) == n
    page.screenshot(path=str(ARTIFACTS / "browser-10-selection.png"))
    # the link restores it in another browser: the same count, drawn as plotly's selected points
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    open_page(other, page.url)
    other.wait_for_function(f"() => ({NOTE})().startsWith('{n} image')", timeout=30_000)
    drawn = other.evaluate(
        f"() => {GD}._fullData.filter(t => t.customdata)"
        ".reduce((s, t) => s + (t.selectedpoints ? t.selectedpoints.length : 0), 0)"
    )
    assert drawn == n
    other.context.close()
    # clearing it
    page.click("#btn-clear-selection")
    page.wait_for_function(f"() => ({NOTE})().startsWith('Box or lasso')", timeout=30_000)
    page.wait_for_function("() => !new URLSearchParams(location.search).has('selection')", timeout=30_000)
    page.wait_for_function(f"() => {GD}.data.filter(t => t.customdata).every(t => !t.selectedpoints)", timeout=30_000)


def test_the_page_reads_its_ids_from_the_server(page, live_server):
    open_page(page, live_server)
    ids = page.evaluate("() => window.latentdash.ids")
    from latentdash.ui.contract import component_ids

    assert ids == component_ids()
    assert page.evaluate("() => window.latentdash.contract.drag.output") == "st-dragout.data"


def test_a_failed_drag_request_is_shown_in_the_page(page, live_server):
    page.add_init_script(SERVER_DECODING)  # the server's drag path (decoding in the browser posts none)
    open_page(page, live_server)
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)

    def fail_drags(route):
        if b"st-dragout" in (route.request.post_data_buffer or b""):
            route.fulfill(status=503, body="unavailable")
        else:
            route.continue_()

    page.route("**/_dash-update-component", fail_drags)
    hold_and_drag_first_slider(page, 7)
    page.wait_for_function(
        "() => document.getElementById('client-message').innerText.includes('Live decoding failed')", timeout=30_000
    )
    page.mouse.up()
    assert "HTTP 503" in page.inner_text("#client-message")
    assert sum("Live decoding failed" in w for w in warnings) == 1  # logged once, not per frame
    page.unroute("**/_dash-update-component")
    page.errors.clear()  # the browser itself logs each failed request as an error


def test_slider_tooltips_show_rounded_values(page, live_server):
    open_page(page, live_server)
    thumb = page.locator(".ld-sliders [role=slider]").first
    thumb.hover()
    page.wait_for_selector(".rc-slider-tooltip-inner, .dash-slider-tooltip, [role=tooltip]", timeout=15_000)
    text = page.evaluate(
        "() => { const t = document.querySelector('.rc-slider-tooltip-inner, "
        ".dash-slider-tooltip, [role=tooltip]'); return t ? t.innerText : ''; }"
    ).strip()
    assert text and len(text.split(".")[-1]) <= 2 if "." in text else text.lstrip("-").isdigit(), text


@pytest.fixture(scope="module")
def generator_server(generator_explorer):
    import waitress

    from latentdash.server.app_factory import create_app

    srv = waitress.create_server(create_app(explorers=[generator_explorer]).server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{srv.effective_port}/"
    srv.close()


def test_a_generator_is_shown_as_a_generator(page, generator_server):
    open_page(page, generator_server)
    page.wait_for_function("() => document.getElementById('ins-orig-cap').innerText === 'sample'")
    assert page.inner_text("#ins-recon-cap") == "decoded"
    assert "reconstruction" not in page.inner_text("#ins-label")
    page.click("#colour")
    options = page.inner_text("#colour")
    assert "reconstruction error" not in options and "neighbourhood preservation" in options
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.getElementById('ins-recon').naturalWidth") == 16
    page.screenshot(path=str(ARTIFACTS / "browser-11-generator.png"))
