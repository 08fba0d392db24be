"""The strip and the grids decoded in the page (ui/grids.py), server side: with `st-decode` naming
the model, the render handlers and callbacks send each cell's vector (exactly the vector the
server would decode) and no image; otherwise the server's images as before. Over Dash's HTTP
protocol too: a change of `st-decode` alone redraws only when the page goes back to the server.
The page's half (decoding, drawing, scores) is tested in Chromium: tests/test_browser_grids.py."""

from __future__ import annotations

import json

import numpy as np

from latentdash import algebra as alg
from latentdash import imaging
from latentdash.ui import algebra as A
from latentdash.ui import algebra_layout, algebra_render, grids, ids, layout, render, urlstate
from latentdash.ui.handlers import interp_path, state_z

# fixtures catalog, dc and initial: tests/conftest.py (two PCA test models, pca-16 the default)
HERE = {"model": "pca-16"}


def part(state, name):
    return urlstate.split(state)[name]


def test_a_vector_survives_the_trip_as_float32_bits():
    z = np.array([0.1, -3.25, 1e-8, np.float32(np.pi), -0.0, 7e30], np.float32)
    text = grids.encode_z(z)
    assert np.array_equal(grids.decode_z(text).view(np.uint32), z.view(np.uint32))
    assert grids.decodes_here(HERE, "pca-16") and not grids.decodes_here(HERE, "pca-2")
    assert not grids.decodes_here(None, "pca-16") and not grids.decodes_here({"model": None}, "pca-16")


def test_the_strip_in_the_page_is_the_servers_path_as_vectors(catalog):
    state = {"model": "pca-16", "a": 3, "b": 40, "steps": 7, "mode": "spherical"}
    view = catalog.get("pca-16")
    path = interp_path(view, state)
    page = render.render_interp(state, catalog, browser=True)
    server = render.render_interp(state, catalog)
    assert len(page["steps"]) == len(server["steps"]) == 7
    assert all(c["model"] == "pca-16" for c in page["steps"])
    got = np.stack([grids.decode_z(c["z"]) for c in page["steps"]])
    assert np.array_equal(got, path)  # bit for bit what the server decodes
    assert all(s.startswith("data:image/png") for s in server["steps"])
    assert page["blend"] == server["blend"] and page["a"] == server["a"]  # the rest as before
    # the buttons: the same ids and titles (a click still loads the step), the vector to decode
    buttons = layout.step_buttons(page["steps"])
    b = buttons[2].to_plotly_json()["props"]
    assert b["id"] == {"type": ids.STEP, "index": 2} and b["title"] == "step 3 of 7: load into the sliders"
    assert b[grids.Z_ATTR] == page["steps"][2]["z"] and "style" not in b and "ld-zcell" in b["className"]
    assert "backgroundImage" in layout.step_buttons(server["steps"])[2].to_plotly_json()["props"]["style"]


def test_traversal_and_prior_grids_in_the_page_are_the_servers_vectors(catalog):
    view = catalog.get("pca-16")
    state = dict(
        urlstate.default_state(catalog, "pca-16"),
        ton=True,
        tn=3,
        tcols=5,
        tk=1.5,
        trows="var",
        tsort=True,
        pon=True,
        pn=16,
    )
    page = algebra_render.render_trav(state, catalog, browser=True)
    server = algebra_render.render_trav(state, catalog)
    specs = A.row_specs(view, state)
    axes = [A.row_axis(view, state, s) for s in specs]
    grid = alg.traversal(state_z(view, state), np.stack([u for _, u, _ in axes]), [s for _, _, s in axes], 5, 1.5)
    assert [r["spec"] for r in page["rows"]] == specs  # in row order: the page sorts them by score
    assert sorted(r["spec"] for r in server["rows"]) == sorted(specs)
    for r, row in enumerate(page["rows"]):
        assert row["score"] is None and np.array_equal(
            np.stack([grids.decode_z(c["z"]) for c in row["cells"]]), grid[r]
        )
    assert page["page"] == {grids.STEP_ATTR: repr(2 * 1.5 / 4), grids.SORT_ATTR: "1"}
    built = [c.to_plotly_json()["props"] for c in algebra_layout.trav_grid(page)]
    assert built[1]["key"] == f"z-{specs[0]}" and built[1][grids.SORT_ATTR] == "1"
    assert grids.KL_ATTR in built[1]["children"][-1].to_plotly_json()["props"]  # the score, left to the page
    assert "key" not in algebra_layout.trav_grid(server)[1].to_plotly_json()["props"]
    # the server's scores are of the images these vectors decode to
    imgs = view.explorer.decode(grid.reshape(-1, view.d)).reshape((3, 5) + view.image_shape)
    want = dict(zip(specs, alg.row_scores(imgs, 1.5)))
    assert all(abs(r["score"] - want[r["spec"]]) < 1e-5 for r in server["rows"])
    pp = algebra_render.render_prior(state, catalog, browser=True)
    ps = algebra_render.render_prior(state, catalog)
    z = np.stack([grids.decode_z(c["z"]) for c in pp["samples"]])
    assert np.array_equal(z, A.prior_samples(view, state)) and pp["note"] == ps["note"]
    assert imaging.png_data_uri(view.explorer.decode(z[:1])[0]) == ps["samples"][0]


def _strip(dc, state, decode, changed):
    return dc.call(
        f"{ids.INT_A}.children",
        {f"{ids.ST_INTERP}.data": part(state, "interp"), f"{ids.ST_DECODE}.data": decode},
        changed,
    )


def test_over_http_the_page_gets_vectors_only_while_it_decodes(dc, initial):
    s = dict(initial, a=3, b=40, steps=16)
    status, data = _strip(dc, s, HERE, [f"{ids.ST_INTERP}.data"])
    strip = data["response"][ids.STRIP]["children"]
    text = json.dumps(strip)
    assert status == 200 and len(strip) == 16 and "data:image" not in text
    assert all(b["props"][grids.Z_ATTR] and b["props"][grids.MODEL_ATTR] == "pca-16" for b in strip)
    assert data["response"][ids.BLEND]["children"][0]["props"]["src"].startswith("data:image/png")  # not decoded
    # another model's decoder, or none: the server's images, as before
    for decode in ({"model": "pca-2"}, None, {"junk": 1}, "pca-16"):
        status, data = _strip(dc, s, decode, [f"{ids.ST_INTERP}.data"])
        strip = data["response"][ids.STRIP]["children"]
        assert status == 200 and all(
            b["props"]["style"]["backgroundImage"].startswith("url(data:image/png") for b in strip
        )
    # st-decode alone: nothing to redraw when the page starts decoding; its images when it stops
    status, data = _strip(dc, s, HERE, [f"{ids.ST_DECODE}.data"])
    assert status == 204
    status, data = _strip(dc, s, None, [f"{ids.ST_DECODE}.data"])
    assert status == 200 and "data:image/png" in json.dumps(data["response"][ids.STRIP]["children"])


def test_over_http_the_grids_follow_st_decode(dc, initial):
    s = dict(initial, ton=True, tn=4, tcols=7, tk=2.0, trows="pcs", pon=True, pn=24)
    trav = {
        f"{ids.ST_TRAV}.data": part(s, "trav"),
        f"{ids.ST_Z}.data": part(s, "z"),
        f"{ids.ST_ATTR}.data": part(s, "attr"),
        f"{ids.ST_SELECTION}.data": part(s, "selection"),
    }
    status, data = dc.call(f"{ids.TRAV_GRID}.children", {**trav, f"{ids.ST_DECODE}.data": HERE}, [f"{ids.ST_Z}.data"])
    rows = data["response"][ids.TRAV_GRID]["children"]
    assert status == 200 and len(rows) == 5 and "data:image" not in json.dumps(rows)
    assert sum(grids.Z_ATTR in json.dumps(r) for r in rows[1:]) == 4
    assert rows[1]["props"][grids.STEP_ATTR] == repr(2 * 2.0 / 6)
    status, data = dc.call(
        f"{ids.TRAV_GRID}.children", {**trav, f"{ids.ST_DECODE}.data": HERE}, [f"{ids.ST_DECODE}.data"]
    )
    assert status == 204
    status, data = dc.call(
        f"{ids.TRAV_GRID}.children", {**trav, f"{ids.ST_DECODE}.data": None}, [f"{ids.ST_DECODE}.data"]
    )
    assert status == 200 and json.dumps(data["response"][ids.TRAV_GRID]["children"]).count("data:image/png") == 4 * 7
    off = dict(trav, **{f"{ids.ST_TRAV}.data": dict(part(s, "trav"), ton=False)})
    status, _ = dc.call(f"{ids.TRAV_GRID}.children", {**off, f"{ids.ST_DECODE}.data": None}, [f"{ids.ST_DECODE}.data"])
    assert status == 204  # a grid that is off has nothing to redraw
    prior = {f"{ids.ST_PRIOR}.data": part(s, "prior")}
    status, data = dc.call(
        f"{ids.PRIOR_GRID}.children", {**prior, f"{ids.ST_DECODE}.data": HERE}, [f"{ids.ST_PRIOR}.data"]
    )
    cells = data["response"][ids.PRIOR_GRID]["children"]
    assert status == 200 and len(cells) == 24 and "data:image" not in json.dumps(cells)
    status, data = dc.call(
        f"{ids.PRIOR_GRID}.children", {**prior, f"{ids.ST_DECODE}.data": HERE}, [f"{ids.ST_DECODE}.data"]
    )
    assert status == 204
    status, data = dc.call(
        f"{ids.PRIOR_GRID}.children", {**prior, f"{ids.ST_DECODE}.data": None}, [f"{ids.ST_DECODE}.data"]
    )
    assert status == 200 and json.dumps(data["response"][ids.PRIOR_GRID]["children"]).count("data:image/png") == 24
