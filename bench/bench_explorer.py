"""Speed of the Explorer page: in-process decode cost vs the real Dash endpoint over HTTP, the
interpolation round trip, the initial payload, first map / view-switch times and slider-drag
frame rate in headless Chromium, and the server's memory.

    .venv/bin/python bench/bench_explorer.py                                   # default VAE, 10k test images
    .venv/bin/python bench/bench_explorer.py --dataset fashion-mnist --methods pca   # 70k points
    options: --checkpoint PATH (repeat), --limit N, --n 400, --no-browser, --out REPORT.md

The server runs as a separate process started exactly like a user would (`latentdash serve`),
so the client and the server don't share a GIL. The report is printed (and written to --out).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from explorer_browser import bench_browser  # noqa: E402  (bench/, next to this file)

from latentdash import imaging  # noqa: E402
from latentdash.server.app_factory import load_explorers  # noqa: E402
from latentdash.server.config import from_env  # noqa: E402
from latentdash.ui import handlers, render, urlstate  # noqa: E402
from latentdash.ui.catalog import Catalog  # noqa: E402
from tests.dashclient import DashClient  # noqa: E402


def pct(xs, q):
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def summary(xs) -> str:
    return f"p50 {pct(xs, 50):.2f} ms, p90 {pct(xs, 90):.2f} ms, p99 {pct(xs, 99):.2f} ms (n={len(xs)})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def slider_values(view, state, k, frac):
    axes = view.sliders[state["basis"]]
    vals = list(handlers.slider_positions(state, CAT))
    vals[k] = float(axes.lo[k] + frac * (axes.hi[k] - axes.lo[k]))
    return vals


# ------------------------------------------------------------------------------ in-process
def bench_inprocess(view, state, n):
    z0 = np.asarray(state["z"], np.float32)
    decode_png, handler = [], []
    fr = np.linspace(0, 1, n)
    for k in range(30):  # warm-up (first torch calls are slow)
        render.live_decode(slider_values(view, state, 0, fr[k]), state, CAT)
    for k in range(n):
        z = z0.copy()
        z[0] = fr[k]
        t = time.perf_counter()
        imaging.png_data_uri(view.explorer.decode(z)[0])
        decode_png.append(time.perf_counter() - t)
        vals = slider_values(view, state, 0, fr[k])
        t = time.perf_counter()
        render.live_decode(vals, state, CAT)
        handler.append(time.perf_counter() - t)
    # the same callback through Dash's dispatch in this process (Flask test client, no network)
    from latentdash.server.app_factory import create_app

    client = create_app(explorers=[v.explorer for v in CAT.views.values()]).server.test_client()
    dc = DashClient(client)
    p = urlstate.split(state)
    rendered = {"key": f"{state['model']}|{state['map']}|{state['rev']}"}
    dispatch = []
    for k in range(n + 20):
        vals = slider_values(view, state, 0, fr[k % n])
        body = dc.body(
            "st-dragout.data",
            {
                "st-drag.data": {"values": vals},
                "st-map.data": p["map"],
                "st-z.data": p["z"],
                "st-rendered.data": rendered,
            },
            ["st-drag.data"],
        )
        t = time.perf_counter()
        r = client.post("/_dash-update-component", json=body)
        if k >= 20:
            dispatch.append(time.perf_counter() - t)
        assert r.status_code == 200
    interp = []
    for k in range(max(20, n // 10)):
        s = dict(state, a=k, b=k + 100, steps=16)
        t = time.perf_counter()
        render.render_interp(s, CAT)
        interp.append(time.perf_counter() - t)
    return decode_png, handler, dispatch, interp


# ------------------------------------------------------------------------------ HTTP
def bench_http(base, state, view, n):
    """Round trips over one keep-alive connection with the standard library's http.client (a thin
    client, like a browser's fetch; `requests` alone adds ~5 ms per call on this machine)."""
    sess = requests.Session()
    dc = DashClient(_Prefixed(sess, base))
    host, port = base.split("//", 1)[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port))

    def post(body):
        conn.request(
            "POST", "/_dash-update-component", body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        r = conn.getresponse()
        return r.status, r.read()

    p = urlstate.split(state)
    rendered = {"key": f"{state['model']}|{state['map']}|{state['rev']}"}
    times, sizes, paired = [], [], []
    fr = np.linspace(0, 1, n)
    for i in range(n + 20):
        # exactly what the page posts while a handle moves (assets/ld-4-drag.js, latentdashDrag)
        vals = slider_values(view, state, 0, fr[i % n])
        body = dc.body(
            "st-dragout.data",
            {
                "st-drag.data": {"values": vals},
                "st-map.data": p["map"],
                "st-z.data": p["z"],
                "st-rendered.data": rendered,
            },
            ["st-drag.data"],
        )
        # the same handler in this process right before the request: a baseline taken at the same
        # moment, so that the ratio does not drift with the (shared, noisy) machine's speed
        t = time.perf_counter()
        render.live_decode(vals, state, CAT)
        dh = time.perf_counter() - t
        t = time.perf_counter()
        status, content = post(body)
        dt = time.perf_counter() - t
        assert status == 200, status
        if i >= 20:  # warm-up excluded
            times.append(dt)
            sizes.append(len(content))
            paired.append(dh)
    interp = []
    for i in range(max(30, n // 8) + 5):
        body = dc.body(
            "int-a.children",
            {"st-interp.data": {"model": state["model"], "a": i, "b": i + 100, "steps": 16, "mode": "linear"}},
            ["st-interp.data"],
        )
        t = time.perf_counter()
        status, _ = post(body)
        dt = time.perf_counter() - t
        assert status == 200, status
        if i >= 5:
            interp.append(dt)
    conn.close()
    return times, sizes, interp, paired


class _Prefixed:
    def __init__(self, sess, base):
        self.s, self.base = sess, base

    def get(self, path):
        return self.s.get(self.base + path.lstrip("/"))

    def post(self, path, json=None):
        return self.s.post(self.base + path.lstrip("/"), json=json)


# ------------------------------------------------------------------------------ main
CAT = None


def main() -> int:
    global CAT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", action="append")
    ap.add_argument("--dataset", default=None)
    ap.add_argument("--methods", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument(
        "--out",
        default=None,
        help="also write the report (markdown) to this file; "
        "docs/benchmarks.md holds a hand-kept summary, not run logs",
    )
    ap.add_argument("--note", default="")
    ap.add_argument(
        "--server",
        choices=("waitress", "flask", "gunicorn"),
        default="waitress",
        help="waitress: `latentdash serve` as a user starts it; flask: `latentdash serve "
        "--server flask` (Flask's development server); gunicorn: `gunicorn app:server` "
        "(1 gthread worker, 4 threads)",
    )
    a = ap.parse_args()
    cfg = from_env(
        checkpoints=tuple(a.checkpoint) if a.checkpoint else None,
        dataset=a.dataset,
        methods=tuple(a.methods.split(",")) if a.methods else None,
        limit=a.limit,
        cache_dir=a.cache_dir,
    )
    cfg = cfg.replace(checkpoints=tuple(cfg.checkpoint_list()[:1]))  # one model is enough here
    print("loading explorer (in-process)...", flush=True)
    CAT = Catalog(load_explorers(cfg, progress=True))
    view = CAT.get(CAT.default)
    state, _ = urlstate.parse("", CAT)
    state["sel"], state["z"] = 1, [float(v) for v in view.explorer.latents[1]]
    dec, hnd, disp, interp_in = bench_inprocess(view, state, a.n)
    print("in-process decode+PNG:", summary(dec))
    print("in-process slider handler (decode+PNG+marker):", summary(hnd))
    print("in-process through Dash dispatch (test client):", summary(disp))
    print("in-process interpolation 16 steps:", summary(interp_in))

    port = free_port()
    env = dict(os.environ)
    if a.server in ("waitress", "flask"):
        cmd = [
            sys.executable,
            "-m",
            "latentdash.cli",
            "serve",
            "--port",
            str(port),
            "--dataset",
            cfg.dataset,
            "--checkpoint",
            cfg.checkpoints[0],
            "--methods",
            ",".join(cfg.methods),
            "--server",
            a.server,
        ]
        if cfg.limit:
            cmd += ["--limit", str(cfg.limit)]
        if cfg.cache_dir:
            cmd += ["--cache-dir", cfg.cache_dir]
    else:
        cmd = [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w",
            "1",
            "-k",
            "gthread",
            "--threads",
            "4",
            "--timeout",
            "0",
            "-b",
            f"127.0.0.1:{port}",
            "app:server",
        ]
        env.update(
            LATENTDASH_CHECKPOINTS=cfg.checkpoints[0],
            LATENTDASH_DATASET=cfg.dataset,
            LATENTDASH_METHODS=",".join(cfg.methods),
        )
        if cfg.limit:
            env["LATENTDASH_LIMIT"] = str(cfg.limit)
        if cfg.cache_dir:
            env["LATENTDASH_CACHE"] = str(cfg.cache_dir)
    srv = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                if requests.get(base + "healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        pid = srv.pid
        if a.server == "gunicorn":  # the worker holds the explorers, not the arbiter
            kids = Path(f"/proc/{srv.pid}/task/{srv.pid}/children").read_text().split()
            pid = int(kids[0]) if kids else srv.pid
        rss_loaded = rss_mb(pid)
        times, sizes, interp, paired = bench_http(base, state, view, a.n)
        print("HTTP slider round trip:", summary(times), f"response {np.median(sizes):.0f} B")
        print("HTTP interpolation 16 steps:", summary(interp))
        br = {} if a.no_browser else bench_browser(base)
        if br:
            print("browser:", json.dumps(br, indent=1))
        rss_after = rss_mb(pid)
    finally:
        srv.terminate()
        srv.wait(10)
    write_report(a, cfg, view, dec, hnd, disp, interp_in, times, sizes, interp, br, rss_loaded, rss_after, paired)
    return 0


def write_report(a, cfg, view, dec, hnd, disp, interp_in, times, sizes, interp, br, rss_loaded, rss_after, paired):
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0]
    p50_http, p50_in = pct(times, 50), pct(hnd, 50)
    lines = [
        f"\n## Explorer page: {view.name} on {cfg.dataset}, {view.n:,} points ({time.strftime('%Y-%m-%d %H:%M')})\n",
        f"Machine: {os.cpu_count()} cores ({cpu}), no GPU; load average {load:.1f} when finished"
        + (f"; {a.note}" if a.note else "")
        + ".",
        {
            "waitress": "Server: `latentdash serve` (waitress, 8 threads)",
            "flask": "Server: `latentdash serve --server flask` (Flask's development server, threaded)",
            "gunicorn": "Server: `gunicorn -w 1 -k gthread --threads 4 app:server`",
        }[a.server]
        + f" in its own process, torch {cfg.threads} thread(s) per decode; client: `http.client`, one "
        f"keep-alive connection, one request at a time. Maps: {', '.join(view.map_names)}.\n",
        "| measurement | result | target |",
        "|---|---|---|",
        f"| in-process decode + PNG data URI (1 image) | {summary(dec)} | |",
        f"| in-process slider handler (decode + PNG + map marker) | {summary(hnd)} | |",
        f"| same callback through Dash's dispatch in-process (Flask test client, no network) | {summary(disp)} | |",
        f"| **slider drag round trip, POST /_dash-update-component** | {summary(times)}; response "
        f"{np.median(sizes):.0f} B | p50 <= 20 ms, p99 <= 60 ms |",
        f"| in-process slider handler, each call right before its HTTP request | {summary(paired)} | |",
        f"| **HTTP p50 / in-process handler p50** | {p50_http / pct(paired, 50):.2f}x against the handler "
        f"timed alongside; {p50_http / p50_in:.2f}x against the handler timed before the server started; "
        f"HTTP / in-process Dash dispatch {p50_http / pct(disp, 50):.2f}x | <= 2x |",
        f"| in-process interpolation, 16 steps (decode + 32 PNGs) | {summary(interp_in)} | |",
        f"| **interpolation round trip, 16 steps** | {summary(interp)} | p50 <= 60 ms |",
        f"| server RSS after loading | {rss_loaded:.0f} MB | report |",
        f"| server RSS after the benchmark | {rss_after:.0f} MB | report |",
    ]
    if br:
        pay = br["payload"]
        lines += [
            f"| first map drawn after navigation (headless Chromium, software WebGL; median of "
            f"{len(br['first_map_loads_s'])} fresh loads) | **{np.median(br['first_map_loads_s']):.2f} s** "
            f"({', '.join(f'{v:.2f}' for v in br['first_map_loads_s'])}) | <= 3 s |",
            f"| initial data payload (layout + dependencies + first callbacks) | "
            f"{pay['data'] / 1e6:.2f} MB (largest response {br['largest_data_response'] / 1e6:.2f} MB) | <= 3 MB |",
            f"| JS/CSS bundles (plotly.js, Dash; cached by the browser after the first visit) | "
            f"{pay['js/css'] / 1e6:.2f} MB | |",
            f"| 3-D sibling drawn in the background (hidden graph) after navigation | "
            f"{br['prefetch_done_s']:.2f} s | |",
            f"| switch 2D -> 3D / 3D -> 2D, the page idle for a moment first (warm) | "
            f"{br['switch_3d_s']:.2f} s / {br['switch_2d_s']:.2f} s | <= 1 s |",
        ]
        if "switch_3d_cold_s" in br:
            lines.append(
                f"| switch 2D -> 3D / back, right after a method switch (cold: nothing drawn "
                f"in the background yet) | {br['switch_3d_cold_s']:.2f} s / {br['switch_2d_cold_s']:.2f} s | "
                f"<= 1 s |"
            )
        if br.get("switch_method_s"):
            lines.append(
                "| switch method ("
                + ", ".join(f"-> {m}: {t:.2f} s" for m, t in br["switch_method_s"].items())
                + ") | "
                + f"max {max(br['switch_method_s'].values()):.2f} s | <= 1 s |"
            )
        if "switch_space_s" in br:
            lines.append(f"| switch latent -> pixel map | {br['switch_space_s']:.2f} s | <= 1 s |")
        lines += [
            f"| slider drag in Chromium: decoded frames/s | {br['drag_fps']:.1f} frames/s "
            f"({br['drag_moves_per_s']:.0f} mouse moves/s, {br['drag_requests_per_s']:.1f} requests/s) | >= 20 |",
            f"| console errors during the run | {len(br['console_errors'])} | 0 |",
        ]
    lines.append("")
    print("\n".join(lines))
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print("written to", out)


if __name__ == "__main__":
    sys.exit(main())
