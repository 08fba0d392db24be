"""`latentdash precompute`: encode a dataset and build every map (the atlas) into the cache."""

from __future__ import annotations

import argparse
import sys

from ..errors import LatentdashError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        required=True,
        help="model: a latentdash checkpoint (.pt) or the name of a shipped one (fashion-vae-16), "
        "a TorchScript file or module:function",
    )
    p.add_argument(
        "--dataset",
        default=None,
        help="dataset id (fashion-mnist-test, fashion-mnist, mnist, digits, folder:PATH, "
        "npz:PATH); default: the bundled fashion-mnist-test",
    )
    p.add_argument("--methods", default="pca,tsne,umap", help="comma-separated: pca,tsne,umap")
    p.add_argument("--dims", default="2,3", help="map dimensions: 2, 3 or 2,3")
    p.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (< N/3)")
    p.add_argument("--n-neighbors", type=int, default=15, help="UMAP n_neighbors (< N)")
    p.add_argument("--min-dist", type=float, default=0.1, help="UMAP min_dist")
    p.add_argument("--metric", default="euclidean", help="euclidean | cosine | manhattan")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use a stratified subset of N items")
    p.add_argument("--spaces", default="latent,pixel", help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="rebuild even if a valid atlas is cached")
    p.add_argument(
        "--cache-dir", default=None, help="where atlases live (default: $LATENTDASH_CACHE or the user cache dir)"
    )
    p.add_argument("--data-root", default=None, help="folder with the dataset files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def params_from_args(a):
    from .params import AtlasParams

    names = ("methods", "dims", "perplexity", "n_neighbors", "min_dist", "metric", "seed", "limit")
    return AtlasParams(**{k: getattr(a, k) for k in names}, spaces=getattr(a, "spaces", "latent,pixel"))


def run(a) -> int:
    from pathlib import Path

    from ..data import load_dataset
    from ..models import load_model
    from .build import artifact_path, atlas_key, get_or_build_atlas
    from .shipped import resolve_checkpoint
    from .store import CorruptArtifact, load_atlas

    params = params_from_args(a)  # validate the cheap things before loading anything
    a.checkpoint = resolve_checkpoint(a.checkpoint)  # a shipped checkpoint by name: fashion-vae-16
    model = load_model(a.checkpoint)
    ds = (
        load_dataset(a.dataset or "fashion-mnist-test", data_root=a.data_root)
        if (model.has_encoder or a.dataset)
        else None
    )
    ckpt = Path(a.checkpoint) if Path(a.checkpoint).is_file() else None
    key, _ = atlas_key(model, ds, params, ckpt)
    path = artifact_path(key, a.cache_dir)
    if path.exists() and not a.force:
        try:
            atlas = load_atlas(path)
            print(f"atlas up to date: {path}")
            _extras(model, atlas, ds, a)
            _export_onnx(model, atlas.latents, a)
            return 0
        except CorruptArtifact as e:
            print(f"warning: {e}; rebuilding", file=sys.stderr)
    atlas = get_or_build_atlas(
        model, ds, params, cache_dir=a.cache_dir, checkpoint_path=ckpt, progress=not a.quiet, force=True
    )
    if atlas.path is None:
        raise LatentdashError("the atlas was built but not saved; check --cache-dir")
    print(f"atlas written: {atlas.path}")
    _extras(model, atlas, ds, a)
    _export_onnx(model, atlas.latents, a)
    return 0


def _extras(model, atlas, ds, a) -> None:
    """Plausibility, semantic regions, topology and fit diagnosis next to the atlas (extras.py)."""
    from .extras import ensure_extras

    ex, made = ensure_extras(atlas, model, ds, cache_dir=a.cache_dir, force=a.force, progress=not a.quiet)
    print(f"atlas extras {'written' if made else 'up to date'}: {ex.path}")


def _export_onnx(model, latents, a) -> None:
    """The decoder goes to ONNX too (decoding in the browser), keyed by the model's hash, next to
    the atlas; a decoder that cannot be exported says why in one line and decodes on the server."""
    from ..onnx_export import ExportRefused, find_or_export

    try:
        exp = find_or_export(model, latents, a.cache_dir, progress=None if a.quiet else _say_onnx)
    except ExportRefused as e:
        print(f"no ONNX decoder: {e}")
        return
    print(f"ONNX decoder {'written' if exp.made else 'up to date'}: {exp.path}")


def _say_onnx(stage: str) -> None:
    print("exporting the decoder to ONNX ..." if stage == "export" else "checking it ...", file=sys.stderr)
