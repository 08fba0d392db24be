"""ServeConfig: every setting of the Explorer server, from CLI flags or LATENTDASH_* variables.

Precedence: command-line flag > environment variable > default. No I/O happens here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ..atlas.params import AtlasParams
from ..atlas.shipped import CHECKPOINT_DIR, DEFAULT_CHECKPOINT, DEFAULT_DATASET, SHIPPED_CHECKPOINTS
from ..errors import LatentdashError

SERVERS = ("waitress", "flask")


@dataclass(frozen=True)
class ServeConfig:
    checkpoints: tuple[str, ...] = ()  # model specs (first = default); () = shipped ones
    dataset: str = DEFAULT_DATASET  # dataset id, e.g. fashion-mnist-test, fashion-mnist, npz:PATH
    data_root: str | None = None  # where to look for dataset files
    host: str = "127.0.0.1"  # interface to bind (0.0.0.0 to share on a network)
    port: int = 8050  # TCP port
    limit: int | None = None  # atlas: stratified subset of this many images
    methods: tuple[str, ...] = ("pca", "tsne", "umap")  # atlas projections
    dims: tuple[int, ...] = (2, 3)  # atlas map dimensions
    cache_dir: str | None = None  # atlas cache (default: the platform cache dir)
    max_sliders: int = 16  # sliders shown for large latents
    threads: int = 1  # torch threads per decode after startup (1: lowest
    # latency for one image while other requests run
    # in parallel; 0: torch's default)
    debug: bool = False  # Dash dev tools (never on a public server)
    server: str = "waitress"  # HTTP server: waitress (threaded WSGI server, the
    # default) or flask (Flask's development server)
    server_threads: int = 8  # waitress worker threads (requests served at once)
    open_browser: bool = False  # open the page in the default browser

    def __post_init__(self):
        if not 0 < int(self.port) < 65536:
            raise LatentdashError(f"--port {self.port} is not a TCP port; use 1..65535 (e.g. 8050)")
        if self.limit is not None and int(self.limit) < 3:
            raise LatentdashError(f"--limit {self.limit} is too small; use at least 3 (or leave it out)")
        if self.server not in SERVERS:
            raise LatentdashError(f"--server {self.server!r} is not known; use one of {', '.join(SERVERS)}")
        if not 1 <= int(self.server_threads) <= 256:
            raise LatentdashError(f"server threads must be 1..256, got {self.server_threads}")
        if not 1 <= int(self.max_sliders) <= 64:
            raise LatentdashError(f"max_sliders must be 1..64, got {self.max_sliders}")

    def checkpoint_list(self) -> list[str]:
        """The model specs to serve: the given ones, else the shipped checkpoints that exist."""
        if self.checkpoints:
            return list(self.checkpoints)
        if not DEFAULT_CHECKPOINT.is_file():
            raise LatentdashError(
                f"the default checkpoint {DEFAULT_CHECKPOINT} is missing; "
                f"run scripts/train_shipped.sh or pass --checkpoint PATH"
            )
        return [str(CHECKPOINT_DIR / n) for n in SHIPPED_CHECKPOINTS if (CHECKPOINT_DIR / n).is_file()]

    def atlas_params(self):
        """The atlas settings these flags ask for (the shipped atlases' when left at defaults)."""
        return AtlasParams(methods=self.methods, dims=self.dims, limit=self.limit)

    def replace(self, **kw) -> ServeConfig:
        return dataclasses.replace(self, **kw)


def _split(v: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in v.split(",") if s.strip())


ENV = {  # field -> (variable, parser)
    "checkpoints": ("LATENTDASH_CHECKPOINTS", _split),
    "dataset": ("LATENTDASH_DATASET", str),
    "data_root": ("LATENTDASH_DATA", str),
    "host": ("LATENTDASH_HOST", str),
    "port": ("LATENTDASH_PORT", int),
    "limit": ("LATENTDASH_LIMIT", int),
    "methods": ("LATENTDASH_METHODS", _split),
    "dims": ("LATENTDASH_DIMS", lambda v: tuple(int(x) for x in _split(v))),
    "cache_dir": ("LATENTDASH_CACHE", str),
    "max_sliders": ("LATENTDASH_MAX_SLIDERS", int),
    "threads": ("LATENTDASH_THREADS", int),
    "server": ("LATENTDASH_SERVER", str),
    "server_threads": ("LATENTDASH_SERVER_THREADS", int),
    "debug": ("LATENTDASH_DEBUG", lambda v: v.lower() in ("1", "true", "yes", "on")),
}


def from_env(environ=None, **overrides) -> ServeConfig:
    """Config from LATENTDASH_* variables, then `overrides` (None values are ignored)."""
    environ = os.environ if environ is None else environ
    kw = {}
    for field, (var, parse) in ENV.items():
        if environ.get(var):
            try:
                kw[field] = parse(environ[var])
            except ValueError as e:
                raise LatentdashError(f"${var}={environ[var]!r} is not valid ({e})") from e
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return ServeConfig(**kw)
