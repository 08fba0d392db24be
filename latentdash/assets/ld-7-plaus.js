/* latentdash page code, part 7: how plausible the current decode is (latentdash/ui/plaus_render.py
   computes it; this draws it). One drawing function for three sources:
   - the committed slider vector: the st-plaus store (the `plaus` clientside callback below);
   - a drag frame decoded on the server: its reply carries the frame's plausibility (ld-4-drag.js);
   - a drag frame decoded in this browser (ld-6-onnx.js): no request per frame there, so the
     positions are posted as a plausibility-only frame (drag kind "plaus": no image, ~0.3 ms on
     the server through the drag fast path) at most every MIN_MS, one in flight, newest first.
   What it draws: a badge (typical / unusual / off the data), the line (distance percentile, a
   VAE's log prior), a warning when not typical, and on maps whose placement is estimated
   (t-SNE, UMAP, pixel maps) an "uncertain" slider marker: hollow, dashed, larger, with a hover
   text; on PCA maps the marker is exact and stays as it is. */
window.latentdashPlaus = {
  off: false,            // true: no plausibility during drags (bench/bench_plaus.py's A/B only)
  MIN_MS: 100, inflight: false, pending: null, last: 0, timer: 0, gen: 0, updates: 0, cur: null, wait3d: 0,
  /* p: plaus_render.summary's dict (or null: nothing to show) */
  show: function (p) {
    const ld = window.latentdash, box = document.getElementById(ld.ids.PLAUS);
    if (!box) { return; }
    if (!p || typeof p.verdict !== "string") {
      box.replaceChildren(); box.__ldSig = null; delete box.dataset.verdict; this.marker(null); return;
    }
    const level = ["typical", "unusual", "off"][p.level] || "typical";
    const sig = level + "|" + p.line + "|" + p.warn;
    if (box.__ldSig === sig && box.firstChild) { this.updates += 1; this.marker(p); return; }   // unchanged
    box.__ldSig = sig;
    const badge = document.createElement("span");
    badge.className = "ld-plaus-badge ld-plaus-" + level;
    badge.textContent = p.verdict;
    badge.title = "how far this vector is from the data (its nearest data latent)";
    const text = document.createElement("span");
    text.className = "ld-plaus-text";
    text.textContent = p.line;
    const kids = [badge, text];
    if (p.warn) {
      const w = document.createElement("div");
      w.className = "ld-plaus-warn";
      w.textContent = "\u26a0 " + p.warn;
      kids.push(w);
    }
    box.replaceChildren(...kids);
    box.dataset.verdict = level;
    box.dataset.percentile = String(p.percentile);
    this.updates += 1;
    this.marker(p);
  },
  /* the slider marker: "uncertain" where its placement is an estimate and the vector is not typical */
  marker: function (p) {
    const ld = window.latentdash, ids = ld.ids, el = document.getElementById(ids.MARKER);
    const unsure = !!(p && p.uncertain);
    if (el) {
      if (unsure) { el.dataset.plaus = "uncertain"; } else { delete el.dataset.plaus; }
      el.title = unsure ? p.hover : "slider vector";
    }
    this.cur = p;
    this.marker3d(40);
  },
  /* 3-D maps: the figure's own 'current' trace, hollow when uncertain, again after each redraw;
     until plotly has drawn the 3-D graph once, tried again (tries x 250 ms) */
  marker3d: function (tries) {
    const ld = window.latentdash, ids = ld.ids, gd = ld.graphDiv(ids.GRAPH3);
    if (!gd || typeof gd.on !== "function" || !gd._fullData || !window.Plotly) {
      if (tries > 0 && !this.wait3d) { this.wait3d = setTimeout(() => { this.wait3d = 0; this.marker3d(tries - 1); }, 250); }
      return;
    }
    if (!gd.__ldPlaus) { gd.__ldPlaus = true; gd.on("plotly_afterplot", () => this.marker3d(0)); }
    // (also while hidden: the sibling map it shows has the same space and method, so the same exactness)
    const idx = gd._fullData.findIndex((t) => t.name === "current");
    const unsure = !!(this.cur && this.cur.uncertain), want = unsure ? "diamond-open" : "diamond";
    const tr = idx >= 0 ? gd.data[idx] : null;
    if (!tr || !tr.marker || tr.marker.symbol === want) { return; }
    const line = tr.marker.line || {};
    if (!unsure) {   // the figure's own look back
      const o = tr.marker.__ldOrig || {size: tr.marker.size, color: line.color};
      window.Plotly.restyle(gd, {"marker.symbol": want, "marker.size": o.size, "marker.line.color": o.color}, [idx]);
      return;
    }
    const orig = {size: tr.marker.size, color: line.color};   // larger, hollow, red
    window.Plotly.restyle(gd, {"marker.symbol": want, "marker.size": Math.round(orig.size * 1.8),
                               "marker.line.color": "#ff2d2d"}, [idx]);
    gd.data[idx].marker.__ldOrig = orig;
  },
  /* the committed vector (st-plaus): always shown; live answers still on their way are dropped */
  committed: function (p) {
    this.gen += 1;
    this.pending = null;
    this.show(p);
  },
  /* a server-decoded drag frame's reply (ld-4-drag.js apply) */
  live: function (p) {
    if (p && window.latentdashDrag.active) { this.show(p); }
  },
  /* a drag frame decoded in the browser (ld-6-onnx.js): its plausibility, at a lower rate */
  follow: function (p) {
    if (this.off || !p || p.kind !== "z") { return; }
    this.pending = p;
    this.schedule();
  },
  schedule: function () {
    if (this.inflight || this.timer || !this.pending) { return; }
    const wait = this.MIN_MS - (performance.now() - this.last);
    if (wait > 0) { this.timer = setTimeout(() => { this.timer = 0; this.schedule(); }, wait); return; }
    this.send();
  },
  send: function () {
    const p = this.pending, spec = window.latentdash.contract.drag, D = window.latentdashDrag;
    this.pending = null;
    if (!p || !spec || !D.active) { return; }
    this.inflight = true;
    this.last = performance.now();
    const gen = this.gen, out = spec.outputs.id;
    fetch(spec.url, {method: "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify(D.body(spec, {values: p.values, kind: "plaus", state: p.state}))})
      .then((r) => {
        if (r.status !== 200) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then((j) => {
        const d = j && j.response && j.response[out] && j.response[out][spec.outputs.property];
        if (d && d.error) { window.latentdash.report("plaus", d.error); return; }
        if (d && d.plaus) { window.latentdash.clear("plaus"); }
        if (d && d.plaus && gen === this.gen && D.active) { this.show(d.plaus); }
      })
      .catch((e) => {   // the image is still decoded; the line follows on release
        console.warn("latentdash: plausibility of a drag frame: " + e.message);
      })
      .finally(() => { this.inflight = false; this.schedule(); });
  }
};
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.latentdash = Object.assign(window.dash_clientside.latentdash || {}, {
  plaus: function (p) {
    window.latentdashPlaus.committed(p);
    return window.dash_clientside.no_update;
  }
});
