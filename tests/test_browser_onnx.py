"""Decoding in the browser (assets/ld-6-onnx.js + onnxruntime-web), in a real headless Chromium:
a slider drag decodes in the page with no drag requests to the server, the page's pixels match
the server's decode within 1/255, the marker lands where the server would put it, and every
fallback (no WebAssembly, a model without an export, a corrupt .onnx, the switch) decodes on the
server as before, with the indicator saying so. No timing assertions (speed: bench/bench_onnx.py)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from latentdash import imaging
from latentdash.atlas.knn import query_knn
from latentdash.atlas.placement import K_PLACE, idw
from tests.test_browser import ARTIFACTS, hold_and_drag_first_slider, open_page

pytestmark = pytest.mark.browser

WHERE = "() => (document.getElementById('decode-where') || {dataset: {}}).dataset.where"
IN_BROWSER = "() => document.getElementById('decode-where').dataset.where === 'browser'"
TEXT = "() => document.querySelector('#decode-where .ld-decode-text').textContent"
CANVAS = "() => { const c = document.querySelector('canvas.ld-canvas'); return c ? c.toDataURL() : null; }"
NO_WASM = "delete window.WebAssembly;"
HAS_PARAM_STRENGTH = "() => new URLSearchParams(location.search).has('strength')"


def drag_posts(page) -> list:
    """The drag callback's requests (the server's decode of a slider frame) this page makes; not
    the plausibility-only frames (kind "plaus", no image: assets/ld-7-plaus.js)."""
    out = []
    page.on(
        "request",
        lambda r: (
            out.append(json.loads(r.post_data))
            if "_dash-update-component" in r.url
            and "st-dragout" in (r.post_data or "")
            and '"kind":"plaus"' not in r.post_data
            else None
        ),
    )
    return out


def watch_img(page):
    page.evaluate("""() => { window.__srcs = new Set();
        new MutationObserver(() => window.__srcs.add(document.getElementById('current-img').src))
          .observe(document.getElementById('current-img'), {attributes: true, attributeFilter: ['src']}); }""")


def approach_sliders(page) -> None:
    """The runtime and the decoder are fetched when a slider is first approached (ld-6-onnx.js)."""
    page.hover(".ld-sliders")


def wait_where(page, where: str) -> None:
    approach_sliders(page)
    page.wait_for_function(f"() => ({WHERE})() === '{where}'", timeout=90_000)


def test_a_slider_drag_decodes_in_the_browser_with_no_drag_requests(page, live_server):
    posts = drag_posts(page)
    open_page(page, live_server)
    wait_where(page, "browser")
    assert page.evaluate(TEXT) == "decoding: in your browser"
    watch_img(page)
    frames0 = page.evaluate("window.latentdashOnnx.frames")
    marker0 = page.evaluate("() => document.getElementById('map-marker').style.left")
    hold_and_drag_first_slider(page, 15)
    page.wait_for_timeout(300)
    first = page.evaluate(CANVAS)
    for _ in range(8):  # a little further: a new image
        box = page.locator(".ld-sliders [role=slider]").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2 + 6, box["y"] + box["height"] / 2)
        page.wait_for_timeout(60)
    page.wait_for_timeout(300)
    frames = page.evaluate("window.latentdashOnnx.frames") - frames0
    shown = page.evaluate("() => getComputedStyle(document.querySelector('canvas.ld-canvas')).display")
    canvas_size = page.evaluate(
        "() => { const c = document.querySelector('canvas.ld-canvas'); return [c.width, c.height]; }"
    )
    marker = page.evaluate("() => document.getElementById('map-marker').style.left")
    page.screenshot(path=str(ARTIFACTS / "browser-onnx-01-dragging.png"))
    assert posts == [], f"{len(posts)} drag frames went to the server"
    assert page.evaluate("() => window.__srcs.size") == 0  # the <img> was not touched during the drag
    assert frames >= 3 and shown != "none" and canvas_size == [28, 28]
    assert first is not None and page.evaluate(CANVAS) != first  # the image changes as the handle moves
    assert marker != marker0  # the marker follows, placed in the browser
    page.mouse.up()
    # released: the vector commits through the normal callbacks, the server's image replaces the canvas
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)
    page.wait_for_function("() => document.getElementById('current-img').style.display !== 'none'", timeout=30_000)
    assert posts == []


def test_the_browsers_pixels_and_marker_match_the_server(page, live_server, explorers):
    """A fixed set of vectors (data latents, prior samples, far out of the data), decoded by the
    page's onnxruntime-web and by the server: within 1/255 per pixel; the PCA marker exactly, and
    the nearest-latents placement (t-SNE/UMAP maps) as the server's Placer computes it."""
    ex = explorers[0]
    rng = np.random.default_rng(7)
    z = np.concatenate(
        [ex.latents[[0, 17, 999]], ex.sample_prior(3, seed=3), 3 * rng.standard_normal((2, ex.latent_dim))]
    ).astype(np.float32)
    open_page(page, live_server)
    wait_where(page, "browser")
    got = page.evaluate(
        """async (zs) => { const E = window.latentdashDecoder, m = E.models['pca-16'];
        const x = await E.run(m, zs.map((v) => Float32Array.from(v)));
        const c = document.createElement('canvas'), hw = 28 * 28, out = [];
        for (let i = 0; i < zs.length; i++) { E.draw(c, m.meta.image_shape, x, i * hw);
          const px = c.getContext('2d').getImageData(0, 0, 28, 28).data;
          out.push(Array.from({length: hw}, (_, k) => px[4 * k])); }
        return out; }""",
        z.tolist(),
    )
    want = np.stack([imaging.to_uint8(x).reshape(-1) for x in ex.decode(z)]).astype(int)
    diff = np.abs(np.array(got) - want)
    assert diff.max() <= 1, diff.max()
    assert np.ptp(want) > 100  # real images
    # the marker: exact on a PCA map
    pts = page.evaluate(
        "(zs) => zs.map((v) => window.latentdashDecoder.place(window.latentdashDecoder.models['pca-16'],"
        " 'latent-pca-2d', v))",
        z.tolist(),
    )
    assert np.allclose(pts, ex.project(z, "latent-pca-2d"), atol=1e-4)
    # the nearest-latents placement, on the drawn map's coordinates (taken from the figure)
    knn = page.evaluate(
        """async (zs) => { const E = window.latentdashDecoder, m = E.models['pca-16'];
        await E.latents(m);
        const gd = window.latentdash.graphDiv(window.latentdash.ids.GRAPH);
        const key = String(gd.layout.uirevision);
        const coords = window.latentdashOnnx.coords(m, gd, key, 2);
        const mm = Object.assign({}, m, {meta: Object.assign({}, m.meta,
          {maps: {t: {kind: 'knn', dims: 2, k: 8}}})});
        return [key, zs.map((v) => E.place(mm, 't', v, () => coords))]; }""",
        z.tolist(),
    )
    assert knn[0].split("|")[1] == "latent-pca-2d"
    idx, dist = query_knn(z, np.asarray(ex.latents, np.float32), K_PLACE)
    assert np.allclose(knn[1], idw(ex.coords("latent-pca-2d"), idx, dist), atol=1e-3)


def test_without_webassembly_the_server_decodes(page, live_server):
    page.add_init_script(NO_WASM)
    warned = []
    page.on("console", lambda m: warned.append(m.text) if m.type == "warning" and "latentdash" in m.text else None)
    posts = drag_posts(page)
    open_page(page, live_server)
    page.wait_for_function("() => window.latentdashOnnx.started", timeout=30_000)
    wait_where(page, "server")
    page.wait_for_function("() => window.latentdashOnnx.fetching", timeout=30_000)  # it did try
    assert page.evaluate(TEXT) == "decoding: on the server"
    watch_img(page)
    hold_and_drag_first_slider(page, 12)
    page.wait_for_function("() => window.__srcs.size >= 2", timeout=30_000)  # the server's frames
    page.mouse.up()
    assert posts, "no drag frame was posted to the server"
    assert page.query_selector("canvas.ld-canvas") is None
    assert [w for w in warned if "WebAssembly" in w] == [
        "latentdash: decoding on the server: this browser has no WebAssembly"
    ]


def test_a_corrupt_onnx_file_falls_back_to_the_server(page, live_server):
    page.route("**/onnx/*.onnx*", lambda route: route.fulfill(status=200, body=b"\x08\x07garbage" * 100))
    warned = []
    page.on(
        "console",
        lambda m: warned.append(m.text) if m.type == "warning" and "decodes on the server" in m.text else None,
    )
    posts = drag_posts(page)
    open_page(page, live_server)
    page.wait_for_function("() => window.latentdashOnnx.started", timeout=30_000)
    approach_sliders(page)
    page.wait_for_function(
        "() => { const m = window.latentdashDecoder.models['pca-16']; return m && m.failed; }", timeout=90_000
    )
    wait_where(page, "server")
    watch_img(page)
    hold_and_drag_first_slider(page, 12)
    page.wait_for_function("() => window.__srcs.size >= 2", timeout=30_000)
    page.mouse.up()
    assert posts and len(warned) == 1 and warned[0].startswith("latentdash: pca-16 decodes on the server: ")
    assert page.evaluate("() => document.getElementById('current-img').naturalWidth") == 28  # never blank


def test_the_switch_forces_server_decoding_and_is_remembered(page, live_server):
    posts = drag_posts(page)
    open_page(page, live_server)
    wait_where(page, "browser")
    page.check("#decode-where input[type=checkbox]")
    wait_where(page, "server")
    assert page.evaluate("() => localStorage.getItem('latentdash.decode')") == "server"
    page.reload()
    open_page(page, live_server)
    page.wait_for_function("() => window.latentdashOnnx.started", timeout=30_000)
    page.wait_for_timeout(1500)  # forced: the runtime is not even fetched
    assert page.evaluate(WHERE) == "server" and page.is_checked("#decode-where input[type=checkbox]")
    assert page.evaluate("() => !window.ort")  # no 2 MB download for a page that decodes on the server
    hold_and_drag_first_slider(page, 8)
    page.wait_for_timeout(300)
    page.mouse.up()
    assert posts, "forced server decoding posted no drag frame"
    n = len(posts)
    page.uncheck("#decode-where input[type=checkbox]")
    wait_where(page, "browser")
    assert page.evaluate("() => localStorage.getItem('latentdash.decode')") == "browser"
    hold_and_drag_first_slider(page, 8)
    page.wait_for_timeout(300)
    page.mouse.up()
    assert len(posts) == n  # back in the browser: no more drag requests


@pytest.fixture(scope="module")
def generator_server(generator_explorer):
    """A server whose one model (a numpy generator) cannot be exported."""
    import waitress

    from latentdash.server.app_factory import create_app

    app = create_app(explorers=[generator_explorer])
    srv = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=4)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.effective_port}/"
    srv.close()


def test_a_model_without_an_export_decodes_on_the_server(page, generator_server):
    posts = drag_posts(page)
    warned = []
    page.on(
        "console",
        lambda m: warned.append(m.text) if m.type == "warning" and "decodes on the server" in m.text else None,
    )
    open_page(page, generator_server)
    approach_sliders(page)
    page.wait_for_function(
        "() => { const m = window.latentdashDecoder.models['rgb-gen']; return m && m.failed; }", timeout=90_000
    )
    wait_where(page, "server")
    assert "not a torch module" in page.evaluate("() => document.querySelector('#decode-where .ld-decode-text').title")
    watch_img(page)
    hold_and_drag_first_slider(page, 10)
    page.wait_for_function("() => window.__srcs.size >= 2", timeout=30_000)
    page.mouse.up()
    assert posts and len(warned) == 1


def test_the_attribute_strength_drag_decodes_in_the_browser(page, live_server):
    """The strength slider (kind "strength"): the edited image is decoded here as z + s * v, and
    after release the server's committed image has the same pixels (within 1/255)."""
    from tests.test_browser_algebra import open_settled, wait_for_data_src

    posts = drag_posts(page)
    open_settled(page, live_server + "?dir=c7%3Ec9")
    wait_for_data_src(page, "attr-edit")
    wait_where(page, "browser")
    page.wait_for_function("() => !document.getElementById('btn-attr-apply').disabled", timeout=30_000)
    handle = page.locator(".ld-strength [role=slider]")
    handle.scroll_into_view_if_needed()
    frames0 = page.evaluate("window.latentdashOnnx.frames")
    box = handle.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 13):
        page.mouse.move(x0 + 6 * k, y0)
        page.wait_for_timeout(60)
    page.wait_for_timeout(300)
    assert page.evaluate("window.latentdashOnnx.frames") > frames0
    edit = page.evaluate(
        "() => { const c = document.getElementById('attr-edit').previousElementSibling;"
        " return c && c.tagName === 'CANVAS' ? Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data) : null; }"
    )
    page.mouse.up()
    assert edit is not None and posts == []
    page.wait_for_function(HAS_PARAM_STRENGTH, timeout=30_000)
    page.wait_for_function("() => document.getElementById('attr-edit').style.display !== 'none'", timeout=30_000)
    server = page.evaluate(
        """async () => { const img = document.getElementById('attr-edit'); await img.decode();
        const c = document.createElement('canvas'); c.width = 28; c.height = 28;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, 28, 28);
        return Array.from(ctx.getImageData(0, 0, 28, 28).data); }"""
    )
    diff = np.abs(np.array(edit[::4]) - np.array(server[::4]))
    assert diff.max() <= 1 and np.ptp(server[::4]) > 50
    assert posts == []
