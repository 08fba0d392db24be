"""Latent algebra on the page: what the state's groups, directions, operands, traversal rows and
prior grid mean as vectors, and the pure handlers of their interactions (same contract as
handlers.py: change the state copy, return NO_CHANGE, or raise Reject with a short message).

Names used in the state and the URL:
  group refs   'c<label>' a class, 'g:<name>' a named group, 'sel' the current selection, 'all'
  directions   '<ref>><ref>' (mean of the second group minus mean of the first), 'pc<k>' the k-th
               principal direction of the codes, 'dim<k>' latent dimension k; a direction's unit
               of strength is its length (the difference of the means, or one sigma)
  operands     {"i": dataset index} or {"z": [latent vector]}
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .. import algebra as alg
from .. import latent_ops
from ..errors import LatentdashError
from .handlers import NO_CHANGE, Env, Reject, check_index, check_indices, select_point, state_z
from .schema import (
    DEFAULT_PRIOR,
    DEFAULT_TRAV,
    MAX_GROUPS,
    TRAV_ROWS,
    check_group_name,
    latent_of,
    parse_direction,
)

# classic attribute vectors offered as one-click presets when the data has these classes
PRESETS = (("Sneaker", "Ankle boot"), ("T-shirt/top", "Shirt"), ("Sandal", "Sneaker"))
MIN_GROUP = 2  # points a group needs to stand for an attribute


def _reject(e: Exception) -> Reject:
    return e if isinstance(e, Reject) else Reject(str(e))


# ----------------------------------------------------------------------------- groups
def group_indices(ref: str, view, state: dict) -> np.ndarray:
    if ref == "all":
        return np.arange(view.n)
    if ref == "sel":
        sel = state.get("selection")
        if not sel:
            raise Reject("the selection is empty; lasso or box-select points on a 2-D map first")
        return check_indices(sel, view)
    if ref.startswith("g:"):
        idx = (state.get("groups") or {}).get(ref[2:])
        if idx is None:
            raise Reject(f"there is no group named {ref[2:]!r}; save a selection under that name first")
        return np.asarray(idx, np.int64)
    if ref.startswith("c") and ref[1:].lstrip("-").isdigit():
        idx = view.class_of_trace.get(int(ref[1:]))
        if idx is not None:
            return idx
    raise Reject(f"unknown group {ref!r}")


def group_label(ref: str, view) -> str:
    if ref == "all":
        return "everything"
    if ref == "sel":
        return "the selection"
    if ref.startswith("g:"):
        return ref[2:]
    try:
        return view.explorer.class_name(int(ref[1:]))
    except ValueError:
        return ref


def class_ref(view, name: str) -> str | None:
    for label, tname in zip(view.trace_classes, view.trace_names):
        if tname == name:
            return f"c{label}"
    return None


def presets(view) -> list[dict]:
    out = []
    for a, b in PRESETS:
        ra, rb = class_ref(view, a), class_ref(view, b)
        if ra and rb:
            out.append({"spec": f"{ra}>{rb}", "label": f"{a.split('/')[0]} \u2192 {b}"})
    return out


# ----------------------------------------------------------------------------- directions
@dataclass(frozen=True)
class Direction:
    spec: str
    label: str
    v: np.ndarray  # strength 1 moves by v
    ends: tuple | None = None  # (mean A, mean B) for a direction between groups
    sizes: tuple | None = None  # (points in A, points in B)


def direction(view, state: dict, spec: str | None = None) -> Direction:
    spec = state.get("dir") if spec is None else spec
    if not spec:
        raise Reject("pick a direction first (two groups, a principal direction or a dimension)")
    lat = view.explorer.latents
    if spec.startswith("pc") and spec[2:].isdigit():
        k = int(spec[2:])
        _, comps, std = view.explorer.latent_pcs
        if k >= len(comps):
            raise Reject(f"principal direction {k + 1} does not exist; the codes have {len(comps)}")
        return Direction(spec, f"principal direction {k + 1}", np.asarray(comps[k] * std[k], np.float32))
    if spec.startswith("dim") and spec[3:].isdigit():
        k = int(spec[3:])
        if k >= view.d:
            raise Reject(f"latent dimension {k} does not exist; the model has {view.d}")
        v = np.zeros(view.d, np.float32)
        v[k] = view.lat_std[k]
        return Direction(spec, f"latent dimension z{k}", v)
    a, sep, b = spec.partition(">")
    if not sep:
        raise Reject(f"unknown direction {spec!r}")
    ia, ib = group_indices(a, view, state), group_indices(b, view, state)
    la, lb = group_label(a, view), group_label(b, view)
    for lab, idx in ((la, ia), (lb, ib)):
        if len(idx) < MIN_GROUP:
            raise Reject(
                f"group {lab!r} has {len(idx)} point{'s' if len(idx) != 1 else ''}; "
                f"an attribute needs at least {MIN_GROUP}: select more"
            )
    if a == b or (len(ia) == len(ib) and np.array_equal(np.sort(ia), np.sort(ib))):
        raise Reject(f"both groups are {la!r}: the direction between them has zero length; pick two different groups")
    try:
        v, ma, mb = alg.direction_between(lat, ia, ib, (la, lb))
    except LatentdashError as e:
        raise _reject(e) from None
    return Direction(spec, f"{la} \u2192 {lb}", v, (ma, mb), (len(ia), len(ib)))


def edited(view, state: dict) -> tuple[Direction, np.ndarray]:
    """The attribute edit: (direction, current vector + strength * direction)."""
    d = direction(view, state)
    try:
        return d, alg.apply_direction(state_z(view, state), d.v, state.get("strength", 1.0))
    except LatentdashError as e:
        raise _reject(e) from None


# ----------------------------------------------------------------------------- arithmetic
def operand_z(view, op, slot: str) -> np.ndarray:
    if not isinstance(op, dict):
        raise Reject(f"set {slot} first (its button puts the current vector there)")
    if "i" in op:
        return np.asarray(view.explorer.latents[check_index(op["i"], view, slot)], np.float32)
    try:
        return latent_ops.as_vector(op.get("z"), view.d, f"operand {slot}")
    except LatentdashError as e:
        raise _reject(e) from None


def current_operand(view, state: dict) -> dict:
    """The current vector as an operand: the inspected item when the sliders are on it."""
    z = state_z(view, state)
    sel = state.get("sel")
    if sel is not None and np.allclose(z, latent_of(view, sel), atol=1e-5):
        return {"i": int(sel)}
    return {"z": [round(float(v), 5) for v in z]}


def arithmetic(view, state: dict) -> np.ndarray:
    a, b, c = (operand_z(view, state.get(k), k[-1]) for k in ("arA", "arB", "arC"))
    try:
        return alg.arithmetic(a, b, c)
    except LatentdashError as e:
        raise _reject(e) from None


# ----------------------------------------------------------------------------- traversal
def check_trav(state: dict) -> tuple[str, int, int, float]:
    rows = state.get("trows", DEFAULT_TRAV["trows"])
    if rows not in TRAV_ROWS:
        raise Reject(f"unknown traversal rows {rows!r}; use {', '.join(TRAV_ROWS)}")
    try:
        n, cols, k = alg.check_grid(state.get("tn"), state.get("tcols"), state.get("tk"))
    except LatentdashError as e:
        raise _reject(e) from None
    return rows, n, cols, k


def attr_row_specs(view, state: dict) -> list[str]:
    """The attribute vectors a traversal can run along: the chosen direction (when it is one
    between groups), the presets, then each class and each named group against everything."""
    specs = []
    if state.get("dir") and ">" in state["dir"]:
        specs.append(state["dir"])
    specs += [p["spec"] for p in presets(view)]
    specs += [f"all>c{c}" for c in view.class_of_trace]
    specs += [f"all>g:{g}" for g in state.get("groups") or {}]
    return list(dict.fromkeys(specs))


def row_specs(view, state: dict) -> list[str]:
    rows, n, _, _ = check_trav(state)
    if rows == "var":
        return [f"dim{j}" for j in sorted(view.var_order[: min(n, view.d)])]  # the top n, in dimension order
    if rows == "pcs":
        return [f"pc{k}" for k in range(min(n, len(view.explorer.latent_pcs[1])))]
    specs = attr_row_specs(view, state)
    if not specs:
        raise Reject("no attribute vectors to traverse: the data has no classes; save groups or pick a direction")
    return specs[:n]


def row_axis(view, state: dict, spec: str) -> tuple[str, np.ndarray, float]:
    """(label, unit direction, sigma of the codes along it) of one traversal row."""
    d = direction(view, state, spec)
    if spec.startswith(("pc", "dim")):
        sigma = float(np.linalg.norm(d.v))
        label = f"z{spec[3:]}" if spec.startswith("dim") else f"PC{int(spec[2:]) + 1}"
        return label, d.v / sigma, sigma
    unit = d.v / float(np.linalg.norm(d.v))
    label = "\u2192 " + group_label(spec[4:], view) if spec.startswith("all>") else d.label
    return label, unit, alg.spread_along(view.explorer.latents, unit)


def traversal_cell(view, state: dict, spec: str, col: int) -> np.ndarray:
    _, _, cols, k = check_trav(state)
    if not 0 <= col < cols:
        raise Reject(f"column {col} is out of range 0..{cols - 1}")
    _, unit, sigma = row_axis(view, state, spec)
    return alg.traversal(state_z(view, state), unit[None], np.asarray([sigma]), cols, k)[0, col]


# ----------------------------------------------------------------------------- prior
def prior_samples(view, state: dict) -> np.ndarray:
    if not view.has_prior:
        raise Reject(f"{view.name} is an autoencoder without a prior to sample; pick a VAE or a generator")
    try:
        n, seed, t = alg.check_prior(state.get("pn"), state.get("pseed"), state.get("ptemp"))
        return alg.tempered(view.explorer.sample_prior(n, seed), view.prior_mean, t)
    except LatentdashError as e:
        raise _reject(e) from None


# ----------------------------------------------------------------------------- handlers
def _set_z(state, z):
    state["z"] = [float(v) for v in np.asarray(z, np.float32).reshape(-1)]


def on_select_class(state, value, env: Env):
    """ "Select this class": the selection becomes every point of one class."""
    if value is None or value == "":
        return NO_CHANGE
    try:
        idx = env.view.class_of_trace[int(value)]
    except (KeyError, TypeError, ValueError):
        raise Reject(f"unknown class {value!r}") from None
    state["selection"] = [int(i) for i in idx]
    state["gpage"], state["seldrawn"] = 0, False


def gallery_pages(state) -> int:
    return max(1, math.ceil(len(state.get("selection") or []) / GALLERY_PAGE))


GALLERY_PAGE = 64


def _page_turner(step: int):
    def on_gpage(state, value, env: Env):
        page = int(state.get("gpage") or 0) + step
        if not 0 <= page < gallery_pages(state):
            return NO_CHANGE
        state["gpage"] = page

    return on_gpage


on_gprev, on_gnext = _page_turner(-1), _page_turner(1)


def on_gallery(state, value, env: Env):
    select_point(state, env.view, check_index(value, env.view, "gallery image"))


def on_save_group(state, value, env: Env):
    sel = state.get("selection")
    if not sel:
        raise Reject("nothing to save: select points first (lasso, box or 'select class')")
    groups = dict(state.get("groups") or {})
    name = (value or "").strip() if isinstance(value, str) else ""
    if not name:
        name = next(f"group {k}" for k in range(1, MAX_GROUPS + 2) if f"group {k}" not in groups)
    try:
        name = check_group_name(name)
    except ValueError as e:
        raise Reject(str(e)) from None
    if name not in groups and len(groups) >= MAX_GROUPS:
        raise Reject(f"{MAX_GROUPS} groups are the most a view keeps; delete one first")
    groups[name] = list(sel)
    state["groups"] = groups


def on_use_group(state, value, env: Env):
    idx = (state.get("groups") or {}).get(value)
    if idx is None:
        raise Reject(f"there is no group named {value!r}")
    state["selection"] = list(idx)
    state["gpage"], state["seldrawn"] = 0, False


def on_drop_group(state, value, env: Env):
    groups = dict(state.get("groups") or {})
    if groups.pop(value, None) is None:
        return NO_CHANGE
    state["groups"] = groups or None
    if state.get("dir") and f"g:{value}" in state["dir"].split(">"):
        state["dir"] = None


def _set_direction(state, spec, env):
    try:
        spec = parse_direction(spec, env.view, state)
    except (ValueError, TypeError) as e:
        raise Reject(f"unknown direction {spec!r}") from e
    direction(env.view, state, spec)  # refuses an empty, one-point or zero-length direction
    if spec == state.get("dir"):
        return NO_CHANGE
    state["dir"] = spec


def on_direction(state, value, env: Env):
    """The direction controls: kind (groups | pc | dim), from and to groups, axis number."""
    if not isinstance(value, dict):
        raise Reject("direction choice is not an object")
    kind = value.get("kind")
    if kind == "groups":
        if not value.get("from") or not value.get("to"):
            return NO_CHANGE
        return _set_direction(state, f"{value['from']}>{value['to']}", env)
    if kind in ("pc", "dim"):
        axis = value.get("axis")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            axis = 0
        return _set_direction(state, f"{kind}{int(axis)}", env)
    raise Reject(f"unknown kind of direction {kind!r}")


def on_preset(state, value, env: Env):
    if not isinstance(value, str):
        raise Reject("preset carries no direction")
    _set_direction(state, value, env)
    state["strength"] = 1.0


def on_strength(state, value, env: Env):
    try:
        s = alg.check_strength(value)
    except LatentdashError as e:
        raise _reject(e) from None
    if s == state.get("strength"):
        return NO_CHANGE
    state["strength"] = s


def on_attr_apply(state, value, env: Env):
    _set_z(state, edited(env.view, state)[1])


def on_attr_strip(state, value, env: Env):
    d = direction(env.view, state)
    k = check_index(value, env.view, "strip image")
    if k >= len(alg.STRIP_STRENGTHS):
        raise Reject(f"strip image {k} is out of range")
    _set_z(state, alg.strength_strip(state_z(env.view, state), d.v)[k])


def on_arith_set(state, value, env: Env):
    if value not in ("a", "b", "c"):
        raise Reject(f"unknown operand {value!r}; use A, B or C")
    op = current_operand(env.view, state)
    key = "ar" + value.upper()
    if op == state.get(key):
        return NO_CHANGE
    state[key] = op


def on_arith_load(state, value, env: Env):
    _set_z(state, arithmetic(env.view, state))


def on_arith_clear(state, value, env: Env):
    if all(state.get(k) is None for k in ("arA", "arB", "arC")):
        return NO_CHANGE
    state.update(arA=None, arB=None, arC=None)


def _whole(v, what):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v != int(v):
        raise Reject(f"{what} must be a whole number, got {v!r}")
    return int(v)


def _number(v, what):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise Reject(f"{what} must be a finite number, got {v!r}")
    return float(v)


def on_trav(state, value, env: Env):
    """The traversal controls: on/off, rows, number of rows and columns, range, sort."""
    if not isinstance(value, dict):
        raise Reject("traversal settings are not an object")
    new = {
        "ton": bool(value.get("on")),
        "trows": value.get("rows"),
        "tn": _whole(value.get("n"), "number of rows"),
        "tcols": _whole(value.get("cols"), "number of columns"),
        "tk": _number(value.get("k"), "traversal range"),
        "tsort": bool(value.get("sort")),
    }
    check_trav(new)
    if all(state.get(k) == v for k, v in new.items()):
        return NO_CHANGE
    state.update(new)


def on_trav_cell(state, value, env: Env):
    spec, _, col = str(value).rpartition("|")
    try:
        col = int(col)
    except ValueError:
        raise Reject(f"traversal cell {value!r} carries no column") from None
    _set_z(state, traversal_cell(env.view, state, spec, col))


def on_prior(state, value, env: Env):
    """The prior grid's controls: on/off, number of samples, seed, temperature."""
    if not isinstance(value, dict):
        raise Reject("prior settings are not an object")
    new = {
        "pon": bool(value.get("on")),
        "pn": _whole(value.get("n"), "number of samples"),
        "pseed": _whole(value.get("seed"), "seed"),
        "ptemp": _number(value.get("temp"), "temperature"),
    }
    if new["pon"] and not env.view.has_prior:
        raise Reject(f"{env.view.name} is an autoencoder without a prior to sample; pick a VAE or a generator")
    try:
        alg.check_prior(new["pn"], new["pseed"], new["ptemp"])
    except LatentdashError as e:
        raise _reject(e) from None
    if all(state.get(k) == v for k, v in new.items()):
        return NO_CHANGE
    state.update(new)


def on_prior_roll(state, value, env: Env):
    if not env.view.has_prior:
        raise Reject(f"{env.view.name} is an autoencoder without a prior to sample; pick a VAE or a generator")
    state["pseed"] = (int(state.get("pseed") or 0) + 1) % 2**31
    state["pon"] = True
    for k, v in DEFAULT_PRIOR.items():
        state.setdefault(k, v)


def on_prior_cell(state, value, env: Env):
    samples = prior_samples(env.view, state)
    k = check_index(value, env.view, "prior sample")
    if k >= len(samples):
        raise Reject(f"prior sample {k} is out of range 0..{len(samples) - 1}")
    _set_z(state, samples[k])
