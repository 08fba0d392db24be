"""The registry of page events: which input fires each one, its pure handler (handlers.py),
whether it adds a browser-history entry or replaces the current one, and whether the latent
sliders follow the new state. `reduce` applies one event to the state; the other functions here
turn a reduce result into what the reducer callback writes (store diffs, controls, click mode).
callbacks.py only wires this registry to Dash; every function here is pure and tested directly.

Adding an interaction: one `Event` below (+ its handler in handlers.py, its control in layout.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..atlas.params import MapName
from ..errors import LatentdashError
from . import algebra as alg
from . import analysis as an
from . import anywhere as anyw
from . import handlers as h
from . import ids, urlstate
from . import upload_card as upc
from .handlers import NO_CHANGE, Env, Reject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """A component property that fires an event. `pattern`: the id is the `type` of pattern ids
    {"type": id, "index": ALL} (a list of buttons or sliders)."""

    id: str
    prop: str
    pattern: bool = False

    @property
    def key(self) -> str:
        """Its keyword in the reducer callback."""
        return f"{self.id}__{self.prop}".replace("-", "_")


@dataclass(frozen=True)
class Trigger:
    """What fired: the source, the fired property's value, the pattern index (pattern sources),
    and every reducer input's current value by Source.key (for events that read several)."""

    source: Source
    value: Any
    index: Any = None
    inputs: dict | None = None


@dataclass(frozen=True)
class Event:
    name: str
    sources: tuple[Source, ...]
    handler: Callable
    read: Callable[[Trigger], Any] = lambda t: t.value  # the handler's value
    reads: tuple[Source, ...] = ()  # other values it reads that fire nothing (the reducer's State)
    history: str = "push"  # "push": a history entry; "replace": the address bar only
    resync_sliders: bool = True  # move the latent sliders to the new state's vector
    button: bool = False  # fires only on a real click (n_clicks > 0)
    map_graph: bool = False  # from a map graph: only the graph on show speaks for the map


def _button(name, cid, handler, **kw) -> Event:
    return Event(name, (Source(cid, "n_clicks"),), handler, button=True, **kw)


def _pick(name, type_id, handler, **kw) -> Event:
    """A click on one of a list of buttons (pattern ids {"type": type_id, "index": ...}): the
    handler gets the clicked button's index."""
    return Event(name, (Source(type_id, "n_clicks", pattern=True),), handler, read=lambda t: t.index, button=True, **kw)


def _map_choice(t: Trigger) -> dict:
    return {
        k: t.inputs[Source(cid, "value").key]
        for k, cid in (("space", ids.SPACE), ("method", ids.METHOD), ("dims", ids.DIMS))
    }


def _values(mapping: dict):
    """An event that reads several controls at once: {name: that control's value}."""
    return lambda t: {k: t.inputs[Source(cid, "value").key] for k, cid in mapping.items()}


def _on(v) -> bool:
    return bool(v) and "on" in v  # a one-box dcc.Checklist: ["on"] or []


DIRECTION_CONTROLS = {"kind": ids.ATTR_KIND, "from": ids.ATTR_FROM, "to": ids.ATTR_TO, "axis": ids.ATTR_AXIS}
TRAV_CONTROLS = {
    "on": ids.TRAV_ON,
    "rows": ids.TRAV_ROWS,
    "n": ids.TRAV_N,
    "cols": ids.TRAV_COLS,
    "k": ids.TRAV_K,
    "sort": ids.TRAV_SORT,
}
PRIOR_CONTROLS = {"on": ids.PRIOR_ON, "n": ids.PRIOR_N, "seed": ids.PRIOR_SEED, "temp": ids.PRIOR_T}


def _checklists(read, keys):
    def run(t):
        v = read(t)
        return {**v, **{k: _on(v[k]) for k in keys}}

    return run


_GRAPHS = (ids.GRAPH, ids.GRAPH3)
EVENTS: tuple[Event, ...] = (
    Event("model", (Source(ids.MODEL, "value"),), h.on_model),
    Event(
        "map",
        tuple(Source(c, "value") for c in (ids.SPACE, ids.METHOD, ids.DIMS)),
        h.on_map,
        read=_map_choice,
        resync_sliders=False,
    ),
    Event("colour", (Source(ids.COLOUR, "value"),), h.on_colour, resync_sliders=False),
    Event("basis", (Source(ids.BASIS, "value"),), h.on_basis),
    Event("click", tuple(Source(g, "clickData") for g in _GRAPHS), h.on_click, map_graph=True),
    Event(
        "relayout",
        tuple(Source(g, "relayoutData") for g in _GRAPHS),
        h.on_relayout,
        history="replace",
        resync_sliders=False,
        map_graph=True,
    ),
    # a box/lasso selection, reduced to its indices in the page (assets/ld-3-map.js: latentdashLasso)
    Event("select", (Source(ids.ST_LASSO, "data"),), h.on_select, resync_sliders=False),
    _button("clear_selection", ids.BTN_CLEAR_SEL, h.on_clear_selection, resync_sliders=False),
    Event("select_class", (Source(ids.SEL_CLASS, "value"),), alg.on_select_class, resync_sliders=False),
    _button("gal_prev", ids.GAL_PREV, alg.on_gprev, resync_sliders=False),
    _button("gal_next", ids.GAL_NEXT, alg.on_gnext, resync_sliders=False),
    _pick("gallery", ids.GALLERY, alg.on_gallery),
    _button(
        "save_group",
        ids.BTN_SAVE_GROUP,
        alg.on_save_group,
        read=lambda t: t.inputs[Source(ids.GROUP_NAME, "value").key],
        reads=(Source(ids.GROUP_NAME, "value"),),
        resync_sliders=False,
    ),
    _pick("use_group", ids.GROUP_USE, alg.on_use_group, resync_sliders=False),
    _pick("drop_group", ids.GROUP_DEL, alg.on_drop_group, resync_sliders=False),
    Event(
        "direction",
        tuple(Source(c, "value") for c in DIRECTION_CONTROLS.values()),
        alg.on_direction,
        read=_values(DIRECTION_CONTROLS),
        resync_sliders=False,
    ),
    _pick("preset", ids.ATTR_PRESET, alg.on_preset, resync_sliders=False),
    Event("strength", (Source(ids.ATTR_STRENGTH, "value"),), alg.on_strength, resync_sliders=False),
    _button("attr_apply", ids.BTN_ATTR_APPLY, alg.on_attr_apply),
    _pick("attr_strip", ids.ATTR_STRIP_BTN, alg.on_attr_strip),
    _pick("arith_set", ids.ARITH_SET, alg.on_arith_set, resync_sliders=False),
    _button("arith_load", ids.BTN_ARITH_LOAD, alg.on_arith_load),
    _button("arith_clear", ids.BTN_ARITH_CLEAR, alg.on_arith_clear, resync_sliders=False),
    Event(
        "trav",
        tuple(Source(c, "value") for c in TRAV_CONTROLS.values()),
        alg.on_trav,
        read=_checklists(_values(TRAV_CONTROLS), ("on", "sort")),
        resync_sliders=False,
    ),
    _pick("trav_cell", ids.TRAV_CELL, alg.on_trav_cell),
    Event(
        "prior",
        tuple(Source(c, "value") for c in PRIOR_CONTROLS.values()),
        alg.on_prior,
        read=_checklists(_values(PRIOR_CONTROLS), ("on",)),
        resync_sliders=False,
    ),
    _button("prior_roll", ids.BTN_PRIOR_ROLL, alg.on_prior_roll, resync_sliders=False),
    _pick("prior_cell", ids.PRIOR_CELL, alg.on_prior_cell),
    _pick("nbr", ids.NBR, h.on_neighbour),
    _button("set_a", ids.BTN_A, h.on_set_a, resync_sliders=False),
    _button("set_b", ids.BTN_B, h.on_set_b, resync_sliders=False),
    _button("swap", ids.BTN_SWAP, h.on_swap, resync_sliders=False),
    Event("steps", (Source(ids.STEPS, "value"),), h.on_steps, resync_sliders=False),
    Event("mode", (Source(ids.MODE, "value"),), h.on_mode, resync_sliders=False),
    _button("reset", ids.BTN_RESET, h.on_reset),
    _button("random", ids.BTN_RANDOM, h.on_random, read=lambda t: None),
    _pick("step", ids.STEP, h.on_step),
    Event("sliders", (Source(ids.SLIDER, "value", pattern=True),), h.on_sliders, resync_sliders=False),
    Event("rlabels", (Source(ids.REGION_ON, "value"),), an.on_region_labels, resync_sliders=False),
    # your image (ui/upload_card.py): st-upin is written by the card's conversion callback
    Event("upload", (Source(ids.ST_UPIN, "data"),), upc.on_upload, resync_sliders=False),
    _pick("upload_use", ids.UP_USE, upc.on_upload_use, resync_sliders=False),
    _button("upload_load", ids.BTN_UP_LOAD, upc.on_upload_load),
    _button("upload_clear", ids.BTN_UP_CLEAR, upc.on_upload_clear, resync_sliders=False),
    _pick("upload_nbr", ids.UP_NBR, h.on_neighbour),
    # decode anywhere (ui/anywhere.py): st-anyclick is written by assets/ld-8-anywhere.js
    Event("anywhere", (Source(ids.ST_ANYCLICK, "data"),), anyw.on_anywhere),
    Event("grid", (Source(ids.GRID_ON, "value"),), anyw.on_grid, resync_sliders=False),
)
BY_NAME = {e.name: e for e in EVENTS}
BY_SOURCE = {(s.id, s.prop): e for e in EVENTS for s in e.sources}
SOURCES: tuple[Source, ...] = tuple(dict.fromkeys(s for e in EVENTS for s in e.sources))
READS: tuple[Source, ...] = tuple(dict.fromkeys(s for e in EVENTS for s in e.reads))
URL_SOURCE = Source(ids.URL, "search")
assert len(BY_SOURCE) == sum(len(e.sources) for e in EVENTS), "an input fires two events"


# ----------------------------------------------------------------------------- reduce
def _result(state=None, url=None, sliders=None, message=None) -> dict:
    return {"state": state, "url": url, "sliders": sliders, "message": message}


def _reduce_url(state, search, catalog, kept=None) -> dict:
    new, problems = urlstate.parse(search, catalog, kept)
    msg = None
    if problems:
        msg = "Ignored bad link parameter(s): " + ", ".join(problems)
        log.warning("url: ignored bad parameter(s) %s in %.200r", ", ".join(problems), search)
    if isinstance(state, dict) and all(new.get(k) == state.get(k) for k in new if k != "rev"):
        return _result(message=msg)
    new["rev"] = int(state.get("rev") or 0) + 1 if isinstance(state, dict) else 0
    return _result(new, None, h.slider_positions(new, catalog), msg)


def reduce(state: dict, event: str, value, catalog, click_mode: str = "inspect", kept=None) -> dict:
    """Apply one user event to the view state.

    Returns {"state": new state or None (unchanged), "url": "push" | "replace" | None,
             "sliders": slider positions for the new state or None, "message": str or None}.
    """
    if event == "url":  # kept: the browser's stored copy of what a link may not carry
        return _reduce_url(state, value, catalog, kept)
    ev = BY_NAME.get(event)
    try:
        if ev is None:
            raise Reject(f"unknown event {event!r}")
        if not isinstance(state, dict) or catalog.get(state.get("model")) is None:
            state = urlstate.default_state(catalog)
        new = dict(state)
        env = Env(catalog, h.view_of(catalog, new), click_mode or "inspect")
        if ev.handler(new, value, env) is NO_CHANGE:
            return _result()
    except LatentdashError as e:  # Reject, or a one-line error from the Explorer
        log.warning("%s: %s", event, e)
        return _result(message=str(e))
    sliders = h.slider_positions(new, catalog) if ev.resync_sliders else None
    return _result(new, ev.history, sliders)


def reduce_all(state, fired: list, inputs: dict, catalog, click_mode: str = "inspect", kept=None):
    """Several inputs can fire in one request (plotly reports a lasso as a relayout and a
    selection at once): each is applied in turn to the result of the one before.

    fired: [(triggered id, property, value)]. Returns (reduce result, names of the events that
    ran) with url "push" if any event pushed, the last slider positions and the last message;
    (None, []) when nothing fired that is an event."""
    cur, out, names = state, None, []
    for tid, prop, value in fired:
        event, hvalue = resolve(tid, prop, value, inputs)
        if event is None or from_hidden_graph(event, tid, cur):
            continue
        res = reduce(cur, event, hvalue, catalog, click_mode=click_mode, kept=kept)
        names.append(event)
        if out is None:
            out = dict(res)
        else:
            out["message"] = res["message"] or out["message"]
            if res["state"] is not None:
                out["state"] = res["state"]
                out["url"] = "push" if "push" in (out["url"], res["url"]) else res["url"] or out["url"]
                out["sliders"] = res["sliders"] if res["sliders"] is not None else out["sliders"]
        if res["state"] is not None:
            cur = res["state"]
    return out, names


# ----------------------------------------------------------------------------- wiring helpers
def resolve(triggered_id, prop: str | None, value, inputs: dict) -> tuple[str | None, Any]:
    """(event name, handler value) for what fired, or (None, None) to ignore it.
    triggered_id None (the page's first call) is the URL."""
    if triggered_id is None or triggered_id == ids.URL:
        return "url", inputs.get(URL_SOURCE.key)
    pattern = isinstance(triggered_id, dict)
    cid = triggered_id.get("type") if pattern else triggered_id
    ev = BY_SOURCE.get((cid, prop))
    if ev is None:
        return None, None
    if ev.button and not value:  # a new button appeared (n_clicks None); nothing was clicked
        return None, None
    src = next(s for s in ev.sources if (s.id, s.prop) == (cid, prop))
    if src.pattern and not ev.button:
        value = inputs.get(src.key)  # e.g. all slider values, not just the one that moved
    trig = Trigger(src, value, triggered_id.get("index") if pattern else None, inputs)
    return ev.name, ev.read(trig)


def shown_graph(state) -> str:
    """Id of the graph that shows the state's map (the 2-D graph unless the map is 3-D)."""
    try:
        return ids.GRAPH3 if MapName.parse(state.get("map")).dims == 3 else ids.GRAPH
    except ValueError:
        return ids.GRAPH


def from_hidden_graph(event: str, triggered_id, state) -> bool:
    """True for a map event from the graph that is not on show (the hidden one may redraw)."""
    ev = BY_NAME.get(event)
    return bool(ev and ev.map_graph and state is not None and triggered_id != shown_graph(state))


def store_updates(old, new: dict) -> dict:
    """{store: its new part, or None where it did not change}."""
    old_parts = urlstate.split(old) if old else {}
    return {k: (v if old_parts.get(k) != v else None) for k, v in urlstate.split(new).items()}


def click_mode_after(event: str, mode) -> str | None:
    """Endpoint picking cycles: a map click in mode A moves on to B, in mode B back to inspecting."""
    if event == "click" and mode in ("a", "b"):
        return "b" if mode == "a" else "inspect"
    return None


def control_values(state: dict, view) -> dict:
    """What each control shows for a state, by control id."""
    space, method, dims = view.map_parts(state["map"])
    return {
        ids.MODEL: state["model"],
        ids.SPACE: space,
        ids.METHOD: method,
        ids.DIMS: dims,
        ids.COLOUR: state["colour"],
        ids.BASIS: state["basis"],
        ids.STEPS: state["steps"],
        ids.MODE: state["mode"],
        **direction_controls(state.get("dir")),
        ids.ATTR_STRENGTH: state.get("strength", 1.0),
        ids.SEL_CLASS: None,
        ids.TRAV_ON: ["on"] if state.get("ton") else [],
        ids.TRAV_ROWS: state["trows"],
        ids.TRAV_N: state["tn"],
        ids.TRAV_COLS: state["tcols"],
        ids.TRAV_K: state["tk"],
        ids.TRAV_SORT: ["on"] if state.get("tsort") else [],
        ids.PRIOR_ON: ["on"] if state.get("pon") else [],
        ids.PRIOR_N: state["pn"],
        ids.PRIOR_SEED: state["pseed"],
        ids.PRIOR_T: state["ptemp"],
        ids.REGION_ON: ["on"] if state.get("rlabels") else [],
        ids.GRID_ON: ["on"] if state.get("grid") else [],
    }


DEFAULT_DIRECTION = {ids.ATTR_KIND: "groups", ids.ATTR_FROM: "all", ids.ATTR_TO: "sel", ids.ATTR_AXIS: 0}


def direction_controls(spec) -> dict:
    """What the four direction controls show for a direction (their defaults without one)."""
    out = dict(DEFAULT_DIRECTION)
    if not spec:
        return out
    if ">" in spec:
        a, _, b = spec.partition(">")
        out.update({ids.ATTR_FROM: a, ids.ATTR_TO: b})
    else:
        kind = "pc" if spec.startswith("pc") else "dim"
        out.update({ids.ATTR_KIND: kind, ids.ATTR_AXIS: int(spec[len(kind) :])})
    return out
