"""Decoding in the browser vs on the server, in one run, headless Chromium against `latentdash serve`
(the shipped models; the first, VAE-16, on its default UMAP map):

- slider drag: decoded frames/s paced by requestAnimationFrame, driven by a scripted sequence of
  value changes (one per animation frame, written to the first slider's aria-valuenow, which is
  what the drag loop reads), browser decoding vs forced server decoding, and the drag requests
  the server got, and its CPU time, during each;
- first map time A/B: fresh contexts (empty cache), in ABBA order after one warm-up load, default
  (onnxruntime-web loaded after the first map) vs forced server decoding (not loaded at all); and
  when the page was ready to decode in the browser;
- onnxruntime-web's download, raw and as sent (brotli), and the model's .onnx;
- a 16-step interpolation strip decoded (one batch of 16) and drawn in the browser.

    .venv/bin/python bench/bench_onnx.py [--seconds 4] [--loads 5] [--out report.md]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from explorer_browser import CHROMIUM, FLAGS, GD, MAP_DRAWN  # noqa: E402, F401  (bench/, next to this file)

from latentdash import onnx_export as ox  # noqa: E402

SLIDERS = "() => document.querySelectorAll('.ld-sliders [role=slider]').length > 0"
IN_BROWSER = "() => { const b = document.getElementById('decode-where'); return b && b.dataset.where === 'browser'; }"
FORCE_SERVER = "window.localStorage.setItem('latentdash.decode', 'server')"

# one scripted drag: a value per animation frame for `ms`, sweeping the first slider's range;
# counts the images shown (browser: canvas frames; server: <img> updates from the drag replies)
DRAG = """async (ms) => {
  const D = window.latentdashDrag, O = window.latentdashOnnx;
  const th = document.querySelector('.ld-sliders [role=slider]');
  const lo = parseFloat(th.getAttribute('aria-valuemin')), hi = parseFloat(th.getAttribute('aria-valuemax'));
  const img = document.getElementById(window.latentdash.ids.CUR_IMG);
  let imgs = 0;
  const mo = new MutationObserver(() => { imgs += 1; });
  mo.observe(img, {attributes: true, attributeFilter: ['src']});
  const f0 = O.frames;
  D.active = true; D.kind = 'z';
  const t0 = performance.now();
  let n = 0;
  await new Promise((done) => {
    const step = (t) => {
      if (t - t0 >= ms) { done(); return; }
      const v = lo + (hi - lo) * (0.5 + 0.45 * Math.sin(n / 9));
      th.setAttribute('aria-valuenow', String(Math.round(v * 1000) / 1000));
      n += 1;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  await new Promise((r) => setTimeout(r, 200));   // the last frame in flight lands
  D.active = false;
  mo.disconnect();
  const s = (performance.now() - t0 - 200) / 1000;
  return {seconds: s, changes: n, raf_per_s: n / s, browser_frames: O.frames - f0, server_images: imgs};
}"""
STRIP = """async (reps) => {
  const E = window.latentdashDecoder, m = E.models[window.latentdashOnnx.model];
  const a = m.meta.lat_mean, d = a.length, out = [];
  const zs = Array.from({length: 16}, (_, k) => Float32Array.from(a, (v, j) => v + (k / 15) * (j % 2 ? 1.5 : -1.5)));
  const cvs = Array.from({length: 16}, () => document.createElement('canvas'));
  const hw = m.meta.image_shape.reduce((p, q) => p * q, 1);
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const x = await E.run(m, zs);
    cvs.forEach((c, k) => E.draw(c, m.meta.image_shape, x, k * hw));
    out.push(performance.now() - t0);
  }
  return out;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def start_server():
    port = free_port()
    cmd = [sys.executable, "-m", "latentdash.cli", "serve", "--port", str(port)]
    srv = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        try:
            if requests.get(base + "healthz", timeout=1).ok:
                return srv, base
        except requests.RequestException:
            pass
        time.sleep(0.5)
    srv.kill()
    raise SystemExit("the server did not start")


def first_map(browser, base, server_only: bool) -> dict:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    if server_only:
        ctx.add_init_script(FORCE_SERVER)
    pg = ctx.new_page()
    pg.goto(base)
    pg.wait_for_function(MAP_DRAWN, timeout=120_000)
    t_map = pg.evaluate("() => performance.now()") / 1000
    pg.wait_for_function(SLIDERS, timeout=120_000)
    t_sliders = pg.evaluate("() => performance.now()") / 1000
    out = {"map_s": t_map, "sliders_s": t_sliders}
    if not server_only:
        pg.hover(".ld-sliders")  # the runtime is fetched when a slider is first approached
        pg.wait_for_function(IN_BROWSER, timeout=120_000)
        out["browser_ready_s"] = pg.evaluate("() => performance.now()") / 1000
        out["downloads"] = pg.evaluate("""() => performance.getEntriesByType('resource')
            .filter((e) => e.name.includes('/ort/') || e.name.includes('/onnx/'))
            .map((e) => [e.name.split('/').pop().split('?')[0], e.encodedBodySize, e.decodedBodySize,
                         +(e.startTime / 1000).toFixed(3)])""")
    ctx.close()
    return out


def drag(browser, base, server_only: bool, seconds: float, pid: int) -> dict:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    if server_only:
        ctx.add_init_script(FORCE_SERVER)
    pg = ctx.new_page()
    posts = []  # True: a decode request; False: a plausibility-only frame (ld-7-plaus.js, no image)
    pg.on(
        "request",
        lambda r: posts.append('"kind":"plaus"' not in r.post_data) if "st-dragout" in (r.post_data or "") else None,
    )
    pg.goto(base)
    pg.wait_for_function(MAP_DRAWN, timeout=120_000)
    pg.wait_for_function(SLIDERS, timeout=120_000)
    pg.wait_for_function("() => window.latentdashOnnx.started && window.latentdashDrag.state", timeout=120_000)
    if not server_only:
        pg.hover(".ld-sliders")  # the runtime is fetched when a slider is first approached
        pg.wait_for_function(IN_BROWSER, timeout=120_000)
    pg.wait_for_timeout(1500)
    pg.evaluate(DRAG, 500)  # warm-up
    procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)

    def cpu():
        return sum(t.user + t.system for t in (p.cpu_times() for p in procs))

    n0, c0 = len(posts), cpu()
    r = pg.evaluate(DRAG, int(seconds * 1000))
    c1 = cpu()
    r["drag_requests"] = sum(posts[n0:])
    r["plaus_requests"] = len(posts) - n0 - r["drag_requests"]
    r["server_cpu_s"] = round(c1 - c0, 3)
    r["frames_per_s"] = (r["browser_frames"] if not server_only else r["server_images"]) / r["seconds"]
    if not server_only:
        r["strip16_ms"] = pg.evaluate(STRIP, 40)
    ctx.close()
    return r


def many(browser, base, n: int, seconds: float, pid: int) -> dict:
    """n pages (simulated students) dragging at once, each decoding in its browser."""
    ctxs, pages, posts = [], [], []
    for _ in range(n):
        c = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = c.new_page()
        pg.on("request", lambda r: posts.append(1) if "st-dragout" in (r.post_data or "") else None)
        pg.goto(base)
        ctxs.append(c)
        pages.append(pg)
    for pg in pages:
        pg.wait_for_function(MAP_DRAWN, timeout=300_000)
        pg.wait_for_function(SLIDERS, timeout=300_000)
        pg.hover(".ld-sliders")  # the runtime is fetched when a slider is first approached
        pg.wait_for_function(IN_BROWSER, timeout=300_000)
    procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    cpu = lambda: sum(t.user + t.system for t in (p.cpu_times() for p in procs))  # noqa: E731
    n0, c0, t0 = len(posts), cpu(), time.perf_counter()
    for pg in pages:
        pg.evaluate(
            f"(ms) => {{ window.__r = null; ({DRAG})(ms).then((r) => {{ window.__r = r; }}); }}", int(seconds * 1000)
        )
    res = []
    for pg in pages:
        pg.wait_for_function("() => window.__r", timeout=300_000)
        res.append(pg.evaluate("window.__r"))
    wall = time.perf_counter() - t0
    out = {
        "clients": n,
        "drag_requests": len(posts) - n0,
        "server_cpu_s": round(cpu() - c0, 3),
        "wall_s": round(wall, 2),
        "frames_per_s": [round(r["browser_frames"] / r["seconds"], 1) for r in res],
    }
    for c in ctxs:
        c.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each scripted drag")
    ap.add_argument("--loads", type=int, default=5, help="first-map loads per arm (A/B, alternating)")
    ap.add_argument("--out", default=None, help="also write the report (markdown) here")
    ap.add_argument("--clients", type=int, default=0, help="also: this many pages dragging at once (all here)")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    srv, base = start_server()
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            loads = {"browser": [], "server": []}
            first_map(b, base, True)  # warm-up (server caches, Chromium's own start), not counted
            for k in range(2 * a.loads):  # ABBA order: a drifting machine favours neither arm
                arm = "browser" if k % 4 in (0, 3) else "server"
                loads[arm].append(first_map(b, base, arm == "server"))
            br = drag(b, base, False, a.seconds, srv.pid)
            sv = drag(b, base, True, a.seconds, srv.pid)
            crowd = many(b, base, a.clients, a.seconds, srv.pid) if a.clients else None
            b.close()
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    vendor = ROOT / "latentdash" / "assets" / "vendor"
    import gzip

    import brotli

    raw = {
        n: len(brotli.decompress((vendor / f).read_bytes()) if f.endswith(".br") else (vendor / f).read_bytes())
        for n, (f, _) in ox.ORT_FILES.items()
    }
    sent_br = {
        n: (vendor / f).stat().st_size
        if f.endswith(".br")
        else len(brotli.compress((vendor / f).read_bytes(), quality=4))
        for n, (f, _) in ox.ORT_FILES.items()
    }
    gz = {
        n: len(
            gzip.compress(
                brotli.decompress((vendor / f).read_bytes()) if f.endswith(".br") else (vendor / f).read_bytes(), 6
            )
        )
        for n, (f, _) in ox.ORT_FILES.items()
    }
    mb = lambda x: f"{x / 1e6:.2f} MB"  # noqa: E731
    fm_b = [x["map_s"] for x in loads["browser"]]
    fm_s = [x["map_s"] for x in loads["server"]]
    ready = [x["browser_ready_s"] - x["map_s"] for x in loads["browser"]]
    strip = br.pop("strip16_ms")
    lines = [
        "## bench_onnx: decoding in the browser vs on the server",
        f"machine: {os.cpu_count()} cores; shipped fashion-vae-16 on its default map "
        "(UMAP 2-D, marker by nearest latents)",
        "",
        "| slider drag (scripted, one value per rAF) | browser (onnxruntime-web) | server (forced) |",
        "|---|---|---|",
        f"| value changes/s (rAF) | {br['raf_per_s']:.1f} | {sv['raf_per_s']:.1f} |",
        f"| decoded frames/s shown | **{br['frames_per_s']:.1f}** | {sv['frames_per_s']:.1f} |",
        f"| decode requests to the server | **{br['drag_requests']}** | {sv['drag_requests']} |",
        f"| plausibility-only requests (the line under the image) | {br['plaus_requests']} | {sv['plaus_requests']} |",
        f"| server CPU during the drag | {br['server_cpu_s']:.2f} s | {sv['server_cpu_s']:.2f} s |",
        f"| ratio browser/server frames/s | {br['frames_per_s'] / max(sv['frames_per_s'], 1e-9):.2f} | |",
        "",
        f"first map (fresh context, median of {a.loads} each, ABBA): browser decoding {med(fm_b):.2f} s, "
        f"server only {med(fm_s):.2f} s, ratio {med(fm_b) / med(fm_s):.3f}; decoding in the browser ready "
        f"{med(ready):.2f} s after the first map (median)",
        f"16-step interpolation strip in the browser (one batch of 16 + 16 canvases): median {med(strip):.2f} ms, "
        f"max {max(strip):.2f} ms over {len(strip)}",
        "",
        "| onnxruntime-web 1.30.0 (plain SIMD WebAssembly, single-threaded use) | raw | gzip -6 | brotli (as sent) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {mb(raw[n])} | {mb(gz[n])} | {mb(sent_br[n])} |" for n in ox.ORT_FILES]
    lines += [f"| total | {mb(sum(raw.values()))} | {mb(sum(gz.values()))} | {mb(sum(sent_br.values()))} |", ""]
    dl = loads["browser"][0].get("downloads", [])
    lines += [
        "downloads seen by the page (first load): "
        + ", ".join(f"{n} {mb(e)} sent / {mb(d)} decoded at {t:.2f} s" for n, e, d, t in dl),
        "",
    ]
    if crowd:
        lines += [
            f"{crowd['clients']} pages dragging at once (one headless Chromium on this machine, so the "
            f"clients share its cores): {crowd['drag_requests']} drag requests, server CPU "
            f"{crowd['server_cpu_s']:.2f} s over {crowd['wall_s']:.1f} s; frames/s per page "
            f"median {med(crowd['frames_per_s']):.1f}, min {min(crowd['frames_per_s']):.1f}",
            "",
        ]
    lines += ["raw: " + json.dumps({"browser": br, "server": sv, "first_map": loads, "crowd": crowd})]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
