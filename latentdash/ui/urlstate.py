"""The view state's defaults, its split into dcc.Stores and its URL form, all read off the schema
(schema.py). A link restores the view in another browser:

    ?model=fashion-vae-16&map=latent-umap-2d&color=class&sel=12&a=3&b=40&steps=8&mode=linear
     &basis=pcs&z=0.12,-1.3,...&cam=x0,x1,y0,y1   (3-D: eye xyz, center xyz, up xyz)
     &selection=0-99,140

Parsing never raises: each bad or tampered parameter is dropped (its default is used) and named
in the returned list of problems.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from .schema import (  # noqa: F401
    DEFAULT_STEPS,
    MAX_QUERY,
    MAX_STEPS,
    MIN_STEPS,
    SCHEMA,
    STORES,
    KeptInBrowser,
    check_group_name,
)

_BAD = (ValueError, TypeError, KeyError, IndexError)
BROWSER_KEPT = "selection"  # the store kept in local storage (schema.BROWSER_STORES)


def _indices(v, n: int) -> list[int]:
    if not isinstance(v, list) or not v or not all(isinstance(i, int) and 0 <= i < n for i in v):
        raise ValueError("indices")
    return sorted(set(v))


def _kept_value(key: str, kept, view):
    """The browser's stored copy of a value the link could not carry (checked like a URL value)."""
    if not isinstance(kept, dict) or kept.get("model") != view.name or kept.get(key) is None:
        raise ValueError(key)
    v = kept[key]
    if key == "selection":
        return _indices(v, view.n)
    if key == "groups" and isinstance(v, dict):
        return {check_group_name(name): _indices(idx, view.n) for name, idx in v.items()}
    raise ValueError(key)


def _fill(view, given: dict, problems: list | None = None, kept=None) -> dict:
    """Walk the schema in order: each key takes its decoded URL value when one is given and
    valid, else its default for the keys above it. A value the link marks as kept in the browser
    (schema.KEPT) comes from `kept`, the browser's stored copy, when it has one."""
    state = {"model": view.name}
    for field in SCHEMA[1:]:
        if field.param is not None and field.param in given:
            try:
                state[field.key] = field.decode(given[field.param], view, state)
                continue
            except KeptInBrowser:
                try:
                    state[field.key] = _kept_value(field.key, kept, view)
                    continue
                except _BAD:
                    if problems is not None:
                        problems.append(f"{field.param} (too large for a link: only the browser that made it has it)")
            except _BAD:
                if problems is not None:
                    problems.append(field.param)
        state[field.key] = field.default(view, state)
    return state


def default_state(catalog, model: str | None = None) -> dict:
    view = catalog.get(model) or catalog.get(catalog.default)
    return _fill(view, {})


def split(state: dict) -> dict:
    """State -> {store name: its part of the state}."""
    return {store: {k: state.get(k) for k in keys} for store, keys in STORES.items()}


def merge(*parts) -> dict:
    out = {}
    for p in parts:
        if isinstance(p, dict):
            out.update(p)
    return out


def serialize(state: dict, catalog) -> str:
    """State -> '?query' (only what differs from what the rest of the state implies)."""
    view = catalog.get(state.get("model"))
    q = {}
    for field in SCHEMA:
        if field.param is None or (view is None and field.key not in ("model", "map")):
            continue
        text = state.get(field.key) if view is None else field.encode(state.get(field.key), state, view)
        if text is not None:
            q[field.param] = text
    return "?" + urlencode(q, safe=",:")


def parse(search, catalog, kept=None) -> tuple[dict, list[str]]:
    """'?query' -> (state, problems). Unknown keys are ignored; bad values fall back to defaults.
    `kept`: the browser's stored copy of the parts too large for a link (schema.BROWSER_STORES)."""
    if not isinstance(search, str) or len(search) > MAX_QUERY:
        return default_state(catalog), (["url"] if search else [])
    try:
        q = {k: v[-1] for k, v in parse_qs(search.lstrip("?"), keep_blank_values=False).items()}
    except ValueError:
        return default_state(catalog), ["url"]
    problems: list[str] = []
    view = catalog.get(q.get("model"))
    if "model" in q and view is None:
        problems.append("model")
    state = _fill(view or catalog.get(catalog.default), q, problems, kept)
    return state, problems
