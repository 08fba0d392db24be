"""What ships with latentdash: the checkpoints in latentdash/checkpoints/ and their atlases in
latentdash/shipped/, both package data (they travel in the wheel), so that the default start
(`latentdash serve`, `python app.py`) builds nothing, from a checkout or an installed wheel.

A shipped checkpoint can be named instead of given by path (`resolve_checkpoint`):
`--checkpoint fashion-vae-16` (or `fashion-vae-16.pt`) when no such file exists where you are.

A shipped atlas is named `<checkpoint stem>.<dataset id>.atlas.npz` and is used only when its key
matches the checkpoint's content, the dataset and the settings (`shipped_atlas_for`); otherwise
the server builds one into the cache, as for any other checkpoint.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import LatentdashError
from .params import AtlasParams

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]
CHECKPOINT_DIR = PACKAGE_DIR / "checkpoints"
# the shipped checkpoints offered for model switching when none are given, in this order; the
# first is the default model
SHIPPED_CHECKPOINTS = ("fashion-vae-16.pt", "fashion-ae-16.pt", "fashion-pca-16.pt", "fashion-vae-2.pt")
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / SHIPPED_CHECKPOINTS[0]
DEFAULT_DATASET = "fashion-mnist-test"
SHIPPED_DIR = PACKAGE_DIR / "shipped"


def shipped_names() -> list[str]:
    """The names of the shipped checkpoints present (without .pt), in SHIPPED_CHECKPOINTS order."""
    return [Path(n).stem for n in SHIPPED_CHECKPOINTS if (CHECKPOINT_DIR / n).is_file()]


def resolve_checkpoint(spec: str) -> str:
    """A model spec as given, or the path of the shipped checkpoint it names.

    An existing file (or a module:function factory) always wins; a bare name such as
    `fashion-vae-16` or `fashion-vae-16.pt` that is no file here is the shipped checkpoint of that
    name when there is one. Anything else is returned unchanged (load_model says what is wrong)."""
    spec = str(spec)
    if not spec or Path(spec).exists() or "/" in spec or os.sep in spec:
        return spec
    name = spec if spec.endswith(".pt") else f"{spec}.pt"
    shipped = CHECKPOINT_DIR / name
    return str(shipped) if shipped.is_file() else spec


def shipped_atlas_path(checkpoint=DEFAULT_CHECKPOINT, dataset_id: str = DEFAULT_DATASET) -> Path:
    """Where the shipped atlas of `checkpoint` on `dataset_id` is (or would be)."""
    return SHIPPED_DIR / f"{Path(checkpoint).stem}.{dataset_id}.atlas.npz"


def default_params() -> AtlasParams:
    """The settings of the shipped atlases: every method, 2-D and 3-D, default parameters."""
    return AtlasParams()


def shipped_atlas_for(model, dataset, params: AtlasParams, checkpoint: Path | None):
    """The shipped atlas of this checkpoint file on this dataset when one exists and its key
    matches (the checkpoint's content, the dataset's fingerprint, the settings); else None."""
    from .build import atlas_key
    from .store import load_atlas

    if checkpoint is None or dataset is None:
        return None
    path = shipped_atlas_path(checkpoint, dataset.id)
    if not path.is_file():
        return None
    try:
        atlas = load_atlas(path)
        key, _ = atlas_key(model, dataset, params, checkpoint)
    except LatentdashError as e:
        log.warning("shipped atlas %s not used: %s", path, e)
        return None
    if atlas.key != key:
        log.info(
            "shipped atlas %s is for other settings or another version of %s; building one",
            path.name,
            Path(checkpoint).name,
        )
        return None
    return atlas
