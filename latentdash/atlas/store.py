"""The on-disk atlas artifact: one .npz file per (model, dataset, params), checksummed.

Layout: an uncompressed zip (numpy .npz) of named arrays plus `__meta__` (UTF-8 JSON as uint8) and
`__meta_sha256__`. The JSON holds the key, the parameters, the metrics and a sha256 of every
array. Writes go through fileio.atomic_write (a hidden temp file in the same folder, fsync'ed,
then os.replace'd into place), so a killed process never leaves a file under the final name.
`read_artifact` checks every checksum and raises `CorruptArtifact` on any mismatch or truncation;
callers rebuild.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import LatentdashError
from ..fileio import atomic_write

log = logging.getLogger(__name__)

FORMAT = "latentdash-atlas"
VERSION = 1
SUFFIX = ".atlas.npz"


class CorruptArtifact(LatentdashError):
    """An artifact that failed validation (truncated, bit-flipped, wrong format)."""


@dataclass
class Atlas:
    """Everything the explorer needs, as loaded from one artifact (see docs/interfaces.md)."""

    key: str
    meta: dict
    latents: np.ndarray  # float32 [N, d]
    labels: np.ndarray | None  # int64 [N] or None
    class_names: list | None
    thumbnails: np.ndarray  # uint8 [N, C, H, W]
    recon_error: np.ndarray  # float32 [N] (zeros for a generator, see meta)
    maps: dict = field(default_factory=dict)  # name -> float32 [N, 2|3]
    preservation: dict = field(default_factory=dict)  # name -> float32 [N]
    metrics: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)  # fitted state for placing new points
    index: np.ndarray | None = None  # int64 [N] dataset rows (a --limit subset) or None
    path: Path | None = None

    @property
    def n(self) -> int:
        return len(self.latents)


def resolve_cache_dir(cache_dir=None) -> Path:
    """--cache-dir, else $LATENTDASH_CACHE, else the platform's user cache dir."""
    if cache_dir:
        return Path(cache_dir)
    env = os.environ.get("LATENTDASH_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("latentdash"))


def atlas_dir(cache_dir=None) -> Path:
    return resolve_cache_dir(cache_dir) / "atlas"


def ensure_writable(folder: Path) -> None:
    """Create folder and prove a file can be written there; one-line error otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".probe.", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise _os_error(folder, e) from e


def _os_error(folder: Path, e: OSError) -> LatentdashError:
    if e.errno == errno.ENOSPC or e.errno == getattr(errno, "EDQUOT", -1):
        return LatentdashError(
            f"cache directory {folder} is full ({e.strerror}); free space or pass "
            f"--cache-dir / set LATENTDASH_CACHE to a disk with room"
        )
    return LatentdashError(
        f"cannot write to cache directory {folder} ({e.strerror or e}); pass a "
        f"writable --cache-dir or set LATENTDASH_CACHE"
    )


def _sha(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).view(np.uint8).reshape(-1)).hexdigest()


def write_artifact(path: Path, arrays: dict, meta: dict, compress: bool = False) -> dict:
    """Atomically write arrays + meta (with checksums) to path; returns the meta as written.
    Never leaves a partial file under the final name."""
    path = Path(path)
    ensure_writable(path.parent)
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    meta = dict(
        meta,
        format=FORMAT,
        version=VERSION,
        written=time.strftime("%Y-%m-%dT%H:%M:%S"),
        checksums={k: _sha(v) for k, v in arrays.items()},
        shapes={k: [list(v.shape), v.dtype.str] for k, v in arrays.items()},
    )
    meta_bytes = json.dumps(meta, sort_keys=True, allow_nan=True).encode()
    arrays["__meta__"] = np.frombuffer(meta_bytes, np.uint8)
    arrays["__meta_sha256__"] = np.frombuffer(hashlib.sha256(meta_bytes).hexdigest().encode(), np.uint8)
    save = np.savez_compressed if compress else np.savez
    try:
        atomic_write(path, lambda f: save(f, **arrays))
    except OSError as e:
        raise _os_error(path.parent, e) from e
    return meta


def read_artifact(path: Path, verify: bool = True) -> tuple[dict, dict]:
    """(meta, arrays) of an artifact; CorruptArtifact when anything doesn't check out."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            if "__meta__" not in names or "__meta_sha256__" not in names:
                raise CorruptArtifact(
                    f"{path} is not a latentdash atlas (no metadata); delete it and run `latentdash precompute` again"
                )
            meta_bytes = z["__meta__"].tobytes()
            if hashlib.sha256(meta_bytes).hexdigest().encode() != z["__meta_sha256__"].tobytes():
                raise CorruptArtifact(f"{path}: metadata checksum mismatch; the file is damaged, rebuild it")
            meta = json.loads(meta_bytes)
            if meta.get("format") != FORMAT:
                raise CorruptArtifact(f"{path} is not a latentdash atlas; rebuild it")
            if int(meta.get("version", 0)) > VERSION:
                raise LatentdashError(
                    f"{path} was written by a newer latentdash (atlas format "
                    f"{meta.get('version')}); upgrade latentdash or rebuild it"
                )
            arrays = {}
            for k, want in meta["checksums"].items():
                if k not in names:
                    raise CorruptArtifact(f"{path}: array {k!r} is missing; rebuild it")
                a = z[k]
                if verify and _sha(a) != want:
                    raise CorruptArtifact(f"{path}: checksum mismatch in {k!r}; the file is damaged, rebuild it")
                arrays[k] = a
    except LatentdashError:
        raise
    except FileNotFoundError as e:
        raise LatentdashError(f"atlas {path} does not exist; build it with `latentdash precompute`") from e
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        KeyError,
        EOFError,
        json.JSONDecodeError,
        zipfile.LargeZipFile,
        UnicodeDecodeError,
    ) as e:
        raise CorruptArtifact(f"{path} is truncated or corrupt ({type(e).__name__}); rebuild it") from e
    return meta, arrays


def atlas_from_arrays(meta: dict, arrays: dict, path: Path | None = None) -> Atlas:
    maps = {k[4:]: v for k, v in arrays.items() if k.startswith("map/")}
    pres = {k[5:]: v for k, v in arrays.items() if k.startswith("pres/")}
    state = {k[6:]: v for k, v in arrays.items() if k.startswith("state/")}
    return Atlas(
        key=meta["key"],
        meta=meta,
        latents=arrays["latents"],
        labels=arrays.get("labels"),
        class_names=meta.get("class_names"),
        thumbnails=arrays["thumbnails"],
        recon_error=arrays["recon_error"],
        maps=maps,
        preservation=pres,
        metrics=meta.get("metrics", {}),
        state=state,
        index=arrays.get("index"),
        path=path,
    )


def atlas_to_arrays(atlas: Atlas) -> dict:
    arrays = {"latents": atlas.latents, "thumbnails": atlas.thumbnails, "recon_error": atlas.recon_error}
    if atlas.labels is not None:
        arrays["labels"] = atlas.labels
    if atlas.index is not None:
        arrays["index"] = atlas.index
    arrays.update({f"map/{k}": v for k, v in atlas.maps.items()})
    arrays.update({f"pres/{k}": v for k, v in atlas.preservation.items()})
    arrays.update({f"state/{k}": v for k, v in atlas.state.items()})
    return arrays


def load_atlas(path, verify: bool = True) -> Atlas:
    """Load and validate an artifact; CorruptArtifact (a LatentdashError) when damaged."""
    meta, arrays = read_artifact(Path(path), verify=verify)
    if meta.get("kind") == "pixel-maps":
        raise LatentdashError(
            f"{path} is a pixel-map cache file (shared by atlases), not an atlas; "
            f"pass one of the other *.atlas.npz files"
        )
    if "latents" not in arrays or "key" not in meta:
        raise CorruptArtifact(f"{path} lacks the atlas arrays; rebuild it")
    return atlas_from_arrays(meta, arrays, Path(path))


def save_atlas(atlas: Atlas, path, compress: bool = False) -> Path:
    """Write the atlas atomically to path; its meta gains the written checksums and time."""
    meta = dict(atlas.meta, key=atlas.key, metrics=atlas.metrics, class_names=atlas.class_names)
    atlas.meta = write_artifact(Path(path), atlas_to_arrays(atlas), meta, compress=compress)
    return Path(path)


def clean_stale_temps(folder: Path, older_than_s: float = 3600.0) -> None:
    """Remove temp files left by killed writers (never the finished artifacts)."""
    try:
        now = time.time()
        for p in folder.glob(".*.tmp"):
            if now - p.stat().st_mtime > older_than_s:
                p.unlink(missing_ok=True)
    except OSError:
        pass
