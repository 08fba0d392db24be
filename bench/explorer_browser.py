"""The headless-Chromium half of bench_explorer.py: first map over fresh loads, payload, 2-D/3-D
and method switches (warm and cold), and the slider-drag frame rate, against a running server."""

from __future__ import annotations

import time

import numpy as np

CHROMIUM = "/usr/bin/chromium"
GD = "document.querySelector('.ld-graph.ld-on .js-plotly-plot')"  # the graph on show (2-D or 3-D)
MAP_DRAWN = (
    f"() => {{ const gd = {GD}; return gd && gd._fullData && gd._fullData.length > 5 "
    f"&& gd._fullData[0].x && gd._fullData[0].x.length > 0; }}"
)
PREFETCHED = (
    "() => { const gd = document.querySelector('#map3d .js-plotly-plot'); "
    "return gd && gd._fullData && gd._fullData.length > 5 && gd._fullData[0].type === 'scatter3d'; }"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def bench_browser(base):
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        # first map: a fresh browser context per load (empty cache, like a first visit), 5 loads
        loads = []
        for _ in range(5):
            c = b.new_context(viewport={"width": 1440, "height": 900})
            p = c.new_page()
            p.goto(base)
            p.wait_for_function(MAP_DRAWN, timeout=120_000)
            loads.append(p.evaluate("() => performance.now()") / 1000.0)
            c.close()
        out["first_map_loads_s"] = loads
        ctx = b.new_context(viewport={"width": 1440, "height": 900})
        pg = ctx.new_page()
        sizes = {"js/css": 0, "data": 0, "other": 0}
        cb_bytes = []

        def on_response(resp):
            try:
                body = resp.body()
            except Exception:
                return
            url = resp.url
            if "_dash-update-component" in url or "_dash-layout" in url or "_dash-dependencies" in url:
                sizes["data"] += len(body)
                cb_bytes.append(len(body))
            elif url.endswith((".js", ".css")) or ".js?" in url or ".css?" in url:
                sizes["js/css"] += len(body)
            else:
                sizes["other"] += len(body)

        pg.on("response", on_response)
        errors = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.goto(base)
        pg.wait_for_function(MAP_DRAWN, timeout=120_000)
        out["first_map_s"] = pg.evaluate("() => performance.now()") / 1000.0
        out["timeline"] = pg.evaluate("""() => performance.getEntriesByType('resource')
            .filter(e => e.name.includes('_dash') || e.name.includes('plotly'))
            .map(e => [e.name.split('/').pop().split('?')[0], +(e.startTime/1000).toFixed(3),
                       +(e.responseEnd/1000).toFixed(3), e.encodedBodySize])""")
        pg.wait_for_function("() => document.getElementById('current-img').src.startsWith('data:')")
        pg.wait_for_timeout(1500)
        out["payload"] = dict(sizes)
        # stop reading response bodies: fetching a 1-2 MB body over the devtools pipe runs in this
        # thread and would delay the polls that time the switches below
        pg.remove_listener("response", on_response)
        out["largest_data_response"] = max(cb_bytes) if cb_bytes else 0
        out["points"] = pg.evaluate(f"() => {GD}._fullData.reduce((a, t) => a + (t.customdata ? t.x.length : 0), 0)")

        def switch(selector, check):
            t = time.perf_counter()
            pg.click(selector)
            pg.wait_for_function(check, timeout=60_000)
            return time.perf_counter() - t

        # the page draws the 3-D sibling of the shown map into a hidden graph once it is idle; a
        # user looking at the map for a few seconds then finds 2-D <-> 3-D a toggle ("warm")
        pg.wait_for_function(PREFETCHED, timeout=60_000)
        out["prefetch_done_s"] = pg.evaluate("() => performance.now()") / 1000.0
        pg.wait_for_timeout(1000)
        out["switch_3d_s"] = switch("#dims input[value='3']", f"() => {GD}._fullData[0].type === 'scatter3d'")
        pg.wait_for_timeout(1000)
        out["switch_2d_s"] = switch("#dims input[value='2']", f"() => {GD}._fullData[0].type === 'scattergl'")
        pg.wait_for_timeout(1000)
        methods = pg.eval_on_selector_all("#method input", "els => els.filter(e => !e.disabled).map(e => e.value)")
        out["switch_method_s"] = {}
        for m in methods[1:] + methods[:1]:  # e.g. pca -> tsne -> umap -> pca
            out["switch_method_s"][m] = switch(
                f"#method input[value='{m}']", f"() => {GD}.layout.uirevision.includes('-{m}-')"
            )
            pg.wait_for_timeout(2500)
        # cold: a new method, then straight to 3-D before its sibling was drawn in the background
        if len(methods) > 1:
            m = methods[1]
            switch(f"#method input[value='{m}']", f"() => {GD}.layout.uirevision.includes('-{m}-')")
            # the hidden 3-D graph still holds an older 3-D map: wait for this method's
            out["switch_3d_cold_s"] = switch(
                "#dims input[value='3']",
                f"() => {GD}._fullData[0].type === 'scatter3d' && {GD}.layout.uirevision.includes('-{m}-')",
            )
            pg.wait_for_timeout(1000)
            out["switch_2d_cold_s"] = switch(
                "#dims input[value='2']",
                f"() => {GD}._fullData[0].type === 'scattergl' && {GD}.layout.uirevision.includes('-{m}-')",
            )
            m = methods[0]
            switch(f"#method input[value='{m}']", f"() => {GD}.layout.uirevision.includes('-{m}-')")
            pg.wait_for_timeout(2500)
        if pg.is_enabled("#space input[value=pixel]"):
            out["switch_space_s"] = switch(
                "#space input[value=pixel]", f"() => {GD}.layout.uirevision.includes('pixel-')"
            )
            switch("#space input[value=latent]", f"() => {GD}.layout.uirevision.includes('latent-')")
        out["colour_s"] = None
        # slider drag: count decoded frames while the handle moves for ~4 s
        pg.evaluate("""() => { window.__frames = 0; new MutationObserver(() => window.__frames++)
            .observe(document.getElementById('current-img'), {attributes: true, attributeFilter: ['src']}); }""")
        reqs = []
        pg.on("request", lambda r: reqs.append(1) if "_dash-update-component" in r.url else None)
        box = pg.locator(".ld-sliders [role=slider]").first.bounding_box()
        x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        pg.mouse.move(x0, y0)
        pg.mouse.down()
        t = time.perf_counter()
        k = 0
        while time.perf_counter() - t < 4.0:  # as fast as the harness can move the mouse
            k += 1
            pg.mouse.move(x0 + 60 * np.sin(k / 15.0), y0)
        frames = pg.evaluate("() => window.__frames")
        dur = time.perf_counter() - t
        pg.mouse.up()
        out["drag_fps"] = frames / dur
        out["drag_moves_per_s"] = k / dur
        out["drag_requests_per_s"] = len(reqs) / dur
        out["console_errors"] = errors
        b.close()
    return out
