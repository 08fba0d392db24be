"""Speed of the REST API's decode: `POST /api/v1/models/{model}/decode` of 64 latent vectors over
real HTTP (target: p50 <= 30 ms), against baselines measured in the same run: a 1-vector decode
request (the per-request overhead) and the in-process Explorer decode of the same 64 vectors
(the model's own cost), with and without the PNG encoding.

    .venv/bin/python bench/bench_api.py                          # shipped VAE-16, the bundled 10k atlas
    .venv/bin/python bench/bench_api.py --dataset fashion-mnist  # 70k (when the files are cached)
    .venv/bin/python bench/bench_api.py --dataset fashion-mnist --methods pca   # 70k, PCA maps only
    options: --checkpoint NAME|PATH, --server gunicorn|waitress, --workers N, --n 200, --out REPORT.md

The server is a separate process started as a user would (`latentdash serve`, on a free loopback
port), so the client and the server don't share a GIL; the client keeps one connection open
(requests.Session), one request in flight. Each request sends different latents (atlas codes plus
noise). Reported twice: with the client accepting compressed responses (requests' default, as a
browser does) and with `Accept-Encoding: identity`.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentdash.server.api import png_data_uris  # noqa: E402
from latentdash.server.app_factory import load_explorers  # noqa: E402
from latentdash.server.config import ServeConfig  # noqa: E402

TARGET_P50_MS = 30.0


def pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def row(name, xs, base=None) -> str:
    ratio = f"{pct(xs, 50) / pct(base, 50):.2f}x" if base is not None else "-"
    return f"| {name} | {pct(xs, 50):.1f} | {pct(xs, 90):.1f} | {pct(xs, 99):.1f} | {len(xs)} | {ratio} |"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, port: int) -> subprocess.Popen:
    cmd = [
        str(ROOT / ".venv" / "bin" / "latentdash"),
        "serve",
        "--checkpoint",
        args.checkpoint,
        "--dataset",
        args.dataset,
        "--port",
        str(port),
    ]
    if args.methods:
        cmd += ["--methods", args.methods]
    if args.server:
        cmd += ["--server", args.server]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    return wait_healthy(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), port)


def wait_healthy(proc: subprocess.Popen, port: int, seconds: float = 600) -> subprocess.Popen:
    """Wait for a started `latentdash serve` to answer /healthz (a missing atlas is built first)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the server exited ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"error: the server did not answer /healthz within {seconds:.0f} s")


def timed_posts(session, url, bodies, headers) -> list[float]:
    out = []
    for b in bodies:
        t = time.perf_counter()
        r = session.post(url, json=b, headers=headers)
        r.content  # noqa: B018 (read the whole body)
        out.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise SystemExit(f"error: decode answered {r.status_code}: {r.text[:300]}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default="fashion-vae-16")
    ap.add_argument("--dataset", default="fashion-mnist-test")
    ap.add_argument("--methods", default=None, help="atlas projections, e.g. pca (default: all, as serve)")
    ap.add_argument("--server", default=None, help="gunicorn | waitress (default: latentdash serve's default)")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--n", type=int, default=200, help="timed requests per case")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    # in-process baseline: the Explorer the server builds, with its torch threads (1)
    cfg = ServeConfig(checkpoints=(args.checkpoint,), dataset=args.dataset)
    if args.methods:
        cfg = cfg.replace(methods=tuple(m.strip() for m in args.methods.split(",")))
    ex = load_explorers(cfg, progress=True)[0]
    rng = np.random.default_rng(0)

    def batch(k):
        idx = rng.integers(0, ex.n, k)
        return (ex.latents[idx] + rng.normal(0, 0.05, (k, ex.latent_dim))).astype(np.float32)

    warm, n = 20, args.n
    for _ in range(warm):
        ex.decode(batch(args.batch))
    inproc, inproc_png = [], []
    for _ in range(n):
        z = batch(args.batch)
        t = time.perf_counter()
        x = ex.decode(z)
        inproc.append(time.perf_counter() - t)
        png_data_uris(x)
        inproc_png.append(time.perf_counter() - t)

    port = free_port()
    proc = start_server(args, port)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/models/{ex.name}/decode"
        s = requests.Session()
        results = {}
        for enc_name, headers in (("compressed", {}), ("identity", {"Accept-Encoding": "identity"})):
            timed_posts(s, url, [{"latents": batch(args.batch).tolist()} for _ in range(warm)], headers)
            one = timed_posts(s, url, [{"latents": batch(1).tolist()} for _ in range(n)], headers)
            many = timed_posts(s, url, [{"latents": batch(args.batch).tolist()} for _ in range(n)], headers)
            results[enc_name] = (one, many)
        r = s.post(url, json={"latents": batch(args.batch).tolist()})
        size_c, enc = len(r.content), r.headers.get("Content-Encoding", "identity")
        raw = s.post(url, json={"latents": batch(args.batch).tolist()}, headers={"Accept-Encoding": "identity"})
        size_raw = len(raw.content)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    b = args.batch
    lines = [
        f"# REST API decode: {ex.name} on {args.dataset} ({ex.n} atlas items)",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, server: "
        f"`latentdash serve{' --server ' + args.server if args.server else ''}"
        f"{' --workers ' + str(args.workers) if args.workers else ''}` on loopback, one client, one request in flight.",
        "",
        "| case | p50 ms | p90 ms | p99 ms | n | p50 / in-process decode |",
        "|---|---|---|---|---|---|",
        row(f"in-process Explorer.decode of {b}", inproc, inproc),
        row(f"in-process decode of {b} + PNG data URIs", inproc_png, inproc),
    ]
    for enc_name, (one, many) in results.items():
        lines.append(row(f"HTTP decode of 1 ({enc_name})", one, inproc))
        lines.append(row(f"**HTTP decode of {b}** ({enc_name})", many, inproc))
    p50 = pct(results["compressed"][1], 50)
    lines += [
        "",
        f"Response of {b} images: {size_raw / 1024:.0f} kB as JSON, {size_c / 1024:.0f} kB with "
        f"Content-Encoding {enc}.",
        f"Target p50 <= {TARGET_P50_MS:g} ms for {b} vectors: **{p50:.1f} ms, "
        f"{'met' if p50 <= TARGET_P50_MS else 'NOT met'}** "
        f"({p50 / pct(results['compressed'][0], 50):.1f}x a 1-vector request, "
        f"{p50 / pct(inproc, 50):.1f}x the in-process decode).",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
