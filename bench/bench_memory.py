"""Memory of the multi-process server: PSS (proportional set size, /proc/<pid>/smaps_rollup: a
page shared by k processes counts 1/k in each) of the gunicorn master and of each worker, for
`latentdash serve --workers N`, N = 1, 2, 4, after every worker has served a short drag load.
Models and atlases are loaded once in the master and forked: shared copy-on-write, so a second
worker should add only its own heap, not another copy of the data.

    .venv/bin/python bench/bench_memory.py                  # N = 1, 2, 4, the shipped models
    .venv/bin/python bench/bench_memory.py --workers 1,2 --warm 5 --out REPORT.md

Target: total PSS at N = 2 <= 1.3 x the total at N = 1 (the ratio is measured in this run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_load import run_load, start_server  # noqa: E402


def pss_kb(pid: int) -> tuple[int, int]:
    """(Pss, Rss) in kB from /proc/<pid>/smaps_rollup."""
    vals = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Pss:", "Rss:"):
            vals[parts[0][:-1]] = int(parts[1])
    return vals["Pss"], vals["Rss"]


def measure(n: int, a) -> dict:
    srv, port = start_server(f"gunicorn-{n}", a.checkpoint)
    try:
        import psutil

        master = srv.pid
        for _ in range(200):
            workers = [c.pid for c in psutil.Process(master).children()]
            if len(workers) == n:
                break
            time.sleep(0.1)
        run_load(port, max(4, 2 * n), a.warm, 1)  # every worker decodes, renders, compresses
        time.sleep(1.0)
        m_pss, m_rss = pss_kb(master)
        w = [pss_kb(p) for p in workers]
    finally:
        srv.terminate()
        srv.wait(30)
    return {
        "n": n,
        "master_pss_mb": m_pss / 1024,
        "master_rss_mb": m_rss / 1024,
        "worker_pss_mb": [p / 1024 for p, _ in w],
        "worker_rss_mb": [r / 1024 for _, r in w],
        "total_pss_mb": (m_pss + sum(p for p, _ in w)) / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--warm", type=float, default=8.0, help="seconds of drag load before measuring")
    ap.add_argument("--checkpoint", default=None, help="one model (default: the shipped ones)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rows = []
    for n in [int(x) for x in a.workers.split(",")]:
        r = measure(n, a)
        print(r, flush=True)
        rows.append(r)
    base = rows[0]["total_pss_mb"]
    lines = [
        f"\n## Server memory (PSS) by worker count ({time.strftime('%Y-%m-%d %H:%M')})\n",
        f"`latentdash serve --workers N` ({'the shipped models' if not a.checkpoint else a.checkpoint}), "
        f"after {a.warm:.0f} s of drag load; {os.cpu_count()} cores. PSS counts a shared page 1/k in each "
        "of the k processes sharing it, so the total is what the server really costs.\n",
        "| N | master PSS (RSS) | each worker PSS (RSS) | total PSS | total / N=1 total |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        ws = ", ".join(f"{p:.0f} ({q:.0f})" for p, q in zip(r["worker_pss_mb"], r["worker_rss_mb"]))
        lines.append(
            f"| {r['n']} | {r['master_pss_mb']:.0f} ({r['master_rss_mb']:.0f}) MB | {ws} MB | "
            f"{r['total_pss_mb']:.0f} MB | {r['total_pss_mb'] / base:.2f}x |"
        )
    lines.append("\nTarget: total at N = 2 <= 1.3 x total at N = 1.")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
