"""Arrays -> PNG bytes, data URIs and image grids. Pure numpy + Pillow, no dash or plotly.

Images arrive as float32 in [0, 1] or uint8, shaped [C, H, W] (C = 1 or 3), [H, W] or
[N, C, H, W] for grids. PNGs are written at native resolution by default: the page enlarges them
with CSS `image-rendering: pixelated`, which keeps pixels crisp and the payload tiny (a 28x28
grey PNG is ~0.5 kB). `scale` upsamples with nearest-neighbour for places that can't use CSS
(downloads, exports).
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .errors import LatentdashError

PNG_PREFIX = "data:image/png;base64,"


def to_uint8(img) -> np.ndarray:
    """[C, H, W] / [H, W] float in [0, 1] or uint8 -> uint8 [H, W] (grey) or [H, W, 3] (RGB).

    NaN becomes 0, values outside [0, 1] are clipped.
    """
    a = np.asarray(img)
    if a.ndim == 3:
        if a.shape[0] not in (1, 3):
            raise LatentdashError(f"image has {a.shape[0]} channels (shape {a.shape}); expected "
                                  f"[C, H, W] with C = 1 or 3")
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    elif a.ndim != 2:
        raise LatentdashError(f"image has rank {a.ndim} (shape {a.shape}); expected [C, H, W] or [H, W]")
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    a = np.nan_to_num(a.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    return np.ascontiguousarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))


def upscale(a: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of an [H, W] or [H, W, C] array by an integer factor."""
    scale = int(scale)
    if scale < 1 or scale > 64:
        raise LatentdashError(f"scale must be an integer in 1..64, got {scale}")
    if scale == 1:
        return a
    return np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)


def png_bytes(img, scale: int = 1, compress_level: int = 1) -> bytes:
    """Encode one image as PNG. Level 1 compression: small images, ~0.1 ms."""
    a = upscale(to_uint8(img), scale)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", compress_level=compress_level)  # L or RGB
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return PNG_PREFIX + base64.b64encode(png).decode("ascii")


def png_data_uri(img, scale: int = 1) -> str:
    """Image -> 'data:image/png;base64,...' for an html.Img src."""
    return data_uri(png_bytes(img, scale=scale))


def grid(images, cols: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """[N, C, H, W] -> one [C, rows*(H+pad)-pad, cols*(W+pad)-pad] image (row-major order)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise LatentdashError(f"grid needs a non-empty [N, C, H, W] batch with C = 1 or 3, got shape "
                              f"{x.shape}")
    if x.dtype != np.uint8:
        x = np.clip(np.nan_to_num(x.astype(np.float32), nan=0.0), 0.0, 1.0)
    n, c, h, w = x.shape
    cols = int(cols or int(np.ceil(np.sqrt(n))))
    cols = max(1, min(cols, n))
    rows = int(np.ceil(n / cols))
    fill = (np.uint8(round(pad_value * 255)) if x.dtype == np.uint8 else np.float32(pad_value))
    out = np.full((c, rows * (h + pad) - pad, cols * (w + pad) - pad), fill, dtype=x.dtype)
    for k in range(n):
        r, q = divmod(k, cols)
        out[:, r * (h + pad):r * (h + pad) + h, q * (w + pad):q * (w + pad) + w] = x[k]
    return out


def grid_png(images, cols: int | None = None, pad: int = 1, scale: int = 1) -> bytes:
    return png_bytes(grid(images, cols=cols, pad=pad), scale=scale)
