"""A tiny client for Dash's HTTP protocol (what the browser's renderer sends), for Flask's test
client or any object with .get/.post like it. Builds /_dash-update-component bodies from
/_dash-dependencies, including pattern-matching (ALL) inputs and outputs."""

from __future__ import annotations

import json

from latentdash.ui import ids, urlstate

REDUCER = f"{ids.ST_MAP}.data"  # the reducer callback, by its first output


def stores_of(state) -> dict:
    """A view state as the reducer's store values ({'st-map.data': part, ...})."""
    return {f"{sid}.data": part for sid, part in zip(ids.STORE_OF.values(), urlstate.split(state).values())}


def _parse_id(s: str):
    return json.loads(s) if s.startswith("{") else s


def _outputs(dep: dict) -> list:
    text = dep["output"]
    parts = text[2:-2].split("...") if text.startswith("..") else [text]
    out = []
    for p in parts:
        cid, prop = p.rsplit(".", 1)
        prop = prop.split("@")[0]
        out.append((_parse_id(cid), prop))
    return out


class DashClient:
    def __init__(self, client, prefix: str = "/"):
        self.c = client
        self.prefix = prefix
        r = client.get(prefix + "_dash-dependencies")
        self.deps = r.get_json() if hasattr(r, "get_json") else r.json()

    def dep(self, first_output: str) -> dict:
        """The callback whose first output is `first_output` ('id.prop')."""
        for d in self.deps:
            outs = _outputs(d)
            if outs and f"{outs[0][0]}.{outs[0][1]}" == first_output:
                return d
        raise KeyError(first_output)

    def body(self, first_output: str, values: dict, changed: list, pattern: dict | None = None) -> dict:
        """values: {'id.prop': value}; for a pattern input/output {'type.prop': [v per index]};
        pattern: {'type': [index, ...]} (the components that exist)."""
        d = self.dep(first_output)
        pattern = pattern or {}

        def spec(s, with_value=True):
            cid = _parse_id(s["id"])
            if isinstance(cid, dict):
                typ = cid["type"]
                vals = values.get(f"{typ}.{s['property']}", [None] * len(pattern.get(typ, [])))
                return [
                    {"id": {"index": i, "type": typ}, "property": s["property"], **({"value": v} if with_value else {})}
                    for i, v in zip(pattern.get(typ, []), vals)
                ]
            return {
                "id": cid,
                "property": s["property"],
                **({"value": values.get(f"{cid}.{s['property']}")} if with_value else {}),
            }

        outs = []
        for cid, prop in _outputs(d):
            if isinstance(cid, dict):
                outs.append(
                    [{"id": {"index": i, "type": cid["type"]}, "property": prop} for i in pattern.get(cid["type"], [])]
                )
            else:
                outs.append({"id": cid, "property": prop})
        return {
            "output": d["output"],
            "outputs": outs if len(outs) > 1 else outs[0],
            "inputs": [spec(s) for s in d["inputs"]],
            "state": [spec(s) for s in d["state"]],
            "changedPropIds": list(changed),
        }

    def call(self, first_output: str, values: dict, changed: list, pattern: dict | None = None):
        """POST the callback; returns (status code, parsed JSON response or None)."""
        b = self.body(first_output, values, changed, pattern)
        r = self.c.post(self.prefix + "_dash-update-component", json=b)
        status = getattr(r, "status_code", None)
        try:
            data = r.get_json() if hasattr(r, "get_json") else r.json()
        except Exception:  # 204 No Content etc.
            data = None
        return status, data
