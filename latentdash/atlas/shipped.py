"""The atlas of the default checkpoint on the bundled data: shipped in latentdash/shipped/, or
built on first use (and then cached) when the shipped file is missing or doesn't match."""
from __future__ import annotations

import logging
from pathlib import Path

from ..errors import LatentdashError
from .params import AtlasParams
from .store import Atlas, CorruptArtifact, load_atlas

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = REPO_ROOT / "checkpoints" / "fashion-vae-16.pt"
DEFAULT_DATASET = "fashion-mnist-test"
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "shipped"
SHIPPED_NAME = "fashion-vae-16.fashion-mnist-test.atlas.npz"


def shipped_atlas_path() -> Path:
    return SHIPPED_DIR / SHIPPED_NAME


def default_params() -> AtlasParams:
    """The settings of the shipped atlas: every method, 2-D and 3-D, default parameters."""
    return AtlasParams()


def default_atlas(checkpoint=None, model=None, dataset=None, cache_dir=None, progress=False) -> Atlas:
    """The atlas for the default checkpoint on the bundled data.

    Uses the shipped artifact when its key matches the checkpoint's content hash and the dataset's
    fingerprint; otherwise builds it into the cache (about a minute on 2 cores) or loads it from there.
    """
    from ..data import load_dataset
    from ..models import load_model
    from .build import atlas_key, get_or_build_atlas
    ckpt = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
    if model is None:
        if not ckpt.is_file():
            raise LatentdashError(f"default checkpoint {ckpt} is missing; run scripts/train_shipped.sh "
                                  f"or pass --checkpoint")
        model = load_model(str(ckpt))
    dataset = dataset if dataset is not None else load_dataset(DEFAULT_DATASET)
    params = default_params()
    key, _ = atlas_key(model, dataset, params, ckpt if ckpt.is_file() else None)
    shipped = shipped_atlas_path()
    if shipped.is_file():
        try:
            atlas = load_atlas(shipped)
            if atlas.key == key:
                return atlas
            log.info("shipped atlas %s is for another checkpoint/dataset; building one", shipped)
        except CorruptArtifact as e:
            log.warning("%s; building the default atlas instead", e)
    return get_or_build_atlas(model, dataset, params, cache_dir=cache_dir,
                              checkpoint_path=ckpt if ckpt.is_file() else None, progress=progress)
