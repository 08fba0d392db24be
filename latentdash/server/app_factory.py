"""create_app(config) -> dash.Dash: load every Explorer once, then build the page around them.

Explorers are built before the app exists (a missing atlas is built first, with progress bars in
the terminal); after that the server holds only read-only data and all per-user state lives in
the browser, so the app runs the same under `python app.py`, `latentdash serve` or gunicorn.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import dash

from .._cli_runner import STATUS_LOGGER
from ..errors import LatentdashError
from ..ui import callbacks
from ..ui.catalog import Catalog
from ..ui.layout import build_layout
from .api import register_api
from .config import ServeConfig
from .routes import marks_start, register_routes

status = logging.getLogger(STATUS_LOGGER)  # "preparing <model> on <dataset> ...", shown by the CLI
ASSETS = Path(__file__).resolve().parents[1] / "assets"


# Dash loads @babel/polyfill (core-js 2 + regenerator, ~100 kB, ~150 ms of script on a first
# visit here) before anything else. Browsers that already have what core-js 2 adds only need the
# regenerator runtime (Dash's renderer and dcc call regeneratorRuntime); others still get the
# full polyfill, written in place so that it runs before the scripts after it, as before.
_POLYFILL_TAG = re.compile(r'<script src="([^"]*/polyfill@[^"]*)"></script>')
_NEEDS_POLYFILL = (
    "!(window.Promise && Promise.prototype.finally && Object.entries && "
    "Object.getOwnPropertyDescriptors && Array.prototype.includes && "
    "Array.prototype.flatMap && String.prototype.padStart && window.Symbol && "
    "Symbol.asyncIterator && window.fetch)"
)


class LatentdashDash(dash.Dash):
    def interpolate_index(self, **kwargs):
        scripts = kwargs.get("scripts", "")
        m = _POLYFILL_TAG.search(scripts)
        if m:
            runtime = self.get_asset_url("vendor/regenerator-runtime.js")
            swap = (
                f"<script>if ({_NEEDS_POLYFILL}) document.write("
                f"'<script src=\"{m.group(1)}\"><\\/script>');</script>\n"
                f'<script src="{runtime}"></script>'
            )
            kwargs["scripts"] = scripts[: m.start()] + swap + scripts[m.end() :]
        return super().interpolate_index(**kwargs)

    def callback(self, *args, **kwargs):
        """Dash's `app.callback`, with each function wrapped so that the request records that it
        started (routes.marks_start): the error handler tells a request Dash could not even
        dispatch (the client's mistake: 400) from a failure once our code ran (a bug: 500)."""
        register = super().callback(*args, **kwargs)

        def decorator(func):
            register(marks_start(func))
            return func

        return decorator


def model_name(spec: str, taken: set[str]) -> str:
    p = Path(spec)
    base = p.stem if (p.is_file() or p.suffix in (".pt", ".pth", ".ts")) else spec.replace(":", "-")
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


def load_explorers(config: ServeConfig, progress=True) -> list:
    """One Explorer per checkpoint on config.dataset: a shipped or cached atlas when one matches,
    else built now (progress bars in the terminal)."""
    from ..atlas import get_or_build_atlas, shipped_atlas_for
    from ..data import load_dataset
    from ..models import load_model
    from ..service import Explorer

    specs = config.checkpoint_list()
    dataset = load_dataset(config.dataset, data_root=config.data_root)  # fail fast: bad id or
    models = [(s, load_model(s)) for s in specs]  # bad checkpoint
    params = config.atlas_params()
    explorers, taken = [], set()
    for spec, model in models:
        name = model_name(spec, taken)
        taken.add(name)
        cp = Path(spec) if Path(spec).is_file() else None
        if progress:
            status.info("preparing %s on %s ...", name, dataset.id)
        atlas = shipped_atlas_for(model, dataset, params, cp) or get_or_build_atlas(
            model, dataset, params, cache_dir=config.cache_dir, checkpoint_path=cp, progress=progress
        )
        explorers.append(Explorer(model, atlas, name))
    if config.threads:  # atlases are built with every core; serving decodes one image per thread
        import torch

        torch.set_num_threads(int(config.threads))
    return explorers


def create_app(config: ServeConfig | None = None, explorers=None, progress=True) -> dash.Dash:
    """The Explorer app. Pass `explorers` to reuse already-built ones (tests, notebooks)."""
    config = config or ServeConfig()
    if explorers is None:
        explorers = load_explorers(config, progress=progress)
    if not explorers:
        raise LatentdashError("no models to serve")
    catalog = Catalog(explorers, max_sliders=config.max_sliders)
    from .jobs import setup_jobs

    jobs = setup_jobs(config, catalog)  # background jobs: manager, offered models, new-view discovery
    app = LatentdashDash(
        __name__,
        background_callback_manager=jobs.manager if jobs else None,
        assets_folder=str(ASSETS),
        title="latentdash Explorer",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        # assets/vendor/ holds our plotly.js bundle: served, but loaded on demand (assets/ld-2-plotly.js)
        assets_path_ignore=["vendor"],
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    prefix = app.config.requests_pathname_prefix or "/"
    catalog.url_prefix = prefix
    app.layout = build_layout(catalog, prefix=prefix)
    callbacks.register(app, catalog)
    register_routes(app.server, catalog, prefix=app.config.routes_pathname_prefix or "/")
    register_api(app.server, catalog, config, prefix=app.config.routes_pathname_prefix or "/")
    from . import security, user_assets

    user_assets.install(app, config)  # ./assets or --assets DIR: served and linked after ours
    security.secure(app, config)  # compression, cache lifetimes, CSP and headers, size limit
    from . import fastpath

    app.drag_fast_path = fastpath.install(app, catalog)  # drag frames without Dash's dispatch
    return app
