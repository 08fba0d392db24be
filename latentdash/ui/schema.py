"""The per-user view state, declared once: each key with its default, the dcc.Store(s) it lives in,
its URL parameter and codec, and its validation.

The state is one flat dict (handlers work on it); the page keeps it in a few stores so each render
callback wakes only for what it draws (`model` rides along in several stores, so each of them
depends on one store only). The URL carries all of it, so a link restores the view in another
browser (urlstate.py turns this schema into `serialize` / `parse`).

Fields are listed in dependency order: a default or a decoder may read the keys above it (the
slider vector `z` defaults to the selected point's code; a camera is read for the map's
dimensionality). Adding a key is one `Field` here; docs/architecture.md walks through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import algebra
from ..atlas.params import MapName
from ..latent_ops import MODES
from . import upload
from .catalog import BASES

MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 2, 32, 8
MAX_QUERY = 8000  # longer queries are not parsed at all
MAX_SELECTION_PARAM = 2000  # a selection whose index ranges are longer stays out of the link
KEPT = "~"  # URL value: "too large for the link; kept in the browser that made it" (see KeptInBrowser)
GROUP_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.")
MAX_GROUP_NAME, MAX_GROUPS = 24, 8
TRAV_ROWS = ("var", "pcs", "attr")  # traversal rows: top dims by variance, principal directions, attribute vectors
DEFAULT_TRAV = {"trows": "var", "tn": 8, "tcols": 9, "tk": 2.0, "tsort": False}
DEFAULT_PRIOR = {"pn": 16, "pseed": 0, "ptemp": 1.0}


class KeptInBrowser(Exception):
    """A URL value that says: this part of the view was too large for the link; the browser
    that made the link keeps it (its local storage). _fill then takes the browser's copy."""


@dataclass(frozen=True)
class Field:
    """One state key.

    default(view, state) -> value for a model view, given the keys declared above it.
    param: its URL parameter (None: not carried by the URL).
    encode(value, state, view) -> text for the URL, or None to leave it out (the default implies it).
    decode(text, view, state) -> value; raises ValueError (or TypeError/KeyError/IndexError) on a bad
    or tampered value, which then falls back to the default and is named to the user.
    """

    key: str
    stores: tuple[str, ...]
    default: Callable[[Any, dict], Any]
    param: str | None = None
    encode: Callable[[Any, dict, Any], str | None] | None = None
    decode: Callable[[str, Any, dict], Any] | None = None


# ----------------------------------------------------------------------------- codecs
def number_text(v: float) -> str:
    return f"{v:.5g}"


def floats(text: str, n: int | None = None) -> list[float]:
    vals = [float(s) for s in text.split(",")]
    if (n is not None and len(vals) != n) or not all(math.isfinite(v) and abs(v) <= 1e6 for v in vals):
        raise ValueError(text)
    return vals


def one_of(text: str, options) -> str:
    if text not in options:
        raise ValueError(text)
    return text


def index_in(text: str, n: int) -> int:
    i = int(text)
    if not 0 <= i < n:
        raise ValueError(text)
    return i


def steps_in_range(text: str) -> int:
    k = int(text)
    if not MIN_STEPS <= k <= MAX_STEPS:
        raise ValueError(text)
    return k


def latent_of(view, i: int) -> list[float]:
    """Dataset item i's latent code as a JSON-able list."""
    return [float(v) for v in np.asarray(view.explorer.latents[int(i)], np.float32)]


def implied_z(view, state: dict) -> list[float]:
    """The slider vector a state implies without a `z` of its own: the selected point's code, or
    the mean code when nothing is selected."""
    sel = state.get("sel")
    return latent_of(view, sel) if sel is not None else [float(v) for v in view.lat_mean]


def encode_z(z, state, view):
    if z is None:
        return None
    if np.max(np.abs(np.asarray(z, np.float32) - np.asarray(implied_z(view, state), np.float32))) <= 1e-4:
        return None
    return ",".join(number_text(float(v)) for v in z)


def encode_camera(cam, state, view):
    if not isinstance(cam, dict):
        return None
    if "x" in cam:
        return ",".join(number_text(v) for v in (*cam["x"], *cam["y"]))
    if "eye" in cam:
        return ",".join(number_text(cam[p][a]) for p in ("eye", "center", "up") for a in "xyz")
    return None


def parse_camera(text: str, dims: int):
    if dims == 2:
        x0, x1, y0, y1 = floats(text, 4)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(text)
        return {"x": [x0, x1], "y": [y0, y1]}
    v = floats(text, 9)
    return {p: dict(zip("xyz", v[3 * k : 3 * k + 3])) for k, p in enumerate(("eye", "center", "up"))}


def index_ranges(indices) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8' (sorted, unique; vectorised: selections are large)."""
    idx = np.unique(np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices, np.int64))
    if idx.size == 0:
        return ""
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.concatenate([idx[:1], idx[breaks + 1]]).tolist()
    ends = np.concatenate([idx[breaks], idx[-1:]]).tolist()
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts, ends))


def parse_index_ranges(text: str, n: int) -> list[int]:
    """'0-2,5' -> [0, 1, 2, 5]; ValueError for anything out of 0..n-1, reversed or malformed."""
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi) if hi else int(lo)
        if not 0 <= a <= b < n:
            raise ValueError(part)
        out.update(range(a, b + 1))
    if not out:
        raise ValueError(text)
    return sorted(out)


def encode_selection(sel, state, view):
    if not sel:
        return None
    text = index_ranges(sel)
    return text if len(text) <= MAX_SELECTION_PARAM else KEPT


def decode_selection(text, view, state):
    if text == KEPT:
        raise KeptInBrowser
    return parse_index_ranges(text, view.n)


def selection_fits_url(sel) -> bool:
    return not sel or len(index_ranges(sel)) <= MAX_SELECTION_PARAM


def check_group_name(name) -> str:
    """A group name: 1-24 letters, digits, spaces, '_', '-' or '.' (safe in a link)."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_GROUP_NAME or set(name) - GROUP_NAME_CHARS:
        raise ValueError(f"group name {name!r}: use 1-{MAX_GROUP_NAME} letters, digits, spaces, '_', '-' or '.'")
    return name.strip()


def encode_groups(groups, state, view):
    if not groups:
        return None
    parts = [f"{name}:{index_ranges(idx)}" for name, idx in groups.items()]
    text = ";".join(parts)
    return text if len(text) <= MAX_SELECTION_PARAM else KEPT


def decode_groups(text, view, state):
    if text == KEPT:
        raise KeptInBrowser
    out = {}
    for part in text.split(";"):
        name, _, ranges = part.partition(":")
        out[check_group_name(name)] = parse_index_ranges(ranges, view.n)
    if len(out) > MAX_GROUPS:
        raise ValueError(text)
    return out


def group_ref(ref: str, view, state) -> str:
    """A group in a direction: 'c<label>' (a class), 'g:<name>' (a named group), 'sel' (the
    current selection) or 'all' (every point)."""
    if ref in ("sel", "all"):
        return ref
    if ref.startswith("c") and ref[1:].lstrip("-").isdigit() and int(ref[1:]) in view.class_of_trace:
        return ref
    if ref.startswith("g:") and ref[2:] in (state.get("groups") or {}):
        return ref
    raise ValueError(ref)


def parse_direction(text: str, view, state) -> str:
    """'c7>c9' (group -> group), 'pc0' (a principal direction), 'dim3' (one latent dimension)."""
    if ">" in text:
        a, _, b = text.partition(">")
        return f"{group_ref(a, view, state)}>{group_ref(b, view, state)}"
    for prefix, n in (("pc", len(view.explorer.latent_pcs[1])), ("dim", view.d)):
        if text.startswith(prefix) and text[len(prefix) :].isdigit() and int(text[len(prefix) :]) < n:
            return text
    raise ValueError(text)


def encode_operand(op, state, view):
    if not isinstance(op, dict):
        return None
    if "i" in op:
        return str(int(op["i"]))
    return "z" + ",".join(number_text(float(v)) for v in op["z"])


def decode_operand(text, view, state):
    if text.startswith("z"):
        return {"z": floats(text[1:], view.d)}
    return {"i": index_in(text, view.n)}


def int_in(lo: int, hi: int):
    def dec(text, view, state):
        k = int(text)
        if not lo <= k <= hi:
            raise ValueError(text)
        return k

    return dec


def float_in(lo: float, hi: float):
    def dec(text, view, state):
        (v,) = floats(text, 1)
        if not lo <= v <= hi:
            raise ValueError(text)
        return v

    return dec


def flag(text, view, state) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


def _when(key):
    """Encode a value only while a panel is on (state[key] true): its settings ride along."""
    return lambda v, s, view: (
        (number_text(v) if isinstance(v, float) else str(int(v) if isinstance(v, bool) else v)) if s.get(key) else None
    )


def setting(key, store, on, default, param, decode) -> Field:
    return Field(key, (store,), lambda view, s: default, param, _when(on), decode)


def _interp_set(state) -> bool:
    return state.get("a") is not None or state.get("b") is not None or state.get("steps") != DEFAULT_STEPS


def index_field(key: str, store: str, default) -> Field:
    """A dataset index (the inspected point, an endpoint), carried by the URL as its number."""
    return Field(
        key,
        (store,),
        lambda view, s: default,
        key,
        lambda v, s, view: None if v is None else str(int(v)),
        lambda t, view, s: index_in(t, view.n),
    )


def _anywhere():
    from . import anywhere  # ui/anywhere.py imports this module: imported on first use

    return anywhere


# ----------------------------------------------------------------------------- the schema
# Stores the state is split into (each becomes the dcc.Store `st-<name>`, see ids.STORE_OF).
STORE_NAMES = ("map", "sel", "interp", "z", "cam", "selection", "attr", "arith", "trav", "prior", "upload")
# stores kept in the browser's local storage (they survive a reload even when too large for the link)
BROWSER_STORES = ("selection",)

SCHEMA: tuple[Field, ...] = (
    Field(
        "model",
        ("map", "sel", "interp", "z", "selection", "attr", "arith", "trav", "prior", "upload"),
        lambda view, s: view.name,
        "model",
        lambda v, s, view: v,
    ),  # decoded by urlstate.parse first: it picks the model view
    Field(
        "map",
        ("map",),
        lambda view, s: view.default_map(),
        "map",
        lambda v, s, view: v,
        lambda t, view, s: one_of(t, view.map_names),
    ),
    Field(
        "colour",
        ("map",),
        lambda view, s: view.colour_options[0],
        "color",
        lambda v, s, view: None if v in (None, view.colour_options[0]) else v,
        lambda t, view, s: one_of(t, view.colour_options),
    ),
    Field(
        "basis",
        ("map",),
        lambda view, s: "dims",
        "basis",
        lambda v, s, view: None if v in (None, "dims") else v,
        lambda t, view, s: one_of(t, BASES),
    ),
    Field("rev", ("map",), lambda view, s: 0),  # bumped when a link is opened: a fresh figure
    index_field("sel", "sel", 0),
    index_field("a", "interp", None),
    index_field("b", "interp", None),
    Field(
        "steps",
        ("interp",),
        lambda view, s: DEFAULT_STEPS,
        "steps",
        lambda v, s, view: str(int(v or DEFAULT_STEPS)) if _interp_set(s) else None,
        lambda t, view, s: steps_in_range(t),
    ),
    Field(
        "mode",
        ("interp",),
        lambda view, s: "linear",
        "mode",
        lambda v, s, view: (v or "linear") if _interp_set(s) else None,
        lambda t, view, s: one_of(t, MODES),
    ),
    Field("z", ("z",), lambda view, s: implied_z(view, s), "z", encode_z, lambda t, view, s: floats(t, view.d)),
    Field(
        "cam",
        ("cam",),
        lambda view, s: None,
        "cam",
        encode_camera,
        lambda t, view, s: parse_camera(t, MapName.parse(s["map"]).dims),
    ),
    Field(
        "selection",
        ("selection",),
        lambda view, s: None,
        "selection",
        encode_selection,
        decode_selection,
    ),
    # the map already shows the selection (plotly drew its own box/lasso): no patch to send
    Field("seldrawn", ("selection",), lambda view, s: False),
    Field("groups", ("selection",), lambda view, s: None, "groups", encode_groups, decode_groups),
    Field(
        "gpage",
        ("selection",),
        lambda view, s: 0,
        "gpage",
        lambda v, s, view: str(int(v)) if v else None,
        int_in(0, 10_000),
    ),
    # attribute vector: its direction (groups, principal direction or dimension) and strength
    Field(
        "dir",
        ("attr",),
        lambda view, s: None,
        "dir",
        lambda v, s, view: v,
        lambda t, view, s: parse_direction(t, view, s),
    ),
    Field(
        "strength",
        ("attr",),
        lambda view, s: 1.0,
        "strength",
        lambda v, s, view: number_text(v) if s.get("dir") and v != 1.0 else None,
        float_in(-algebra.MAX_STRENGTH, algebra.MAX_STRENGTH),
    ),
    # arithmetic A - B + C: each operand a dataset item {"i"} or a vector {"z"}
    *(Field(k, ("arith",), lambda view, s: None, k, encode_operand, decode_operand) for k in ("arA", "arB", "arC")),
    # traversal grid (on/off, rows, number of rows and columns, range in sigmas, sorted by score)
    Field("ton", ("trav",), lambda view, s: False, "trav", lambda v, s, view: "1" if v else None, flag),
    Field(
        "trows",
        ("trav",),
        lambda view, s: DEFAULT_TRAV["trows"],
        "trows",
        _when("ton"),
        lambda t, view, s: one_of(t, TRAV_ROWS),
    ),
    setting("tn", "trav", "ton", DEFAULT_TRAV["tn"], "tn", int_in(1, algebra.MAX_ROWS)),
    setting("tcols", "trav", "ton", DEFAULT_TRAV["tcols"], "tcols", int_in(algebra.MIN_COLS, algebra.MAX_COLS)),
    setting("tk", "trav", "ton", DEFAULT_TRAV["tk"], "tk", float_in(algebra.MIN_RANGE, algebra.MAX_RANGE)),
    setting("tsort", "trav", "ton", DEFAULT_TRAV["tsort"], "tsort", flag),
    # prior samples (on/off, how many, seed, temperature)
    Field("pon", ("prior",), lambda view, s: False, "prior", lambda v, s, view: "1" if v else None, flag),
    setting("pn", "prior", "pon", DEFAULT_PRIOR["pn"], "pn", int_in(algebra.MIN_PRIOR, algebra.MAX_PRIOR)),
    setting("pseed", "prior", "pon", DEFAULT_PRIOR["pseed"], "pseed", int_in(0, 2**31 - 1)),
    setting("ptemp", "prior", "pon", DEFAULT_PRIOR["ptemp"], "ptemp", float_in(0.0, algebra.MAX_TEMPERATURE)),
    # semantic map: region labels on the 2-D map (ui/analysis.py)
    Field("rlabels", ("map",), lambda view, s: False, "regions", lambda v, s, view: "1" if v else None, flag),
    # your image (ui/upload.py): the converted model input as a PNG data URI (the link carries it
    # as base64url when it is small enough)
    Field("upimg", ("upload",), lambda view, s: None, "img", upload.encode_param, upload.decode_param),
    # decode anywhere (ui/anywhere.py): the decoded 2-D map position, and the manifold grid toggle
    Field(
        "anyat",
        ("map",),
        lambda view, s: None,
        "at",
        lambda v, s, view: _anywhere().encode_at(v, s, view),
        lambda t, view, s: _anywhere().decode_at(t, view, s),
    ),
    Field("grid", ("map",), lambda view, s: False, "grid", lambda v, s, view: "1" if v else None, flag),
)
FIELDS = {f.key: f for f in SCHEMA}
STORES: dict[str, tuple[str, ...]] = {name: tuple(f.key for f in SCHEMA if name in f.stores) for name in STORE_NAMES}
assert all(set(f.stores) <= set(STORE_NAMES) for f in SCHEMA), "a field names an unknown store"
