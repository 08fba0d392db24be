"""Downloads (issue 11, part 8): the export functions, the REST API's export operations through
Flask's test client, and the page's download links (pure `download_links` and its callback over
Dash's HTTP protocol). Meaning first: a x3 PNG is the decode with each pixel a 3x3 block; a GIF
plays the page's strip there and back (frame k = step k); a sweep GIF moves one dimension
through the slider's range; the traversal and prior sheets are the page's cells; the CSV's row i
is atlas item i. Then every bad input: one JSON line, 4xx, never a 500, nothing written."""

from __future__ import annotations

import base64
import csv
import io
import os

import numpy as np
import pytest
from PIL import Image, ImageSequence

from latentdash import export, imaging
from latentdash.export import names
from latentdash.ui import algebra as A
from latentdash.ui import algebra_render, export_links, ids, render, urlstate
from latentdash.ui.handlers import Reject

API = "/api/v1/models"
VAE = "fashion-vae-16"
AE = "fashion-ae-16"


def _shipped(name):
    from latentdash.atlas.shipped import CHECKPOINT_DIR, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    ck = CHECKPOINT_DIR / f"{name}.pt"
    return Explorer(load_model(str(ck)), load_atlas(shipped_atlas_path(ck)), name)


@pytest.fixture(scope="module")
def exps(generator_explorer):
    return [_shipped(VAE), _shipped(AE), generator_explorer]


@pytest.fixture(scope="module")
def client(exps):
    from latentdash.server.app_factory import create_app

    return create_app(explorers=exps).server.test_client()


@pytest.fixture(scope="module")
def cat(exps):
    """A Catalog of the app's explorers (the same views the app derives from them)."""
    from latentdash.ui.catalog import Catalog

    return Catalog(exps)


def state_of(catalog, search: str) -> dict:
    state, problems = urlstate.parse(search, catalog)
    assert problems == [], problems
    return state


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def uri_pixels(uri: str) -> np.ndarray:
    return pixels(base64.b64decode(uri.split(",", 1)[1]))


def gif_frames(data: bytes) -> tuple[list[np.ndarray], dict]:
    im = Image.open(io.BytesIO(data))
    info = dict(im.info)
    return [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(im)], info


def tiles(sheet: np.ndarray, rows: int, cols: int, h: int = 28, w: int = 28, pad: int = 1) -> list[np.ndarray]:
    return [
        sheet[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w]
        for r in range(rows)
        for c in range(cols)
    ]


def u8(x) -> np.ndarray:
    return imaging.to_uint8(x)


def get(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:200])
    return r


def attachment_name(r) -> str:
    cd = r.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="') and cd.endswith('"'), cd
    return cd[len('attachment; filename="') : -1]


# ---------------------------------------------------------------------------------- pure functions
def test_there_and_back_plays_forward_then_back_without_repeating_an_end():
    x = np.arange(5)
    assert export.there_and_back(x).tolist() == [0, 1, 2, 3, 4, 3, 2, 1]
    assert export.there_and_back(np.arange(2)).tolist() == [0, 1]


def test_file_names_say_what_they_are_and_are_safe():
    assert (
        names.interp_name(VAE, 412, 7755, 16, "spherical", 1, "gif")
        == "fashion-vae-16_interp_412-to-7755_16-spherical.gif"
    )
    assert names.attr_name(
        VAE,
        "T-shirt/top \u2192 Shirt",
        -2,
        2,
        16,
        "item3",
        2,
    ) == ("fashion-vae-16_attr_T-shirt-top-to-Shirt_-2-to-2_16_item3_x2.gif")
    assert names.safe_part('a"b\r\nc; d') == "a-b-c-d"


def test_a_grey_gif_keeps_every_pixel_value_exactly():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(5, 1, 7, 9)).astype(np.uint8)
    got, info = gif_frames(export.gif_bytes(frames, scale=2, duration_ms=40))
    assert len(got) == 5 and info.get("loop") == 0 and info.get("duration") == 40
    for f, g in zip(frames, got):
        assert np.array_equal(np.repeat(np.repeat(f[0], 2, 0), 2, 1), g)


# ---------------------------------------------------------------------------------- REST: meaning
def test_png_x3_has_three_times_the_pixels_and_is_the_decode_downscaled(client, cat):
    view = cat.get(VAE)
    r = get(client, f"{API}/{VAE}/decode.png?index=412&scale=3")
    assert r.mimetype == "image/png" and attachment_name(r) == "fashion-vae-16_decode_item412_x3.png"
    big = pixels(r.data)
    assert big.shape == (84, 84)
    ref = u8(view.explorer.decode(view.explorer.latents[412])[0])
    assert np.array_equal(big[::3, ::3], ref)
    assert np.array_equal(big, np.repeat(np.repeat(ref, 3, 0), 3, 1))  # each pixel a 3x3 block
    # ... and it is the page's image of that vector (the current decode)
    page = uri_pixels(render.render_current(state_of(cat, "?model=fashion-vae-16&sel=412"), cat))
    assert np.array_equal(big[::3, ::3], page)
    assert not np.array_equal(ref, u8(view.explorer.decode(view.explorer.latents[7755])[0]))


def test_png_of_a_vector_in_the_link(client, cat):
    view = cat.get(VAE)
    z = np.round(view.explorer.latents[5] * 1.5, 4)
    r = get(client, f"{API}/{VAE}/decode.png?z=" + ",".join(f"{v:.4f}" for v in z))
    assert attachment_name(r) == f"fashion-vae-16_decode_{names.vector_tag(z)}.png"
    assert np.array_equal(pixels(r.data), u8(view.explorer.decode(z.astype(np.float32))[0]))


def test_interpolation_gif_is_the_pages_strip_there_and_back(client, cat):
    state = state_of(cat, "?model=fashion-vae-16&a=412&b=7755&steps=6&mode=spherical")
    strip = [uri_pixels(s) for s in render.render_interp(state, cat)["steps"]]
    r = get(client, f"{API}/{VAE}/interpolation.gif?a=412&b=7755&steps=6&mode=spherical&duration=80")
    assert r.mimetype == "image/gif" and attachment_name(r) == "fashion-vae-16_interp_412-to-7755_6-spherical.gif"
    frames, info = gif_frames(r.data)
    assert len(frames) == 2 * 6 - 2 and info["loop"] == 0 and info["duration"] == 80
    for k, f in enumerate(frames):
        step = k if k < 6 else 2 * 6 - 2 - k
        assert np.array_equal(f, strip[step]), k
    assert not np.array_equal(frames[0], frames[5])  # it moves: A is not B
    png = pixels(get(client, f"{API}/{VAE}/interpolation.png?a=412&b=7755&steps=6&mode=spherical&scale=2").data)
    assert png.shape == (2 * 28, 2 * (6 * 29 - 1))
    for k, t in enumerate(tiles(png[::2, ::2], 1, 6)):
        assert np.array_equal(t, strip[k]), k


def test_sweep_gif_moves_one_dimension_through_the_sliders_range(client, cat):
    view = cat.get(VAE)
    dim = int(view.var_order[0])
    axes = view.sliders["dims"]
    lo, hi = float(axes.lo[axes.idx.index(dim)]), float(axes.hi[axes.idx.index(dim)])
    r = get(client, f"{API}/{VAE}/sweep.gif?index=3&dim={dim}&steps=8")
    assert attachment_name(r) == names.sweep_name(VAE, dim, lo, hi, 8, "item3", 1)
    frames, _ = gif_frames(r.data)
    assert len(frames) == 14
    zs = np.repeat(view.explorer.latents[3][None], 8, 0).astype(np.float32)
    zs[:, dim] = np.linspace(lo, hi, 8, dtype=np.float32)
    want = [u8(x) for x in view.explorer.decode(zs)]
    for k in range(8):
        assert np.array_equal(frames[k], want[k]), k
    assert np.array_equal(frames[9], want[5])


def test_attribute_gif_adds_strength_times_the_direction(client, cat):
    view = cat.get(VAE)
    spec = A.presets(view)[0]["spec"]  # Sneaker -> Ankle boot
    d = A.direction(view, {"dir": spec})
    r = get(client, f"{API}/{VAE}/attribute.gif?index=3&dir={spec}&lo=-1&hi=2&steps=4")
    assert attachment_name(r) == "fashion-vae-16_attr_Sneaker-to-Ankle-boot_-1-to-2_4_item3.gif"
    frames, _ = gif_frames(r.data)
    want = [u8(x) for x in view.explorer.decode(view.explorer.latents[3][None] + np.array([[-1], [0], [1], [2]]) * d.v)]
    assert len(frames) == 6 and all(np.array_equal(frames[k], want[k]) for k in range(4))
    # the same direction sent as a vector gives the same frames
    v = ",".join(f"{x:.9g}" for x in d.v)
    same, _ = gif_frames(get(client, f"{API}/{VAE}/attribute.gif?index=3&v={v}&lo=-1&hi=2&steps=4").data)
    assert all(np.array_equal(a, b) for a, b in zip(frames, same))


def test_traversal_png_is_the_pages_grid_in_its_row_order(client, cat):
    state = state_of(cat, "?model=fashion-vae-16&sel=3&trav=1&tn=4&tcols=5&tk=1.5&tsort=1")
    page = algebra_render.render_trav(state, cat)
    assert [row["score"] for row in page["rows"]] == sorted((row["score"] for row in page["rows"]), reverse=True)
    r = get(client, f"{API}/{VAE}/traversal.png?index=3&rows=var&n=4&cols=5&k=1.5&sort=1")
    assert attachment_name(r) == "fashion-vae-16_traversal_var-4x5_1.5sigma_sorted_item3.png"
    sheet = pixels(r.data)
    assert sheet.shape == (4 * 29 - 1, 5 * 29 - 1)
    cells = [c for row in page["rows"] for c in row["cells"]]
    for k, t in enumerate(tiles(sheet, 4, 5)):
        assert np.array_equal(t, uri_pixels(cells[k])), k


def test_prior_png_is_the_pages_samples(client, cat):
    state = state_of(cat, "?model=fashion-vae-16&prior=1&pn=24&pseed=5&ptemp=0.8")
    page = algebra_render.render_prior(state, cat)["samples"]
    r = get(client, f"{API}/{VAE}/prior.png?n=24&seed=5&temp=0.8&scale=2")
    assert attachment_name(r) == "fashion-vae-16_prior_24_seed5_t0.8_x2.png"
    sheet = pixels(r.data)[::2, ::2]
    for k, t in enumerate(tiles(sheet, 3, 8)):
        assert np.array_equal(t, uri_pixels(page[k])), k


def test_a_colour_model_exports_colour_pngs_and_gifs(client, cat):
    view = cat.get("rgb-gen")
    png = pixels(get(client, f"{API}/rgb-gen/decode.png?index=2&scale=2").data)
    ref = u8(view.explorer.decode(view.explorer.latents[2])[0])
    assert png.shape == (32, 32, 3) and np.array_equal(png[::2, ::2], ref)
    im = Image.open(io.BytesIO(get(client, f"{API}/rgb-gen/interpolation.gif?a=0&b=1&steps=4").data))
    assert im.n_frames == 6
    first = np.asarray(im.convert("RGB"), np.int16)
    want = u8(view.explorer.decode(view.explorer.latents[0])[0]).astype(np.int16)
    assert np.abs(first - want).mean() < 8  # a 256-colour palette: close, not exact


# ---------------------------------------------------------------------------------- the page's links
def test_every_link_the_page_builds_downloads_what_it_names(client, cat):
    state = state_of(cat, "?model=fashion-vae-16&sel=412&a=412&b=7755&steps=16&mode=spherical&trav=1&prior=1&dir=c7>c9")
    links = export_links.download_links(state, cat, scale=3, dim=5)
    assert set(links) == set(export_links.LINKS) and all(r["href"] for r in links.values()), links
    assert links["interp_gif"]["download"] == "fashion-vae-16_interp_412-to-7755_16-spherical_x3.gif"
    for name, r in links.items():
        resp = get(client, r["href"])
        assert attachment_name(resp) == r["download"], name
    # the page's current decode at x3 = its sliders' image
    png = pixels(get(client, links["decode"]["href"]).data)
    assert np.array_equal(png[::3, ::3], uri_pixels(render.render_current(state, cat)))


def test_links_of_a_moved_vector_and_of_group_directions(client, cat):
    view = cat.get(VAE)
    z = np.asarray(view.explorer.latents[9]) + 0.5
    state = state_of(
        cat, "?model=fashion-vae-16&sel=9&z=" + ",".join(f"{v:.5g}" for v in z) + "&selection=0-40&dir=all>sel"
    )
    links = export_links.download_links(state, cat, scale=1, dim=0)
    assert "z=" in links["decode"]["href"] and "vector-" in links["decode"]["download"]
    assert "v=" in links["attr_gif"]["href"] and "_attr_vector_" in links["attr_gif"]["download"]
    for name in ("decode", "attr_gif", "sweep"):
        assert attachment_name(get(client, links[name]["href"])) == links[name]["download"]
    png = pixels(get(client, links["decode"]["href"]).data)
    assert np.array_equal(png, uri_pixels(render.render_current(state, cat)))


def test_links_not_available_now_say_why(cat):
    links = export_links.download_links(state_of(cat, "?model=fashion-ae-16"), cat)
    for name, why in (("interp_gif", "endpoints"), ("trav_png", "show"), ("attr_gif", "direction")):
        assert links[name]["href"] is None and why in links[name]["title"], name
    assert links["prior_png"]["href"] is None and "no prior" in links["prior_png"]["title"]
    assert links["csv"]["href"].endswith("/api/v1/models/fashion-ae-16/atlas.csv")
    with pytest.raises(Reject):
        export_links.download_links(state_of(cat, "?model=fashion-ae-16"), cat, scale=9)
    # a part of the state that can't be linked (a tampered store) greys that link only
    bad = dict(state_of(cat, "?model=fashion-vae-16&sel=3"), ton=True, tn=99)
    links = export_links.download_links(bad, cat)
    assert links["trav_png"]["href"] is None and "1 to 12 rows" in links["trav_png"]["title"]
    assert links["decode"]["href"] and links["csv"]["href"]


def test_the_links_callback_over_dashs_protocol(client, cat):
    from tests.dashclient import DashClient, stores_of

    dc = DashClient(client)
    values = stores_of(state_of(cat, "?model=fashion-vae-16&sel=412&a=412&b=7755&steps=8"))
    values.update({f"{ids.EXP_SCALE}.value": 2, f"{ids.EXP_DIM}.value": 3})
    status, data = dc.call(f"{ids.EXP_DECODE}.href", values, [f"{ids.EXP_SCALE}.value"])
    assert status == 200
    resp = data["response"]
    assert resp[ids.EXP_DECODE]["href"] == f"{API}/{VAE}/decode.png?index=412&scale=2"
    assert resp[ids.EXP_INTERP_GIF]["download"] == "fashion-vae-16_interp_412-to-7755_8-linear_x2.gif"
    assert "ld-off" in resp[ids.EXP_TRAV_PNG]["className"] and resp[ids.EXP_TRAV_PNG]["href"] is None
    # a bad scale (a tampered request): the links stay, the message line says why
    values[f"{ids.EXP_SCALE}.value"] = 99
    status, data = dc.call(f"{ids.EXP_DECODE}.href", values, [f"{ids.EXP_SCALE}.value"])
    assert status == 200 and "download scale must be 1..8" in data["sideUpdate"][ids.MSG]["children"]
    assert ids.EXP_DECODE not in data.get("response", {}) or data["response"][ids.EXP_DECODE] == {}


# ---------------------------------------------------------------------------------- CSV
def test_csv_of_the_atlas_has_the_issues_columns_and_row_i_is_item_i(client, cat):
    view = cat.get(VAE)
    link = export_links.download_links(state_of(cat, "?model=fashion-vae-16"), cat)["csv"]
    r = get(client, link["href"])
    assert attachment_name(r) == link["download"] == "fashion-vae-16.fashion-mnist-test.atlas.csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == view.n
    cols = rows[0].keys()
    maps = view.map_names
    assert {"index", "label", "class_name", "split", "recon_error"} <= set(cols)
    assert [f"z{k}" for k in range(16)] == [c for c in cols if c[0] == "z" and c[1:].isdigit()]
    assert all(f"{m}_x" in cols and f"{m}_y" in cols for m in maps)
    for i in (0, 412, view.n - 1):
        row = rows[i]
        assert int(row["index"]) == i and row["split"] == "test"
        assert row["class_name"] == view.explorer.class_name(int(row["label"]))
        z = np.array([float(row[f"z{k}"]) for k in range(16)], np.float32)
        assert np.array_equal(z, view.explorer.latents[i])
        xy = view.explorer.coords(maps[0])[i]
        assert np.array_equal(np.array([float(row[f"{maps[0]}_x"]), float(row[f"{maps[0]}_y"])], np.float32), xy)


# ---------------------------------------------------------------------------------- REST: bad input
BAD = [
    ("nope/decode.png?index=1", 404, "no model named"),
    (f"{VAE}/decode.png?index=1&scale=9", 400, "scale"),
    (f"{VAE}/decode.png?index=1&scale=0", 400, "scale"),
    (f"{VAE}/decode.png?z=nan" + ",0" * 15, 400, "NaN"),
    (f"{VAE}/decode.png?z=1,2", 422, "latent_dim 16"),
    (f"{VAE}/decode.png", 422, "exactly one"),
    (f"{VAE}/decode.png?index=99999", 422, "past the atlas"),
    (f"{VAE}/interpolation.gif?a=1&b=2&steps=33", 400, "steps"),
    (f"{VAE}/interpolation.gif?a=1&b=2&steps=1", 400, "steps"),
    (f"{VAE}/interpolation.gif?a=1", 400, "b"),
    (f"{VAE}/interpolation.png?a=1&b=10000", 422, "past the atlas"),
    (f"{VAE}/interpolation.gif?a=1&b=2&duration=1", 400, "duration"),
    (f"{VAE}/interpolation.gif?a=1&b=2&mode=cubic", 400, "mode"),
    (f"{VAE}/sweep.gif?index=1&dim=16", 422, "latent dimensions"),
    (f"{VAE}/sweep.gif?index=1&dim=2&lo=3&hi=1", 422, "below"),
    (f"{VAE}/sweep.gif?index=1&dim=2&lo=nan", 400, "finite"),
    (f"{VAE}/attribute.gif?index=1", 422, "exactly one"),
    (f"{VAE}/attribute.gif?index=1&dir=c99>c1", 422, "does not fit"),
    (f"{VAE}/attribute.gif?index=1&dir=all>sel", 422, "selection"),
    (f"{VAE}/attribute.gif?index=1&dir=pc0&lo=-4", 400, "minimum"),
    (f"{VAE}/traversal.png?index=1&n=13", 400, "maximum"),
    (f"{VAE}/traversal.png?index=1&cols=99", 400, "maximum"),
    (f"{VAE}/traversal.png?index=1&rows=attr&groups=~", 422, "kept in the browser"),
    (f"{VAE}/prior.png?n=65", 400, "maximum"),
    (f"{VAE}/prior.png?temp=inf", 400, "finite"),
    (f"{AE}/prior.png", 422, "without a prior"),
    (f"{VAE}/prior.png?seed=x", 400, "integer"),
]


@pytest.mark.parametrize(("url", "status", "words"), BAD)
def test_bad_export_requests_get_one_json_line(client, url, status, words):
    r = client.get(f"{API}/{url}")
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True))
    msg = r.get_json()["error"]
    assert words in msg and "\n" not in msg and len(msg) < 200, msg


def test_exports_write_nothing_to_disk(client, tmp_path, monkeypatch):
    """No temporary file, nothing in the working folder or the cache: downloads are made in memory."""
    import tempfile

    work, temp = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    temp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    cache = os.environ.get("LATENTDASH_CACHE")
    atlas_dir = os.path.join(cache, "atlas") if cache else None
    before = sorted(os.listdir(atlas_dir)) if atlas_dir and os.path.isdir(atlas_dir) else None
    for url in ("decode.png?index=1&scale=8", "interpolation.gif?a=1&b=2&steps=32&scale=8", "atlas.csv"):
        get(client, f"{API}/{VAE}/{url}")
    assert list(work.iterdir()) == [] and list(temp.iterdir()) == []
    if before is not None:
        assert sorted(os.listdir(atlas_dir)) == before


def test_the_openapi_document_declares_the_downloads(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    want = {
        "/models/{model}/decode.png": "image/png",
        "/models/{model}/interpolation.png": "image/png",
        "/models/{model}/interpolation.gif": "image/gif",
        "/models/{model}/sweep.gif": "image/gif",
        "/models/{model}/attribute.gif": "image/gif",
        "/models/{model}/attribute.png": "image/png",
        "/models/{model}/traversal.png": "image/png",
        "/models/{model}/prior.png": "image/png",
        "/models/{model}/atlas.csv": "text/csv",
    }
    for path, ctype in want.items():
        op = doc["paths"][path]["get"]
        assert list(op["responses"]["200"]["content"]) == [ctype], path
        assert {"400", "404", "422"} <= set(op["responses"]) or path.endswith(".csv")


def test_csv_text_cells_are_quoted_as_csv_writer_quotes_them():
    from latentdash import exports

    for text in ("T-shirt/top", "a,b", 'say "hi"', "two\nlines", "", "cr\r"):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(["x", text])
        assert "x," + exports._cell(text) + "\n" == buf.getvalue(), text


def test_a_traversal_along_group_directions_downloads_the_pages_rows(client, cat):
    state = state_of(
        cat, "?model=fashion-vae-16&sel=3&selection=0-40&groups=mine:50-90&dir=all>sel&trav=1&trows=attr&tn=4&tcols=3"
    )
    page = algebra_render.render_trav(state, cat)
    assert [row["spec"] for row in page["rows"]][:1] == ["all>sel"]
    link = export_links.download_links(state, cat, scale=1)["trav_png"]
    assert "groups=mine:50-90" in link["href"] and "selection=0-40" in link["href"]
    r = get(client, link["href"])
    assert attachment_name(r) == link["download"]
    cells = [c for row in page["rows"] for c in row["cells"]]
    for k, t in enumerate(tiles(pixels(r.data), len(page["rows"]), 3)):
        assert np.array_equal(t, uri_pixels(cells[k])), k


def test_the_strength_strip_png_is_the_attribute_cards_strip(client, cat):
    state = state_of(cat, "?model=fashion-vae-16&sel=3&dir=c7>c9")
    page = algebra_render.render_attr(state, cat)["strip"]
    link = export_links.download_links(state, cat, scale=2)["attr_png"]
    assert link["download"] == "fashion-vae-16_attr_Sneaker-to-Ankle-boot_-2-to-2_5_item3_x2.png"
    r = get(client, link["href"])
    assert attachment_name(r) == link["download"]
    strip = pixels(r.data)[::2, ::2]
    assert [s["s"] for s in page] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    for k, t in enumerate(tiles(strip, 1, 5)):
        assert np.array_equal(t, uri_pixels(page[k]["src"])), k
