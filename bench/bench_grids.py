"""The strip and the grids decoded in the browser, and a classroom of students dragging at once:
headless Chromium against `latentdash serve` (the shipped models; the first, VAE-16), in one run.

- 16-step interpolation strip: the page's own path (assets/ld-7-grids.js: the 16 vectors the
  server sent, one session.run with batch 16, 16 canvases) p50 over repeats; baseline in the same
  run and page: the server's round trip for the same strip (the interpolation callback as the page
  posts it, server decoding: 16 PNGs, and the page decoding those PNGs), and the round trip of
  the vectors-only reply the page gets while it decodes;
- N students (default 30: N browser contexts in one Chromium, each a page with the decoder ready)
  dragging the first latent slider at once (a scripted value per animation frame, bench_onnx.DRAG):
  each client's decoded frames/s, the decode requests the server got, its CPU time during the
  drag; then the same N clients forced to server decoding (the switch), the same drag.

    .venv/bin/python bench/bench_grids.py [--clients 30 --seconds 5 --reps 40 --out report.md]

All the clients share this machine's cores with the server (one Chromium), so the crowd's frames/s
are a lower bound for students on their own machines; the server's CPU and request count are not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_onnx import DRAG, FLAGS, IN_BROWSER, MAP_DRAWN, SLIDERS, start_server  # noqa: E402
from explorer_browser import CHROMIUM  # noqa: E402

from tests.dashclient import DashClient  # noqa: E402

A, B, STEPS = 3, 40, 16
DECODING_HERE = "() => { const G = window.latentdashGrids; return G && G.sent !== 'null' && G.settled(); }"
STRIP_CELLS = "() => document.querySelectorAll('#' + window.latentdash.ids.STRIP + ' [data-ld-z] canvas').length"
# the page's own path, again and again: the strip's cells marked undrawn, one scan (decode + draw)
STRIP_IN_PAGE = """async (reps) => {
  const G = window.latentdashGrids, out = [];
  const cells = [...document.querySelectorAll('#' + window.latentdash.ids.STRIP + ' [data-ld-z]')];
  for (let r = 0; r < reps; r++) {
    cells.forEach((c) => { c.__ldSig = null; });
    const b0 = G.batches;
    G.scan();
    while (G.batches === b0) { await new Promise((res) => setTimeout(res, 0)); }
    out.push(G.lastMs);
  }
  return {ms: out, cells: cells.length};
}"""
# a Dash request from the page: [ms to the parsed reply (+ its PNGs decoded), reply bytes]
ROUND_TRIP = """async ([url, body, reps, images]) => {
  const out = [];
  let bytes = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const res = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: body});
    const text = await res.text();
    const j = JSON.parse(text);
    if (images) {
      const srcs = j.response[images].children.map((b) => b.props.style.backgroundImage.slice(4, -1));
      await Promise.all(srcs.map((s) => { const im = new Image(); im.src = s; return im.decode(); }));
    }
    out.push(performance.now() - t0);
    bytes = text.length;
  }
  return {ms: out, bytes: bytes};
}"""


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def strip_bench(browser, base, reps: int) -> dict:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.goto(f"{base}?a={A}&b={B}&steps={STEPS}")
    pg.wait_for_function(MAP_DRAWN, timeout=120_000)
    pg.wait_for_function(SLIDERS, timeout=120_000)
    pg.hover(".ld-sliders")  # the runtime is fetched when a slider is first approached
    pg.wait_for_function(IN_BROWSER, timeout=120_000)
    pg.wait_for_function("() => window.latentdashGrids.sent !== 'null'", timeout=60_000)
    # a steps change: the strip comes back as vectors and is drawn here
    pg.locator(".ld-steps [role=slider]").focus()
    for key, steps in (("ArrowLeft", STEPS - 1), ("ArrowRight", STEPS)):
        pg.keyboard.press(key)
        pg.wait_for_function(f"() => new URLSearchParams(location.search).get('steps') === '{steps}'", timeout=60_000)
    pg.wait_for_function(f"() => ({STRIP_CELLS})() === {STEPS}", timeout=60_000)
    pg.wait_for_function(DECODING_HERE, timeout=60_000)
    model = pg.evaluate("window.latentdashOnnx.model")
    page_path = pg.evaluate(STRIP_IN_PAGE, reps)
    dc = DashClient(requests.Session(), prefix=base)
    interp = {"model": model, "a": A, "b": B, "steps": STEPS, "mode": "linear"}
    url = base + "_dash-update-component"

    def body(decode):
        return json.dumps(
            dc.body("int-a.children", {"st-interp.data": interp, "st-decode.data": decode}, ["st-interp.data"])
        )

    server = pg.evaluate(ROUND_TRIP, [url, body(None), reps, "strip"])
    vectors = pg.evaluate(ROUND_TRIP, [url, body({"model": model}), reps, None])
    ctx.close()
    return {"model": model, "page": page_path, "server": server, "vectors": vectors}


def drag_kind(post: str) -> str:
    """What a drag-channel request asks for: "z" / "strength" (a decode) or "plaus" (the
    plausibility of a frame the page decoded itself, assets/ld-7-plaus.js)."""
    try:
        return str(json.loads(post)["inputs"][0]["value"].get("kind", "z"))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return "z"


def open_clients(browser, base, n: int) -> tuple[list, list, list]:
    """n pages, opened one after the other (30 first visits at once on a small machine only
    thrash), each ready to decode in its browser before the next one starts."""
    ctxs, pages, posts = [], [], []
    t0 = time.perf_counter()

    def on_request(r):
        if "st-dragout" in (r.post_data or ""):
            posts.append(drag_kind(r.post_data))

    for k in range(n):
        c = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = c.new_page()
        pg.on("request", on_request)
        pg.goto(base)
        pg.wait_for_function(MAP_DRAWN, timeout=600_000)
        pg.wait_for_function(SLIDERS, timeout=600_000)
        pg.wait_for_function("() => window.latentdashOnnx.started && window.latentdashDrag.state", timeout=600_000)
        pg.hover(".ld-sliders")  # the runtime is fetched when a slider is first approached
        pg.wait_for_function(IN_BROWSER, timeout=600_000)
        ctxs.append(c)
        pages.append(pg)
        print(f"\rclients ready: {k + 1}/{n} ({time.perf_counter() - t0:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return ctxs, pages, posts


def crowd_drag(pages, posts, seconds: float, pid: int, forced: bool) -> dict:
    for pg in pages:
        pg.evaluate(f"() => window.latentdashOnnx.force({'true' if forced else 'false'})")
    for pg in pages:
        pg.wait_for_function(f"() => document.getElementById('decode-where').dataset.where === "
                             f"'{'server' if forced else 'browser'}'", timeout=60_000)  # fmt: skip
    time.sleep(1.0)
    procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)

    def cpu():
        return sum(t.user + t.system for t in (p.cpu_times() for p in procs))

    n0, c0, t0 = len(posts), cpu(), time.perf_counter()  # posts: the kind of each drag-channel request
    for pg in pages:  # all start within a few ms of each other, then run on their own
        pg.evaluate(
            f"(ms) => {{ window.__r = null; ({DRAG})(ms).then((r) => {{ window.__r = r; }}); }}", int(seconds * 1000)
        )
    res = []
    for pg in pages:
        pg.wait_for_function("() => window.__r", timeout=600_000)
        res.append(pg.evaluate("window.__r"))
    wall = time.perf_counter() - t0
    cpu_s = cpu() - c0
    fps = [(r["server_images"] if forced else r["browser_frames"]) / r["seconds"] for r in res]
    kinds = posts[n0:]
    return {
        "decode_requests": sum(k != "plaus" for k in kinds),
        "plaus_requests": sum(k == "plaus" for k in kinds),
        "server_cpu_s": round(cpu_s, 3),
        "server_cores": round(cpu_s / wall, 3),
        "wall_s": round(wall, 2),
        "fps": [round(f, 1) for f in fps],
        "raf_per_s": [round(r["raf_per_s"], 1) for r in res],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=30, help="students dragging at once (0: none)")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each scripted drag")
    ap.add_argument("--reps", type=int, default=40, help="repeats of each strip measurement")
    ap.add_argument("--out", default=None, help="also write the report (markdown) here")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    srv, base = start_server()
    t_start = time.perf_counter()
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            strip = strip_bench(b, base, a.reps)
            crowd = None
            if a.clients:
                ctxs, pages, posts = open_clients(b, base, a.clients)
                crowd = {
                    "browser": crowd_drag(pages, posts, a.seconds, srv.pid, False),
                    "server": crowd_drag(pages, posts, a.seconds, srv.pid, True),
                }
                for c in ctxs:
                    c.close()
            b.close()
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    med = statistics.median
    pg, sv, vec = strip["page"]["ms"], strip["server"]["ms"], strip["vectors"]["ms"]
    lines = [
        "## bench_grids: the strip decoded in the browser; students dragging at once",
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; shipped {strip['model']} "
        f"(`latentdash serve`: gunicorn); run took {time.perf_counter() - t_start:.0f} s",
        "",
        f"| {STEPS}-step interpolation strip ({a.reps} repeats) | p50 | p90 | ratio to the server |",
        "|---|---|---|---|",
        f"| decoded + drawn in the page (one batch of {strip['page']['cells']}, ld-7-grids.js) | **{med(pg):.2f} ms** "
        f"| {pct(pg, 0.9):.2f} ms | {med(pg) / med(sv):.3f} |",
        f"| server round trip: the callback decodes, {STEPS} PNGs ({strip['server']['bytes'] / 1e3:.1f} kB), "
        f"the page decodes them | {med(sv):.2f} ms | {pct(sv, 0.9):.2f} ms | 1.000 |",
        f"| the reply the page gets while it decodes (vectors; with the pixel blend's PNGs "
        f"{strip['vectors']['bytes'] / 1e3:.1f} kB) "
        f"| {med(vec):.2f} ms | {pct(vec, 0.9):.2f} ms | {med(vec) / med(sv):.3f} |",
        "",
    ]
    if crowd:
        br, fs = crowd["browser"], crowd["server"]
        lines += [
            f"| {a.clients} students dragging at once ({a.seconds:g} s, one Chromium here) | in the browser "
            "| forced to the server |",
            "|---|---|---|",
            f"| decode requests to the server | **{br['decode_requests']}** | {fs['decode_requests']} |",
            f"| other requests on the drag channel (plausibility of a frame) | {br['plaus_requests']} "
            f"| {fs['plaus_requests']} |",
            f"| server CPU during the drag (cores busy) | **{br['server_cpu_s']:.2f} s ({br['server_cores']:.2f})** "
            f"| {fs['server_cpu_s']:.2f} s ({fs['server_cores']:.2f}) |",
            f"| frames/s per client, median / worst | **{med(br['fps']):.1f} / {min(br['fps']):.1f}** "
            f"| {med(fs['fps']):.1f} / {min(fs['fps']):.1f} |",
            f"| animation frames/s per client (median) | {med(br['raf_per_s']):.1f} | {med(fs['raf_per_s']):.1f} |",
            "",
        ]
    lines += ["raw: " + json.dumps({"strip": strip, "crowd": crowd})]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
