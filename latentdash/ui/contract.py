"""The contract between the server and the page's JavaScript (latentdash/assets/ld-*.js): every
component id and the spec of the drag callback that the drag loop posts by hand, written once
into the page's index as JSON (`<script id="latentdash-contract" type="application/json">`).
The JavaScript reads ids from it and never spells one; tests/test_contract.py checks both sides.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from . import ids

PLOTLY_BUNDLE = Path(__file__).resolve().parents[1] / "assets" / "vendor" / "plotly-latentdash.min.js"

CONTRACT_TAG_ID = "latentdash-contract"
# The drag callback (callbacks.register_drag): the loop in ld-4-drag.js posts its input and state
# to Dash's own endpoint while a slider handle moves. `keep` trims a state value to the keys the
# callback reads (the rendered record's per-graph details stay in the page).
DRAG_OUTPUT = (ids.ST_DRAGOUT, "data")
DRAG_INPUT = (ids.ST_DRAG, "data")
DRAG_STATE = (
    (ids.ST_MAP, "data", None),
    (ids.ST_Z, "data", None),
    (ids.ST_RENDERED, "data", ("key",)),
    (ids.ST_ATTRVEC, "data", None),  # the attribute vector the strength drag adds
)


def component_ids() -> dict[str, str]:
    """Every id constant of ids.py by its Python name (ids.GRAPH -> "map")."""
    return {k: v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}


def drag_spec(prefix: str) -> dict:
    return {
        "url": f"{prefix}_dash-update-component",
        "output": f"{DRAG_OUTPUT[0]}.{DRAG_OUTPUT[1]}",
        "outputs": {"id": DRAG_OUTPUT[0], "property": DRAG_OUTPUT[1]},
        "inputs": [{"id": DRAG_INPUT[0], "property": DRAG_INPUT[1]}],
        "state": [{"id": i, "property": p, "keep": list(keep) if keep else None} for i, p, keep in DRAG_STATE],
        "changedPropIds": [f"{DRAG_INPUT[0]}.{DRAG_INPUT[1]}"],
    }


def contract(prefix: str = "/") -> dict:
    return {
        "ids": component_ids(),
        "prefix": prefix,
        "drag": drag_spec(prefix),
        "onnx": onnx_urls(prefix),
        "plotly": plotly_version(),
    }


@functools.cache
def plotly_version() -> str:
    """The plotly bundle's fingerprint: ld-2-plotly.js loads `vendor/...min.js?m=<it>`, which the
    server may then let browsers cache for a year (server/security.py: `?m=` is fingerprinted)."""
    try:
        return hashlib.sha256(PLOTLY_BUNDLE.read_bytes()).hexdigest()[:16]
    except OSError:
        return "0"


def onnx_urls(prefix: str) -> dict:
    """Where ld-6-onnx.js finds onnxruntime-web and the models' decoders (onnx_export.register_routes)."""
    from ..onnx_export import ORT_WEB_VERSION

    return {"ort": f"{prefix}ort/{ORT_WEB_VERSION}/", "meta": f"{prefix}onnx/"}


def install(app, prefix: str = "/") -> None:
    """Write the contract into the app's index page (Dash's documented `index_string`), next to
    Dash's own config, so it is there before any asset script runs."""
    text = json.dumps(contract(prefix), separators=(",", ":")).replace("<", "\\u003c")
    tag = f'<script id="{CONTRACT_TAG_ID}" type="application/json">{text}</script>'
    if CONTRACT_TAG_ID not in app.index_string:
        app.index_string = app.index_string.replace("{%config%}", "{%config%}\n" + tag, 1)
