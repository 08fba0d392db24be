"""Component ids, in one place so layout, callbacks and tests agree."""

URL = "url"
# per-user state (browser only)
ST_VIEW, ST_SEL, ST_INTERP, ST_Z, ST_CAM = "st-view", "st-sel", "st-interp", "st-z", "st-cam"
STORE_OF = {"view": ST_VIEW, "sel": ST_SEL, "interp": ST_INTERP, "z": ST_Z, "cam": ST_CAM}
ST_RENDERED = "st-rendered"        # what the map figure in the browser shows
ST_SLIDERKEY = "st-sliderkey"      # which model/basis the sliders were built for
ST_URL_REPLACE = "st-url-replace"  # a '?query' to put in the address bar without a history entry
ST_META = "st-meta"                # per model: trace names (for the hover card)
ST_DRAG = "st-drag"                # input of the drag callback ({"values": [...]}), posted by
ST_DRAGOUT = "st-dragout"          # assets/clientside.js while a handle moves; output {src, key, pt}
MSG = "message"
# header and map controls
MODEL = "model"
SPACE, METHOD, DIMS, COLOUR, CLICK_MODE = "space", "method", "dims", "colour", "click-mode"
GRAPH = "map"                       # the 2-D map graph
GRAPH3 = "map3d"                    # the 3-D map graph (both stay mounted; one is shown)
BOX_OF = {GRAPH: "map-box", GRAPH3: "map3d-box"}   # their wrappers; class ld-on = shown
ST_PREFETCH = "st-prefetch"         # {"for": key}: draw the other dimensionality in the hidden graph
ST_DRAWN = "st-drawn"               # set once the first map is drawn: the sliders are built after it
TIP, TIP_IMG, TIP_LABEL = "map-tip", "map-tip-img", "map-tip-label"
MARKER = "map-marker"               # HTML overlay: the slider vector on 2-D maps
# inspector
INS_ORIG, INS_RECON, INS_LABEL, INS_BAR, INS_NBRS = "ins-orig", "ins-recon", "ins-label", "ins-bar", "ins-nbrs"
BTN_A, BTN_B = "btn-set-a", "btn-set-b"
NBR = "nbr"                         # pattern id type {"type": NBR, "index": point index}
# sliders
BASIS, SLIDERS, SLIDER_NOTE = "basis", "sliders", "slider-note"
SLIDER = "zslider"                  # pattern id type {"type": SLIDER, "index": k}
CUR_IMG, BTN_RESET, BTN_RANDOM = "current-img", "btn-reset", "btn-random"
# interpolation
INT_A, INT_B, BTN_SWAP = "int-a", "int-b", "btn-swap"
STEPS, MODE = "steps", "interp-mode"
STRIP, BLEND, INT_HINT = "strip", "blend", "int-hint"
STEP = "step"                       # pattern id type {"type": STEP, "index": k}
