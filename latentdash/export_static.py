"""`latentdash export-static OUT/`: a self-contained static demo of the explorer.

OUT/ gets an HTML page, its JavaScript and CSS (latentdash/static_demo/), our plotly bundle, the
onnxruntime-web runtime (the WebAssembly build: `ort.wasm.min.js` + the plain SIMD
`ort-wasm-simd-threaded.wasm`, run with one thread; the smallest build onnxruntime-web 1.30 ships,
decompressed here from the vendored brotli file and checked against its sha256) with the decoder
engine of the server page (`assets/ld-6-onnx.js`, `latentdashDecoder`), and per model the atlas
data: every map's coordinates (float32, little-endian, [n, dims]), the latents (float32 [n, d]),
the labels (JSON), the thumbnails as one PNG sprite sheet (tile k at column k % cols, row
k // cols) and the verified ONNX decoder, described by `data/manifest.json`. Data files are named
by their content hash, so files two models share (the pixel-space maps, the sprite sheet) are
written once. Any static host serves it (`python -m http.server -d OUT`); nothing runs on a server.

Everything is written into a hidden temporary folder next to OUT and renamed into place at the
end: an interrupted or failed export leaves nothing behind. A non-empty OUT is refused unless
--force (then it is replaced as a whole). Without --checkpoint the default shipped model
(fashion-vae-16) is exported: its folder is ~24 MB, ~14 of them the WebAssembly runtime; each
further model adds its decoder, latents and latent maps (~1-3 MB).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import LatentdashError

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
PAGE_DIR = PACKAGE_DIR / "static_demo"
VENDOR_DIR = PACKAGE_DIR / "assets" / "vendor"
FORMAT, VERSION = "latentdash-static", 1
PAGE_FILES = ("index.html", "demo.js", "demo.css")
ORT_BUILD = "onnxruntime-web 1.30.0 wasm build: ort.wasm.min.js + ort-wasm-simd-threaded.wasm (SIMD, one thread)"
SIZE_TARGET = 25_000_000  # bytes on disk for the default export (the bundled 10k atlas)
MAP_LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "raw": "raw latent"}


# ----------------------------------------------------------------------------- the command
def add_arguments(p) -> None:
    p.add_argument("out", help="the folder to write (must be empty or new; --force replaces it)")
    p.add_argument(
        "--checkpoint",
        action="append",
        default=None,
        help="a model to include (repeat for several): a checkpoint (.pt), a shipped name "
        "(fashion-vae-16, fashion-ae-16, fashion-pca-16, fashion-vae-2), TorchScript or module:function; "
        "default: fashion-vae-16",
    )
    p.add_argument("--dataset", default=None, help="dataset id (default: the bundled fashion-mnist-test)")
    p.add_argument("--data-root", default=None, help="folder with the dataset files")
    p.add_argument("--limit", type=int, default=None, help="a stratified subset of N items (builds that atlas)")
    p.add_argument("--cache-dir", default=None, help="where atlases (and decoders) live")
    p.add_argument("--force", action="store_true", help="replace a non-empty OUT")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(a) -> int:
    from .atlas.progress import Progress

    out = Path(a.out).expanduser()
    check_out(out, a.force)
    models = load_models(a.checkpoint or ["fashion-vae-16"], a.dataset, a.data_root, a.limit)
    models["progress"] = not a.quiet
    prog = Progress(not a.quiet)
    t0 = time.perf_counter()
    files = export_static(out, models, a.cache_dir, prog)
    raw, gz = folder_sizes(out)
    print(
        f"static demo written: {out} ({len(files)} files, {raw / 1e6:.1f} MB on disk, {gz / 1e6:.1f} MB gzipped, "
        f"{time.perf_counter() - t0:.1f} s); serve it with: python -m http.server -d {out} 8000"
    )
    return 0


def check_out(out: Path, force: bool) -> None:
    """OUT must be a new or empty folder (or --force); its parent must exist and be writable."""
    if out.exists() and not out.is_dir():
        raise LatentdashError(f"{out} is a file, not a folder; pass a new or empty folder as OUT")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise LatentdashError(f"{out} is not empty; pass --force to replace it or choose a new folder")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise LatentdashError(f"{parent} does not exist; create it first or choose another OUT")
    if not os.access(parent, os.W_OK):
        raise LatentdashError(f"cannot write in {parent}; choose an OUT in a folder you can write to")


def load_models(specs, dataset_id, data_root, limit):
    """{"models": [(name, model, checkpoint path or None)], "dataset", "params"}; every bad spec
    is a one-line LatentdashError before anything is written."""
    from .atlas.params import AtlasParams
    from .atlas.shipped import DEFAULT_DATASET, resolve_checkpoint
    from .data import load_dataset
    from .models import load_model

    params = AtlasParams(limit=limit)
    dataset = load_dataset(dataset_id or DEFAULT_DATASET, data_root=data_root)
    out, taken = [], set()
    for spec in specs:
        spec = resolve_checkpoint(spec)
        model = load_model(spec)
        p = Path(spec)
        base = p.stem if (p.is_file() or p.suffix in (".pt", ".pth", ".ts")) else spec.replace(":", "-")
        name, k = base, 2
        while name in taken:
            name, k = f"{base}-{k}", k + 1
        taken.add(name)
        out.append((name, model, p if p.is_file() else None))
    return {"models": out, "dataset": dataset, "params": params}


def export_static(out: Path, loaded: dict, cache_dir=None, prog=None) -> dict:
    """Write the demo into a temporary folder next to `out`, then rename it into place. Returns
    {relative path: bytes} of what was written."""
    from .atlas.progress import Progress

    prog = prog or Progress(False)
    out = Path(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.resolve().parent))
    try:
        w = _Writer(tmp)
        models = loaded["models"]
        with prog.stage("static export", total=2 + 3 * len(models), unit="step") as tick:
            _page_files(w)
            tick()
            entries = []
            for name, model, ckpt in models:
                ex = _explorer(name, model, ckpt, loaded, cache_dir)
                tick()
                entries.append(_model_files(w, ex, cache_dir, tick))
            if any(e["decoder"] for e in entries):
                _runtime_files(w)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "latentdash": _version(),
                "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "runtime": {"build": ORT_BUILD, "base": "ort/"},
                "default": entries[0]["name"],
                "models": entries,
                "server_only": ["uploads", "background jobs", "REST API", "fit and topology panels", "latent algebra"],
            }
            manifest["files"] = dict(sorted(w.files.items()))
            w.write("data/manifest.json", json.dumps(manifest, indent=1).encode())
            tick()
        os.chmod(tmp, 0o755)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return w.files


def _swap_into_place(tmp: Path, out: Path) -> None:
    if out.exists():  # empty, or --force: the old folder goes only once the new one is complete
        old = out.resolve().parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, out)


class _Writer:
    def __init__(self, root: Path):
        self.root, self.files = root, {}

    def write(self, rel: str, data: bytes) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.write_bytes(data)
        except OSError as e:
            raise LatentdashError(
                f"cannot write {path} ({e.strerror or e}); free some space or choose another OUT"
            ) from e
        self.files[rel] = len(data)
        return rel

    def content(self, data: bytes, ext: str) -> str:
        """data/<sha256[:16]>.<ext>, written once however many models share it."""
        rel = f"data/{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
        return rel if rel in self.files else self.write(rel, data)


# ----------------------------------------------------------------------------- the files
def _page_files(w: _Writer) -> None:
    for name in PAGE_FILES:
        w.write(name, (PAGE_DIR / name).read_bytes())
    w.write("js/plotly-latentdash.min.js", (VENDOR_DIR / "plotly-latentdash.min.js").read_bytes())
    w.write("js/ld-6-onnx.js", (PACKAGE_DIR / "assets" / "ld-6-onnx.js").read_bytes())
    w.write("licenses/plotly.js-LICENSE.txt", (VENDOR_DIR / "plotly.js-LICENSE.txt").read_bytes())


def _runtime_files(w: _Writer) -> None:
    """onnxruntime-web, only when some model has a decoder (14 MB of the folder)."""
    w.write("ort/ort.wasm.min.js", (VENDOR_DIR / "ort-1.30.0.wasm.min.js").read_bytes())
    w.write("ort/ort-wasm-simd-threaded.mjs", (VENDOR_DIR / "ort-1.30.0-wasm-simd-threaded.mjs").read_bytes())
    w.write("ort/ort-wasm-simd-threaded.wasm", plain_wasm())
    w.write("licenses/onnxruntime-web-LICENSE.txt", (VENDOR_DIR / "onnxruntime-web-LICENSE.txt").read_bytes())


def plain_wasm() -> bytes:
    """The vendored runtime's WebAssembly file, decompressed (a static host sends files as they
    are, and browsers only take brotli with a Content-Encoding header), checked against the
    sha256 recorded when it was vendored."""
    import brotli

    data = brotli.decompress((VENDOR_DIR / "ort-1.30.0-wasm-simd-threaded.wasm.br").read_bytes())
    want = None
    for line in (VENDOR_DIR / "ort-1.30.0.sha256").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == "ort-wasm-simd-threaded.wasm":
            want = parts[0]
    if want is None or hashlib.sha256(data).hexdigest() != want:
        raise LatentdashError("the vendored onnxruntime-web WebAssembly file fails its checksum; reinstall latentdash")
    return data


def _explorer(name, model, ckpt, loaded, cache_dir):
    """The model's Explorer on its shipped or cached atlas (built now, with progress bars, when
    there is none)."""
    from .atlas import get_or_build_atlas, shipped_atlas_for
    from .service import Explorer

    ds = loaded["dataset"] if getattr(model, "has_encoder", True) else None
    params = loaded["params"]
    atlas = shipped_atlas_for(model, ds, params, ckpt) or get_or_build_atlas(
        model, ds, params, cache_dir=cache_dir, checkpoint_path=ckpt, progress=loaded.get("progress", False)
    )
    return Explorer(model, atlas, name)


def _f32(a) -> bytes:
    return np.ascontiguousarray(a, "<f4").tobytes()


def sprite_layout(n: int) -> tuple[int, int]:
    """(columns, rows) of the sprite sheet of n tiles: as square as it gets."""
    cols = max(1, int(np.ceil(np.sqrt(n))))
    return cols, max(1, -(-n // cols))


def sprite_sheet(thumbnails: np.ndarray) -> tuple[bytes, int, int]:
    """uint8 [n, C, H, W] -> (PNG bytes of the sheet, cols, rows); empty tiles are black."""
    from PIL import Image

    n, c, h, wd = thumbnails.shape
    cols, rows = sprite_layout(n)
    tiles = np.zeros((rows * cols, h, wd, c), np.uint8)
    tiles[:n] = thumbnails.transpose(0, 2, 3, 1)
    sheet = tiles.reshape(rows, cols, h, wd, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * wd, c)
    img = Image.fromarray(sheet[:, :, 0] if c == 1 else sheet, "L" if c == 1 else "RGB")
    import io

    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=6)  # level 9 saves 1 % for 5x the time
    return buf.getvalue(), cols, rows


def _model_files(w: _Writer, ex, cache_dir, tick) -> dict:
    from .atlas.params import MapName
    from .onnx_export import ExportRefused, find_or_export, page_meta
    from .ui.catalog import ModelView  # pure: no dash (the slider axes the server page offers)

    view = ModelView(ex)
    atlas = ex.atlas
    png, cols, rows = sprite_sheet(np.asarray(atlas.thumbnails, np.uint8))
    c, h, wd = ex.image_shape
    entry = {
        "name": ex.name,
        "kind": str(ex.kind),
        "latent_dim": int(ex.latent_dim),
        "image_shape": [int(c), int(h), int(wd)],
        "n": int(ex.n),
        "dataset": atlas.meta.get("dataset_id"),
        "class_names": view.trace_names if view.has_labels else None,
        "labels": w.content(json.dumps([int(v) for v in view.trace_of]).encode(), "json") if view.has_labels else None,
        "sprite": {"file": w.content(png, "png"), "cols": cols, "rows": rows},
        "latents": {"file": w.content(_f32(ex.latents), "f32"), "shape": [int(ex.n), int(ex.latent_dim)]},
        "default_map": view.default_map(),
        "maps": {},
        "sliders": {
            basis: {"labels": list(ax.labels), "lo": ax.lo.tolist(), "hi": ax.hi.tolist()}
            for basis, ax in view.sliders.items()
        },
        "metrics": {k: v for k, v in (ex.metrics or {}).items() if isinstance(v, (int, float))},
    }
    tick()
    for name in view.map_names:
        try:
            space, method, dims = MapName.parse(name)
        except ValueError:
            continue
        coords = np.asarray(atlas.maps[name], np.float32)
        label = f"{space} · {MAP_LABELS.get(method, method)}"
        entry["maps"][name] = {"file": w.content(_f32(coords), "f32"), "dims": dims, "space": space,
                               "method": method, "label": label}  # fmt: skip
    entry["decoder"], entry["decoder_why"] = None, None
    try:
        exp = find_or_export(ex.model, ex.latents, cache_dir)
    except ExportRefused as e:
        entry["decoder_why"] = str(e).split("; it decodes on the server")[0]  # there is no server here
        log.warning("%s: no ONNX decoder, the static page shows originals only (%s)", ex.name, e)
    else:
        meta = page_meta(view, exp, prefix="")
        meta["onnx"] = w.write(f"data/{_safe(ex.name)}.decoder.onnx", exp.data)
        meta["latents"] = entry["latents"]["file"]
        entry["decoder"] = w.write(f"data/{_safe(ex.name)}.decoder.json", json.dumps(meta).encode())
    tick()
    return entry


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".") or "model"


def _version() -> str:
    from . import __version__

    return __version__


def folder_sizes(folder) -> tuple[int, int]:
    """(bytes on disk, bytes gzipped file by file at level 6) of every file under folder."""
    raw = gz = 0
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            raw += len(data)
            gz += len(gzip.compress(data, 6, mtime=0))
    return raw, gz
