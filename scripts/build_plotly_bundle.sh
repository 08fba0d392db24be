#!/usr/bin/env bash
# Rebuild latentdash/assets/vendor/plotly-latentdash.min.js: a minified
# plotly.js partial bundle containing only the scatter, scattergl and
# scatter3d traces (plus plotly's core: legend, colorbar/colorscales, fx/hover,
# modebar, shapes, annotations, ...). The full plotly.min.js (~4.8 MB) takes ~2 s
# to parse+evaluate in headless Chromium; this bundle is a fraction of that.
#
# Needs: bash, node (>= 18), npm with access to the npm registry, tar,
# sha512sum/openssl, sha256sum. Nothing else from the internet (no git clone).
# The JavaScript it runs lives in scripts/plotly_bundle/.
#
# Approach (mirrors plotly.js's own tasks/custom_bundle.mjs + partial_bundle.mjs
# + util/bundle_wrapper.mjs, which are not shipped in the npm tarball):
#   1. `npm pack plotly.js@$PLOTLY_VERSION` (checked against a pinned sha512)
#   2. install its runtime dependencies + the esbuild toolchain it builds with
#      (prepare_package.js), resolving versions as of $NPM_BEFORE (npm --before)
#      so that re-runs resolve the same dependency tree
#  2b. patch its WebGL code (patches.js, applied by apply_patches.js)
#   3. write lib/index-latentdash.js (same form as lib/index-*.js)
#   4. esbuild it (build.js) with plotly's own esbuild-config.js settings (iife,
#      globalName Plotly, glsl/inline-css/environment plugins, regl ->
#      @plotly/regl alias, define global=window), minify, plus plotly's "strip
#      meta attributes" step (descriptions etc.), then add plotly's UMD wrapper
#      (which also sets window.Plotly) and a licence header
#   5. write output atomically (tmp file + mv), copy plotly's LICENSE and record
#      the bundle's sha256 next to it (checked by tests/test_bundle.py)
#
# Usage: scripts/build_plotly_bundle.sh        (from anywhere)
set -euo pipefail

PLOTLY_VERSION=4.1.1
PLOTLY_INTEGRITY='sha512-fYLAOj091/+M4h1rmtVIkRIpdkz5/P9IdNUeB9wKmCUyvewuUdlCYR5ryqDWP7Cb36Dn4EvSrs6YKvRJ9ukNdQ=='
# Resolve every (transitive) dependency as the registry stood on the day this
# script was written (npm --before), so re-runs resolve the same tree. (Not the
# plotly release date: some of its pinned build plugins were published later.)
NPM_BEFORE='2026-11-24T00:00:00Z'
# Build-only tools, pinned to versions compatible with plotly.js 4.1.1's
# devDependencies (esbuild ^0.28.1, esbuild-plugin-* as listed there).
BUILD_DEPS=(
    esbuild@0.28.2
    esbuild-plugin-glsl@1.4.2
    esbuild-plugin-inline-css@0.0.1
    esbuild-plugin-environment@0.5.0
    stream-browserify@3.0.0
    buffer@6.0.3
)
TRACES=(scatter scattergl scatter3d)
BUNDLE_NAME=latentdash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JS_DIR="$REPO_ROOT/scripts/plotly_bundle"
OUT_DIR="$REPO_ROOT/latentdash/assets/vendor"
OUT_JS="$OUT_DIR/plotly-$BUNDLE_NAME.min.js"
OUT_SHA256="$OUT_JS.sha256"
OUT_LICENSE="$OUT_DIR/plotly.js-LICENSE.txt"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/plotly-bundle.XXXXXX")"
TMP_OUT=""
cleanup() {
    rm -rf "$WORK"
    [[ -n "$TMP_OUT" ]] && rm -f "$TMP_OUT"
    return 0
}
trap cleanup EXIT

log() { printf '[build_plotly_bundle] %s\n' "$*" >&2; }

# install_atomic SRC DEST: copy SRC to DEST (mode 644) through a temp file and mv
install_atomic() {
    TMP_OUT="$(mktemp "$(dirname "$2")/.$(basename "$2").XXXXXX")"
    cp "$1" "$TMP_OUT"
    chmod 644 "$TMP_OUT"
    mv -f "$TMP_OUT" "$2"
    TMP_OUT=""
}

NPM_FLAGS=(--no-audit --no-fund --no-update-notifier --loglevel=error)

# ---------------------------------------------------------------- 1. fetch
log "fetching plotly.js@$PLOTLY_VERSION from the npm registry"
cd "$WORK"
TARBALL="$(npm pack "plotly.js@$PLOTLY_VERSION" "${NPM_FLAGS[@]}" 2>/dev/null | tail -n 1)"
[[ -f "$TARBALL" ]] || { log "npm pack did not produce a tarball"; exit 1; }
if command -v openssl >/dev/null 2>&1; then
    got="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
else
    got="sha512-$(sha512sum "$TARBALL" | cut -d' ' -f1 | xxd -r -p | base64 -w0)"
fi
if [[ "$got" != "$PLOTLY_INTEGRITY" ]]; then
    log "integrity mismatch for $TARBALL: got $got"
    exit 1
fi
tar -xzf "$TARBALL"
PKG="$WORK/package"
cd "$PKG"

# ---------------------------------------------------------------- 2. install
# Keep only runtime dependencies; drop devDependencies (karma, canvas, ...)
# and scripts, then add the build-only tools.
node "$JS_DIR/prepare_package.js" "${BUILD_DEPS[@]}"
log "installing dependencies (resolved as of $NPM_BEFORE)"
# --ignore-scripts: no install scripts needed (esbuild finds its
# @esbuild/<platform> binary package without its postinstall).
npm install --ignore-scripts --before="$NPM_BEFORE" "${NPM_FLAGS[@]}" >&2

# esbuild-config.js requires ./tasks/util/constants.js (only for its devtools
# configs), which the npm tarball does not ship: provide the one value it uses.
mkdir -p tasks/util
cp "$JS_DIR/constants.js" tasks/util/constants.js

# ---------------------------------------------------------------- 2b. patch
# Five small changes to plotly.js's WebGL code (3-D: the square glyph as one
# quad, pick buffers drawn on demand, clicks reported on release, no unused
# outline vertices; 2-D: no MSAA), listed with their reasons in
# plotly_bundle/patches.js. Each must match exactly once, or the build stops:
# a new plotly.js version needs them looked at again.
log "patching the WebGL code (square glyph, on-demand picking, quick 3-D clicks, no unused outlines, no 2-D MSAA)"
node "$JS_DIR/apply_patches.js"

# ---------------------------------------------------------------- 3. index
{
    printf "'use strict';\n\nvar Plotly = require('./core');\n\nPlotly.register([\n    // traces\n"
    for t in "${TRACES[@]}"; do printf "    require('./%s'),\n" "$t"; done
    printf "]);\n\nmodule.exports = Plotly;\n"
} > "lib/index-$BUNDLE_NAME.js"
for t in "${TRACES[@]}"; do [[ -f "lib/$t.js" ]] || { log "no such trace: $t"; exit 1; }; done

# ---------------------------------------------------------------- 4. bundle
TRACE_LIST="$(IFS=,; echo "${TRACES[*]}")"
TRACE_LIST="${TRACE_LIST//,/, }"
cp "$JS_DIR/build.js" build-latentdash.js

HEADER="/**
* plotly.js ($BUNDLE_NAME - minified) v$PLOTLY_VERSION
* Partial bundle, traces included: $TRACE_LIST
* Built by scripts/build_plotly_bundle.sh from the npm package plotly.js@$PLOTLY_VERSION,
* with small patches to its WebGL code (square glyph, on-demand picking, quick 3-D clicks,
* no unused outline vertices, no 2-D MSAA)
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license (see plotly.js-LICENSE.txt next to this file)
*/"

log "bundling (esbuild, minified): $TRACE_LIST"
node build-latentdash.js "./lib/index-$BUNDLE_NAME.js" "$WORK/bundle.min.js" "$HEADER"

# sanity: the version and the registered traces must be in the bundle
grep -q "\"$PLOTLY_VERSION\"" "$WORK/bundle.min.js" || { log "version string missing from bundle"; exit 1; }
for t in "${TRACES[@]}"; do
    grep -q "name:\"$t\"" "$WORK/bundle.min.js" || { log "trace $t missing from bundle"; exit 1; }
done

# ---------------------------------------------------------------- 5. output
# the sha256 in `sha256sum` format: `sha256sum -c` in the vendor folder checks it
sha="$(sha256sum < "$WORK/bundle.min.js" | cut -d' ' -f1)"
printf '%s  %s\n' "$sha" "${OUT_JS##*/}" > "$WORK/bundle.min.js.sha256"
mkdir -p "$OUT_DIR"
install_atomic "$WORK/bundle.min.js" "$OUT_JS"
install_atomic "$WORK/bundle.min.js.sha256" "$OUT_SHA256"
install_atomic "$PKG/LICENSE" "$OUT_LICENSE"

size=$(wc -c < "$OUT_JS")
gz=$(gzip -9c "$OUT_JS" | wc -c)
log "wrote ${OUT_JS#"$REPO_ROOT"/} ($size bytes, $gz gzipped, sha256 $sha), ${OUT_SHA256##*/} and ${OUT_LICENSE##*/}"
