import subprocess
import sys

import pytest

from latentdash.models import load_checkpoint


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "latentdash.cli", *args], capture_output=True,
                          text=True, timeout=300, **kw)


def test_train_and_info(tmp_path):
    out = tmp_path / "d.pt"
    r = run("train", "--model", "conv-ae", "--latent-dim", "3", "--dataset", "digits",
            "--epochs", "2", "--batch-size", "64", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "saved" in r.stdout and "epoch=2/2" in r.stderr  # tqdm progress bar with the epoch
    m = load_checkpoint(out)
    assert m.latent_dim == 3 and m.info["train"]["command"].startswith("latentdash train")
    info = run("info", str(out))
    assert info.returncode == 0
    for word in ("conv-ae", "latent size  3", "(1, 8, 8)", "digits", "reconstruction MSE", "5-NN accuracy"):
        assert word in info.stdout


@pytest.mark.parametrize("args, msg", [
    (["--model", "gan"], "unknown model 'gan'"),
    (["--dataset", "imagenet-1k"], "unknown dataset 'imagenet-1k'"),
    (["--dataset", "folder:/nonexistent/dir"], "does not exist"),
])
def test_train_bad_input_is_one_line_and_nonzero(tmp_path, args, msg):
    out = tmp_path / "x.pt"
    r = run("train", "--dataset", "digits", "--epochs", "1", *args, "--out", str(out))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("error: ") and msg in lines[-1] and "Traceback" not in r.stderr
    assert not out.exists()


def test_train_refuses_existing_out_without_force(tmp_path):
    out = tmp_path / "exists.pt"
    out.write_bytes(b"keep me")
    r = run("train", "--dataset", "digits", "--epochs", "1", "--out", str(out))
    assert r.returncode == 2 and "--force" in r.stderr
    assert out.read_bytes() == b"keep me"


def test_info_bad_files(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a zip")
    r = run("info", str(bad))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "corrupt" in r.stderr
    r = run("info", str(tmp_path / "missing.pt"))
    assert r.returncode == 2 and "does not exist" in r.stderr
