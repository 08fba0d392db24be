"""ServeConfig: every setting of the Explorer server, from CLI flags or LATENTDASH_* variables.

Precedence: command-line flag > environment variable > default. No I/O happens here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ..atlas.params import AtlasParams
from ..atlas.shipped import (
    CHECKPOINT_DIR,
    DEFAULT_CHECKPOINT,
    DEFAULT_DATASET,
    SHIPPED_CHECKPOINTS,
    resolve_checkpoint,
)
from ..errors import LatentdashError

SERVERS = ("gunicorn", "waitress", "flask")


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
    server: str = "gunicorn"  # HTTP server: gunicorn (N processes forked after loading, the
    # default where fork exists), waitress (one process, threaded: the fallback elsewhere) or
    # flask (Flask's development server)
    server_threads: int = 8  # threads per process (waitress, gunicorn gthread)
    workers: int = 0  # gunicorn worker processes; 0 = auto (the number of cores, capped)
    assets_dir: str | None = None  # the user's CSS/JS served after the package's own
    # (default: ./assets when it exists, Dash's convention)
    frame_ancestors: str = "'self'"  # CSP frame-ancestors: who may embed the page in a frame
    admin_token: str | None = None  # hosted mode: background jobs only for holders of this token
    redis_url: str | None = None  # Celery + Redis for background jobs (else a disk cache)
    offer: tuple[str, ...] = ()  # more checkpoints whose atlas a background job may build (by name)
    jobs_per_hour: int = 6  # background jobs one client may start per hour
    max_upload_mb: float = 5.0  # largest request body (uploads) accepted
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
        if not 0 <= int(self.workers) <= 64:
            raise LatentdashError(f"--workers {self.workers} is out of range; use 1..64 (or 0 for one per core)")
        if not 1 <= int(self.jobs_per_hour) <= 10_000:
            raise LatentdashError(f"jobs per hour must be 1..10000, got {self.jobs_per_hour}")
        if not 0 < float(self.max_upload_mb) <= 1024:
            raise LatentdashError(f"max upload must be 0..1024 MB, got {self.max_upload_mb}")
        if any(c in str(self.frame_ancestors) for c in ";,\n\r"):
            raise LatentdashError(
                f"--frame-ancestors {self.frame_ancestors!r} must be CSP sources separated by spaces, "
                "e.g. \"'self' https://course.example.org\""
            )
        if not 1 <= int(self.max_sliders) <= 64:
            raise LatentdashError(f"max_sliders must be 1..64, got {self.max_sliders}")

    def checkpoint_list(self) -> list[str]:
        """The model specs to serve: the given ones (a shipped checkpoint may be named, e.g.
        fashion-vae-16), else the shipped checkpoints that exist."""
        if self.checkpoints:
            return [resolve_checkpoint(s) for s in self.checkpoints]
        if not DEFAULT_CHECKPOINT.is_file():
            raise LatentdashError(
                f"the default checkpoint {DEFAULT_CHECKPOINT} is missing (it ships in the package); "
                f"reinstall latentdash, run scripts/train_shipped.sh in a checkout, or pass --checkpoint PATH"
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
    "workers": ("LATENTDASH_WORKERS", int),
    "assets_dir": ("LATENTDASH_ASSETS", str),
    "frame_ancestors": ("LATENTDASH_FRAME_ANCESTORS", str),
    "admin_token": ("LATENTDASH_ADMIN_TOKEN", str),
    "redis_url": ("LATENTDASH_REDIS_URL", str),
    "offer": ("LATENTDASH_OFFER", _split),
    "jobs_per_hour": ("LATENTDASH_JOBS_PER_HOUR", int),
    "max_upload_mb": ("LATENTDASH_MAX_UPLOAD_MB", float),
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
