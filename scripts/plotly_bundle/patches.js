// The patches build_plotly_bundle.sh applies (with apply_patches.js) to plotly.js's WebGL code:
// four to the 3-D scene code it vendors in stackgl_modules/index.js (gl-plot3d / gl-scatter3d),
// one to the 2-D canvases. Each is [file, name, exact text, replacement], and the text must occur
// exactly once, or the build stops: a new plotly.js version needs them looked at again.
'use strict';
const GL3D = 'stackgl_modules/index.js';

module.exports = [
    // 1. The filled square marker '■' (scatter3d marker.symbol "square", which latentdash's
    //    3-D map uses) becomes one exact quad: 2 triangles and 4 edges spanning the traced glyph's
    //    bounds, instead of the font-traced polygon (6 triangles, 8 edges). Same size and look; a
    //    third of the vertices to build, upload and draw for every point.
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

    // 2. Pick buffers (what the mouse hovers and clicks) are drawn when the mouse next asks for
    //    them, not on every frame after a change. A new figure or a rotation no longer pays a second
    //    full drawing of every point plus a GPU read-back; hover pays it once, on the first move
    //    after a change.
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

    // 3. A 3-D click is reported on release, when the mouse went up (almost) where it went down.
    //    Upstream reports it on press, and only if a frame is drawn while the button is held: a
    //    quick click on a large map drawn in software WebGL was lost, and every rotation that
    //    started on a point also selected that point.
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

    // 4. 3-D markers without an outline (marker.line.width 0, latentdash's data points) get no
    //    outline vertices: upstream built and uploaded them for every point and never drew them
    //    (8 of 14 vertices per square).
    [GL3D, 'no outline vertices without an outline: count',
     "      lineVertexCount += glyphLines.edges.length * 2\n",
     "      if(this.lineWidth > 0) {  // latentdash: outlines are only drawn when lineWidth > 0\n" +
     "        lineVertexCount += glyphLines.edges.length * 2\n      }\n"],
    [GL3D, 'no outline vertices without an outline: fill',
     "      var cells = glyphLines.edges\n      var verts = glyphLines.positions\n",
     "      var cells = this.lineWidth > 0 ? glyphLines.edges : []\n      var verts = glyphLines.positions\n"],

    // 5. The 2-D WebGL canvases (scattergl) are created without multisample antialiasing.
    //    scattergl's markers are smoothed in their own fragment shader, so they look the same;
    //    without a GPU (software WebGL) MSAA doubled the cost of every frame of a large 2-D map.
    ['src/lib/prepare_regl.js', 'no MSAA for 2-D WebGL',
     "                    antialias: !d.pick,\n",
     "                    antialias: false, // latentdash: markers are smoothed in their shader\n"],
];
