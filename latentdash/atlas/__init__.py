"""The atlas: a dataset encoded once, with PCA / t-SNE / UMAP maps in 2-D and 3-D, placement
state and quality metrics, cached on disk as one checksummed artifact.

    from latentdash.atlas import AtlasParams, get_or_build_atlas
    atlas = get_or_build_atlas(model, dataset, AtlasParams(methods=("pca", "umap")))

Names are imported lazily, so `import latentdash.atlas.store` (reading artifacts) does not pull
in torch or the projection libraries.
"""

from importlib import import_module

_EXPORTS = {
    "atlas_key": "build",
    "build_atlas": "build",
    "get_or_build_atlas": "build",
    "METHODS": "params",
    "AtlasParams": "params",
    "map_name": "params",
    "parse_map_name": "params",
    "planned_maps": "params",
    "DEFAULT_CHECKPOINT": "shipped",
    "DEFAULT_DATASET": "shipped",
    "shipped_atlas_for": "shipped",
    "shipped_atlas_path": "shipped",
    "Atlas": "store",
    "CorruptArtifact": "store",
    "load_atlas": "store",
    "resolve_cache_dir": "store",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
