import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from latentdash.models import load_checkpoint


def run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "latentdash.cli", *args], capture_output=True, text=True, timeout=300, **kw
    )


def test_train_and_info(tmp_path):
    out = tmp_path / "d.pt"
    r = run(
        "train",
        "--model",
        "conv-ae",
        "--latent-dim",
        "3",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert "saved" in r.stdout and "epoch=2/2" in r.stderr  # tqdm progress bar with the epoch
    m = load_checkpoint(out)
    assert m.latent_dim == 3 and m.info["train"]["command"].startswith("latentdash train")
    info = run("info", str(out))
    assert info.returncode == 0
    for word in ("conv-ae", "latent size  3", "(1, 8, 8)", "digits", "reconstruction MSE", "5-NN accuracy"):
        assert word in info.stdout


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--model", "gan"], "unknown model 'gan'"),
        (["--dataset", "imagenet-1k"], "unknown dataset 'imagenet-1k'"),
        (["--dataset", "folder:/nonexistent/dir"], "does not exist"),
    ],
)
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


# ------------------------------------------------------------------------ the shared runner
def test_every_command_is_there():
    """build_parser swallows nothing: a broken layer fails loudly instead of losing its command."""
    from latentdash.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == {"train", "info", "precompute", "export-onnx", "export-static", "serve"}


@pytest.mark.parametrize("entry", ["latentdash", "app.py"])
def test_user_error_is_one_line_exit_2_for_both_entry_points(entry, capsys):
    from latentdash.cli import main as latentdash_main
    from latentdash.server.cli import main as app_main

    code = latentdash_main(["serve", "--port", "0"]) if entry == "latentdash" else app_main(["--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --port 0 is not a TCP port") and err.count("\n") == 1


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("entry", ["latentdash", "app.py"])
def test_ctrl_c_stops_the_server_with_one_line_and_130(entry, pca_checkpoint):
    """`latentdash serve` and `python app.py` run through one runner: the status line while
    loading, the URL on stdout, and Ctrl-C (the normal way to stop) -> `interrupted`, exit 130."""
    from .conftest import CACHE

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    head = (
        [sys.executable, "-m", "latentdash.cli", "serve"]
        if entry == "latentdash"
        else [sys.executable, str(ROOT / "app.py")]
    )
    cmd = head + [
        "--checkpoint",
        str(pca_checkpoint),
        "--methods",
        "pca",
        "--limit",
        "2000",
        "--cache-dir",
        str(CACHE),
        "--port",
        str(port),
        "--threads",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert "running at" in line, line + proc.stderr.read()
        for _ in range(100):  # the server is listening once a connection is accepted
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1] == "interrupted" and "Traceback" not in err
    assert "latentdash: preparing pca-16 on fashion-mnist-test ..." in lines
