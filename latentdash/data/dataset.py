"""The in-memory dataset every loader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from ..errors import LatentdashError


@dataclass
class ImageDataset:
    """uint8 images [N, C, H, W], optional int labels [N] and class names.

    `n_train` marks the first rows that form the official train split (0 when there is none).
    """

    id: str
    images: np.ndarray
    labels: np.ndarray | None = None
    class_names: list[str] | None = None
    n_train: int = 0
    source: str = ""
    _fp: str | None = field(default=None, repr=False)

    def __post_init__(self):
        validate_images(self.images, self.id)
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if self.labels.ndim != 1 or len(self.labels) != len(self.images):
                raise LatentdashError(
                    f"dataset {self.id!r}: {len(self.labels)} labels for {len(self.images)} images; "
                    f"give exactly one integer label per image"
                )
            self.labels = self.labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])

    def float_images(self, idx=None) -> np.ndarray:
        arr = self.images if idx is None else self.images[idx]
        return arr.astype(np.float32) / 255.0

    def label_name(self, label: int) -> str:
        if self.class_names and 0 <= label < len(self.class_names):
            return self.class_names[label]
        return str(label)

    def fingerprint(self) -> str:
        """Content hash of images and labels: identifies the data, not where it came from."""
        if self._fp is None:
            h = hashlib.sha256()
            h.update(repr(self.images.shape).encode())
            h.update(np.ascontiguousarray(self.images).tobytes())
            if self.labels is not None:
                h.update(self.labels.tobytes())
            self._fp = h.hexdigest()[:16]
        return self._fp

    def subset(self, idx: np.ndarray, id_suffix: str = "") -> ImageDataset:
        return ImageDataset(
            self.id + id_suffix,
            self.images[idx],
            None if self.labels is None else self.labels[idx],
            self.class_names,
            0,
            self.source,
        )

    def split(self, part: str) -> ImageDataset:
        """'train' or 'test' rows of a dataset with an official split; 'all' returns self."""
        if part == "all":
            return self
        if not self.n_train:
            raise LatentdashError(f"dataset {self.id!r} has no official train/test split")
        idx = np.arange(self.n_train) if part == "train" else np.arange(self.n_train, len(self))
        return self.subset(idx, f"[{part}]")


def validate_images(images, name: str) -> None:
    if not isinstance(images, np.ndarray):
        raise LatentdashError(f"dataset {name!r}: images must be a numpy array")
    if images.ndim != 4:
        raise LatentdashError(
            f"dataset {name!r}: images have rank {images.ndim} (shape {images.shape}); expected "
            f"[N, C, H, W] (or [N, H, W] / [N, H, W, C] in an npz, which are converted)"
        )
    if images.dtype != np.uint8:
        raise LatentdashError(f"dataset {name!r}: images must be uint8 after loading")
    if len(images) < 1:
        raise LatentdashError(f"dataset {name!r} is empty; point it at a folder or file with images")
    if images.shape[1] not in (1, 3):
        raise LatentdashError(f"dataset {name!r}: images need 1 (grey) or 3 (RGB) channels, got {images.shape[1]}")


def to_nchw_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    """Accept [N,H,W], [N,H,W,C] or [N,C,H,W]; uint8 or float in [0,1]; return uint8 NCHW."""
    arr = np.asarray(arr)
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4 and arr.shape[-1] in (1, 3) and arr.shape[1] not in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    elif arr.ndim != 4:
        raise LatentdashError(
            f"dataset {name!r}: images have rank {arr.ndim} (shape {arr.shape}); "
            f"expected [N, H, W], [N, H, W, C] or [N, C, H, W]"
        )
    if arr.dtype != np.uint8:
        a = arr.astype(np.float32)
        if not np.isfinite(a).all():
            raise LatentdashError(f"dataset {name!r}: images contain NaN or infinite values")
        if a.max(initial=0) <= 1.0:
            a = a * 255.0
        arr = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)
