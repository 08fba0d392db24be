"""Build (or find) an atlas: encode, fit every map, score it, write one artifact atomically.

Stages, each with its own progress bar: encode, PCA, kNN graph, UMAP, t-SNE, metrics.
The pixel-space maps depend only on the images (and the parameters), so they are also cached on
their own (`pixel-<key>.atlas.npz`) and shared by every model built on the same dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import LatentdashError
from . import projections as pj
from . import quality as q
from .encode import encode_rows, model_hash, sample_rows, stratified_subset
from .knn import knn_graph
from .params import AtlasParams, map_name, planned_maps
from .progress import Progress
from .store import (
    SUFFIX,
    VERSION,
    Atlas,
    CorruptArtifact,
    atlas_dir,
    clean_stale_temps,
    ensure_writable,
    load_atlas,
    read_artifact,
    resolve_cache_dir,
    save_atlas,
    write_artifact,
)

log = logging.getLogger(__name__)

PIXEL_PCS = 50  # principal components kept for the pixel space (maps, placement)
PIXEL_RAW_MAX = 20_000  # up to this many images, pixel neighbours are exact in raw pixels
GENERATOR_DEFAULT_N = 10_000
ALGORITHM = 2  # bump when the maps a given input produces change (part of the key)
TSNE_3D_ITERS = 150  # 3-D t-SNE refines the finished 2-D layout (no early exaggeration)
TSNE_3D_MAX = 20_000  # above this, 3-D t-SNE runs on a fixed subsample; the rest is placed


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _rows(model, dataset, params: AtlasParams):
    """(n, subset index or None) without touching the model."""
    if model.has_encoder:
        if dataset is None:
            raise LatentdashError("this model has an encoder, so the atlas needs a dataset; pass --dataset")
        sub = stratified_subset(dataset.labels, len(dataset), params.limit, params.seed)
        return (len(dataset) if sub is None else len(sub)), sub
    n = params.limit or (len(dataset) if dataset is not None else GENERATOR_DEFAULT_N)
    return int(n), None


def atlas_key(model, dataset, params: AtlasParams, checkpoint_path=None) -> tuple[str, dict]:
    """(key, identity dict): sha256 of model content, dataset fingerprint, size and parameters."""
    n, _ = _rows(model, dataset, params)
    ident = {
        "format": VERSION,
        "algorithm": ALGORITHM,
        "model_sha256": model_hash(model, checkpoint_path),
        "dataset_fingerprint": dataset.fingerprint() if dataset is not None else None,
        "n": n,
        "params": params.to_dict(),
    }
    return _digest(ident)[:32], ident


def artifact_path(key: str, cache_dir=None) -> Path:
    return atlas_dir(cache_dir) / f"{key}{SUFFIX}"


def build_atlas(
    model,
    dataset,
    params: AtlasParams | None = None,
    cache_dir=None,
    progress=True,
    checkpoint_path=None,
    force: bool = False,
) -> Path:
    """Build the atlas (or find a valid cached one) and return its path."""
    return _get_or_build(model, dataset, params, cache_dir, checkpoint_path, progress, force).path


def get_or_build_atlas(
    model,
    dataset,
    params: AtlasParams | None = None,
    cache_dir=None,
    checkpoint_path=None,
    progress=True,
    force: bool = False,
) -> Atlas:
    """The Atlas for (model, dataset, params): loaded from the cache when valid, else built."""
    return _get_or_build(model, dataset, params, cache_dir, checkpoint_path, progress, force)


def _get_or_build(model, dataset, params, cache_dir, checkpoint_path, progress, force) -> Atlas:
    params = params or AtlasParams()
    n, sub = _rows(model, dataset, params)
    params.check_size(n)
    if dataset is not None and model.has_encoder and tuple(dataset.image_shape) != tuple(model.image_shape):
        raise LatentdashError(
            f"dataset {dataset.id!r} has images of shape {dataset.image_shape} but the "
            f"model expects {tuple(model.image_shape)}; pick the dataset it was trained on"
        )
    key, ident = atlas_key(model, dataset, params, checkpoint_path)
    path = artifact_path(key, cache_dir)
    if path.exists() and not force:
        try:
            atlas = load_atlas(path)
            if atlas.key == key:
                log.info("atlas found in cache: %s", path)
                return atlas
            log.warning("atlas %s has key %s, expected %s; rebuilding", path, atlas.key, key)
        except CorruptArtifact as e:
            log.warning("%s; rebuilding it", e)
    ensure_writable(path.parent)  # fail before the long work when the cache can't be written
    with _build_lock(path):  # several workers asking at once: one builds, the rest load
        if path.exists() and not force:
            try:
                atlas = load_atlas(path)
                if atlas.key == key:
                    return atlas
            except CorruptArtifact:
                pass
        clean_stale_temps(path.parent)
        pj.numba_cache_dir(resolve_cache_dir(None))  # per machine/user, not per --cache-dir
        atlas = compute_atlas(model, dataset, params, sub, n, key, ident, Progress(progress), cache_dir)
        save_atlas(atlas, path)
    atlas.path = path
    return atlas


@contextlib.contextmanager
def _build_lock(path: Path):
    """An advisory lock (flock) on `<artifact>.lock`; a no-op where flock is unavailable."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def compute_atlas(
    model, dataset, params: AtlasParams, sub, n: int, key: str, ident: dict, prog: Progress, cache_dir=None
) -> Atlas:
    with prog.stage("encode", n, "img") as tick:
        if model.has_encoder:
            images = dataset.images if sub is None else dataset.images[sub]
            latents, recon = encode_rows(model, images, tick)
            labels = None if dataset.labels is None else dataset.labels if sub is None else dataset.labels[sub]
            class_names = dataset.class_names
        else:
            latents, images = sample_rows(model, n, params.seed, tick)
            recon = np.zeros(n, np.float32)
            labels, class_names = None, None
    maps, pres, state, metrics = {}, {}, {}, {"maps": {}}
    if "latent" in params.spaces:
        _merge(build_space("latent", latents, params, labels, prog), maps, pres, state, metrics)
    if "pixel" in params.spaces:
        pix_key = _digest(
            {
                "pixel": ident["dataset_fingerprint"] if model.has_encoder else ident["model_sha256"],
                "rows": _digest(sub.tolist()) if sub is not None else n,
                "params": {k: v for k, v in params.to_dict().items() if k != "spaces"},
                "v": VERSION,
                "algorithm": ALGORITHM,
            }
        )[:32]
        _merge(_pixel_part(images, params, labels, prog, pix_key, cache_dir), maps, pres, state, metrics)
    order = planned_maps(params, model.latent_dim)
    maps = {k: maps[k] for k in order if k in maps}
    meta = {
        "key": key,
        **ident,
        "latentdash": __version__,
        "n": n,
        "dataset_id": dataset.id if dataset is not None else None,
        "model": {
            "kind": model.kind,
            "latent_dim": int(model.latent_dim),
            "image_shape": [int(s) for s in model.image_shape],
            "has_encoder": bool(model.has_encoder),
            "arch": (getattr(model, "info", None) or {}).get("arch"),
            "path": (getattr(model, "info", None) or {}).get("path"),
        },
        "source": "prior samples" if not model.has_encoder else "dataset",
        "recon_error": "mse per image" if model.has_encoder else "n/a (generator): zeros",
        "map_names": list(maps),
        "timings_s": prog.timings,
    }
    return Atlas(
        key=key,
        meta=meta,
        latents=latents,
        labels=labels,
        class_names=class_names,
        thumbnails=np.ascontiguousarray(images),
        recon_error=recon,
        maps=maps,
        preservation=pres,
        metrics=metrics,
        state=state,
        index=None if sub is None else sub.astype(np.int64),
    )


def _merge(part, maps, pres, state, metrics):
    maps.update(part["maps"])
    pres.update(part["pres"])
    state.update(part["state"])
    metrics["maps"].update(part["metrics"].pop("maps"))
    metrics.update(part["metrics"])


def _pixel_part(images, params, labels, prog: Progress, pix_key: str, cache_dir) -> dict:
    path = atlas_dir(cache_dir) / f"pixel-{pix_key}{SUFFIX}"
    if path.exists():
        try:
            meta, arrays = read_artifact(path)
            if meta.get("key") == pix_key:
                return {
                    "maps": {k[4:]: v for k, v in arrays.items() if k.startswith("map/")},
                    "pres": {k[5:]: v for k, v in arrays.items() if k.startswith("pres/")},
                    "state": {k[6:]: v for k, v in arrays.items() if k.startswith("state/")},
                    "metrics": meta["metrics"],
                }
        except CorruptArtifact as e:
            log.warning("%s; rebuilding the pixel maps", e)
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    part = build_space("pixel", x, params, labels, prog)
    arrays = {f"map/{k}": v for k, v in part["maps"].items()}
    arrays.update({f"pres/{k}": v for k, v in part["pres"].items()})
    arrays.update({f"state/{k}": v for k, v in part["state"].items()})
    write_artifact(path, arrays, {"key": pix_key, "metrics": part["metrics"], "kind": "pixel-maps"})
    return {
        "maps": part["maps"],
        "pres": part["pres"],
        "state": part["state"],
        "metrics": json.loads(json.dumps(part["metrics"])),
    }


def build_space(space: str, x: np.ndarray, params: AtlasParams, labels, prog: Progress) -> dict:
    """Every map of one input space (latent codes or pixels), with metrics and placement state."""
    n, dim = x.shape
    names = planned_maps(params, dim if space == "latent" else 10**6)
    maps, state = {}, {}
    raw = space == "latent" and dim == 2
    n_pcs = min(dim, n - 1, 3 if space == "latent" else PIXEL_PCS)
    with prog.stage(f"PCA {space}", 1, "fit") as tick:
        mean, comps, scores = pj.fit_pca(x, max(n_pcs, 1), params.seed)
        state[f"{space}_pca_mean"], state[f"{space}_pca_components"] = mean, comps
        for d in params.dims:
            if "pca" in params.methods and map_name(space, "pca", d) in names:
                maps[map_name(space, "pca", d)] = np.ascontiguousarray(scores[:, :d])
        if raw:
            maps["latent-raw-2d"] = np.ascontiguousarray(x, dtype=np.float32)
        tick(1)
    # neighbour graph: raw features, or the leading PCs of the pixels for big datasets
    graph_x, graph_space = x, ("latent codes" if space == "latent" else "raw pixels")
    if space == "pixel" and n > PIXEL_RAW_MAX and dim > PIXEL_PCS:
        graph_x, graph_space = scores, f"first {scores.shape[1]} principal components of the pixels"
    fit_nl = not raw and any(m in params.methods for m in ("tsne", "umap"))
    k = q.TRUST_K
    if fit_nl and "tsne" in params.methods:
        k = max(k, int(3 * params.perplexity))
    if fit_nl and "umap" in params.methods:
        k = max(k, params.n_neighbors - 1)
    k = min(k, n - 1)
    with prog.stage(f"kNN graph {space}", n, "pt") as tick:
        idx, dist = knn_graph(graph_x, k, params.metric, callback=tick)
    if fit_nl and "umap" in params.methods:
        with prog.stage(f"UMAP graph {space}", 2, "step") as tick:
            g = pj.UMAPGraph(graph_x, idx, dist, params.n_neighbors, params.metric, params.seed)
            tick(1)
            g.init(max(params.dims))  # spectral initialisation, shared by 2-D and 3-D
            tick(1)
        epochs = params.umap_epochs or pj.default_umap_epochs(n)
        for d in params.dims:
            name = map_name(space, "umap", d)
            with prog.stage(f"UMAP {space} {d}d", epochs, "ep") as tick:
                maps[name] = g.embed(d, params.min_dist, epochs, callback=tick)
    if fit_nl and "tsne" in params.methods:
        aff = pj.tsne_affinities(idx, dist, params.perplexity)
        t2 = None
        for d in sorted(params.dims):
            name = map_name(space, "tsne", d)
            if d == 3 and t2 is not None:  # refine the 2-D layout in 3-D
                iters = min(TSNE_3D_ITERS, params.tsne_iters)
                with prog.stage(f"t-SNE {space} {d}d", iters, "it") as tick:
                    if n > TSNE_3D_MAX:
                        maps[name] = pj.tsne_3d_landmarks(
                            graph_x, t2, scores, params, TSNE_3D_MAX, iters, callback=tick
                        )
                    else:
                        maps[name] = pj.fit_tsne(
                            aff,
                            pj.tsne_3d_init(t2, scores),
                            iters,
                            params.seed,
                            callback=tick,
                            early_exaggeration=False,
                        )
                continue
            iters, init = params.tsne_iters, pj.tsne_init(_pad(scores, d), d)
            with prog.stage(f"t-SNE {space} {d}d", iters, "it") as tick:
                maps[name] = pj.fit_tsne(aff, init, iters, params.seed, callback=tick)
            if d == 2:
                t2 = maps[name].astype(np.float64)
    maps = {k2: maps[k2] for k2 in names if k2 in maps}
    metrics = {"maps": {}}
    queries = q.trust_queries(n, params.seed)
    with prog.stage(f"metrics {space}", len(queries) + 2 * len(maps), "pt") as tick:
        map_nb = {}
        for name, c in maps.items():
            map_nb[name] = q.map_knn(c, max(q.TRUST_K, q.PRES_K))
            tick(1)
        trust = q.trustworthiness_many(graph_x, map_nb, q.TRUST_K, params.metric, queries, callback=tick)
        pres = {name: q.preservation(idx, nb, q.PRES_K) for name, nb in map_nb.items()}
        for name in maps:
            metrics["maps"][name] = {
                "trustworthiness": trust[name],
                "knn_acc": q.vote_accuracy(map_nb[name], labels, q.ACC_K),
                "preservation_mean": float(pres[name].mean()),
            }
            tick(1)
        metrics[f"{space}_knn_acc"] = q.vote_accuracy(idx, labels, q.ACC_K)
    metrics.update(
        {
            "trustworthiness_k": q.TRUST_K,
            "knn_k": q.ACC_K,
            "preservation_k": q.PRES_K,
            f"{space}_neighbour_space": graph_space,
            "trust_queries": int(len(queries)),
            "trust_exact": bool(len(queries) == n),
        }
    )
    return {"maps": maps, "pres": pres, "state": state, "metrics": metrics}


def _pad(scores: np.ndarray, d: int) -> np.ndarray:
    if scores.shape[1] >= d:
        return scores
    return np.column_stack([scores, np.zeros((len(scores), d - scores.shape[1]))])
