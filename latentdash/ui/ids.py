"""Component ids, in one place so layout, callbacks, the page's JavaScript and tests agree.

The JavaScript gets them from the page (contract.py writes them into the index as JSON), never
as literals; tests/test_contract.py fails if the two ever disagree.
"""

from .schema import STORE_NAMES

URL = "url"
# per-user state (browser only): one store per schema store name
STORE_OF = {name: f"st-{name}" for name in STORE_NAMES}
ST_MAP, ST_SEL, ST_INTERP, ST_Z, ST_CAM, ST_SELECTION, ST_ATTR, ST_ARITH, ST_TRAV, ST_PRIOR = (
    STORE_OF[n] for n in STORE_NAMES[:10]
)
ST_UPLOAD = STORE_OF["upload"]  # your image (ui/upload.py)
ST_RENDERED = "st-rendered"  # what the map figure in the browser shows
ST_SLIDERKEY = "st-sliderkey"  # which model/basis the sliders were built for
ST_URL_REPLACE = "st-url-replace"  # a '?query' to put in the address bar without a history entry
ST_META = "st-meta"  # per model: trace names (for the hover card)
ST_DRAG = "st-drag"  # input of the drag callback ({"values": [...]}), posted by
ST_DRAGOUT = "st-dragout"  # assets/clientside.js while a handle moves; output {src, key, pt}
MSG = "message"  # one line: what went wrong with the last interaction
CLIENT_MSG = "client-message"  # one line written by the page's JavaScript (failed requests)
# header and map controls
MODEL = "model"
SPACE, METHOD, DIMS, COLOUR, CLICK_MODE = "space", "method", "dims", "colour", "click-mode"
GRAPH = "map"  # the 2-D map graph
GRAPH3 = "map3d"  # the 3-D map graph (both stay mounted; one is shown)
GRAPH_BOX, GRAPH3_BOX = "map-box", "map3d-box"  # their wrappers; class ld-on = shown
BOX_OF = {GRAPH: GRAPH_BOX, GRAPH3: GRAPH3_BOX}
ST_PREFETCH = "st-prefetch"  # {"for": key}: draw the other dimensionality in the hidden graph
ST_DRAWN = "st-drawn"  # set once the first map is drawn: the sliders are built after it
TIP, TIP_IMG, TIP_LABEL = "map-tip", "map-tip-img", "map-tip-label"
MARKER = "map-marker"  # HTML overlay: the slider vector on 2-D maps
SEL_NOTE, BTN_CLEAR_SEL = "selection-note", "btn-clear-selection"  # the box/lasso selection
# inspector
INS_ORIG, INS_RECON, INS_LABEL, INS_BAR, INS_NBRS = "ins-orig", "ins-recon", "ins-label", "ins-bar", "ins-nbrs"
INS_ORIG_CAP, INS_RECON_CAP = "ins-orig-cap", "ins-recon-cap"  # "original" / "sample", ...
BTN_A, BTN_B = "btn-set-a", "btn-set-b"
NBR = "nbr"  # pattern id type {"type": NBR, "index": point index}
# sliders
BASIS, SLIDERS, SLIDER_NOTE = "basis", "sliders", "slider-note"
SLIDER = "zslider"  # pattern id type {"type": SLIDER, "index": k}
CUR_IMG, BTN_RESET, BTN_RANDOM = "current-img", "btn-reset", "btn-random"
DECODE_WHERE = "decode-where"  # "decoding: in your browser / on the server" + the switch (assets/ld-6-onnx.js)
# interpolation
INT_A, INT_B, BTN_SWAP = "int-a", "int-b", "btn-swap"
STEPS, MODE = "steps", "interp-mode"
STRIP, BLEND, INT_HINT = "strip", "blend", "int-hint"
STEP = "step"  # pattern id type {"type": STEP, "index": k}
# selection gallery and named groups
ST_LASSO = "st-lasso"  # {"idx": [...]} | None: a box/lasso selection, reduced to indices in the page
GALLERY_CARD, GALLERY, GAL_INFO = "gallery-card", "gal", "gallery-info"  # GALLERY: pattern {"type", "index": i}
GAL_PREV, GAL_NEXT, GAL_HIST, GAL_PIXMEAN, GAL_DECMEAN = (
    "gal-prev",
    "gal-next",
    "gal-hist",
    "gal-pixmean",
    "gal-decmean",
)
GAL_THUMBS, SEL_CLASS = "gal-thumbs", "sel-class"
GAL_PREVIEW = "gal-preview"  # the first page drawn by the page itself at mouseup (ld-3-map.js), until
# the server's gallery arrives
GROUP_NAME, BTN_SAVE_GROUP, GROUPS = "group-name", "btn-save-group", "groups"
GROUP_USE, GROUP_DEL = "group-use", "group-del"  # pattern ids {"type", "index": group name}
# attribute vectors
ATTR_KIND, ATTR_FROM, ATTR_TO, ATTR_AXIS = "attr-kind", "attr-from", "attr-to", "attr-axis"
ATTR_PRESET, ATTR_PRESETS = "attr-preset", "attr-presets"  # ATTR_PRESET: pattern {"type", "index": spec}
ATTR_STRENGTH, ATTR_BASE, ATTR_EDIT, ATTR_NOTE = "attr-strength", "attr-base", "attr-edit", "attr-note"
ATTR_STRIP, ATTR_STRIP_BTN, BTN_ATTR_APPLY = "attr-strip", "attr-strip-btn", "btn-attr-apply"
ST_ATTRVEC = "st-attrvec"  # {"model", "v"}: the direction the strength drag adds to the vector
# arithmetic A - B + C
ARITH_SET, ARITH_EQ, ARITH_HINT = "arith-set", "arith-eq", "arith-hint"  # ARITH_SET: pattern index a|b|c
BTN_ARITH_LOAD, BTN_ARITH_CLEAR = "btn-arith-load", "btn-arith-clear"
# traversal grid
TRAV_ON, TRAV_ROWS, TRAV_N, TRAV_COLS, TRAV_K, TRAV_SORT = (
    "trav-on",
    "trav-rows",
    "trav-n",
    "trav-cols",
    "trav-k",
    "trav-sort",
)
TRAV_GRID, TRAV_CELL, TRAV_NOTE = "trav-grid", "trav-cell", "trav-note"  # TRAV_CELL: pattern "spec|col"
# prior samples
PRIOR_ON, PRIOR_N, PRIOR_SEED, PRIOR_T = "prior-on", "prior-n", "prior-seed", "prior-temp"
BTN_PRIOR_ROLL, PRIOR_GRID, PRIOR_CELL, PRIOR_NOTE = "btn-prior-roll", "prior-grid", "prior-cell", "prior-note"
# plausibility of the decoded vectors (ui/plaus_render.py; drawn by assets/ld-7-plaus.js)
ST_PLAUS = "st-plaus"  # the committed slider vector's plausibility (plaus_render.summary)
PLAUS = "plaus-line"  # the line under the current decode: verdict, percentile, log prior, warning
PLAUS_PATH, PLAUS_PATH_NOTE, PLAUS_PATH_BOX = "plaus-path", "plaus-path-note", "plaus-path-box"
# fit diagnosis, semantic regions, topology (ui/analysis.py, ui/analysis_card.py)
REGION_ON, REGION_SHORT = "region-on", "region-short"  # the map's "Region labels" toggle and its note
ANALYSIS_CARD, FIT_GRAPH, FIT_TEXT = "analysis-card", "fit-graph", "fit-text"
REGION_NOTE, REGION_LIST = "region-note", "region-list"
TOPO_BOX, TOPO_H0, TOPO_H1, TOPO_TEXT, TOPO_PARAMS = "topo-box", "topo-h0", "topo-h1", "topo-text", "topo-params"
TOPO_DIAGRAMS = "topo-diagrams"  # the two diagrams' row (hidden when the topology was not computed)
ST_TOPOKEY = "st-topokey"  # which model the topology diagrams were drawn for
# the strip and the grids decoded in the page (ui/grids.py, assets/ld-7-grids.js)
ST_DECODE = "st-decode"  # {"model": name} while the page decodes that model's strip and grids itself
# your image: upload or draw (ui/upload_card.py, assets/ld-9-draw.js)
UPLOAD_CARD, UPLOAD, UP_INVERT, UP_CANVAS = "upload-card", "upload", "up-invert", "up-canvas"
BTN_UP_DRAW, BTN_UP_CLEARDRAW = "btn-up-draw", "btn-up-cleardraw"
ST_UPDRAW = "st-updraw"  # {"png": canvas data URL, "t": nonce}, written by assets/ld-9-draw.js
ST_UPIN = "st-upin"  # {"img", "name", "n"}: the converted image, the reducer's input
UP_ORIG, UP_RECON, UP_INFO, UP_NBRS = "up-orig", "up-recon", "up-info", "up-nbrs"
BTN_UP_LOAD, BTN_UP_CLEAR = "btn-up-load", "btn-up-clear"
UP_USE, UP_NBR = "up-use", "up-nbr"  # pattern ids {"type", "index": a|b|c} and {"type", "index": point}
# downloads (ui/export_links.py): links to the REST API's exports, a scale picker, the copy-link button
EXP_SCALE, EXP_DIM = "exp-scale", "exp-dim"  # image scale x1..x8; the dimension a sweep GIF moves
EXP_DECODE, EXP_SWEEP, EXP_INTERP_PNG, EXP_INTERP_GIF = "exp-decode", "exp-sweep", "exp-interp-png", "exp-interp-gif"
EXP_ATTR_GIF, EXP_TRAV_PNG, EXP_PRIOR_PNG, EXP_CSV = "exp-attr-gif", "exp-trav-png", "exp-prior-png", "exp-csv"
EXP_ATTR_PNG = "exp-attr-png"  # the attribute strength strip as a PNG
BTN_COPY_LINK, COPY_BOX, COPY_NOTE = "btn-copy-link", "copy-box", "copy-note"
# decode anywhere and the manifold grid (ui/anywhere.py, assets/ld-8-anywhere.js)
GRID_ON, ANY_NOTE, GRID_NOTE = "grid-on", "any-note", "grid-note"  # the grid toggle; the map card's lines
ST_ANYCLICK = "st-anyclick"  # {"xy", "key", "nonce"}: a position to decode, written by the page
ST_ANYOUT = "st-anyout"  # {"key", "dims", "grid", "mark"}: what the page draws over the 2-D map
ST_GRIDREQ, ST_GRIDOUT = "st-gridreq", "st-gridout"  # the visible ranges; the grid's sprite
ANY_LAYER, ANY_GRID, ANY_MARK = "any-layer", "any-grid", "any-mark"  # made by the page over the plot
