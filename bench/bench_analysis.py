"""Page round trips of the Analysis parts (issue 11, parts 5-7) on the shipped VAE-16 and its 10k
atlas, through Flask's test client (Dash's HTTP protocol, what the browser posts; no network):

- "Region labels" on: the reducer request (toggle -> state) plus the map request that answers it
  with a Patch of annotations, against the same two requests for a colour change (a Patch of
  every class trace's marker colours), interleaved;
- the fit panel's request on a map click, against the inspector's request for the same click;
- the topology panel's request (once per model).

    .venv/bin/python bench/bench_analysis.py [--n 60] [--out RESULTS.json]

Prints p50/p90 in ms, the ratio to the baseline and the response sizes. The precompute-time costs
(HDBSCAN regions, ripser topology) are bench/bench_extras.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, shipped_atlas_path  # noqa: E402
from latentdash.atlas.store import load_atlas  # noqa: E402
from latentdash.models import load_model  # noqa: E402
from latentdash.service import Explorer  # noqa: E402
from latentdash.ui import ids, urlstate  # noqa: E402
from tests.dashclient import REDUCER, DashClient, stores_of  # noqa: E402

MAP_STORES = ("map", "sel", "interp", "z", "cam", "selection", "attr", "arith", "prior")


def _ms(ts) -> dict:
    a = np.asarray(ts) * 1e3
    return {"p50_ms": round(float(np.median(a)), 2), "p90_ms": round(float(np.percentile(a, 90)), 2)}


def _state(data) -> dict:
    return urlstate.merge(*(data["response"][sid]["data"] for sid in ids.STORE_OF.values() if sid in data["response"]))


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def reducer_then_map(dc, state, rendered, trigger: str, value):
    """One user action as the page sends it: the reducer, then the map figure for the new stores."""
    values = {**stores_of(state), trigger: value, "click-mode.value": "inspect"}
    status, data = dc.call(REDUCER, values, [trigger])
    assert status == 200, status
    new = dict(state)
    for sid in ids.STORE_OF.values():
        if sid in data["response"]:
            new.update(data["response"][sid]["data"])
    p = urlstate.split(new)
    vals = {f"{ids.STORE_OF[k]}.data": p[k] for k in MAP_STORES if k in p}
    status, fig = dc.call(f"{ids.GRAPH}.figure", {**vals, f"{ids.ST_RENDERED}.data": rendered}, ["st-map.data"])
    assert status == 200, status
    return new, fig, len(json.dumps(data)) + len(json.dumps(fig))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("LATENTDASH_CACHE", str(ROOT / ".cache" / "latentdash"))
    import torch

    torch.set_num_threads(1)  # one serving thread
    from latentdash.server.app_factory import create_app

    ex = Explorer(load_model(str(DEFAULT_CHECKPOINT)), load_atlas(shipped_atlas_path()), "fashion-vae-16")
    dc = DashClient(create_app(explorers=[ex]).server.test_client())
    status, data = dc.call(REDUCER, {"url.search": "?map=latent-umap-2d"}, [])
    state = _state(data)
    p = urlstate.split(state)
    vals = {f"{ids.STORE_OF[k]}.data": p[k] for k in MAP_STORES}
    status, fig = dc.call(f"{ids.GRAPH}.figure", {**vals, f"{ids.ST_RENDERED}.data": None}, ["st-map.data"])
    rendered = fig["response"][ids.ST_RENDERED]["data"]
    res = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "time": time.strftime("%F %T")}

    labels, colour = [], []
    for _ in range(a.n):  # interleaved, each from the same drawn map: labels on / another colouring
        dt, (_, f, lab_bytes) = _timed(reducer_then_map, dc, state, rendered, f"{ids.REGION_ON}.value", ["on"])
        labels.append(dt)
        ops = f["response"][ids.GRAPH]["figure"]["operations"]
        n_ann = max(len(o["params"]["value"]) for o in ops if o["location"][-1] == "annotations")
        dt, (_, f, col_bytes) = _timed(reducer_then_map, dc, state, rendered, f"{ids.COLOUR}.value", "recon")
        colour.append(dt)
    res["region_labels_on"] = {**_ms(labels), "bytes": lab_bytes, "annotations": n_ann}
    res["colour_change_baseline"] = {**_ms(colour), "bytes": col_bytes}
    res["region_labels_ratio_p50"] = round(
        res["region_labels_on"]["p50_ms"] / res["colour_change_baseline"]["p50_ms"], 3
    )
    print("region labels on:", json.dumps(res["region_labels_on"]))
    print(
        "colour change (baseline):", json.dumps(res["colour_change_baseline"]), "ratio", res["region_labels_ratio_p50"]
    )

    rng = np.random.default_rng(0)
    fit, ins = [], []
    for i in rng.integers(ex.n, size=a.n).tolist():
        sel = dict(p["sel"], sel=int(i))
        fit_values = {f"{ids.ST_SEL}.data": sel, f"{ids.ST_DRAWN}.data": True}
        dt, (st, _) = _timed(dc.call, f"{ids.FIT_GRAPH}.figure", fit_values, ["st-sel.data"])
        assert st == 200
        fit.append(dt)
        dt, (st, _) = _timed(dc.call, f"{ids.INS_ORIG}.src", {f"{ids.ST_SEL}.data": sel}, ["st-sel.data"])
        assert st == 200
        ins.append(dt)
    res["fit_panel_on_click"] = _ms(fit)
    res["inspector_on_click_baseline"] = _ms(ins)
    res["fit_ratio_p50"] = round(res["fit_panel_on_click"]["p50_ms"] / res["inspector_on_click_baseline"]["p50_ms"], 3)
    print("fit panel per click:", json.dumps(res["fit_panel_on_click"]))
    print(
        "inspector per click (baseline):", json.dumps(res["inspector_on_click_baseline"]), "ratio", res["fit_ratio_p50"]
    )

    topo = []
    for _ in range(max(3, a.n // 10)):
        values = {f"{ids.ST_MAP}.data": p["map"], f"{ids.ST_DRAWN}.data": True, f"{ids.ST_TOPOKEY}.data": None}
        dt, (st, body) = _timed(dc.call, f"{ids.TOPO_H0}.figure", values, ["st-map.data"])
        assert st == 200
        topo.append(dt)
    res["topology_panel"] = {**_ms(topo), "bytes": len(json.dumps(body))}
    print("topology panel (once per model):", json.dumps(res["topology_panel"]))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
