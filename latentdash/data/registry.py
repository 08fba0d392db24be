"""Dataset ids -> loaders.

Ids: `fashion-mnist-test` (bundled, 10k), `fashion-mnist` and `mnist` (70k: train then test),
`digits` (scikit-learn's 1,797 8x8 digits), `folder:PATH`, `npz:PATH`.
"""

from __future__ import annotations

import gzip
import logging
import os
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import LatentdashError
from .dataset import ImageDataset, to_nchw_uint8

log = logging.getLogger(__name__)

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
DIGIT_CLASSES = [str(i) for i in range(10)]
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
BUILTIN_IDS = ("fashion-mnist-test", "fashion-mnist", "mnist", "digits")
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise LatentdashError(f"cannot read IDX file {path}: {e}; re-fetch the dataset files") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise LatentdashError(f"{path} is not an unsigned-byte IDX file; re-fetch the dataset files")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise LatentdashError(
            f"{path} is truncated ({body.size} of {int(np.prod(dims))} values); re-fetch the dataset files"
        )
    return body.reshape(dims)


def _idx_pair(folder: Path, prefix: str):
    for ext in (".gz", ""):
        imgs = folder / f"{prefix}-images-idx3-ubyte{ext}"
        labs = folder / f"{prefix}-labels-idx1-ubyte{ext}"
        if imgs.is_file() and labs.is_file():
            return read_idx(imgs), read_idx(labs)
    return None


def load_bundled_fashion_test() -> ImageDataset:
    base = resources.files("latentdash.data") / "bundled"
    with resources.as_file(base) as folder:
        imgs, labs = _idx_pair(Path(folder), "t10k")
    return ImageDataset(
        "fashion-mnist-test",
        imgs[:, None].copy(),
        labs,
        FASHION_CLASSES,
        source="bundled with latentdash (MIT, Zalando SE)",
    )


def _candidate_dirs(name: str, data_root: str | None) -> list[Path]:
    tv = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}[name]
    roots = []
    for r in (data_root, os.environ.get("LATENTDASH_DATA")):
        if r:
            roots += [Path(r) / name, Path(r) / tv / "raw", Path(r)]
    if name == "fashion-mnist":
        roots.append(Path(DEBIAN_FASHION))
    cache = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    roots += [cache / "datasets" / tv / "raw", Path.home() / ".cache" / "latentdash" / "data" / tv / "raw"]
    return roots


def load_mnist_like(name: str, data_root: str | None = None, download: bool = False) -> ImageDataset:
    classes = FASHION_CLASSES if name == "fashion-mnist" else DIGIT_CLASSES
    looked = _candidate_dirs(name, data_root)
    for folder in looked:
        train, test = _idx_pair(folder, "train"), _idx_pair(folder, "t10k")
        if train and test:
            imgs = np.concatenate([train[0], test[0]])[:, None]
            labs = np.concatenate([train[1], test[1]])
            return ImageDataset(
                name, np.ascontiguousarray(imgs), labs, classes, n_train=len(train[0]), source=str(folder)
            )
    if download:
        root = Path.home() / ".cache" / "latentdash" / "data"
        try:
            import torchvision.datasets as tvd

            cls = tvd.FashionMNIST if name == "fashion-mnist" else tvd.MNIST
            cls(str(root), train=True, download=True)
            cls(str(root), train=False, download=True)
            return load_mnist_like(name, str(root), download=False)
        except Exception as e:  # network errors come in many types
            log.warning("download of %s failed: %s", name, e)
    hint = "apt-get install dataset-fashion-mnist, or " if name == "fashion-mnist" else ""
    raise LatentdashError(
        f"dataset {name!r} not found; looked in {', '.join(str(p) for p in looked)}; "
        f"{hint}put the four IDX files under --data-root or $LATENTDASH_DATA, or pass --download "
        f"where the network is available"
    )


def load_digits() -> ImageDataset:
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    imgs = np.clip(np.rint(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)[:, None]
    return ImageDataset("digits", imgs, d.target, DIGIT_CLASSES, source="scikit-learn")


def load_npz(path: str) -> ImageDataset:
    p = Path(path)
    if not p.is_file():
        raise LatentdashError(f"npz file {p} does not exist; pass npz:PATH to an existing .npz")
    try:
        z = np.load(p, allow_pickle=False)
        keys = set(z.files)
    except Exception as e:
        raise LatentdashError(f"cannot read {p} as .npz ({e}); save it with numpy.savez") from e
    if "images" not in keys:
        raise LatentdashError(
            f"{p} has no 'images' array (found: {', '.join(sorted(keys)) or 'none'}); "
            f"save it with numpy.savez(path, images=..., labels=...)"
        )
    imgs = to_nchw_uint8(z["images"], f"npz:{p}")
    labels = z["labels"] if "labels" in keys else None
    names = [str(s) for s in z["label_names"]] if "label_names" in keys else None
    if labels is not None and (np.ndim(labels) != 1 or len(labels) != len(imgs)):
        raise LatentdashError(
            f"{p}: 'labels' has shape {np.shape(labels)} but there are {len(imgs)} images; give one label per image"
        )
    return ImageDataset(f"npz:{p}", imgs, labels, names, source=str(p))


def load_folder(path: str, size: int = 28, grey: bool = True) -> ImageDataset:
    """One sub-folder per class (or a flat folder: no labels), resized to size x size."""
    from PIL import Image

    root = Path(path)
    if not root.is_dir():
        raise LatentdashError(f"image folder {root} does not exist; pass folder:PATH to a directory")
    subdirs = sorted(d for d in root.iterdir() if d.is_dir())
    groups = [(d.name, sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_EXTS)) for d in subdirs] or [
        (None, sorted(f for f in root.iterdir() if f.suffix.lower() in IMAGE_EXTS))
    ]
    groups = [(n, fs) for n, fs in groups if fs]
    if not groups:
        raise LatentdashError(
            f"image folder {root} has no images ({', '.join(sorted(IMAGE_EXTS))}); "
            f"put images in one sub-folder per class"
        )
    imgs, labels, names = [], [], []
    for label, (name, files) in enumerate(groups):
        names.append(name)
        for f in files:
            try:
                with Image.open(f) as im:
                    im = im.convert("L" if grey else "RGB").resize((size, size), Image.BILINEAR)
                    a = np.asarray(im, np.uint8)
            except Exception as e:
                raise LatentdashError(f"cannot read image {f}: {e}; remove or fix the file") from e
            imgs.append(a[None] if grey else a.transpose(2, 0, 1))
            labels.append(label)
    has_labels = names[0] is not None
    return ImageDataset(
        f"folder:{root}",
        np.stack(imgs),
        np.array(labels) if has_labels else None,
        names if has_labels else None,
        source=str(root),
    )


def load_dataset(
    spec: str, data_root: str | None = None, download: bool | None = None, size: int = 28, grey: bool = True
) -> ImageDataset:
    """Load a dataset by id; see the module docstring for the ids."""
    if download is None:
        download = os.environ.get("LATENTDASH_DOWNLOAD", "") == "1"
    if spec == "fashion-mnist-test":
        return load_bundled_fashion_test()
    if spec in ("fashion-mnist", "mnist"):
        return load_mnist_like(spec, data_root, download)
    if spec == "digits":
        return load_digits()
    if spec.startswith("npz:"):
        return load_npz(spec[4:])
    if spec.startswith("folder:"):
        return load_folder(spec[7:], size=size, grey=grey)
    raise LatentdashError(f"unknown dataset {spec!r}; use one of {', '.join(BUILTIN_IDS)}, folder:PATH or npz:PATH")
