"""Downloads in a real headless Chromium: the page's links (built from the view in the URL) are
clicked like a user would; the files arrive (playwright's download event) under the names the
links give and parse to the right pixels and rows; "Copy link" puts the view's URL in the
clipboard, or, without clipboard access, in a selected text box. One page load for the module."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image, ImageSequence

from latentdash import imaging
from latentdash.ui import ids
from tests.test_browser import open_page

pytestmark = pytest.mark.browser
VIEW = "?model=pca-16&sel=5&a=5&b=40&steps=6&mode=linear"
LINK_READY = "(id) => { const a = document.getElementById(id); return !!(a && a.getAttribute('href')); }"


@pytest.fixture(scope="module")
def shown(browser, live_server):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.rstrip("/"))
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    errors = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    open_page(pg, live_server + VIEW)
    yield pg
    ctx.close()
    assert errors == [], errors


def download(pg, link_id: str):
    pg.wait_for_function(LINK_READY, arg=link_id)
    with pg.expect_download() as info:
        pg.click(f"#{link_id}")
    d = info.value
    assert d.failure() is None, d.failure()
    with open(d.path(), "rb") as f:
        return d.suggested_filename, f.read()


def test_the_interpolation_gif_downloads_and_plays_a_to_b_and_back(shown, explorers):
    name, data = download(shown, ids.EXP_INTERP_GIF)
    assert name == "pca-16_interp_5-to-40_6-linear_x4.gif"  # x4: the page's default scale
    im = Image.open(io.BytesIO(data))
    frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(im)]
    assert len(frames) == 2 * 6 - 2 and frames[0].shape == (112, 112)
    ex = explorers[0]
    for k, z in ((0, ex.latents[5]), (5, ex.latents[40])):
        assert np.array_equal(frames[k][::4, ::4], imaging.to_uint8(ex.decode(z)[0])), k
    assert np.array_equal(frames[9], frames[1])  # on the way back


def test_the_current_decode_png_is_the_decode_at_x4(shown, explorers):
    name, data = download(shown, ids.EXP_DECODE)
    assert name == "pca-16_decode_item5_x4.png"
    png = np.asarray(Image.open(io.BytesIO(data)))
    ex = explorers[0]
    assert png.shape == (112, 112)
    assert np.array_equal(png, imaging.upscale(imaging.to_uint8(ex.decode(ex.latents[5])[0]), 4))


def test_the_atlas_csv_downloads_and_parses(shown, explorers):
    name, data = download(shown, ids.EXP_CSV)
    assert name == "pca-16.fashion-mnist-test.atlas.csv"
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    ex = explorers[0]
    assert len(rows) == ex.n
    assert {"index", "label", "class_name", "split", "z0", "z15", "recon_error"} <= set(rows[0])
    z = np.array([float(rows[7][f"z{k}"]) for k in range(16)], np.float32)
    assert np.array_equal(z, ex.latents[7]) and rows[7]["class_name"] == ex.class_name(int(rows[7]["label"]))


def test_copy_link_puts_the_views_url_in_the_clipboard_or_a_selected_box(shown):
    pg = shown
    pg.click(f"#{ids.BTN_COPY_LINK}")
    pg.wait_for_function(f"() => document.getElementById('{ids.COPY_NOTE}').innerText.length > 0")
    assert pg.inner_text(f"#{ids.COPY_NOTE}") == "Link copied"
    url = pg.evaluate("() => window.location.href")
    assert "a=5" in url and "b=40" in url
    assert pg.evaluate("() => navigator.clipboard.readText()") == url
    assert not pg.is_visible(f"#{ids.COPY_BOX}")
    # without clipboard access (plain http from another machine): the link, selected, in a box
    pg.evaluate(
        "() => { window._ldClip = navigator.clipboard;"
        " Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true}); }"
    )
    try:
        pg.click(f"#{ids.BTN_COPY_LINK}")
        pg.wait_for_function(f"() => document.getElementById('{ids.COPY_NOTE}').innerText.startsWith('Press')")
        box = f"#{ids.COPY_BOX}"
        pg.wait_for_function(
            f"() => {{ const b = document.getElementById('{ids.COPY_BOX}');"
            " return document.activeElement === b && b.selectionEnd - b.selectionStart === b.value.length; }"
        )
        assert pg.is_visible(box) and pg.input_value(box) == url
    finally:
        pg.evaluate("() => Object.defineProperty(navigator, 'clipboard', {value: window._ldClip, configurable: true})")
    pg.screenshot(path="test-artifacts/exports-copy-link.png")
