"""Speed of the downloads (issue 11, part 8): an animated GIF of 32 frames (target <= 1 s) and the
CSV of the 70k atlas (target <= 5 s), each through the REST API as the page's links call it
(Flask's test client: routing, validation, the same handler, the whole body read).

    .venv/bin/python bench/bench_exports.py            # options: --n 15 (GIF requests), --out RESULTS.json

GIF: `interpolation.gif` with 17 steps (there and back: 32 frames) on the shipped VAE-16, at x1
and at x8 (224x224 frames, the largest allowed). Baseline, same run, interleaved request by
request: `interpolation.png` of the same path (the same decodes, one PNG strip), so the ratio is
what the GIF encoding adds.
CSV: `atlas.csv` of the shipped VAE-16 on `fashion-mnist` (70,000 images, PCA maps; the atlas
bench/bench_extras.py uses, in the default cache: `latentdash precompute --checkpoint
fashion-vae-16 --dataset fashion-mnist --methods pca`), and of the 10k shipped atlas. Baseline,
same run: `numpy.savetxt` of the same numbers (latents, map coordinates, errors) into memory,
the plain way to write such a table.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentdash.atlas.shipped import DEFAULT_CHECKPOINT, shipped_atlas_path  # noqa: E402
from latentdash.atlas.store import load_atlas  # noqa: E402
from latentdash.models import load_model  # noqa: E402
from latentdash.service import Explorer  # noqa: E402

VAE = "fashion-vae-16"


def _ms(ts) -> dict:
    a = np.asarray(ts) * 1e3
    return {"p50_ms": round(float(np.median(a)), 2), "p90_ms": round(float(np.percentile(a, 90)), 2)}


def _client(explorer):
    from latentdash.server.app_factory import create_app

    return create_app(explorers=[explorer]).server.test_client()


def _get(client, url) -> tuple[float, int]:
    t = time.perf_counter()
    r = client.get(url)
    body = r.get_data()  # a streamed body is produced here
    dt = time.perf_counter() - t
    assert r.status_code == 200, (url, r.status_code, body[:200])
    return dt, len(body)


def bench_gif(client, n: int) -> dict:
    out = {}
    for scale in (1, 8):
        q = f"a=412&b=7755&steps=17&mode=spherical&scale={scale}"
        gif, png = [], []
        _get(client, f"/api/v1/models/{VAE}/interpolation.gif?{q}")
        for _ in range(n):
            gif.append(_get(client, f"/api/v1/models/{VAE}/interpolation.gif?{q}")[0])
            png.append(_get(client, f"/api/v1/models/{VAE}/interpolation.png?{q}")[0])
        _, size = _get(client, f"/api/v1/models/{VAE}/interpolation.gif?{q}")
        g, p = _ms(gif), _ms(png)
        out[f"x{scale}"] = {
            "frames": 32,
            "frame_px": 28 * scale,
            "bytes": size,
            "gif": g,
            "png_strip_baseline": p,
            "ratio_p50": round(g["p50_ms"] / p["p50_ms"], 2),
            "target_ms": 1000,
            "ok": g["p50_ms"] <= 1000,
        }
    return out


def bench_csv(explorer, label: str, repeats: int = 3) -> dict:
    from latentdash import exports

    client = _client(explorer)
    url = f"/api/v1/models/{explorer.name}/atlas.csv"
    table = np.concatenate(
        [explorer.latents, *(explorer.coords(m) for m in explorer.map_names), explorer.recon_error[:, None]], axis=1
    )
    csv_t, base_t, size = [], [], 0
    for _ in range(repeats):
        dt, size = _get(client, url)
        csv_t.append(dt)
        t = time.perf_counter()
        np.savetxt(io.StringIO(), table, fmt="%.9g", delimiter=",")
        base_t.append(time.perf_counter() - t)
    c, b = _ms(csv_t), _ms(base_t)
    return {
        "atlas": label,
        "rows": explorer.n,
        "columns": len(exports.csv_columns(explorer)),
        "mb": round(size / 2**20, 1),
        "csv_over_http": c,
        "savetxt_baseline": b,
        "ratio_p50": round(c["p50_ms"] / b["p50_ms"], 2),
        "target_ms": 5000,
        "ok": c["p50_ms"] <= 5000,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=15)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    model = load_model(str(DEFAULT_CHECKPOINT))
    ex10 = Explorer(model, load_atlas(shipped_atlas_path(DEFAULT_CHECKPOINT)), VAE)
    res = {"machine": platform.platform(), "python": platform.python_version()}
    res["gif_32_frames"] = bench_gif(_client(ex10), a.n)
    res["csv_10k"] = bench_csv(ex10, "fashion-mnist-test (shipped, 10k)")
    from bench_extras import find_70k

    atlas70 = find_70k(model)
    if atlas70 is None:
        res["csv_70k"] = "skipped: no 70k atlas in the cache (see the docstring)"
    else:
        res["csv_70k"] = bench_csv(Explorer(model, atlas70, VAE), "fashion-mnist (70k, PCA maps)")
    print(json.dumps(res, indent=2))
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
