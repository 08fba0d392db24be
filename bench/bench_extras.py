"""Speed of the atlas extras: plausibility of one latent vector (10k and 70k atlases), and the
precompute-time cost of each extras part on the 10k atlas (and HDBSCAN on a 70k map).

    .venv/bin/python bench/bench_extras.py                 # shipped VAE-16: 10k, and 70k when cached
    options: --n 400 (plausibility calls), --no-70k, --out RESULTS.json

Baseline (same run, interleaved call by call): one `Explorer.decode` of one latent vector, the
work every slider frame already does; the plausibility call rides along with it, so the ratio
plausibility / decode says what it adds to a frame. The 70k atlas is the PCA-only atlas of the
shipped VAE on `fashion-mnist` (70,000 images) in the default cache, built by
`bench/bench_algebra.py --dataset fashion-mnist --methods pca` (or `latentdash precompute
--checkpoint fashion-vae-16 --dataset fashion-mnist --methods pca`); its reference distances are
the extras' when present, else estimated on 5,000 rows (the query cost does not depend on them).
"""

from __future__ import annotations

import argparse
import json
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


def _ms(ts) -> dict:
    a = np.asarray(ts) * 1e3
    return {"p50_ms": round(float(np.median(a)), 3), "p90_ms": round(float(np.percentile(a, 90)), 3)}


def bench_plausibility(ex: Explorer, n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    lat = ex.latents
    qs = lat[rng.integers(len(lat), size=n)] + rng.standard_normal((n, lat.shape[1])).astype(np.float32) * 0.3
    plaus, dec = [], []
    ex.plausibility(qs[0])
    ex.decode(qs[0])
    for q in qs:  # interleaved: machine noise moves both
        t = time.perf_counter()
        ex.plausibility(q)
        plaus.append(time.perf_counter() - t)
        t = time.perf_counter()
        ex.decode(q)
        dec.append(time.perf_counter() - t)
    p, d = _ms(plaus), _ms(dec)
    return {
        "n_atlas": ex.n,
        "calls": n,
        "plausibility": p,
        "decode_baseline": d,
        "ratio_p50": round(p["p50_ms"] / d["p50_ms"], 3),
    }


def find_70k(model):
    from latentdash.atlas.build import artifact_path, atlas_key
    from latentdash.atlas.params import AtlasParams
    from latentdash.data import load_dataset

    ds = load_dataset("fashion-mnist")
    key, _ = atlas_key(model, ds, AtlasParams(methods=("pca",)), DEFAULT_CHECKPOINT)
    path = artifact_path(key)
    return load_atlas(path) if path.is_file() else None


def bench_parts(atlas, model) -> dict:
    from latentdash.atlas.extras import nn_distances, posterior_reference
    from latentdash.atlas.regions import find_regions
    from latentdash.atlas.topology import persistence

    out = {}
    t = time.perf_counter()
    ref = posterior_reference(atlas, model, 0)
    out["posterior_samples_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    nn_distances(ref if ref is not None else atlas.latents)
    out["nn_distances_s"] = round(time.perf_counter() - t, 3)
    out["regions_s"] = {}
    for name, c in atlas.maps.items():
        if c.shape[1] == 2:
            t = time.perf_counter()
            _, s = find_regions(c, atlas.labels, atlas.class_names)
            out["regions_s"][name] = {"s": round(time.perf_counter() - t, 3), "clusters": s["n_clusters"]}
    t = time.perf_counter()
    topo = persistence(atlas.latents, n_landmarks=1000, seed=0)
    out["topology_1000_landmarks_s"] = round(time.perf_counter() - t, 3)
    out["topology_reading"] = topo["summary"]["reading"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--no-70k", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a serving thread decodes (one image per request)
    model = load_model(str(DEFAULT_CHECKPOINT))
    atlas = load_atlas(shipped_atlas_path())
    res = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "time": time.strftime("%F %T")}
    ex10 = Explorer(model, atlas, "fashion-vae-16")
    res["plausibility_10k"] = bench_plausibility(ex10, a.n)
    print("plausibility 10k:", json.dumps(res["plausibility_10k"]))
    if not a.no_70k:
        a70 = find_70k(model)
        if a70 is None:
            print("no 70k atlas cached; build it with bench/bench_algebra.py --dataset fashion-mnist --methods pca")
        else:
            t = time.perf_counter()
            ex70 = Explorer(model, a70, "fashion-vae-16@70k")
            res["explorer_start_70k_s"] = round(time.perf_counter() - t, 3)
            res["plausibility_70k"] = bench_plausibility(ex70, a.n)
            print("plausibility 70k:", json.dumps(res["plausibility_70k"]))
            from latentdash.atlas.regions import find_regions

            t = time.perf_counter()
            _, s = find_regions(a70.maps["latent-pca-2d"], a70.labels, a70.class_names)
            res["regions_70k_latent_pca_2d_s"] = round(time.perf_counter() - t, 3)
            print("HDBSCAN 70k latent-pca-2d:", res["regions_70k_latent_pca_2d_s"], "s,", s["n_clusters"], "clusters")
    torch.set_num_threads(threads)  # precompute uses every core
    res["parts_10k"] = bench_parts(atlas, model)
    print("extras parts 10k:", json.dumps(res["parts_10k"]))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
