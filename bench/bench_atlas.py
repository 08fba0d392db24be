"""Atlas benchmarks: build time vs a reference pipeline, full Fashion-MNIST, and Explorer latency.

    .venv/bin/python bench/bench_atlas.py default [--ref-limit N]   # bundled 10k: ours vs reference
    .venv/bin/python bench/bench_atlas.py full                      # 70k: 2-D latent maps, then all
    .venv/bin/python bench/bench_atlas.py latency [--atlas PATH]    # load, project, unproject
    add --write to record the result table in docs/benchmarks.md

`default`: our complete build (encode, PCA/t-SNE/UMAP for latents and pixels in 2-D and 3-D,
metrics, artifact write; fresh cache) against a reference pipeline of scikit-learn `PCA`,
scikit-learn `TSNE()` and `umap.UMAP()` with default settings on the same latents and pixels, run
in the same process, maps only (no encoding, no metrics: the comparison favours the reference).
`--ref-limit N` runs the reference on a random N-point subsample and extrapolates linearly to the
full size (labelled as such in the output; t-SNE/UMAP grow a little faster than linear, so the
extrapolation also favours the reference). Each timed build runs in a child process, which also
reports its peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CKPT = ROOT / "latentdash" / "checkpoints" / "fashion-vae-16.pt"
DOC = ROOT / "docs" / "benchmarks.md"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------- children
def child_build(dataset: str, methods: str, dims: str, spaces: str, cache: str) -> dict:
    from latentdash.atlas import AtlasParams, get_or_build_atlas
    from latentdash.data import load_dataset
    from latentdash.models import load_model

    t0 = time.perf_counter()
    model = load_model(str(CKPT))
    ds = load_dataset(dataset)
    t1 = time.perf_counter()
    a = get_or_build_atlas(
        model,
        ds,
        AtlasParams(methods=methods, dims=dims, spaces=spaces),
        cache_dir=cache,
        checkpoint_path=CKPT,
        progress=True,
    )
    t2 = time.perf_counter()
    return {
        "build_s": t2 - t1,
        "load_inputs_s": t1 - t0,
        "peak_mb": _peak_mb(),
        "path": str(a.path),
        "n": a.n,
        "timings": a.meta["timings_s"],
        "metrics": a.metrics,
    }


def child_reference(dataset: str, limit: int | None) -> dict:
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    from latentdash.data import load_dataset
    from latentdash.models import load_model

    model = load_model(str(CKPT))
    ds = load_dataset(dataset)
    idx = np.arange(len(ds))
    if limit and limit < len(ds):
        idx = np.sort(np.random.default_rng(0).choice(len(ds), limit, replace=False))
    x = ds.float_images(idx)
    lat = model.encode(x)
    pix = x.reshape(len(x), -1)
    import umap

    # numba compilation is not part of the timing: warm up every code path used below
    # (>= 4096 points, so umap's nearest-neighbour descent is compiled too; 2-D and 3-D)
    warm = np.random.default_rng(1).standard_normal((5000, lat.shape[1])).astype(np.float32)
    for d in (2, 3):
        umap.UMAP(n_components=d, n_epochs=5).fit_transform(warm)
        umap.UMAP(n_components=d, n_epochs=5).fit_transform(pix[:5000])
    out = {}
    for space, data in (("latent", lat), ("pixel", pix)):
        for d in (2, 3):
            for name, fit in (
                ("pca", lambda d=d, data=data: PCA(n_components=d).fit_transform(data)),
                ("tsne", lambda d=d, data=data: TSNE(n_components=d).fit_transform(data)),
                ("umap", lambda d=d, data=data: umap.UMAP(n_components=d).fit_transform(data)),
            ):
                t = time.perf_counter()
                fit()
                out[f"{space}-{name}-{d}d"] = time.perf_counter() - t
                print(
                    f"reference {space}-{name}-{d}d: {out[f'{space}-{name}-{d}d']:.1f} s", file=sys.stderr, flush=True
                )
    return {"n": int(len(idx)), "n_full": len(ds), "maps_s": out, "total_s": sum(out.values()), "peak_mb": _peak_mb()}


def child_latency(path: str) -> dict:
    import numpy as np

    from latentdash.atlas import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    t = time.perf_counter()
    atlas = load_atlas(path)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    ex = Explorer(load_model(str(CKPT)), atlas, "bench")
    explorer_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    res = {"n": ex.n, "load_s": load_s, "explorer_init_s": explorer_s, "project_ms": {}, "unproject_ms": {}}
    for name in ex.map_names:
        zs = ex.latents[rng.choice(ex.n, 200)] + 0.05 * rng.standard_normal((200, ex.latent_dim)).astype("float32")
        ex.project(zs[0], name)
        ts = []
        for z in zs:
            t = time.perf_counter()
            ex.project(z, name)
            ts.append(time.perf_counter() - t)
        res["project_ms"][name] = 1e3 * float(np.median(ts))
        if name.endswith("2d"):
            c = ex.coords(name)
            lo, hi = c.min(0), c.max(0)
            ts = []
            for xy in rng.uniform(lo, hi, (200, 2)):
                t = time.perf_counter()
                ex.unproject(xy, name)
                ts.append(time.perf_counter() - t)
            res["unproject_ms"][name] = 1e3 * float(np.median(ts))
    t = time.perf_counter()
    for _ in range(50):
        ex.neighbours(ex.latents[3], 10)
    res["neighbours_ms"] = 1e3 * (time.perf_counter() - t) / 50
    return res


def run_child(*args) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".json") as f:
        subprocess.run([sys.executable, __file__, "--child", f.name, *args], check=True)
        return json.loads(Path(f.name).read_text())


# ------------------------------------------------------------------------------- modes
def _load() -> str:
    return "load average (1/5/15 min) at the end: " + " / ".join(f"{v:.1f}" for v in os.getloadavg())


def bench_default(a) -> str:
    with tempfile.TemporaryDirectory() as cache:
        ours = run_child("build", "fashion-mnist-test", "pca,tsne,umap", "2,3", "latent,pixel", cache)
        lat = run_child("latency", ours["path"])
        again_t = time.perf_counter()
        run_child("build", "fashion-mnist-test", "pca,tsne,umap", "2,3", "latent,pixel", cache)
        again = time.perf_counter() - again_t
    ref = run_child("reference", "fashion-mnist-test", str(a.ref_limit or 0))
    scale = ref["n_full"] / ref["n"]
    ref_total = ref["total_s"] * scale
    label = (
        "full 10,000 points"
        if scale == 1
        else f"**run on {ref['n']:,} points and extrapolated linearly x{scale:.1f} to 10,000**"
    )
    m = ours["metrics"]["maps"]
    rows = ["| stage | seconds |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in ours["timings"].items()]
    refrows = ["| reference map | seconds |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in ref["maps_s"].items()]
    qual = ["| map | trustworthiness | 5-NN acc | preservation |", "|---|---|---|---|"] + [
        f"| {k} | {v['trustworthiness']:.4f} | {v['knn_acc']:.4f} | {v['preservation_mean']:.3f} |"
        for k, v in m.items()
    ]
    return "\n".join(
        [
            f"### Bundled default: fashion-vae-16 on fashion-mnist-test (10,000 images), {time.strftime('%Y-%m-%d')}",
            "",
            f"- latentdash full atlas (encode + 12 maps + metrics + write): **{ours['build_s']:.1f} s**, "
            f"peak memory {ours['peak_mb']:.0f} MB",
            f"- reference (sklearn PCA + sklearn TSNE() + umap.UMAP() defaults, maps only, {label}): "
            f"**{ref_total:.1f} s**, peak memory {ref['peak_mb']:.0f} MB",
            f"- speed-up: **{ref_total / ours['build_s']:.1f}x**; 2 cores, {_load()} (other work shared the machine)",
            f"- second run with the same inputs (new process, finds the artifact): {again:.1f} s",
            f"- 5-NN accuracy: latent space {ours['metrics']['latent_knn_acc']:.4f}, pixel space "
            f"{ours['metrics']['pixel_knn_acc']:.4f}",
            f"- artifact load {lat['load_s'] * 1e3:.0f} ms; project (one vector) max "
            f"{max(lat['project_ms'].values()):.2f} ms; unproject (one point) max "
            f"{max(lat['unproject_ms'].values()):.2f} ms",
            "",
            *rows,
            "",
            *refrows,
            "",
            *qual,
            "",
        ]
    )


def bench_full(a) -> str:
    with tempfile.TemporaryDirectory() as cache:
        two = run_child("build", "fashion-mnist", "pca,tsne,umap", "2", "latent", cache)
    with tempfile.TemporaryDirectory() as tmp:
        cache = a.keep or tmp  # --keep DIR: leave the 70k atlas there for `latency --atlas`
        full = run_child("build", "fashion-mnist", "pca,tsne,umap", "2,3", "latent,pixel", cache)
        lat = run_child("latency", full["path"])
    m = full["metrics"]["maps"]
    rows = ["| stage | seconds |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in full["timings"].items()]
    qual = ["| map | trustworthiness* | 5-NN acc | preservation |", "|---|---|---|---|"] + [
        f"| {k} | {v['trustworthiness']:.4f} | {v['knn_acc']:.4f} | {v['preservation_mean']:.3f} |"
        for k, v in m.items()
    ]
    lat_rows = ["| map | project ms | unproject ms |", "|---|---|---|"] + [
        f"| {k} | {v:.2f} | {lat['unproject_ms'].get(k, float('nan')):.2f} |" for k, v in lat["project_ms"].items()
    ]
    return "\n".join(
        [
            f"### Full Fashion-MNIST (70,000 images), fashion-vae-16, {time.strftime('%Y-%m-%d')}",
            "",
            f"- all 2-D latent maps (encode + pca/tsne/umap 2-D + metrics): **{two['build_s']:.0f} s** "
            f"(target <= 300 s), peak memory {two['peak_mb']:.0f} MB",
            f"- everything (latent + pixel, 2-D + 3-D, metrics): **{full['build_s']:.0f} s** (target <= 720 s), "
            f"peak memory **{full['peak_mb']:.0f} MB** (target <= 6,000 MB)",
            f"- artifact load **{lat['load_s']:.2f} s** (target <= 2 s), Explorer start {lat['explorer_init_s']:.2f} s",
            f"- 2 cores, {_load()} (other work shared the machine)",
            f"- project one vector: max over maps **{max(lat['project_ms'].values()):.2f} ms**; unproject one "
            f"point: max **{max(lat['unproject_ms'].values()):.2f} ms** (targets <= 5 ms); neighbours(k=10) "
            f"{lat['neighbours_ms']:.2f} ms",
            f"- 5-NN accuracy: latent {full['metrics']['latent_knn_acc']:.4f}, pixel "
            f"{full['metrics']['pixel_knn_acc']:.4f} ({full['metrics'].get('pixel_neighbour_space')})",
            "- *trustworthiness on 70k is estimated from a fixed random subsample of "
            f"{full['metrics']['trust_queries']:,} query points ranked against all points",
            "",
            *rows,
            "",
            *qual,
            "",
            *lat_rows,
            "",
        ]
    )


def bench_latency(a) -> str:
    from latentdash.atlas.shipped import shipped_atlas_path

    lat = run_child("latency", a.atlas or str(shipped_atlas_path()))
    return json.dumps(lat, indent=1)


def write_section(name: str, text: str) -> None:
    start, end = f"<!-- atlas-bench:{name}:start -->", f"<!-- atlas-bench:{name}:end -->"
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{start}\n{text}\n{end}"
    if start in doc:
        doc = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(doc)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        out, kind, *rest = sys.argv[2:]
        if kind == "build":
            res = child_build(*rest)
        elif kind == "reference":
            res = child_reference(rest[0], int(rest[1]) or None)
        else:
            res = child_latency(rest[0])
        Path(out).write_text(json.dumps(res))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["default", "full", "latency"])
    ap.add_argument("--ref-limit", type=int, default=0, help="reference on a subsample (extrapolated)")
    ap.add_argument("--atlas", default=None, help="latency: the artifact to time (default: shipped)")
    ap.add_argument("--keep", default=None, help="full: build into this cache dir and keep it")
    ap.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    a = ap.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    text = {"default": bench_default, "full": bench_full, "latency": bench_latency}[a.mode](a)
    print(text)
    if a.write and a.mode != "latency":
        write_section(a.mode, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
