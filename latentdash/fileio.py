"""Files: content hashes and atomic writes (used by checkpoints and atlas artifacts).

`atomic_write` writes to a hidden temp file in the target's folder (`.<name>.XXXX.tmp`), fsyncs
it, gives it normal permissions and `os.replace`s it into place: a reader sees the old file or the
new one, never half of one. On any failure (an exception in the writer, a full disk, Ctrl-C) the
temp file is removed and the old file, if any, is left as it was; a process killed outright leaves
only the hidden temp file, which `atlas.store.clean_stale_temps` sweeps away later.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def file_sha256(path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, writer: Callable[[BinaryIO], object]) -> Path:
    """Call writer(f) on a binary temp file next to `path`, then move it into place atomically.

    Creates the parent folder. OSErrors (no space, no permission) propagate unchanged, after the
    temp file is gone; callers turn them into one-line LatentdashErrors that name their flag."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
