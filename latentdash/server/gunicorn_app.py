"""`latentdash serve` on gunicorn: N worker processes forked from one master that has already
built the app (models, atlases, the Dash layout), so every worker shares those pages
copy-on-write and a worker that dies is replaced by a fresh fork in milliseconds.

    app = create_app(config)           # in the master: loads (or builds) every atlas once
    LatentdashGunicorn(app, config).run()

Each worker is a gthread worker (`config.server_threads` threads, keep-alive connections) and
decodes with one torch thread (post_fork), so N workers use N cores without oversubscribing
them. Ctrl-C stops the master and the workers; it ends as every command does (`interrupted`,
exit 130, raised as KeyboardInterrupt to the CLI runner).

`app.py` (`gunicorn app:server`) uses `require_atlases` instead: a gunicorn worker must not spend
its boot building an atlas (the worker timeout would kill it halfway), so there a missing atlas
is one line telling to run `latentdash precompute` first.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

from ..errors import LatentdashError

log = logging.getLogger(__name__)
# auto workers: one per core, at most this many. Memory is not what limits it: the models and
# atlases are shared copy-on-write, so a worker adds only its own heap (bench/bench_memory.py,
# the four shipped models: total PSS 686 MB with 1 worker, 695 MB with 2 (1.01x), 767 MB with 4
# (1.12x)). CPU is: a drag frame is a few ms of one core, so more workers than cores only queue,
# and on a big machine an uncapped default (64 cores: 64 workers, ~2 GB more) would buy nothing a
# classroom needs. `--workers N` goes above the cap when wanted.
MAX_AUTO_WORKERS = 4
WORKER_TIMEOUT_S = 60  # a request slower than this is a hung worker: killed and replaced
GRACEFUL_TIMEOUT_S = 5  # on Ctrl-C / SIGTERM: in-flight requests get this long to finish
KEEPALIVE_S = 5  # a student's drag loop reuses its connection between frames


def auto_workers(cores: int | None = None) -> int:
    """The default number of workers: one per core (the cores this process may use), capped."""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    return max(1, min(int(cores), MAX_AUTO_WORKERS))


def gunicorn_available() -> str | None:
    """None when gunicorn can serve here; else why not (one short reason for the notice)."""
    if not hasattr(os, "fork"):
        return "gunicorn needs os.fork, which this platform lacks"
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return "gunicorn is not installed"
    return None


def gunicorn_options(config) -> dict:
    """The gunicorn settings `latentdash serve` runs with."""
    return {
        "bind": [f"[{config.host}]:{config.port}" if ":" in config.host else f"{config.host}:{config.port}"],
        "workers": int(config.workers) or auto_workers(),
        "worker_class": "gthread",
        "threads": int(config.server_threads),
        "timeout": WORKER_TIMEOUT_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": KEEPALIVE_S,
        "accesslog": None,  # no line per request (30 students x 20 frames/s)
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "latentdash",
        "control_socket_disable": True,  # no control thread (or socket file) in the master
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }


def _post_fork(torch_threads: int):
    def post_fork(server, worker):
        """In each new worker: one torch thread per decode (torch's pool is per process and is
        not inherited by a fork)."""
        if torch_threads:
            import torch

            torch.set_num_threads(int(torch_threads))

    return post_fork


def _exit_now(code: int = 0) -> None:
    """End this worker process at once, after flushing its output. A forked worker's normal
    interpreter shutdown runs C++ static destructors of native thread pools (torch and friends)
    whose threads only ever existed in the master, and aborts ("terminate called after throwing
    an instance of 'std::system_error'", SIGABRT) or hangs until the graceful timeout; a read-only
    worker has nothing else to clean up."""
    logging.shutdown()
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:  # a closed stream: nothing to flush
            pass
    os._exit(code)


def _worker_exit(server, worker):
    """gunicorn's worker_exit hook (in the worker, on its way out): exit without the shutdown."""
    e = sys.exc_info()[1]
    code = 0
    if isinstance(e, SystemExit):
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    elif e is not None:
        code = 1
    _exit_now(code)


def exit_workers_fast() -> None:
    """For `gunicorn app:server` (no hooks of ours): the same fast exit, from atexit, in any
    gunicorn worker (the importing process when it is one, else its forks, with --preload)."""
    import atexit
    import traceback

    me = os.getpid()
    in_worker = any("gunicorn/workers" in f.filename.replace(os.sep, "/") for f in traceback.extract_stack())

    def fast_exit():
        if in_worker or os.getpid() != me:
            _exit_now(0)

    atexit.register(fast_exit)


def _load_gunicorn():
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    class _Arbiter(Arbiter):
        interrupted = False

        def handle_int(self):
            type(self).interrupted = True
            super().handle_int()

    class _App(BaseApplication):
        def __init__(self, wsgi, options: dict):
            self._wsgi, self._options = wsgi, options
            super().__init__()

        def load_config(self):
            for k, v in self._options.items():
                if k in self.cfg.settings:  # e.g. control_socket_disable: only gunicorn >= 25 has it
                    self.cfg.set(k, v)

        def load(self):
            return self._wsgi

        def run(self):
            try:
                _Arbiter(self).run()
            except RuntimeError as e:
                raise LatentdashError(f"gunicorn could not start ({e})") from e

    return _App, _Arbiter


def run_gunicorn(app, config) -> None:
    """Serve the already-built Dash `app` with gunicorn until stopped. Ctrl-C (SIGINT) raises
    KeyboardInterrupt; SIGTERM (e.g. `docker stop`) returns normally after a graceful stop."""
    App, Arb = _load_gunicorn()
    options = gunicorn_options(config)
    options["post_fork"] = _post_fork(config.threads)
    options["worker_exit"] = _worker_exit
    # everything the master allocated so far (models, atlases, layout) is moved out of the cyclic
    # GC's generations: a collection in a worker then never writes to those objects' headers,
    # which would copy their pages into the worker (gunicorn's and CPython's advice for preforking)
    warm_up(app)
    gc.collect()
    gc.freeze()
    log.info("gunicorn: %d workers x %d threads on %s", options["workers"], options["threads"], options["bind"][0])
    try:
        App(app.server, options).run()
    except SystemExit as e:
        if Arb.interrupted:
            raise KeyboardInterrupt from None
        if e.code not in (0, None):
            raise LatentdashError(f"gunicorn stopped with status {e.code} (see the lines above)") from None
        return
    if Arb.interrupted:
        raise KeyboardInterrupt


def warm_up(app) -> None:
    """Render the page once in this process before forking. Dash fills its registry of the
    script paths it may serve (`registered_paths`) while it renders the index, and refuses (500)
    a script it has not registered. A worker that has not rendered the page yet, asked for a script
    by a page another worker rendered, served 500s (or, racing its own first render in another
    thread, some of them): the page then stayed at "Loading..." (tests/test_faults.py, 1 run in 3).
    Rendered in the master, every worker starts with the full registry (and Dash's first-request
    setup already done)."""
    prefix = app.config.routes_pathname_prefix or "/"
    r = app.server.test_client().get(prefix, headers={"Accept-Encoding": "identity"})
    if r.status_code != 200:
        raise LatentdashError(f"the page did not render before the workers started (HTTP {r.status_code})")


# --------------------------------------------------------------------------- gunicorn app:server
def under_gunicorn() -> bool:
    """True when this process was started by gunicorn's command line (`gunicorn app:server`)."""
    return "gunicorn.arbiter" in sys.modules and "gunicorn" in os.path.basename(
        os.path.dirname(sys.argv[0]) if sys.argv[0].endswith("__main__.py") else sys.argv[0]
    )


def missing_atlases(config) -> list[str]:
    """The served models whose atlas is neither shipped nor in the cache (nothing is built)."""
    from pathlib import Path

    from ..atlas import shipped_atlas_for
    from ..atlas.build import artifact_path, atlas_key
    from ..data import load_dataset
    from ..models import load_model
    from .app_factory import model_name

    dataset = load_dataset(config.dataset, data_root=config.data_root)
    params = config.atlas_params()
    missing, taken = [], set()
    for spec in config.checkpoint_list():
        model = load_model(spec)
        name = model_name(spec, taken)
        taken.add(name)
        cp = Path(spec) if Path(spec).is_file() else None
        if shipped_atlas_for(model, dataset, params, cp) is not None:
            continue
        key, _ = atlas_key(model, dataset, params, cp)
        if not artifact_path(key, config.cache_dir).is_file():
            missing.append(spec)
    return missing


def require_atlases(config) -> None:
    """Raise a one-line LatentdashError when a served model has no atlas yet."""
    missing = missing_atlases(config)
    if missing:
        flags = " ".join(f"--checkpoint {m}" for m in missing)
        flags += f" --dataset {config.dataset} --methods {','.join(config.methods)}"
        flags += f" --dims {','.join(str(d) for d in config.dims)}"
        flags += f" --limit {config.limit}" if config.limit else ""
        flags += f" --cache-dir {config.cache_dir}" if config.cache_dir else ""
        raise LatentdashError(
            f"no atlas for {', '.join(missing)} on {config.dataset} yet, and a gunicorn worker does not "
            f"build one; run `latentdash precompute {flags}` first (or start `latentdash serve`, which "
            "builds it before forking)"
        )
