/* latentdash page code, part 2: the plotly.js loader (our bundle) and its size patches, and the
   signal that the first map is on screen. */
/* plotly.js: dcc.Graph loads window._dashPlotlyJSURL when it first mounts; point it at our own
   bundle (assets/vendor/, built by scripts/build_plotly_bundle.sh: only the scatter, scattergl
   and scatter3d traces, 1.8 MB instead of 4.8 MB, about half the parse time) and start fetching it
   now, so it is in the cache by the time the map mounts. */
(function () {
  const me = document.currentScript && document.currentScript.src;
  if (!me) { return; }
  // ?m=<the bundle's hash> (ui/contract.py): a fingerprinted URL, cached by the browser for a year
  const v = (window.latentdash && window.latentdash.contract && window.latentdash.contract.plotly) || "0";
  const url = new URL("vendor/plotly-latentdash.min.js?m=" + encodeURIComponent(v), me).href;
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
      // dcc.Graph calls react again with the very figure it already shows when one of its event
      // props changes (e.g. the relayout plotly reports with a box/lasso outline): nothing to draw,
      // and redrawing 70k WebGL points would cost half a second
      // (dcc.Graph builds a new config object per call, compared by value, and a new layout
      // object, compared key by key; a box/lasso outline plotly itself drew counts as the same)
      const args = fig ? [data.data, data.layout, JSON.stringify(data.config || {})]
                       : [data, layout, JSON.stringify(config || {})];
      const last = el && el.__ldReacted;
      const sameLayout = (a, b) => a === b || (a && b && Object.keys(Object.assign({}, a, b)).every((k) =>
        a[k] === b[k] || (k === "selections" && el.layout
                          && JSON.stringify(a[k] || []) === JSON.stringify(el.layout.selections || []))));
      if (last && el._fullLayout && args[0] === last[0] && args[2] === last[2] && sameLayout(args[1], last[1])
          && Math.abs(el._fullLayout.width - el.clientWidth) <= 1
          && Math.abs(el._fullLayout.height - el.clientHeight) <= 1) {
        return Promise.resolve(el);
      }
      if (el) { el.__ldReacted = args; }
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
      if (dc && dc.set_props) { dc.set_props(window.latentdash.ids.ST_DRAWN, {data: true}); } else { setTimeout(go, 100); }
    };
    window.requestAnimationFrame(() => setTimeout(go, 0));   // after the frame with the map
  }
};
setTimeout(() => window.latentdashFirstDraw.mark(), 8000);
