"""Arrays -> PNG bytes, data URIs and image grids. Pure numpy + zlib (PNGs written directly), no dash or plotly.

Images arrive as float32 in [0, 1] or uint8, shaped [C, H, W] (C = 1 or 3), [H, W] or
[N, C, H, W] for grids. PNGs are written at native resolution by default: the page enlarges them
with CSS `image-rendering: pixelated`, which keeps pixels crisp and the payload tiny (a 28x28
grey PNG is ~0.5 kB). `scale` upsamples with nearest-neighbour for places that can't use CSS
(downloads, exports).
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

from .errors import LatentdashError

PNG_PREFIX = "data:image/png;base64,"


def to_uint8(img) -> np.ndarray:
    """[C, H, W] / [H, W] float in [0, 1] or uint8 -> uint8 [H, W] (grey) or [H, W, 3] (RGB).

    NaN becomes 0, values outside [0, 1] are clipped.
    """
    a = np.asarray(img)
    if a.ndim == 3:
        if a.shape[0] not in (1, 3):
            raise LatentdashError(
                f"image has {a.shape[0]} channels (shape {a.shape}); expected [C, H, W] with C = 1 or 3"
            )
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


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(u8: np.ndarray, compress_level: int = 1) -> bytes:
    """uint8 [H, W] (grey) or [H, W, 3] (RGB) -> PNG bytes, written directly (no row filter, zlib):
    ~50 us for 28x28, a quarter of Pillow's cost, which every slider frame and grid pays."""
    if u8.dtype != np.uint8 or u8.ndim not in (2, 3) or (u8.ndim == 3 and u8.shape[2] != 3):
        raise LatentdashError(f"encode_png needs uint8 [H, W] or [H, W, 3], got {u8.dtype} {list(u8.shape)}")
    h, w = u8.shape[:2]
    rows = np.zeros((h, 1 + u8[0].size), np.uint8)  # each row: filter byte 0, then its pixels
    rows[:, 1:] = u8.reshape(h, -1)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0 if u8.ndim == 2 else 2, 0, 0, 0)
    idat = zlib.compress(rows.tobytes(), compress_level)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_bytes(img, scale: int = 1, compress_level: int = 1) -> bytes:
    """Encode one image as PNG (grey or RGB, 8 bits). Level 1 compression: small images."""
    return encode_png(upscale(to_uint8(img), scale), compress_level)


def data_uri(png: bytes) -> str:
    return PNG_PREFIX + base64.b64encode(png).decode("ascii")


def png_data_uri(img, scale: int = 1) -> str:
    """Image -> 'data:image/png;base64,...' for an html.Img src."""
    return data_uri(png_bytes(img, scale=scale))


def grid(images, cols: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """[N, C, H, W] -> one [C, rows*(H+pad)-pad, cols*(W+pad)-pad] image (row-major order)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise LatentdashError(f"grid needs a non-empty [N, C, H, W] batch with C = 1 or 3, got shape {x.shape}")
    if x.dtype != np.uint8:
        x = np.clip(np.nan_to_num(x.astype(np.float32), nan=0.0), 0.0, 1.0)
    n, c, h, w = x.shape
    cols = int(cols or int(np.ceil(np.sqrt(n))))
    cols = max(1, min(cols, n))
    rows = int(np.ceil(n / cols))
    fill = np.uint8(round(pad_value * 255)) if x.dtype == np.uint8 else np.float32(pad_value)
    out = np.full((c, rows * (h + pad) - pad, cols * (w + pad) - pad), fill, dtype=x.dtype)
    for k in range(n):
        r, q = divmod(k, cols)
        out[:, r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = x[k]
    return out


def grid_png(images, cols: int | None = None, pad: int = 1, scale: int = 1) -> bytes:
    return png_bytes(grid(images, cols=cols, pad=pad), scale=scale)


def bar_chart_svg(values, labels=None, width: int = 560, height: int = 130) -> str:
    """A small bar chart (one bar per value, blue >= 0, red < 0) as an SVG data URI: drawn by the
    browser as an image, so the inspector needs no second plotting library instance."""
    from xml.sax.saxutils import escape

    v = np.nan_to_num(np.asarray(values, np.float64).reshape(-1), nan=0.0)
    n = len(v)
    if n == 0:
        raise LatentdashError("bar chart needs at least one value")
    labels = [str(x) for x in (labels if labels is not None else [f"z{i}" for i in range(n)])]
    left, right, top, bottom = 34, 4, 8, 20
    lo, hi = min(0.0, float(v.min())), max(0.0, float(v.max()))
    if hi - lo < 1e-9:
        hi = lo + 1.0
    ph, pw = height - top - bottom, width - left - right

    def y(val):
        return top + (hi - val) / (hi - lo) * ph

    step = pw / n
    bw = max(1.0, step * 0.8)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10.5">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for t in sorted({lo, 0.0, hi}):
        parts.append(f'<text x="{left - 4}" y="{y(t) + 3.5:.1f}" text-anchor="end" fill="#555">{t:.2g}</text>')
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            f'stroke="{"#888" if t == 0 else "#eee"}" stroke-width="1"/>'
        )
    every = max(1, int(np.ceil(n / (pw / 26))))  # thin the labels when they would collide
    for i, val in enumerate(v):
        x = left + i * step + (step - bw) / 2
        y0, y1 = sorted((y(0.0), y(val)))
        colour = "#2166ac" if val >= 0 else "#b2182b"
        parts.append(
            f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bw:.1f}" height="{max(y1 - y0, 0.5):.1f}" '
            f'fill="{colour}"><title>{escape(labels[i])}: {val:.3f}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{height - 6}" text-anchor="middle" fill="#333">'
                f"{escape(labels[i])}</text>"
            )
    parts.append("</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode("".join(parts).encode()).decode("ascii")
