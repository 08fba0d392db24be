"""Decoders exported to ONNX, so that the page can decode in the browser (onnxruntime-web).

`export_decoder(model, latents)` exports a model's decoder with `torch.onnx.export` (input `z`
float32 [n, d], output `x` float32 [n, C, H, W] in [0, 1], dynamic batch), then checks it with
onnxruntime (CPU) against the model's own `decode` on 1,000 random prior vectors and 1,000 data
latents: the largest absolute pixel difference must be at most 1/255, else the export is refused
(`ExportRefused`, one line saying why). What can be exported: the built-in nets
(`TorchLatentModel`), the PCA baseline (rebuilt as a torch module: z @ components + mean, clipped)
and bring-your-own torch modules or TorchScript files when the exporter takes them; a numpy
decoder (or an op ONNX lacks) is refused and keeps server decoding.

An export is keyed by the model's content hash (`atlas.encode.model_hash`: the checkpoint file's
sha256 for a checkpoint) and stored next to the atlases, `<cache>/atlas/<hash[:32]>.decoder.onnx`
(atomic write); the four shipped checkpoints ship theirs in `latentdash/shipped/<stem>.decoder.onnx`.
The hash, latent size, image shape and the measured difference are in the file's metadata, and
`load_export` checks them (and that onnxruntime can run the file with the right output shape)
before a file is offered to the page: a corrupt, foreign or stale file is refused, never served.

`prepare(explorers)` (at server start) finds or makes the export of every served model; the
server's route serves the bytes by model name (never a client-chosen path) with ETag = hash.
Nothing here imports dash.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import LatentdashError

log = logging.getLogger(__name__)

SUFFIX = ".decoder.onnx"
TOLERANCE = 1.0 / 255.0  # max abs pixel difference torch vs onnxruntime
N_CHECK = 1000  # prior vectors, and as many data latents, checked per export
OPSET = 17
ORT_WEB_VERSION = "1.30.0"  # the vendored onnxruntime-web (latentdash/assets/vendor/)
META_PREFIX = "latentdash."


class ExportRefused(LatentdashError):
    """A decoder that cannot go to the browser (not exportable, not faithful, corrupt file)."""


@dataclass(frozen=True)
class DecoderExport:
    """One verified ONNX decoder: its bytes, the model hash it belongs to and what was measured."""

    data: bytes
    model_sha256: str
    latent_dim: int
    image_shape: tuple[int, int, int]
    max_diff: float
    path: Path | None = None
    made: bool = False  # exported just now (not found on disk)

    @property
    def etag(self) -> str:
        """The file's identity for HTTP caching: its own sha256 (changes with any byte)."""
        return hashlib.sha256(self.data).hexdigest()[:32]


# ----------------------------------------------------------------------------- torch modules
def _torch():
    import torch

    return torch


def decoder_module(model):
    """A torch module mapping z [n, d] -> x [n, C, H, W] for the model's decoder, or
    ExportRefused with the reason it has none."""
    torch = _torch()
    shape = tuple(int(s) for s in model.image_shape)
    net = getattr(model, "net", None)
    if isinstance(net, torch.nn.Module) and hasattr(net, "decode_tensor"):  # TorchLatentModel

        class NetDecoder(torch.nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, z):
                return self.net.decode_tensor(z)

        return NetDecoder(net).eval()
    comps, mean = getattr(model, "components", None), getattr(model, "mean", None)
    if isinstance(comps, np.ndarray) and isinstance(mean, np.ndarray) and getattr(model, "kind", "") == "linear":

        class PCADecoder(torch.nn.Module):  # PCAModel.decode, in torch
            def __init__(self):
                super().__init__()
                self.register_buffer("components", torch.from_numpy(np.ascontiguousarray(comps, np.float32)))
                self.register_buffer("mean", torch.from_numpy(np.ascontiguousarray(mean, np.float32)))

            def forward(self, z):
                return torch.clamp(z @ self.components + self.mean, 0.0, 1.0).reshape((-1,) + shape)

        return PCADecoder().eval()
    obj = getattr(model, "obj", None)  # ForeignModel: a bring-your-own object
    if isinstance(obj, torch.nn.Module) and callable(getattr(obj, "decode", None)):
        flat = int(np.prod(shape))

        class ForeignDecoder(torch.nn.Module):
            def __init__(self, obj):
                super().__init__()
                self.obj = obj

            def forward(self, z):
                out = self.obj.decode(z)
                if isinstance(out, (tuple, list)):
                    out = out[0]
                return out.reshape((-1,) + shape) if out.dim() == 2 and out.shape[1] == flat else out

        return ForeignDecoder(obj).eval()
    what = type(obj if obj is not None else model).__name__
    raise ExportRefused(
        f"its decoder ({what}) is not a torch module, so it cannot go to ONNX; it decodes on the server"
    )


# ----------------------------------------------------------------------------- export + check
def _check_vectors(model, latents, n: int = N_CHECK, seed: int = 0) -> np.ndarray:
    """n prior vectors and n data latents (a fixed random subset), float32 [<= 2n, d]."""
    prior = np.asarray(model.sample_prior(n, seed=seed), np.float32).reshape(-1, model.latent_dim)
    if latents is None or len(latents) == 0:
        return prior
    lat = np.asarray(latents, np.float32)
    idx = np.random.default_rng(seed).choice(len(lat), size=min(n, len(lat)), replace=False)
    return np.concatenate([prior, lat[np.sort(idx)]])


def _session(data: bytes):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])


def _run(sess, z: np.ndarray, batch: int = 500) -> np.ndarray:
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: z[i : i + batch]})[0] for i in range(0, len(z), batch)])


def max_difference(data: bytes, model, z: np.ndarray, sess=None) -> float:
    """Largest |onnxruntime - model.decode| over the vectors z; ExportRefused on a shape mismatch."""
    want = (len(z),) + tuple(int(s) for s in model.image_shape)
    got = np.asarray(_run(sess or _session(data), z), np.float32)
    if got.shape != want:
        raise ExportRefused(f"the ONNX decoder returns shape {got.shape}, the model {want}; it decodes on the server")
    ref = np.asarray(model.decode(z), np.float32).reshape(want)
    diff = np.abs(got - ref)
    return float(np.nanmax(diff)) if np.isfinite(got).all() else float("inf")


def export_decoder(model, latents=None, model_sha256: str | None = None, progress=None) -> DecoderExport:
    """Export and verify the model's decoder; ExportRefused (one line) when it cannot be.
    `progress(stage)` is called with "export" and "check" when given."""
    import onnx

    torch = _torch()
    from .atlas.encode import model_hash

    module = decoder_module(model)
    d, shape = int(model.latent_dim), tuple(int(s) for s in model.image_shape)
    sha = model_sha256 or model_hash(model)
    if progress:
        progress("export")
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
            torch.onnx.export(
                module,
                (torch.zeros(2, d),),
                buf,
                input_names=["z"],
                output_names=["x"],
                dynamic_axes={"z": {0: "n"}, "x": {0: "n"}},
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as e:  # the exporter's failures are many and varied: one line says which
        msg = " ".join(str(e).split())[:160]
        raise ExportRefused(f"torch.onnx.export failed ({type(e).__name__}: {msg}); it decodes on the server") from e
    proto = onnx.load_from_string(buf.getvalue())
    if progress:
        progress("check")
    try:
        diff = max_difference(proto.SerializeToString(), model, _check_vectors(model, latents))
    except ExportRefused:
        raise
    except Exception as e:
        msg = " ".join(str(e).split())[:160]
        raise ExportRefused(f"onnxruntime cannot run the export ({type(e).__name__}: {msg})") from e
    if not diff <= TOLERANCE:
        raise ExportRefused(
            f"the ONNX decoder differs from the model by {diff:.4g} per pixel (more than 1/255); "
            "it decodes on the server"
        )
    meta = {"model_sha256": sha, "latent_dim": str(d), "image_shape": ",".join(map(str, shape)), "max_diff": repr(diff)}
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = META_PREFIX + k, v
    proto.producer_name = "latentdash"
    return DecoderExport(proto.SerializeToString(), sha, d, shape, diff)


def save_export(exp: DecoderExport, path) -> Path:
    from .fileio import atomic_write

    path = Path(path)
    try:
        atomic_write(path, lambda f: f.write(exp.data))
    except OSError as e:
        raise LatentdashError(f"cannot write {path} ({e.strerror or e}); pass a writable --cache-dir") from e
    return path


def open_session(data: bytes):
    """An onnxruntime session on the bytes; ExportRefused when they are no (runnable) ONNX model.
    (onnxruntime only: importing `onnx` costs a second at every server start.)"""
    try:
        return _session(data)
    except Exception as e:
        raise ExportRefused(f"not an ONNX file ({type(e).__name__}); delete it and run `latentdash export-onnx`") from e


def read_meta(data, sess=None) -> dict:
    """The latentdash metadata of an export (model hash, latent size, image shape, max diff)."""
    sess = sess or open_session(data)
    props = sess.get_modelmeta().custom_metadata_map
    return {k[len(META_PREFIX) :]: v for k, v in props.items() if k.startswith(META_PREFIX)}


def load_export(path, model, model_sha256: str | None = None) -> DecoderExport:
    """The verified export at `path` for this model; ExportRefused when the file is missing,
    corrupt, for another model (hash) or shape, or does not run with the right output shape."""
    from .atlas.encode import model_hash

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ExportRefused(f"{path}: cannot read it ({e.strerror or e})") from e
    sess = open_session(data)
    meta = read_meta(data, sess)
    sha = model_sha256 or model_hash(model)
    d, shape = int(model.latent_dim), tuple(int(s) for s in model.image_shape)
    if meta.get("model_sha256") != sha:
        raise ExportRefused(f"{path.name} is the decoder of another model (hash); run `latentdash export-onnx` again")
    if meta.get("latent_dim") != str(d) or meta.get("image_shape") != ",".join(map(str, shape)):
        raise ExportRefused(f"{path.name} is for latent size/shape {meta.get('latent_dim')}/{meta.get('image_shape')}")
    try:  # it runs, and its output has the model's shape (a cheap check, 8 vectors)
        diff = max_difference(data, model, _check_vectors(model, None, n=8), sess)
    except ExportRefused:
        raise
    except Exception as e:
        msg = " ".join(str(e).split())[:120]
        raise ExportRefused(
            f"{path.name}: onnxruntime cannot run it ({type(e).__name__}: {msg}); export it again"
        ) from e
    if not diff <= TOLERANCE:
        raise ExportRefused(f"{path.name} decodes {diff:.3g} away from the model; export it again")
    return DecoderExport(data, sha, d, shape, float(meta.get("max_diff", diff)), path)


# ----------------------------------------------------------------------------- where they live
def export_path(model_sha256: str, cache_dir=None) -> Path:
    """Next to the atlases, keyed by the model's hash."""
    from .atlas.store import atlas_dir

    return atlas_dir(cache_dir) / f"{model_sha256[:32]}{SUFFIX}"


def shipped_export_path(checkpoint) -> Path:
    from .atlas.shipped import SHIPPED_DIR

    return SHIPPED_DIR / f"{Path(checkpoint).stem}{SUFFIX}"


def _checkpoint_of(model) -> Path | None:
    p = (getattr(model, "info", None) or {}).get("path")
    return Path(p) if p and Path(p).is_file() else None


def find_or_export(model, latents=None, cache_dir=None, export: bool = True, force: bool = False, progress=None):
    """The model's verified export: the shipped one, else the cached one, else (export=True) a
    new one written to the cache. ExportRefused when there is none (reason in the message)."""
    from .atlas.encode import model_hash

    sha = model_hash(model, _checkpoint_of(model))
    cands = [export_path(sha, cache_dir)]
    ck = _checkpoint_of(model)
    if ck is not None:
        cands.insert(0, shipped_export_path(ck))
    if not force:
        for p in cands:
            if p.is_file():
                try:
                    return load_export(p, model, sha)
                except ExportRefused as e:
                    log.warning("ONNX decoder %s not used: %s", p, e)
    if not export:
        raise ExportRefused("no ONNX export yet; run `latentdash export-onnx CHECKPOINT`")
    exp = export_decoder(model, latents, sha, progress=progress)
    path = save_export(exp, export_path(sha, cache_dir))
    return DecoderExport(exp.data, exp.model_sha256, exp.latent_dim, exp.image_shape, exp.max_diff, path, made=True)


class Decoders:
    """The served models' ONNX decoders by model name (found or made once, at server start);
    a model without one (and the reason) decodes on the server. Thread-safe, read-mostly."""

    def __init__(self, cache_dir=None):
        self.cache_dir = cache_dir
        self.exports: dict[str, DecoderExport] = {}
        self.refused: dict[str, str] = {}
        self.lock = threading.Lock()

    def prepare(self, explorers, export: bool = True) -> Decoders:
        for ex in explorers:
            self.add(ex, export=export)
        return self

    def add(self, ex, export: bool = True, cache_dir=None) -> DecoderExport | None:
        t0 = time.perf_counter()
        try:
            exp = find_or_export(ex.model, ex.latents, cache_dir or self.cache_dir, export=export)
        except ExportRefused as e:
            with self.lock:
                self.refused[ex.name] = str(e)
            log.info("%s: decoding on the server (%s)", ex.name, e)
            return None
        except Exception as e:  # a bug in the exporter must not stop the server: server decoding
            log.exception("%s: ONNX export failed; decoding on the server", ex.name, exc_info=e)
            with self.lock:
                self.refused[ex.name] = f"export failed ({type(e).__name__})"
            return None
        with self.lock:
            self.exports[ex.name] = exp
        ex.use_onnx(exp.data)  # the server's own live frames (drags) decode through it too
        log.info("%s: ONNX decoder ready (%.2f s, max diff %.2g)", ex.name, time.perf_counter() - t0, exp.max_diff)
        return exp

    def get(self, name: str) -> DecoderExport | None:
        return self.exports.get(name)


# ----------------------------------------------------------------------------- the command
def add_arguments(p) -> None:
    p.add_argument("checkpoint", help="a latentdash checkpoint (.pt), a shipped name, TorchScript or module:function")
    p.add_argument(
        "--dataset", default=None, help="dataset whose latents are checked too (default: fashion-mnist-test)"
    )
    p.add_argument("--data-root", default=None, help="folder with the dataset files")
    p.add_argument("--cache-dir", default=None, help="where atlases (and decoders) live")
    p.add_argument("--out", default=None, help="write the .onnx here instead of the cache")
    p.add_argument("--force", action="store_true", help="export again even when a valid export exists")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def run(a) -> int:
    """`latentdash export-onnx CHECKPOINT`: export, check and store one model's decoder."""
    import sys

    from .atlas.encode import model_hash
    from .atlas.shipped import resolve_checkpoint
    from .models import load_model

    say = (lambda s: None) if a.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    spec = resolve_checkpoint(a.checkpoint)
    model = load_model(spec)
    if not a.out and not a.force:
        try:
            exp = find_or_export(model, None, a.cache_dir, export=False)
            print(f"ONNX decoder up to date: {exp.path} ({len(exp.data) / 1e6:.2f} MB)")
            return 0
        except ExportRefused:
            pass
    latents = None
    if model.has_encoder:
        from .data import load_dataset

        ds = load_dataset(a.dataset or "fashion-mnist-test", data_root=a.data_root)
        if tuple(ds.image_shape) != tuple(model.image_shape):
            raise LatentdashError(
                f"dataset {ds.id!r} has images of shape {ds.image_shape}, the model "
                f"{tuple(model.image_shape)}; pass --dataset with the one it was trained on"
            )
        say(f"encoding {min(len(ds), 4 * N_CHECK)} images of {ds.id} for the check ...")
        rows = np.random.default_rng(0).choice(len(ds), size=min(len(ds), 4 * N_CHECK), replace=False)
        latents = model.encode(ds.float_images(np.sort(rows)))
    steps = {
        "export": "exporting the decoder to ONNX ...",
        "check": f"checking it against the model on {N_CHECK} prior vectors and {N_CHECK} data latents ...",
    }
    if a.out:
        exp = export_decoder(model, latents, model_hash(model, _checkpoint_of(model)), progress=lambda s: say(steps[s]))
        path = save_export(exp, a.out)
    else:
        exp = find_or_export(model, latents, a.cache_dir, force=a.force, progress=lambda s: say(steps[s]))
        path = exp.path
    print(
        f"ONNX decoder {'written' if exp.made or a.out else 'up to date'}: {path} "
        f"({len(exp.data) / 1e6:.2f} MB, max pixel difference {exp.max_diff:.2g})"
    )
    return 0


# ----------------------------------------------------------------------------- what the page gets
def _floats(a, nd: int = 6) -> list:
    return np.round(np.asarray(a, np.float64), nd).tolist()


def page_meta(view, exp: DecoderExport, prefix: str = "/") -> dict:
    """What ld-6-onnx.js needs to decode a model's vectors and place them on its maps in the
    browser: the decoder's URL (ETag-named), shapes, the slider axes (as ui/catalog.py builds
    them), each map's placement (PCA maps: mean + components, exact; raw: identity; t-SNE/UMAP and
    pixel maps: the k nearest dataset latents' map positions, from the figure) and the latents URL."""
    from .atlas.params import parse_map_name
    from .atlas.placement import K_PLACE

    ex = view.explorer
    st = ex.atlas.state
    maps = {}
    for name in view.map_names:
        space, method, dims = parse_map_name(name)
        if method == "raw":
            maps[name] = {"kind": "raw", "dims": dims}
        elif space == "latent" and method == "pca" and "latent_pca_mean" in st:
            comps = np.asarray(st["latent_pca_components"])[:dims]
            maps[name] = {
                "kind": "pca",
                "dims": dims,
                "mean": _floats(st["latent_pca_mean"], 7),
                "components": _floats(comps, 7),
            }
        else:
            maps[name] = {"kind": "knn", "dims": dims, "k": K_PLACE}
    sliders = {}
    for basis, ax in view.sliders.items():
        sliders[basis] = {
            "kind": ax.kind,
            "idx": list(ax.idx),
            "lo": _floats(ax.lo),
            "hi": _floats(ax.hi),
            "basis": None if ax.basis is None else _floats(ax.basis, 7),
            "origin": _floats(ax.origin, 7),
        }
    q = exp.etag
    base = f"{prefix}onnx/{_quote(view.name)}"
    return {
        "model": view.name,
        "hash": q,
        "onnx": f"{base}.onnx?h={q}",
        "latents": f"{base}.latents.bin?h={q}",
        "n": int(view.n),
        "latent_dim": exp.latent_dim,
        "image_shape": list(exp.image_shape),
        "lat_mean": _floats(view.lat_mean, 7),
        "sliders": sliders,
        "maps": maps,
        "max_strength": _max_strength(),
    }


def _max_strength() -> float:
    from .algebra import MAX_STRENGTH

    return float(MAX_STRENGTH)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


ORT_FILES = {  # the vendored onnxruntime-web files, served by these fixed names only
    "ort.wasm.min.js": (f"ort-{ORT_WEB_VERSION}.wasm.min.js", "text/javascript"),
    "ort-wasm-simd-threaded.mjs": (f"ort-{ORT_WEB_VERSION}-wasm-simd-threaded.mjs", "text/javascript"),
    "ort-wasm-simd-threaded.wasm": (f"ort-{ORT_WEB_VERSION}-wasm-simd-threaded.wasm.br", "application/wasm"),
}
IMMUTABLE = "public, max-age=31536000, immutable"


class OrtFiles:
    """The vendored runtime's bytes, read once per process; the WebAssembly file ships brotli-
    compressed (2.3 MB instead of 14.2 MB) and is sent as is to browsers that take brotli, else
    decompressed (and gzipped once for gzip clients)."""

    def __init__(self):
        from pathlib import Path as _P

        self.folder = _P(__file__).resolve().parent / "assets" / "vendor"
        self.cache: dict = {}
        self.lock = threading.Lock()

    def get(self, name: str, encoding: str | None):
        """(bytes, content-encoding or None, mimetype, etag)."""
        fname, mime = ORT_FILES[name]
        key = (name, encoding if fname.endswith(".br") else None)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        raw = (self.folder / fname).read_bytes()
        etag = hashlib.sha256(raw).hexdigest()[:32]
        if not fname.endswith(".br"):
            out = (raw, None, mime, etag)
        elif encoding == "br":
            out = (raw, "br", mime, etag + "-br")
        else:
            import brotli

            plain = brotli.decompress(raw)
            if encoding == "gzip":
                import gzip

                out = (gzip.compress(plain, 6, mtime=0), "gzip", mime, etag + "-gz")
            else:
                out = (plain, None, mime, etag)
        with self.lock:
            self.cache[key] = out
        return out


def register_routes(server, catalog, prefix: str = "/", decoders: Decoders | None = None) -> Decoders:
    """The routes of decoding in the browser, by model name (never a client-chosen path):
    `onnx/<model>.json` (page_meta, or {"onnx": null, "why": ...} for a model that decodes on the
    server; 404 for a name that is no model), `onnx/<model>.onnx` and `onnx/<model>.latents.bin`
    (float32 [n, d]), ETag = the decoder's hash, and `ort/<version>/<file>` (the vendored
    onnxruntime-web); all with a year's cache lifetime (the URLs carry the hash or version)."""
    from flask import Response, jsonify, request

    from .server.security import _choose

    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    if decoders is None:
        decoders = Decoders()
        for view in catalog.views.values():
            decoders.add(view.explorer, cache_dir=_cache_of(view.explorer))
    ort_files = OrtFiles()

    def lookup(model: str):
        view = catalog.get(model)
        if view is None:
            return None, None, (jsonify(error=f"no model named {model!r}"), 404)
        exp = decoders.get(view.name)
        if exp is None and view.name not in decoders.refused:  # a view a background job added: a
            exp = decoders.add(view.explorer, export=False, cache_dir=_cache_of(view.explorer))  # file only
        if exp is None:
            why = decoders.refused.get(view.name, "no ONNX decoder for it")
            return view, None, (jsonify(error=f"{view.name} decodes on the server: {why}"), 404)
        return view, exp, None

    def cached(resp, etag: str):
        resp.set_etag(etag)
        resp.headers["Cache-Control"] = IMMUTABLE
        return resp.make_conditional(request)

    def meta(model: str):
        view, exp, err = lookup(model)
        if view is not None and exp is None:  # a model of ours that decodes on the server: not an error
            resp = jsonify(model=view.name, onnx=None, why=err[0].get_json()["error"])
            resp.headers["Cache-Control"] = "no-cache"
            return resp
        if err:
            return err
        resp = jsonify(page_meta(view, exp, prefix))
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    def onnx_file(model: str):
        _, exp, err = lookup(model)
        if err:
            return err
        return cached(Response(exp.data, mimetype="application/octet-stream"), exp.etag)

    def latents(model: str):
        view, exp, err = lookup(model)
        if err:
            return err
        data = np.ascontiguousarray(view.explorer.latents, "<f4").tobytes()
        return cached(Response(data, mimetype="application/octet-stream"), exp.etag + "-lat")

    def ort_file(version: str, name: str):
        if version != ORT_WEB_VERSION or name not in ORT_FILES:
            return jsonify(error=f"no such file; this server ships onnxruntime-web {ORT_WEB_VERSION}"), 404
        enc = _choose(request.headers.get("Accept-Encoding", "")) if ORT_FILES[name][0].endswith(".br") else None
        data, cenc, mime, etag = ort_files.get(name, enc)
        resp = Response(data, mimetype=mime)
        if cenc:
            resp.headers["Content-Encoding"] = cenc
        resp.headers["Vary"] = "Accept-Encoding"
        return cached(resp, etag)

    server.add_url_rule(f"{prefix}onnx/<path:model>.json", "latentdash_onnx_meta", meta)
    server.add_url_rule(f"{prefix}onnx/<path:model>.onnx", "latentdash_onnx", onnx_file)
    server.add_url_rule(f"{prefix}onnx/<path:model>.latents.bin", "latentdash_onnx_latents", latents)
    server.add_url_rule(f"{prefix}ort/<version>/<name>", "latentdash_ort", ort_file)
    return decoders


def _cache_of(ex):
    """The cache folder an explorer's atlas came from (exports go next to it), else the default."""
    p = getattr(ex.atlas, "path", None)
    if p is not None and Path(p).parent.name == "atlas":
        return Path(p).parent.parent
    return None
