"""The contract between the server and the page's JavaScript: ids and the drag callback's spec
come from the server; the JavaScript never spells an id, and every id it asks for exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from latentdash.ui import contract, ids

ASSETS = Path(__file__).resolve().parents[1] / "latentdash" / "assets"
JS = sorted(ASSETS.glob("*.js"))


@pytest.fixture(scope="module")
def client(explorers):
    from latentdash.server.app_factory import create_app

    return create_app(explorers=explorers).server.test_client()


STRING = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')


def test_the_page_code_is_split_by_concern():
    assert [p.name for p in JS] == [
        "ld-1-contract.js",
        "ld-2-plotly.js",
        "ld-3-map.js",
        "ld-4-drag.js",
        "ld-5-callbacks.js",
        "ld-6-onnx.js",
        "ld-7-grids.js",
        "ld-7-plaus.js",
        "ld-8-anywhere.js",
        "ld-9-draw.js",
    ]


def test_every_id_the_javascript_names_exists_on_the_server():
    known = contract.component_ids()
    used = set()
    for p in JS:
        used |= set(re.findall(r"\bids\.([A-Z][A-Z0-9_]*)", p.read_text()))
    assert used, "the JavaScript reads no ids from the contract"
    assert used <= set(known), sorted(used - set(known))
    assert {"GRAPH", "GRAPH3", "CUR_IMG", "MARKER", "ST_DRAWN", "ST_PREFETCH", "CLIENT_MSG"} <= used


def test_no_component_id_is_a_literal_in_the_javascript():
    values = set(contract.component_ids().values())
    for p in JS:
        text = p.read_text()
        literals = {a or b for a, b in STRING.findall(text)}
        selectors = set(re.findall(r"#([\w-]+)", " ".join(literals)))
        assert not (literals | selectors) & values, (p.name, sorted((literals | selectors) & values))


def test_the_drag_spec_is_the_registered_drag_callback(client):
    spec = contract.drag_spec("/")
    deps = client.get("/_dash-dependencies").get_json()
    drag = next(d for d in deps if d["output"] == spec["output"])
    assert [(i["id"], i["property"]) for i in drag["inputs"]] == [(s["id"], s["property"]) for s in spec["inputs"]]
    assert [(s["id"], s["property"]) for s in drag["state"]] == [(s["id"], s["property"]) for s in spec["state"]]
    # the clientside callback that hands the loop its state watches the same stores, in order
    ctx = next(d for d in deps if (d.get("clientside_function") or {}).get("function_name") == "dragContext")
    assert [(i["id"], i["property"]) for i in ctx["inputs"]] == [(s["id"], s["property"]) for s in spec["state"]]


def test_the_index_carries_the_contract(client):
    html = client.get("/").data.decode()
    m = re.search(r'<script id="latentdash-contract" type="application/json">(.*?)</script>', html)
    assert m, "no contract in the index"
    data = json.loads(m.group(1))
    assert data["ids"]["GRAPH"] == ids.GRAPH and data["ids"]["ST_MAP"] == ids.ST_MAP
    assert data["drag"]["url"] == "/_dash-update-component" and data["prefix"] == "/"
    assert html.index("latentdash-contract") < html.index("ld-1-contract.js")  # there before the code
