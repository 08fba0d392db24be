"""latentdash.fileio: one content hash and one atomic write for checkpoints and atlas artifacts."""

from __future__ import annotations

import errno
import hashlib
import os

import numpy as np
import pytest

from latentdash.fileio import atomic_write, file_sha256


def test_file_sha256_matches_hashlib_across_chunks(tmp_path):
    p = tmp_path / "blob"
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)  # more than one 1 MiB chunk
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()


def test_atomic_write_replaces_whole_with_normal_permissions(tmp_path):
    p = tmp_path / "sub" / "out.bin"
    assert atomic_write(p, lambda f: f.write(b"first")) == p  # creates the folder
    atomic_write(p, lambda f: f.write(b"second"))
    assert p.read_bytes() == b"second"
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    assert [f.name for f in p.parent.iterdir()] == ["out.bin"]  # no temp file left


@pytest.mark.parametrize(
    "error", [RuntimeError("writer bug"), KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")]
)
def test_failed_write_leaves_old_file_and_no_temp(tmp_path, error):
    p = tmp_path / "out.bin"
    p.write_bytes(b"old")

    def writer(f):
        f.write(b"half of the new")
        raise error

    with pytest.raises(type(error)):
        atomic_write(p, writer)
    assert p.read_bytes() == b"old"
    assert [f.name for f in tmp_path.iterdir()] == ["out.bin"]


def test_failed_first_write_leaves_nothing(tmp_path):
    def writer(f):
        f.write(b"partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "new.bin", writer)
    assert list(tmp_path.iterdir()) == []
