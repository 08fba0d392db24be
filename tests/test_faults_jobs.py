"""Background jobs under faults: Redis stopped while a job runs, a corrupt atlas in the cache, a
disk that fills during a background build. Real redis-server, celery worker, tmpfs."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from latentdash.ui import jobs_layout as jl
from tests import test_jobs as tj
from tests.test_jobs import JobClient, N, _wait_for_progress, atlases, hidden_temps, make_app

# the fixtures these tests share with tests/test_jobs.py
cache, celery_worker, job_checkpoints, redis_server, served_cache = (
    tj.cache,
    tj.celery_worker,
    tj.job_checkpoints,
    tj.redis_server,
    tj.served_cache,
)


def test_redis_stopped_while_a_job_runs(redis_server, celery_worker, cache, job_checkpoints):
    """The job's card says what happened in one line; every other part of the page still answers."""
    app = make_app(cache, job_checkpoints, redis_url=redis_server.url)
    jc = JobClient(app)
    msg, ticket = jc.start(space="pixel", perplexity=40)
    h = jc.dispatch(ticket)
    _wait_for_progress(jc, h, "t-SNE pixel")
    redis_server.stop()
    status, data = jc.poll(h)
    assert status == 200 and "response" in data, (status, data)
    text = data["response"][jl.STATUS]["children"]["props"]["children"]
    assert "Lost the connection to the job store" in text and f"127.0.0.1:{redis_server.port}" in text, text
    assert data["response"][jl.ST_DONE]["data"] is None
    # the rest of the page works: a link opens, the model list renders, thumbnails load
    state, message = jc.open_link("?model=pca-16&map=latent-pca-2d&sel=5")
    assert state["sel"] == 5 and not message
    assert jc.model_options() == ["pca-16"]
    assert jc.c.get("/thumb/pca-16/5.png").status_code == 200
    # a new job is refused with a clear line, not a server error
    msg, ticket = jc.start(seed=1)
    assert ticket is None and f"Redis at redis://127.0.0.1:{redis_server.port}/0 is not reachable" in msg, msg


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(64)  # zeros in the middle of an array: a checksum no longer matches
    path.write_bytes(bytes(data))


def test_corrupt_atlas_in_the_cache_is_rebuilt_never_served(cache, job_checkpoints, caplog):
    from latentdash.atlas import CorruptArtifact, load_atlas
    from latentdash.server.app_factory import load_explorers
    from tests.test_jobs import job_config

    jc = JobClient(make_app(cache, job_checkpoints))
    msg, ticket = jc.start(method="umap", n_neighbors=10, min_dist=0.2)
    name = "pca-16 · UMAP n_neighbors 10, min_dist 0.2"
    text, _ = jc.wait(jc.dispatch(ticket))
    assert text.startswith("Done:"), text
    (entry,) = json.loads((Path(cache) / "atlas" / "views.json").read_text())["views"]
    path = Path(cache) / "atlas" / f"{entry['key']}.atlas.npz"
    good = load_atlas(path).maps["latent-umap-2d"].copy()
    _corrupt(path)
    with pytest.raises(CorruptArtifact):
        load_atlas(path)
    # a process that starts now (or refreshes) never serves it
    jc2 = JobClient(make_app(cache, job_checkpoints))
    assert jc2.model_options() == ["pca-16"]
    state, message = jc2.open_link("?" + __import__("urllib.parse").parse.urlencode({"model": name}))
    assert state["model"] == "pca-16" and "model" in (message or ""), (state, message)
    assert jc2.c.get(f"/thumb/{name}/0.png").status_code == 404
    assert any("is not offered" in r.getMessage() and "rebuild" in r.getMessage() for r in caplog.records)
    # the same job again rebuilds it; then every process serves the rebuilt one
    msg, ticket = jc2.start(method="umap", n_neighbors=10, min_dist=0.2)
    assert ticket is not None, msg
    text, _ = jc2.wait(jc2.dispatch(ticket))
    assert text.startswith("Done:"), text
    rebuilt = load_atlas(path)  # every checksum verified
    assert np.allclose(rebuilt.maps["latent-umap-2d"], good, atol=1e-4)  # same seed, same map
    assert jc2.model_options() == ["pca-16", name]
    assert JobClient(make_app(cache, job_checkpoints)).model_options() == ["pca-16", name]
    # a corrupt served atlas is rebuilt at start-up too
    served = next(p for p in atlases(cache) if p != path.name and not p.startswith("pixel-"))
    _corrupt(Path(cache) / "atlas" / served)
    (ex,) = load_explorers(job_config(cache, job_checkpoints), progress=False)
    load_atlas(Path(cache) / "atlas" / served)  # valid again
    assert ex.n == N


@contextlib.contextmanager
def small_disk(folder: Path, size_mb: float):
    """A real full-able disk: a tmpfs of size_mb (needs root and mount); None where unavailable."""
    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={int(size_mb * 1024)}k", "tmpfs", str(folder)], capture_output=True
    )
    if r.returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave_bytes: int) -> None:
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler.bin", "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))


def test_disk_that_fills_during_a_background_build(tmp_path, served_cache, job_checkpoints):
    """The cache disk fills while the job writes its atlas: the card says the disk is full, nothing
    half-written is left (no file under the final name, no temp file, the manifest untouched), the
    page goes on; with room again, the same job succeeds."""
    import shutil

    served = sum(p.stat().st_size for p in (served_cache / "atlas").glob("*"))
    with small_disk(tmp_path / "disk", served / 2**20 + 5) as disk:
        limited = disk is None  # no tmpfs here: a per-process file size limit instead (EFBIG)
        cache = (disk or tmp_path / "disk") / "cache"
        shutil.copytree(served_cache / "atlas", cache / "atlas")
        jc = JobClient(make_app(cache, job_checkpoints))
        before = atlases(cache)
        old = resource.getrlimit(resource.RLIMIT_FSIZE)
        old_sig = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limited:
            resource.setrlimit(resource.RLIMIT_FSIZE, (500_000, old[1]))  # inherited by the job processes
        else:
            _fill(disk, 1_300_000)  # room for the job store's small writes, not for a 1.8 MB atlas
        try:
            msg, ticket = jc.start(perplexity=25)
            h = jc.dispatch(ticket)
            _wait_for_progress(jc, h, "t-SNE latent")
        finally:
            if limited:
                resource.setrlimit(resource.RLIMIT_FSIZE, old)
            signal.signal(signal.SIGXFSZ, old_sig)
        text, done = jc.wait(h)
        assert done is None and text.startswith("The job failed:"), text
        want = "File too large" if limited else "is full (No space left on device); free space"
        assert "cache directory" in text and want in text, text
        assert atlases(cache) == before and hidden_temps(cache) == []
        assert not (cache / "atlas" / "views.json").exists()
        assert jc.model_options() == ["pca-16"] and jc.c.get("/thumb/pca-16/1.png").status_code == 200
        with contextlib.suppress(FileNotFoundError):
            (disk / "filler.bin").unlink() if disk else None
        msg, ticket = jc.start(perplexity=25)
        text, done = jc.wait(jc.dispatch(ticket))
        assert text.startswith("Done:") and done["name"] == "pca-16 · t-SNE perplexity 25", text
