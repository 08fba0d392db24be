"""Your own image on the page: what an uploaded or drawn image is in the view state, and how it
becomes a latent vector and a place on the map. Pure numpy + Pillow (latentdash/uploads.py does
the conversion), no Dash; imported by the schema (the URL codec), render.py (the map's star) and
the card (ui/upload_card.py).

The state keeps the image as the model saw it: the converted model input (the model's channels
and size, e.g. 28x28 grey), 8-bit, as a PNG data URI (`upimg`). Its latent, its reconstruction
and its place on every map are derived from it on demand (one encode, ~1 ms), so a model switch
re-encodes it with the new model and a link carries the image itself (`img=`, base64url PNG,
~0.7 kB for a 28x28 item) when it is small enough. Nothing uploaded is written to disk: the
bytes are decoded in memory and only the converted image travels, in the browser's state.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

import numpy as np
from PIL import Image

from .. import imaging, uploads
from ..errors import LatentdashError

MAX_UPLOAD_MB = 5  # the page's upload limit (dcc.Upload max_size and the server's check)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_IMAGE_PARAM = 1600  # a link carries the converted image up to this many characters (any 28x28 grey)
MAX_DRAWING_BYTES = 2 * 1024 * 1024  # a canvas PNG (the page's canvas is 224x224)
MAX_NAME = 60
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w=.+-]+)*;base64,", re.ASCII)


class UploadError(LatentdashError):
    """An upload or drawing the page can't use (one line, shown in the message line)."""


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError(f"the {what} did not arrive as base64 data; choose the file again") from None


def data_url_bytes(contents, max_bytes: int = MAX_UPLOAD_BYTES, what: str = "upload") -> bytes:
    """A browser data URL ('data:image/png;base64,...', what dcc.Upload and a canvas give) -> bytes,
    refused past `max_bytes` (checked from the text's length before decoding)."""
    if not isinstance(contents, str) or not contents:
        raise UploadError(f"the {what} is empty; choose a PNG, JPEG or WebP image")
    m = _DATA_URL.match(contents)
    if m is None:
        raise UploadError(f"the {what} is not a file's data; choose a PNG, JPEG or WebP image")
    payload = contents[m.end() :]
    if len(payload) * 3 // 4 > max_bytes + 3:
        mb = len(payload) * 3 / 4 / 1024 / 1024
        raise UploadError(f"the file is {mb:.1f} MB; the limit is {max_bytes / 1024 / 1024:g} MB: upload a smaller one")
    data = _b64(payload, what)
    if len(data) > max_bytes:
        raise UploadError(
            f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is {max_bytes / 1024 / 1024:g} MB: "
            "upload a smaller one"
        )
    return data


def convert(data: bytes, view, *, invert: bool = False, background: float = 0.0) -> np.ndarray:
    """An image file's bytes -> the model input float32 [C, H, W] in [0, 1], 8-bit exact (what the
    state keeps). Raises uploads.UnsupportedImage / ImageTooLarge (one line) for bad files."""
    x = uploads.image_from_bytes(data, view.image_shape, invert=invert, background=background)
    return imaging.to_uint8(x).astype(np.float32).reshape(x.shape[1], x.shape[2], -1).transpose(2, 0, 1) / 255.0


def check_drawing(x: np.ndarray) -> None:
    """A drawing of one colour (an empty canvas, inverted or not) can't be encoded."""
    if float(np.ptp(x)) < 1.5 / 255:
        raise UploadError("the canvas is empty: draw something first, then press Encode drawing")


def image_uri(x: np.ndarray) -> str:
    """Model input float [C, H, W] -> the state's PNG data URI (8 bits, smallest PNG)."""
    return imaging.data_uri(imaging.encode_png(imaging.to_uint8(x), 9))


def decode_image(uri, image_shape) -> np.ndarray:
    """The state's PNG data URI -> float32 [C, H, W] in [0, 1]; UploadError unless it is a PNG of
    exactly the model's channels and size (the state is the browser's, so it is checked)."""
    if not isinstance(uri, str) or not uri.startswith(imaging.PNG_PREFIX) or len(uri) > 4 * MAX_DRAWING_BYTES // 3:
        raise UploadError("your image is not a PNG data URI; upload it again")
    c, h, w = (int(s) for s in image_shape)
    data = _b64(uri[len(imaging.PNG_PREFIX) :], "image")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "PNG" or im.size != (w, h):
                raise UploadError(
                    f"your image is {im.size[0]}x{im.size[1]} but this model takes {w}x{h} images: upload it again"
                )
            if im.mode not in ("L", "RGB"):
                raise UploadError(f"your image has colour mode {im.mode}; upload it again")
            a = np.asarray(im.convert("L" if c == 1 else "RGB"), np.float32) / 255.0
    except UploadError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise UploadError(f"your image is not a readable PNG ({type(e).__name__}); upload it again") from None
    return (a[None] if a.ndim == 2 else a.transpose(2, 0, 1)).astype(np.float32)


# ----------------------------------------------------------------------------- URL codec
def encode_param(uri, state, view) -> str | None:
    """The image for the link: its PNG as unpadded base64url, or None (not in the link) when
    there is none or it is longer than MAX_IMAGE_PARAM."""
    if not isinstance(uri, str) or not uri.startswith(imaging.PNG_PREFIX):
        return None
    text = uri[len(imaging.PNG_PREFIX) :].replace("+", "-").replace("/", "_").rstrip("=")
    return text if len(text) <= MAX_IMAGE_PARAM else None


def decode_param(text: str, view, state) -> str:
    if len(text) > MAX_IMAGE_PARAM or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError("img")
    uri = imaging.PNG_PREFIX + text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
    try:
        decode_image(uri, view.image_shape)
    except UploadError as e:
        raise ValueError("img") from e
    return uri


def fits_url(uri) -> bool:
    return encode_param(uri, None, None) is not None


def clean_name(name) -> str:
    """A file name for display: printable, at most MAX_NAME characters."""
    text = "".join(ch for ch in str(name or "") if ch.isprintable()).strip()
    return (text[: MAX_NAME - 1] + "\u2026") if len(text) > MAX_NAME else text


# ----------------------------------------------------------------------------- the latent
def upload_image(view, state) -> np.ndarray | None:
    """The state's image as the current model's input float32 [C, H, W], or None without one."""
    uri = state.get("upimg") if isinstance(state, dict) else None
    return None if uri is None else decode_image(uri, view.image_shape)


def check_encoder(view) -> None:
    if not view.has_encoder:
        raise UploadError(f"{view.name} is a generator without an encoder: it cannot encode your image")


def upload_z(view, state) -> np.ndarray | None:
    """The image's latent code under the state's model (float32 [d]), or None without an image."""
    x = upload_image(view, state)
    if x is None:
        return None
    check_encoder(view)
    return np.asarray(view.explorer.encode(x[None]), np.float32)[0]


def place(view, x: np.ndarray, z: np.ndarray, map_name: str) -> np.ndarray:
    """Where the image goes on a map ([1, dims]): a latent map places its code, a pixel-space map
    its pixels (the placer's way for the map's method, as for any new item)."""
    if map_name.startswith("pixel-"):
        return np.asarray(view.explorer.project_pixels(x[None], map_name), np.float32)
    return np.asarray(view.explorer.project(z, map_name), np.float32)


def overlay_points(view, state, map_name: str):
    """The map's star for the image ([1, dims]), or None without one (render.py's overlay)."""
    x = upload_image(view, state)
    if x is None or not view.has_encoder:
        return None
    z = np.asarray(view.explorer.encode(x[None]), np.float32)[0]
    return place(view, x, z, map_name)
