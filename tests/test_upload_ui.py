"""Your own image (issue 11, part 4): the conversion, the handlers and the render directly, then
the card through Dash's HTTP protocol (Flask's test client): an image of the dataset uploaded back
lands on its own point (its latent is the atlas latent, its star sits on the point's position),
a drawing is encoded, and every bad input (corrupt, truncated, a decompression bomb, an SVG or a
text file renamed .png, an empty canvas, more than 5 MB) is a one-line message with the page
unchanged, never a 500. Nothing uploaded is written to disk."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import struct
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from latentdash.errors import LatentdashError
from latentdash.ui import events, ids, upload, upload_card, urlstate
from latentdash.ui.handlers import NO_CHANGE, Env, Reject
from tests.dashclient import REDUCER, stores_of

# fixtures app, dc, catalog, explorers, initial: tests/conftest.py (two PCA models on 2,000 images)

ITEM = 17  # a dataset item uploaded back


def png_of(u8: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="PNG")
    return buf.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def item_png(view, i: int = ITEM) -> bytes:
    return png_of(np.asarray(view.explorer.atlas.thumbnails[i][0], np.uint8))


def bomb_png(w: int = 20000, h: int = 20000) -> bytes:
    """A PNG whose header claims w x h pixels (its data is a few compressed zero rows): what a
    decompression bomb looks like before it is decoded, at no cost to make."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (w + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><circle cx="14" cy="14" r="9"/></svg>'


@pytest.fixture(scope="module")
def view(catalog):
    return catalog.get(catalog.default)


def env_for(catalog, view):
    return Env(catalog, view)


def with_image(catalog, view, data: bytes, name="item.png", invert=False):
    state = urlstate.default_state(catalog)
    x = upload.convert(data, view, invert=invert)
    assert upload_card.on_upload(state, {"img": upload.image_uri(x), "name": name}, env_for(catalog, view)) is None
    return state


# ----------------------------------------------------------------------------- conversion + handlers
def test_a_dataset_image_uploaded_back_is_its_own_point(catalog, view):
    ex = view.explorer
    state = with_image(catalog, view, item_png(view))
    x = upload.upload_image(view, state)
    assert np.array_equal(x, ex.atlas.thumbnails[ITEM].astype(np.float32) / 255.0)  # pixel for pixel
    z = upload.upload_z(view, state)
    np.testing.assert_allclose(z, ex.latents[ITEM], atol=1e-4)
    for m in view.map_names:  # its star sits on the point, on every map
        np.testing.assert_allclose(upload.overlay_points(view, state, m)[0], ex.coords(m)[ITEM], atol=1e-3)
    r = upload_card.render_upload(state, catalog)
    assert r["has"] and r["nearest"]["i"] == ITEM and r["nearest"]["dist"] == 0.0
    assert r["orig"] == state["upimg"] and r["recon"].startswith("data:image/png;base64,")
    np.testing.assert_allclose(r["error"], ex.recon_error[ITEM], atol=1e-4)
    assert len(r["neighbours"]) == 8 and r["fits_url"]


def test_any_size_and_mode_is_converted_to_the_model_input_and_invert_flips_it(catalog, view):
    rng = np.random.default_rng(0)
    photo = (rng.random((300, 500, 3)) * 255).astype(np.uint8)
    photo[100:200, 200:300] = 255  # a bright square in the middle
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="JPEG", quality=90)
    x = upload.convert(buf.getvalue(), view)
    xi = upload.convert(buf.getvalue(), view, invert=True)
    assert x.shape == xi.shape == view.image_shape and x.dtype == np.float32
    # 500 wide -> padded to a square (background 0 rows at the top and bottom), then shrunk
    assert x[0, 0].max() == 0.0 and x[0, 14, 14] > 0.9
    inner = slice(6, 22)
    np.testing.assert_allclose(xi[0, inner], 1.0 - x[0, inner], atol=1.5 / 255)
    webp = io.BytesIO()
    Image.fromarray(photo).convert("LA").save(webp, format="WEBP", lossless=True)
    assert upload.convert(webp.getvalue(), view).shape == view.image_shape


def test_the_link_carries_the_image_and_a_tampered_one_is_dropped(catalog, view):
    state = with_image(catalog, view, item_png(view))
    q = urlstate.serialize(state, catalog)
    assert "img=" in q and len(q) < 2000
    back, problems = urlstate.parse(q, catalog)
    assert problems == [] and back["upimg"] == state["upimg"]
    bad = q.replace("img=", "img=AAAA")
    back, problems = urlstate.parse(bad, catalog)
    assert problems == ["img"] and back["upimg"] is None
    # an image of another size (a 10x10 PNG) is refused by the decoder
    small = base64.urlsafe_b64encode(png_of(np.zeros((10, 10), np.uint8))).decode().rstrip("=")
    with pytest.raises(ValueError):
        upload.decode_param(small, view, {})


def test_use_as_operand_load_into_sliders_and_remove(catalog, view):
    env = env_for(catalog, view)
    state = with_image(catalog, view, item_png(view))
    z = view.explorer.latents[ITEM]
    assert upload_card.on_upload_use(state, "b", env) is None
    np.testing.assert_allclose(state["arB"]["z"], z, atol=1e-4)
    assert upload_card.on_upload_use(state, "b", env) is NO_CHANGE
    assert upload_card.on_upload_load(state, None, env) is None
    np.testing.assert_allclose(state["z"], z, atol=1e-4)
    assert upload_card.on_upload_clear(state, None, env) is None and state["upimg"] is None
    for handler, value in ((upload_card.on_upload_load, None), (upload_card.on_upload_use, "a")):
        with pytest.raises(Reject, match="upload or draw an image first"):
            handler(state, value, env)
    with pytest.raises(Reject, match="unknown operand"):
        upload_card.on_upload_use(with_image(catalog, view, item_png(view)), "d", env)


def test_a_model_switch_re_encodes_the_image_with_the_new_model(catalog, view):
    state = with_image(catalog, view, item_png(view))
    res = events.reduce(state, "model", "pca-2", catalog)
    new = res["state"]
    other = catalog.get("pca-2")
    assert new["upimg"] == state["upimg"]
    np.testing.assert_allclose(upload.upload_z(other, new), other.explorer.latents[ITEM], atol=1e-4)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"hello, I am a text file renamed .png\n", "not a readable image"),
        (SVG, "not a readable image"),
        (b"GIF89a" + bytes(40), "not a readable image"),
        (None, "damaged or truncated"),  # a truncated PNG (filled in below)
        (bomb_png(), "too large to decode safely"),  # Pillow's bomb guard, when it is opened
        (bomb_png(8000, 8000), "64 megapixels"),  # our limit, from the header, before decoding
    ],
)
def test_bad_files_are_one_line_messages(view, data, message):
    if data is None:
        full = png_of((np.random.default_rng(1).random((64, 64)) * 255).astype(np.uint8))
        data = full[: len(full) // 2]
    with pytest.raises(LatentdashError, match=message) as e:
        upload.convert(data, view)
    assert "\n" not in str(e.value)


def test_data_urls_the_size_limit_and_an_empty_canvas(view):
    big = "data:image/png;base64," + "A" * (4 * (upload.MAX_UPLOAD_BYTES // 3 + 10))
    with pytest.raises(upload.UploadError, match="the limit is 5 MB"):
        upload.data_url_bytes(big)
    for bad in (None, "", "hello", "data:image/png;base64,@@@"):
        with pytest.raises(upload.UploadError):
            upload.data_url_bytes(bad)
    with pytest.raises(upload.UploadError, match="draw something first"):
        upload.check_drawing(np.zeros(view.image_shape, np.float32))
    with pytest.raises(upload.UploadError, match="draw something first"):
        upload.check_drawing(np.ones(view.image_shape, np.float32))  # inverted empty canvas
    upload.check_drawing(np.pad(np.ones((1, 4, 4), np.float32), ((0, 0), (12, 12), (12, 12))))


def test_the_state_is_checked_like_any_browser_input(catalog, view):
    env = env_for(catalog, view)
    state = urlstate.default_state(catalog)
    assert upload_card.on_upload(state, None, env) is NO_CHANGE
    for bad in (
        "x",
        {"img": 3},
        {"img": "data:image/png;base64,AAAA"},
        {"img": data_url(png_of(np.zeros((9, 9), np.uint8)))},
    ):
        with pytest.raises(Reject):
            upload_card.on_upload(state, bad, env)
    # a render of a tampered store is a one-line message, not a crash
    with pytest.raises(LatentdashError):
        upload_card.render_upload({**state, "upimg": "data:image/png;base64,AAAA"}, catalog)


# ----------------------------------------------------------------------------- over HTTP
CONVERT = f"{ids.ST_UPIN}.data"
CARD = f"{ids.UP_ORIG}.src"
MAP = f"{ids.GRAPH}.figure"


def convert_http(dc, state, contents=None, drawing=None, invert=None, changed=None, last=None, filename="x.png"):
    values = {
        f"{ids.UPLOAD}.contents": contents,
        f"{ids.ST_UPDRAW}.data": drawing,
        f"{ids.UP_INVERT}.value": invert or [],
        f"{ids.UPLOAD}.filename": filename,
        f"{ids.ST_UPLOAD}.data": urlstate.split(state)["upload"],
        f"{ids.ST_UPIN}.data": last,
    }
    return dc.call(CONVERT, values, changed or [f"{ids.UPLOAD}.contents"])


def reduce_upin(dc, state, upin):
    status, data = dc.call(
        REDUCER,
        {**stores_of(state), "click-mode.value": "inspect", f"{ids.ST_UPIN}.data": upin},
        [f"{ids.ST_UPIN}.data"],
    )
    assert status == 200, status
    return data["response"]


_WRITES: dict = {}  # thread id -> paths opened for writing while it watches (the audit hook below)


def _audit(event, args):
    if event == "open" and threading.get_ident() in _WRITES:
        path, mode, flags = args
        writing = isinstance(mode, str) and any(c in mode for c in "wax+")
        if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writing = True
        if writing:
            _WRITES[threading.get_ident()].append(path)


sys.addaudithook(_audit)


@contextlib.contextmanager
def no_file_written():
    """Fails if this thread opens any file for writing inside the block (Python's audit events)."""
    _WRITES[threading.get_ident()] = seen = []
    try:
        yield
    finally:
        del _WRITES[threading.get_ident()]
    assert seen == [], seen


def test_an_uploaded_dataset_image_is_placed_and_reconstructed_over_http(dc, initial, catalog, view):
    with no_file_written():  # nothing uploaded is written to disk: not the file, not a temporary one
        status, data = convert_http(dc, initial, contents=data_url(item_png(view)), filename="item17.png")
    assert status == 200
    upin = data["response"][ids.ST_UPIN]["data"]
    assert upin["name"] == "item17.png" and upin["src"] == "file"
    with no_file_written():
        r = reduce_upin(dc, initial, upin)
    part = r[ids.ST_UPLOAD]["data"]
    assert part["upimg"] == upin["img"] and "img=" in r[ids.URL]["search"]
    state = urlstate.merge(initial, part)
    # the card: the image, its reconstruction, its nearest neighbour is the item itself
    status, data = dc.call(CARD, {f"{ids.ST_UPLOAD}.data": part}, [f"{ids.ST_UPLOAD}.data"], {ids.UP_USE: list("abc")})
    assert status == 200
    out = data["response"]
    assert out[ids.UP_ORIG]["src"] == upin["img"] and out[ids.UP_RECON]["src"].startswith("data:image/png")
    assert out[ids.BTN_UP_LOAD]["disabled"] is False
    assert f'"index":{ITEM}' in str(out[ids.UP_NBRS]["children"]).replace(" ", "").replace("'", '"')
    # the map: a full figure with the star on the item's position
    parts = urlstate.split(state)
    values = {f"{sid}.data": parts.get(sid[3:]) for sid in ids.STORE_OF.values()}
    status, data = dc.call(MAP, {**values, f"{ids.ST_RENDERED}.data": None}, [f"{ids.ST_UPLOAD}.data"])
    assert status == 200
    fig = data["response"][ids.GRAPH]["figure"]
    star = next(t for t in fig["data"] if t["name"] == "upload")
    xy = view.explorer.coords(state["map"])[ITEM]
    np.testing.assert_allclose([star["x"][0], star["y"][0]], xy[:2], atol=1e-3)


def test_a_drawing_is_encoded_and_an_empty_canvas_is_a_message(dc, initial, view):
    canvas = np.zeros((224, 224, 4), np.uint8)
    canvas[..., 3] = 255
    blank = data_url(png_of(canvas))
    status, data = convert_http(dc, initial, drawing={"png": blank, "t": 1}, changed=[f"{ids.ST_UPDRAW}.data"])
    assert status == 200 and ids.ST_UPIN not in data.get("response", {})
    assert "draw something first" in data["sideUpdate"][ids.MSG]["children"]
    canvas[40:180, 100:124, :3] = 255  # one thick vertical stroke
    status, data = convert_http(
        dc, initial, drawing={"png": data_url(png_of(canvas)), "t": 2}, changed=[f"{ids.ST_UPDRAW}.data"]
    )
    upin = data["response"][ids.ST_UPIN]["data"]
    assert upin["name"] == "drawing" and upin["src"] == "drawing"
    x = upload.decode_image(upin["img"], view.image_shape)
    assert x[0, 14, 14] == 1.0 and x[0, 14, 2] == 0.0  # the stroke, shrunk 8x
    # the invert switch converts the image on show again, inverted
    shown = urlstate.merge(initial, reduce_upin(dc, initial, upin)[ids.ST_UPLOAD]["data"])
    status, data = convert_http(
        dc, shown, drawing={"png": data_url(png_of(canvas)), "t": 2}, invert=["on"], changed=[f"{ids.UP_INVERT}.value"],
        last=upin,
    )  # fmt: skip
    inv = upload.decode_image(data["response"][ids.ST_UPIN]["data"]["img"], view.image_shape)
    np.testing.assert_allclose(inv, 1.0 - x, atol=1.5 / 255)


@pytest.mark.parametrize(
    "contents, message",
    [
        (data_url(b"just text\n"), "not a readable image"),
        (data_url(SVG, "image/svg+xml"), "not a readable image"),
        (data_url(bomb_png()), "too large"),
        ("data:image/png;base64,not*base64", "base64"),
        ("a plain string", "not a file's data"),
    ],
)
def test_bad_uploads_over_http_leave_the_page_as_it_was(dc, initial, contents, message):
    status, data = convert_http(dc, initial, contents=contents)
    assert status == 200 and ids.ST_UPIN not in data.get("response", {})
    msg = data["sideUpdate"][ids.MSG]["children"]
    assert msg.startswith("Could not use the image:") and message in msg and "\n" not in msg


def test_more_than_5_mb_is_refused_with_a_message_and_a_huge_body_is_a_413(app, dc, initial):
    over_5_mb = base64.b64encode(b"\x89PNG" + bytes(5 * 1024 * 1024 + 100_000)).decode()
    status, data = convert_http(dc, initial, contents="data:image/png;base64," + over_5_mb)
    assert status == 200 and "the limit is 5 MB" in data["sideUpdate"][ids.MSG]["children"]
    # past the request allowance (4/3 of the limit): Flask answers 413 with a message, not a 500
    body = dc.body(CONVERT, {f"{ids.UPLOAD}.contents": "data:image/png;base64," + "A" * (9 * 1024 * 1024)}, [])
    r = app.server.test_client().post("/_dash-update-component", json=body)
    assert r.status_code == 413 and "too large" in r.get_json()["error"]


def test_the_upload_events_over_http(dc, initial, view):
    upin = {"img": upload.image_uri(upload.convert(item_png(view), view)), "name": "a.png", "n": 1}
    s = urlstate.merge(initial, reduce_upin(dc, initial, upin)[ids.ST_UPLOAD]["data"])
    status, data = dc.call(
        REDUCER, {**stores_of(s), "click-mode.value": "inspect", f"{ids.UP_USE}.n_clicks": [None, None, 1]},
        ['{"index":"c","type":"up-use"}.n_clicks'], {ids.UP_USE: list("abc")},
    )  # fmt: skip
    assert status == 200
    np.testing.assert_allclose(
        data["response"][ids.ST_ARITH]["data"]["arC"]["z"], view.explorer.latents[ITEM], atol=1e-4
    )
    # a tampered st-upin: a message, nothing changes
    r = reduce_upin(dc, s, {"img": "data:image/png;base64,AAAA"})
    assert ids.ST_UPLOAD not in r and "upload it again" in r[ids.MSG]["children"]


def test_a_generator_without_an_encoder_says_so(generator_explorer):
    from latentdash.ui.catalog import Catalog
    from latentdash.ui.upload_callbacks import converted

    cat = Catalog([generator_explorer])
    view = cat.get(cat.default)
    state = urlstate.default_state(cat)
    r = upload_card.render_upload(state, cat)
    assert r["available"] is False and "no encoder" in r["note"]
    img = upload.image_uri(np.zeros(view.image_shape, np.float32))
    with pytest.raises(Reject, match="without an encoder"):
        upload_card.on_upload(state, {"img": img, "name": "x.png"}, Env(cat, view))
    with pytest.raises(LatentdashError, match="without an encoder"):
        converted(cat, "file", data_url(png_of(np.zeros((16, 16, 3), np.uint8))), "x.png", False, view.name, {})


def test_the_page_re_reading_its_own_address_changes_nothing(catalog, view):
    """After a camera move the page rewrites the address bar and reads it back (a `url` event):
    a state with an image must parse back to itself, or every zoom would redraw the whole map."""
    state = with_image(catalog, view, item_png(view))
    state["cam"] = {"x": [-1.0, 1.0], "y": [-2.0, 2.0]}
    res = events.reduce(state, "url", urlstate.serialize(state, catalog), catalog)
    assert res["state"] is None and res["message"] is None
