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

/* A box/lasso selection on the 2-D map, straight from plotly's event to the reducer's input
   st-lasso as the dataset indices of the class traces' points (overlays carry no customdata).
   Through dcc.Graph's selectedData the same selection took ~0.2 s longer to reach a callback: the
   renderer first stores a record per selected point. A double click (plotly_deselect) clears it. */
window.latentdashLasso = {
  hook: function (gd) {
    if (!gd.__ldLasso) {
      const send = (data) => window.dash_clientside.set_props(window.latentdash.ids.ST_LASSO, {data: data});
      gd.__ldLasso = {
        selected: (ev) => {
          if (!ev || !ev.points) { return; }   // a selection gesture that ended without a region
          const idx = [];
          for (const p of ev.points) { if (typeof p.customdata === "number") { idx.push(p.customdata); } }
          // the preview first, painted before the request's work (Dash's dispatch) takes the thread
          window.latentdashLasso.preview(gd, idx);
          window.requestAnimationFrame(() => setTimeout(() => send({idx: idx}), 0));
        },
        deselect: () => send(null)
      };
    }
    // dcc.Graph's own listeners copy every selected point into its selectedData prop (for 10k
    // points ~0.4 s of the main thread) which nothing here reads: ours replace them
    if (typeof gd.removeAllListeners === "function") {
      gd.removeAllListeners("plotly_selected");
      gd.removeAllListeners("plotly_deselect");
    }
    gd.on("plotly_selected", gd.__ldLasso.selected);
    gd.on("plotly_deselect", gd.__ldLasso.deselect);
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
