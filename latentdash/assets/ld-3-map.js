/* latentdash page code, part 3: the map graphs. Resizing only on real size changes, the prefetch
   scheduler (the sibling map drawn into the hidden graph when the page is idle) and the slider
   vector's marker on 2-D maps. */

/* Map resizing: the graphs follow their container's size, redrawn only when it really changed
   (a redraw of 70k WebGL points is not free). */
window.latentdashResize = {
  timer: null,
  watch: function () {
    const box = document.querySelector(".ld-graphs");
    if (!box || box.__ldWatched || !window.ResizeObserver) { return; }
    box.__ldWatched = true;
    new ResizeObserver(() => {
      clearTimeout(this.timer);
      // Plots.resize (wrapped in ld-2-plotly.js) redraws only a graph whose size really changed
      this.timer = setTimeout(() => document.querySelectorAll(".ld-graphs .js-plotly-plot").forEach((gd) => {
        if (window.Plotly && gd._fullLayout) {
          window.Plotly.Plots.resize(gd).catch((e) => window.latentdash.report("resize", "Could not resize the map: " + e));
        }
      }), 150);
    }).observe(box);
  }
};

/* Prefetch of the sibling map (same map, other dimensionality) into the hidden graph: once per
   shown map, after the page has been idle for a moment, so it never competes with a first draw. */
window.latentdashPrefetch = {
  timer: null, asked: null, lastInput: 0, quiet: 4000,   // only when the user dwells on a map
  schedule: function (rendered) {
    const key = rendered && rendered.key;
    if (!key || this.asked === key) { return; }
    clearTimeout(this.timer);
    const check = () => {
      // wait until the user has left the page alone for a moment and the main thread is idle
      const calm = performance.now() - this.lastInput;
      if (calm < this.quiet || window.latentdashDrag.active) {
        this.timer = setTimeout(check, this.quiet - Math.min(calm, this.quiet) + 50);
        return;
      }
      const run = () => {
        if (performance.now() - this.lastInput < this.quiet) { this.timer = setTimeout(check, 200); return; }
        this.asked = key;
        window.dash_clientside.set_props(window.latentdash.ids.ST_PREFETCH, {data: {"for": key}});
      };
      if (window.requestIdleCallback) { window.requestIdleCallback(run, {timeout: 3000}); } else { run(); }
    };
    this.timer = setTimeout(check, 1500);   // let the first draw settle and the user start
  }
};
["pointerdown", "wheel", "keydown"].forEach((t) => window.addEventListener(t, () => {
  window.latentdashPrefetch.lastInput = performance.now();
}, {capture: true, passive: true}));

/* The slider vector on 2-D maps: an HTML overlay, so moving it never redraws the WebGL points.
   On any redraw (pan, zoom, new figure) it is re-placed; when the figure's own (hidden) 'current'
   trace changes (commit, new selection), that becomes the position. */
window.latentdashMarker = {
  /* the graph div appears once plotly.js has loaded: wait for it (tries x 250 ms), then hook */
  ensure: function (tries) {
    const gd = window.latentdash.graphDiv(window.latentdash.ids.GRAPH);
    if (gd && typeof gd.on === "function") {
      this.hook(gd);
      window.latentdashLasso.hook(gd);
      window.requestAnimationFrame(() => this.sync(gd));
    } else if (tries > 0) {
      setTimeout(() => this.ensure(tries - 1), 250);
    }
  },
  hook: function (gd) {
    if (!gd.__ldMarker) { gd.__ldMarker = {pt: null, seen: null}; }
    if (gd.__ldMarkerHooked || typeof gd.on !== "function") { return; }
    gd.__ldMarkerHooked = true;
    const place = () => window.latentdashMarker.sync(gd);
    gd.on("plotly_afterplot", place);
    gd.on("plotly_relayouting", place);
    gd.on("plotly_relayout", place);
    window.addEventListener("resize", place);
  },
  /* 3-D: move the 'current' trace at most every 150 ms (each restyle redraws the scene) */
  restyle3d: function (gd, pt) {
    gd.__ld3d = pt;
    if (gd.__ld3dTimer) { return; }
    const run = () => {
      const p = gd.__ld3d;
      gd.__ld3d = null;
      const idx = gd._fullData ? gd._fullData.findIndex(t => t.name === "current") : -1;
      if (p && idx >= 0) { window.Plotly.restyle(gd, {x: [[p[0]]], y: [[p[1]]], z: [[p[2]]]}, [idx]); }
      gd.__ld3dTimer = p ? setTimeout(run, 150) : null;
    };
    run();
  },
  sync: function (gd) {
    const ids = window.latentdash.ids;
    const el = document.getElementById(ids.MARKER);
    const st = gd.__ldMarker;
    if (!el || !st || !gd._fullLayout || !gd._fullData) { return; }
    const tr = gd._fullData.find(t => t.name === "current");
    const fl = gd._fullLayout;
    const box = document.getElementById(ids.GRAPH_BOX);
    if (!tr || tr.type !== "scattergl" || !fl.xaxis || !fl.yaxis || !box || !box.classList.contains("ld-on")) {
      el.style.display = "none"; return;
    }
    const src = gd.data[tr.index] || {};
    const cur = (src.x && src.x.length) ? [src.x[0], src.y[0]] : null;
    const key = JSON.stringify([fl.uirevision, cur]);
    if (key !== st.seen) { st.seen = key; st.pt = cur; }   // the committed position changed
    if (!st.pt) { el.style.display = "none"; return; }
    const xa = fl.xaxis, ya = fl.yaxis;
    const px = xa._offset + xa.l2p(st.pt[0]), py = ya._offset + ya.l2p(st.pt[1]);
    if (!isFinite(px) || !isFinite(py)) { el.style.display = "none"; return; }
    // outside the view: pinned to the edge and faded, pointing the way
    const cx = Math.min(Math.max(px, xa._offset), xa._offset + xa._length);
    const cy = Math.min(Math.max(py, ya._offset), ya._offset + ya._length);
    const g = gd.getBoundingClientRect(), w = el.parentElement.getBoundingClientRect();
    el.style.left = (g.left - w.left + cx) + "px";
    el.style.top = (g.top - w.top + cy) + "px";
    el.style.opacity = (cx === px && cy === py) ? "1" : "0.45";
    el.style.display = "block";
  }
};

/* Box and lasso selection on the 2-D map, done here instead of by plotly. The modebar's box and
   lasso buttons still set plotly's dragmode; a gesture that starts on the plot area in those modes
   is taken before plotly sees it (capture phase): its outline is drawn in an SVG over the plot,
   the points inside are found from the visible class traces' coordinates (a point-in-polygon test,
   a few ms for 70k points) and their dataset indices (customdata) go straight to the reducer's
   input st-lasso, with the first gallery page drawn here at once (preview, below). Plotly's own
   selection re-ran its selection and redrew every WebGL point on each mouse move and again at
   mouseup (1.2 s of blocked main thread for a lasso of 10k on the 70k map, before anything could
   paint); the server now dims what was left out, in the same patch as any other selection.
   A click without a drag in these modes clears the selection, as in plotly. */
window.latentdashLasso = {
  hook: function (gd) {
    if (!gd.__ldLasso) {
      const send = (data) => window.dash_clientside.set_props(window.latentdash.ids.ST_LASSO, {data: data});
      gd.__ldLasso = {send: send, deselect: () => send(null)};
      const cap = {capture: true, passive: false};
      gd.addEventListener("pointerdown", (ev) => this.start(gd, ev), cap);
      // plotly starts its drag on mousedown/touchstart and hovers on mousemove: not for our gestures
      const block = (ev) => {
        if (gd.__ldGesture || (ev.type !== "mousemove" && this.mode(gd, ev))) {
          ev.stopPropagation();
          if (ev.type === "touchstart") { ev.preventDefault(); }
        }
      };
      ["mousedown", "touchstart", "mousemove"].forEach((t) => gd.addEventListener(t, block, cap));
      const redraw = () => this.draw(gd);
      gd.on("plotly_afterplot", () => { this.settle(gd); redraw(); });
      gd.on("plotly_relayouting", redraw);
      gd.on("plotly_relayout", redraw);
    }
    // nothing here uses plotly's selection events any more (dcc.Graph's listeners would copy
    // every selected point into selectedData, ~0.4 s for 10k points)
    if (typeof gd.removeAllListeners === "function") {
      gd.removeAllListeners("plotly_selected");
      gd.removeAllListeners("plotly_deselect");
    }
    gd.on("plotly_deselect", gd.__ldLasso.deselect);
  },
  /* "select" (box) or "lasso" when this pointer event starts a selection gesture, else null */
  mode: function (gd, ev) {
    const fl = gd._fullLayout;
    const dm = fl && fl.dragmode;
    if ((dm !== "select" && dm !== "lasso") || !fl.xaxis || !fl.yaxis || fl.scene) { return null; }
    const t = ev.target;
    if (!t || !t.classList || !t.classList.contains("nsewdrag")) { return null; }   // the plot area only
    if (typeof ev.button === "number" && ev.button !== 0 && ev.type !== "touchstart") { return null; }
    return dm;
  },
  start: function (gd, ev) {
    const mode = this.mode(gd, ev);
    if (!mode) { return; }
    ev.preventDefault();
    ev.stopPropagation();
    const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
    const box = gd.getBoundingClientRect();
    const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
    const at = (e) => [clamp(e.clientX - box.left - xa._offset, xa._length),
                       clamp(e.clientY - box.top - ya._offset, ya._length)];
    const g = {mode: mode, px: [at(ev)], xa: xa, ya: ya, frame: 0};
    gd.__ldGesture = g;
    gd.__ldOutline = null;   // the last selection's outline goes with the new gesture
    const move = (e) => {
      if (e.pointerId !== ev.pointerId) { return; }
      const p = at(e), last = g.px[g.px.length - 1];
      if (mode === "select") { g.px[1] = p; } else if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= 3) { g.px.push(p); }
      if (!g.frame) { g.frame = window.requestAnimationFrame(() => { g.frame = 0; this.draw(gd); }); }
    };
    const up = (e) => {
      if (e.pointerId !== ev.pointerId) { return; }
      window.removeEventListener("pointermove", move, true);
      window.removeEventListener("pointerup", up, true);
      window.removeEventListener("pointercancel", up, true);
      if (g.frame) { window.cancelAnimationFrame(g.frame); }
      if (e.type === "pointerup") { move(e); }
      gd.__ldGesture = null;
      this.finish(gd, g, e.type === "pointerup");
    };
    window.addEventListener("pointermove", move, true);
    window.addEventListener("pointerup", up, true);
    window.addEventListener("pointercancel", up, true);
    this.draw(gd);
  },
  /* the gesture's polygon in data coordinates: a box's four corners or the lasso's path */
  polygon: function (g) {
    let px = g.px;
    if (g.mode === "select") {
      const [a, b] = [px[0], px[px.length - 1]];
      px = [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]];
    }
    const w = Math.max(...px.map((p) => p[0])) - Math.min(...px.map((p) => p[0]));
    const h = Math.max(...px.map((p) => p[1])) - Math.min(...px.map((p) => p[1]));
    if (px.length < 3 || w < 4 || h < 4) { return null; }   // a click, not a region
    return px.map((p) => [g.xa.p2l(p[0]), g.ya.p2l(p[1])]);
  },
  finish: function (gd, g, released) {
    const poly = released ? this.polygon(g) : null;
    if (!poly) {   // a click (or a cancelled gesture): clear the selection, as plotly does
      gd.__ldOutline = null;
      this.draw(gd);
      if (released) { gd.__ldLasso.send(null); }
      return;
    }
    const idx = this.inside(gd, poly);
    gd.__ldOutline = {poly: poly, rev: gd._fullLayout.uirevision, seen: null};
    this.draw(gd);
    // the preview first, painted before the request's work (Dash's dispatch) takes the thread
    this.preview(gd, idx);
    window.requestAnimationFrame(() => setTimeout(() => gd.__ldLasso.send({idx: idx}), 0));
  },
  /* dataset indices (customdata) of the visible class traces' points inside the polygon */
  inside: function (gd, poly) {
    const n = poly.length, xs = new Float64Array(n), ys = new Float64Array(n);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    poly.forEach((p, i) => {
      xs[i] = p[0]; ys[i] = p[1];
      x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]);
    });
    const out = [];
    for (const tr of gd._fullData || []) {
      const cd = tr.customdata, x = tr.x, y = tr.y;
      if (tr.visible !== true || tr.type !== "scattergl" || !cd || !x || !y) { continue; }   // overlays: no customdata
      for (let k = 0, m = Math.min(x.length, y.length, cd.length); k < m; k++) {
        const px = x[k], py = y[k];
        if (px < x0 || px > x1 || py < y0 || py > y1) { continue; }
        let c = false;
        for (let i = 0, j = n - 1; i < n; j = i++) {
          if ((ys[i] > py) !== (ys[j] > py) && px < (xs[j] - xs[i]) * (py - ys[i]) / (ys[j] - ys[i]) + xs[i]) { c = !c; }
        }
        if (c && typeof cd[k] === "number") { out.push(cd[k]); }
      }
    }
    return out;
  },
  /* the outline: the gesture in progress, or the last selection's (kept, like plotly's, until the
     map shows another selection or none, or another map is drawn) */
  settle: function (gd) {
    const o = gd.__ldOutline;
    if (!o) { return; }
    if (gd._fullLayout.uirevision !== o.rev) { gd.__ldOutline = null; return; }
    const sig = (gd.data || []).map((t) => (Array.isArray(t.selectedpoints) ? t.selectedpoints.length : "-")).join(",");
    const dimmed = (gd.data || []).some((t) => Array.isArray(t.selectedpoints));
    if (o.seen === null) { if (dimmed) { o.seen = sig; } } else if (sig !== o.seen) { gd.__ldOutline = null; }
  },
  draw: function (gd) {
    const fl = gd._fullLayout;
    const host = gd.querySelector(".svg-container");
    if (!fl || !host) { return; }
    let svg = gd.__ldSvg;
    const g = gd.__ldGesture, o = gd.__ldOutline;
    if (!g && !o) { if (svg) { svg.style.display = "none"; } return; }
    if (!svg || !svg.isConnected) {
      svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "ld-lasso");
      svg.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "path"));
      host.appendChild(svg);
      gd.__ldSvg = svg;
    }
    const xa = fl.xaxis, ya = fl.yaxis;
    if (!xa || !ya) { svg.style.display = "none"; return; }
    let px;
    if (g) {
      px = g.mode === "select" && g.px.length > 1
        ? [g.px[0], [g.px[1][0], g.px[0][1]], g.px[1], [g.px[0][0], g.px[1][1]]] : g.px;
    } else {
      px = o.poly.map((p) => [xa.l2p(p[0]), ya.l2p(p[1])]);
    }
    const d = px.map((p, i) => (i ? "L" : "M") + (xa._offset + p[0]).toFixed(1) + "," + (ya._offset + p[1]).toFixed(1)).join("");
    svg.firstChild.setAttribute("d", d + (g ? "" : "Z"));
    svg.style.display = "block";
  },
  /* The selection's first gallery page at once, drawn here from the thumbnails' URLs (the same
     images, in the same order, as the server's page 1) and replaced by the server's gallery as
     soon as it arrives, so a lasso shows its images without waiting for the round trips. */
  preview: function (gd, idx) {
    const ld = window.latentdash;
    const box = document.getElementById(ld.ids.GAL_PREVIEW);
    const real = document.getElementById(ld.ids.GAL_THUMBS);
    const model = String((gd.layout && gd.layout.uirevision) || "").split("|")[0];
    if (!box || !real || !model || !idx.length) { return; }
    const first = Array.from(new Set(idx)).sort((a, b) => a - b).slice(0, 64);
    const url = (i) => ld.contract.prefix + "thumb/" + encodeURIComponent(model) + "/" + i + ".png";
    box.replaceChildren(...first.map((i) => {
      const img = document.createElement("img");
      img.className = "ld-px ld-thumb"; img.src = url(i); img.alt = "#" + i;
      return img;
    }));
    real.classList.add("ld-stale");
    const done = () => { box.replaceChildren(); real.classList.remove("ld-stale"); };
    if (this.observer) { this.observer.disconnect(); }
    this.observer = new MutationObserver(() => { this.observer.disconnect(); done(); });
    this.observer.observe(real, {childList: true});
    clearTimeout(this.timer);
    this.timer = setTimeout(done, 5000);   // a lasso that changed nothing: the server redraws nothing
  }
};
