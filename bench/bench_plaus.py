"""Plausibility riding along with every slider frame (issue 11, part 3), A/B in one run.

In-process (the shipped VAE-16 on the bundled 10k atlas, and on the 70k Fashion-MNIST atlas when
it is cached; one torch thread, as a serving thread decodes), interleaved frame by frame:
- A: a drag frame as served (`callbacks.drag_frame`: decode + PNG + marker + plausibility);
- B: the same frame without the plausibility (`{"plaus": false}`: the baseline);
- C: a plausibility-only frame (kind "plaus", what the page posts while it decodes in the browser);
- D: `Explorer.plausibility` of one vector alone.
In headless Chromium against `latentdash serve` (default map, UMAP 2-D): a scripted drag (one
value per animation frame) decoded on the server and decoded in the browser, each with the
plausibility on and off (`latentdashPlaus.off`, same page, ABBA order): frames/s shown, plausibility
updates shown per second, and the drag requests the server got.

    .venv/bin/python bench/bench_plaus.py [--n 300] [--seconds 4] [--rounds 2] [--no-browser] [--no-70k]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, shipped_atlas_path  # noqa: E402
from latentdash.atlas.store import load_atlas  # noqa: E402
from latentdash.models import load_model  # noqa: E402
from latentdash.service import Explorer  # noqa: E402
from latentdash.ui import render, urlstate  # noqa: E402
from latentdash.ui.callbacks import drag_frame  # noqa: E402
from latentdash.ui.catalog import Catalog  # noqa: E402


def _ms(ts) -> dict:
    a = np.asarray(ts) * 1e3
    return {"p50_ms": round(float(np.median(a)), 3), "p90_ms": round(float(np.percentile(a, 90)), 3)}


def bench_frames(ex: Explorer, n: int, seed: int = 0) -> dict:
    cat = Catalog([ex])
    state = urlstate.default_state(cat)
    parts = urlstate.split(state)
    view = cat.get(ex.name)
    axes = view.sliders["dims"]
    rendered = {"key": render.map_key(view.name, state)}
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(axes.lo, np.float64), np.asarray(axes.hi, np.float64)
    frames = [(lo + (hi - lo) * rng.uniform(0.05, 0.95, len(lo))).round(3).tolist() for _ in range(n)]

    def frame(values, **extra):
        return drag_frame(cat, {"values": values, "kind": "z", **extra}, parts["map"], parts["z"], rendered, None)

    arms = {
        "A_frame_with_plausibility": lambda v: frame(v),
        "B_frame_without (baseline)": lambda v: frame(v, plaus=False),
        "C_plausibility_only_frame": lambda v: drag_frame(
            cat, {"values": v, "kind": "plaus"}, parts["map"], parts["z"], rendered, None
        ),
        "D_Explorer.plausibility": lambda v: ex.plausibility(axes.compose(ex.latents[0], np.asarray(v, np.float32))),
    }
    times = {k: [] for k in arms}
    verdicts = []
    for f in arms.values():
        f(frames[0])  # warm-up
    for v in frames:  # interleaved: machine noise moves every arm alike
        for k, f in arms.items():
            t = time.perf_counter()
            r = f(v)
            times[k].append(time.perf_counter() - t)
            if k.startswith("A"):
                assert "plaus" in r and r["plaus"], r
                verdicts.append(r["plaus"]["verdict"])
    out = {"n_atlas": ex.n, "frames": n, **{k: _ms(t) for k, t in times.items()}}
    a, b = out["A_frame_with_plausibility"]["p50_ms"], out["B_frame_without (baseline)"]["p50_ms"]
    out["ratio_A_over_B_p50"] = round(a / b, 3)
    out["added_p50_ms"] = round(a - b, 3)
    out["frames_per_s_one_core_A"] = round(1000 / a, 1)
    out["verdicts"] = {v: verdicts.count(v) for v in sorted(set(verdicts))}
    return out


def find_70k(model):
    from latentdash.atlas.build import artifact_path, atlas_key
    from latentdash.atlas.params import AtlasParams
    from latentdash.data import load_dataset

    ds = load_dataset("fashion-mnist")
    key, _ = atlas_key(model, ds, AtlasParams(methods=("pca",)), DEFAULT_CHECKPOINT)
    path = artifact_path(key)
    return load_atlas(path) if path.is_file() else None


# ----------------------------------------------------------------------------- browser
def bench_browser(seconds: float, rounds: int) -> dict:
    import psutil
    from bench_onnx import DRAG, FORCE_SERVER, IN_BROWSER, SLIDERS, start_server
    from explorer_browser import CHROMIUM, FLAGS, MAP_DRAWN
    from playwright.sync_api import sync_playwright

    srv, base = start_server()
    procs = lambda: [psutil.Process(srv.pid)] + psutil.Process(srv.pid).children(recursive=True)  # noqa: E731
    cpu = lambda: sum(t.user + t.system for t in (p.cpu_times() for p in procs()))  # noqa: E731
    out = {}
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for where in ("server", "browser"):
                ctx = b.new_context(viewport={"width": 1440, "height": 900})
                if where == "server":
                    ctx.add_init_script(FORCE_SERVER)
                pg = ctx.new_page()
                kinds = []

                def seen(r, kinds=kinds):
                    body = r.post_data or ""
                    if "st-dragout" in body:
                        kinds.append(json.loads(body)["inputs"][0]["value"].get("kind"))

                pg.on("request", seen)
                pg.goto(base)
                pg.wait_for_function(MAP_DRAWN, timeout=120_000)
                pg.wait_for_function(SLIDERS, timeout=120_000)
                pg.wait_for_function("() => window.latentdashDrag.state && window.latentdashPlaus", timeout=120_000)
                if where == "browser":
                    pg.hover(".ld-sliders")
                    pg.wait_for_function(IN_BROWSER, timeout=120_000)
                pg.wait_for_timeout(1500)
                pg.evaluate(DRAG, 500)  # warm-up
                arms = {"on": [], "off": []}
                for k in range(2 * rounds):  # ABBA
                    arm = "on" if k % 4 in (0, 3) else "off"
                    pg.evaluate(f"() => {{ window.latentdashPlaus.off = {'true' if arm == 'off' else 'false'}; }}")
                    u0, n0, c0 = pg.evaluate("window.latentdashPlaus.updates"), len(kinds), cpu()
                    r = pg.evaluate(DRAG, int(seconds * 1000))
                    r["server_cpu_s"] = round(cpu() - c0, 3)
                    r["plaus_updates_per_s"] = round(
                        (pg.evaluate("window.latentdashPlaus.updates") - u0) / r["seconds"], 1
                    )
                    ks = kinds[n0:]
                    r["requests"] = {q: ks.count(q) for q in sorted(set(map(str, ks)))}
                    shown = r["browser_frames"] if where == "browser" else r["server_images"]
                    r["frames_per_s"] = round(shown / r["seconds"], 1)
                    arms[arm].append(r)
                out[where] = {
                    arm: {
                        "frames_per_s": statistics.median(x["frames_per_s"] for x in rs),
                        "plaus_updates_per_s": statistics.median(x["plaus_updates_per_s"] for x in rs),
                        "server_cpu_s": statistics.median(x["server_cpu_s"] for x in rs),
                        "requests": rs[-1]["requests"],
                        "raf_per_s": round(statistics.median(x["raf_per_s"] for x in rs), 1),
                    }
                    for arm, rs in arms.items()
                }
                on, off = out[where]["on"]["frames_per_s"], out[where]["off"]["frames_per_s"]
                out[where]["ratio_on_over_off_fps"] = round(on / max(off, 1e-9), 3)
                print(f"drag, decoded {where}:", json.dumps(out[where]))
                ctx.close()
            b.close()
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="frames per in-process arm")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each scripted drag")
    ap.add_argument("--rounds", type=int, default=2, help="ABBA rounds per decoding place")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-70k", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)  # as a serving thread decodes (one image per request)
    model = load_model(str(DEFAULT_CHECKPOINT))
    res = {"time": time.strftime("%F %T")}
    res["frames_10k"] = bench_frames(Explorer(model, load_atlas(shipped_atlas_path()), "fashion-vae-16"), a.n)
    print("in-process, 10k:", json.dumps(res["frames_10k"]))
    if not a.no_70k:
        a70 = find_70k(model)
        if a70 is None:
            print(
                "no 70k atlas cached; build it with `latentdash precompute --checkpoint fashion-vae-16 "
                "--dataset fashion-mnist --methods pca`"
            )
        else:
            res["frames_70k"] = bench_frames(Explorer(model, a70, "fashion-vae-16@70k"), a.n)
            print("in-process, 70k:", json.dumps(res["frames_70k"]))
    if not a.no_browser:
        res["browser"] = bench_browser(a.seconds, a.rounds)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
