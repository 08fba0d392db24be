"""Speed of the latent-algebra panels: attribute-strength drag, traversal and prior grids,
arithmetic, an attribute vector between two selections, and a lasso -> selection gallery, each as
a ratio against a baseline measured in the same run.

    .venv/bin/python bench/bench_algebra.py                                        # bundled 10k atlas
    .venv/bin/python bench/bench_algebra.py --dataset fashion-mnist --methods pca  # 70k points
    options: --checkpoint PATH (repeat), --limit N, --n 40, --no-browser, --out RESULTS.json

Baselines: over HTTP, the latent-slider drag round trip (the same request the page posts while a
slider handle moves), interleaved with the measured requests (one of each per round), so machine
noise moves both; in Chromium, the latent-slider drag frame rate (strength drag) and a lasso of
~100 points (the 10k lasso), alternated in the same page.

The server runs as its own process, started like a user starts it: `latentdash serve` (the 10k
case: the default start, the shipped models; another dataset: the default model only, unless
--checkpoint or --all-models). The client is http.client, one keep-alive connection, one request
at a time; each request is the body the page posts for that callback (tests/dashclient.py builds
it from /_dash-dependencies).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import bench_explorer as be  # noqa: E402  (bench/, next to this file)
from bench_explorer import _Prefixed, pct, rss_mb  # noqa: E402

from latentdash.server.app_factory import load_explorers  # noqa: E402
from latentdash.server.config import from_env  # noqa: E402
from latentdash.ui import algebra_render, events, ids, render, urlstate  # noqa: E402
from latentdash.ui.catalog import Catalog  # noqa: E402
from latentdash.ui.events import URL_SOURCE  # noqa: E402
from tests.dashclient import DashClient  # noqa: E402

PORTS = range(8071, 8080)
TRAV = {"ton": True, "trows": "var", "tn": 8, "tcols": 9, "tk": 2.0, "tsort": False}
PRIOR_N = 64
GROUP = 5000
LASSO = 10000


def pick_port() -> int:
    for p in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue
    raise SystemExit("no free port in 8071-8079")


def stats(xs) -> dict:
    return {"p50_ms": pct(xs, 50), "p90_ms": pct(xs, 90), "n": len(xs)}


# ------------------------------------------------------------------------------ request bodies
class Bodies:
    """The bodies the page posts, built from the server's /_dash-dependencies."""

    def __init__(self, dc: DashClient, cat, view, state):
        self.dc, self.cat, self.view, self.state = dc, cat, view, state

    def rendered(self, s):
        return {"key": f"{s['model']}|{s['map']}|{s['rev']}"}

    def slider(self, s, frac):
        p = urlstate.split(s)
        vals = be.slider_values(self.view, s, 0, frac)
        return self.dc.body(
            "st-dragout.data",
            {"st-drag.data": {"values": vals}, "st-map.data": p["map"], "st-z.data": p["z"],
             "st-rendered.data": self.rendered(s)},
            ["st-drag.data"],
        )  # fmt: skip

    def strength(self, s, value, vec):
        p = urlstate.split(s)
        return self.dc.body(
            "st-dragout.data",
            {"st-drag.data": {"values": [value], "kind": "strength"}, "st-map.data": p["map"],
             "st-z.data": p["z"], "st-rendered.data": self.rendered(s), "st-attrvec.data": vec},
            ["st-drag.data"],
        )  # fmt: skip

    def render(self, first_output, s, stores, changed):
        p = urlstate.split(s)
        return self.dc.body(
            first_output, {f"{ids.STORE_OF[k]}.data": p[k] for k in stores}, [f"{ids.STORE_OF[changed]}.data"]
        )

    def reducer(self, old, controls: dict, changed: str, extra: dict | None = None, pattern=None, pattern_values=None):
        """The reducer's request as the page posts it: every control's current value (what `old`
        shows, with `controls` changed), the stores of `old`, and the fired property."""
        vals = {f"{cid}.value": v for cid, v in events.control_values(old, self.cat.get(old["model"])).items()}
        vals.update({f"{cid}.value": v for cid, v in controls.items()})
        vals[f"{URL_SOURCE.id}.{URL_SOURCE.prop}"] = urlstate.serialize(old, self.cat)
        vals.update({f"{ids.STORE_OF[k]}.data": v for k, v in urlstate.split(old).items()})
        vals[f"{ids.CLICK_MODE}.value"] = "inspect"
        vals.update(extra or {})
        vals.update(pattern_values or {})
        return self.dc.body("st-map.data", vals, [changed], pattern)


# ------------------------------------------------------------------------------ in-process
def bench_inprocess(cat, view, s, groups, lasso_sel, n=10):
    """The render handlers in this process (no Dash, no HTTP): where a round trip's time goes."""

    def tm(f):
        f()
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return stats(ts)

    g_state = dict(s, groups=groups, selection=groups["two"], dir=None)
    d_state = dict(g_state, dir="g:one>g:two")
    vals = be.slider_values(view, s, 0, 0.3)
    return {
        "slider handler (decode + PNG + marker)": tm(lambda: render.live_decode(vals, s, cat)),
        "traversal 8x9 (render_trav)": tm(lambda: algebra_render.render_trav(dict(s, **TRAV), cat)),
        "prior 64 (render_prior)": tm(
            lambda: algebra_render.render_prior(dict(s, pon=True, pn=PRIOR_N, pseed=0, ptemp=1.0), cat)
        ),
        "arithmetic (render_arith)": tm(
            lambda: algebra_render.render_arith(dict(s, arA={"i": 1}, arB={"i": 2}, arC={"i": 3}), cat)
        ),
        "direction event (events.reduce)": tm(
            lambda: events.reduce(g_state, "direction", {"kind": "groups", "from": "g:one", "to": "g:two"}, cat)
        ),
        "attribute vector (render_attr)": tm(lambda: algebra_render.render_attr(d_state, cat)),
        "select event (events.reduce)": tm(lambda: events.reduce(s, "select", {"idx": lasso_sel}, cat)),
        "gallery (render_gallery)": tm(lambda: algebra_render.render_gallery(dict(s, selection=lasso_sel), cat)),
        "URL of the lasso state (urlstate.serialize)": tm(
            lambda: urlstate.serialize(dict(s, selection=lasso_sel), cat)
        ),
    }


# ------------------------------------------------------------------------------ HTTP
def bench_http(base, cat, view, state, n, groups, lasso_sel, vec, warm=3):
    sess = requests.Session()
    dc = DashClient(_Prefixed(sess, base))
    B = Bodies(dc, cat, view, state)
    host, port = base.split("//", 1)[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port))

    def post(body):
        data = json.dumps(body)
        t = time.perf_counter()
        conn.request("POST", "/_dash-update-component", body=data, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        content = r.read()
        dt = time.perf_counter() - t
        if r.status != 200:
            raise SystemExit(f"HTTP {r.status} for {body['output'][:60]}: {content[:300]!r}")
        return dt, content, len(data)

    lat = np.asarray(view.explorer.latents, np.float32)
    rng = np.random.default_rng(1)
    series = {k: [] for k in ("slider", "strength", "trav", "prior", "arith", "set_c", "direction", "lasso")}
    sizes = {k: [] for k in series}
    parts = {"set_c": ([], []), "direction": ([], []), "lasso": ([], [])}
    arith_set = {"arith-set.n_clicks": [None, None, 1]}
    for i in range(n + warm):
        keep = i >= warm
        j = int(rng.integers(view.n))
        s = dict(state, sel=j, z=[float(v) for v in lat[j]])  # the current vector moves round to round

        def rec(key, dt, content, nin, keep=keep):
            if keep:
                series[key].append(dt)
                sizes[key].append((nin, len(content)))

        # baseline: one slider-drag frame
        r = post(B.slider(s, float(rng.random())))
        assert b'"src"' in r[1] and b'"error"' not in r[1], r[1][:300]
        rec("slider", *r)
        # attribute strength drag frame (HTTP; the page's rate is measured in Chromium)
        r = post(B.strength(s, float(rng.uniform(-3, 3)), vec))
        assert b'"src"' in r[1] and b'"error"' not in r[1], r[1][:300]
        rec("strength", *r)
        # traversal grid around the current vector: st-trav just switched on
        rec("trav", *post(B.render("trav-grid.children", dict(s, **TRAV), ("trav", "z", "attr", "selection"), "trav")))
        # prior grid of 64, a new seed each round (Re-roll)
        sp = dict(s, pon=True, pn=PRIOR_N, pseed=i, ptemp=1.0)
        rec("prior", *post(B.render("prior-grid.children", sp, ("prior",), "prior")))
        # arithmetic A - B + C from three dataset items: st-arith changed
        a, b, c = (int(x) for x in rng.choice(view.n, 3, replace=False))
        sa = dict(s, arA={"i": a}, arB={"i": b}, arC={"i": c})
        rec("arith", *post(B.render("arith-eq.children", sa, ("arith",), "arith")))
        # "Set C <- current": the reducer event, then the arithmetic render with its new store
        old = dict(s, arA={"i": a}, arB={"i": b}, arC=None)
        body = B.reducer(
            old, {}, '{"index":"c","type":"arith-set"}.n_clicks', pattern={"arith-set": ["a", "b", "c"]},
            pattern_values=arith_set,
        )  # fmt: skip
        d1, content, nin = post(body)
        st_arith = json.loads(content)["response"][ids.ST_ARITH]["data"]
        assert st_arith.get("arC") is not None, st_arith
        d2, content2, nin2 = post(B.dc.body("arith-eq.children", {"st-arith.data": st_arith}, ["st-arith.data"]))
        rec("set_c", d1 + d2, content + content2, nin + nin2)
        if keep:
            parts["set_c"][0].append(d1)
            parts["set_c"][1].append(d2)
        # attribute vector between two saved groups of 5,000 points: the direction event
        # (attr-to set to the second group), then the attribute card's render with its new store
        old = dict(s, groups=groups, selection=groups["two"], gpage=0, dir=None)
        body = B.reducer(
            old, {ids.ATTR_KIND: "groups", ids.ATTR_FROM: "g:one", ids.ATTR_TO: "g:two"}, f"{ids.ATTR_TO}.value"
        )
        d1, content, nin = post(body)
        st_attr = json.loads(content)["response"][ids.ST_ATTR]["data"]
        assert st_attr["dir"] == "g:one>g:two", st_attr
        p = urlstate.split(old)
        d2, content2, nin2 = post(
            B.dc.body(
                "attr-presets.children",
                {"st-attr.data": st_attr, "st-z.data": p["z"], "st-selection.data": p["selection"]},
                ["st-attr.data"],
            )
        )
        assert b'"st-attrvec"' in content2 and b'"v"' in content2, content2[:300]
        rec("direction", d1 + d2, content + content2, nin + nin2)
        if keep:
            parts["direction"][0].append(d1)
            parts["direction"][1].append(d2)
        # lasso of ~10k points: the select event (st-lasso, as the page reduces plotly's
        # selectedData), then the gallery's render with its new store (sequential, one client)
        body = B.reducer(s, {}, f"{ids.ST_LASSO}.data", extra={f"{ids.ST_LASSO}.data": {"idx": lasso_sel}})
        d1, content, nin = post(body)
        st_sel = json.loads(content)["response"][ids.ST_SELECTION]["data"]
        assert len(st_sel["selection"]) == len(lasso_sel)
        gallery = B.dc.body("gallery-info.children", {"st-selection.data": st_sel}, ["st-selection.data"])
        d2, content2, nin2 = post(gallery)
        rec("lasso", d1 + d2, content + content2, nin + nin2)
        if keep:
            parts["lasso"][0].append(d1)
            parts["lasso"][1].append(d2)
    conn.close()
    return series, sizes, parts


# ------------------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", action="append")
    ap.add_argument("--dataset", default=None)
    ap.add_argument("--methods", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--all-models", action="store_true", help="serve every shipped model (default on the 10k)")
    ap.add_argument("--n", type=int, default=40, help="HTTP rounds (one request of each kind per round)")
    ap.add_argument("--reps", type=int, default=3, help="lassos of each size in Chromium")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--out", default=None, help="also write the results (JSON) to this file")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    cfg = from_env(
        checkpoints=tuple(a.checkpoint) if a.checkpoint else None,
        dataset=a.dataset,
        methods=tuple(a.methods.split(",")) if a.methods else None,
        limit=a.limit,
        cache_dir=a.cache_dir,
    )
    default_start = not (a.checkpoint or a.dataset or a.methods or a.limit)
    all_models = a.all_models or default_start
    served = list(cfg.checkpoint_list()) if (all_models or a.checkpoint) else cfg.checkpoint_list()[:1]
    print("loading the default model's explorer (in-process)...", flush=True)
    cat = Catalog(load_explorers(cfg.replace(checkpoints=tuple(served[:1])), progress=True))
    be.CAT = cat  # bench_explorer.slider_values reads its module's catalog
    view = cat.get(cat.default)
    state = urlstate.default_state(cat)
    rng = np.random.default_rng(0)
    perm = rng.permutation(view.n)
    groups = {"one": sorted(perm[:GROUP].tolist()), "two": sorted(perm[GROUP : 2 * GROUP].tolist())}
    if len(groups["two"]) < GROUP:  # a small atlas: two halves
        half = view.n // 2
        groups = {"one": sorted(perm[:half].tolist()), "two": sorted(perm[half : 2 * half].tolist())}
    n_lasso = min(LASSO, view.n // 2)
    lasso_sel = sorted(rng.choice(view.n, n_lasso, replace=False).tolist())
    d = algebra_render.render_attr(dict(state, dir="c7>c9"), cat)
    vec = {"model": view.name, "v": d["v"]}
    inproc = bench_inprocess(cat, view, state, groups, lasso_sel)
    for k, v in inproc.items():
        print(f"in-process {k}: p50 {v['p50_ms']:.2f} ms, p90 {v['p90_ms']:.2f} ms")

    port = pick_port()
    cmd = [sys.executable, "-m", "latentdash.cli", "serve", "--port", str(port)]
    if not default_start:
        cmd += ["--dataset", cfg.dataset, "--methods", ",".join(cfg.methods)]
        for c in served:
            cmd += ["--checkpoint", c]
        if cfg.limit:
            cmd += ["--limit", str(cfg.limit)]
        if cfg.cache_dir:
            cmd += ["--cache-dir", cfg.cache_dir]
    print("server:", " ".join(cmd[1:]), flush=True)
    srv = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(1200):
            try:
                if requests.get(base + "healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if srv.poll() is not None:
                raise SystemExit(f"the server exited ({srv.returncode}); run {' '.join(cmd[1:])} to see why")
            time.sleep(0.5)
        rss_loaded = rss_mb(srv.pid)
        series, sizes, parts = bench_http(base, cat, view, state, a.n, groups, lasso_sel, vec)
        br = {}
        if not a.no_browser:
            print("browser...", flush=True)
            br = browser(base, view.n, a.reps)
        rss_after = rss_mb(srv.pid)
    finally:
        srv.terminate()
        srv.wait(10)
    res = results(a, cfg, view, served, series, sizes, parts, inproc, br, rss_loaded, rss_after, n_lasso)
    print_table(res)
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1) + "\n")
        print("written to", out)
    return 0


def browser(base, n_points, reps):
    from algebra_browser import bench_browser

    return bench_browser(base, lasso_points=min(LASSO, n_points // 2), reps=reps)


def results(a, cfg, view, served, series, sizes, parts, inproc, br, rss_loaded, rss_after, n_lasso):
    base = stats(series["slider"])
    b50 = base["p50_ms"]
    rows = []

    def row(name, key, target, part_names=None):
        s = stats(series[key])
        r = {
            "measure": name,
            **s,
            "baseline": "slider-drag round trip (HTTP, interleaved)",
            "baseline_p50_ms": b50,
            "ratio": s["p50_ms"] / b50,
            "target": None if target is None else f"p50 <= {target} ms",
            "pass": None if target is None else s["p50_ms"] <= target,
            "request_kB": float(np.median([x[0] for x in sizes[key]])) / 1e3,
            "response_kB": float(np.median([x[1] for x in sizes[key]])) / 1e3,
        }
        if part_names:
            r["parts"] = {pn: stats(parts[key][k]) for k, pn in enumerate(part_names)}
        rows.append(r)

    row("strength-drag frame (HTTP)", "strength", None)
    row(f"traversal grid {TRAV['tn']}x{TRAV['tcols']} (draw_trav)", "trav", 50)
    row(f"prior grid of {PRIOR_N} (draw_prior)", "prior", 50)
    row("arithmetic A-B+C (draw_arith)", "arith", 20)
    row("Set C -> result (reducer arith_set + draw_arith)", "set_c", 20, ("reducer", "draw_arith"))
    row(
        f"attribute vector between 2 groups of {GROUP:,} (reducer direction + draw_attr)",
        "direction",
        50,
        ("reducer", "draw_attr"),
    )
    row(
        f"lasso of {n_lasso:,} points, HTTP (reducer select + draw_gallery)", "lasso", None, ("reducer", "draw_gallery")
    )
    out = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "app_sha1": app_digest(),
        "dataset": cfg.dataset,
        "points": view.n,
        "model": view.name,
        "served_models": [Path(c).stem for c in served],
        "methods": list(cfg.methods),
        "load_average": os.getloadavg()[0],
        "cores": os.cpu_count(),
        "note": a.note,
        "baseline_slider": base,
        "http": rows,
        "inprocess": inproc,
        "server_rss_mb": {"loaded": rss_loaded, "after": rss_after},
    }
    if br:
        z, s = br["z_fps"], br["strength_fps"]
        out["browser_rows"] = [
            {
                "measure": "attribute-strength drag, decoded frames/s (Chromium)",
                "value": s,
                "baseline": "latent-slider drag frames/s, same page, alternated",
                "baseline_value": z,
                "ratio": s / z,
                "target": ">= 20 frames/s",
                "pass": s >= 20,
            }
        ]
        as_is = br["lasso_as_is"]
        out["browser_rows"].append(
            {
                "measure": "lasso -> gallery as the page is (one lasso of ~100 points, 8 s allowed)",
                "value": as_is["gallery_dom_ms"],
                "baseline": None,
                "baseline_value": None,
                "ratio": None,
                "target": "the gallery is drawn",
                "pass": as_is["gallery_dom_ms"] is not None,
            }
        )
        failed = sum(r["gallery_dom_ms"] is None for r in br["lasso"] + br["lasso_small"])
        ok_big = [r for r in br["lasso"] if r["gallery_dom_ms"] is not None]
        ok_small = [r for r in br["lasso_small"] if r["gallery_dom_ms"] is not None]
        counts = [r.get("count") or 0 for r in br["lasso"]]

        def med(rows, key):
            vals = [r[key] for r in rows if r.get(key) is not None]
            return (float(np.median(vals)) if vals else float("nan")), vals

        # "drawn": the first page's elements in the DOM, then on screen (the frame after them), then
        # with every thumbnail of that page loaded; the target is read on the painted page
        for key, what, target in (
            ("gallery_dom_ms", "in the DOM", None),
            ("gallery_painted_ms", "painted on screen", "<= 300 ms"),
            ("thumbs_loaded_ms", "painted with its 64 thumbnails loaded (browser cache off)", None),
        ):
            big, vals = med(ok_big, key)
            small, _ = med(ok_small, key)
            out["browser_rows"].append(
                {
                    "measure": f"lasso of ~{n_lasso:,} points (selected {', '.join(f'{c:,}' for c in counts)}) "
                    f"-> first gallery page {what}, from mouseup (Chromium)",
                    "value": big,
                    "values": vals,
                    "baseline": f"lasso of ~{br['lasso_small'][0]['aimed']} points "
                    f"(selected {', '.join(str(r.get('count')) for r in br['lasso_small'])}), same page, alternated",
                    "baseline_value": small,
                    "ratio": big / small if small else float("nan"),
                    "target": target or "reported",
                    "pass": (big <= 300 and not failed) if target else True,
                    "failed_lassos": failed,
                }
            )
        srv = [r["server_gallery_ms"] for r in br["lasso"] if r.get("server_gallery_ms") is not None]
        if srv:
            out["browser_rows"].append(
                {
                    "measure": f"lasso of ~{n_lasso:,} points -> the server's gallery page (clickable) in the DOM",
                    "value": float(np.median(srv)),
                    "values": srv,
                    "baseline": None,
                    "baseline_value": None,
                    "ratio": None,
                    "target": "reported",
                    "pass": True,
                }
            )
        out["browser"] = br
    return out


def app_digest() -> str:
    """sha1 of the app's code (latentdash/**/*.py and the page's assets) at the end of the run, to
    tell runs on different code apart (the working tree may move between runs)."""
    import hashlib

    h = hashlib.sha1()
    pkg = ROOT / "latentdash"
    for f in sorted([*pkg.rglob("*.py"), *(pkg / "assets").glob("*.js"), *(pkg / "assets").glob("*.css")]):
        h.update(str(f.relative_to(ROOT)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def print_table(res):
    print(
        f"\n## Latent algebra: {res['model']} on {res['dataset']}, {res['points']:,} points ({res['when']}); "
        f"load average {res['load_average']:.1f}; app code sha1 {res['app_sha1']}"
    )
    b = res["baseline_slider"]
    print(f"baseline slider-drag round trip: p50 {b['p50_ms']:.2f} ms, p90 {b['p90_ms']:.2f} ms (n={b['n']})\n")
    print("| measure | p50 ms | p90 ms | / baseline p50 | target | met |")
    print("|---|---|---|---|---|---|")
    for r in res["http"]:
        met = "" if r["pass"] is None else ("yes" if r["pass"] else "**no**")
        target = r["target"] or ""
        print(f"| {r['measure']} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['ratio']:.1f}x | {target} | {met} |")
        for pn, ps in (r.get("parts") or {}).items():
            print(f"|   of which {pn} | {ps['p50_ms']:.1f} | {ps['p90_ms']:.1f} | | | |")
    for r in res.get("browser_rows", []):
        if r["value"] is None:
            print(f"| {r['measure']} | never | | | {r['target']} | **no** |")
            continue
        if r["ratio"] is None:
            print(f"| {r['measure']} | {r['value']:.1f} | | | {r['target']} | {'yes' if r['pass'] else '**no**'} |")
            continue
        print(
            f"| {r['measure']} | {r['value']:.1f} | | {r['ratio']:.2f}x (baseline {r['baseline_value']:.1f}) | "
            f"{r['target']} | {'yes' if r['pass'] else '**no**'} |"
        )
    print("\nin-process handlers (no Dash, no HTTP):")
    for k, v in res["inprocess"].items():
        print(f"  {k}: p50 {v['p50_ms']:.2f} ms, p90 {v['p90_ms']:.2f} ms")
    if res.get("browser"):
        br = res["browser"]
        print("\nbrowser drags:", json.dumps(br["drag"]))
        for kind in ("lasso_small", "lasso"):
            for r in br[kind]:
                if r["gallery_dom_ms"] is None:
                    print(f"{kind}: the gallery did not change (aimed {r['aimed']}):", json.dumps(r)[:1500])
                    continue
                print(
                    f"{kind}: {r['count']} selected (aimed {r['aimed']}), gallery in DOM {r['gallery_dom_ms']} ms, "
                    f"painted {r['gallery_painted_ms']} ms, thumbnails loaded {r['thumbs_loaded_ms']} ms "
                    f"({r['thumbs_fetched']} fetched)"
                )
                print("    main-thread long tasks [start, duration] ms after mouseup:", r["long_tasks_ms"])
                for c in r["callbacks"]:
                    print(
                        f"    {c['callback'][:50]:50s} {c['start_ms']:8.1f} -> {c['end_ms']} ms "
                        f"(req {c['request_bytes']} B, resp {c['response_bytes']} B)"
                    )
        print("console errors:", len(br["console_errors"]), br["console_errors"][:3])
    print(f"server RSS: {res['server_rss_mb']['loaded']:.0f} MB loaded, {res['server_rss_mb']['after']:.0f} MB after")


if __name__ == "__main__":
    sys.exit(main())
