"""Size of the static demo (`latentdash export-static`): on disk, gzipped and brotli'd, by part,
for the default export (fashion-vae-16 on the bundled 10k images) and, with --all, the four
shipped models together. Sizes, not timings: the target is <= 25 MB on disk for the default.

    .venv/bin/python bench/bench_static.py [--all]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentdash.cli import main  # noqa: E402
from latentdash.export_static import SIZE_TARGET  # noqa: E402

SHIPPED = ("fashion-vae-16", "fashion-ae-16", "fashion-pca-16", "fashion-vae-2")


def part_of(rel: str, manifest: dict) -> str:
    if rel.startswith("ort/"):
        return "runtime (onnxruntime-web wasm)"
    if rel.startswith("js/plotly"):
        return "plotly bundle"
    if rel.endswith(".decoder.onnx"):
        return "ONNX decoders"
    for md in manifest["models"]:
        if rel == md["sprite"]["file"]:
            return "thumbnails (PNG sprite sheet)"
        if rel == md["latents"]["file"]:
            return "latents (float32)"
        if any(rel == mp["file"] for mp in md["maps"].values()):
            return "map coordinates (float32)"
    return "page, manifest, labels, licences"


def measure(folder: Path) -> dict:
    import brotli

    manifest = json.loads((folder / "data" / "manifest.json").read_text())
    parts: dict = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        row = parts.setdefault(part_of(str(p.relative_to(folder)), manifest), [0, 0, 0, 0])
        row[0] += 1
        row[1] += len(data)
        row[2] += len(gzip.compress(data, 6, mtime=0))
        row[3] += len(brotli.compress(data, quality=9))
    return parts


def report(title: str, parts: dict) -> str:
    lines = [f"{title}", "", "| part | files | on disk | gzip | brotli |", "|---|---:|---:|---:|---:|"]
    tot = [0, 0, 0, 0]
    for name, (n, raw, gz, br) in sorted(parts.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"| {name} | {n} | {raw / 1e6:.2f} MB | {gz / 1e6:.2f} MB | {br / 1e6:.2f} MB |")
        tot = [a + b for a, b in zip(tot, (n, raw, gz, br))]
    lines.append(
        f"| **total** | {tot[0]} | **{tot[1] / 1e6:.2f} MB** | {tot[2] / 1e6:.2f} MB | {tot[3] / 1e6:.2f} MB |"
    )
    return "\n".join(lines), tot[1]


def main_(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="also the four shipped models in one folder")
    a = ap.parse_args(argv)
    runs = [("default (fashion-vae-16)", [])]
    if a.all:
        runs.append(("the four shipped models", [x for m in SHIPPED for x in ("--checkpoint", m)]))
    with tempfile.TemporaryDirectory() as tmp:
        for k, (title, extra) in enumerate(runs):
            out = Path(tmp) / f"out{k}"
            if main(["export-static", str(out), "--quiet", *extra]) != 0:
                return 1
            text, raw = report(f"{title}:", measure(out))
            print(text)
            verdict = "within" if raw <= SIZE_TARGET else "over"
            print(f"\n{verdict} the {SIZE_TARGET / 1e6:.0f} MB target ({raw / SIZE_TARGET:.2f}x of it)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
