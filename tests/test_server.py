"""The multi-process server: `latentdash serve` on gunicorn by default (workers forked after the
models are loaded, a killed worker replaced, Ctrl-C = `interrupted`/130), the waitress fallback
where gunicorn can't run, and `gunicorn app:server` refusing to build an atlas in a worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from latentdash.server import gunicorn_app
from latentdash.server.config import ServeConfig

from .conftest import CACHE

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_cmd(ckpt, port, *extra):
    return [
        sys.executable,
        "-m",
        "latentdash.cli",
        "serve",
        "--checkpoint",
        str(ckpt),
        "--methods",
        "pca",
        "--limit",
        "2000",
        "--cache-dir",
        str(CACHE),
        "--port",
        str(port),
        *extra,
    ]


def wait_health(base, proc, timeout=120.0):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        try:
            r = requests.get(base + "healthz", timeout=2)
            if r.ok:
                return r.json()
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not answer")


def workers_of(pid: int) -> list[int]:
    return sorted(c.pid for c in psutil.Process(pid).children())


def wait_workers(pid: int, n: int, exclude=(), timeout=60.0) -> list[int]:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        w = [p for p in workers_of(pid) if p not in exclude]
        if len(w) == n:
            return w
        time.sleep(0.1)
    raise AssertionError(f"expected {n} workers, have {workers_of(pid)}")


@pytest.fixture()
def stop():
    procs = []
    yield procs.append
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def test_worker_count_and_options():
    assert [gunicorn_app.auto_workers(c) for c in (1, 2, 3, 4, 16, 64)] == [1, 2, 3, 4, 4, 4]
    o = gunicorn_app.gunicorn_options(ServeConfig(workers=3, server_threads=6, host="0.0.0.0", port=9000))
    assert (o["workers"], o["threads"], o["worker_class"], o["bind"]) == (3, 6, "gthread", ["0.0.0.0:9000"])
    assert o["accesslog"] is None and o["timeout"] >= 30
    assert gunicorn_app.gunicorn_options(ServeConfig())["workers"] == gunicorn_app.auto_workers()
    assert gunicorn_app.gunicorn_options(ServeConfig(host="::1"))["bind"] == ["[::1]:8050"]
    assert gunicorn_app.gunicorn_available() is None  # Linux, gunicorn installed


def test_serve_forks_gunicorn_workers_replaces_a_killed_one_and_stops_on_ctrl_c(pca_checkpoint, stop):
    """The default server: one master that loaded the model, 2 gthread workers forked from it;
    SIGKILL one and a new fork takes its place while the other keeps serving; Ctrl-C ends the
    whole tree with `interrupted` and exit 130."""
    port = free_port()
    proc = subprocess.Popen(
        serve_cmd(pca_checkpoint, port, "--workers", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("LATENTDASH_SERVER", "LATENTDASH_WORKERS")},
    )
    stop(proc)
    base = f"http://127.0.0.1:{port}/"
    assert wait_health(base, proc)["models"] == {"pca-16": 2000}
    workers = wait_workers(proc.pid, 2)
    assert all(psutil.Process(w).ppid() == proc.pid for w in workers)
    os.kill(workers[0], signal.SIGKILL)
    new = wait_workers(proc.pid, 2, exclude=(workers[0],))  # a fresh fork next to the survivor
    assert workers[1] in new
    for _ in range(10):  # every request answered, on fresh connections (either worker)
        assert requests.get(base + "healthz", timeout=10).ok
    page = requests.get(base, timeout=10)
    assert page.status_code == 200 and "latentdash Explorer" in page.text
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert err.count("preparing pca-16") == 1
    assert "SIGABRT" not in err and "system_error" not in err, err  # workers exit cleanly
    assert f"http://127.0.0.1:{port}/" in out
    for w in new:
        assert not psutil.pid_exists(w) or psutil.Process(w).status() == psutil.STATUS_ZOMBIE


def test_falls_back_to_waitress_with_a_notice_where_fork_is_missing(pca_checkpoint, stop):
    """As on Windows: no os.fork -> one line saying so, then waitress (one process) serves."""
    port = free_port()
    code = (
        "import os, sys; del os.fork; from latentdash.cli import main; "
        f"sys.exit(main({serve_cmd(pca_checkpoint, port)[3:]!r}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop(proc)
    base = f"http://127.0.0.1:{port}/"
    assert wait_health(base, proc)["models"] == {"pca-16": 2000}
    assert workers_of(proc.pid) == []  # one process
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    notice = [ln for ln in err.splitlines() if "waitress" in ln]
    assert len(notice) == 1 and "os.fork" in notice[0], err


def _gunicorn(env_extra, port, *flags):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTDASH_")}
    env.update(env_extra)
    cmd = [str(Path(sys.executable).with_name("gunicorn")), "-k", "gthread", "-b", f"127.0.0.1:{port}", *flags]
    return subprocess.Popen(
        cmd + ["app:server"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_gunicorn_app_py_refuses_to_build_a_missing_atlas(pca_checkpoint, tmp_path, stop):
    """`gunicorn app:server` with no atlas in the cache: one line telling to precompute, and the
    master stops (no endless worker restarts), instead of a worker building until it is killed."""
    env = {
        "LATENTDASH_CHECKPOINTS": str(pca_checkpoint),
        "LATENTDASH_METHODS": "pca",
        "LATENTDASH_LIMIT": "2000",
        "LATENTDASH_CACHE": str(tmp_path / "empty-cache"),
    }
    proc = _gunicorn(env, free_port(), "-w", "1")
    stop(proc)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, err
    assert (
        "latentdash precompute --checkpoint" in lines[0] and "--methods pca" in lines[0] and "--limit 2000" in lines[0]
    )
    assert not (tmp_path / "empty-cache").exists() or not any((tmp_path / "empty-cache").rglob("*.npz"))


def test_gunicorn_app_py_serves_with_preload(pca_checkpoint, stop):
    env = {
        "LATENTDASH_CHECKPOINTS": str(pca_checkpoint),
        "LATENTDASH_METHODS": "pca",
        "LATENTDASH_LIMIT": "2000",
        "LATENTDASH_CACHE": str(CACHE),
    }
    port = free_port()
    proc = _gunicorn(env, port, "-w", "2", "--preload")
    stop(proc)
    base = f"http://127.0.0.1:{port}/"
    assert wait_health(base, proc)["models"] == {"pca-16": 2000}
    assert len(wait_workers(proc.pid, 2)) == 2
    r = requests.get(base, timeout=10)
    assert r.status_code == 200 and "Content-Security-Policy" in r.headers
    proc.terminate()  # SIGTERM (docker stop): a graceful stop, every worker exits cleanly
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "SIGABRT" not in err and "system_error" not in err, err
