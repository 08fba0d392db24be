"""File names for downloads that say what they are, e.g.
`fashion-vae-16_interp_412-to-7755_16-spherical.gif`: model, what, its parameters. Only
characters safe in a Content-Disposition header and on every file system. The server's answers
(server/api_exports.py) and the page's links (their `download` attribute, ui/export_links.py)
take their names from here, so the two agree."""

from __future__ import annotations

import hashlib
import re

import numpy as np

_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")


def safe_part(text) -> str:
    """One part of a name: runs of anything but letters, digits, '.', '+' and '-' become '-'
    (a leading minus sign of a number stays)."""
    text = str(text)
    s = _UNSAFE.sub("-", text).rstrip("-")
    if not text.startswith("-"):
        s = s.lstrip("-")
    return s or "x"


def number(v: float) -> str:
    """A parameter value, short: 2.0 -> '2', -0.25 -> '-0.25'."""
    return f"{float(v):.4g}"


def vector_tag(z) -> str:
    """A latent vector in a name: 'vector-' and 8 hex digits of its float32 bytes."""
    return "vector-" + hashlib.sha1(np.asarray(z, np.float32).reshape(-1).tobytes()).hexdigest()[:8]


def scale_tag(scale: int) -> str | None:
    return f"x{int(scale)}" if int(scale) != 1 else None


def filename(model: str, what: str, *params, ext: str) -> str:
    """'<model>_<what>_<param>_<param>.<ext>' (parts joined by '_', each made safe; None skipped)."""
    parts = [safe_part(model), safe_part(what), *(safe_part(p) for p in params if p not in (None, ""))]
    return "_".join(parts) + "." + ext


# ------------------------------------------------------------------ one per download
def decode_name(model, base: str, scale: int) -> str:
    return filename(model, "decode", base, scale_tag(scale), ext="png")


def interp_name(model, a: int, b: int, steps: int, mode: str, scale: int, ext: str) -> str:
    return filename(model, "interp", f"{a}-to-{b}", f"{steps}-{mode}", scale_tag(scale), ext=ext)


def sweep_name(model, dim: int, lo: float, hi: float, steps: int, base: str, scale: int) -> str:
    rng = f"{number(lo)}-to-{number(hi)}"
    return filename(model, "sweep", f"z{dim}", rng, str(steps), base, scale_tag(scale), ext="gif")


def attr_name(model, label: str, lo: float, hi: float, steps: int, base: str, scale: int, ext: str = "gif") -> str:
    label = str(label).replace("\u2192", "to")
    rng = f"{number(lo)}-to-{number(hi)}"
    return filename(model, "attr", label, rng, str(steps), base, scale_tag(scale), ext=ext)


def traversal_name(model, rows: str, n: int, cols: int, k: float, sort: bool, base: str, scale: int) -> str:
    sort_tag = "sorted" if sort else None
    return filename(
        model, "traversal", f"{rows}-{n}x{cols}", f"{number(k)}sigma", sort_tag, base, scale_tag(scale), ext="png"
    )


def prior_name(model, n: int, seed: int, temp: float, scale: int) -> str:
    return filename(model, "prior", str(n), f"seed{seed}", f"t{number(temp)}", scale_tag(scale), ext="png")
