"""Background jobs: recompute a map with new parameters, or build the atlas of an offered checkpoint.

Dash background callbacks run the jobs: on Celery with Redis when `LATENTDASH_REDIS_URL` is set
(workers may run on other machines that share the atlas cache), else on Dash's DiskcacheManager
(a forked process per job, results in `<cache>/jobs/`). The Celery app for the worker is
`latentdash.server.jobs:celery_app`, built on first access from the same `LATENTDASH_*` variables:

    celery -A latentdash.server.jobs:celery_app worker --loglevel=INFO

Flow (docs/explorer.md "Background jobs"):
1. The page's Start button runs an ordinary callback in the web process (`Jobs.submit`): the admin
   token (hosted mode), the form values, the per-client rate limit. A valid request becomes a
   one-use ticket in the shared store (Redis, or the disk cache); the page gets only its id.
2. The background callback takes the ticket (`Jobs.run_ticket`, in the worker), builds the atlas
   with progress from the build's own hooks, writes it atomically into the atlas cache and adds an
   entry to the cache's manifest (`atlas/views.json`, written atomically under a lock).
3. Every web process checks the manifest's stat on page load, when the model options render and
   whenever a model name it does not know is asked for (`Discovery.refresh`), and loads new views
   once (checksums verified: a damaged atlas is never served). A job's result is a new entry of
   the Model list: "pca-16 · t-SNE perplexity 50" holds the maps that were computed.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import re
import threading
import time
import uuid
import weakref
from pathlib import Path

from ..errors import LatentdashError

# re-exported: the stores and the manifest (job_store.py), for the tests and tools that name them here
from .job_store import (  # noqa: F401
    MANIFEST,
    RATE_WINDOW_S,
    STORE_ERRORS,
    TICKET_TTL_S,
    DiskStore,
    RedisStore,
    _unreachable,
    add_to_manifest,
    manifest_path,
    read_manifest,
    redact,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.3  # at most this often a running job writes its progress
JOB_METHODS = {"tsne": "t-SNE", "umap": "UMAP"}
_KEY = re.compile(r"^[0-9a-f]{16,64}$")
_RUNTIMES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> Jobs (see Jobs.for_ticket)
_ERR = "lderror-"  # a job handle that carries a dispatch failure instead of a job id


def _err_handle(msg: str) -> str:
    return _ERR + base64.urlsafe_b64encode(msg.encode()).decode()


def _err_of(job) -> str | None:
    if isinstance(job, str) and job.startswith(_ERR):
        return base64.urlsafe_b64decode(job[len(_ERR) :].encode()).decode(errors="replace")
    return None


class _Safe:
    """Mixin for Dash's managers: a store that stops answering (Redis stopped) or a job that died
    without a result ends the job in the page with a one-line message (`failure_output(msg)`, the
    background callback's outputs) instead of a server error or a silent stop."""

    failure_output = staticmethod(lambda msg: msg)
    url = "the job store"

    def _lost(self, e) -> str:
        log.warning("background job store failed: %s: %s", type(e).__name__, e)
        return (
            f"Lost the connection to the job store ({redact(self.url)}: {type(e).__name__}); this job's "
            "progress and result can't be read. Start it again once Redis is back; the rest of the page works."
        )

    def call_job_fn(self, key, job_fn, args, context):
        try:
            return super().call_job_fn(key, job_fn, args, context)
        except STORE_ERRORS as e:
            return _err_handle(str(_unreachable(self.url, e)))

    def get_progress(self, key):
        try:
            return super().get_progress(key)
        except STORE_ERRORS:
            return None

    def get_result(self, key, job):
        msg = _err_of(job)
        if msg is not None:
            return self.failure_output(msg)
        try:
            result = super().get_result(key, job)
            if result is self.UNDEFINED and not self.job_running(job):
                result = super().get_result(key, job)  # it may have finished just now
                if result is self.UNDEFINED:
                    return self.failure_output(self._died(job))
            return result
        except STORE_ERRORS as e:
            return self.failure_output(self._lost(e))

    def job_running(self, job):
        if job is None or _err_of(job) is not None:
            return False
        try:
            return super().job_running(job)
        except STORE_ERRORS:
            return False

    def get_updated_props(self, key):
        try:
            return super().get_updated_props(key)
        except STORE_ERRORS:
            return {}

    def terminate_job(self, job):
        if job is None or _err_of(job) is not None:
            return
        try:
            super().terminate_job(job)
        except STORE_ERRORS as e:
            log.warning("could not stop job %s: %s", job, e)

    def terminate_unhealthy_job(self, job):
        try:
            return super().terminate_unhealthy_job(job)
        except STORE_ERRORS:
            return False

    def _died(self, job) -> str:
        return "The job's process ended without a result (killed, or out of memory?); nothing was added."


def make_celery(redis_url: str):
    from celery import Celery

    app = Celery("latentdash", broker=redis_url, backend=redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,  # a long job does not hold the next one back
        broker_connection_retry_on_startup=True,
        result_expires=24 * 3600,
        redis_socket_connect_timeout=3,
        redis_socket_timeout=10,
        broker_transport_options={"socket_connect_timeout": 3, "socket_timeout": 10},
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    )
    return app


def _celery_manager(celery_app, url):
    from dash import CeleryManager

    class SafeCeleryManager(_Safe, CeleryManager):
        def _died(self, job):
            task = self.get_task(job)
            if task is not None and task.state == "FAILURE":
                return f"The job failed on the worker ({type(task.result).__name__}: {task.result}); nothing was added."
            return super()._died(job)

    m = SafeCeleryManager(celery_app)
    m.url = url
    return m


def _diskcache_manager(folder: Path):
    import diskcache
    from dash import DiskcacheManager

    class SafeDiskcacheManager(_Safe, DiskcacheManager):
        def _died(self, job):
            import shutil

            free = shutil.disk_usage(self.handle.directory).free / 2**20
            return (
                "The job's process ended without a result: killed, out of memory, or the disk of the job "
                f"store {self.handle.directory} is full ({free:.1f} MB free); nothing was added."
            )

    # a small write-ahead log (checkpointed every 64 pages): progress writes don't grow it to megabytes
    m = SafeDiskcacheManager(diskcache.Cache(str(folder), sqlite_wal_autocheckpoint=64))
    m.url = str(folder)
    return m


# ----------------------------------------------------------------------------- the runtime
def _num(value, typ, what: str, lo, hi, example):
    try:
        v = typ(value)
        if typ is int and float(value) != int(value):
            raise ValueError
    except (TypeError, ValueError):
        raise LatentdashError(f"{what} {value!r} is not a number; enter one such as {example}") from None
    if not lo <= v <= hi:
        raise LatentdashError(f"{what} {v:g} is out of range; enter {lo:g} to {hi:g} (e.g. {example})")
    return v


class Progress:
    """The atlas build's progress hook -> Dash's set_progress (value, max, text), at most every
    PROGRESS_EVERY_S; a store that stops answering stops the reports, not the build."""

    def __init__(self, set_progress):
        self.set, self.last, self.stage, self.off = set_progress, 0.0, None, False

    def __call__(self, stage: str, done: int, total: int):
        now = time.monotonic()
        if self.off or (stage == self.stage and done < total and now - self.last < PROGRESS_EVERY_S):
            return
        self.stage, self.last = stage, now
        try:
            self.set((int(done), max(int(total), 1), f"{stage}: {done} / {total}"))
        except STORE_ERRORS as e:
            self.off = True
            log.warning("job progress can't be stored (%s); the build goes on", e)


class Jobs:
    """Everything background jobs need in one process: the manager, the shared store, the models
    jobs may use (by name), and (in a web process) the discovery of views other processes added."""

    def __init__(self, config, catalog=None, worker: bool = False, manager: bool = True):
        from ..atlas.store import resolve_cache_dir

        self.config, self.worker = config, worker
        self.cache_dir = config.cache_dir or str(resolve_cache_dir(None))
        self.id = uuid.uuid4().hex[:12]
        _RUNTIMES[self.id] = self
        self.catalog = catalog
        self._dataset = None
        self._lock = threading.RLock()
        self._seen = None  # manifest (mtime, size) last read
        self.roots: dict[str, str] = {}  # view name -> the served/offered model it shows
        self.models: dict[str, tuple] = {}  # model name -> (model, checkpoint path or None, sha256 or None)
        self.offers: dict[str, str] = {}  # offered name -> model spec (from --offer, never the client)
        if not manager:  # a build process (see _build_main): no store, no manager
            self.celery = self.manager = self.store = None
        elif config.redis_url:
            self.celery = make_celery(config.redis_url)
            self.manager = _celery_manager(self.celery, config.redis_url)
            self.store = RedisStore(config.redis_url)
        else:
            from ..atlas.store import ensure_writable

            folder = Path(self.cache_dir) / "jobs"
            ensure_writable(folder)
            self.celery = None
            self.manager = _diskcache_manager(folder)
            self.store = DiskStore(self.manager.handle)

    @property
    def hosted(self) -> bool:
        return bool(self.config.admin_token)

    @property
    def backend(self) -> str:
        return f"Celery + Redis at {redact(self.config.redis_url)}" if self.config.redis_url else "this server"

    # ------------------------------------------------------------------ models, by name
    def served(self, views) -> None:
        """A web process: the views it serves are the models recompute jobs start from."""
        for v in views:
            self.roots[v.name] = v.name
            self.models[v.name] = (v.explorer.model, None, v.explorer.atlas.meta.get("model_sha256"))

    def load_offers(self, taken) -> None:
        """Load every --offer checkpoint now (a bad one fails the start with one line)."""
        from ..atlas.encode import model_hash
        from ..models import load_model
        from .app_factory import model_name

        taken = set(taken)
        for spec in self.config.offer:
            name = model_name(spec, taken)
            taken.add(name)
            try:
                model = load_model(spec)
            except LatentdashError as e:
                raise LatentdashError(f"--offer {spec}: {e}") from e
            cp = Path(spec) if Path(spec).is_file() else None
            self.offers[name] = spec
            self.models[name] = (model, cp, model_hash(model, cp))

    def _worker_models(self) -> None:
        """A worker: the served and offered models by the names the web processes give them."""
        from .app_factory import model_name

        taken: set[str] = set()
        for spec in self.config.checkpoint_list():
            name = model_name(spec, taken)
            taken.add(name)
            self.models.setdefault(name, (None, spec, None))
        if not self.offers:
            for spec in self.config.offer:
                name = model_name(spec, taken)
                taken.add(name)
                self.offers[name] = spec
                self.models.setdefault(name, (None, spec, None))

    def model_of(self, name: str):
        with self._lock:
            if name not in self.models:
                self._worker_models()
            if name not in self.models:
                raise LatentdashError(
                    f"model {name!r} is not served by this worker; give the worker the same "
                    "LATENTDASH_CHECKPOINTS / LATENTDASH_OFFER as the web server"
                )
            model, cp, sha = self.models[name]
            if model is None:
                from ..models import load_model

                model = load_model(str(cp))
                cp = Path(cp) if Path(cp).is_file() else None
                self.models[name] = (model, cp, sha)
            return model, cp

    def dataset(self):
        if self._dataset is None:
            from ..data import load_dataset

            self._dataset = load_dataset(self.config.dataset, data_root=self.config.data_root)
        return self._dataset

    def offer_names(self) -> list[str]:
        return [n for n in self.offers if self.catalog is None or n not in self.catalog.views]

    # ------------------------------------------------------------------ web: submit
    def submit(self, form: dict, model: str | None, client: str, now: float | None = None) -> dict:
        """Check a Start request; a valid one becomes a ticket {"t": id, "label": ...}."""
        if self.hosted and not hmac.compare_digest(
            str(form.get("token") or "").encode(), self.config.admin_token.encode()
        ):
            raise LatentdashError(
                "this server starts jobs only for holders of its admin token: enter the token "
                "(ask whoever runs the server)"
                if not form.get("token")
                else "the admin token is not right; check it and press Start again"
            )
        spec = self._offer_spec(form) if form.get("kind") == "offer" else self._recompute_spec(form, model)
        if spec["name"] in self.catalog.views:
            raise LatentdashError(f"“{spec['name']}” is already in the Model list; pick it there")
        limit = int(self.config.jobs_per_hour)
        wait = self.store.allow(str(client or "unknown"), limit, time.time() if now is None else now)
        if wait:
            raise LatentdashError(
                f"you have started {limit} job{'s' if limit != 1 else ''} in the last hour, the limit here; "
                f"try again in {max(1, round(wait / 60))} min"
            )
        return {"t": f"{self.id}.{self.store.put_ticket(spec)}", "name": spec["name"]}

    def _recompute_spec(self, form: dict, model: str | None) -> dict:
        from ..atlas.params import AtlasParams

        view = self.catalog.get(model)
        if view is None:
            raise LatentdashError("no model is shown; pick one in the Model list first")
        base = AtlasParams.from_dict(view.explorer.atlas.meta.get("params") or {})
        space, method = form.get("space"), form.get("method")
        if space not in ("latent", "pixel"):
            raise LatentdashError("pick what to map: latent codes or pixels")
        if method not in JOB_METHODS:
            raise LatentdashError("pick a method: t-SNE or UMAP")
        if space == "latent" and view.d == 2:
            raise LatentdashError(
                f"{view.name} has a 2-D latent space: its latent map is the codes themselves; pick Pixels"
            )
        n = view.n
        seed = _num(form.get("seed", 0), int, "seed", 0, 2**31 - 1, 0)
        kw = {"methods": (method,), "spaces": (space,), "seed": seed}
        if method == "tsne":
            top = max(1.0, n / 3 - 0.5)
            kw["perplexity"] = _num(form.get("perplexity"), float, "perplexity", 1, round(top, 1), 30)
            label = f"t-SNE perplexity {kw['perplexity']:g}"
        else:
            kw["n_neighbors"] = _num(form.get("n_neighbors"), int, "n_neighbors", 2, min(200, n - 1), 15)
            kw["min_dist"] = _num(form.get("min_dist"), float, "min_dist", 0, 1, 0.1)
            label = f"UMAP n_neighbors {kw['n_neighbors']}, min_dist {kw['min_dist']:g}"
        label += (f", seed {seed}" if seed else "") + (" (pixels)" if space == "pixel" else "")
        params = AtlasParams.from_dict({**base.to_dict(), **kw})
        root = self.roots.get(view.name, view.name)
        return {"kind": "recompute", "model": root, "params": params.to_dict(), "name": f"{root} · {label}"}

    def _offer_spec(self, form: dict) -> dict:
        name = form.get("offer")
        if not self.offers:
            raise LatentdashError("this server offers no other checkpoints (start it with --offer PATH)")
        if name not in self.offers:
            raise LatentdashError(f"pick one of the offered models: {', '.join(self.offers)}")
        return {"kind": "offer", "model": name, "params": self.config.atlas_params().to_dict(), "name": name}

    # ------------------------------------------------------------------ worker: run
    def for_ticket(self, ticket) -> Jobs:
        """Dash keeps background functions in a class-wide registry, so with several apps in one
        process (tests) the last registered function runs every app's jobs; the ticket names the
        runtime that issued it. A worker process has one runtime: this one."""
        tid = ticket.get("t") if isinstance(ticket, dict) else None
        rt = _RUNTIMES.get(tid.split(".", 1)[0]) if isinstance(tid, str) else None
        return rt or self

    @staticmethod
    def progress(set_progress) -> Progress:
        return Progress(set_progress)

    def run_ticket(self, ticket, progress) -> dict:
        tid = ticket.get("t") if isinstance(ticket, dict) else None
        if not isinstance(tid, str) or "." not in tid:
            raise LatentdashError("this job request is not one this server issued; press Start again")
        spec = self.store.take_ticket(tid.split(".", 1)[1])
        if spec is None:
            raise LatentdashError("this job request is unknown, expired or already used; press Start again")
        return self.execute(spec, progress)

    def execute(self, spec: dict, progress=False) -> dict:
        """Build the atlas of a checked job spec into the cache and list it in the manifest.

        A Celery worker builds in its own process. A DiskcacheManager job is a fork of a
        (multi-threaded) web process, where OpenMP thread pools (torch, openTSNE) do not survive
        the fork and hang: it runs the build in a fresh interpreter (`_build_main`) and relays
        its progress; Cancel kills the fork and, with it, the build."""
        if self.worker:
            return self._build(spec, progress)
        sources = {}
        for name, (model, cp, _) in self.models.items():
            path = cp or (getattr(model, "info", None) or {}).get("path")
            if path:
                sources[name] = str(path)
        return _run_build_process(self.config, {**spec, "sources": sources}, progress)

    def _build(self, spec: dict, progress=False) -> dict:
        from ..atlas import get_or_build_atlas
        from ..atlas.params import AtlasParams

        log.info("job %s: %s", spec["kind"], spec["name"])
        import torch

        torch.set_num_threads(max(1, os.cpu_count() or 1))  # a job process, not a web worker
        for name, path in (spec.get("sources") or {}).items():  # where the web process found it
            self.models.setdefault(name, (None, path, None))
        model, cp = self.model_of(spec["model"])
        dataset = self.dataset()
        params = AtlasParams.from_dict(spec["params"])
        atlas = get_or_build_atlas(
            model, dataset, params, cache_dir=self.cache_dir, checkpoint_path=cp, progress=progress or False
        )
        entry = {
            "name": spec["name"],
            "kind": spec["kind"],
            "model": spec["model"],
            "key": atlas.key,
            "maps": list(atlas.maps),
            "latent_dim": int(model.latent_dim),
            "model_kind": str(model.kind),
            "model_sha256": atlas.meta.get("model_sha256"),
            "dataset_fingerprint": atlas.meta.get("dataset_fingerprint"),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        add_to_manifest(self.cache_dir, entry)
        log.info("job done: %s (%s)", spec["name"], atlas.path)
        return entry

    # ------------------------------------------------------------------ web: discovery
    def refresh(self) -> list[str]:
        """Load the views the manifest lists that this process lacks; returns the names added.
        Cheap when nothing changed (one stat)."""
        if self.catalog is None:
            return []
        try:
            st = manifest_path(self.cache_dir).stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            return []
        if stamp == self._seen:
            return []
        added = []
        with self._lock:
            if stamp == self._seen:
                return []
            for entry in read_manifest(self.cache_dir):
                if entry["name"] not in self.catalog.views and self._load(entry):
                    added.append(entry["name"])
            self._seen = stamp
        return added

    def _load(self, e: dict) -> bool:
        from ..atlas.build import artifact_path
        from ..atlas.store import load_atlas
        from ..service import Explorer
        from ..ui.catalog import ModelView

        name, root = e["name"], e.get("model")
        if root not in self.models or not _KEY.match(str(e.get("key", ""))):
            log.info("job result %r is for a model this server does not serve; not offered", name)
            return False
        model, _, sha = self.models[root]
        fingerprint = next(iter(self.catalog.views.values())).explorer.atlas.meta.get("dataset_fingerprint")
        try:
            atlas = load_atlas(artifact_path(e["key"], self.cache_dir))  # every checksum verified
            if atlas.key != e["key"] or (sha and atlas.meta.get("model_sha256") != sha):
                raise LatentdashError("it was built for another version of the model")
            if atlas.meta.get("dataset_fingerprint") != fingerprint:
                raise LatentdashError("it was built on another dataset")
            view = ModelView(Explorer(model, atlas, name), max_sliders=self.config.max_sliders)
        except LatentdashError as err:
            log.warning("job result %r is not offered: %s (run the job again to rebuild it)", name, err)
            return False
        self.roots[name] = root
        self.catalog.add(view)
        log.info("new view from a background job: %s", name)
        return True


def setup_jobs(config, catalog) -> Jobs | None:
    """The web process's runtime: served models, offered checkpoints (loaded now), discovery.
    None (jobs off, one warning; the page works without its Jobs card) when the job store can't
    be created, e.g. a read-only cache folder."""
    try:
        rt = Jobs(config, catalog)
    except LatentdashError as e:
        log.warning("background jobs are off: %s", e)
        return None
    rt.served(catalog.views.values())
    rt.load_offers(catalog.views)
    catalog.jobs = rt
    catalog.discover = rt.refresh
    rt.refresh()
    return rt


# ----------------------------------------------------------------------------- build process
_MARK = "@@latentdash-job "  # the build process's stdout lines meant for its parent


def _run_build_process(config, spec: dict, progress) -> dict:
    """Run `_build_main` in a fresh interpreter: spec in on stdin, progress and result out."""
    import dataclasses
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from latentdash.server.jobs import _build_main; _build_main()"]
    msg = json.dumps({"config": dataclasses.asdict(config), "spec": spec})
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:
        p.stdin.write(msg)
        p.stdin.close()
        result = None
        for line in p.stdout:
            if not line.startswith(_MARK):
                continue
            kind, *rest = json.loads(line[len(_MARK) :])
            if kind == "progress" and progress:
                progress(*rest)
            else:
                result = (kind, rest[0])
        code = p.wait()
    if result is None:
        raise LatentdashError(f"the job's build process ended without a result (exit status {code}); nothing was added")
    kind, value = result
    if kind == "error":
        raise LatentdashError(value)
    if kind == "bug":
        raise RuntimeError(value)
    return value


def _build_main() -> None:
    import sys

    from .config import ServeConfig

    def say(*msg):
        sys.stdout.write(_MARK + json.dumps(msg) + "\n")
        sys.stdout.flush()

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    job = json.loads(sys.stdin.read())
    cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in job["config"].items()}
    try:
        rt = Jobs(ServeConfig(**cfg), worker=True, manager=False)
        say("done", rt._build(job["spec"], lambda *a: say("progress", *a)))
    except LatentdashError as e:
        say("error", str(e))
    except Exception as e:  # a bug: its traceback goes to the server's log (stderr)
        log.exception("background build failed")
        say("bug", f"{type(e).__name__}: {e}")


# ----------------------------------------------------------------------------- the worker
_WORKER: dict = {}


def worker_app():
    """The Celery app of `celery -A latentdash.server.jobs:celery_app worker`: the job callback
    registered on a bare Dash app (same function, same callback id, so the same task name as in
    the web processes), settings from LATENTDASH_* variables."""
    if "celery" not in _WORKER:
        import dash

        from ..ui import jobs_callbacks
        from .config import from_env

        config = from_env()
        if not config.redis_url:
            raise LatentdashError("the Celery worker needs LATENTDASH_REDIS_URL (e.g. redis://localhost:6379/0)")
        rt = Jobs(config, worker=True)
        jobs_callbacks.register_background(dash.Dash(__name__, background_callback_manager=rt.manager), rt)
        _WORKER["rt"], _WORKER["celery"] = rt, rt.celery
    return _WORKER["celery"]


def __getattr__(name):
    if name == "celery_app":
        return worker_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
