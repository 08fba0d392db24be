"""imaging: arrays -> PNG bytes / data URIs / grids."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from latentdash import imaging
from latentdash.errors import LatentdashError


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_grey_float_roundtrip_is_exact_to_one_level():
    rng = np.random.default_rng(0)
    x = rng.random((1, 28, 28), dtype=np.float32)
    out = decode_png(imaging.png_bytes(x))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - np.rint(x[0] * 255).astype(int)).max() <= 1


def test_uint8_and_rgb():
    x = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    out = decode_png(imaging.png_bytes(x))
    assert out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out, x.transpose(1, 2, 0))


def test_values_are_clipped_and_nan_is_black():
    x = np.array([[[-1.0, 0.5, 2.0, np.nan]]], np.float32)
    out = decode_png(imaging.png_bytes(x))
    assert out.tolist() == [[0, 128, 255, 0]]


def test_nearest_neighbour_upscale_keeps_crisp_blocks():
    x = np.array([[[0.0, 1.0], [1.0, 0.0]]], np.float32)
    out = decode_png(imaging.png_bytes(x, scale=3))
    assert out.shape == (6, 6)
    assert set(np.unique(out)) == {0, 255}
    assert (out[:3, :3] == 0).all() and (out[:3, 3:] == 255).all()


def test_data_uri_is_valid_png():
    uri = imaging.png_data_uri(np.zeros((1, 8, 8), np.float32))
    assert uri.startswith("data:image/png;base64,")
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"


def test_28x28_png_is_small():
    x = np.random.default_rng(1).random((1, 28, 28), dtype=np.float32)
    assert len(imaging.png_bytes(x)) < 1200


def test_grid_layout_and_padding():
    imgs = np.stack([np.full((1, 2, 3), k / 10, np.float32) for k in range(5)])
    g = imaging.grid(imgs, cols=3, pad=1, pad_value=1.0)
    assert g.shape == (1, 2 * 2 + 1, 3 * 3 + 2)
    assert g[0, 0, 0] == pytest.approx(0.0) and g[0, 0, 4] == pytest.approx(0.1)
    assert g[0, 3, 4] == pytest.approx(0.4)  # second row, second column
    assert g[0, 2, 0] == pytest.approx(1.0)  # padding row
    assert decode_png(imaging.grid_png(imgs, cols=5)).shape == (2, 5 * 3 + 4)


@pytest.mark.parametrize("bad", [np.zeros((2, 4, 4)), np.zeros((4,)), np.zeros((1, 1, 4, 4))])
def test_bad_shapes_raise_one_line_errors(bad):
    with pytest.raises(LatentdashError) as e:
        imaging.png_bytes(bad)
    assert "\n" not in str(e.value)


def test_bad_grid_and_scale():
    with pytest.raises(LatentdashError):
        imaging.grid(np.zeros((0, 1, 2, 2)))
    with pytest.raises(LatentdashError):
        imaging.png_bytes(np.zeros((1, 2, 2)), scale=0)


def test_bar_chart_svg():
    import xml.etree.ElementTree as ET

    uri = imaging.bar_chart_svg([1.0, -2.0, 0.5], ["a", "b", "<c>"])
    assert uri.startswith("data:image/svg+xml;base64,")
    root = ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))  # well-formed XML
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") != "white"]
    assert [b.get("fill") for b in bars] == ["#2166ac", "#b2182b", "#2166ac"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == pytest.approx(2 * heights[0], rel=0.02)
    assert imaging.bar_chart_svg([np.nan, 0.0]).startswith("data:image/svg+xml")
    with pytest.raises(LatentdashError):
        imaging.bar_chart_svg([])
