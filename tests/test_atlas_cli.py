"""`latentdash precompute` and `latentdash info ARTIFACT` through the real command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from latentdash.atlas import load_atlas
from tests._atlas_helpers import digits, pca_model, save_pca_checkpoint


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run(capsys):
    """The real `latentdash` command line, in this process (main(argv) -> exit status)."""
    from latentdash.cli import main

    def _run(*args):
        capsys.readouterr()
        rc = main([str(a) for a in args])
        out = capsys.readouterr()
        return Result(rc, out.out, out.err)

    return _run


def run_process(*args):
    return subprocess.run([sys.executable, "-m", "latentdash.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    ds = digits()
    return save_pca_checkpoint(pca_model(ds, 6), tmp_path_factory.mktemp("ck") / "digits-pca-6.pt", ds)


def _artifacts(cache):
    return sorted(p for p in (cache / "atlas").glob("*.atlas.npz") if not p.name.startswith("pixel-"))


def test_precompute_builds_once_then_finds_it(ckpt, tmp_path, run):
    cache = tmp_path / "c"
    args = [
        "precompute",
        "--checkpoint",
        ckpt,
        "--dataset",
        "digits",
        "--limit",
        "400",
        "--dims",
        "2",
        "--perplexity",
        "10",
        "--n-neighbors",
        "10",
        "--cache-dir",
        str(cache),
    ]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    for stage in (
        "encode",
        "PCA latent",
        "kNN graph",
        "UMAP latent 2d",
        "t-SNE latent 2d",
        "t-SNE pixel 2d",
        "metrics latent",
        "100%",
    ):
        assert stage in r.stderr, stage
    assert "<" in r.stderr  # tqdm's elapsed<remaining (ETA)
    (path,) = _artifacts(cache)
    assert f"atlas written: {path}" in r.stdout
    a = load_atlas(path)
    assert a.n == 400 and set(a.maps) == {
        "latent-pca-2d",
        "latent-tsne-2d",
        "latent-umap-2d",
        "pixel-pca-2d",
        "pixel-tsne-2d",
        "pixel-umap-2d",
    }
    assert a.meta["params"]["perplexity"] == 10 and a.meta["params"]["n_neighbors"] == 10
    mtime = path.stat().st_mtime_ns
    r2 = run(*args)
    assert r2.returncode == 0 and f"atlas up to date: {path}" in r2.stdout
    assert "encode" not in r2.stderr and path.stat().st_mtime_ns == mtime
    r3 = run(*args, "--force", "--quiet")
    assert r3.returncode == 0 and "atlas written" in r3.stdout and path.stat().st_mtime_ns != mtime
    assert r3.stderr.strip() == ""
    r4 = run(*args[:-2], "--seed", "1", "--quiet", "--cache-dir", str(cache))
    assert r4.returncode == 0 and len(_artifacts(cache)) == 2

    info = run("info", str(path))
    assert info.returncode == 0, info.stderr
    for word in (
        "trust",
        "knn acc",
        "latent-tsne-2d",
        "pixel-umap-2d",
        "5-NN label accuracy",
        "exact, all points",
        "digits",
        "stratified subset of 400",
    ):
        assert word in info.stdout, word
    row = next(ln for ln in info.stdout.splitlines() if ln.strip().startswith("latent-umap-2d"))
    assert f"{a.metrics['maps']['latent-umap-2d']['trustworthiness']:.4f}" in row


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_precompute_generator_needs_no_dataset(tmp_path, run):
    # a TorchScript decoder-only module is a generator: its atlas comes from prior samples
    import torch

    from tests._atlas_helpers import TinyDecoder

    class Gen(TinyDecoder):
        def __init__(self):
            super().__init__(3)
            self.latent_dim = 3
            self.image_shape = [1, 8, 8]

        def forward(self, z):
            return self.decode(z)

    m = torch.jit.script(Gen())
    ts = tmp_path / "gen.ts"
    torch.jit.save(m, str(ts))
    cache = tmp_path / "c"
    r = run(
        "precompute",
        "--checkpoint",
        str(ts),
        "--limit",
        "200",
        "--methods",
        "pca",
        "--quiet",
        "--cache-dir",
        str(cache),
    )
    assert r.returncode == 0, r.stderr
    (path,) = _artifacts(cache)
    a = load_atlas(path)
    assert a.n == 200 and a.labels is None and a.meta["source"] == "prior samples"
    assert np.isfinite(a.maps["latent-pca-2d"]).all()


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--methods", "pca,lle"], "unknown method lle"),
        (["--dims", "2,4"], "unsupported dims 4"),
        (["--dims", "two"], "comma-separated"),
        (["--metric", "jaccard"], "unknown metric"),
        (["--limit", "120", "--perplexity", "40"], "perplexity 40 is too large for 120 items"),
        (["--limit", "120", "--n-neighbors", "120", "--methods", "umap"], "n_neighbors 120 must be smaller"),
        (["--limit", "2"], "too small"),
        (["--dataset", "imagenet"], "unknown dataset"),
    ],
)
def test_precompute_bad_input(ckpt, tmp_path, args, msg, run):
    cache = tmp_path / "c"
    r = run("precompute", "--checkpoint", ckpt, "--dataset", "digits", "--cache-dir", str(cache), *args)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("error: ") and msg in lines[-1] and "Traceback" not in r.stderr
    assert not cache.exists() or not list(cache.rglob("*.npz"))


def test_precompute_dataset_of_two_images(ckpt, tmp_path, run):
    ds = digits()
    npz = tmp_path / "two.npz"
    np.savez(npz, images=ds.images[:2, 0], labels=ds.labels[:2])
    cache = tmp_path / "c"
    r = run("precompute", "--checkpoint", ckpt, "--dataset", f"npz:{npz}", "--cache-dir", str(cache))
    assert r.returncode == 2 and "has 2 images; an atlas needs at least 3" in r.stderr
    assert not list(cache.rglob("*.npz")) if cache.exists() else True


def test_precompute_read_only_cache(ckpt, tmp_path, run):
    from tests._atlas_helpers import tmpfs

    ro = tmp_path / "ro"
    with tmpfs(ro, ro=True) as ok:
        if not ok:
            pytest.skip("cannot mount a read-only tmpfs here (needs root)")
        r = run("precompute", "--checkpoint", ckpt, "--dataset", "digits", "--methods", "pca", "--cache-dir", str(ro))
        assert r.returncode == 2 and "cannot write to cache directory" in r.stderr
        assert "encode" not in r.stderr  # refused before any work


def test_info_on_a_corrupt_artifact(ckpt, tmp_path, run):
    cache = tmp_path / "c"
    r = run(
        "precompute",
        "--checkpoint",
        ckpt,
        "--dataset",
        "digits",
        "--methods",
        "pca",
        "--quiet",
        "--cache-dir",
        str(cache),
    )
    assert r.returncode == 0, r.stderr
    (path,) = _artifacts(cache)
    path.write_bytes(path.read_bytes()[:-100])
    info = run("info", str(path))
    assert info.returncode == 2 and "truncated or corrupt" in info.stderr
    again = run(
        "precompute",
        "--checkpoint",
        ckpt,
        "--dataset",
        "digits",
        "--methods",
        "pca",
        "--quiet",
        "--cache-dir",
        str(cache),
    )
    assert again.returncode == 0 and "atlas written" in again.stdout
    assert "rebuilding" in again.stderr
    load_atlas(path)


def test_exit_status_and_one_line_error_from_a_real_process(ckpt, tmp_path):
    r = run_process(
        "precompute", "--checkpoint", ckpt, "--dataset", "digits", "--dims", "5", "--cache-dir", str(tmp_path / "c")
    )
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == ["error: unsupported dims 5; use 2, 3 or 2,3"]
    assert not (tmp_path / "c").exists()
