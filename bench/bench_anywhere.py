"""Speed of decode anywhere and the manifold grid (ui/anywhere.py) through the real HTTP endpoint
(Dash's `/_dash-update-component`, what the page posts), against baselines measured in the same
run, request by request interleaved:

- manifold grid round trip (12 x 12 = 144 decodes on a square view, one sprite PNG), target p50
  <= 150 ms, on the PCA map (exact inverse) and the UMAP map (the placer's inverse per cell);
- decode-anywhere click: the reducer's round trip (unproject -> sliders, stores, link), target
  <= 30 ms, and click -> image (that plus the current-decode callback the page then runs);
- baselines: one decode round trip (the current-decode callback for a new vector) and a map
  relayout round trip (the reducer's answer to a pan: what every zoom already costs).

    .venv/bin/python bench/bench_anywhere.py                  # shipped VAE-16 on the bundled 10k
    options: --checkpoint NAME|PATH, --dataset ID, --server gunicorn|waitress (default waitress),
             --n 60 (requests per kind), --out RESULTS.json

The server is a separate process started as a user would (`latentdash serve`, a free loopback
port); the client keeps one connection (requests.Session), one request in flight, and accepts
compressed answers as a browser does. Each request asks for a different view or position.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_api import free_port, wait_healthy  # noqa: E402
from latentdash.ui import ids, urlstate  # noqa: E402
from tests.dashclient import REDUCER, DashClient, stores_of  # noqa: E402

TARGETS = {"grid": 150.0, "click": 30.0}


def ms(ts) -> dict:
    a = np.asarray(ts) * 1e3
    return {"p50_ms": round(float(np.median(a)), 1), "p90_ms": round(float(np.percentile(a, 90)), 1), "n": len(a)}


def start_server(args, port: int):
    import subprocess

    cmd = [str(ROOT / ".venv" / "bin" / "latentdash"), "serve", "--checkpoint", args.checkpoint]
    cmd += ["--dataset", args.dataset, "--port", str(port), "--server", args.server]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return wait_healthy(proc, port, 600)


class Page:
    """What the page posts, built from the server's own /_dash-dependencies."""

    def __init__(self, base: str):
        self.s = requests.Session()
        self.dc = DashClient(self.s, prefix=base)
        status, data = self.dc.call(REDUCER, {"url.search": ""}, [])
        assert status == 200, status
        self.state = urlstate.merge(*(data["response"][sid]["data"] for sid in ids.STORE_OF.values()))
        self.n_sliders = sum(1 for k in data["response"] if k.startswith('{"index"'))

    def post(self, first_output, values, changed, pattern=None):
        t = time.perf_counter()
        status, data = self.dc.call(first_output, values, changed, pattern)
        dt = time.perf_counter() - t
        if status not in (200, 204):
            raise SystemExit(f"error: {first_output} answered {status}")
        return dt, data

    def with_map(self, map_name, grid=False):
        return dict(self.state, map=map_name, grid=grid, cam=None)

    def grid(self, state, x, y):
        req = {"key": f"{state['model']}|{state['map']}|{state.get('rev', 0)}", "x": x, "y": y, "nonce": 1}
        values = {f"{ids.ST_GRIDREQ}.data": req, f"{ids.ST_MAP}.data": urlstate.split(state)["map"]}
        dt, data = self.post(f"{ids.ST_GRIDOUT}.data", values, [f"{ids.ST_GRIDREQ}.data"])
        out = data["response"][ids.ST_GRIDOUT]["data"]
        assert out.get("src", "").startswith("data:image/png") and out["cols"] * out["rows"] == 144, out.keys()
        return dt

    def _reducer(self, state, changed: str, value, sliders):
        values = {**stores_of(state), changed: value, "click-mode.value": "inspect"}
        values[f"{ids.SLIDER}.value"] = sliders
        return self.post(REDUCER, values, [changed], {ids.SLIDER: list(range(self.n_sliders))})

    def click(self, state, xy, sliders):
        key = f"{state['model']}|{state['map']}|{state.get('rev', 0)}"
        dt, data = self._reducer(state, f"{ids.ST_ANYCLICK}.data", {"xy": xy, "key": key, "nonce": 1}, sliders)
        r = data["response"]
        assert ids.ST_Z in r and not r[ids.MSG]["children"], r.get(ids.MSG)
        return dt, r[ids.ST_Z]["data"]

    def relayout(self, state, x, y, sliders):
        rel = {"xaxis.range[0]": x[0], "xaxis.range[1]": x[1], "yaxis.range[0]": y[0], "yaxis.range[1]": y[1]}
        return self._reducer(state, f"{ids.GRAPH}.relayoutData", rel, sliders)[0]

    def decode(self, z_part):
        return self.post(f"{ids.CUR_IMG}.src", {f"{ids.ST_Z}.data": z_part}, [f"{ids.ST_Z}.data"])[0]


def run(args) -> dict:
    port = free_port()
    proc = start_server(args, port)
    try:
        page = Page(f"http://127.0.0.1:{port}/")
        from latentdash.server.app_factory import load_explorers
        from latentdash.server.config import ServeConfig

        # the same explorer here (its cached atlas), for the maps' extents and codes (not timed)
        ex = load_explorers(ServeConfig(checkpoints=(args.checkpoint,), dataset=args.dataset), progress=False)[0]
        rng = np.random.default_rng(0)
        out = {"checkpoint": args.checkpoint, "dataset": args.dataset, "n_atlas": ex.n, "server": args.server}
        sliders = [0.0] * page.n_sliders
        times = {k: [] for k in ("grid_pca", "grid_umap", "click", "click_image", "decode", "relayout")}
        views = {}
        for m in ("latent-pca-2d", "latent-umap-2d"):
            c = np.asarray(ex.coords(m), np.float64)
            views[m] = (c.min(0), c.max(0))
        st_pca, st_umap = page.with_map("latent-pca-2d", grid=True), page.with_map("latent-umap-2d", grid=True)
        for k in range(args.n + 3):  # interleaved; the first 3 rounds warm up
            rec = k >= 3
            for name, st in (("grid_pca", st_pca), ("grid_umap", st_umap)):
                lo, hi = views[st["map"]]
                half = 0.25 * float((hi - lo).min()) * rng.uniform(0.6, 1.0)
                mid = lo + (hi - lo) * rng.uniform(0.35, 0.65, 2)
                dt = page.grid(st, [mid[0] - half, mid[0] + half], [mid[1] - half, mid[1] + half])
                if rec:
                    times[name].append(dt)
            lo, hi = views["latent-pca-2d"]
            xy = (lo + (hi - lo) * rng.uniform(0.2, 0.8, 2)).tolist()
            dt, z_part = page.click(st_pca, xy, sliders)
            dt2 = page.decode(dict(z_part, model=st_pca["model"]))
            zq = (ex.latents[rng.integers(ex.n)] + 0.2 * rng.standard_normal(ex.latent_dim)).tolist()
            dt3 = page.decode({"model": st_pca["model"], "z": zq})
            span = (hi - lo) * rng.uniform(0.4, 0.9)
            x0 = lo + (hi - lo - span) * rng.uniform(0, 1, 2)
            dt4 = page.relayout(st_pca, [x0[0], x0[0] + span[0]], [x0[1], x0[1] + span[1]], sliders)
            if rec:
                times["click"].append(dt)
                times["click_image"].append(dt + dt2)
                times["decode"].append(dt3)
                times["relayout"].append(dt4)
        res = {k: ms(v) for k, v in times.items()}
        for k in ("grid_pca", "grid_umap", "click"):
            res[k]["vs_decode"] = round(res[k]["p50_ms"] / res["decode"]["p50_ms"], 2)
            res[k]["vs_relayout"] = round(res[k]["p50_ms"] / res["relayout"]["p50_ms"], 2)
        out["results"] = res
        out["targets_ms"] = TARGETS
        out["meets"] = {
            "grid_p50": max(res["grid_pca"]["p50_ms"], res["grid_umap"]["p50_ms"]) <= TARGETS["grid"],
            "click_p50": res["click"]["p50_ms"] <= TARGETS["click"],
        }
        out["machine"] = f"{platform.machine()} {platform.processor() or ''}".strip()
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default="fashion-vae-16")
    ap.add_argument("--dataset", default="fashion-mnist-test")
    ap.add_argument("--server", default="waitress")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    out = run(args)
    r = out["results"]
    print(f"{out['checkpoint']} on {out['dataset']} ({out['n_atlas']} items), server {out['server']}")
    print("| round trip | p50 ms | p90 ms | n | vs decode | vs relayout |")
    print("|---|---|---|---|---|---|")
    labels = {
        "grid_pca": "manifold grid 12x12, PCA map",
        "grid_umap": "manifold grid 12x12, UMAP map",
        "click": "decode-anywhere click (reducer)",
        "click_image": "click -> decoded image (+ image callback)",
        "decode": "baseline: one decode (image callback)",
        "relayout": "baseline: map relayout (reducer)",
    }
    for k, lab in labels.items():
        v = r[k]
        ratios = f"{v.get('vs_decode', '-')} | {v.get('vs_relayout', '-')}"
        print(f"| {lab} | {v['p50_ms']} | {v['p90_ms']} | {v['n']} | {ratios} |")
    print("targets:", out["targets_ms"], "met:", out["meets"])
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
