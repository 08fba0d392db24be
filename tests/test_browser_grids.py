"""The interpolation strip and the traversal / prior grids decoded in the page (assets/ld-7-grids.js,
ui/grids.py), in a real headless Chromium: once the page decodes in the browser, a change of the
steps, the sort or the seed redraws them from vectors the server sent (its reply carries no
image), the canvases' pixels match the server's decode within 1/255, the traversal scores and
their order are the server's, a step still loads into the sliders; the switch and a browser
without WebAssembly get the server's images as before. No timing assertions (bench/bench_grids.py)."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from latentdash.ui import algebra_render, ids, render, urlstate
from tests.test_browser import ARTIFACTS, open_page
from tests.test_browser_onnx import NO_WASM, WHERE, wait_where

pytestmark = pytest.mark.browser

DECODING_HERE = "(m) => window.latentdashGrids.sent === JSON.stringify({model: m})"
NOT_HERE = "() => window.latentdashGrids.sent === 'null'"
SETTLED = "() => window.latentdashGrids.settled()"
# each cell's canvas (red channel, the images are grey) or null
CANVASES = """(sel) => Array.from(document.querySelectorAll(sel), (b) => {
  const c = b.querySelector('canvas.ld-zcv');
  if (!c || getComputedStyle(c).display === 'none') return null;
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return Array.from({length: c.width * c.height}, (_, k) => px[4 * k]); })"""
BACKGROUNDS = "(sel) => Array.from(document.querySelectorAll(sel), (b) => b.style.backgroundImage)"
STRIP = "#strip button"
PRIOR = "#prior-grid button"
# the traversal rows in the order they are shown (CSS order): label, score text, cells' canvases
TRAV_ROWS = """() => Array.from(document.querySelectorAll('#trav-grid .ld-trav-row:not(.ld-trav-head)'))
  .map((r, k) => [Number(r.style.order || k + 1), r.querySelector('.ld-trav-label').textContent,
                  r.querySelector('.ld-trav-score').textContent])
  .sort((p, q) => p[0] - q[0]).map((x) => x.slice(1))"""


def dash_replies(page) -> list:
    """Every Dash callback reply this page gets, parsed."""
    out = []

    def on(r):
        if "_dash-update-component" in r.url and r.status == 200:
            try:
                out.append(json.loads(r.text()))
            except Exception:
                pass

    page.on("response", on)
    return out


def replies_for(replies, cid) -> list:
    return [r["response"][cid] for r in replies if cid in (r.get("response") or {})]


def png_pixels(src: str) -> list:
    """A data URI (or CSS url(...) of one) -> the image's grey values."""
    b64 = src.split("base64,", 1)[1].rstrip('")')
    return list(np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("L")).reshape(-1))


def page_state(page, catalog) -> dict:
    state, problems = urlstate.parse("?" + urlparse(page.url).query, catalog)
    assert problems == []
    return state


def assert_same_pixels(got, srcs) -> None:
    assert len(got) == len(srcs) and all(g is not None for g in got)
    want = np.array([png_pixels(s) for s in srcs], int)
    diff = np.abs(np.array(got, int) - want)
    assert diff.max() <= 1, diff.max()
    assert np.ptp(want) > 100  # real images, not blank canvases


def steps_by_key(page, key: str, n: int) -> None:
    page.locator(".ld-steps [role=slider]").focus()
    for _ in range(n):
        page.keyboard.press(key)


def test_the_strip_is_decoded_in_the_page_and_matches_the_server(page, live_server, catalog):
    replies = dash_replies(page)
    open_page(page, live_server + "?a=3&b=40&steps=8")
    page.wait_for_function(f"() => document.querySelectorAll('{STRIP}').length === 8")
    assert all(s.startswith('url("data:image/png') for s in page.evaluate(BACKGROUNDS, STRIP))  # not yet
    wait_where(page, "browser")
    page.wait_for_function(DECODING_HERE, arg="pca-16")
    n0 = len(replies_for(replies, ids.STRIP))
    steps_by_key(page, "ArrowRight", 3)
    page.wait_for_function("() => new URLSearchParams(location.search).get('steps') === '11'", timeout=30_000)
    page.wait_for_function(f"() => document.querySelectorAll('{STRIP} canvas').length === 11", timeout=30_000)
    page.wait_for_function(SETTLED, timeout=30_000)
    got = page.evaluate(CANVASES, STRIP)
    state = page_state(page, catalog)
    assert state["steps"] == 11
    assert_same_pixels(got, render.render_interp(state, catalog)["steps"])
    # the server decoded none of it: its replies carried vectors, not images
    strips = replies_for(replies, ids.STRIP)[n0:]
    assert strips and all("data:image" not in json.dumps(s) and "data-ld-z" in json.dumps(s) for s in strips)
    assert page.evaluate(BACKGROUNDS, STRIP) == [""] * 11
    assert (
        page.evaluate("() => [...document.querySelectorAll('#strip canvas')].map((c) => [c.width, c.height])")
        == [[28, 28]] * 11
    )
    page.locator("#strip").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-grids-01-strip.png"))
    # a step still loads into the sliders, with its title
    step = page.locator(STRIP).nth(4)
    assert step.get_attribute("title") == "step 5 of 11: load into the sliders"
    img0 = page.get_attribute("#current-img", "src")
    step.click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)
    page.wait_for_function("(s) => document.getElementById('current-img').src !== s", arg=img0, timeout=30_000)
    # the switch: decoding goes to the server, and the strip comes back as the server's images
    page.check("#decode-where input[type=checkbox]")
    page.wait_for_function(NOT_HERE)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{STRIP}')]"
        ".every((b) => b.style.backgroundImage.startsWith('url(\"data:'))"
        f" && !document.querySelector('{STRIP} canvas')",
        timeout=30_000,
    )
    assert len(page.query_selector_all(STRIP)) == 11


def test_the_traversal_and_prior_grids_are_decoded_in_the_page(page, live_server, catalog):
    replies = dash_replies(page)
    open_page(page, live_server + "?trav=1&prior=1&tn=8&tcols=5")
    page.wait_for_function(f"() => document.querySelectorAll('{PRIOR}').length === 16", timeout=30_000)
    wait_where(page, "browser")
    page.wait_for_function(DECODING_HERE, arg="pca-16")
    n_trav, n_prior = len(replies_for(replies, ids.TRAV_GRID)), len(replies_for(replies, ids.PRIOR_GRID))
    # sorting by score: the page scores the rows and orders them as the server would
    page.locator("#trav-sort input[type=checkbox]").check()
    page.wait_for_function("() => new URLSearchParams(location.search).get('tsort') === '1'", timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('#trav-grid canvas').length === 40", timeout=30_000)
    page.wait_for_function(SETTLED, timeout=30_000)
    state = page_state(page, catalog)
    want = algebra_render.render_trav(state, catalog)
    shown = page.evaluate(TRAV_ROWS)
    assert [label for label, _ in shown] == [row["label"] for row in want["rows"]]
    assert all(abs(float(text.split()[0]) - row["score"]) <= 0.0011 for (_, text), row in zip(shown, want["rows"]))
    unsorted = algebra_render.render_trav(dict(state, tsort=False), catalog)["rows"]
    assert [r["label"] for r in unsorted] != [r["label"] for r in want["rows"]]  # sorting moves rows here
    order = page.evaluate(
        "() => [...document.querySelectorAll('#trav-grid .ld-trav-row:not(.ld-trav-head)')]"
        ".sort((p, q) => p.style.order - q.style.order).map((r) => [...r.querySelectorAll('button')])"
        ".flat().map((b) => b.title)"
    )
    cells = page.evaluate(
        "(titles) => titles.map((t) => { const b = [...document.querySelectorAll('#trav-grid button')]"
        ".find((x) => x.title === t); const c = b.querySelector('canvas');"
        " const px = c.getContext('2d').getImageData(0, 0, 28, 28).data;"
        " return Array.from({length: 784}, (_, k) => px[4 * k]); })",
        order,
    )
    assert_same_pixels(cells, [src for row in want["rows"] for src in row["cells"]])
    travs = replies_for(replies, ids.TRAV_GRID)[n_trav:]
    assert travs and all("data:image" not in json.dumps(t) for t in travs)
    page.locator("#trav-grid").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-grids-02-traversal.png"))
    # unsorted again: the same vectors come back (nothing to decode), the rows go back in place
    page.locator("#trav-sort input[type=checkbox]").uncheck()
    page.wait_for_function("() => new URLSearchParams(location.search).get('tsort') === '0'", timeout=30_000)
    page.wait_for_function(
        f"(want) => JSON.stringify(({TRAV_ROWS})().map((r) => r[0])) === JSON.stringify(want)",
        arg=[r["label"] for r in unsorted],
        timeout=30_000,
    )
    # the prior grid: a re-roll is drawn from the new samples' vectors
    page.get_by_role("button", name="Re-roll").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('pseed') === '1'", timeout=30_000)
    page.wait_for_function(f"() => document.querySelectorAll('{PRIOR} canvas').length === 16", timeout=30_000)
    page.wait_for_function(SETTLED, timeout=30_000)
    state = page_state(page, catalog)
    assert_same_pixels(page.evaluate(CANVASES, PRIOR), algebra_render.render_prior(state, catalog)["samples"])
    priors = replies_for(replies, ids.PRIOR_GRID)[n_prior:]
    assert priors and all("data:image" not in json.dumps(p) for p in priors)
    # a sample still loads into the sliders
    page.locator(PRIOR).nth(3).click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)


def test_without_webassembly_the_strip_and_grids_are_the_servers_images(page, live_server):
    page.add_init_script(NO_WASM)
    open_page(page, live_server + "?a=3&b=40&steps=8&trav=1&prior=1")
    wait_where(page, "server")
    page.wait_for_function("() => window.latentdashOnnx.fetching", timeout=30_000)  # it did try
    page.hover(f"{STRIP} >> nth=0")
    steps_by_key(page, "ArrowLeft", 2)
    page.wait_for_function("() => new URLSearchParams(location.search).get('steps') === '6'", timeout=30_000)
    page.wait_for_function(f"() => document.querySelectorAll('{STRIP}').length === 6", timeout=30_000)
    page.get_by_role("button", name="Re-roll").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('pseed') === '1'", timeout=30_000)
    page.wait_for_timeout(500)
    for sel in (STRIP, PRIOR, "#trav-grid button"):
        srcs = page.evaluate(BACKGROUNDS, sel)
        assert srcs and all(s.startswith('url("data:image/png') for s in srcs), sel
    assert page.query_selector("[data-ld-z]") is None and page.query_selector("canvas.ld-zcv") is None
    assert page.evaluate(NOT_HERE) and page.evaluate(WHERE) == "server"
