/* latentdash page code, part 5: the clientside callbacks (work that needs no server round trip).
   Their inputs and outputs are declared in latentdash/ui/callbacks.py (register_clientside). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  latentdash: {
    /* Hover card: the point's thumbnail (fetched on demand from /thumb/...) and its label. */
    hover: function (hoverData, hoverData3, mapState, meta) {
      const ld = window.latentdash;
      const nu = window.dash_clientside.no_update;
      const hide = [false, nu, nu, nu];
      const trig = ((window.dash_clientside.callback_context || {}).triggered || [])[0];
      if (trig && String(trig.prop_id).startsWith(ld.ids.GRAPH3 + ".")) { hoverData = hoverData3; }
      if (!hoverData || !hoverData.points || !hoverData.points.length || !mapState) { return hide; }
      const p = hoverData.points[0];
      const names = ((meta || {}).traces || {})[mapState.model] || [];
      if (typeof p.curveNumber !== "number" || p.curveNumber >= names.length) { return hide; }
      const i = p.customdata;
      if (typeof i !== "number") { return hide; }
      const bbox = p.bbox || {x0: 12, x1: 12, y0: 12, y1: 12};
      const src = ld.contract.prefix + "thumb/" + encodeURIComponent(mapState.model) + "/" + i + ".png";
      return [true, bbox, src, "#" + i + "  " + names[p.curveNumber]];
    },
    /* Keeps the drag loop's copy of the state it sends along (the drag callback's State, in the
       order of contract.drag.state; `keep` trims a value to the keys the callback reads). */
    dragContext: function () {
      const D = window.latentdashDrag;
      const spec = window.latentdash.contract.drag;
      D.state = Array.from(arguments).map((v, k) => {
        const keep = spec && spec.state[k] && spec.state[k].keep;
        if (!keep || !v) { return v; }
        return Object.fromEntries(keep.map((key) => [key, v[key]]));
      });
      D.observe();
      return window.dash_clientside.no_update;
    },
    /* Two map graphs stay mounted (2-D and 3-D); show the one the last draw was for, then ask
       for the sibling map to be drawn into the hidden one once the page is idle. */
    shown: function (rendered) {
      const ids = window.latentdash.ids;
      const nu = window.dash_clientside.no_update;
      if (!rendered || (rendered.active !== "2" && rendered.active !== "3")) { return [nu, nu]; }
      const want = {};
      want[ids.GRAPH_BOX] = rendered.active === "2" ? "ld-graph ld-on" : "ld-graph";
      want[ids.GRAPH3_BOX] = rendered.active === "3" ? "ld-graph ld-on" : "ld-graph";
      window.latentdashPrefetch.schedule(rendered);
      window.requestAnimationFrame(() => {
        const gd = window.latentdash.graphDiv(ids.GRAPH);
        if (gd) { window.latentdashMarker.sync(gd); }
      });
      return [ids.GRAPH_BOX, ids.GRAPH3_BOX].map((id) => {
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
