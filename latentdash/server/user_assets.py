"""The user's own CSS/JS (Dash's `assets/` convention) next to the package's own assets.

Dash serves one `assets_folder` (ours, latentdash/assets/). A second folder — `--assets DIR`
(LATENTDASH_ASSETS), else `./assets` when it exists — is served at `<prefix>user-assets/<file>`
by a Flask static route (werkzeug's safe_join: nothing outside the folder) and linked in the
page's index right after Dash's own tags: its `.css` after our stylesheets, its `.js` after our
scripts and before the renderer starts, so a teacher's rules win over ours. Files are found as
Dash finds assets (sorted, sub-folders included; a folder named `vendor` is served but not
linked, like our own `assets_path_ignore=["vendor"]`), once at start, each linked with a
`?m=<mtime>` fingerprint (cached for a year; a changed file gets a new URL on the next start).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from flask import abort, send_from_directory

from ..errors import LatentdashError

IGNORE_DIRS = [re.compile("vendor")]  # served, not linked (loaded on demand by the user's own JS)


def resolve_assets_dir(config) -> Path | None:
    """The user's assets folder: --assets DIR (must exist), else ./assets when it is a folder."""
    if config.assets_dir:
        p = Path(config.assets_dir).expanduser()
        if not p.is_dir():
            raise LatentdashError(f"--assets {config.assets_dir}: no such folder; pass a folder of CSS/JS files")
        return p.resolve()
    p = Path.cwd() / "assets"
    return p.resolve() if p.is_dir() else None


def walk(folder: Path) -> list[str]:
    """The .css and .js files to link, as paths relative to `folder` ('/'-separated), in Dash's
    order: folders sorted, files sorted within each; hidden files and ignored folders skipped."""
    out = []
    for current, dirs, files in sorted(os.walk(folder)):
        dirs.sort()
        rel = Path(current).relative_to(folder)
        if any(part.startswith(".") or any(r.search(part) for r in IGNORE_DIRS) for part in rel.parts):
            continue
        for f in sorted(files):
            if f.startswith(".") or not f.endswith((".css", ".js")):
                continue
            out.append("/".join((*rel.parts, f)))
    return out


def install(app, config) -> Path | None:
    """Serve and link the user's assets folder, if there is one; returns it."""
    folder = resolve_assets_dir(config)
    if folder is None:
        return None
    prefix = app.config.requests_pathname_prefix or "/"
    route = (app.config.routes_pathname_prefix or "/") + "user-assets/<path:filename>"

    def user_asset(filename):
        if any(part.startswith(".") for part in filename.split("/")):
            abort(404)
        return send_from_directory(folder, filename, max_age=None)

    app.server.add_url_rule(route, "latentdash_user_assets", user_asset)
    css, js = [], []
    for rel in walk(folder):
        mtime = int((folder / rel).stat().st_mtime)
        url = html.escape(f"{prefix}user-assets/{rel}?m={mtime}", quote=True)
        if rel.endswith(".css"):
            css.append(f'<link rel="stylesheet" href="{url}">')
        else:
            js.append(f'<script src="{url}"></script>')
    index = app.index_string
    if css:
        index = index.replace("{%css%}", "{%css%}\n" + "\n".join(css), 1)
    if js:
        index = index.replace("{%scripts%}", "{%scripts%}\n" + "\n".join(js), 1)
    app.index_string = index
    return folder
