"""AtlasParams: every setting that changes an atlas, validated with one-line errors.

Map names follow docs/interfaces.md: `{space}-{method}-{dims}d`, plus `latent-raw-2d` for a model
with a 2-D latent space (the latent codes are the map).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import LatentdashError

METHODS = ("pca", "tsne", "umap")
DIMS = (2, 3)
SPACES = ("latent", "pixel")
METRICS = ("euclidean", "cosine", "manhattan")
MIN_POINTS = 3


@dataclass(frozen=True)
class AtlasParams:
    """Settings of one atlas. Every field is part of the cache key."""

    methods: tuple[str, ...] = METHODS  # projections to build, any of pca / tsne / umap
    dims: tuple[int, ...] = DIMS  # map dimensions, any of 2 / 3
    perplexity: float = 30.0  # t-SNE perplexity (needs < N / 3)
    n_neighbors: int = 15  # UMAP neighbourhood size (needs < N)
    min_dist: float = 0.1  # UMAP min_dist
    metric: str = "euclidean"  # input-space metric for t-SNE / UMAP neighbour graphs
    seed: int = 0  # seeds every random step (prior samples, subsets, fits)
    limit: int | None = None  # stratified subset of this many items (None: all)
    spaces: tuple[str, ...] = SPACES  # build maps of the latent codes and/or of the pixels
    tsne_iters: int = 750  # t-SNE iterations (250 early exaggeration + rest)
    umap_epochs: int | None = None  # UMAP epochs (None: 500 for N <= 10k, else 200)

    def __post_init__(self):
        obj = object.__setattr__
        obj(self, "methods", _tuple(self.methods, str))
        obj(self, "dims", _tuple(self.dims, int))
        obj(self, "spaces", _tuple(self.spaces, str))
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise LatentdashError(
                f"unknown method {', '.join(bad) or '(none given)'}; use any of {', '.join(METHODS)}, comma-separated"
            )
        bad = [d for d in self.dims if d not in DIMS]
        if bad or not self.dims:
            raise LatentdashError(f"unsupported dims {', '.join(map(str, bad)) or '(none given)'}; use 2, 3 or 2,3")
        bad = [s for s in self.spaces if s not in SPACES]
        if bad or not self.spaces:
            raise LatentdashError(f"unknown space {', '.join(bad) or '(none given)'}; use latent and/or pixel")
        if self.metric not in METRICS:
            raise LatentdashError(f"unknown metric {self.metric!r}; use one of {', '.join(METRICS)}")
        if not self.perplexity > 0:
            raise LatentdashError(f"perplexity must be > 0, got {self.perplexity}; try 30")
        if int(self.n_neighbors) < 2:
            raise LatentdashError(f"n_neighbors must be >= 2, got {self.n_neighbors}; try 15")
        if not 0.0 <= self.min_dist <= 1.0:
            raise LatentdashError(f"min_dist must be in [0, 1], got {self.min_dist}; try 0.1")
        if self.limit is not None and int(self.limit) < MIN_POINTS:
            raise LatentdashError(f"--limit {self.limit} is too small; an atlas needs at least {MIN_POINTS} images")
        if int(self.tsne_iters) < 260:
            raise LatentdashError(f"tsne_iters must be >= 260 (250 are early exaggeration), got {self.tsne_iters}")
        if self.umap_epochs is not None and int(self.umap_epochs) < 10:
            raise LatentdashError(f"umap_epochs must be >= 10, got {self.umap_epochs}")
        obj(self, "perplexity", float(self.perplexity))
        obj(self, "n_neighbors", int(self.n_neighbors))
        obj(self, "min_dist", float(self.min_dist))
        obj(self, "seed", int(self.seed))
        obj(self, "limit", None if self.limit is None else int(self.limit))

    def check_size(self, n: int) -> None:
        """Errors for settings that don't fit a dataset of n items (after --limit)."""
        if n < MIN_POINTS:
            raise LatentdashError(
                f"the dataset has {n} image{'s' if n != 1 else ''}; an atlas needs at "
                f"least {MIN_POINTS} (more than 100 to be useful)"
            )
        if "tsne" in self.methods and self.perplexity >= n / 3:
            raise LatentdashError(
                f"perplexity {self.perplexity:g} is too large for {n} items; it must "
                f"be below N/3 = {n / 3:.4g}: pass a smaller --perplexity"
            )
        if "umap" in self.methods and self.n_neighbors >= n:
            raise LatentdashError(
                f"n_neighbors {self.n_neighbors} must be smaller than the number of "
                f"items ({n}); pass a smaller --n-neighbors"
            )

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> AtlasParams:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names})


def _tuple(v, typ) -> tuple:
    if isinstance(v, str):
        v = [s for s in v.replace(" ", "").split(",") if s]
    try:
        return tuple(typ(x) for x in v)
    except (TypeError, ValueError) as e:
        raise LatentdashError(
            f"cannot read {v!r} as a list of {typ.__name__}; give a comma-separated list such as 2,3"
        ) from e


class MapName(NamedTuple):
    """A map's name as its parts: `MapName.parse("latent-umap-2d") == ("latent", "umap", 2)`;
    `str()` gives the name back."""

    space: str
    method: str
    dims: int

    @classmethod
    def parse(cls, name) -> MapName:
        """ValueError when `name` is not `{space}-{method}-{2|3}d`."""
        parts = str(name).split("-")
        if len(parts) != 3 or parts[2] not in ("2d", "3d") or not parts[0] or not parts[1]:
            raise ValueError(f"{name!r} is not a map name like latent-umap-2d")
        return cls(parts[0], parts[1], int(parts[2][0]))

    def __str__(self) -> str:
        return f"{self.space}-{self.method}-{self.dims}d"

    def sibling(self) -> MapName:
        """The same space and method in the other dimensionality (2-D <-> 3-D)."""
        return self._replace(dims=5 - self.dims)


def map_name(space: str, method: str, dims: int) -> str:
    return str(MapName(space, method, int(dims)))


def parse_map_name(name: str) -> MapName:
    """'latent-umap-2d' -> ('latent', 'umap', 2); ValueError when malformed."""
    return MapName.parse(name)


def planned_maps(params: AtlasParams, latent_dim: int) -> list[str]:
    """The map names an atlas with these params has for a model of this latent size."""
    names = []
    for space in params.spaces:
        if space == "latent" and latent_dim == 2:
            names.append("latent-raw-2d")
            continue
        for method in params.methods:
            for d in params.dims:
                if method == "pca" and space == "latent" and d > latent_dim:
                    continue
                names.append(map_name(space, method, d))
    return names
