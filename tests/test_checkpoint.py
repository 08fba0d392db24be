import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from latentdash.errors import LatentdashError
from latentdash.models import load_checkpoint, load_model
from latentdash.models.checkpoint import read_checkpoint, save_checkpoint


def test_round_trip_preserves_outputs(tiny_vae_ckpt, digits):
    m1 = load_checkpoint(tiny_vae_ckpt)
    m2 = load_model(str(tiny_vae_ckpt))
    x = digits.float_images(np.arange(10))
    np.testing.assert_array_equal(m1.encode(x), m2.encode(x))
    assert m1.latent_dim == 4 and m1.image_shape == (1, 8, 8) and m1.kind == "vae"
    assert m1.info["dataset"]["id"] == "digits"
    assert "test_mse" in m1.info["metrics"]


def test_truncated_checkpoint(tiny_vae_ckpt, tmp_path):
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(tiny_vae_ckpt.read_bytes()[:5000])
    with pytest.raises(LatentdashError, match="truncated or corrupt") as e:
        load_checkpoint(bad)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("seed", range(5))
def test_garbage_file(tmp_path, seed):
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(np.random.default_rng(seed).bytes(4096))
    with pytest.raises(LatentdashError, match="corrupt"):
        load_checkpoint(bad)


def test_zip_with_garbage_pickle(tiny_vae_ckpt, tmp_path):
    """A valid zip container whose pickle stream is damaged (bit flips in the middle)."""
    raw = bytearray(tiny_vae_ckpt.read_bytes())
    for i in range(200, 400):
        raw[i] ^= 0x5A
    bad = tmp_path / "flipped.pt"
    bad.write_bytes(bytes(raw))
    with pytest.raises(LatentdashError, match="corrupt"):
        load_checkpoint(bad)


def test_not_a_latentdash_checkpoint(tmp_path):
    p = tmp_path / "plain.pt"
    torch.save({"weight": torch.zeros(3)}, p)
    with pytest.raises(LatentdashError, match="not a latentdash checkpoint"):
        load_checkpoint(p)


def test_weights_dont_match_config(tiny_vae_ckpt, tmp_path):
    ck = torch.load(tiny_vae_ckpt, weights_only=True)
    ck["config"]["latent_dim"] = 5
    p = tmp_path / "mismatch.pt"
    torch.save(ck, p)
    with pytest.raises(LatentdashError, match="weights don't match"):
        load_checkpoint(p)


def test_unknown_architecture_in_file(tiny_vae_ckpt, tmp_path):
    ck = torch.load(tiny_vae_ckpt, weights_only=True)
    ck["arch"] = "transformer-xl"
    p = tmp_path / "arch.pt"
    torch.save(ck, p)
    with pytest.raises(LatentdashError, match="unknown architecture"):
        load_checkpoint(p)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.pt"
    torch.save({"format": "latentdash-checkpoint", "payload": _Evil(marker)}, p)
    with pytest.raises(LatentdashError, match="refused to load"):
        load_checkpoint(p)
    assert not marker.exists()


def test_missing_file(tmp_path):
    with pytest.raises(LatentdashError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_save_refuses_existing_without_force_and_is_atomic(tiny_vae_ckpt, tmp_path):
    ck = read_checkpoint(tiny_vae_ckpt)
    out = tmp_path / "copy.pt"
    out.write_bytes(b"precious")
    with pytest.raises(LatentdashError, match="--force"):
        save_checkpoint(out, ck)
    assert out.read_bytes() == b"precious"
    save_checkpoint(out, ck, force=True)
    assert load_checkpoint(out).latent_dim == 4
    assert [f.name for f in tmp_path.iterdir()] == ["copy.pt"]  # no temp files left behind


def test_killed_save_leaves_nothing(tiny_vae_ckpt, tmp_path):
    """A process killed mid-save leaves no file that could be taken for a checkpoint."""
    out = tmp_path / "killed.pt"
    code = f"""
import os, torch, latentdash.models.checkpoint as c
def boom(*a, **k):
    os._exit(9)
os.replace = boom          # killed between the fsync'ed temp file and the rename
ck = c.read_checkpoint({str(tiny_vae_ckpt)!r})
c.save_checkpoint({str(out)!r}, ck)
"""
    r = subprocess.run([sys.executable, "-c", code])
    assert r.returncode == 9
    assert not out.exists()
    left = [f.name for f in tmp_path.iterdir()]  # only the hidden, whole temp file
    assert len(left) == 1 and left[0].startswith(".killed.pt.") and left[0].endswith(".tmp")


def test_unwritable_out_is_one_line(tiny_vae_ckpt, tmp_path):
    ck = read_checkpoint(tiny_vae_ckpt)
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    with pytest.raises(LatentdashError, match="cannot write .*--out") as e:
        save_checkpoint(blocker / "sub" / "m.pt", ck)  # its folder would be inside a file
    assert "\n" not in str(e.value)
    assert [f.name for f in tmp_path.iterdir()] == ["file"]
