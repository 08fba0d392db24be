#!/usr/bin/env bash
# Rebuild latentdash/assets/vendor/plotly-latentdash.min.js: a minified
# plotly.js partial bundle containing only the scatter, scattergl and
# scatter3d traces (plus plotly's core: legend, colorbar/colorscales, fx/hover,
# modebar, shapes, annotations, ...). The full plotly.min.js (~4.8 MB) takes ~2 s
# to parse+evaluate in headless Chromium; this bundle is a fraction of that.
#
# Needs: bash, node (>= 18), npm with access to the npm registry, tar,
# sha512sum/openssl. Nothing else from the internet (no git clone).
#
# Approach (mirrors plotly.js's own tasks/custom_bundle.mjs + partial_bundle.mjs
# + util/bundle_wrapper.mjs, which are not shipped in the npm tarball):
#   1. `npm pack plotly.js@$PLOTLY_VERSION` (checked against a pinned sha512)
#   2. install its runtime dependencies + the esbuild toolchain it builds with,
#      resolving versions as of $NPM_BEFORE (npm --before) so that
#      re-runs resolve the same dependency tree
#   3. write lib/index-latentdash.js (same form as lib/index-*.js)
#   4. esbuild it with plotly's own esbuild-config.js settings (iife, globalName
#      Plotly, glsl/inline-css/environment plugins, regl -> @plotly/regl alias,
#      define global=window), minify, plus plotly's "strip meta attributes"
#      step (descriptions etc.), then add plotly's UMD wrapper (which also sets
#      window.Plotly) and a licence header
#   5. write output atomically (tmp file + mv) and copy plotly's LICENSE
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
OUT_DIR="$REPO_ROOT/latentdash/assets/vendor"
OUT_JS="$OUT_DIR/plotly-$BUNDLE_NAME.min.js"
OUT_LICENSE="$OUT_DIR/plotly.js-LICENSE.txt"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/plotly-bundle.XXXXXX")"
TMP_JS=""
TMP_LICENSE=""
cleanup() {
    rm -rf "$WORK"
    [[ -n "$TMP_JS" ]] && rm -f "$TMP_JS"
    [[ -n "$TMP_LICENSE" ]] && rm -f "$TMP_LICENSE"
    return 0
}
trap cleanup EXIT

log() { printf '[build_plotly_bundle] %s\n' "$*" >&2; }

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
node - "${BUILD_DEPS[@]}" <<'EOF'
const fs = require('fs');
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
delete pkg.devDependencies;
delete pkg.scripts;
delete pkg.overrides;
for (const spec of process.argv.slice(2)) {
    const at = spec.lastIndexOf('@');
    pkg.dependencies[spec.slice(0, at)] = spec.slice(at + 1);
}
fs.writeFileSync('package.json', JSON.stringify(pkg, null, 2));
EOF
log "installing dependencies (resolved as of $NPM_BEFORE)"
# --ignore-scripts: no install scripts needed (esbuild finds its
# @esbuild/<platform> binary package without its postinstall).
npm install --ignore-scripts --before="$NPM_BEFORE" "${NPM_FLAGS[@]}" >&2

# esbuild-config.js requires ./tasks/util/constants.js (only for its devtools
# configs), which the npm tarball does not ship: provide the one value it uses.
mkdir -p tasks/util
cat > tasks/util/constants.js <<'EOF'
'use strict';
var path = require('path');
module.exports = { pathToRoot: path.join(__dirname, '..', '..') };
EOF

# ---------------------------------------------------------------- 2b. patch
# Small changes to plotly.js's WebGL code: four to the 3-D scene code it
# vendors in stackgl_modules/index.js (gl-plot3d / gl-scatter3d), one to the
# 2-D canvases. Each must match exactly once, or the
# build stops: a new plotly.js version needs them looked at again.
#  1. The filled square marker '■' (scatter3d marker.symbol "square", which
#     latentdash's 3-D map uses) becomes one exact quad: 2 triangles and 4
#     edges spanning the traced glyph's bounds, instead of the font-traced
#     polygon (6 triangles, 8 edges). Same size and look; a third of the
#     vertices to build, upload and draw for every point.
#  2. Pick buffers (what the mouse hovers and clicks) are drawn when the mouse
#     next asks for them, not on every frame after a change. A new figure or a
#     rotation no longer pays a second full drawing of every point plus a
#     GPU read-back; hover pays it once, on the first move after a change.
#  3. A 3-D click is reported on release, when the mouse went up (almost)
#     where it went down. Upstream reports it on press, and only if a frame
#     is drawn while the button is held: a quick click on a large map drawn in
#     software WebGL was lost, and every rotation that started on a point
#     also selected that point.
#  4. 3-D markers without an outline (marker.line.width 0, latentdash's data
#     points) get no outline vertices: upstream built and uploaded them for
#     every point and never drew them (8 of 14 vertices per square).
#  5. The 2-D WebGL canvases (scattergl) are created without multisample
#     antialiasing. scattergl's markers are smoothed in their own fragment
#     shader, so they look the same; without a GPU (software WebGL) MSAA
#     doubled the cost of every frame of a large 2-D map.
log "patching the WebGL code (square glyph, on-demand picking, quick 3-D clicks, no unused outlines, no 2-D MSAA)"
node - <<'EOF'
const fs = require('fs');
const GL3D = 'stackgl_modules/index.js';
const patches = [
    [GL3D, 'square glyph',
     "  //Save cached symbol\n  return fontCache[symbol] = [triSymbol, lineSymbol, bounds]\n",
     "  // latentdash: the filled square as one exact quad over the traced glyph's bounds\n" +
     "  if(symbol === '\\u25a0' && bounds[0][0] < bounds[1][0] && bounds[0][1] < bounds[1][1]) {\n" +
     "    var q = [[bounds[0][0], bounds[0][1]], [bounds[1][0], bounds[0][1]],\n" +
     "             [bounds[1][0], bounds[1][1]], [bounds[0][0], bounds[1][1]]]\n" +
     "    triSymbol = {positions: q, cells: [[0, 1, 2], [0, 2, 3]]}\n" +
     "    lineSymbol = {positions: q, edges: [[0, 1], [1, 2], [2, 3], [3, 0]]}\n" +
     "  }\n\n" +
     "  //Save cached symbol\n  return fontCache[symbol] = [triSymbol, lineSymbol, bounds]\n"],
    [GL3D, 'no pick pass per frame',
     "    if(pickDirty) {\n      pickDirty = false\n      renderPick()\n    }\n",
     "    // latentdash: pick buffers are drawn on demand, in the mouse listener\n"],
    [GL3D, 'pick pass on demand',
     "        scene._mouseRotating = false\n\n        for(var i=0; i<numPick; ++i) {\n",
     "        scene._mouseRotating = false\n\n" +
     "        // latentdash: draw and read back the pick buffers only when asked\n" +
     "        if(pickDirty) {\n" +
     "          pickDirty = false\n" +
     "          renderPick()\n" +
     "          for(var i=0; i<numPick; ++i) {\n" +
     "            clearTimeout(pickBuffers[i]._readTimeout)\n" +
     "            pickBuffers[i]._readTimeout = null\n" +
     "            pickBuffers[i]._readCallback()\n" +
     "          }\n" +
     "          gl.bindFramebuffer(gl.FRAMEBUFFER, null)\n" +
     "        }\n\n" +
     "        for(var i=0; i<numPick; ++i) {\n"],
    [GL3D, 'click: press and release',
     "      if(scene._stopped) {\n        return\n      }\n\n      var numPick = pickBuffers.length\n",
     "      if(scene._stopped) {\n        return\n      }\n\n" +
     "      // latentdash: a left press released (almost) where it went down is a click, reported on release\n" +
     "      if((buttons & 1) && !(scene._prevButtons & 1)) {\n" +
     "        scene._clickPending = true\n        scene._pressX = x\n        scene._pressY = y\n" +
     "      } else if(!(buttons & 1) && (scene._prevButtons & 1)) {\n" +
     "        scene._clickReady = !!scene._clickPending\n        scene._clickPending = false\n" +
     "      }\n\n" +
     "      var numPick = pickBuffers.length\n"],
    [GL3D, 'click: only on release',
     "                selection.buttons        = buttons\n",
     "                selection.buttons        = scene._clickReady ? 1 : 0\n"],
    [GL3D, 'click: a drag is not a click',
     "      if(buttons && scene._prevButtons) {\n        scene._mouseRotating = true\n",
     "      if(buttons && scene._prevButtons) {\n" +
     "        if(Math.abs(x - scene._pressX) + Math.abs(y - scene._pressY) > 4) {\n" +
     "          scene._clickPending = false\n        }\n" +
     "        scene._mouseRotating = true\n"],
    [GL3D, 'click: released on nothing',
     "      scene._prevButtons = buttons\n    })\n",
     "      if(!selection.object) {\n        scene._clickReady = false\n      }\n" +
     "      scene._prevButtons = buttons\n    })\n"],
    [GL3D, 'click: handed over once',
     "    if(scene.onrender) {\n      scene.onrender()\n    }\n",
     "    if(scene.onrender) {\n      scene.onrender()\n    }\n    scene._clickReady = false\n"],
    [GL3D, 'no outline vertices without an outline: count',
     "      lineVertexCount += glyphLines.edges.length * 2\n",
     "      if(this.lineWidth > 0) {  // latentdash: outlines are only drawn when lineWidth > 0\n" +
     "        lineVertexCount += glyphLines.edges.length * 2\n      }\n"],
    [GL3D, 'no outline vertices without an outline: fill',
     "      var cells = glyphLines.edges\n      var verts = glyphLines.positions\n",
     "      var cells = this.lineWidth > 0 ? glyphLines.edges : []\n      var verts = glyphLines.positions\n"],
    ['src/lib/prepare_regl.js', 'no MSAA for 2-D WebGL',
     "                    antialias: !d.pick,\n",
     "                    antialias: false, // latentdash: markers are smoothed in their shader\n"],
];
const files = {};
for (const [file, name, from, to] of patches) {
    const src = files[file] !== undefined ? files[file] : fs.readFileSync(file, 'utf8');
    const n = src.split(from).length - 1;
    if (n !== 1) { console.error(`patch "${name}": expected 1 match in ${file}, found ${n}`); process.exit(1); }
    files[file] = src.replace(from, () => to);
}
for (const [file, src] of Object.entries(files)) fs.writeFileSync(file, src);
EOF

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
cat > build-latentdash.js <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const { build } = require('esbuild');
const { esbuildConfig } = require('./esbuild-config.js');

const [index, outfile, header] = process.argv.slice(2);

// plotly.js tasks/compress_attributes.js: strip meta attributes
// (description, requiredOpts, otherOpts, role, hrName) used only by the plot
// schema / docs. Restricted to plotly's own src/ (where they live).
const WS = '\\s*', COMMA = ',?';
const re = (s) => new RegExp(WS + s + COMMA, 'g');
const regexes = [
    re("description: '.*'"),
    re('description: \\[[\\s\\S]*?\\]\\.join\\([\\s\\S]*?\\)'),
    re('requiredOpts: \\[[\\s\\S]*?\\]'),
    re('otherOpts: \\[[\\s\\S]*?\\]'),
    re("role: '.*'"),
    re("hrName: '.*'"),
];
const srcDir = path.join(__dirname, 'src') + path.sep;
const stripMeta = {
    name: 'strip-meta-attributes',
    setup(b) {
        b.onLoad({ filter: /\.js$/ }, async (args) => {
            if (!args.path.startsWith(srcDir)) return undefined;
            let c = await fs.promises.readFile(args.path, 'utf8');
            for (const r of regexes) c = c.replace(r, '');
            return { contents: c, loader: 'js' };
        });
    },
};

// src/registry.js require()s maplibre-gl's CSS (~83 kB) but only runs that
// require when a trace with the 'map' base plot (scattermap, ...) is
// registered; none is in this bundle, so bundle an empty module instead.
const dropMaplibreCss = {
    name: 'drop-maplibre-css',
    setup(b) {
        b.onResolve({ filter: /^maplibre-gl\/dist\/maplibre-gl\.css$/ },
            () => ({ path: 'maplibre-gl.css', namespace: 'latentdash-empty' }));
        b.onLoad({ filter: /.*/, namespace: 'latentdash-empty' },
            () => ({ contents: '', loader: 'js' }));
    },
};

// Same as esbuild-plugin-inline-css (which plotly's config uses), except that
// the <style> id hashes the path relative to the package root, not the
// absolute (random temp dir) path, so that rebuilds are byte-identical.
const crypto = require('crypto');
const inlineCss = {
    name: 'esbuild-plugin-inline-css',
    setup(b) {
        b.onLoad({ filter: /\.(css)$/ }, async (args) => {
            const rel = path.relative(__dirname, path.resolve(args.resolveDir || '', args.path));
            const id = crypto.createHash('sha256').update(rel).digest('hex');
            const css = await fs.promises.readFile(args.path, 'utf8');
            return {
                loader: 'js',
                contents: `(function(){
        if (!document.getElementById('${id}')) {
            var e = document.createElement('style');
            e.id = '${id}';
            e.textContent = \`${css}\`;
            document.head.appendChild(e);
        }
    })();`,
            };
        });
    },
};

(async () => {
    const plugins = esbuildConfig.plugins.map((pl) => (pl.name === 'esbuild-plugin-inline-css' ? inlineCss : pl));
    if (!plugins.includes(inlineCss)) throw new Error('esbuild-config.js no longer uses esbuild-plugin-inline-css; update build script');
    const config = {
        ...esbuildConfig,
        entryPoints: [index],
        outfile,
        minify: true,
        sourcemap: false,
        logLevel: 'warning',
        plugins: [dropMaplibreCss].concat(plugins, [stripMeta]),
    };
    await build(config);
    // esbuild may emit a sibling .css for the inline-css plugin; plotly drops it
    const css = outfile.replace(/\.js$/, '.css');
    if (fs.existsSync(css)) fs.unlinkSync(css);

    // plotly.js tasks/util/bundle_wrapper.mjs addWrapper(): UMD-ish wrapper
    // that also sets window.Plotly; plus the dist licence header.
    const body = fs.readFileSync(outfile, 'utf8');
    const out = [
        header,
        '(',
        ' function(root, factory) {',
        '  if (typeof module === "object" && module.exports) {',
        '   module.exports = factory();',
        '  } else {',
        '   root.moduleName = factory();',
        '  }',
        '} (typeof self !== "undefined" ? self : this, () => {',
        body,
        'window.Plotly = Plotly;',
        'return Plotly;',
        '}));',
        '',
    ].join('\n');
    fs.writeFileSync(outfile, out);
})().catch((e) => { console.error(e); process.exit(1); });
EOF

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
mkdir -p "$OUT_DIR"
TMP_JS="$(mktemp "$OUT_DIR/.plotly-$BUNDLE_NAME.min.js.XXXXXX")"
cp "$WORK/bundle.min.js" "$TMP_JS"
chmod 644 "$TMP_JS"
mv -f "$TMP_JS" "$OUT_JS"
TMP_JS=""
TMP_LICENSE="$(mktemp "$OUT_DIR/.plotly.js-LICENSE.txt.XXXXXX")"
cp "$PKG/LICENSE" "$TMP_LICENSE"
chmod 644 "$TMP_LICENSE"
mv -f "$TMP_LICENSE" "$OUT_LICENSE"
TMP_LICENSE=""

size=$(wc -c < "$OUT_JS")
gz=$(gzip -9c "$OUT_JS" | wc -c)
log "wrote ${OUT_JS#"$REPO_ROOT"/} ($size bytes, $gz gzipped) and ${OUT_LICENSE#"$REPO_ROOT"/}"
