"""Turning what a user sends (an image file's bytes, or a pixel array) into model input: float32
[n, C, H, W] in [0, 1] at the model's channels and size. Pure numpy + Pillow, no Flask; nothing is
written to disk (the REST API's encode and the page's future upload share these functions).

Uploads: PNG, JPEG or WebP of any size and colour mode. The image is turned upright (EXIF
orientation), converted to grey (ITU-R 601 luma) or RGB, optionally inverted (`invert`: for a dark
object on a light background when the model's data is light on dark, like Fashion-MNIST),
transparent pixels take the dataset's background colour, then it is padded to the model's aspect
ratio with that colour (centred, never stretched) and resized (area mean when shrinking, Lanczos when
enlarging). The pixel count is
checked from the header before anything is decoded (Pillow's decompression-bomb guard stays on
as a second line).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import LatentdashError

FORMATS = ("PNG", "JPEG", "WEBP")
MIME_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_PIXELS = 40_000_000  # 40 megapixels: more than any phone photo, far below Pillow's bomb limit
MAX_BATCH = 256


class UnsupportedImage(LatentdashError):
    """The bytes are not an image of a supported format (HTTP 415)."""


class ImageTooLarge(LatentdashError):
    """The image has more pixels than MAX_PIXELS, or trips Pillow's bomb guard (HTTP 413)."""


def image_from_bytes(
    data: bytes, image_shape, *, invert: bool = False, background: float = 0.0, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """An image file's bytes -> float32 [C, H, W] in [0, 1] at `image_shape` (C, H, W).

    `background` (0..1) fills transparent pixels and the padding; pass the dataset's background
    (see `background_of`)."""
    c, h, w = (int(s) for s in image_shape)
    if not data:
        raise UnsupportedImage("the uploaded file is empty; upload a PNG, JPEG or WebP image")
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageTooLarge(f"the image is too large to decode safely ({e}); upload a smaller one") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise UnsupportedImage(
            f"the upload is not a readable image ({type(e).__name__}); upload a PNG, JPEG or WebP file"
        ) from None
    with im:
        if im.format not in FORMATS:
            raise UnsupportedImage(
                f"{im.format or 'this'} images are not accepted; upload a PNG, JPEG or WebP file (convert it first)"
            )
        iw, ih = im.size
        if iw < 1 or ih < 1:
            raise UnsupportedImage(f"the image is {iw}x{ih} pixels; upload a non-empty image")
        if iw * ih > max_pixels:
            raise ImageTooLarge(
                f"the image is {iw}x{ih} = {iw * ih / 1e6:.0f} megapixels; the limit is "
                f"{max_pixels / 1e6:.0f}: scale it down before uploading"
            )
        try:
            if im.format == "JPEG":  # decode at reduced size straight from the DCT: much faster for photos
                im.draft("L" if c == 1 else "RGB", (2 * w, 2 * h))
            im.load()
            im = ImageOps.exif_transpose(im)
            rgb, alpha = _to_float(im)
        except Image.DecompressionBombError as e:
            raise ImageTooLarge(f"the image is too large to decode safely ({e}); upload a smaller one") from None
        except (OSError, ValueError, SyntaxError) as e:
            raise UnsupportedImage(
                f"the image file is damaged or truncated ({type(e).__name__}: {e}); upload it again or re-save it"
            ) from None
    x = to_channels(rgb, c)  # [h, w, c]
    if invert:
        x = 1.0 - x
    if alpha is not None:
        x = x * alpha[..., None] + background * (1.0 - alpha[..., None])
    return fit_to(x, h, w, background).transpose(2, 0, 1).copy()


def _to_float(im: Image.Image):
    """(float32 [h, w, 3 or 1] in [0, 1], alpha float32 [h, w] or None) of any Pillow mode."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):  # 16-bit / 32-bit grey
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max(initial=0) > 255 else 255.0
        return np.clip(a / top, 0, 1).astype(np.float32)[..., None], None
    has_alpha = mode in ("RGBA", "LA", "La", "RGBa", "PA") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        a = np.asarray(im.convert("RGBA"), np.float32) / 255.0
        return a[..., :3], a[..., 3]
    if mode in ("L", "1"):
        return (np.asarray(im.convert("L"), np.float32) / 255.0)[..., None], None
    return np.asarray(im.convert("RGB"), np.float32) / 255.0, None


def to_channels(x: np.ndarray, c: int) -> np.ndarray:
    """float [h, w, 1|3] -> [h, w, c]: grey from RGB by ITU-R 601 luma, RGB from grey by copying."""
    if x.shape[-1] == c:
        return x
    if c == 1:
        return (x[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    return np.repeat(x[..., :1], 3, axis=-1)


def fit_to(x: np.ndarray, h: int, w: int, background: float = 0.0) -> np.ndarray:
    """float [ih, iw, c] in [0, 1] -> [h, w, c]: padded (centred, `background`) to the target's aspect
    ratio, then resized with Lanczos; the same image when it already has that size."""
    ih, iw, c = x.shape
    if (ih, iw) == (h, w):
        return np.clip(x, 0.0, 1.0).astype(np.float32)
    # pad to the target aspect ratio
    if iw * h > ih * w:  # too wide: pad rows
        ph, pw = int(round(iw * h / w)), iw
    else:
        ph, pw = ih, int(round(ih * w / h))
    if (ph, pw) != (ih, iw):
        canvas = np.full((ph, pw, c), background, np.float32)
        top, left = (ph - ih) // 2, (pw - iw) // 2
        canvas[top : top + ih, left : left + iw] = x
        x = canvas
    # shrinking: the mean of each target pixel's area (exact for integer factors); enlarging: Lanczos
    filt = Image.Resampling.BOX if x.shape[0] >= h and x.shape[1] >= w else Image.Resampling.LANCZOS
    chans = [Image.fromarray(np.ascontiguousarray(x[..., k], np.float32), mode="F") for k in range(c)]
    out = np.stack([np.asarray(ch.resize((w, h), filt), np.float32) for ch in chans], -1)
    return np.clip(out, 0.0, 1.0)


def background_of(thumbnails: np.ndarray) -> float:
    """The dataset's background level in [0, 1]: the median of its images' border pixels (0 for
    Fashion-MNIST's black background)."""
    t = np.asarray(thumbnails[: min(len(thumbnails), 2000)])
    if t.ndim != 4 or t.shape[2] < 2 or t.shape[3] < 2:
        return 0.0
    border = np.concatenate(
        [t[:, :, 0, :].ravel(), t[:, :, -1, :].ravel(), t[:, :, :, 0].ravel(), t[:, :, :, -1].ravel()]
    )
    v = float(np.median(border))
    return v / 255.0 if t.dtype == np.uint8 else float(np.clip(v, 0.0, 1.0))


def images_from_array(pixels, image_shape, *, invert: bool = False) -> np.ndarray:
    """A pixel array (nested lists or numpy) -> float32 [n, C, H, W] in [0, 1].

    Accepted shapes: [H, W] (one grey image), [C, H, W] or [H, W, C] (one image), [n, C, H, W] or
    [n, H, W] (a batch of up to MAX_BATCH); values in [0, 1]. Grey is copied to RGB and RGB turned
    into grey as the model needs; the size must already be the model's (upload the image file to
    have it resized)."""
    c, h, w = (int(s) for s in image_shape)
    try:
        a = np.asarray(pixels, dtype=np.float32)
    except (TypeError, ValueError):
        raise LatentdashError(
            f"the pixel array is ragged or not numeric; send nested lists of numbers shaped [{h}, {w}], "
            f"[{c}, {h}, {w}] or [n, {c}, {h}, {w}]"
        ) from None
    shape = list(a.shape)
    if a.ndim == 2 and a.shape == (h, w):
        a = a[None, None]
    elif a.ndim == 3 and a.shape[1:] == (h, w) and a.shape[0] in (1, 3):
        a = a[None]
    elif a.ndim == 3 and a.shape[:2] == (h, w) and a.shape[2] in (1, 3):
        a = a.transpose(2, 0, 1)[None]
    elif a.ndim == 3 and a.shape[1:] == (h, w):
        a = a[:, None]
    elif a.ndim == 4 and a.shape[2:] == (h, w) and a.shape[1] in (1, 3):
        pass
    else:
        raise LatentdashError(
            f"pixel array has shape {shape} but this model takes {h}x{w} images: send [{h}, {w}], "
            f"[{c}, {h}, {w}] or [n, {c}, {h}, {w}] (upload the image file to have it resized)"
        )
    if not 1 <= len(a) <= MAX_BATCH:
        raise LatentdashError(f"{len(a)} images sent; send 1 to {MAX_BATCH} per request")
    if not np.isfinite(a).all():
        raise LatentdashError("the pixel array contains NaN or infinite values; send numbers in [0, 1]")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0.0 or hi > 1.0:
        raise LatentdashError(
            f"pixel values range over [{lo:g}, {hi:g}] but must lie in [0, 1]; divide 0-255 values by 255"
        )
    if a.shape[1] != c:
        a = np.moveaxis(to_channels(np.moveaxis(a, 1, -1), c), -1, 1)
    if invert:
        a = 1.0 - a
    return np.ascontiguousarray(a, np.float32)
