"""The headless-Chromium half of bench_algebra.py, against a running server: the attribute-strength
drag frame rate against the latent-slider drag in the same page, and a lasso on the map ->
first gallery page in the DOM (mouseup to the thumbnails' elements), against a small lasso.

Timings are taken in the page (performance.now()): a capturing mouseup listener, a
MutationObserver on the gallery and a wrapper around window.fetch that logs each Dash callback
request (which callback, start, end, size), so the lasso's time can be split into its steps."""

from __future__ import annotations

import math
import re
import time

import numpy as np
from explorer_browser import CHROMIUM, FLAGS, GD, MAP_DRAWN  # noqa: F401  (bench/, next to this file)

# logs every Dash callback request the page makes: [output (first 80 chars), t0, t1, bytes in, bytes out]
FETCH_LOG = """
(() => {
  const orig = window.fetch;
  window.__cb = [];
  window.fetch = function (url, opts) {
    const u = String(url && url.url ? url.url : url);
    if (!u.includes('_dash-update-component')) { return orig.apply(this, arguments); }
    const body = (opts && typeof opts.body === 'string') ? opts.body : '';
    const m = body.slice(0, 400).match(/"output":"([^"]{0,80})/);
    const rec = [m ? m[1] : '?', performance.now(), null, body.length, null];
    window.__cb.push(rec);
    return orig.apply(this, arguments).then((r) => {
      rec[2] = performance.now();
      const n = r.headers.get('content-length');
      rec[4] = n === null ? null : parseInt(n);
      return r;
    });
  };
})();
"""
WATCH = """() => {
  window.__frames = {z: 0, strength: 0};
  const watch = (id, k) => new MutationObserver(() => window.__frames[k]++)
    .observe(document.getElementById(id), {attributes: true, attributeFilter: ['src']});
  watch('current-img', 'z'); watch('attr-edit', 'strength');
  window.__upT = null; window.__armed = false; window.__galT = null; window.__galPaintT = null;
  // pointerup: the page's box/lasso cancels the compatibility mouse events of its gesture
  window.addEventListener('pointerup', () => {
    if (window.__armed) { window.__upT = performance.now(); window.__armed = false; } }, true);
  // the first page is drawn by whichever comes first: the page's own preview (ld-3-map.js) or the
  // server's gallery; __srvT: when the server's gallery replaced it
  window.__srvT = null;
  ['gal-preview', 'gal-thumbs'].forEach((id) => {
    const gal = document.getElementById(id);
    if (!gal) { return; }
    new MutationObserver(() => {
      if (window.__upT === null || !gal.children.length) { return; }
      if (id === 'gal-thumbs' && window.__srvT === null) { window.__srvT = performance.now(); }
      if (window.__galT === null) {
        window.__galT = performance.now();
        requestAnimationFrame(() => requestAnimationFrame(() => { window.__galPaintT = performance.now(); }));
      }
    }).observe(gal, {childList: true});
  });
  performance.setResourceTimingBufferSize(100000);
  window.__long = [];  // the main thread's long tasks (> 50 ms): what a late gallery waited for
  new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push([e.startTime, e.duration])))
    .observe({type: 'longtask'});
}"""
# a circle on the shown 2-D map holding `n` points: the smallest of a grid of centres that fits
# inside the plot area (page pixels); returns [cx, cy, r, points on the map]
CIRCLE = f"""([n, taken]) => {{
  const gd = {GD}; const fl = gd._fullLayout; const b = gd.getBoundingClientRect();
  const xa = fl.xaxis, ya = fl.yaxis; const ox = b.left + xa._offset, oy = b.top + ya._offset;
  const W = xa._length, H = ya._length; const px = [], py = [];
  gd._fullData.forEach(t => {{ if (!t.customdata || !t.customdata.length || t.visible !== true) return;
    for (let i = 0; i < t.x.length; i++) {{ px.push(ox + xa.l2p(t.x[i])); py.push(oy + ya.l2p(t.y[i])); }} }});
  const d2 = new Float64Array(px.length); let best = null;
  for (let gx = 1; gx < 8; gx++) for (let gy = 1; gy < 8; gy++) {{
    const cx = ox + W * gx / 8, cy = oy + H * gy / 8;
    if (taken.some(c => Math.hypot(c[0] - cx, c[1] - cy) < 1)) continue;
    for (let i = 0; i < px.length; i++) d2[i] = (px[i] - cx) ** 2 + (py[i] - cy) ** 2;
    const s = d2.slice().sort(); const r = Math.sqrt(s[Math.min(n, s.length) - 1]) + 0.5;
    const fits = cx - r > ox + 2 && cx + r < ox + W - 2 && cy - r > oy + 2 && cy + r < oy + H - 2;
    const score = (fits ? 0 : 1e6) + r;
    if (best === null || score < best[3]) best = [cx, cy, r, score];
  }}
  return [best[0], best[1], best[2], px.length];
}}"""


def _drag(pg, selector, kind, seconds):
    """Hold the first handle under `selector` and move it as fast as the harness can for
    `seconds`; returns (decoded frames/s, mouse moves/s, requests/s)."""
    handle = pg.locator(f"{selector} [role=slider]").first
    handle.scroll_into_view_if_needed()
    pg.wait_for_timeout(300)
    box = handle.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    reqs = []

    def on_req(r):
        if "_dash-update-component" in r.url:
            reqs.append(1)

    pg.mouse.move(x0, y0)
    f0 = pg.evaluate(f"() => window.__frames.{kind}")
    pg.on("request", on_req)
    pg.mouse.down()
    t = time.perf_counter()
    k = 0
    while time.perf_counter() - t < seconds:
        k += 1
        pg.mouse.move(x0 + 60 * math.sin(k / 15.0), y0)
    frames = pg.evaluate(f"() => window.__frames.{kind}") - f0
    dur = time.perf_counter() - t
    pg.remove_listener("request", on_req)
    pg.mouse.up()
    return frames / dur, k / dur, len(reqs) / dur


def _gallery_count(pg) -> int | None:
    txt = pg.evaluate("() => document.getElementById('gallery-info').innerText")
    m = re.match(r"\s*([\d,]+) image", txt or "")
    return int(m.group(1).replace(",", "")) if m else None


def _callbacks(pg) -> list[dict]:
    """The Dash callback requests since the last mouseup, times relative to it."""
    up, cbs = pg.evaluate("() => [window.__upT, window.__cb.map(r => r.slice())]")
    steps = []
    for out, t0, t1, nin, nout in cbs:
        if up is None or t0 < up - 1:
            continue
        steps.append(
            {
                "callback": out,
                "start_ms": round(t0 - up, 1),
                "end_ms": None if t1 is None else round(t1 - up, 1),
                "request_bytes": nin,
                "response_bytes": nout,
            }
        )
    return steps


def _lasso(pg, n_points, taken, vertices=32, timeout_ms=60_000):
    """Lasso ~n_points on the 2-D map (modebar lasso already chosen); returns the page's timings
    (gallery_dom_ms None: the gallery did not change within timeout_ms)."""
    pg.evaluate("() => window.scrollTo(0, 0)")
    # start from no selection: a lasso that starts inside the last one's outline may not select
    if pg.is_enabled("#btn-clear-selection"):
        pg.click("#btn-clear-selection")
        pg.wait_for_function(
            "() => document.getElementById('selection-note').innerText.startsWith('Box or lasso')", timeout=30_000
        )
        pg.wait_for_timeout(1500)
    cx, cy, r, n_map = pg.evaluate(CIRCLE, [int(n_points), taken])
    taken.append([cx, cy])
    r *= 1.0 / math.sqrt(vertices / (2 * math.pi) * math.sin(2 * math.pi / vertices))  # polygon area = circle's
    pts = [(cx + r * math.cos(2 * math.pi * k / vertices), cy + r * math.sin(2 * math.pi * k / vertices))
           for k in range(vertices + 1)]  # fmt: skip
    pg.evaluate(
        "() => { window.__upT = null; window.__galT = null; window.__galPaintT = null; window.__srvT = null;"
        " window.__cb = [];"
        " performance.clearResourceTimings(); }"
    )
    pg.mouse.move(*pts[0])
    pg.mouse.down()
    for x, y in pts[1:]:
        pg.mouse.move(x, y)
    pg.evaluate("() => { window.__armed = true; }")
    pg.mouse.up()
    try:
        pg.wait_for_function("() => window.__galT !== null && window.__galPaintT !== null", timeout=timeout_ms)
    except Exception:  # playwright's TimeoutError
        pg.wait_for_timeout(500)
        return {"aimed": int(n_points), "gallery_dom_ms": None, "callbacks": _callbacks(pg),
                "message": pg.evaluate("() => document.getElementById('message').innerText"),
                "selection_note": pg.evaluate("() => document.getElementById('selection-note').innerText")}  # fmt: skip
    up, gal, paint, long = pg.evaluate("() => [window.__upT, window.__galT, window.__galPaintT, window.__long]")
    try:  # the first page may be the page's own preview: the count comes with the server's gallery
        pg.wait_for_function("() => window.__srvT !== null", timeout=timeout_ms)
    except Exception:  # playwright's TimeoutError: a lasso that changed nothing
        pass
    count = _gallery_count(pg)
    want = min(64, count or 0)
    # the first page's thumbnails (GET /thumb/...; the browser cache is off, so each is fetched)
    deadline = time.perf_counter() + 10
    thumbs = []
    while time.perf_counter() < deadline:
        thumbs = pg.evaluate(
            "(up) => performance.getEntriesByType('resource').filter(e => e.name.includes('/thumb/')"
            " && e.startTime >= up).map(e => e.responseEnd)",
            up,
        )
        if len(thumbs) >= want:
            break
        pg.wait_for_timeout(100)
    pg.wait_for_timeout(2500)  # let the other renders of the selection (map, notes) land
    srv = pg.evaluate("() => window.__srvT")
    steps = _callbacks(pg)
    return {
        "count": count,
        "aimed": int(n_points),
        "map_points": n_map,
        "radius_px": round(r, 1),
        "gallery_dom_ms": round(gal - up, 1),
        "gallery_painted_ms": round(paint - up, 1),
        "server_gallery_ms": None if srv is None else round(srv - up, 1),
        # the last of the page's thumbnails fetched (some may come from the image cache, unfetched)
        "thumbs_loaded_ms": round(max(sorted(thumbs)[:want]) - up, 1) if thumbs and want else None,
        "thumbs_fetched": len(thumbs),
        "long_tasks_ms": [[round(t - up, 1), round(d, 1)] for t, d in long if t + d > up and t < paint],
        "callbacks": steps,
    }


def bench_browser(
    base, query="?dir=c7%3Ec9", drag_s=3.0, drag_reps=2, lasso_points=10000, lasso_small=100, reps=3,
    drags=True,
):  # fmt: skip
    from playwright.sync_api import sync_playwright

    out = {"drag": [], "lasso": [], "lasso_small": []}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        ctx = b.new_context(viewport={"width": 1440, "height": 900})
        ctx.add_init_script(FETCH_LOG)
        # the server's decoding path (issue 10's targets), not the page's own ONNX decoding
        ctx.add_init_script("try { localStorage.setItem('latentdash.decode', 'server'); } catch (e) {}")
        pg = ctx.new_page()
        errors = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        t = time.perf_counter()
        pg.goto(base + query)
        pg.wait_for_function(MAP_DRAWN, timeout=120_000)
        pg.wait_for_function("() => document.getElementById('attr-edit').src.startsWith('data:')", timeout=60_000)
        pg.wait_for_function("() => document.querySelectorAll('.ld-sliders [role=slider]').length > 0", timeout=60_000)
        pg.wait_for_function("() => document.getElementById('current-img').src.startsWith('data:')", timeout=60_000)
        out["page_ready_s"] = time.perf_counter() - t
        out["attr_note"] = pg.evaluate("() => document.getElementById('attr-note').innerText")
        pg.evaluate(WATCH)
        pg.wait_for_timeout(1500)
        # drags: latent slider (the baseline) and strength, alternated so both see the same machine
        for _ in range(drag_reps if drags else 0):
            for kind, sel in (("z", ".ld-sliders"), ("strength", ".ld-strength")):
                fps, moves, rps = _drag(pg, sel, kind, drag_s)
                out["drag"].append({"kind": kind, "fps": fps, "moves_per_s": moves, "requests_per_s": rps})
                pg.wait_for_timeout(1500)  # the release commits the value through the normal callbacks
        # lasso: the browser cache off, so each gallery page fetches its thumbnails like a first view
        cdp = ctx.new_cdp_session(pg)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        pg.evaluate("() => window.scrollTo(0, 0)")
        pg.hover(".ld-graph.ld-on .js-plotly-plot")
        pg.click(".ld-graph.ld-on .modebar-btn[data-val='lasso']")
        pg.wait_for_timeout(500)
        taken = []
        # as the page is: does a lasso reach the gallery at all?
        first = _lasso(pg, lasso_small, taken, timeout_ms=8000)
        out["lasso_as_is"] = first
        out["lasso_failed"] = []
        for _ in range(reps):
            for key, n in (("lasso_small", lasso_small), ("lasso", lasso_points)):
                for _try in range(2):  # a lasso that selected nothing is tried once more elsewhere
                    r = _lasso(pg, n, taken, timeout_ms=15_000)
                    if r["gallery_dom_ms"] is not None:
                        break
                    out["lasso_failed"].append(r)
                out[key].append(r)
        out["console_errors"] = errors
        b.close()
    z = [d["fps"] for d in out["drag"] if d["kind"] == "z"] or [float("nan")]
    s = [d["fps"] for d in out["drag"] if d["kind"] == "strength"] or [float("nan")]
    out["z_fps"], out["strength_fps"] = float(np.mean(z)), float(np.mean(s))
    return out
