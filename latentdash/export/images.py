"""Decoded images -> download bytes: one PNG, a strip or a grid PNG (exact pixels, enlarged by
nearest neighbour x1..x8), an animated GIF (palette 'L' for grey images, looping forever).

Images arrive as the decoder gives them: float [n, C, H, W] in [0, 1] (C = 1 or 3). Every pixel
is rounded to uint8 once (the same rounding as the page's PNGs, imaging.to_uint8), so a download
downscaled by its factor equals the page's image exactly.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .. import imaging
from ..errors import LatentdashError

MAX_SCALE = 8
MIN_DURATION_MS, MAX_DURATION_MS = 20, 5000
GRID_PAD = 1  # pixels between the images of a strip or grid (before enlarging)


def check_scale(scale) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or not 1 <= int(scale) <= MAX_SCALE:
        raise LatentdashError(f"scale must be a whole number from 1 to {MAX_SCALE}, got {scale!r}")
    return int(scale)


def frames_u8(x) -> np.ndarray:
    """float [n, C, H, W] in [0, 1] (or uint8) -> uint8 [n, H, W] (grey) or [n, H, W, 3] (RGB)."""
    a = np.asarray(x)
    if a.ndim != 4 or a.shape[1] not in (1, 3) or len(a) == 0:
        raise LatentdashError(f"expected a non-empty batch of images [n, C, H, W] with C = 1 or 3, got {list(a.shape)}")
    if a.dtype != np.uint8:
        a = np.nan_to_num(a.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
        a = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a[:, 0] if a.shape[1] == 1 else a.transpose(0, 2, 3, 1))


def image_png(x, scale: int = 1) -> bytes:
    """One decoded image [C, H, W] (or [1, C, H, W]) -> PNG, each pixel a scale x scale block."""
    a = np.asarray(x)
    u8 = frames_u8(a[None] if a.ndim == 3 else a)[0]
    return imaging.encode_png(np.ascontiguousarray(imaging.upscale(u8, check_scale(scale))))


def grid_png(x, cols: int, scale: int = 1, pad: int = GRID_PAD) -> bytes:
    """[n, C, H, W] -> one PNG of the images in rows of `cols` (row-major), `pad` white pixels
    between them; the whole sheet enlarged by `scale`."""
    u8 = frames_u8(x)
    batch = u8[:, None] if u8.ndim == 3 else u8.transpose(0, 3, 1, 2)
    sheet = imaging.to_uint8(imaging.grid(batch, cols=cols, pad=pad, pad_value=1.0))
    return imaging.encode_png(np.ascontiguousarray(imaging.upscale(sheet, check_scale(scale))))


def strip_png(x, scale: int = 1) -> bytes:
    """[n, C, H, W] -> one PNG with the images side by side."""
    return grid_png(x, cols=len(x), scale=scale)


def there_and_back(x: np.ndarray) -> np.ndarray:
    """Frames 0..n-1 then n-2..1: a loop that plays forward and back without repeating an end
    (2n - 2 frames; n = 2 gives the two frames once)."""
    x = np.asarray(x)
    return x if len(x) <= 2 else np.concatenate([x, x[-2:0:-1]])


def gif_bytes(x, scale: int = 1, duration_ms: int = 100) -> bytes:
    """Frames [n, C, H, W] -> an animated GIF that loops forever (grey: palette 'L', exact values;
    RGB: an adaptive palette per frame). Optimisation is off (speed); Pillow merges a frame that
    equals the one before it into that frame (its duration adds up)."""
    d = int(duration_ms)
    if not MIN_DURATION_MS <= d <= MAX_DURATION_MS:
        raise LatentdashError(f"frame duration must be {MIN_DURATION_MS} to {MAX_DURATION_MS} ms, got {duration_ms!r}")
    s = check_scale(scale)
    u8 = frames_u8(x)
    if s > 1:
        u8 = np.repeat(np.repeat(u8, s, axis=1), s, axis=2)
    if u8.ndim == 3:
        ims = [Image.fromarray(f, "L") for f in u8]
    else:
        ims = [Image.fromarray(f, "RGB").quantize(256, method=Image.Quantize.MEDIANCUT) for f in u8]
    buf = io.BytesIO()
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], loop=0, duration=d, optimize=False)
    return buf.getvalue()
