"""A classroom on one machine: N simulated students (default 30) against a real server on
loopback, each doing what the page does: load it (index, layout, dependencies, the first
callbacks), click a point (the reducer and the inspector), then drag a latent slider for
--duration seconds (default 60) with one request in flight (the page's drag loop,
latentdash/assets/ld-4-drag.js: the body comes from the server's contract, ui/contract.py), and
every few seconds interpolate between two points. Servers, in one run (the first is the
baseline of the ratios):

    waitress     `latentdash serve --server waitress` (one process, 8 threads: the old default)
    default      `latentdash serve` as the README starts it (gunicorn, auto workers)
    gunicorn-N   `latentdash serve --workers N`

    .venv/bin/python bench/bench_load.py                                   # 30 students, 60 s each
    .venv/bin/python bench/bench_load.py --clients 30 --duration 20 --servers waitress,default,gunicorn-4
    options: --procs P (load-generator processes, default 2), --checkpoint NAME, --out REPORT.md

Reported per server: errors, per-client frames/s (median and worst), drag round trip p50/p99,
interpolations, server CPU (cores busy, psutil over the server's process tree) and memory
(PSS, total over the tree). The load generator runs on the same cores as the server, as a
classroom laptop would not, so these are worst-case figures. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentdash.ui import ids, urlstate  # noqa: E402
from tests.dashclient import REDUCER, DashClient  # noqa: E402

HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "gzip, deflate, br"}
INTERP_EVERY_S = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def decode_body(resp, data: bytes) -> bytes:
    enc = resp.getheader("Content-Encoding")
    if enc == "br":
        import brotli

        return brotli.decompress(data)
    if enc == "gzip":
        import gzip

        return gzip.decompress(data)
    return data


class Conn:
    """One keep-alive connection (a browser tab's), thin: http.client."""

    def __init__(self, port: int):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None):
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=body, headers=HEADERS)
                r = self.c.getresponse()
                return r.status, decode_body(r, r.read())
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    # DashClient's interface
    def get(self, path):
        return _Resp(*self.request("GET", path))

    def post(self, path, json=None):
        import json as _json

        return _Resp(*self.request("POST", path, body=_json.dumps(json)))


class _Resp:
    def __init__(self, status, data):
        self.status_code, self.data = status, data

    def json(self):
        return json.loads(self.data)


def student(port: int, k: int, duration: float, out: list) -> None:
    """One student: page load, a click, then drag for `duration` s with interpolations."""
    rec = {"frames": 0, "drag_s": 0.0, "lat": [], "errors": 0, "interp": 0, "interp_lat": [], "err_msgs": []}
    rng = np.random.default_rng(k)
    try:
        c = Conn(port)
        for path in ("/", "/_dash-layout"):
            st, _ = c.request("GET", path)
            if st != 200:
                rec["errors"] += 1
        dc = DashClient(c)  # GET /_dash-dependencies
        st, data = dc.call(REDUCER, {"url.search": "", "click-mode.value": "inspect"}, [])
        r = data["response"]
        state = urlstate.merge(*(r[sid]["data"] for sid in ids.STORE_OF.values()))
        n = 10000
        pt = int(rng.integers(0, n))
        values = {f"{sid}.data": part for sid, part in zip(ids.STORE_OF.values(), urlstate.split(state).values())}
        values.update(
            {"map.clickData": {"points": [{"curveNumber": 0, "pointNumber": 0, "customdata": pt}]}},
            **{"click-mode.value": "inspect"},
        )
        st, data = dc.call(REDUCER, values, ["map.clickData"])
        if st == 200 and data and "st-z" in data["response"]:
            r = data["response"]
            state = urlstate.merge(
                *(
                    r.get(sid, {}).get("data", part)
                    for sid, part in zip(ids.STORE_OF.values(), urlstate.split(state).values())
                )
            )
        else:
            rec["errors"] += st not in (200, 204)
        st, _ = dc.call("ins-orig.src", {"st-sel.data": {"model": state["model"], "sel": pt}}, ["st-sel.data"])
        rec["errors"] += st != 200
        p = urlstate.split(state)
        z = np.asarray(state["z"], float)
        rendered = {"key": f"{state['model']}|{state['map']}|{state['rev']}"}
        dim = len(z)
        # the drag loop's bodies, prepared like the page prepares them (one object per frame)
        bodies = []
        for fr in np.linspace(-2.0, 2.0, 48):
            vals = [float(v) for v in z[: min(dim, 16)]]
            vals[0] = float(fr)
            b = dc.body(
                "st-dragout.data",
                {
                    "st-drag.data": {"values": vals, "kind": "z"},
                    "st-map.data": p["map"],
                    "st-z.data": p["z"],
                    "st-rendered.data": rendered,
                    "st-attrvec.data": None,
                },
                ["st-drag.data"],
            )
            bodies.append(json.dumps(b))
        interp = dc.body(
            "int-a.children",
            {"st-interp.data": {"model": state["model"], "a": pt, "b": (pt + 4321) % n, "steps": 16, "mode": "linear"}},
            ["st-interp.data"],
        )
        t_end = time.perf_counter() + duration
        next_interp = time.perf_counter() + INTERP_EVERY_S * (1 + rng.random())
        i = 0
        while True:
            now = time.perf_counter()
            if now >= t_end:
                break
            if now >= next_interp:
                t = time.perf_counter()
                st, body = c.request("POST", "/_dash-update-component", json.dumps(interp))
                rec["interp_lat"].append(time.perf_counter() - t)
                rec["interp"] += 1
                if st != 200:
                    rec["errors"] += 1
                next_interp = time.perf_counter() + INTERP_EVERY_S
                continue
            t = time.perf_counter()
            try:
                st, body = c.request("POST", "/_dash-update-component", bodies[i % len(bodies)])
            except (OSError, http.client.HTTPException) as e:
                st, body = 0, str(e).encode()
            dt = time.perf_counter() - t
            rec["drag_s"] += dt
            i += 1
            if st == 200 and b'"src":"data:image' in body:
                rec["frames"] += 1
                rec["lat"].append(dt)
            else:
                rec["errors"] += 1
                if len(rec["err_msgs"]) < 3:
                    rec["err_msgs"].append(f"{st} {body[:120]!r}")
    except Exception as e:  # a client that could not even start counts as one error
        rec["errors"] += 1
        rec["err_msgs"].append(repr(e)[:200])
    out.append(rec)


def _proc(port, ks, duration, q):
    out, threads = [], []
    for k in ks:
        th = threading.Thread(target=student, args=(port, k, duration, out))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    t = os.times()
    q.put((out, t.user + t.system))


def run_load(port: int, clients: int, duration: float, procs: int) -> list[dict]:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    groups = [list(range(clients))[i::procs] for i in range(procs)]
    ps = [ctx.Process(target=_proc, args=(port, g, duration, q)) for g in groups if g]
    for p in ps:
        p.start()
    recs, cpu = [], 0.0
    for _ in ps:
        out, c = q.get(timeout=duration + 600)
        recs += out
        cpu += c
    for p in ps:
        p.join()
    run_load.client_cpu_s = cpu
    return recs


def tree(pid: int) -> list[psutil.Process]:
    p = psutil.Process(pid)
    return [p, *p.children(recursive=True)]


def cpu_s(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def pss_mb(procs) -> float:
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total / 2**20


def start_server(kind: str, checkpoint: str | None):
    port = free_port()
    cmd = [sys.executable, "-m", "latentdash.cli", "serve", "--port", str(port)]
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    if kind == "waitress":
        cmd += ["--server", "waitress"]
    elif kind.startswith("gunicorn-"):
        cmd += ["--server", "gunicorn", "--workers", kind.split("-", 1)[1]]
    elif kind != "default":
        raise SystemExit(f"error: unknown server {kind!r}; use waitress, default or gunicorn-N")
    env = dict(os.environ)
    env.pop("LATENTDASH_SERVER", None)
    env.pop("LATENTDASH_WORKERS", None)
    import tempfile

    log = tempfile.TemporaryFile("w+")  # not a pipe: a server that logs a lot must never block on it
    srv = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    srv.log = log
    import requests

    for _ in range(1200):
        if srv.poll() is not None:
            log.seek(0)
            raise SystemExit(f"error: server {kind} exited: {log.read()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.25)
    time.sleep(1.0)  # every worker up
    return srv, port


def bench_server(kind, a) -> dict:
    srv, port = start_server(kind, a.checkpoint)
    try:
        procs = tree(srv.pid)
        workers = len(procs) - 1 if kind != "waitress" else 1
        # warm-up: one client for a few seconds (first torch calls, first compressions)
        run_load(port, 2, 3.0, 1)
        procs = tree(srv.pid)
        c0, t0 = cpu_s(procs), time.perf_counter()
        recs = run_load(port, a.clients, a.duration, a.procs)
        wall = time.perf_counter() - t0
        procs = tree(srv.pid)
        cpu = (cpu_s(procs) - c0) / wall
        client_cpu = run_load.client_cpu_s / wall
        mem = pss_mb(procs)
    finally:
        srv.terminate()
        try:
            srv.wait(20)
        except subprocess.TimeoutExpired:
            srv.kill()
    fps = [r["frames"] / r["drag_s"] if r["drag_s"] > 0 else 0.0 for r in recs]
    lat = np.concatenate([np.asarray(r["lat"]) for r in recs if r["lat"]] or [np.zeros(1)]) * 1000
    il = np.concatenate([np.asarray(r["interp_lat"]) for r in recs if r["interp_lat"]] or [np.zeros(1)]) * 1000
    return {
        "server": kind,
        "workers": workers,
        "clients": len(recs),
        "errors": int(sum(r["errors"] for r in recs)),
        "err_msgs": [m for r in recs for m in r["err_msgs"]][:5],
        "frames": int(sum(r["frames"] for r in recs)),
        "fps_median": float(np.median(fps)),
        "fps_worst": float(np.min(fps)),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "interp": int(sum(r["interp"] for r in recs)),
        "interp_p50_ms": float(np.percentile(il, 50)),
        "cpu_cores": cpu,
        "client_cpu_cores": client_cpu,
        "cpu_ms_per_frame": 1000 * cpu * wall / max(1, sum(r["frames"] + r["interp"] for r in recs)),
        "pss_mb": mem,
        "load": os.getloadavg()[0],
    }


def report(results, a) -> str:
    base = results[0]
    lines = [
        f"\n## Load: {a.clients} students x {a.duration:.0f} s of dragging ({time.strftime('%Y-%m-%d %H:%M')})\n",
        f"Machine: {os.cpu_count()} cores, load average {results[-1]['load']:.1f} at the end; load generator "
        f"({a.procs} processes) on the same cores. "
        f"Baseline for the ratios: {base['server']}.\n",
        "| server | workers | errors | frames/s per client, median / worst | drag p50 / p99 | interpolations "
        "(p50) | server CPU (cores; ms per request) | load generator CPU | server PSS | fps ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['server']} | {r['workers']} | {r['errors']} | {r['fps_median']:.1f} / {r['fps_worst']:.1f} | "
            f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms | {r['interp']} ({r['interp_p50_ms']:.0f} ms) | "
            f"{r['cpu_cores']:.2f}; {r['cpu_ms_per_frame']:.1f} ms | {r['client_cpu_cores']:.2f} | "
            f"{r['pss_mb']:.0f} MB | "
            f"{r['fps_median'] / max(base['fps_median'], 1e-9):.2f}x |"
        )
    lines.append("\nTarget (the README's default command): every client >= 20 frames/s, p99 <= 150 ms, 0 errors.")
    for r in results:
        if r["err_msgs"]:
            lines.append(f"- {r['server']} errors, first ones: {r['err_msgs']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--servers", default="waitress,default,gunicorn-4")
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes")
    ap.add_argument("--checkpoint", default=None, help="one model to serve (default: the shipped ones)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    results = []
    for kind in a.servers.split(","):
        print(f"--- {kind}: {a.clients} clients x {a.duration:.0f} s ...", flush=True)
        r = bench_server(kind.strip(), a)
        print(json.dumps(r), flush=True)
        results.append(r)
    text = report(results, a)
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
