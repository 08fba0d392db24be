/* latentdash clientside code: work that needs no server round trip, and the slider hot path. */

/* plotly.js: dcc.Graph loads window._dashPlotlyJSURL when it first mounts; point it at our own
   bundle (assets/vendor/, built by scripts/build_plotly_bundle.sh: only the scatter, scattergl
   and scatter3d traces, 1.8 MB instead of 4.8 MB, about half the parse time) and start fetching it
   now, so it is in the cache by the time the map mounts. */
(function () {
  const me = document.currentScript && document.currentScript.src;
  if (!me) { return; }
  const url = new URL("vendor/plotly-latentdash.min.js", me).href;
  Object.defineProperty(window, "_dashPlotlyJSURL", {configurable: true, get: () => url, set: () => {}});
  // Draw every figure at its graph box's size straight away: plotly otherwise draws at a default
  // 700x450 when the graph mounts before its box is laid out, and dcc.Graph's resize then redraws
  // all WebGL points a second time. So: react() gets the box size, and Plots.resize() (which
  // dcc.Graph calls after each plot) is skipped when the size did not change.
  const fit = (el, layout) => {
    if (!el || !(el.clientWidth > 0) || !(el.clientHeight > 0) || !layout || layout.width || layout.height) {
      return layout;
    }
    return Object.assign({}, layout, {width: el.clientWidth, height: el.clientHeight});
  };
  const elOf = (gd) => (typeof gd === "string" ? document.getElementById(gd) : gd);
  Object.defineProperty(window, "Plotly", {configurable: true, get: () => undefined, set: (P) => {
    Object.defineProperty(window, "Plotly", {value: P, writable: true, configurable: true});
    if (!P || !P.Plots || !P.react) { return; }
    const react = P.react, resize = P.Plots.resize;
    P.react = function (gd, data, layout, config) {
      const el = elOf(gd);
      const fig = data && !Array.isArray(data) && typeof data === "object";   // react(gd, figure)
      const out = fig ? react.call(this, gd, Object.assign({}, data, {layout: fit(el, data.layout || {})}))
                      : react.call(this, gd, data, fit(el, layout || {}), config);
      const traces = fig ? data.data : data;
      if (Array.isArray(traces) && traces.length > 5 && out && out.then) {   // a map, not a placeholder
        out.then(() => window.latentdashFirstDraw.mark());
      }
      return out;
    };
    P.Plots.resize = function (gd) {
      const el = elOf(gd);
      const fl = el && el._fullLayout;
      if (!el || !fl || !(el.clientWidth > 0)) { return resize.apply(this, arguments); }
      if (Math.abs(fl.width - el.clientWidth) <= 1 && Math.abs(fl.height - el.clientHeight) <= 1) {
        return Promise.resolve(el);
      }
      return P.relayout(el, {width: el.clientWidth, height: el.clientHeight});
    };
  }});
  const link = document.createElement("link");
  link.rel = "preload"; link.as = "script"; link.href = url;
  document.head.appendChild(link);
})();
/* The first map on screen: tell the server-side callbacks that wait for it (the sliders, whose
   mounting would otherwise delay the first draw). A fallback fires if no map ever draws. */
window.latentdashFirstDraw = {
  done: false,
  mark: function () {
    if (this.done) { return; }
    this.done = true;
    const go = () => {
      const dc = window.dash_clientside;
      if (dc && dc.set_props) { dc.set_props("st-drawn", {data: true}); } else { setTimeout(go, 100); }
    };
    window.requestAnimationFrame(() => setTimeout(go, 0));   // after the frame with the map
  }
};
setTimeout(() => window.latentdashFirstDraw.mark(), 8000);
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  latentdash: {
    /* Hover card: the point's thumbnail (fetched on demand from /thumb/...) and its label. */
    hover: function (hoverData, hoverData3, view, meta) {
      const nu = window.dash_clientside.no_update;
      const hide = [false, nu, nu, nu];
      const trig = ((window.dash_clientside.callback_context || {}).triggered || [])[0];
      if (trig && String(trig.prop_id).startsWith("map3d.")) { hoverData = hoverData3; }
      if (!hoverData || !hoverData.points || !hoverData.points.length || !view) { return hide; }
      const p = hoverData.points[0];
      const names = ((meta || {}).traces || {})[view.model] || [];
      if (typeof p.curveNumber !== "number" || p.curveNumber >= names.length) { return hide; }
      const i = p.customdata;
      if (typeof i !== "number") { return hide; }
      const bbox = p.bbox || {x0: 12, x1: 12, y0: 12, y1: 12};
      const prefix = (meta || {}).prefix || "/";
      const src = prefix + "thumb/" + encodeURIComponent(view.model) + "/" + i + ".png";
      return [true, bbox, src, "#" + i + "  " + names[p.curveNumber]];
    },
    /* Slider drag, the hot path. While a handle is held, the positions (read from the sliders'
       aria-valuenow as they move) are posted to the `drag` callback through Dash's own endpoint,
       one request in flight and always the newest positions next; the reply (a PNG data URI and
       the marker position) goes straight into the page. No Dash callback runs per frame, so a
       frame costs one small request and no re-render of the layout. Releasing the handle commits
       the vector through the normal callbacks (URL, map, image). This callback only keeps the
       loop's copy of the state it sends along. */
    dragContext: function (view, z, rendered, meta) {
      const D = window.latentdashDrag;
      // the drag callback only needs which map the page shows (rendered.key), not the per-graph records
      D.ctx = {view: view, z: z, rendered: rendered ? {key: rendered.key} : null};
      D.prefix = (meta || {}).prefix || "/";
      D.observe();
      return window.dash_clientside.no_update;
    },
    /* Two map graphs stay mounted (2-D and 3-D); show the one the last draw was for, then ask
       for the sibling map to be drawn into the hidden one once the page is idle. */
    shown: function (rendered) {
      const nu = window.dash_clientside.no_update;
      if (!rendered || (rendered.active !== "2" && rendered.active !== "3")) { return [nu, nu]; }
      const want = {"map-box": rendered.active === "2" ? "ld-graph ld-on" : "ld-graph",
                    "map3d-box": rendered.active === "3" ? "ld-graph ld-on" : "ld-graph"};
      window.latentdashPrefetch.schedule(rendered);
      window.requestAnimationFrame(() => {
        const gd = document.querySelector("#map .js-plotly-plot");
        if (gd) { window.latentdashMarker.sync(gd); }
      });
      return ["map-box", "map3d-box"].map((id) => {
        const el = document.getElementById(id);
        return el && el.className === want[id] ? nu : want[id];
      });
    },
    /* Keeps the 2-D slider-vector overlay on the figure's committed position after redraws. */
    marker: function () {
      window.latentdashResize.watch();
      window.latentdashMarker.ensure(40);
      return window.dash_clientside.no_update;
    },
    /* Camera moves: update the address bar without adding a history entry, and tell
       dcc.Location so its `search` stays in step with the address bar. */
    replaceUrl: function (search) {
      if (typeof search === "string" && search !== window.location.search) {
        window.history.replaceState(window.history.state, "",
                                    window.location.pathname + search + window.location.hash);
        window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
      }
      return window.dash_clientside.no_update;
    }
  }
});

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
      // Plots.resize (wrapped above) redraws only a graph whose size really changed
      this.timer = setTimeout(() => document.querySelectorAll(".ld-graphs .js-plotly-plot").forEach((gd) => {
        if (window.Plotly && gd._fullLayout) { window.Plotly.Plots.resize(gd).catch(() => {}); }
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
        window.dash_clientside.set_props("st-prefetch", {data: {"for": key}});
      };
      if (window.requestIdleCallback) { window.requestIdleCallback(run, {timeout: 3000}); } else { run(); }
    };
    this.timer = setTimeout(check, 1500);   // let the first draw settle and the user start
  }
};
["pointerdown", "wheel", "keydown"].forEach((t) => window.addEventListener(t, () => {
  window.latentdashPrefetch.lastInput = performance.now();
}, {capture: true, passive: true}));

window.latentdashDrag = {
  active: false, inflight: false, latest: null, prefix: "/", ctx: null, observer: null,
  observe: function () {
    if (this.observer) { return; }
    this.observer = new MutationObserver(() => this.moved());
    this.observer.observe(document.body, {subtree: true, attributes: true, attributeFilter: ["aria-valuenow"]});
  },
  moved: function () {
    if (!this.active || !this.ctx) { return; }
    const thumbs = document.querySelectorAll(".ld-sliders [role=slider]");
    const values = Array.from(thumbs, (t) => parseFloat(t.getAttribute("aria-valuenow")));
    if (!values.length || values.some((v) => !isFinite(v))) { return; }
    this.latest = Object.assign({values: values}, this.ctx);
    if (!this.inflight) { this.send(); }
  },
  send: function () {
    const p = this.latest;
    this.latest = null;
    if (!p) { this.inflight = false; return; }
    this.inflight = true;
    const body = {
      output: "st-dragout.data", outputs: {id: "st-dragout", property: "data"},
      inputs: [{id: "st-drag", property: "data", value: {values: p.values}}],
      state: [{id: "st-view", property: "data", value: p.view},
              {id: "st-z", property: "data", value: p.z},
              {id: "st-rendered", property: "data", value: p.rendered}],
      changedPropIds: ["st-drag.data"]
    };
    fetch(this.prefix + "_dash-update-component", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
    }).then(r => (r.status === 200 ? r.json() : null))
      .then(j => { if (j && j.response && j.response["st-dragout"]) { this.apply(j.response["st-dragout"].data); } })
      .catch(() => {})
      .finally(() => this.send());
  },
  apply: function (d) {
    if (!d || !d.src) { return; }
    const img = document.getElementById("current-img");
    if (img) { img.src = d.src; }
    const gd = document.querySelector((d.pt && d.pt.length === 3 ? "#map3d" : "#map") + " .js-plotly-plot");
    if (!gd || !d.pt || !gd.layout || String(gd.layout.uirevision) !== d.key) { return; }
    if (d.pt.length === 3) { window.latentdashMarker.restyle3d(gd, d.pt); return; }
    window.latentdashMarker.hook(gd);
    gd.__ldMarker.pt = d.pt;
    window.latentdashMarker.sync(gd);
  }
};
document.addEventListener("pointerdown", (e) => {
  if (e.target && e.target.closest && e.target.closest(".ld-sliders")) { window.latentdashDrag.active = true; }
}, true);
["pointerup", "pointercancel"].forEach((t) => window.addEventListener(t, () => {
  window.latentdashDrag.active = false;
}, true));

/* The slider vector on 2-D maps: an HTML overlay, so moving it never redraws the WebGL points.
   On any redraw (pan, zoom, new figure) it is re-placed; when the figure's own (hidden) 'current'
   trace changes (commit, new selection), that becomes the position. */
window.latentdashMarker = {
  /* the graph div appears once plotly.js has loaded: wait for it (tries x 250 ms), then hook */
  ensure: function (tries) {
    const gd = document.querySelector("#map .js-plotly-plot");
    if (gd && typeof gd.on === "function") {
      this.hook(gd);
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
    const el = document.getElementById("map-marker");
    const st = gd.__ldMarker;
    if (!el || !st || !gd._fullLayout || !gd._fullData) { return; }
    const tr = gd._fullData.find(t => t.name === "current");
    const fl = gd._fullLayout;
    const shown = document.getElementById("map-box");
    if (!tr || tr.type !== "scattergl" || !fl.xaxis || !fl.yaxis || !shown || !shown.classList.contains("ld-on")) {
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
