"""Speed of "your image": a 1 MB JPEG photo uploaded on the page -> placed on the map and
reconstructed (target: p50 <= 300 ms), over real HTTP, against a baseline measured in the same
run, interleaved request by request: one slider-frame decode round trip (the `st-dragout` drag
callback: one decode, one small PNG), the page's cheapest server round trip that decodes.

    .venv/bin/python bench/bench_upload.py              # shipped VAE-16 on the bundled 10k atlas
    options: --n 30 (uploads), --checkpoint NAME|PATH, --server waitress|gunicorn, --out RESULTS.json

The server is a separate process started as a user would (`latentdash serve` on a free loopback
port, the shipped atlas: nothing is built). An upload is the page's requests in order, each
posted as Dash's renderer posts it (tests/dashclient.py): the card's conversion callback with the
file as a data URL (1.33 MB of JSON: decode, convert to 28x28 grey, PNG), the reducer (the
`upload` event: state, URL), then the map's patch (the star, on the UMAP map the page opens on)
and the card's render (encode, reconstruction, nearest neighbours, plausibility). The page sends
the last two at once; here they run one after the other, so the total is an upper bound. Each
upload is a different photo (one image, one pixel changed, so nothing is cached anywhere). Also
printed: the conversion alone in this process (`uploads.image_from_bytes`), to tell the cost of
moving the 1.33 MB request from the cost of decoding the photo.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_api import free_port, wait_healthy  # noqa: E402
from latentdash import uploads  # noqa: E402
from latentdash.ui import ids, urlstate  # noqa: E402
from tests.dashclient import REDUCER, DashClient, stores_of  # noqa: E402

TARGET_P50_MS = 300.0


def start_server(args, port: int) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv" / "bin" / "latentdash"), "serve", "--checkpoint", args.checkpoint, "--port", str(port)]
    if args.server:
        cmd += ["--server", args.server]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return wait_healthy(proc, port, 300)


def photo_jpeg(target_mb: float = 1.0) -> tuple[np.ndarray, bytes]:
    """A photo-like RGB image (smooth shapes plus sensor-like noise) whose JPEG is ~target_mb."""
    rng = np.random.default_rng(0)
    h = 1200
    w = int(h * 4 / 3)
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 37.0) * 60 + np.cos(y / 23.0) * 60 + 128)[..., None] + rng.normal(0, 25, (h, w, 3))
    u8 = np.clip(base, 0, 255).astype(np.uint8)
    return u8, jpeg(u8)


def jpeg(u8) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=88)
    return buf.getvalue()


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def ms(xs, q) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000.0, q)), 1)


def check(status, data, what):
    if status != 200 or not data:
        raise SystemExit(f"error: {what} answered {status}: {str(data)[:300]}")
    if "sideUpdate" in data and ids.MSG in data["sideUpdate"]:
        raise SystemExit(f"error: {what}: {data['sideUpdate'][ids.MSG]}")
    return data["response"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default="fashion-vae-16")
    ap.add_argument("--server", default="waitress", help="waitress | gunicorn (waitress: one process, as a laptop)")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    port = free_port()
    proc = start_server(a, port)
    try:
        s = requests.Session()
        dc = DashClient(s, f"http://127.0.0.1:{port}/")
        status, data = dc.call(REDUCER, {"url.search": ""}, [])
        state = urlstate.merge(*(data["response"][sid]["data"] for sid in ids.STORE_OF.values()))
        parts = urlstate.split(state)
        stores = {f"{sid}.data": parts[name] for name, sid in ids.STORE_OF.items()}
        # the page's first map: its rendered record, so that each upload's map call is a patch
        status, data = dc.call(f"{ids.GRAPH}.figure", {**stores, f"{ids.ST_RENDERED}.data": None}, [])
        rendered = check(status, data, "map")[ids.ST_RENDERED]["data"]
        status, data = dc.call(
            f"{ids.SLIDERS}.children",
            {f"{ids.ST_MAP}.data": parts["map"], f"{ids.ST_DRAWN}.data": True, f"{ids.ST_Z}.data": parts["z"]},
            [f"{ids.ST_DRAWN}.data"],
        )
        n_sliders = len(check(status, data, "sliders")[ids.SLIDERS]["children"]) // 2
        u8, _ = photo_jpeg()
        sizes, totals, steps, frames, conv = [], [], {"convert": [], "reduce": [], "map": [], "card": []}, [], []
        z = np.asarray(state["z"], np.float32)
        rng = np.random.default_rng(1)
        for k in range(a.n + 3):  # the first 3: warm-up
            u8[k % u8.shape[0], 0] = (k * 37) % 256  # a different file each time
            data_url = "data:image/jpeg;base64," + base64.b64encode(jpeg(u8)).decode()
            sizes.append(len(data_url) * 3 / 4 / 1e6)

            def convert(data_url=data_url):
                return dc.call(
                    f"{ids.ST_UPIN}.data",
                    {f"{ids.UPLOAD}.contents": data_url, f"{ids.UPLOAD}.filename": "photo.jpg",
                     f"{ids.UP_INVERT}.value": [], f"{ids.ST_UPLOAD}.data": parts["upload"]},
                    [f"{ids.UPLOAD}.contents"],
                )  # fmt: skip

            t1, (st, d) = timed(convert)
            upin = check(st, d, "convert")[ids.ST_UPIN]["data"]
            t2, (st, d) = timed(
                lambda upin=upin: dc.call(
                    REDUCER,
                    {**stores_of(state), "click-mode.value": "inspect", f"{ids.ST_UPIN}.data": upin},
                    [f"{ids.ST_UPIN}.data"],
                )  # fmt: skip
            )
            up_part = check(st, d, "reducer")[ids.ST_UPLOAD]["data"]
            t3, (st, d) = timed(
                lambda up_part=up_part: dc.call(
                    f"{ids.GRAPH}.figure",
                    {**stores, f"{ids.ST_UPLOAD}.data": up_part, f"{ids.ST_RENDERED}.data": rendered},
                    [f"{ids.ST_UPLOAD}.data"],
                )
            )
            fig = check(st, d, "map")
            if "upload" not in json.dumps(fig[ids.ST_RENDERED]["data"]["graphs"]["2"]["overlays"]):
                raise SystemExit("error: the map did not place the star")
            t4, (st, d) = timed(
                lambda up_part=up_part: dc.call(
                    f"{ids.UP_ORIG}.src",
                    {f"{ids.ST_UPLOAD}.data": up_part},
                    [f"{ids.ST_UPLOAD}.data"],
                    {ids.UP_USE: list("abc")},
                )  # fmt: skip
            )
            if not check(st, d, "card")[ids.UP_RECON]["src"].startswith("data:image/png"):
                raise SystemExit("error: no reconstruction")
            # the baseline, interleaved: one slider frame decoded on the server
            zk = (z + rng.normal(0, 0.3, z.shape)).astype(np.float32)
            t5, (st, d) = timed(
                lambda zk=zk: dc.call(
                    f"{ids.ST_DRAGOUT}.data",
                    {
                        f"{ids.ST_DRAG}.data": {"values": [float(v) for v in zk[:n_sliders]]},
                        f"{ids.ST_MAP}.data": parts["map"],
                        f"{ids.ST_Z}.data": parts["z"],
                        f"{ids.ST_RENDERED}.data": {"key": rendered["key"]},
                        f"{ids.ST_ATTRVEC}.data": None,
                    },
                    [f"{ids.ST_DRAG}.data"],
                )  # fmt: skip
            )
            if "error" in check(st, d, "drag frame")[ids.ST_DRAGOUT]["data"]:
                raise SystemExit(f"error: drag frame: {d}")
            # and the conversion alone, in this process (JPEG decode at reduced size, grey, 28x28)
            t6, _ = timed(
                lambda data_url=data_url: uploads.image_from_bytes(base64.b64decode(data_url[23:]), (1, 28, 28))
            )
            if k < 3:
                continue
            conv.append(t6)
            for name, t in zip(steps, (t1, t2, t3, t4)):
                steps[name].append(t)
            totals.append(t1 + t2 + t3 + t4)
            frames.append(t5)
    finally:
        proc.terminate()
        proc.wait(10)
    res = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "time": time.strftime("%F %T"),
        "server": a.server,
        "jpeg_mb": round(float(np.mean(sizes)), 2),
        "jpeg_px": f"{u8.shape[1]}x{u8.shape[0]}",
        "n": len(totals),
        "upload_placed_reconstructed_ms": {"p50": ms(totals, 50), "p90": ms(totals, 90)},
        "parts_p50_ms": {name: ms(v, 50) for name, v in steps.items()},
        "baseline_drag_frame_ms": {"p50": ms(frames, 50), "p90": ms(frames, 90)},
        "in_process_conversion_p50_ms": ms(conv, 50),
    }
    res["ratio_p50"] = round(res["upload_placed_reconstructed_ms"]["p50"] / res["baseline_drag_frame_ms"]["p50"], 1)
    res["target_p50_ms"] = TARGET_P50_MS
    res["meets_target"] = res["upload_placed_reconstructed_ms"]["p50"] <= TARGET_P50_MS
    print(json.dumps(res, indent=2))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
