"""Decoders exported to ONNX (latentdash/onnx_export.py): parity with torch on the shipped models,
refusals with their reason, corrupt files refused, keyed by the model's hash, the command and the
routes that serve them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from latentdash import onnx_export as ox
from latentdash.atlas.shipped import CHECKPOINT_DIR, SHIPPED_CHECKPOINTS, shipped_atlas_path
from latentdash.fileio import file_sha256
from latentdash.models import load_model
from latentdash.models.adapters import ForeignModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _latents(stem: str) -> np.ndarray:
    with np.load(shipped_atlas_path(CHECKPOINT_DIR / f"{stem}.pt")) as z:
        return z["latents"]


@pytest.mark.parametrize("ckpt", SHIPPED_CHECKPOINTS)
def test_the_shipped_exports_match_torch_within_one_level(ckpt):
    """Each shipped checkpoint has its verified export, keyed by the checkpoint file's hash, and
    onnxruntime decodes 1,000 prior vectors and 1,000 data latents within 1/255 of torch."""
    model = load_model(str(CHECKPOINT_DIR / ckpt))
    exp = ox.find_or_export(model, export=False)  # the shipped file, never a new export
    assert exp.path == ox.shipped_export_path(CHECKPOINT_DIR / ckpt) and not exp.made
    assert exp.model_sha256 == file_sha256(CHECKPOINT_DIR / ckpt)
    z = ox._check_vectors(model, _latents(ckpt[:-3]))
    assert z.shape == (2 * ox.N_CHECK, model.latent_dim)
    onnx_x = ox._run(ox._session(exp.data), z)
    torch_x = model.decode(z)
    assert onnx_x.shape == torch_x.shape == (len(z), 1, 28, 28)
    assert np.abs(onnx_x - torch_x).max() <= 1 / 255
    assert np.abs(torch_x - torch_x.mean()).max() > 0.1  # real images, not a constant


def test_a_fresh_export_is_checked_and_stored_next_to_the_atlas_by_hash(tmp_path, pca_checkpoint):
    model = load_model(str(pca_checkpoint))
    exp = ox.find_or_export(model, None, cache_dir=tmp_path)
    sha = file_sha256(pca_checkpoint)
    assert exp.made and exp.path == tmp_path / "atlas" / f"{sha[:32]}{ox.SUFFIX}" and exp.path.is_file()
    assert ox.read_meta(exp.path.read_bytes())["model_sha256"] == sha
    assert exp.max_diff <= 1 / 255
    assert not list((tmp_path / "atlas").glob(".*.tmp"))  # written atomically: no temp file left
    again = ox.find_or_export(model, None, cache_dir=tmp_path)
    assert not again.made and again.data == exp.data
    # another model (other weights: another hash) does not get this file
    other = load_model(str(CHECKPOINT_DIR / "fashion-pca-16.pt"))
    assert ox.export_path(file_sha256(CHECKPOINT_DIR / "fashion-pca-16.pt"), tmp_path) != exp.path
    with pytest.raises(ox.ExportRefused, match="another model"):
        ox.load_export(exp.path, other)


def test_a_conv_decoder_exports_with_a_dynamic_batch():
    model = load_model(str(CHECKPOINT_DIR / "fashion-vae-2.pt"))
    exp = ox.export_decoder(model, _latents("fashion-vae-2"))
    assert exp.max_diff <= 1 / 255 and exp.latent_dim == 2
    sess = ox._session(exp.data)
    for n in (1, 16, 37):  # any batch size
        z = model.sample_prior(n, seed=n)
        x = sess.run(None, {"z": z})[0]
        assert x.shape == (n, 1, 28, 28) and np.abs(x - model.decode(z)).max() <= 1 / 255


def test_a_numpy_decoder_is_refused_with_its_reason(generator_explorer):
    with pytest.raises(ox.ExportRefused, match="not a torch module") as e:
        ox.export_decoder(generator_explorer.model)
    assert "\n" not in str(e.value) and "server" in str(e.value)


class _Branchy(torch.nn.Module):
    """A torch decoder whose Python branch on the data cannot be traced: the export takes one
    branch for every input, so it disagrees with the model on half of the vectors."""

    latent_dim, image_shape = 4, (1, 4, 4)

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(4, 16, generator=torch.Generator().manual_seed(0)))

    def decode(self, z):
        x = torch.sigmoid(z @ self.w)
        return (x if float(z[0].sum()) > 0 else 1 - x).reshape(-1, 1, 4, 4)


def test_an_unfaithful_export_is_refused_by_the_parity_check():
    model = ForeignModel(_Branchy(), latent_dim=4, image_shape=(1, 4, 4), name="branchy", kind="generator")
    with pytest.raises(ox.ExportRefused, match=r"differs from the model by .* \(more than 1/255\)"):
        ox.export_decoder(model)


def test_corrupt_truncated_and_missing_files_are_refused(tmp_path, pca_checkpoint):
    model = load_model(str(pca_checkpoint))
    exp = ox.find_or_export(model, None, cache_dir=tmp_path)
    good = exp.path.read_bytes()
    exp.path.write_bytes(b"not an onnx file at all")
    with pytest.raises(ox.ExportRefused, match="not an ONNX file"):
        ox.load_export(exp.path, model)
    exp.path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ox.ExportRefused):
        ox.load_export(exp.path, model)
    with pytest.raises(ox.ExportRefused, match="no ONNX export yet"):  # a bad file is never offered
        ox.find_or_export(model, None, cache_dir=tmp_path, export=False)
    with pytest.raises(ox.ExportRefused, match="cannot read"):
        ox.load_export(tmp_path / "missing.onnx", model)
    # weights flipped inside a well-formed file: it runs, but decodes away from the model
    import onnx

    proto = onnx.load_from_string(good)
    init = proto.graph.initializer[0]
    arr = onnx.numpy_helper.to_array(init) + 0.5
    init.CopyFrom(onnx.numpy_helper.from_array(arr.astype(np.float32), init.name))
    exp.path.write_bytes(proto.SerializeToString())
    with pytest.raises(ox.ExportRefused, match="away from the model"):
        ox.load_export(exp.path, model)
    # a mended cache: find_or_export exports again and the file is good
    fresh = ox.find_or_export(model, None, cache_dir=tmp_path)
    assert fresh.made and ox.load_export(fresh.path, model).data == fresh.data


def test_an_output_shape_mismatch_is_refused(tmp_path):
    """An ONNX file claiming this model but returning another shape."""
    w = torch.randn(4, 16, generator=torch.Generator().manual_seed(1))

    class Flat(torch.nn.Module):
        def decode(self, z):
            return torch.sigmoid(z @ w).reshape(-1, 1, 4, 4)

    model = ForeignModel(Flat(), latent_dim=4, image_shape=(1, 4, 4), name="flat", kind="generator")
    exp = ox.export_decoder(model)
    wrong = ForeignModel(Flat(), latent_dim=4, image_shape=(1, 2, 8), name="flat", kind="generator")
    path = tmp_path / "x.onnx"
    ox.save_export(exp, path)
    import onnx

    proto = onnx.load_from_string(exp.data)
    for p in proto.metadata_props:
        if p.key == "latentdash.image_shape":
            p.value = "1,2,8"
    path.write_bytes(proto.SerializeToString())
    with pytest.raises(ox.ExportRefused, match="returns shape"):
        ox.load_export(path, wrong, exp.model_sha256)


def _cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "latentdash.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_the_export_onnx_command(tmp_path, pca_checkpoint):
    r = _cli("export-onnx", str(pca_checkpoint), "--cache-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    path = tmp_path / "atlas" / f"{file_sha256(pca_checkpoint)[:32]}{ox.SUFFIX}"
    assert path.is_file() and f"ONNX decoder written: {path}" in r.stdout
    assert "checking it against the model on 1000 prior vectors and 1000 data latents" in r.stderr  # progress
    r = _cli("export-onnx", "tests.foreign_models:rgb_generator", "--cache-dir", str(tmp_path))
    assert r.returncode == 2 and r.stderr.strip().startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "not a torch module" in r.stderr


def test_precompute_exports_the_decoder_next_to_the_atlas(tmp_path, pca_checkpoint):
    args = ("precompute", "--checkpoint", str(pca_checkpoint), "--methods", "pca", "--dims", "2", "--limit", "300")
    r = _cli(*args, "--quiet", "--cache-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    path = tmp_path / "atlas" / f"{file_sha256(pca_checkpoint)[:32]}{ox.SUFFIX}"
    assert f"ONNX decoder written: {path}" in r.stdout and path.is_file()
    assert list((tmp_path / "atlas").glob("*.atlas.npz"))  # the atlas it sits next to


# ----------------------------------------------------------------------------- the routes
@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


def test_the_routes_serve_the_decoder_by_model_name(client, explorers):
    meta = client.get("/onnx/pca-16.json").get_json()
    assert meta["latent_dim"] == 16 and meta["image_shape"] == [1, 28, 28] and meta["n"] == explorers[0].n
    assert meta["maps"]["latent-pca-2d"]["kind"] == "pca" and len(meta["maps"]["latent-pca-2d"]["components"]) == 2
    r = client.get(meta["onnx"])
    assert r.status_code == 200 and r.headers["Cache-Control"].startswith("public, max-age=31536000")
    assert r.headers["ETag"].strip('"') == meta["hash"]
    assert client.get(meta["onnx"], headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    got = ox._run(ox._session(r.data), explorers[0].latents[:50])
    assert np.abs(got - explorers[0].decode(explorers[0].latents[:50])).max() <= 1 / 255
    lat = np.frombuffer(client.get(meta["latents"]).data, "<f4").reshape(-1, 16)
    assert np.array_equal(lat, explorers[0].latents)
    missing = client.get("/onnx/no-such-model.json")
    assert missing.status_code == 404 and "no model named" in missing.get_json()["error"]
    assert client.get("/onnx/..%2F..%2Fetc%2Fpasswd.onnx").status_code == 404  # names, never paths


def test_the_runtime_is_served_compressed_with_a_long_lifetime(client):
    base = f"/ort/{ox.ORT_WEB_VERSION}/"
    br = client.get(base + "ort-wasm-simd-threaded.wasm", headers={"Accept-Encoding": "br"})
    plain = client.get(base + "ort-wasm-simd-threaded.wasm", headers={"Accept-Encoding": "identity"})
    assert br.headers["Content-Encoding"] == "br" and "Content-Encoding" not in plain.headers
    assert plain.mimetype == "application/wasm" and plain.data[:4] == b"\0asm"
    import brotli

    assert brotli.decompress(br.data) == plain.data and len(br.data) < len(plain.data) / 4
    assert br.headers["Cache-Control"] == ox.IMMUTABLE
    js = client.get(base + "ort.wasm.min.js")
    assert js.status_code == 200 and b"ONNX Runtime Web v" + ox.ORT_WEB_VERSION.encode() in js.data[:200]
    assert client.get("/ort/0.0.1/ort.wasm.min.js").status_code == 404
    assert client.get(base + "package.json").status_code == 404
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp.split("script-src", 1)[1].split(";")[0]  # WebAssembly may compile


def test_a_model_without_an_export_answers_why(generator_explorer):
    from latentdash.server.app_factory import create_app

    c = create_app(explorers=[generator_explorer]).server.test_client()
    r = c.get("/onnx/rgb-gen.json")
    assert r.status_code == 200 and r.get_json()["onnx"] is None  # the page asks; not an error
    assert "decodes on the server" in r.get_json()["why"] and "not a torch module" in r.get_json()["why"]
    assert c.get("/onnx/rgb-gen.onnx").status_code == 404


def test_the_vendored_runtime_is_the_recorded_release():
    """onnxruntime-web 1.30.0, pinned: the three files as recorded (the .wasm by its unpacked bytes)."""
    import hashlib

    import brotli

    vendor = ox.OrtFiles().folder
    recorded = dict(
        reversed(line.split()) for line in (vendor / f"ort-{ox.ORT_WEB_VERSION}.sha256").read_text().splitlines()
    )
    for fname, _ in ox.ORT_FILES.values():
        assert hashlib.sha256((vendor / fname).read_bytes()).hexdigest() == recorded[fname]
    wasm = brotli.decompress((vendor / ox.ORT_FILES["ort-wasm-simd-threaded.wasm"][0]).read_bytes())
    assert hashlib.sha256(wasm).hexdigest() == recorded["ort-wasm-simd-threaded.wasm"]
    assert "MIT License" in (vendor / "onnxruntime-web-LICENSE.txt").read_text()
