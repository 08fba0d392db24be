"""A first visit in headless Chromium (empty cache): bytes on the wire and time to the first
map, compressed (what a browser gets: brotli) against uncompressed (the same server, the
browser asking `Accept-Encoding: identity`), interleaved A/B loads in one run.

    .venv/bin/python bench/bench_firstvisit.py               # `latentdash serve` (the README default), 3+3 loads
    .venv/bin/python bench/bench_firstvisit.py --loads 5 --out REPORT.md

Bytes are Chromium's own count (DevTools Network.loadingFinished encodedDataLength: headers and
body as transferred), split into what arrived before the first map was drawn and everything until
the network went quiet (the plotly bundle, the browser decoder's runtime and model, thumbnails).
Target: compressed first visit <= 1.2 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_load import start_server  # noqa: E402
from explorer_browser import CHROMIUM, FLAGS, MAP_DRAWN  # noqa: E402


def one_visit(browser, base: str, compressed: bool, settle_s: float) -> dict:
    headers = {} if compressed else {"Accept-Encoding": "identity"}
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, extra_http_headers=headers)
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    got = {"bytes": 0, "n": 0, "encoded": 0, "first_map_bytes": None, "by_kind": {}, "largest": []}
    kinds, encodings, urls = {}, {}, {}

    def on_response(ev):
        r = ev["response"]
        url = r["url"]
        h = {k.lower(): v for k, v in r.get("headers", {}).items()}
        encodings[ev["requestId"]] = h.get("content-encoding", "")
        urls[ev["requestId"]] = url.split("?")[0].rsplit("/", 1)[-1]
        kinds[ev["requestId"]] = (
            "js/css"
            if url.split("?")[0].endswith((".js", ".css", ".mjs"))
            else "data"
            if "_dash-" in url or url.endswith(".json")
            else "other"
        )

    def on_done(ev):
        got["bytes"] += ev["encodedDataLength"]
        got["n"] += 1
        if encodings.get(ev["requestId"]):
            got["encoded"] += 1
        k = kinds.get(ev["requestId"], "other")
        got["by_kind"][k] = got["by_kind"].get(k, 0) + ev["encodedDataLength"]
        got["largest"] = sorted(got["largest"] + [(int(ev["encodedDataLength"]), urls.get(ev["requestId"], "?"))])[-6:]

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_done)
    log = []
    page.on("console", lambda m: log.append(f"{m.type}: {m.text[:200]}"))
    page.goto(base)
    try:
        page.wait_for_function(MAP_DRAWN, timeout=120_000, polling=50)
    except Exception:
        print("first map not drawn; console:", log[-10:], page.inner_text("body")[:300], file=sys.stderr)
        raise
    first_map = page.evaluate("() => performance.now()") / 1000.0
    got["first_map_bytes"] = got["bytes"]
    quiet, last = 0, -1
    t_end = time.monotonic() + 60
    while quiet < settle_s / 0.25 and time.monotonic() < t_end:  # until no request finished for settle_s
        page.wait_for_timeout(250)
        quiet = quiet + 1 if got["n"] == last else 0
        last = got["n"]
    ctx.close()
    return {"first_map_s": first_map, **got}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=3, help="fresh loads per mode (interleaved)")
    ap.add_argument("--server", default="default", help="default | waitress | gunicorn-N")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--settle", type=float, default=2.0, help="seconds without a request = visit over")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    srv, port = start_server(a.server, a.checkpoint)
    base = f"http://127.0.0.1:{port}/"
    res = {True: [], False: []}
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            one_visit(b, base, True, a.settle)  # warm-up: the server compresses each static file once
            for _ in range(a.loads):
                for mode in (True, False):
                    r = one_visit(b, base, mode, a.settle)
                    print("compressed" if mode else "identity", r, flush=True)
                    res[mode].append(r)
            b.close()
    finally:
        srv.terminate()
        srv.wait(30)

    def med(mode, key):
        return float(np.median([r[key] for r in res[mode]]))

    def kind(mode, k):
        return float(np.median([r["by_kind"].get(k, 0) for r in res[mode]]))

    c_all, u_all = med(True, "bytes"), med(False, "bytes")
    c_fm, u_fm = med(True, "first_map_bytes"), med(False, "first_map_bytes")
    t_c, t_u = med(True, "first_map_s"), med(False, "first_map_s")
    lines = [
        f"\n## First visit, compressed vs uncompressed ({time.strftime('%Y-%m-%d %H:%M')})\n",
        f"`latentdash serve` ({a.server}), headless Chromium on loopback (no bandwidth limit), empty cache, "
        f"median of {a.loads} interleaved loads each; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}. Bytes: Chromium's transferred size (headers + body).\n",
        "| | compressed (br) | uncompressed (identity) | ratio |",
        "|---|---|---|---|",
        f"| **transferred, whole first visit** | **{c_all / 1e6:.2f} MB** | {u_all / 1e6:.2f} MB | "
        f"{c_all / u_all:.2f} |",
        f"| transferred before the first map | {c_fm / 1e6:.2f} MB | {u_fm / 1e6:.2f} MB | {c_fm / u_fm:.2f} |",
        f"| of which JS/CSS (whole visit) | {kind(True, 'js/css') / 1e6:.2f} MB | "
        f"{kind(False, 'js/css') / 1e6:.2f} MB | {kind(True, 'js/css') / max(kind(False, 'js/css'), 1):.2f} |",
        f"| of which data (layout, callbacks, JSON) | {kind(True, 'data') / 1e6:.2f} MB | "
        f"{kind(False, 'data') / 1e6:.2f} MB | {kind(True, 'data') / max(kind(False, 'data'), 1):.2f} |",
        f"| other (thumbnails, images, wasm, onnx) | {kind(True, 'other') / 1e6:.2f} MB | "
        f"{kind(False, 'other') / 1e6:.2f} MB | |",
        f"| responses sent encoded | {med(True, 'encoded'):.0f} of {med(True, 'n'):.0f} | "
        f"{med(False, 'encoded'):.0f} of {med(False, 'n'):.0f} | |",
        f"| first map drawn (s after navigation) | {t_c:.2f} s | {t_u:.2f} s | {t_c / t_u:.2f} |",
        "\nTarget: compressed first visit <= 1.2 MB.",
        "Largest responses of the last compressed visit: "
        + ", ".join(f"{name} {n / 1e6:.2f} MB" for n, name in reversed(res[True][-1]["largest"])),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
