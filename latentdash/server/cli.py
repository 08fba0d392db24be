"""`latentdash serve` (and `python app.py`): flags -> ServeConfig -> create_app -> run.

The port is checked before any model or atlas is loaded, so a busy port fails in a second with
one line instead of after a long atlas build.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket

from .._cli_runner import STATUS_LOGGER, run_cli
from ..errors import LatentdashError
from .config import ServeConfig, from_env

status = logging.getLogger(STATUS_LOGGER)  # one-line notices next to "preparing ..." (stderr)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        action="append",
        dest="checkpoints",
        metavar="PATH",
        help="model to serve: a path, or a shipped checkpoint by name (fashion-vae-16); repeat for "
        "several, the first is shown first. Default: the four shipped checkpoints, fashion-vae-16 first",
    )
    p.add_argument("--dataset", default=None, help="dataset id (default fashion-mnist-test, bundled)")
    p.add_argument("--data-root", default=None, help="folder with dataset files")
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="TCP port (default 8050)")
    p.add_argument("--limit", type=int, default=None, help="map a stratified subset of N images")
    p.add_argument("--methods", default=None, help="atlas projections, e.g. pca,umap (default pca,tsne,umap)")
    p.add_argument("--dims", default=None, help="map dimensions: 2, 3 or 2,3 (default 2,3)")
    p.add_argument("--cache-dir", default=None, help="atlas cache folder")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per decode while serving (default 1; 0 = torch default)",
    )
    p.add_argument(
        "--server",
        default=None,
        help="HTTP server: gunicorn (default where fork exists: --workers processes sharing the "
        "loaded models), waitress (one threaded process; the fallback on Windows) or flask "
        "(Flask's development server; --debug uses it)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="gunicorn worker processes (default: one per core, capped)"
    )
    p.add_argument("--assets", dest="assets_dir", default=None, help="folder of your own CSS/JS (default ./assets)")
    p.add_argument(
        "--frame-ancestors", default=None, help="who may embed the page (CSP frame-ancestors; default 'self')"
    )
    p.add_argument("--admin-token", default=None, help="hosted mode: background jobs need this token")
    p.add_argument("--redis-url", default=None, help="run background jobs on Celery + Redis at this URL")
    p.add_argument(
        "--offer",
        action="append",
        metavar="PATH",
        default=None,
        help="a checkpoint whose atlas users may build from the page (a background job; repeatable)",
    )
    p.add_argument("--debug", action="store_true", default=None, help="Dash dev tools (local use only)")


def config_from_args(a) -> ServeConfig:
    def tup(v, typ=str):
        return None if v is None else tuple(typ(s) for s in str(v).split(",") if s.strip())

    try:
        dims = tup(a.dims, int)
    except ValueError as e:
        raise LatentdashError(f"--dims {a.dims!r} is not a list of numbers; use 2, 3 or 2,3") from e
    return from_env(
        checkpoints=tuple(a.checkpoints) if a.checkpoints else None,
        dataset=a.dataset,
        data_root=a.data_root,
        host=a.host,
        port=a.port,
        limit=a.limit,
        methods=tup(a.methods),
        dims=dims,
        cache_dir=a.cache_dir,
        threads=a.threads,
        debug=a.debug,
        server=getattr(a, "server", None),
        workers=getattr(a, "workers", None),
        assets_dir=getattr(a, "assets_dir", None),
        frame_ancestors=getattr(a, "frame_ancestors", None),
        admin_token=getattr(a, "admin_token", None),
        redis_url=getattr(a, "redis_url", None),
        offer=tuple(a.offer) if getattr(a, "offer", None) else None,
    )


def check_port(host: str, port: int) -> None:
    """Raise a one-line LatentdashError when (host, port) can't be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise LatentdashError(f"cannot resolve --host {host!r} ({e.strerror}); use 127.0.0.1 or 0.0.0.0") from e
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise LatentdashError(
                    f"port {port} on {host} is already in use; stop the other server or pass --port with a free port"
                ) from e
            raise LatentdashError(f"cannot listen on {host}:{port} ({e.strerror}); pick another --host/--port") from e


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


def serve(config: ServeConfig) -> int:
    """Build the app once (models, atlases), then serve it: gunicorn (config.workers processes
    forked from this one, sharing what was loaded) by default where fork exists, else waitress
    (one process, threaded) with a one-line notice; flask (the development server) on request
    or with --debug."""
    from .app_factory import create_app

    check_port(config.host, config.port)
    kind = "flask" if config.debug else config.server
    if kind == "gunicorn":
        from .gunicorn_app import gunicorn_available

        why_not = gunicorn_available()
        if why_not:
            notice = "%s; serving with waitress instead (one process, %d threads)"
            status.warning(notice, why_not, config.server_threads)
            kind = "waitress"
    app = create_app(config)
    url = url_for(config.host, config.port)
    print(f"latentdash Explorer running at {url}  (Ctrl+C to stop)", flush=True)
    if config.open_browser:
        import webbrowser

        webbrowser.open(url)
    if kind == "gunicorn":
        from .gunicorn_app import run_gunicorn

        run_gunicorn(app, config)  # Ctrl-C raises KeyboardInterrupt; SIGTERM returns
        return 0
    if kind == "flask":
        app.run(host=config.host, port=config.port, debug=config.debug, use_reloader=False, threaded=True)
    else:
        import waitress

        # waitress: a production WSGI server in this process (no fork, so torch and the loaded
        # atlases are shared by all threads); keep-alive connections, a fixed pool of worker threads
        waitress.serve(
            app.server,
            host=config.host,
            port=config.port,
            threads=config.server_threads,
            ident="latentdash",
            _quiet=True,
        )
    # Both servers return only once stopped, and both swallow the Ctrl-C that stops them; re-raise
    # it so that stopping the server ends like any interrupted command ("interrupted", exit 130).
    raise KeyboardInterrupt


def run(a) -> int:
    return serve(config_from_args(a))


def build_parser() -> argparse.ArgumentParser:
    """The parser of `python app.py`: the flags of `latentdash serve`, plus -v."""
    ap = argparse.ArgumentParser(prog="app.py", description="Serve the latentdash Explorer page.")
    add_arguments(ap)
    ap.add_argument("-v", "--verbose", action="store_true", help="log INFO messages too")
    ap.set_defaults(func=run)
    return ap


def main(argv=None) -> int:
    """`python app.py [flags]`: `latentdash serve` under another name (same runner: logging, one
    `error: ...` line and exit 2 for a user error, `interrupted` and exit 130 on Ctrl-C)."""
    return run_cli(build_parser(), argv)
