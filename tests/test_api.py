"""The REST API under /api/v1/ through Flask's test client on a real app: the two small PCA models
of conftest, the shipped VAE on its shipped 10k atlas (where meaning matters) and a decoder-only
RGB generator. Meaning first (decode = the Explorer's decode, encode -> decode reconstructs a real
test image, unproject(project(z)) on a PCA map = the in-plane part of z, neighbours of i start at
i, atlas.csv = the atlas), then every bad input (a JSON 4xx with a one-line message), then a
bounded schemathesis run over the OpenAPI document: zero 5xx, every response as documented."""

from __future__ import annotations

import base64
import csv
import io
import json
import logging

import numpy as np
import pytest
from flask import Flask
from PIL import Image

from latentdash import uploads
from latentdash.server.api import MAX_VECTORS, register_api
from latentdash.server.config import ServeConfig

API = "/api/v1"
VAE = "fashion-vae-16"


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def vae():
    from latentdash.atlas.shipped import CHECKPOINT_DIR, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    ck = CHECKPOINT_DIR / f"{VAE}.pt"
    return Explorer(load_model(str(ck)), load_atlas(shipped_atlas_path(ck)), VAE)


@pytest.fixture(scope="module")
def api_app(explorers, vae, generator_explorer):
    from latentdash.server.app_factory import create_app

    return create_app(explorers=[vae, *explorers, generator_explorer])


@pytest.fixture(scope="module")
def client(api_app):
    return api_app.server.test_client()


@pytest.fixture(scope="module")
def small_limit_client(explorers):
    """The API alone on a bare Flask app with a 0.05 MB upload limit."""
    from latentdash.ui.catalog import Catalog

    server = Flask("small")
    register_api(server, Catalog(explorers), ServeConfig(max_upload_mb=0.05))
    return server.test_client()


def png_of(u8: np.ndarray, fmt="PNG", mode=None, **kw) -> bytes:
    im = Image.fromarray(u8)
    if mode:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def uri_pixels(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def upload(client, model, data: bytes, name="x.png", **fields):
    return client.post(
        f"{API}/models/{model}/encode",
        data={"image": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def assert_error(resp, status: int, *words):
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    assert resp.mimetype == "application/json", resp.data[:200]
    msg = resp.get_json()["error"]
    assert "\n" not in msg and msg.strip() == msg and len(msg) < 400, msg
    for w in words:
        assert w.lower() in msg.lower(), msg
    return msg


# ---------------------------------------------------------------------------------- models, openapi
def test_models_lists_every_served_model_with_its_maps_and_metrics(client, vae, explorers):
    r = client.get(f"{API}/models")
    assert r.status_code == 200
    models = {m["name"]: m for m in r.get_json()["models"]}
    assert list(models) == [VAE, "pca-16", "pca-2", "rgb-gen"]
    m = models[VAE]
    assert (m["kind"], m["latent_dim"], m["image_shape"], m["n"]) == ("vae", 16, [1, 28, 28], 10_000)
    assert m["maps"] == vae.map_names and m["map_dims"]["latent-umap-3d"] == 3
    assert m["metrics"]["maps"]["latent-tsne-2d"]["trustworthiness"] == pytest.approx(
        vae.metrics["maps"]["latent-tsne-2d"]["trustworthiness"]
    )
    assert m["class_names"][9] == "Ankle boot"
    assert models["pca-2"]["latent_dim"] == 2 and "latent-raw-2d" in models["pca-2"]["maps"]
    assert models["rgb-gen"]["image_shape"] == [3, 16, 16] and models["rgb-gen"]["has_encoder"] is False


def test_openapi_document_declares_exactly_the_routes(client, api_app):
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["servers"] == [{"url": API}]
    declared = {(m.upper(), API + p) for p, ops in doc["paths"].items() for m in ops}
    routed = set()
    for rule in api_app.server.url_map.iter_rules():
        if rule.rule.startswith(API) and "unknown" not in rule.endpoint:
            path = rule.rule.replace("<", "{").replace(">", "}")
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert declared == routed
    assert {"GET", "POST"} == {m for m, _ in declared}
    decode = doc["paths"]["/models/{model}/decode"]["post"]
    assert decode["parameters"][0]["schema"]["enum"] == [VAE, "pca-16", "pca-2", "rgb-gen"]
    body = decode["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["latents"]["maxItems"] == MAX_VECTORS
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "500" in op["responses"] and "405" in op["responses"], path
    enc = doc["paths"]["/models/{model}/encode"]["post"]["requestBody"]["content"]
    assert set(enc) == {"multipart/form-data", "application/json"}


# ---------------------------------------------------------------------------------- decode
def test_decode_of_data_points_is_the_explorers_decode(client, vae):
    idx = [0, 7, 123, 9999]
    z = vae.latents[idx]
    want = vae.decode(z)
    r = client.post(f"{API}/models/{VAE}/decode", json={"latents": z.tolist()})
    assert r.status_code == 200
    imgs = r.get_json()["images"]
    assert len(imgs) == 4
    for k, uri in enumerate(imgs):
        got = uri_pixels(uri)
        assert got.shape == (28, 28) and got.dtype == np.uint8
        assert np.abs(got.astype(int) - np.rint(want[k, 0] * 255).astype(int)).max() <= 1
    r = client.post(f"{API}/models/{VAE}/decode", json={"latents": z.tolist(), "format": "array"})
    arr = np.asarray(r.get_json()["images"])
    assert arr.shape == (4, 1, 28, 28) and np.abs(arr - want).max() < 1e-5
    # the decoded image of a data point resembles the data point itself (it is a reconstruction)
    err = ((arr - vae.image01(idx[0])[None]) ** 2)[0].mean()
    assert err == pytest.approx(vae.recon_error[idx[0]], rel=1e-3, abs=1e-5)


def test_decode_scale_rgb_and_the_batch_limit(client, generator_explorer):
    z = generator_explorer.latents[:3]
    r = client.post(f"{API}/models/rgb-gen/decode", json={"latents": z.tolist(), "scale": 2})
    assert r.status_code == 200
    got = uri_pixels(r.get_json()["images"][1])
    want = np.rint(generator_explorer.decode(z)[1].transpose(1, 2, 0) * 255)
    assert got.shape == (32, 32, 3) and np.abs(got[::2, ::2].astype(int) - want).max() <= 1
    ok = np.zeros((MAX_VECTORS, 2)).tolist()
    assert client.post(f"{API}/models/pca-2/decode", json={"latents": ok}).status_code == 200
    r = client.post(f"{API}/models/pca-2/decode", json={"latents": ok + [[0, 0]]})
    assert_error(r, 400, "257", "256")


@pytest.mark.parametrize(
    "body,status,words",
    [
        ({"latents": [[0.0] * 3]}, 422, ["length 3", "16"]),
        ({"latents": [[0.0] * 16, [0.0] * 15]}, 422, ["16"]),
        ({"latents": []}, 400, ["latents", "empty"]),
        ({"latents": [[]]}, 400, ["latents[0]"]),
        ({"latents": [[0.0] * 15 + ["a"]]}, 400, ["latents[0][15]", "number"]),
        ({"latents": [[0.0] * 15 + [True]]}, 400, ["number"]),
        ({"latents": [[0.0] * 15 + [1e300]]}, 400, ["maximum"]),
        ({"latents": [0.0] * 16}, 400, ["latents[0]", "array"]),
        ({"latents": [[0.0] * 16], "format": "jpeg"}, 400, ["format", "png"]),
        ({"latents": [[0.0] * 16], "scale": 99}, 400, ["scale", "maximum"]),
        ({"latents": [[0.0] * 16], "colour": 1}, 400, ["unknown field 'colour'"]),
        ({"z": [[0.0] * 16]}, 400, ["required field 'latents'"]),
        ([1, 2], 400, ["object"]),
    ],
)
def test_decode_refuses_bad_bodies(client, body, status, words):
    assert_error(client.post(f"{API}/models/{VAE}/decode", json=body), status, *words)


def test_decode_refuses_bad_requests(client, vae):
    url = f"{API}/models/{VAE}/decode"
    z = json.dumps({"latents": vae.latents[:1].tolist()})
    assert_error(client.post(url, data=z.replace("[[", "[[NaN, ", 1), content_type="application/json"), 400, "NaN")
    assert_error(client.post(url, data='{"latents": [[1e999]]}', content_type="application/json"), 400, "finite")
    assert_error(client.post(url, data="{latents", content_type="application/json"), 400, "not valid JSON")
    assert_error(client.post(url, data="", content_type="application/json"), 400, "empty")
    assert_error(client.post(url, data=z, content_type="text/plain"), 415, "application/json")
    assert_error(client.get(url), 405, "POST")
    assert client.get(url).headers["Allow"] == "OPTIONS, POST"
    assert_error(client.post(f"{API}/models/nope/decode", data=z, content_type="application/json"), 404, VAE)
    assert_error(client.get(f"{API}/nothing/here"), 404, "openapi.json")
    assert_error(client.put(f"{API}/models"), 405, "GET")


def test_the_body_limit_is_max_upload_mb(small_limit_client):
    big = {"latents": np.full((256, 16), 0.12345678901234).tolist()}  # ~75 kB > 0.05 MB
    assert_error(small_limit_client.post(f"{API}/models/pca-16/decode", json=big), 413, "MB")
    assert small_limit_client.post(f"{API}/models/pca-16/decode", json={"latents": [[0] * 16]}).status_code == 200


# ---------------------------------------------------------------------------------- encode
def test_encode_of_a_test_image_reconstructs_it(client, vae):
    i = 42
    thumb = vae.thumbnail(i)[0]
    r = upload(client, VAE, png_of(thumb))
    assert r.status_code == 200, r.data
    out = r.get_json()
    z = np.asarray(out["latents"])
    assert z.shape == (1, 16)
    np.testing.assert_allclose(z[0], vae.latents[i], atol=1e-4)  # the atlas encoded the same pixels
    assert out["recon_error"][0] == pytest.approx(vae.recon_error[i], rel=1e-3, abs=1e-6)
    assert np.array_equal(uri_pixels(out["input"][0]), thumb)
    # coordinates on every map: latent maps place the latent, pixel maps the image
    assert set(out["coords"]) == set(vae.map_names)
    for m in ("latent-tsne-2d", "latent-umap-3d", "pixel-pca-2d", "pixel-umap-2d"):
        np.testing.assert_allclose(out["coords"][m][0], vae.coords(m)[i], atol=2e-3, err_msg=m)
    # the same image as a JSON pixel array
    r = client.post(f"{API}/models/{VAE}/encode", json={"pixels": (thumb / 255.0).tolist()})
    np.testing.assert_allclose(r.get_json()["latents"], z, atol=1e-5)


def test_encode_converts_any_size_mode_and_format(client, vae):
    i = 42
    thumb = vae.thumbnail(i)[0]
    big = np.asarray(Image.fromarray(thumb).resize((112, 112), Image.Resampling.NEAREST))
    rgb = np.stack([big] * 3, -1)
    wide = np.zeros((112, 168, 3), np.uint8)  # a wider canvas: padded back to a square, never stretched
    wide[:, 28:140] = rgb
    cases = {
        "png-4x-grey": png_of(big),
        "jpeg-4x-rgb": png_of(rgb, "JPEG", quality=95),
        "webp-rgb-wide": png_of(wide, "WEBP", lossless=True),
        "png-palette": png_of(big, mode="P"),
        "png-16bit": png_of((big.astype(np.uint16) * 257), mode="I;16"),
        "png-rgba": png_of(np.dstack([rgb, np.full(big.shape, 255, np.uint8)])),
    }
    for name, data in cases.items():
        r = upload(client, VAE, data)
        assert r.status_code == 200, (name, r.data)
        out = r.get_json()
        err = out["recon_error"][0]
        if name != "webp-rgb-wide":  # the same picture at another size / mode / format: found again,
            idx, _ = vae.neighbours(np.asarray(out["latents"][0]), 1)  # reconstructed as well as in the atlas
            assert idx[0] == i and err < 1.5 * vae.recon_error[i] + 0.002, (name, err, vae.recon_error[i])
        else:  # padded to a square (black bars above and below), not stretched; a typical reconstruction
            seen = uri_pixels(out["input"][0])
            assert seen[:4].max() < 10 and seen[-4:].max() < 10 and seen[12:16].max() > 100
            assert err < np.quantile(vae.recon_error, 0.9), err
    # invert: a dark object on a light background encodes as the original
    r = upload(client, VAE, png_of(255 - thumb), invert="true")
    np.testing.assert_allclose(r.get_json()["latents"][0], vae.latents[i], atol=1e-4)
    # transparency takes the dataset's background (black here), not white
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 0] = rgba[..., 1] = rgba[..., 2] = 255
    rgba[..., 3] = thumb
    r = upload(client, VAE, png_of(rgba))
    np.testing.assert_allclose(r.get_json()["latents"][0], vae.latents[i], atol=2e-3)


def test_uploads_stay_in_memory(client, monkeypatch):
    """A 1 MB upload (werkzeug would spool anything over 500 kB to a temporary file) never
    touches the disk."""
    import tempfile

    import werkzeug.formparser

    def no_disk(*a, **k):
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_disk, raising=False)
    monkeypatch.setattr(werkzeug.formparser, "TemporaryFile", no_disk, raising=False)
    monkeypatch.setattr(tempfile, "TemporaryFile", no_disk)
    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", no_disk)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_disk)
    noise = np.random.default_rng(0).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    data = png_of(noise)
    assert len(data) > 1_000_000
    r = upload(client, VAE, data)
    assert r.status_code == 200, r.data


def test_encode_refuses_bad_uploads(client, vae):
    thumb = vae.thumbnail(0)[0]
    assert_error(upload(client, VAE, b"not an image at all"), 415, "PNG, JPEG or WebP")
    assert_error(upload(client, VAE, b""), 415, "empty")
    assert_error(upload(client, VAE, png_of(thumb, "GIF")), 415, "GIF")
    assert_error(upload(client, VAE, png_of(thumb, "BMP")), 415, "BMP")
    assert_error(upload(client, VAE, png_of(np.tile(thumb, (20, 20)))[:300]), 415, "damaged")
    huge = png_of(np.zeros((8000, 6000), np.uint8))  # 48 megapixels in ~50 kB: a decompression bomb
    assert len(huge) < 200_000
    assert_error(upload(client, VAE, huge), 413, "megapixels")
    assert_error(upload(client, VAE, png_of(thumb), invert="maybe"), 400, "invert")
    r = client.post(f"{API}/models/{VAE}/encode", data={"picture": (io.BytesIO(b"x"), "x.png")})
    assert_error(r, 400, "image")
    r = client.post(f"{API}/models/{VAE}/encode", data={"image": "text"}, content_type="multipart/form-data")
    assert_error(r, 400, "file")
    assert_error(upload(client, "rgb-gen", png_of(thumb)), 422, "generator")
    over = np.random.default_rng(1).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    data = png_of(over)
    assert len(data) > 5 * 1024 * 1024
    assert_error(upload(client, VAE, data), 413, "5 MB")


@pytest.mark.parametrize(
    "pixels,status,words",
    [
        (np.zeros((27, 28)).tolist(), 422, ["[27, 28]", "28x28"]),
        (np.full((28, 28), 255.0).tolist(), 400, ["maximum 1"]),
        ([[0.5] * 28] * 27 + [[0.5] * 27], 422, ["ragged"]),
        (np.zeros((300, 1, 28, 28)).tolist(), 400, ["300 items", "256"]),
        ("zeros", 400, ["pixels", "array"]),
    ],
)
def test_encode_refuses_bad_pixel_arrays(client, pixels, status, words):
    assert_error(client.post(f"{API}/models/{VAE}/encode", json={"pixels": pixels}), status, *words)


def test_encode_accepts_pixel_batches_and_converts_channels(client, explorers, generator_explorer):
    ex = explorers[0]
    x = ex.atlas.thumbnails[:5].astype(np.float32) / 255.0
    r = client.post(f"{API}/models/pca-16/encode", json={"pixels": x.tolist()})
    np.testing.assert_allclose(r.get_json()["latents"], ex.latents[:5], atol=1e-4)
    rgb = np.repeat(x[:2], 3, axis=1)  # RGB sent to a grey model: luma of equal channels = the grey image
    r = client.post(f"{API}/models/pca-16/encode", json={"pixels": rgb.tolist()})
    np.testing.assert_allclose(r.get_json()["latents"], ex.latents[:2], atol=1e-4)


# ---------------------------------------------------------------------------------- project / unproject
def test_project_places_latents_like_the_atlas(client, vae):
    idx = [3, 500, 8000]
    z = vae.latents[idx]
    r = client.post(f"{API}/models/{VAE}/project", json={"latents": z.tolist()})
    coords = r.get_json()["coords"]
    assert set(coords) == set(vae.map_names)
    for m in vae.map_names:
        if m.startswith("latent-"):  # data latents land on their own points
            np.testing.assert_allclose(coords[m], vae.coords(m)[idx], atol=2e-3, err_msg=m)
    r = client.post(f"{API}/models/{VAE}/project", json={"latents": z.tolist(), "map": "latent-pca-3d"})
    assert list(r.get_json()["coords"]) == ["latent-pca-3d"]
    mean, comps = vae.atlas.state["latent_pca_mean"], vae.atlas.state["latent_pca_components"]
    np.testing.assert_allclose(r.get_json()["coords"]["latent-pca-3d"], (z - mean) @ comps[:3].T, atol=1e-4)
    r = client.post(f"{API}/models/pca-16/project", json={"latents": z.tolist(), "map": "latent-umap-2d"})
    assert_error(r, 422, "latent-umap-2d", "latent-pca-2d")
    assert_error(client.post(f"{API}/models/{VAE}/project", json={"latents": z.tolist(), "map": "x"}), 400, "map")


def test_unproject_of_project_is_the_in_plane_part_on_pca_maps(client, vae):
    z = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)
    xy = client.post(f"{API}/models/{VAE}/project", json={"latents": z.tolist(), "map": "latent-pca-2d"})
    xy = xy.get_json()["coords"]["latent-pca-2d"]
    r = client.post(f"{API}/models/{VAE}/unproject", json={"map": "latent-pca-2d", "coords": xy})
    out = r.get_json()
    assert out["exact"] is True and out["method"] == "pca-plane"
    mean, comps = vae.atlas.state["latent_pca_mean"], vae.atlas.state["latent_pca_components"][:2]
    in_plane = mean + (z - mean) @ comps.T @ comps
    np.testing.assert_allclose(out["latents"], in_plane, atol=1e-4)
    assert np.abs(np.asarray(out["latents"]) - z).max() > 0.1  # ... which is not z itself
    # t-SNE: estimated; a data point's position gives back (nearly) its latent
    i = 77
    r = client.post(
        f"{API}/models/{VAE}/unproject",
        json={"map": "latent-tsne-2d", "coords": [vae.coords("latent-tsne-2d")[i].tolist()]},
    )
    out = r.get_json()
    assert out["exact"] is False and out["method"] == "nearest-points"
    np.testing.assert_allclose(out["latents"][0], vae.latents[i], atol=1e-3)
    r = client.post(f"{API}/models/pca-2/unproject", json={"map": "latent-raw-2d", "coords": [[0.5, -1.0]]})
    assert r.get_json() == {"latents": [[0.5, -1.0]], "exact": True, "method": "identity"}
    body = {"map": "latent-pca-3d", "coords": [[0, 0]]}
    assert_error(client.post(f"{API}/models/{VAE}/unproject", json=body), 422, "2-D")
    assert_error(
        client.post(f"{API}/models/{VAE}/unproject", json={"map": "latent-pca-2d", "coords": [[0, 0, 0]]}), 400
    )


# ---------------------------------------------------------------------------------- neighbours
def test_neighbours_of_an_item_start_with_itself(client, vae):
    i = 1234
    r = client.get(f"{API}/models/{VAE}/neighbours?index={i}&k=5")
    nb = r.get_json()["neighbours"]
    assert len(nb) == 5 and nb[0]["index"] == i and nb[0]["distance"] == pytest.approx(0.0, abs=1e-3)
    dists = [n["distance"] for n in nb]
    assert dists == sorted(dists)
    for n in nb:
        assert n["label"] == int(vae.labels[n["index"]])
        assert n["class_name"] == vae.class_names[n["label"]]
        assert n["distance"] == pytest.approx(float(np.linalg.norm(vae.latents[n["index"]] - vae.latents[i])), abs=1e-3)
    latent = ",".join(repr(float(v)) for v in vae.latents[i])
    r2 = client.get(f"{API}/models/{VAE}/neighbours?latent={latent}&k=5")
    assert [n["index"] for n in r2.get_json()["neighbours"]] == [n["index"] for n in nb]
    assert len(client.get(f"{API}/models/{VAE}/neighbours?index=0").get_json()["neighbours"]) == 8


@pytest.mark.parametrize(
    "query,status,words",
    [
        ("", 422, ["index", "latent"]),
        ("index=1&latent=1,2", 422, ["exactly one"]),
        ("index=10000", 422, ["0..9999"]),
        ("index=-1", 400, ["minimum"]),
        ("index=one", 400, ["integer"]),
        ("index=1&k=0", 400, ["k"]),
        ("index=1&k=1001", 400, ["maximum"]),
        ("latent=1,2,3", 422, ["16"]),
        ("latent=1,nan," + ",".join(["0"] * 14), 400, ["finite"]),
        ("latent=a,b", 400, ["numbers"]),
    ],
)
def test_neighbours_refuses_bad_queries(client, query, status, words):
    assert_error(client.get(f"{API}/models/{VAE}/neighbours?{query}"), status, *words)


def test_neighbours_k_past_a_small_atlas(client, generator_explorer):
    assert_error(client.get(f"{API}/models/rgb-gen/neighbours?index=0&k=301"), 422, "300")


# ---------------------------------------------------------------------------------- atlas.csv
def test_atlas_csv_is_the_atlas(client, vae):
    r = client.get(f"{API}/models/{VAE}/atlas.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.is_streamed
    assert r.headers["Content-Disposition"] == 'attachment; filename="fashion-vae-16.fashion-mnist-test.atlas.csv"'
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    head, body = rows[0], rows[1:]
    assert len(body) == vae.n
    assert head[:5] == ["index", "dataset_row", "label", "class_name", "split"] and head[-1] == "recon_error"
    col = {c: k for k, c in enumerate(head)}
    assert [f"z{k}" for k in range(16)] == head[5:21]
    a = np.asarray(body)
    assert a[:, col["index"]].astype(int).tolist() == list(range(vae.n))
    assert np.array_equal(a[:, col["label"]].astype(int), vae.labels)
    assert a[9, col["class_name"]] == vae.class_names[vae.labels[9]] and set(a[:, col["split"]]) == {"test"}
    assert np.array_equal(a[:, 5:21].astype(np.float32), vae.latents)
    for m in vae.map_names:
        axes = "xyz"[: vae.coords(m).shape[1]]
        got = a[:, [col[f"{m}_{ax}"] for ax in axes]].astype(np.float32)
        assert np.array_equal(got, vae.coords(m)), m  # exact: 9 significant digits round-trip float32
    assert np.array_equal(a[:, col["recon_error"]].astype(np.float32), vae.recon_error)


def test_atlas_csv_of_a_subset_and_a_generator(client, explorers, generator_explorer):
    from latentdash import exports

    ex = explorers[1]
    rows = list(csv.reader(io.StringIO(client.get(f"{API}/models/pca-2/atlas.csv").get_data(as_text=True))))
    assert len(rows) == ex.n + 1 and rows[0] == exports.csv_columns(ex)
    dataset_rows = [int(r[1]) for r in rows[1:]]
    assert dataset_rows == exports.dataset_rows(ex).tolist()
    assert "latent-raw-2d_x" in rows[0]
    g = list(csv.reader(io.StringIO(client.get(f"{API}/models/rgb-gen/atlas.csv").get_data(as_text=True))))
    assert len(g) == 301 and {r[2] for r in g[1:]} == {""} and {r[4] for r in g[1:]} == {""}


# ---------------------------------------------------------------------------------- errors
def test_a_bug_is_a_logged_500(client, vae, monkeypatch, caplog):
    def broken(z):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(vae, "decode", broken)
    with caplog.at_level(logging.ERROR):
        r = client.post(f"{API}/models/{VAE}/decode", json={"latents": [[0.0] * 16]})
    assert r.status_code == 500 and r.get_json() == {"error": "server error"}
    assert any(rec.exc_info and "decoder exploded" in str(rec.exc_info[1]) for rec in caplog.records)


def test_pages_outside_the_api_keep_their_responses(client):
    r = client.get("/thumb/nope/1.png")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert client.get("/healthz").status_code == 200


# ---------------------------------------------------------------------------------- pure helpers
def test_fit_to_pads_to_the_aspect_ratio_and_never_stretches():
    x = np.ones((10, 30, 1), np.float32)  # a wide white bar on a black background of 0
    out = uploads.fit_to(x, 28, 28, background=0.0)[..., 0]
    assert out.shape == (28, 28)
    rows_lit = np.flatnonzero(out.mean(1) > 0.5)
    assert 8 <= len(rows_lit) <= 11 and out[:, 14].max() > 0.9  # ~28 * 10/30 rows, full width
    assert out[0].max() < 0.05 and out[-1].max() < 0.05
    np.testing.assert_allclose(uploads.to_channels(np.array([[[1.0, 0.0, 0.0]]], np.float32), 1), [[[0.299]]])


def test_png_encoder_round_trips(client):
    from latentdash.server.api import png_data_uris

    x = np.random.default_rng(0).random((3, 3, 5, 7)).astype(np.float32)
    want = np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for k, uri in enumerate(png_data_uris(x)):
        assert np.array_equal(uri_pixels(uri), want[k])
    grey = png_data_uris(x[:, :1], scale=3)[0]
    assert np.array_equal(uri_pixels(grey), np.repeat(np.repeat(want[0, :, :, 0], 3, 0), 3, 1))


# ---------------------------------------------------------------------------------- schemathesis
@pytest.fixture(scope="module")
def small_app(explorers, generator_explorer):
    """The small models only (a 2,000-item CSV is quick to stream many times); the 2-D and RGB
    models exercise the raw map and colour images."""
    from latentdash.server.app_factory import create_app

    return create_app(explorers=[*explorers, generator_explorer])


def test_schemathesis_run_has_no_5xx_and_every_response_is_as_documented(small_app):
    """A schemathesis run (examples, coverage and fuzzing phases, positive and negative data; the
    engine `schemathesis run` drives, in-process over WSGI), bounded to ~15 examples per operation.
    Its checks: no 5xx, status codes, content types, headers and bodies as documented, schema-
    violating requests rejected, schema-valid ones accepted, 405 with Allow for other methods."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import Status, events

    config = SchemathesisConfig.from_dict(
        {
            "seed": 12,
            "headers": {"Accept-Encoding": "identity"},  # the WSGI transport does not decompress
            "generation": {"max-examples": 15, "mode": "all"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                # The schema cannot say "as many numbers as this model's latent_dim", "an index below
                # this atlas's n" or "bytes that decode as an image": such schema-valid requests get
                # a 422 / 415 by design (docs/api.md); any other refusal of valid data fails.
                "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "413", "415", "422"]},
                # ... and a schema-violating body may also be too large (413). Never a 5xx.
                "negative_data_rejection": {"expected-statuses": ["400", "404", "405", "413", "415", "422"]},
            },
        }
    )
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", small_app.server, config=config)
    statuses, failures, errors = {}, [], []
    finished = None
    for ev in schemathesis.engine.from_schema(schema).execute():
        if isinstance(ev, events.ScenarioFinished):
            for inter in ev.recorder.interactions.values():
                if inter.response is not None:
                    statuses.setdefault(ev.recorder.label, set()).add(inter.response.status_code)
            for checks in ev.recorder.checks.values():
                failures += [
                    (ev.recorder.label, c.name, str(c.failure_info.failure)[:300] if c.failure_info else "")
                    for c in checks
                    if c.status == Status.FAILURE
                ]
        elif isinstance(ev, (events.NonFatalError, events.FatalError)):
            errors.append(str(getattr(ev, "value", None) or getattr(ev, "exception", None)))
        elif isinstance(ev, events.EngineFinished):
            finished = ev
    assert finished is not None and not errors, errors
    assert not failures, "\n".join(map(str, dict.fromkeys(failures)))
    assert all(code < 500 for codes in statuses.values() for code in codes), statuses
    # the run was not vacuous: every operation answered, and each worked at least once
    ops = {f"{m.upper()} {p}" for p, item in schema.raw_schema["paths"].items() for m in item}
    tested = {label for label, codes in statuses.items() if 200 in codes}
    assert ops - {"GET /openapi.json"} <= tested, (ops - tested, statuses)
    assert any(400 in c for c in statuses.values()) and any(422 in c for c in statuses.values())


def test_the_api_follows_the_apps_path_prefix(explorers):
    from latentdash.ui.catalog import Catalog

    server = Flask("prefixed")
    assert register_api(server, Catalog(explorers), None, prefix="/course/demo/") == "/course/demo/api/v1"
    c = server.test_client()
    assert c.get("/course/demo/api/v1/openapi.json").get_json()["servers"] == [{"url": "/course/demo/api/v1"}]
    assert [m["name"] for m in c.get("/course/demo/api/v1/models").get_json()["models"]] == ["pca-16", "pca-2"]
    assert c.get("/api/v1/models").status_code == 404
