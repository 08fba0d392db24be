"""Your own image in a real headless Chromium (one page load): a PNG of a dataset item chosen
through dcc.Upload's file input is reconstructed, its nearest neighbour is the item and its star
lands on the item's point; a file that is not an image and an empty canvas are messages that leave
the card as it was; a stroke drawn with the mouse on the canvas is encoded and placed; "Use in
A - B + C as A" puts its code into the arithmetic card."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.test_browser import ARTIFACTS, GD, open_page, query

pytestmark = pytest.mark.browser
ITEM = 17

# [x, y] of the star, and of dataset item i on the shown 2-D map
STAR = f"""() => {{ const t = {GD}._fullData.find(t => t.name === 'upload');
  return t && t.x.length ? [t.x[0], t.y[0]] : null; }}"""
POINT = f"""(i) => {{ for (const t of {GD}._fullData) {{ if (!t.customdata) continue;
  const k = Array.from(t.customdata).indexOf(i); if (k >= 0) return [t.x[k], t.y[k]]; }} return null; }}"""
INFO = "() => document.getElementById('up-info').innerText"
RECON = "() => document.getElementById('up-recon').src"


def test_upload_draw_and_bad_input_in_the_page(page, live_server, explorers, tmp_path):
    thumbs = explorers[0].atlas.thumbnails
    png = tmp_path / "item.png"
    Image.fromarray(np.asarray(thumbs[ITEM][0], np.uint8)).save(png)
    open_page(page, live_server)
    assert page.evaluate(STAR) is None  # nothing uploaded: no star

    # a dataset image, uploaded back through dcc.Upload's input
    page.set_input_files("#upload input[type=file]", str(png))
    page.wait_for_function(f"() => ({INFO})().includes('item.png')")
    page.wait_for_function(f"() => ({RECON})().startsWith('data:image/png')")
    assert f"nearest: #{ITEM} " in page.evaluate(INFO)
    page.wait_for_function(STAR)
    star, point = page.evaluate(STAR), page.evaluate(POINT, ITEM)
    np.testing.assert_allclose(star, point, atol=1e-3)  # on its own point
    assert "img" in query(page)
    assert not page.is_disabled("#btn-up-load")
    # a zoom (the address bar is rewritten, the page re-reads it): the image, its name and star stay
    box = page.locator(".ld-graph.ld-on").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_function("() => new URLSearchParams(location.search).has('cam')")
    page.wait_for_timeout(1500)
    assert "item.png" in page.evaluate(INFO) and "img" in query(page)
    np.testing.assert_allclose(page.evaluate(STAR), point, atol=1e-3)
    page.locator("#upload-card").screenshot(path=str(ARTIFACTS / "upload-card.png"))

    # not an image (a text file renamed .png): a message, the card unchanged
    fake = tmp_path / "notes.png"
    fake.write_text("this is a text file, renamed\n")
    recon = page.evaluate(RECON)
    page.set_input_files("#upload input[type=file]", str(fake))
    page.wait_for_function("() => document.getElementById('message').innerText.includes('not a readable image')")
    assert page.evaluate(RECON) == recon and "item.png" in page.evaluate(INFO)

    # what dcc.Upload refuses without sending it (over 5 MB; an SVG): the page says why
    big = {"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + bytes(6 * 1024 * 1024)}
    page.set_input_files("#upload input[type=file]", files=[big])
    page.wait_for_function("() => document.getElementById('message').innerText.includes('the limit is 5 MB')")
    svg = {"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": b"<svg xmlns='http://www.w3.org/2000/svg'/>"}
    page.set_input_files("#upload input[type=file]", files=[svg])
    page.wait_for_function("() => document.getElementById('message').innerText.includes('not a PNG, JPEG or WebP')")
    assert page.evaluate(RECON) == recon and "item.png" in page.evaluate(INFO)

    # an empty canvas: "draw something first"
    page.click("#btn-up-cleardraw")
    page.click("#btn-up-draw")
    page.wait_for_function("() => document.getElementById('message').innerText.includes('draw something first')")
    assert "item.png" in page.evaluate(INFO)

    # a stroke drawn with the mouse (pointer events) is encoded and placed
    box = page.locator("#up-canvas").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 25):
        page.mouse.move(x0 + 2 * np.sin(k / 4), y0 + box["height"] * 0.03 * k)
    page.mouse.up()
    page.click("#btn-up-draw")
    page.wait_for_function(f"() => ({INFO})().includes('drawing')")
    page.wait_for_function(
        f"(old) => {{ const s = ({STAR})(); return s && (s[0] !== old[0] || s[1] !== old[1]); }}", arg=star
    )
    src = page.get_attribute("#up-orig", "src")
    im = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    assert im.shape == (28, 28) and im[14, 14] > 200 and im[14, 3] == 0  # the stroke down the middle
    assert im[3:25, 12:17].mean() > 100 and im[:, :8].max() == 0

    # its code as operand A of the arithmetic
    page.locator("#upload-card").get_by_role("button", name="A", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('arA')?.startsWith('z')")
    page.locator("#upload-card").screenshot(path=str(ARTIFACTS / "upload-card-drawing.png"))
