import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from latentdash.data import load_dataset
from latentdash.data.registry import DEBIAN_FASHION
from latentdash.errors import LatentdashError


def test_bundled_fashion_test(fashion_test):
    assert len(fashion_test) == 10_000
    assert fashion_test.images.shape == (10_000, 1, 28, 28) and fashion_test.images.dtype == np.uint8
    assert np.bincount(fashion_test.labels).tolist() == [1000] * 10
    assert fashion_test.class_names[9] == "Ankle boot"
    assert fashion_test.label_name(int(fashion_test.labels[0])) == "Ankle boot"
    x = fashion_test.float_images(np.arange(3))
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


def test_bundled_licence_is_shipped():
    from importlib import resources

    text = (resources.files("latentdash.data") / "bundled" / "LICENSE-fashion-mnist.txt").read_text()
    assert "MIT" in text and "Zalando" in text


def test_digits(digits):
    assert digits.images.shape == (1797, 1, 8, 8)
    assert digits.images.max() == 255 and len(digits.class_names) == 10


def test_fingerprint_changes_with_content(digits):
    a = digits.subset(np.arange(100))
    b = digits.subset(np.arange(1, 101))
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == digits.subset(np.arange(100)).fingerprint()


def _write_idx(path, arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_mnist_from_data_root(tmp_path):
    root = tmp_path / "mnist"
    root.mkdir()
    rng = np.random.default_rng(0)
    _write_idx(root / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (30, 28, 28)))
    _write_idx(root / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 30))
    _write_idx(root / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (10, 28, 28)))
    _write_idx(root / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 10))
    ds = load_dataset("mnist", data_root=str(tmp_path))
    assert len(ds) == 40 and ds.n_train == 30
    assert len(ds.split("test")) == 10 and ds.class_names[3] == "3"


def test_truncated_idx(tmp_path):
    root = tmp_path / "mnist"
    root.mkdir()
    for name, shape in (
        ("train-images-idx3-ubyte.gz", (30, 28, 28)),
        ("train-labels-idx1-ubyte.gz", (30,)),
        ("t10k-images-idx3-ubyte.gz", (10, 28, 28)),
        ("t10k-labels-idx1-ubyte.gz", (10,)),
    ):
        _write_idx(root / name, np.zeros(shape))
    raw = gzip.decompress((root / "t10k-images-idx3-ubyte.gz").read_bytes())
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(LatentdashError, match="truncated"):
        load_dataset("mnist", data_root=str(tmp_path))


def test_mnist_missing_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTDASH_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(LatentdashError) as e:
        load_dataset("mnist", data_root=str(tmp_path / "root"), download=False)
    msg = str(e.value)
    assert "not found" in msg and str(tmp_path / "root") in msg and str(tmp_path / "env") in msg
    assert "--download" in msg and "\n" not in msg


@pytest.mark.skipif(
    not (DEBIAN_FASHION and __import__("os").path.isdir(DEBIAN_FASHION)), reason="dataset-fashion-mnist not installed"
)
def test_full_fashion_mnist_from_debian():
    ds = load_dataset("fashion-mnist")
    assert len(ds) == 70_000 and ds.n_train == 60_000
    bundled = load_dataset("fashion-mnist-test")
    assert np.array_equal(ds.split("test").images, bundled.images)


def test_unknown_dataset_id():
    with pytest.raises(LatentdashError, match="unknown dataset 'cifar-99'"):
        load_dataset("cifar-99")


def test_npz_round_trip(tmp_path):
    p = tmp_path / "d.npz"
    imgs = np.random.default_rng(0).random((12, 16, 16)).astype(np.float32)
    np.savez(p, images=imgs, labels=np.arange(12) % 3, label_names=np.array(["a", "b", "c"]))
    ds = load_dataset(f"npz:{p}")
    assert ds.images.shape == (12, 1, 16, 16) and ds.class_names == ["a", "b", "c"]
    hwc = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    np.savez(p, images=hwc)
    ds = load_dataset(f"npz:{p}")
    assert ds.images.shape == (5, 3, 8, 8) and ds.labels is None


@pytest.mark.parametrize(
    "arrays, msg",
    [
        ({"pixels": np.zeros((3, 8, 8))}, "no 'images' array"),
        ({"images": np.zeros((3, 8, 8)), "labels": np.zeros(5)}, "one label per image"),
        ({"images": np.zeros((3, 8))}, "rank 2"),
        ({"images": np.zeros((2, 3, 4, 5, 6))}, "rank 5"),
    ],
)
def test_npz_bad_inputs(tmp_path, arrays, msg):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(LatentdashError, match=msg):
        load_dataset(f"npz:{p}")


def test_npz_missing_file(tmp_path):
    with pytest.raises(LatentdashError, match="does not exist"):
        load_dataset(f"npz:{tmp_path / 'none.npz'}")


def test_folder_dataset(tmp_path):
    for cls, colour in (("cats", 30), ("dogs", 220)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (40, 30), (colour, colour, colour)).save(tmp_path / cls / f"{i}.png")
    ds = load_dataset(f"folder:{tmp_path}", size=16)
    assert ds.images.shape == (6, 1, 16, 16) and ds.class_names == ["cats", "dogs"]
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    rgb = load_dataset(f"folder:{tmp_path}", size=8, grey=False)
    assert rgb.images.shape == (6, 3, 8, 8)


def test_folder_missing_and_empty(tmp_path):
    with pytest.raises(LatentdashError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(LatentdashError, match="has no images"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
