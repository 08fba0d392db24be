/* latentdash clientside callbacks: work that needs no server round trip. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  latentdash: {
    /* Hover card: the point's thumbnail (fetched on demand from /thumb/...) and its label. */
    hover: function (hoverData, view, meta) {
      const nu = window.dash_clientside.no_update;
      const hide = [false, nu, nu, nu];
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
