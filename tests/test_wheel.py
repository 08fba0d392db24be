"""A wheel that works anywhere: built from this checkout, installed by scripts/install_wheel.sh (the
Dockerfile's install step) into a fresh virtual environment outside the repository, and used from
a folder outside it. The shipped checkpoints and atlases travel inside the package: `latentdash
info fashion-vae-16` works by name, `latentdash serve` (with the Docker image's settings) starts on
them without building anything, the page, /healthz and a real slider decode answer, the image's
HEALTHCHECK passes against it, and `precompute` and `train` run.

Dependencies come from this environment (offline): a .pth file makes its site-packages visible,
and only the wheel itself is installed (LATENTDASH_DEPS_FROM, see the script)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import latentdash
from latentdash.atlas.shipped import CHECKPOINT_DIR, SHIPPED_CHECKPOINTS, SHIPPED_DIR, resolve_checkpoint

from .test_docker import exec_form, runtime_env

ROOT = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = "scripts/install_wheel.sh"  # the Dockerfile's install step (tests/test_docker.py checks it)
SHIPPED_NAMES = [Path(n).stem for n in SHIPPED_CHECKPOINTS]
START_TIMEOUT = 180  # a guard against a hang, not a timing assertion


# --- by-name resolution (in-process, fast) ------------------------------------------------------------
def test_a_shipped_checkpoint_resolves_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in SHIPPED_NAMES:
        assert resolve_checkpoint(name) == str(CHECKPOINT_DIR / f"{name}.pt")
        assert resolve_checkpoint(f"{name}.pt") == str(CHECKPOINT_DIR / f"{name}.pt")
    # a file of that name where you are wins over the shipped one
    (tmp_path / "fashion-vae-16.pt").write_bytes(b"mine")
    assert resolve_checkpoint("fashion-vae-16.pt") == "fashion-vae-16.pt"
    # anything else is left for load_model to judge: paths, factories, unknown names
    for spec in ("no-such-model", "sub/fashion-vae-16.pt", "mypkg.models:make_model", "fashion-vae-16.pth"):
        assert resolve_checkpoint(spec) == spec


def test_serve_config_and_load_model_accept_names(tmp_path, monkeypatch):
    from latentdash.errors import LatentdashError
    from latentdash.models import load_model
    from latentdash.server.config import ServeConfig

    monkeypatch.chdir(tmp_path)
    cfg = ServeConfig(checkpoints=("fashion-vae-2", "fashion-pca-16.pt"))
    assert cfg.checkpoint_list() == [
        str(CHECKPOINT_DIR / "fashion-vae-2.pt"),
        str(CHECKPOINT_DIR / "fashion-pca-16.pt"),
    ]
    assert ServeConfig().checkpoint_list() == [str(CHECKPOINT_DIR / n) for n in SHIPPED_CHECKPOINTS]
    assert load_model("fashion-vae-2").latent_dim == 2
    with pytest.raises(LatentdashError, match="name of a shipped one") as e:
        load_model("fashion-vae-99")
    assert "\n" not in str(e.value)


def test_readme_commands_name_checkpoints_that_resolve(tmp_path, monkeypatch):
    """The README's command lines work from any folder (an installed wheel has no checkouts' paths)."""
    import re

    monkeypatch.chdir(tmp_path)
    text = (ROOT / "README.md").read_text()
    specs = re.findall(r"latentdash (?:info|precompute --checkpoint|serve --checkpoint) (\S+)", text)
    specs += re.findall(r'load_model\("([^"]+)"\)', text)
    assert len(specs) >= 4
    for spec in specs:
        assert Path(resolve_checkpoint(spec)).is_file(), f"README: {spec} names no shipped checkpoint"


# --- build and install, once per module -----------------------------------------------------------------
def clean_env(**extra) -> dict:
    """This process's environment without any LATENTDASH_* or PYTHON* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATENTDASH_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline from a copy of the sources (the checkout gets no build/ folder)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "latentdash", src / "latentdash", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (whl,) = dist.glob("latentdash-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("venv") / "env"
    assert ROOT not in where.resolve().parents
    deps = sysconfig.get_paths()["purelib"]
    r = subprocess.run(
        ["bash", str(ROOT / INSTALL_SCRIPT), str(wheel), str(where)],
        cwd=tmp_path_factory.mktemp("cwd"),
        env=clean_env(LATENTDASH_DEPS_FROM=deps, PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"installed latentdash {latentdash.__version__} in {where.resolve()}" in r.stdout
    return where


def test_install_script_network_steps(wheel, tmp_path):
    """The Docker image's path (the network, which these machines lack) as a dry run: a fresh venv,
    CPU torch with exactly the wheel's version ranges, the wheel with its serve extra, pip check."""
    import tomllib
    from packaging.requirements import Requirement

    target = tmp_path / "env"
    env = clean_env(LATENTDASH_INSTALL_DRY_RUN="1", PYTHON=sys.executable)
    r = subprocess.run(["bash", str(ROOT / INSTALL_SCRIPT), str(wheel), str(target)], env=env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    venv_cmd, torch_cmd, wheel_cmd, check_cmd = r.stdout.splitlines()
    py = f"{target}/bin/python"
    assert venv_cmd == f"{sys.executable} -m venv {target}"
    head = f"{py} -m pip install --index-url https://download.pytorch.org/whl/cpu "
    assert torch_cmd.startswith(head)
    wanted = {
        Requirement(d).name: Requirement(d).specifier
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if Requirement(d).name in ("torch", "torchvision")
    }
    assert {Requirement(w).name: Requirement(w).specifier for w in torch_cmd[len(head) :].split()} == wanted
    assert wheel_cmd == f"{py} -m pip install {wheel}[serve]" and check_cmd == f"{py} -m pip check"
    assert not target.exists()  # a dry run changes nothing


def test_install_script_refuses_bad_arguments(wheel, tmp_path):
    script = str(ROOT / INSTALL_SCRIPT)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    for args, says in (
        ([str(wheel)], "expected 2 arguments"),
        ([str(tmp_path / "nope.whl"), str(tmp_path / "v")], "does not exist"),
        ([str(ROOT / "pyproject.toml"), str(tmp_path / "v")], "is not a wheel"),
        ([str(wheel), str(tmp_path / "used")], "already exists and is not empty"),
    ):
        r = subprocess.run(["bash", script, *args], env=clean_env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and says in r.stderr, (args, r.stderr)
        assert r.stderr.count("\n") == 1
    assert not (tmp_path / "v").exists()


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A working folder outside the repository (the commands run there)."""
    d = tmp_path_factory.mktemp("outside")
    assert ROOT not in d.resolve().parents
    return d


def ld(venv, *args, cwd, env=None, timeout=300):
    return subprocess.run(
        [str(venv / "bin" / "latentdash"), *args],
        cwd=cwd,
        env=env or clean_env(LATENTDASH_CACHE=str(cwd / "cache")),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_wheel_carries_the_shipped_checkpoints_and_atlases(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for n in SHIPPED_CHECKPOINTS:
            stem = Path(n).stem
            for rel, local in (
                (f"latentdash/checkpoints/{n}", CHECKPOINT_DIR / n),
                (f"latentdash/checkpoints/{stem}.png", CHECKPOINT_DIR / f"{stem}.png"),
                (
                    f"latentdash/shipped/{stem}.fashion-mnist-test.atlas.npz",
                    SHIPPED_DIR / f"{stem}.fashion-mnist-test.atlas.npz",
                ),
            ):
                assert rel in names, f"{rel} is not in the wheel"
                assert hashlib.sha256(z.read(rel)).digest() == hashlib.sha256(local.read_bytes()).digest(), rel
        assert "latentdash/checkpoints/README.md" in names  # the model card
        assert not any(n.startswith(("tests/", "checkpoints/", "bench/")) for n in names)


def test_installed_package_is_the_one_imported(venv, outside):
    code = "import latentdash, sys; print(latentdash.__file__); print('\\n'.join(sys.path))"
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], cwd=outside, env=clean_env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    where, *path = r.stdout.splitlines()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    # nothing of the checkout is importable, only the dependencies of its .venv (the .pth file)
    in_repo = [p for p in path if p and Path(p).resolve().is_relative_to(ROOT)]
    assert all(Path(p).resolve().is_relative_to(ROOT / ".venv") for p in in_repo), in_repo


def test_info_names_a_shipped_checkpoint(venv, outside):
    r = ld(venv, "info", "fashion-vae-16", cwd=outside)
    assert r.returncode == 0, r.stderr
    lines = dict(ln.split(maxsplit=1) for ln in r.stdout.splitlines() if ln and not ln.startswith(" "))
    assert Path(lines["checkpoint"]).resolve().is_relative_to(venv.resolve())
    assert lines["architecture"].startswith("conv-vae (vae)") and lines["latent"] == "size  16"
    r = ld(venv, "info", "fashion-vae-99", cwd=outside)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr


def test_precompute_and_train_run_from_the_wheel(venv, outside):
    work = outside / "jobs"
    work.mkdir()
    r = ld(
        venv, "precompute", "--checkpoint", "fashion-ae-16", "--methods", "pca", "--dims", "2",
        "--limit", "300", "--cache-dir", "atlases", "--quiet", cwd=work,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    (written,) = [Path(ln.removeprefix("atlas written: ")) for ln in lines if ln.startswith("atlas written: ")]
    assert (work / written).is_file() and (work / "atlases") in (work / written).parents
    from latentdash.atlas.store import load_atlas

    atlas = load_atlas(work / written)
    assert atlas.n == 300 and "latent-pca-2d" in atlas.maps

    r = ld(
        venv, "train", "--model", "mlp-ae", "--latent-dim", "3", "--dataset", "digits", "--epochs", "1",
        "--max-steps", "5", "--out", "tiny.pt", cwd=work,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("saved tiny.pt: ")
    from latentdash.models import load_checkpoint

    m = load_checkpoint(work / "tiny.pt")
    assert (m.info["arch"], m.latent_dim, m.image_shape) == ("mlp-ae", 3, (1, 8, 8))


# --- the server, with the Docker image's settings -----------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(venv, outside):
    """`latentdash serve` from the wheel, as the image runs it (its ENV), on loopback and a free
    port, with an empty atlas cache: whatever it built would land there."""
    port, cache = free_port(), outside / "serve-cache"
    cache.mkdir()
    image = {k: v for k, v in runtime_env().items() if k.startswith("LATENTDASH_")}
    theme = outside / "image-assets"  # the image's COPY of the top-level assets/ (the projector theme)
    shutil.copytree(ROOT / "assets", theme)
    env = clean_env(
        **{**image, "LATENTDASH_CACHE": str(cache), "LATENTDASH_HOST": "127.0.0.1", "LATENTDASH_ASSETS": str(theme)}
    )
    cmd = [str(venv / "bin" / exec_form("CMD")[0]), *exec_form("CMD")[1:], "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    out, err, started = [], [], threading.Event()

    def read(stream, sink, watch):
        for line in stream:
            sink.append(line)
            if watch and "running at http://" in line:
                started.set()

    threads = [
        threading.Thread(target=read, args=(proc.stdout, out, True), daemon=True),
        threading.Thread(target=read, args=(proc.stderr, err, False), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        for _ in range(START_TIMEOUT * 2):
            if started.wait(0.5) or proc.poll() is not None:
                break
        if not started.is_set():
            pytest.fail(f"the server did not start (exit {proc.poll()}):\n{''.join(out)}{''.join(err)[-3000:]}")
        yield {"url": f"http://127.0.0.1:{port}", "port": port, "proc": proc, "out": out, "err": err, "cache": cache}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def wait_ready(server) -> None:
    """The URL is printed before the port may accept (gunicorn's workers boot after it): wait for
    /healthz to answer (bounded), then hand over."""
    import time

    import requests

    for _ in range(240):
        try:
            if requests.get(server["url"] + "/healthz", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert server["proc"].poll() is None, "".join(server["err"])[-3000:]
        time.sleep(0.5)
    pytest.fail("/healthz never answered")


def test_serve_starts_on_the_shipped_models_and_builds_nothing(server):
    import requests

    wait_ready(server)
    assert any(f"running at {server['url']}/" in line for line in server["out"])
    # no atlas was built (the cache may hold the background-job store, never an atlas)
    assert [p for p in server["cache"].rglob("*") if "atlas" in p.name or p.suffix == ".npz"] == []
    err = "".join(server["err"])
    assert "%|" not in err and "building" not in err.lower(), err[-2000:]  # no progress bars
    health = requests.get(server["url"] + "/healthz", timeout=30).json()
    assert health == {"status": "ok", "models": dict.fromkeys(SHIPPED_NAMES, 10_000)}
    page = requests.get(server["url"] + "/", timeout=30)
    assert page.status_code == 200 and "latentdash" in page.text and "ld-4-drag.js" in page.text
    # the image's user assets: the projector theme, linked after the package's own stylesheet
    assert "user-assets/projector.css" in page.text
    assert page.text.index("style.css") < page.text.index("user-assets/projector.css")


class _Http:
    """requests with a base URL, for tests/dashclient.py."""

    def __init__(self, base):
        import requests

        self.base, self.s = base, requests.Session()

    def get(self, path, **kw):
        return self.s.get(self.base + path, timeout=60, **kw)

    def post(self, path, **kw):
        return self.s.post(self.base + path, timeout=60, **kw)


def test_slider_decode_is_the_shipped_checkpoints_decode(server):
    """A real drag request, as the page's drag loop sends it: the image that comes back is the
    shipped VAE's decode of the slider vector (checked against the checkout's copy)."""
    from PIL import Image

    from latentdash.atlas.shipped import shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.imaging import png_data_uri
    from latentdash.models import load_model
    from latentdash.ui import ids, urlstate

    from .dashclient import DashClient

    wait_ready(server)
    dc = DashClient(_Http(server["url"]))
    status, data = dc.call(f"{ids.ST_MAP}.data", {"url.search": ""}, [])
    assert status == 200
    state = urlstate.merge(*(data["response"][sid]["data"] for sid in ids.STORE_OF.values()))
    assert state["model"] == "fashion-vae-16"
    parts = urlstate.split({**state, "basis": "dims"})
    model = load_model(str(CHECKPOINT_DIR / "fashion-vae-16.pt"))
    # the codes of two real images: inside every slider's range (the sliders of the "dims" basis
    # are the 16 latent dimensions; a value outside a slider's range would be clipped)
    latents = load_atlas(shipped_atlas_path("fashion-vae-16")).latents
    images = []
    for i in (123, 4567):
        z = np.asarray(latents[i], np.float32)
        values = [float(v) for v in z]
        status, data = dc.call(
            f"{ids.ST_DRAGOUT}.data",
            {f"{ids.ST_DRAG}.data": {"values": values}, f"{ids.ST_MAP}.data": parts["map"],
             f"{ids.ST_Z}.data": parts["z"], f"{ids.ST_RENDERED}.data": None},
            [f"{ids.ST_DRAG}.data"],
        )  # fmt: skip
        out = data["response"][ids.ST_DRAGOUT]["data"]
        assert status == 200 and "error" not in out, out
        got = np.asarray(Image.open(io.BytesIO(_png(out["src"]))), dtype=np.int16)
        want = np.asarray(Image.open(io.BytesIO(_png(png_data_uri(model.decode(z[None])[0])))))
        assert got.shape == (28, 28) and np.abs(got - want).max() <= 1
        images.append(got)
    assert np.abs(images[0] - images[1]).mean() > 5  # another vector, another image


def _png(uri: str) -> bytes:
    import base64

    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


def test_docker_healthcheck_passes_against_the_server(venv, server, outside):
    """The image's HEALTHCHECK command, run as is (with the venv's python), answers 0 when the
    server is up and fails when nothing listens."""
    wait_ready(server)
    cmd = exec_form("HEALTHCHECK")
    py = str(venv / "bin" / cmd[0])
    ok = subprocess.run([py, *cmd[1:]], cwd=outside, env=clean_env(LATENTDASH_PORT=str(server["port"])), timeout=60)
    assert ok.returncode == 0
    dead = subprocess.run(
        [py, *cmd[1:]], cwd=outside, env=clean_env(LATENTDASH_PORT=str(free_port())), capture_output=True, timeout=60
    )
    assert dead.returncode != 0 and b"Connection refused" in dead.stderr


def test_rest_decode_from_the_wheel(server):
    """POST /api/v1/models/{model}/decode on the installed server: the shipped 2-D VAE's decode."""
    import requests

    from latentdash.models import load_model

    wait_ready(server)
    z = [[0.0, 0.0], [1.5, -1.0]]
    r = requests.post(
        server["url"] + "/api/v1/models/fashion-vae-2/decode", json={"latents": z, "format": "array"}, timeout=60
    )
    assert r.status_code == 200, r.text
    got = np.asarray(r.json()["images"], np.float32)
    want = load_model(str(CHECKPOINT_DIR / "fashion-vae-2.pt")).decode(np.asarray(z, np.float32))
    assert got.shape == (2, 1, 28, 28) and np.abs(got - want).max() < 1e-3
    assert np.abs(got[0] - got[1]).mean() > 0.02
