"""Downloads: PNGs of decodes, strips and grids (exact pixels, nearest-neighbour x1-x8), animated
GIFs (there and back) and the file names that say what they are. Pure numpy + Pillow, no dash or
Flask: the REST API's export operations (server/api_exports.py) call these, and the page's
download links (ui/export_links.py) point at those operations. The atlas CSV is exports.py."""

from .images import (  # noqa: F401
    MAX_DURATION_MS,
    MAX_SCALE,
    MIN_DURATION_MS,
    frames_u8,
    gif_bytes,
    grid_png,
    image_png,
    strip_png,
    there_and_back,
)
from .names import filename, safe_part  # noqa: F401
