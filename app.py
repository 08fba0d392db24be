"""The latentdash Explorer as a WSGI app.

    python app.py [--checkpoint PATH ... --dataset ID --host H --port P]   serve (same flags as
                                                                            `latentdash serve`)
    gunicorn --preload -k gthread app:server                               settings from
                                                                            LATENTDASH_* variables
`app` (dash.Dash) and `server` (its Flask instance) are module attributes for WSGI servers.

Under gunicorn nothing is built: a model without a shipped or cached atlas is refused with one
line telling to run `latentdash precompute` first (a worker building an atlas in its boot would
be killed by gunicorn's timeout). Elsewhere (`python app.py`, waitress-serve, a notebook) a
missing atlas is built first, as by `latentdash serve`. With --preload the models and atlases
are loaded once, before the workers fork, and shared by them.
"""

import sys

if __name__ == "__main__":
    from latentdash.server.cli import main

    sys.exit(main())

from latentdash.server.app_factory import create_app  # noqa: E402
from latentdash.server.config import from_env  # noqa: E402
from latentdash.server.gunicorn_app import exit_workers_fast, require_atlases, under_gunicorn, warm_up  # noqa: E402

if under_gunicorn():
    from latentdash._cli_runner import setup_logging
    from latentdash.errors import LatentdashError

    setup_logging()
    try:
        config = from_env()
        require_atlases(config)
        app = create_app(config)
        warm_up(app)  # with --preload: once, before the workers fork (gunicorn_app.warm_up)
    except LatentdashError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(3)  # gunicorn's "worker failed to boot": the master stops instead of respawning
    exit_workers_fast()  # a worker's interpreter shutdown would abort in torch's thread pools
else:
    app = create_app(from_env())
server = app.server
