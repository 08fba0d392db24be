/* latentdash page code, part 7: the interpolation strip and the traversal and prior grids decoded
   in the browser (latentdash/ui/grids.py is the server's half).

   While this page decodes the current model itself (ld-6-onnx.js has a working session and the
   switch does not force the server), the store st-decode says {model: name}; the render callbacks
   of the strip and the grids then send each cell's latent vector (float32 base64 in its
   data-ld-z attribute) instead of a PNG, and this file decodes every new cell in one batch
   (one session.run with batch N) and draws each into a canvas in its button at the model's
   resolution (crisp pixels). A traversal row also gets its score here (the mean absolute pixel
   change between neighbouring columns, per sigma: algebra.row_scores) and, when the grid is
   sorted, its place (CSS order, the rows stay where React put them). When the decoder fails, the
   switch goes to the server or the model changes, st-decode is emptied and the server sends its
   images again (one render, as before). */
window.latentdashGrids = {
  sent: "null",   // the value last written into st-decode (JSON); the store starts empty
  busy: false, again: false, queued: false, observer: null,
  batches: 0, cells: 0, lastMs: null,   // read by tests and bench/bench_grids.py
  Z: "data-ld-z",
  /* the strip and the grids: where cells to decode appear */
  boxes: function () {
    const ids = window.latentdash.ids;
    return [ids.STRIP, ids.TRAV_GRID, ids.PRIOR_GRID].map((id) => document.getElementById(id)).filter(Boolean);
  },
  /* st-decode follows ld-6-onnx.js's state: {model} while that model decodes here, else null */
  sync: function () {
    const O = window.latentdashOnnx, m = O.model && window.latentdashDecoder.models[O.model];
    const want = !O.forced && m && m.session && !m.failed ? {model: O.model} : null;
    const text = JSON.stringify(want);
    if (text === this.sent) { return; }
    const dc = window.dash_clientside;
    if (!dc || !dc.set_props) { setTimeout(() => this.sync(), 200); return; }
    this.sent = text;
    dc.set_props(window.latentdash.ids.ST_DECODE, {data: want});
  },
  watch: function () {
    if (this.observer) { return; }
    this.observer = new MutationObserver((recs) => {
      const boxes = this.boxes();
      if (recs.some((r) => boxes.some((b) => b.contains(r.target)))) { this.schedule(); }
    });
    this.observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                          attributeFilter: [this.Z, "data-ld-sort"]});
    this.schedule();
  },
  schedule: function () {
    if (this.queued) { return; }
    this.queued = true;
    window.requestAnimationFrame(() => { this.queued = false; this.scan(); });
  },
  /* the cells whose vector is not drawn yet, by model */
  pending: function () {
    const jobs = {};
    this.boxes().forEach((box) => box.querySelectorAll("[" + this.Z + "]").forEach((cell) => {
      const sig = cell.dataset.ldModel + "|" + cell.getAttribute(this.Z);
      if (cell.__ldSig !== sig) { (jobs[cell.dataset.ldModel] = jobs[cell.dataset.ldModel] || []).push({cell: cell, sig: sig}); }
    }));
    return jobs;
  },
  /* every cell on show drawn from its current vector */
  settled: function () { return !this.busy && !this.queued && Object.keys(this.pending()).length === 0; },
  scan: function () {
    const O = window.latentdashOnnx, E = window.latentdashDecoder;
    if (this.busy || O.busy) { this.again = true; if (O.busy) { this.schedule(); } return; }
    const jobs = this.pending(), names = Object.keys(jobs);
    if (!names.length) { this.scoreAll(); return; }   // (the sort may have changed)
    this.busy = true;
    const t0 = performance.now();
    const runs = names.map((name) => {
      const m = E.models[name];
      if (O.forced || !m || !m.session || m.failed) {   // not decodable here (any more): the server's images
        this.sync();
        return Promise.resolve();
      }
      const d = m.meta.latent_dim;
      const zs = jobs[name].map((j) => this.vector(j.cell.getAttribute(this.Z), d));
      if (zs.some((z) => !z)) { return Promise.reject(new Error("a cell's vector is not " + d + " floats")); }
      return E.run(m, zs).then((x) => this.paint(m, jobs[name], x), (e) => {
        m.failed = true;
        m.why = "its decoder failed in the browser (" + e.message + ")";
        O.say(m.name + " decodes on the server: " + m.why);
        O.show("server", m.why);   // st-decode emptied (the hook below): the server draws them again
      });
    });
    Promise.all(runs).catch((e) => O.say("a grid was not decoded: " + e.message)).finally(() => {
      this.lastMs = performance.now() - t0;
      this.batches += 1;
      this.busy = false;
      if (this.again) { this.again = false; this.schedule(); }
    });
  },
  vector: function (b64, d) {
    let bin;
    try { bin = atob(b64); } catch (e) { return null; }
    if (bin.length !== 4 * d) { return null; }
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) { u8[i] = bin.charCodeAt(i); }
    return new Float32Array(u8.buffer);   // little-endian, as every browser's typed arrays
  },
  paint: function (m, list, x) {
    const shape = m.meta.image_shape, size = shape[0] * shape[1] * shape[2];
    list.forEach((j, k) => {
      const cell = j.cell;
      if (!cell.isConnected || cell.dataset.ldModel + "|" + cell.getAttribute(this.Z) !== j.sig) { return; }
      let cv = cell.querySelector("canvas.ld-zcv");
      if (!cv) {
        cv = document.createElement("canvas");
        cv.className = "ld-px ld-zcv";
        cv.style.cssText = "display:block;width:100%;height:100%";
        cell.appendChild(cv);
      }
      window.latentdashDecoder.draw(cv, shape, x, k * size);
      cell.__ldSig = j.sig;
      cell.__ldImg = x.subarray(k * size, (k + 1) * size);
      this.cells += 1;
    });
    this.scoreAll();
  },
  scoreAll: function () {
    const grid = document.getElementById(window.latentdash.ids.TRAV_GRID);
    if (grid && grid.querySelector("[data-ld-step]")) { this.score(grid); }
  },
  /* a traversal grid decoded here: each row's score (algebra.row_scores) and, sorted, its order */
  score: function (grid) {
    const rows = Array.from(grid.querySelectorAll("[data-ld-step]"));
    rows.forEach((row) => {
      const cells = Array.from(row.querySelectorAll("[" + this.Z + "]"));
      const sigOk = cells.every((c) => c.__ldImg && c.__ldSig === c.dataset.ldModel + "|" + c.getAttribute(this.Z));
      if (!sigOk || cells.length < 2) { row.__ldScore = null; return; }
      const sig = row.dataset.ldStep + "#" + cells.map((c) => c.__ldSig).join(",");
      if (row.__ldScoreOf === sig) { return; }   // scored already, from these very images
      row.__ldScoreOf = sig;
      let s = 0;
      for (let c = 1; c < cells.length; c++) {
        const a = cells[c - 1].__ldImg, b = cells[c].__ldImg;
        for (let i = 0; i < a.length; i++) { s += Math.abs(b[i] - a[i]); }
      }
      const score = s / ((cells.length - 1) * cells[0].__ldImg.length) / parseFloat(row.dataset.ldStep);
      row.__ldScore = score;
      const span = row.querySelector(".ld-trav-score");
      if (span) {
        const kl = span.dataset.ldKl;
        const parts = [document.createTextNode(score.toFixed(3))];
        if (kl) { parts.push(document.createElement("br"), document.createTextNode(kl)); }
        span.replaceChildren(...parts);
      }
    });
    const sorted = rows.some((r) => r.dataset.ldSort === "1");
    const rank = rows.map((r, k) => k);
    if (sorted && rows.every((r) => typeof r.__ldScore === "number")) {
      rank.sort((p, q) => rows[q].__ldScore - rows[p].__ldScore || p - q);
    }
    rank.forEach((r, k) => { rows[r].style.order = String(k + 1); });   // the head row stays first (order 0)
  }
};

/* the hooks: st-decode follows every change of where decoding happens (latentdashOnnx.show), and
   hovering a cell of the strip or a grid fetches the decoder as approaching a slider does */
(function () {
  const G = window.latentdashGrids, O = window.latentdashOnnx;
  if (!O) { return; }
  const show = O.show;
  O.show = function () {
    const out = show.apply(this, arguments);
    G.sync();
    G.schedule();
    return out;
  };
  O.SLIDERS += ", .ld-strip .ld-thumb-btn, .ld-trav .ld-thumb-btn, .ld-prior .ld-thumb-btn";
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", () => G.watch()); } else { G.watch(); }
})();
