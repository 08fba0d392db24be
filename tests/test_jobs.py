"""Background jobs (server/jobs.py, ui/jobs_callbacks.py) through the HTTP endpoints Dash's
background callbacks use: on DiskcacheManager (no Redis) and on Celery with a real redis-server
and a real celery worker. Real checkpoints (PCA models saved as latentdash checkpoints), real
atlas builds on 2,000 bundled Fashion-MNIST images."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from latentdash.ui import ids
from latentdash.ui import jobs_layout as jl

ROOT = Path(__file__).resolve().parents[1]
N = 2000
WAIT_S = 240  # generous upper bound for one job on a busy CI machine (not a timing assertion)


# ----------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_of(component) -> str:
    """The text of a status line as the server sent it (a Span's JSON or a string)."""
    if isinstance(component, dict):
        return text_of(component.get("props", {}).get("children"))
    if isinstance(component, list):
        return "".join(text_of(c) for c in component)
    return "" if component is None else str(component)


class JobClient:
    """The browser's side of the Jobs card over HTTP: Start (an ordinary callback), then the
    background callback's dispatch, polls (?cacheKey=&job=&endId=) and cancel (?cancelJob=)."""

    def __init__(self, app):
        self.c = app.server.test_client()
        page = self.c.get("/").get_data(as_text=True)
        cfg = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)[1])
        self.end_id = cfg["end_id"]
        self.deps = self.c.get("/_dash-dependencies").get_json()

    def dep(self, pred):
        (d,) = [d for d in self.deps if pred(d["output"])]
        return d

    def body(self, d, values: dict, changed=()):
        def outs(text):
            parts = text[2:-2].split("...") if text.startswith("..") else [text]
            return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts]

        o = outs(d["output"])
        spec = lambda s: {"id": s["id"], "property": s["property"], "value": values.get(f"{s['id']}.{s['property']}")}  # noqa: E731
        return {
            "output": d["output"],
            "outputs": o if len(o) > 1 else o[0],
            "inputs": [spec(s) for s in d["inputs"]],
            "state": [spec(s) for s in d["state"]],
            "changedPropIds": list(changed),
        }

    def post(self, d, values, changed=(), query=""):
        r = self.c.post(f"/_dash-update-component?endId={self.end_id}{query}", json=self.body(d, values, changed))
        return r.status_code, (r.get_json() if r.status_code == 200 else None)

    FORM = {"kind": "recompute", "space": "latent", "method": "tsne", "perplexity": 30, "n_neighbors": 15,
            "min_dist": 0.1, "seed": 0, "offer": None, "token": ""}  # fmt: skip

    def start(self, model="pca-16", **form):
        f = {**self.FORM, **form}
        ctl = {"kind": jl.KIND, "space": jl.SPACE, "method": jl.METHOD, "perplexity": jl.PERPLEXITY,
               "n_neighbors": jl.NEIGHBORS, "min_dist": jl.MIN_DIST, "seed": jl.SEED, "offer": jl.OFFER,
               "token": jl.TOKEN}  # fmt: skip
        values = {f"{ctl[k]}.value": v for k, v in f.items()}
        values.update({f"{jl.BTN_START}.n_clicks": 1, f"{ids.ST_MAP}.data": {"model": model}})
        status, data = self.post(self.dep(lambda o: "st-job-req.data" in o), values, [f"{jl.BTN_START}.n_clicks"])
        assert status == 200, status
        resp = data["response"]
        return text_of(resp[jl.NOTE]["children"]), resp.get(jl.ST_REQ, {}).get("data")

    def dispatch(self, ticket) -> dict:
        d = self.dep(lambda o: "st-job-done.data" in o)
        status, data = self.post(d, {f"{jl.ST_REQ}.data": ticket}, [f"{jl.ST_REQ}.data"])
        assert status == 200 and "cacheKey" in data and "job" in data, (status, data)
        return data

    def poll(self, h):
        d = self.dep(lambda o: "st-job-done.data" in o)
        return self.post(d, {}, [f"{jl.ST_REQ}.data"], f"&cacheKey={h['cacheKey']}&job={h['job']}")

    def wait(self, h, progress=None):
        """Poll like the renderer until the job answers; returns (status text, done-store data)."""
        t_end = time.monotonic() + WAIT_S
        while time.monotonic() < t_end:
            status, data = self.poll(h)
            assert status in (200, 204), status
            if data and "progress" in data and progress is not None:
                progress.append(data["progress"])
            if data and "response" in data:
                resp = data["response"]
                return text_of(resp[jl.STATUS]["children"]), resp.get(jl.ST_DONE, {}).get("data")
            time.sleep(0.3)
        raise AssertionError("the job did not answer")

    def cancel(self, h):
        d = self.dep(lambda o: o == f"{jl.BTN_CANCEL}.id")
        return self.post(d, {f"{jl.BTN_CANCEL}.n_clicks": 1}, [f"{jl.BTN_CANCEL}.n_clicks"], f"&cancelJob={h['job']}")

    def cancel_note(self) -> str:
        """The card's note after Cancel (the page's own callback on the Cancel button)."""
        d = self.dep(lambda o: "st-job-req.data" in o)
        status, data = self.post(d, {f"{jl.BTN_CANCEL}.n_clicks": 1}, [f"{jl.BTN_CANCEL}.n_clicks"])
        assert status == 200, status
        return text_of(data["response"][jl.NOTE]["children"])

    def model_options(self) -> list[str]:
        d = self.dep(lambda o: "model.options" in o)
        status, data = self.post(d, {f"{ids.MODEL}.options": []}, [f"{jl.POLL}.n_intervals"])
        assert status == 200, status
        return [o["value"] for o in data["response"][ids.MODEL]["options"]]

    def open_link(self, search: str) -> dict:
        """The page's first reducer call for a link: (state, message)."""
        from latentdash.ui import urlstate
        from tests.dashclient import REDUCER, DashClient

        dc = DashClient(self.c)
        status, data = dc.call(REDUCER, {"url.search": search}, [])
        assert status == 200, status
        r = data["response"]
        state = urlstate.merge(*(r[sid]["data"] for sid in ids.STORE_OF.values() if sid in r))
        return state, r.get(ids.MSG, {}).get("children")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def job_checkpoints(tmp_path_factory, ui_dataset):
    """Two real checkpoints: pca-16 (served) and pca-8 (offered: its atlas is built by a job)."""
    from latentdash.models import PCAModel
    from tests._atlas_helpers import save_pca_checkpoint

    d = tmp_path_factory.mktemp("job-ckpt")
    x = ui_dataset.float_images(slice(0, 5000))
    return (
        save_pca_checkpoint(PCAModel.fit(x, 16, seed=0), d / "pca-16.pt", ui_dataset),
        save_pca_checkpoint(PCAModel.fit(x, 8, seed=0), d / "pca-8.pt", ui_dataset),
    )


def job_config(cache, ckpts, **kw):
    from latentdash.server.config import ServeConfig

    return ServeConfig(
        checkpoints=(ckpts[0],), offer=(ckpts[1],), limit=N, methods=("pca",), dims=(2,), cache_dir=str(cache), **kw
    )


def job_env(cache, ckpts, redis_url=None) -> dict:
    """The same settings as LATENTDASH_* variables (what a worker reads)."""
    env = dict(os.environ, LATENTDASH_CHECKPOINTS=ckpts[0], LATENTDASH_OFFER=ckpts[1], LATENTDASH_LIMIT=str(N))
    env.update(LATENTDASH_METHODS="pca", LATENTDASH_DIMS="2", LATENTDASH_CACHE=str(cache), PYTHONPATH=str(ROOT))
    if redis_url:
        env["LATENTDASH_REDIS_URL"] = redis_url
    return env


@pytest.fixture(scope="session")
def served_cache(tmp_path_factory, job_checkpoints):
    """A cache folder holding the served model's atlas (built once, copied into each test's cache)."""
    from latentdash.server.app_factory import load_explorers

    cache = tmp_path_factory.mktemp("served-cache")
    load_explorers(job_config(cache, job_checkpoints), progress=False)
    return cache


@pytest.fixture()
def cache(tmp_path, served_cache):
    dst = tmp_path / "cache"
    shutil.copytree(served_cache / "atlas", dst / "atlas")
    return dst


def make_app(cache, ckpts, **kw):
    from latentdash.server.app_factory import create_app

    return create_app(job_config(cache, ckpts, **kw), progress=False)


class RedisServer:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
                "--save",
                "",
                "--appendonly",
                "no",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        r = redis.Redis.from_url(self.url)
        t_end = time.monotonic() + 30
        while True:
            try:
                r.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > t_end or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class CeleryWorker:
    """`celery -A latentdash.server.jobs:celery_app worker`, exactly as documented."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        self.f = open(log, "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "latentdash.server.jobs:celery_app",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],  # fmt: skip
            env=env,
            cwd=str(ROOT),
            stdout=self.f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        t_end = time.monotonic() + 90
        while " ready." not in log.read_text():
            assert self.proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < t_end, log.read_text()[-3000:]
            time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.f.close()


@pytest.fixture()
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server (Debian package redis-server)")
    r = RedisServer(tmp_path)
    yield r
    r.stop()


@pytest.fixture()
def celery_worker(redis_server, cache, job_checkpoints, tmp_path):
    w = CeleryWorker(job_env(cache, job_checkpoints, redis_server.url), tmp_path / "worker.log")
    yield w
    w.stop()


def atlases(cache) -> set[str]:
    return {p.name for p in (Path(cache) / "atlas").glob("*.atlas.npz")}


def hidden_temps(cache) -> list[str]:
    return [p.name for p in (Path(cache) / "atlas").glob(".*.tmp")]


# ----------------------------------------------------------------------------- DiskcacheManager
def test_recompute_job_appears_for_every_process_without_restart(cache, job_checkpoints):
    """A t-SNE recompute from the page: progress from the build's stages, then a new model
    choice, seen by this app and by a second app (another web process) started before the job
    ended, with the map that was computed; the artifact in the cache validates."""
    from latentdash.atlas import load_atlas

    app, other = make_app(cache, job_checkpoints), make_app(cache, job_checkpoints)
    jc, jc2 = JobClient(app), JobClient(other)
    assert jc.model_options() == jc2.model_options() == ["pca-16"]
    msg, ticket = jc.start(perplexity=20)
    assert ticket and "pca-16 · t-SNE perplexity 20" in msg, msg
    progress = []
    text, done = jc.wait(jc.dispatch(ticket), progress)
    name = "pca-16 · t-SNE perplexity 20"
    assert text.startswith("Done:") and name in text, text
    assert done["name"] == name
    stages = [p[f"{jl.PROGRESS}.children"] for p in progress]
    assert any(s.startswith("t-SNE latent 2d") for s in stages), stages
    for p in progress:  # value <= max, both numbers
        assert 0 <= int(p[f"{jl.BAR}.value"]) <= int(p[f"{jl.BAR}.max"])
    assert jc.model_options() == jc2.model_options() == ["pca-16", name]
    # the second process serves the new view: a link to it opens on its t-SNE map
    state, message = jc2.open_link("?" + __import__("urllib.parse").parse.urlencode({"model": name}))
    assert state["model"] == name and state["map"] == "latent-tsne-2d", (state, message)
    (entry,) = json.loads((Path(cache) / "atlas" / "views.json").read_text())["views"]
    atlas = load_atlas(Path(cache) / "atlas" / f"{entry['key']}.atlas.npz")
    assert list(atlas.maps) == ["latent-tsne-2d"] and atlas.meta["params"]["perplexity"] == 20
    assert atlas.n == N
    served = load_atlas(
        next(p for p in (Path(cache) / "atlas").glob("*.atlas.npz") if p.name != f"{entry['key']}.atlas.npz")
    )
    assert np.array_equal(atlas.latents, served.latents)  # same model, same images, new map
    assert hidden_temps(cache) == []
    # the same job again: nothing to do, said so in one line
    msg, ticket = jc2.start(perplexity=20)
    assert ticket is None and "already in the Model list" in msg


def test_every_mistake_gets_one_line_and_starts_nothing(cache, job_checkpoints):
    jc = JobClient(make_app(cache, job_checkpoints))
    cases = [
        (dict(perplexity=5000), "perplexity 5000 is out of range"),
        (dict(perplexity=None), "perplexity None is not a number"),
        (dict(method="umap", n_neighbors=2.5), "n_neighbors 2.5 is not a number"),
        (dict(method="umap", min_dist=3), "min_dist 3 is out of range"),
        (dict(seed=-1), "seed -1 is out of range"),
        (dict(method="pca"), "pick a method"),
        (dict(space="../etc"), "pick what to map"),
        (dict(kind="offer", offer="/etc/passwd"), "pick one of the offered models: pca-8"),
    ]
    for form, want in cases:
        msg, ticket = jc.start(**form)
        assert ticket is None and want in msg and "\n" not in msg, (form, msg)
    msg, ticket = jc.start(model="no-such-model")
    assert ticket is None and "pick one in the Model list" in msg
    # a request the server did not issue never runs
    text, done = jc.wait(jc.dispatch({"t": "forged.0123"}))
    assert "not one this server issued" in text or "unknown, expired or already used" in text, text
    assert done is None


def test_admin_token_and_rate_limit(cache, job_checkpoints):
    app = make_app(cache, job_checkpoints, admin_token="s3cret-token", jobs_per_hour=2)
    jc = JobClient(app)
    assert token_field_hidden(app) is False and token_field_hidden(make_app(cache, job_checkpoints)) is True
    msg, ticket = jc.start(seed=1)
    assert ticket is None and "admin token" in msg and "enter the token" in msg
    msg, ticket = jc.start(seed=1, token="wrong")
    assert ticket is None and "not right" in msg
    started = [jc.start(seed=s, token="s3cret-token") for s in (1, 2)]
    assert all(t is not None for _, t in started), started
    msg, ticket = jc.start(seed=3, token="s3cret-token")
    assert ticket is None and "started 2 jobs in the last hour" in msg and "try again in" in msg
    # the limit is per client, and shared by every process of the server (the store, not memory)
    other = JobClient(make_app(cache, job_checkpoints, admin_token="s3cret-token", jobs_per_hour=2))
    msg, ticket = other.start(seed=4, token="s3cret-token")
    assert ticket is None and "limit" in msg
    other.c.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    msg, ticket = other.start(seed=4, token="s3cret-token")
    assert ticket is not None, msg


def token_field_hidden(app):
    """Whether the page hides the admin-token field (the Label around the input)."""

    def walk(node, parent=None):
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == jl.TOKEN:
                return bool(parent.get("props", {}).get("hidden"))
            for v in props.values():
                r = walk(v, node)
                if r is not None:
                    return r
        elif isinstance(node, list):
            for v in node:
                r = walk(v, parent)
                if r is not None:
                    return r
        return None

    return walk(app.server.test_client().get("/_dash-layout").get_json())


def _pid(h) -> int:
    return int(h["job"].split("~")[0])


def _wait_for_progress(jc, h, stage_prefix):
    t_end = time.monotonic() + WAIT_S
    while time.monotonic() < t_end:
        status, data = jc.poll(h)
        assert status == 200 and "response" not in (data or {}), data
        text = (data or {}).get("progress", {}).get(f"{jl.PROGRESS}.children", "")
        if text.startswith(stage_prefix):
            return text
        time.sleep(0.2)
    raise AssertionError(f"no {stage_prefix} progress")


def test_cancel_stops_the_build_and_adds_nothing(cache, job_checkpoints):
    import psutil

    jc = JobClient(make_app(cache, job_checkpoints))
    before = atlases(cache)
    msg, ticket = jc.start(space="pixel", perplexity=40)
    h = jc.dispatch(ticket)
    _wait_for_progress(jc, h, "t-SNE pixel")
    proc = psutil.Process(_pid(h))
    family = [proc, *proc.children(recursive=True)]
    assert any("_build_main" in " ".join(p.cmdline()) for p in family)
    status, _ = jc.cancel(h)
    assert status in (200, 204)
    assert jc.cancel_note().startswith("Cancelled")
    gone, alive = psutil.wait_procs(family, timeout=30)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    assert atlases(cache) == before and not (Path(cache) / "atlas" / "views.json").exists()
    assert jc.model_options() == ["pca-16"]


# ----------------------------------------------------------------------------- Celery + Redis
def test_celery_worker_cancel_then_build_an_offered_model(redis_server, celery_worker, cache, job_checkpoints):
    """On a real redis-server and a real `celery -A latentdash.server.jobs:celery_app worker`:
    a cancelled job stops on the worker and adds nothing; the worker then builds the offered
    checkpoint's atlas, which appears in the Model list of this app and of a second one."""
    import redis

    app = make_app(cache, job_checkpoints, redis_url=redis_server.url)
    other = make_app(cache, job_checkpoints, redis_url=redis_server.url)
    jc, jc2 = JobClient(app), JobClient(other)
    before = atlases(cache)
    # cancel: the task is revoked and its process terminated on the worker
    msg, ticket = jc.start(space="pixel", perplexity=40)
    assert "Celery + Redis" in msg, msg
    h = jc.dispatch(ticket)
    _wait_for_progress(jc, h, "t-SNE pixel")
    task_id = h["job"].split("~")[0]
    assert jc.cancel(h)[0] in (200, 204)
    t_end = time.monotonic() + WAIT_S
    while "Terminating " + task_id not in celery_worker.log.read_text():
        assert time.monotonic() < t_end, celery_worker.log.read_text()[-2000:]
        time.sleep(0.2)
    assert atlases(cache) == before and not (Path(cache) / "atlas" / "views.json").exists()
    # the offered checkpoint, built by the worker, appears everywhere
    msg, ticket = jc2.start(kind="offer", offer="pca-8")
    assert ticket is not None, msg
    progress = []
    text, done = jc2.wait(jc2.dispatch(ticket), progress)
    assert text.startswith("Done:") and "“pca-8”" in text, (text, celery_worker.log.read_text()[-3000:])
    assert any(
        p[f"{jl.PROGRESS}.children"].startswith("encode") or "latent" in p[f"{jl.PROGRESS}.children"] for p in progress
    )
    assert jc.model_options() == jc2.model_options() == ["pca-16", "pca-8"]
    state, _ = jc.open_link("?model=pca-8")
    assert state["model"] == "pca-8" and state["map"] == "latent-pca-2d"
    assert "job done: pca-8" in celery_worker.log.read_text()
    # tickets live in Redis and are used once
    assert not redis.Redis.from_url(redis_server.url).keys("latentdash:ticket:*")
    assert len(atlases(cache) - before) == 1  # pca-8's atlas; nothing from the cancelled job
