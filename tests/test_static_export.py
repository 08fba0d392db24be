"""`latentdash export-static OUT/`: the folder (manifest, bit-exact data, sprite sheet, size), the
command's bad inputs, and the page served by a real `python -m http.server` in headless Chromium:
no console errors, the map drawn, hover, click -> the browser's reconstruction within 1/255 of the
server's torch decode, a slider drag decoding as it moves with the marker where the server would
put it, an interpolation strip whose ends are decode(A) and decode(B), the 3-D map, and a corrupt
or missing decoder said in the page with the originals shown. No timing assertions."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentdash import imaging, latent_ops
from latentdash.atlas.shipped import shipped_atlas_path
from latentdash.atlas.store import load_atlas
from latentdash.cli import main
from latentdash.export_static import SIZE_TARGET, folder_sizes

MODEL = "fashion-vae-16"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The default export (the shipped fashion-vae-16 on the bundled 10k images), once."""
    root = tmp_path_factory.mktemp("static")
    out = root / "demo"
    assert main(["export-static", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(shipped_atlas_path(MODEL))


@pytest.fixture(scope="module")
def model():
    from latentdash.models import load_model

    return load_model(MODEL)


def manifest(folder: Path) -> dict:
    return json.loads((folder / "data" / "manifest.json").read_text())


def f32(folder: Path, rel: str) -> np.ndarray:
    return np.frombuffer((folder / rel).read_bytes(), "<f4")


def decoded_u8(model, z) -> np.ndarray:
    x = np.asarray(model.decode(np.asarray(z, np.float32).reshape(-1, model.latent_dim)), np.float32)
    return np.stack([imaging.to_uint8(im).reshape(-1) for im in x]).astype(int)


# ----------------------------------------------------------------------------- the folder
def test_manifest_matches_the_atlas(exported, atlas):
    m = manifest(exported)
    assert m["format"] == "latentdash-static" and m["default"] == MODEL and len(m["models"]) == 1
    md = m["models"][0]
    assert (md["name"], md["kind"], md["latent_dim"], md["n"]) == (MODEL, "vae", 16, atlas.n)
    assert md["image_shape"] == [1, 28, 28] and md["class_names"] == list(atlas.class_names)
    assert set(md["maps"]) == set(atlas.maps)  # every map: latent and pixel, PCA/t-SNE/UMAP, 2-D and 3-D
    for name, mp in md["maps"].items():
        c = f32(exported, mp["file"])
        assert mp["dims"] == atlas.maps[name].shape[1]
        assert np.array_equal(c.reshape(atlas.maps[name].shape), atlas.maps[name]), name  # bit-exact
    labels = json.loads((exported / md["labels"]).read_text())
    assert np.array_equal(labels, atlas.labels)
    dec = json.loads((exported / md["decoder"]).read_text())
    assert dec["onnx"] == f"data/{MODEL}.decoder.onnx" and (exported / dec["onnx"]).is_file()
    assert dec["latents"] == md["latents"]["file"] and dec["latent_dim"] == 16
    assert dec["maps"]["latent-pca-2d"]["kind"] == "pca" and dec["maps"]["latent-umap-2d"]["kind"] == "knn"
    for basis, ax in md["sliders"].items():  # the server page's slider ranges
        assert ax["lo"] == pytest.approx(dec["sliders"][basis]["lo"], abs=1e-6)
        assert len(ax["labels"]) == len(ax["lo"]) == len(dec["sliders"][basis]["idx"])
    on_disk = {str(p.relative_to(exported)): p.stat().st_size for p in exported.rglob("*") if p.is_file()}
    assert {k: v for k, v in on_disk.items() if k != "data/manifest.json"} == m["files"]


def test_latents_round_trip_bit_exact(exported, atlas):
    md = manifest(exported)["models"][0]
    z = f32(exported, md["latents"]["file"]).reshape(md["latents"]["shape"])
    assert z.view(np.uint32).tobytes() == np.ascontiguousarray(atlas.latents, "<f4").view(np.uint32).tobytes()


def test_sprite_tile_k_is_thumbnail_k(exported, atlas):
    sp = manifest(exported)["models"][0]["sprite"]
    sheet = np.asarray(Image.open(io.BytesIO((exported / sp["file"]).read_bytes())))
    assert sheet.shape == (sp["rows"] * 28, sp["cols"] * 28) and sheet.dtype == np.uint8
    tiles = sheet.reshape(sp["rows"], 28, sp["cols"], 28).transpose(0, 2, 1, 3).reshape(-1, 28, 28)
    assert np.array_equal(tiles[: atlas.n], atlas.thumbnails[:, 0])
    assert not tiles[atlas.n :].any()  # the unused tail of the last row is black


def test_folder_size_and_runtime(exported, model, atlas):
    raw, gz = folder_sizes(exported)
    print(f"\nstatic export of {MODEL} (10k): {raw / 1e6:.2f} MB on disk, {gz / 1e6:.2f} MB gzipped")
    assert raw <= SIZE_TARGET, f"{raw / 1e6:.1f} MB > {SIZE_TARGET / 1e6:.0f} MB"
    wasm = (exported / "ort" / "ort-wasm-simd-threaded.wasm").read_bytes()
    assert wasm[:4] == b"\0asm"  # the plain WebAssembly file a static host can send as is
    import onnxruntime as ort

    sess = ort.InferenceSession((exported / "data" / f"{MODEL}.decoder.onnx").read_bytes())
    z = atlas.latents[:50]
    x = sess.run(None, {sess.get_inputs()[0].name: z})[0]
    assert np.abs(x - model.decode(z)).max() <= 1 / 255


# ----------------------------------------------------------------------------- bad inputs
def _leftovers(parent: Path) -> list:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_non_empty_out_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export-static", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "not empty" in err[0] and "--force" in err[0]
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and _leftovers(tmp_path) == []


def test_unknown_checkpoint_is_refused_and_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "new"
    assert main(["export-static", str(out), "--checkpoint", "no-such-model", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no-such-model" in err[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "file"
    out.write_text("x")
    assert main(["export-static", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a file" in err[0] and out.read_text() == "x"


# ----------------------------------------------------------------------------- in the browser
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def static_server(exported):
    """`python -m http.server` (a real subprocess) serving the export's parent folder, with a copy
    whose decoder is corrupt and one whose decoder is missing."""
    root = exported.parent
    for case in ("corrupt", "missing"):
        shutil.copytree(exported, root / case)
    (root / "corrupt" / "data" / f"{MODEL}.decoder.onnx").write_bytes(b"this is no onnx file" * 100)
    (root / "missing" / "data" / f"{MODEL}.decoder.onnx").unlink()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "demo/index.html", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(10)


def _open(browser, url, want: str):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    pg.errors, pg.failed = [], []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.failed.append(str(e)))
    pg.goto(url)
    pg.wait_for_function(f"() => document.body.dataset.ready === '1' && document.body.dataset.decode === '{want}'",
                         timeout=90_000)  # fmt: skip
    return ctx, pg


@pytest.fixture(scope="module")
def spage(browser, static_server):
    """One page load of the export for the module's tests (in order); no console errors at all."""
    ctx, pg = _open(browser, static_server + "demo/", "browser")
    yield pg
    errors = pg.errors + pg.failed
    ctx.close()
    assert errors == [], errors


MAP = "document.getElementById('map')"
POINT_XY = f"""([t, k]) => {{ const gd = {MAP}, fl = gd._fullLayout, tr = gd._fullData[t];
  const r = gd.getBoundingClientRect();
  return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[k]), r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[k])]; }}"""
POINTS_NEAR = f"""([x, y, rad]) => {{ const gd = {MAP}, fl = gd._fullLayout, r = gd.getBoundingClientRect(), out = [];
  gd._fullData.forEach(tr => {{ if (!tr.customdata || !tr.customdata.length) return;
    for (let k = 0; k < tr.x.length; k++) {{
      const px = r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[k]);
      const py = r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[k]);
      if (Math.hypot(px - x, py - y) <= rad) out.push(tr.customdata[k]); }} }});
  return out; }}"""
PIXELS = """(id) => { const c = document.getElementById(id);
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return Array.from({length: c.width * c.height}, (_, k) => px[4 * k]); }"""
SEL_JS = "window.latentdashStatic.state.sel"
FRAMES_JS = "window.latentdashStatic.state.frames"
SEL, FRAMES = f"() => {SEL_JS}", f"() => {FRAMES_JS}"


def click_point(pg, trace: int, k: int) -> tuple[int, set]:
    """Hover then click point k of class trace `trace`; (the selected index, the ids near there)."""
    before = pg.evaluate(SEL)
    for attempt in range(3):
        x, y = pg.evaluate(POINT_XY, [trace, k])
        near = set(pg.evaluate(POINTS_NEAR, [x, y, 5]))
        pg.mouse.move(x - 3, y)
        pg.mouse.move(x, y)
        pg.mouse.click(x, y)
        try:
            pg.wait_for_function(f"(ids) => ids.includes({SEL_JS}) && {SEL_JS} !== {before}", arg=sorted(near),
                                 timeout=10_000)  # fmt: skip
            break
        except Exception:
            if attempt == 2:
                raise
    frames = pg.evaluate(FRAMES)
    pg.wait_for_function(f"() => {FRAMES_JS} >= {frames}")
    pg.wait_for_timeout(200)
    return pg.evaluate(SEL), near


@pytest.mark.browser
def test_page_draws_every_point(spage, atlas):
    counts = spage.evaluate(
        f"() => {MAP}._fullData.filter(t => t.customdata && t.customdata.length).map(t => t.x.length)"
    )
    assert sum(counts) == atlas.n and len(counts) == len(atlas.class_names)
    assert spage.evaluate("() => document.body.dataset.map") == "latent-umap-2d"
    assert "need the full server" in spage.inner_text("#server-note")
    assert spage.inner_text("#decode-where") == "decoding: in your browser (WebAssembly)"


@pytest.mark.browser
def test_hover_shows_thumbnail_and_click_inspects(spage, atlas, model):
    i, near = click_point(spage, 3, 40)
    assert i in near and i != 0
    tip = int(spage.evaluate("() => document.getElementById('tip').dataset.index"))
    assert tip in near and spage.is_visible("#tip")
    assert np.array_equal(spage.evaluate(PIXELS, "tip-img"), atlas.thumbnails[tip].reshape(-1))
    assert np.array_equal(spage.evaluate(PIXELS, "ins-orig"), atlas.thumbnails[i].reshape(-1))  # from the sprite
    got = np.array(spage.evaluate(PIXELS, "ins-cur"))
    want = decoded_u8(model, atlas.latents[i])[0]
    assert np.abs(got - want).max() <= 1 and np.ptp(want) > 100  # the server's torch decode, within 1/255
    assert f"#{i}" in spage.inner_text("#ins-label")
    z_text = spage.text_content("#ins-z").strip("[]").split(", ")
    assert np.allclose([float(v) for v in z_text], atlas.latents[i], atol=5e-4)
    ring = spage.evaluate("() => window.latentdashStatic.state.markerAt")
    assert np.allclose(ring, atlas.maps["latent-umap-2d"][i], atol=1e-5)  # a dataset latent lands on its item
    spage.screenshot(path=str(_artifacts() / "static-01-inspect.png"))


@pytest.mark.browser
def test_slider_drag_decodes_while_moving_and_the_marker_follows(spage, atlas, model):
    from latentdash.atlas.placement import Placer

    i = spage.evaluate(SEL)
    before = spage.evaluate(PIXELS, "ins-cur")
    frames0 = spage.evaluate(FRAMES)
    box = spage.locator("#sliders input").first.bounding_box()
    lo, hi, val = spage.evaluate(
        "() => { const s = document.querySelector('#sliders input'); return [+s.min, +s.max, +s.value]; }"
    )
    x0 = box["x"] + 8 + (box["width"] - 16) * (val - lo) / (hi - lo)
    y0 = box["y"] + box["height"] / 2
    spage.mouse.move(x0, y0)
    spage.mouse.down()
    for k in range(1, 13):
        spage.mouse.move(x0 + 6 * k, y0)
        spage.wait_for_timeout(40)
    spage.mouse.up()
    spage.wait_for_function(f"() => {FRAMES_JS} > {frames0 + 2}")
    spage.wait_for_timeout(300)
    z = np.array(spage.evaluate("() => Array.from(window.latentdashStatic.state.z)"), np.float32)
    values = spage.evaluate("() => Array.from(document.querySelectorAll('#sliders input'), (s) => +s.value)")
    assert values[0] > val  # the handle moved right
    from latentdash.service import Explorer
    from latentdash.ui.catalog import ModelView

    ax = ModelView(Explorer(model, atlas, MODEL)).sliders["dims"]
    assert np.allclose(z, ax.compose(atlas.latents[i], values), atol=1e-6)  # the vector the server would make
    got = np.array(spage.evaluate(PIXELS, "ins-cur"))
    assert not np.array_equal(got, before)
    assert np.abs(got - decoded_u8(model, z)[0]).max() <= 1
    ring = spage.evaluate("() => window.latentdashStatic.state.markerAt")
    assert np.allclose(ring, Placer(atlas).project(z[None], "latent-umap-2d")[0], atol=1e-3)
    spage.screenshot(path=str(_artifacts() / "static-02-slider.png"))


@pytest.mark.browser
def test_interpolation_strip_ends_are_decode_a_and_b(spage, atlas, model):
    a, _ = click_point(spage, 1, 25)
    spage.click("#set-a")
    b, _ = click_point(spage, 7, 60)
    spage.fill("#steps", "7")
    spage.dispatch_event("#steps", "change")
    spage.select_option("#mode", "spherical")
    n0 = int(spage.evaluate("() => +(document.getElementById('strip').dataset.strips || 0)"))
    spage.click("#set-b")
    spage.wait_for_function(f"() => +(document.getElementById('strip').dataset.strips || 0) > {n0}")
    imgs = spage.evaluate(
        """() => Array.from(document.querySelectorAll('#strip canvas'), (c) => {
          const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          return Array.from({length: c.width * c.height}, (_, k) => px[4 * k]); })"""
    )
    assert len(imgs) == 7 and a != b
    path = latent_ops.slerp(atlas.latents[a], atlas.latents[b], 7)
    want = decoded_u8(model, path)
    assert np.abs(np.array(imgs[0]) - decoded_u8(model, atlas.latents[a])[0]).max() <= 1
    assert np.abs(np.array(imgs[-1]) - decoded_u8(model, atlas.latents[b])[0]).max() <= 1
    assert np.abs(np.array(imgs) - want).max() <= 1  # the spherical path of latent_ops, step by step
    assert np.abs(want[3] - want[0]).max() > 50  # the middle is another image
    spage.screenshot(path=str(_artifacts() / "static-03-interpolation.png"), full_page=True)


@pytest.mark.browser
def test_3d_map(spage, atlas):
    spage.click("#dims-3")
    spage.wait_for_function(
        f"() => document.body.dataset.map === 'latent-umap-3d' && {MAP}._fullData[0].type === 'scatter3d'"
    )
    counts = spage.evaluate(
        f"() => {MAP}._fullData.filter(t => t.customdata && t.customdata.length).map(t => t.z.length)"
    )
    assert sum(counts) == atlas.n
    spage.wait_for_timeout(500)
    spage.screenshot(path=str(_artifacts() / "static-04-3d.png"))


@pytest.mark.browser
@pytest.mark.parametrize("case", ["corrupt", "missing"])
def test_a_broken_decoder_is_said_and_originals_shown(browser, static_server, atlas, case):
    ctx, pg = _open(browser, static_server + f"{case}/", "unavailable")
    try:
        note = pg.inner_text("#decode-note")
        assert pg.is_visible("#decode-note") and note.startswith("Decoding is unavailable in this static page")
        assert pg.inner_text("#decode-where") == "decoding: unavailable"
        assert np.array_equal(pg.evaluate(PIXELS, "ins-cur"), atlas.thumbnails[0].reshape(-1))  # never blank
        assert pg.inner_text("#cur-cap") == "original (decoding unavailable)"
        assert pg.evaluate("() => Array.from(document.querySelectorAll('#sliders input')).every(s => s.disabled)")
        assert pg.failed == []  # no uncaught exception (a 404 for the missing file is logged by the browser)
        if case == "corrupt":
            assert pg.errors == []
            pg.screenshot(path=str(_artifacts() / "static-05-corrupt-decoder.png"))
    finally:
        ctx.close()


def _artifacts() -> Path:
    from tests.test_browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def test_an_interrupted_export_leaves_nothing(tmp_path, capsys, monkeypatch):
    """Ctrl-C while the data files are being written (here: in the sprite sheet): exit 130, no OUT
    and no hidden temporary folder next to it."""
    from latentdash import export_static

    def interrupted(thumbnails):
        raise KeyboardInterrupt

    monkeypatch.setattr(export_static, "sprite_sheet", interrupted)
    out = tmp_path / "demo"
    assert main(["export-static", str(out), "--quiet"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_a_folder_only_once_the_new_one_is_complete(tmp_path):
    from latentdash.export_static import _swap_into_place, check_out

    out, new = tmp_path / "demo", tmp_path / ".demo.x.tmp"
    out.mkdir()
    (out / "old.txt").write_text("old")
    new.mkdir()
    (new / "index.html").write_text("new")
    check_out(out, force=True)  # --force: a non-empty OUT is fine
    _swap_into_place(new, out)
    assert [p.name for p in out.iterdir()] == ["index.html"] and [p.name for p in tmp_path.iterdir()] == ["demo"]
