"""The atlas: a dataset encoded once, with PCA / t-SNE / UMAP maps in 2-D and 3-D, placement
state and quality metrics, cached on disk as one checksummed artifact.

    from latentdash.atlas import AtlasParams, get_or_build_atlas
    atlas = get_or_build_atlas(model, dataset, AtlasParams(methods=("pca", "umap")))
"""
from .build import atlas_key, build_atlas, get_or_build_atlas
from .params import METHODS, AtlasParams, map_name, parse_map_name, planned_maps
from .shipped import DEFAULT_CHECKPOINT, DEFAULT_DATASET, default_atlas, shipped_atlas_path
from .store import Atlas, CorruptArtifact, load_atlas, resolve_cache_dir

__all__ = ["Atlas", "AtlasParams", "CorruptArtifact", "METHODS", "atlas_key", "build_atlas",
           "get_or_build_atlas", "load_atlas", "map_name", "parse_map_name", "planned_maps",
           "resolve_cache_dir", "default_atlas", "shipped_atlas_path", "DEFAULT_CHECKPOINT",
           "DEFAULT_DATASET"]
