/* latentdash page code, part 6: decoding in the browser. Once the first map is drawn, the vendored
   onnxruntime-web (WebAssembly, one thread) is loaded and the current model's ONNX decoder
   (latentdash/onnx_export.py, served by model name) gets a session; from then on a slider drag
   decodes each frame here, paced by requestAnimationFrame, and draws it to a canvas at the model's
   resolution (crisp pixels), with the map marker placed here too: PCA maps exactly (mean +
   components), raw maps as is, t-SNE/UMAP/pixel maps as the server does (the 8 nearest dataset
   latents, inverse-squared-distance weights on their map positions). No request per frame.
   Until it is ready, or without WebAssembly, without an export for the model, when the file fails
   to load or gives the wrong shape, when a run fails, or when the switch says so, the drag loop
   posts the frame to the server exactly as before (ld-4-drag.js); one console line says why and
   the indicator under the image says where decoding happens.

   Two parts: `latentdashDecoder`, the engine (no Dash: runtime, sessions, vectors, placement,
   drawing; reusable by a static page), and `latentdashOnnx`, the glue to this page. */
window.latentdashDecoder = {
  ort: null, loading: null, models: {},
  /* the runtime: the vendored ort.wasm.min.js, its WebAssembly file next to it (urls.ort = folder) */
  load: function (ortBase) {
    if (this.loading) { return this.loading; }
    this.loading = new Promise((resolve, reject) => {
      if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
        reject(new Error("this browser has no WebAssembly")); return;
      }
      const s = document.createElement("script");
      s.src = ortBase + "ort.wasm.min.js";
      s.async = true;
      s.onload = () => {
        const ort = window.ort;
        if (!ort || !ort.InferenceSession) { reject(new Error("onnxruntime-web did not load")); return; }
        ort.env.wasm.numThreads = 1;   // no cross-origin isolation here, and one 28x28 image needs none
        ort.env.wasm.proxy = false;
        ort.env.wasm.wasmPaths = {mjs: ortBase + "ort-wasm-simd-threaded.mjs", wasm: ortBase + "ort-wasm-simd-threaded.wasm"};
        ort.env.logLevel = "error";
        this.ort = ort;
        resolve(ort);
      };
      s.onerror = () => reject(new Error("could not fetch onnxruntime-web"));
      document.head.appendChild(s);
    });
    return this.loading;
  },
  /* one model: its meta (metaUrl: onnx/<model>.json), a session, checked on one vector */
  model: function (name, metaUrl, ortBase) {
    if (this.models[name]) { return this.models[name].ready; }
    const m = this.models[name] = {name: name, meta: null, session: null, latents: null, coords: {}};
    m.ready = fetch(metaUrl, {credentials: "same-origin"}).then((r) => r.json().then((j) => {
      if (!r.ok) { throw new Error(j && j.error ? j.error : "HTTP " + r.status); }
      return j;
    })).then((meta) => {
      if (!meta.onnx) { throw new Error(meta.why || "no ONNX decoder"); }   // it decodes on the server
      m.meta = meta;
      return Promise.all([this.load(ortBase), fetch(meta.onnx).then((r) => {
        if (!r.ok) { throw new Error("its decoder could not be fetched (HTTP " + r.status + ")"); }
        return r.arrayBuffer();
      })]);
    }).then(([ort, buf]) => ort.InferenceSession.create(new Uint8Array(buf), {executionProviders: ["wasm"]}))
      .then((session) => {
        m.session = session;
        return this.run(m, [new Float32Array(m.meta.lat_mean)]);   // the shape is checked on one vector
      }).then(() => m);
    m.ready.catch(() => { m.failed = true; });
    return m.ready;
  },
  /* decode vectors (arrays of length d) -> Float32Array [n * C * H * W] in [0, 1] */
  run: function (m, zs) {
    const d = m.meta.latent_dim, shape = m.meta.image_shape, n = zs.length;
    const z = new Float32Array(n * d);
    zs.forEach((v, i) => z.set(v, i * d));
    const feeds = {};
    feeds[m.session.inputNames[0]] = new this.ort.Tensor("float32", z, [n, d]);
    return m.session.run(feeds).then((out) => {
      const x = out[m.session.outputNames[0]];
      const want = [n].concat(shape);
      if (!x || !x.dims || x.dims.length !== want.length || x.dims.some((v, i) => v !== want[i])) {
        throw new Error("its decoder returns shape [" + (x && x.dims) + "], the model [" + want + "]");
      }
      return x.data;
    });
  },
  /* the vector the sliders describe (ui/catalog.py SliderAxes.compose) */
  compose: function (meta, basis, base, values) {
    const ax = meta.sliders[basis] || (basis ? null : Object.values(meta.sliders)[0]);   // default: the first
    if (!ax || values.length !== ax.idx.length || base.length !== meta.latent_dim) { return null; }
    const v = values.map((x, k) => Math.min(Math.max(x, ax.lo[k]), ax.hi[k]));
    const z = Float64Array.from(base);
    if (!ax.basis) {   // latent dimensions
      ax.idx.forEach((i, k) => { z[i] = v[k]; });
    } else {
      ax.basis.forEach((row, k) => {
        let cur = 0;
        for (let j = 0; j < z.length; j++) { cur += (base[j] - ax.origin[j]) * row[j]; }
        for (let j = 0; j < z.length; j++) { z[j] += (v[k] - cur) * row[j]; }
      });
    }
    return Float32Array.from(z);
  },
  /* the marker: where vector z lands on map `name` (coordsOf() -> Float64Array [n * dims] of the
     dataset items' map positions, needed for t-SNE/UMAP/pixel maps), or null */
  place: function (m, name, z, coordsOf) {
    const mp = m.meta.maps[name];
    if (!mp) { return null; }
    if (mp.kind === "raw") { return [z[0], z[1]]; }
    if (mp.kind === "pca") {
      return mp.components.map((row) => row.reduce((s, c, j) => s + (z[j] - mp.mean[j]) * c, 0));
    }
    const lat = m.latents, coords = coordsOf && coordsOf();
    if (!lat || !coords) { return null; }
    const d = m.meta.latent_dim, n = lat.length / d, k = Math.min(mp.k, n);
    const bi = new Int32Array(k).fill(-1), bd = new Float64Array(k).fill(Infinity);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0, o = i * d; j < d; j++) { const t = lat[o + j] - z[j]; s += t * t; }
      if (s >= bd[k - 1]) { continue; }
      let p = k - 1;
      while (p > 0 && bd[p - 1] > s) { bd[p] = bd[p - 1]; bi[p] = bi[p - 1]; p--; }
      bd[p] = s; bi[p] = i;
    }
    const dist = Array.from(bd, Math.sqrt);
    let w = dist.map((x) => 1 / (x * x + 1e-12));
    if (dist[0] <= 1e-6 * (1 + dist[k - 1])) { w = w.map((_, i) => (i === 0 ? 1 : 0)); }
    const sw = w.reduce((a, b) => a + b, 0), out = new Array(mp.dims).fill(0);
    for (let i = 0; i < k; i++) {
      for (let c = 0; c < mp.dims; c++) { out[c] += (w[i] / sw) * coords[bi[i] * mp.dims + c]; }
    }
    return out.some((v) => !isFinite(v)) ? null : out;
  },
  latents: function (m) {
    if (!m.latentsReady) {
      m.latentsReady = fetch(m.meta.latents).then((r) => {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.arrayBuffer();
      }).then((b) => { m.latents = new Float32Array(b); return m.latents; });
    }
    return m.latentsReady;
  },
  /* one image (offset `at` into x) onto a canvas at the model's resolution: to_uint8 as the server */
  draw: function (canvas, shape, x, at) {
    const c = shape[0], h = shape[1], w = shape[2], hw = h * w;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h), px = img.data;
    const u8 = (v) => Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
    for (let i = 0; i < hw; i++) {
      const o = at + i;
      const r = u8(x[o]), g = c === 3 ? u8(x[o + hw]) : r, b = c === 3 ? u8(x[o + 2 * hw]) : r;
      px[4 * i] = r; px[4 * i + 1] = g; px[4 * i + 2] = b; px[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
};

window.latentdashOnnx = {
  KEY: "latentdash.decode",
  forced: false, started: false, fetching: false, model: null, where: "server", why: "starting",
  pending: null, raf: 0, busy: false, drawnAt: -1, frames: 0, said: {},
  urls: function () {
    const c = window.latentdash.contract;
    return (c && c.onnx) || {ort: c.prefix + "ort/", meta: c.prefix + "onnx/"};
  },
  say: function (line) {   // one console line per distinct reason
    if (!this.said[line]) { this.said[line] = true; console.warn("latentdash: " + line); }
  },
  /* after the first map: the runtime, then the current model's session */
  start: function () {
    if (this.started) { return; }
    this.started = true;
    try { this.forced = window.localStorage.getItem(this.KEY) === "server"; } catch (e) { this.forced = false; }
    this.show("server", "the runtime is loading");
    setInterval(() => {   // the indicator's box remounted by the page: fill it again
      const box = document.getElementById(window.latentdash.ids.DECODE_WHERE);
      if (box && !box.__ldBuilt) { this.indicator(); }
    }, 1000);
    if (this.forced) { return; }   // nothing to fetch until the switch goes back (force)
    // fetched when a slider is first approached (pointer over it, focus, touch), so that a visit
    // that only looks at the map transfers ~1 MB and not the ~4 MB of runtime + decoder; until it
    // is ready (~1-2 s) the server decodes
    this.show("server", "loads when you first use a slider");
    const evs = ["pointerover", "pointerdown", "focusin"];
    const want = (e) => {
      if (!e.target || !e.target.closest || !e.target.closest(this.SLIDERS)) { return; }
      evs.forEach((t) => document.removeEventListener(t, want, true));
      this.fetchRuntime();
    };
    evs.forEach((t) => document.addEventListener(t, want, true));
  },
  SLIDERS: ".ld-sliders, .ld-strength",
  /* the latents for placing the marker on t-SNE/UMAP maps did not load: the image is still decoded
     here, the marker of those maps waits for the release (one console line, one short message) */
  latentsFailed: function (e) {
    this.say("the map marker follows on release only: " + (e && e.message ? e.message : e));
    window.latentdash.report("onnx", "The marker on this map follows the sliders on release only.");
  },
  fetchRuntime: function () {
    if (this.fetching) { return; }
    this.fetching = true;
    const go = () => {
      const E = window.latentdashDecoder;
      E.load(this.urls().ort).then(() => this.use(this.model), (e) => {
        this.say("decoding on the server: " + e.message);
        this.show("server", e.message);
      });
    };
    if (window.requestIdleCallback) { window.requestIdleCallback(go, {timeout: 2000}); } else { setTimeout(go, 200); }
  },
  /* the drag context changed (ld-5-callbacks.js dragContext): maybe another model */
  context: function (state) {
    const model = state && state[0] && state[0].model;
    if (model && model !== this.model) { this.model = model; if (this.started) { this.use(model); } }
  },
  use: function (name) {
    const E = window.latentdashDecoder;
    if (!name || !E.ort) { this.show("server", E.ort ? "no model yet" : "the runtime is loading"); return; }
    const known = E.models[name];
    if (known && known.session && !known.failed) { this.show("browser", ""); return; }
    if (known && known.failed) { this.show("server", known.why || "its decoder failed"); return; }
    this.show("server", "loading its decoder");
    E.model(name, this.urls().meta + encodeURIComponent(name) + ".json", this.urls().ort).then((m) => {
      if (this.model === name) { this.show("browser", ""); }
      // t-SNE/UMAP markers need the dataset's latents: fetched now, once
      if (m.meta && Object.values(m.meta.maps).some((mp) => mp.kind === "knn")) { E.latents(m).catch((e) => this.latentsFailed(e)); }
    }, (e) => {
      E.models[name].why = e.message;
      this.say(name + " decodes on the server: " + e.message);
      if (this.model === name) { this.show("server", e.message); }
    });
  },
  /* the session for this state's model, when decoding here is on */
  session: function (state) {
    const model = state && state[0] && state[0].model;
    const m = model && window.latentdashDecoder.models[model];
    return !this.forced && m && m.session && !m.failed ? m : null;
  },
  /* the drag loop's hook (ld-4-drag.js): true when this frame is decoded here */
  frame: function (p) {
    const m = this.session(p.state);
    if (!m) { return false; }
    if (p.kind === "z" && !this.vector(m, p)) { return false; }
    if (p.kind === "strength" && !this.strengthVector(m, p)) { return false; }
    this.pending = p;
    // at most one decode per animation frame: now when this frame has none yet, else at the next
    if (!this.busy && this.now() !== this.drawnAt) {
      this.tick();
    } else if (!this.raf) {
      this.raf = window.requestAnimationFrame(() => this.tick());
    }
    return true;
  },
  vector: function (m, p) {
    const zs = p.state[1], map = p.state[0] || {};
    if (!zs || !Array.isArray(zs.z) || zs.model !== m.name) { return null; }
    return window.latentdashDecoder.compose(m.meta, map.basis, zs.z, p.values);
  },
  strengthVector: function (m, p) {
    const zs = p.state[1], av = p.state[3], s = p.values[0];
    if (!zs || !Array.isArray(zs.z) || !av || av.model !== m.name || !Array.isArray(av.v)) { return null; }
    if (p.values.length !== 1 || !isFinite(s) || Math.abs(s) > m.meta.max_strength + 1e-9) { return null; }
    if (av.v.length !== zs.z.length) { return null; }
    const f = Math.fround, fs = f(s);   // float32 as the server's z + s * v (algebra.apply_direction)
    return Float32Array.from(zs.z, (v, j) => f(f(v) + f(fs * f(av.v[j]))));
  },
  tick: function () {
    if (this.raf) { window.cancelAnimationFrame(this.raf); }
    this.raf = 0;
    if (this.busy) { this.raf = window.requestAnimationFrame(() => this.tick()); return; }
    const p = this.pending;
    this.pending = null;
    const m = p && this.session(p.state);
    if (!p) { return; }
    if (!m) { this.toServer(p); return; }
    const z = p.kind === "strength" ? this.strengthVector(m, p) : this.vector(m, p);
    if (!z) { this.toServer(p); return; }
    this.busy = true;
    window.latentdashDecoder.run(m, [z]).then((x) => {
      const ids = window.latentdash.ids;
      this.paint(p.kind === "strength" ? ids.ATTR_EDIT : ids.CUR_IMG, m.meta.image_shape, x);
      this.frames += 1;
      this.drawnAt = this.now();   // this animation frame has its image; the next decode waits for the next one
      if (p.kind === "z") { this.marker(m, p, z); }
      if (window.latentdashPlaus) { window.latentdashPlaus.follow(p); }   // its plausibility (ld-7-plaus.js)
    }).catch((e) => {
      m.failed = true;
      m.why = "its decoder failed in the browser (" + e.message + ")";
      this.say(m.name + " decodes on the server: " + m.why);
      this.show("server", m.why);
      this.toServer(p);
    }).finally(() => { this.busy = false; });
  },
  now: function () {   // the current animation frame's time (the same for everything in one frame)
    return document.timeline && document.timeline.currentTime !== null ? document.timeline.currentTime : performance.now();
  },
  toServer: function (p) {   // the frame goes the usual way (ld-4-drag.js posts it)
    const D = window.latentdashDrag;
    D.latest = p;
    if (!D.inflight) { D.send(); }
  },
  /* the decoded image in a canvas shown in place of the <img> until the img gets a new image */
  paint: function (imgId, shape, x) {
    const img = document.getElementById(imgId);
    if (!img) { return; }
    let cv = img.__ldCanvas;
    if (!cv || !cv.isConnected) {
      cv = img.__ldCanvas = document.createElement("canvas");
      cv.className = img.className + " ld-canvas";
      cv.setAttribute("aria-label", "decoded in your browser");
      img.parentNode.insertBefore(cv, img);
      img.addEventListener("load", () => {   // the server's image (after release, or a fallback frame)
        cv.style.display = "none";
        img.style.display = "";
      });
    }
    window.latentdashDecoder.draw(cv, shape, x, 0);
    if (cv.style.display) { cv.style.display = ""; }
    if (img.style.display !== "none") { img.style.display = "none"; }
  },
  marker: function (m, p, z) {
    const ld = window.latentdash, ids = ld.ids, map = p.state[0] || {};
    const key = map.model + "|" + map.map + "|" + (map.rev || 0);
    const rendered = p.state[2];
    if (!rendered || rendered.key !== key || !m.meta.maps[map.map]) { return; }
    const dims = m.meta.maps[map.map].dims;
    const gd = ld.graphDiv(dims === 3 ? ids.GRAPH3 : ids.GRAPH);
    if (!gd || !gd.layout || String(gd.layout.uirevision) !== key) { return; }
    const E = window.latentdashDecoder;
    if (m.meta.maps[map.map].kind === "knn" && !m.latents) { E.latents(m).catch((e) => this.latentsFailed(e)); return; }
    const pt = E.place(m, map.map, z, () => this.coords(m, gd, key, dims));
    if (!pt) { return; }
    if (dims === 3) { window.latentdashMarker.restyle3d(gd, pt); return; }
    window.latentdashMarker.hook(gd);
    gd.__ldMarker.pt = pt;
    window.latentdashMarker.sync(gd);
  },
  /* the dataset items' positions on the drawn map, by dataset index (the class traces' customdata) */
  coords: function (m, gd, key, dims) {
    if (m.coords[key]) { return m.coords[key]; }
    const out = new Float64Array(m.meta.n * dims).fill(NaN);
    const axes = dims === 3 ? ["x", "y", "z"] : ["x", "y"];
    (gd._fullData || []).forEach((tr) => {
      const cd = tr.customdata;
      if (!cd || !tr.x) { return; }
      for (let k = 0; k < cd.length; k++) {
        const i = cd[k];
        if (typeof i === "number" && i >= 0 && i < m.meta.n) { axes.forEach((a, c) => { out[i * dims + c] = tr[a][k]; }); }
      }
    });
    m.coords = {};
    m.coords[key] = out;
    return out;
  },
  /* the indicator ("decoding: in your browser" / "on the server") and the switch, under the image */
  show: function (where, why) {
    this.where = this.forced ? "server" : where;
    this.why = this.forced ? "you chose server decoding" : why;
    this.indicator();
  },
  indicator: function () {
    const box = document.getElementById(window.latentdash.ids.DECODE_WHERE);
    if (!box) { return; }
    if (!box.__ldBuilt) {
      box.__ldBuilt = true;
      const text = document.createElement("span");
      text.className = "ld-decode-text";
      const label = document.createElement("label");
      label.className = "ld-decode-switch";
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.addEventListener("change", () => this.force(cb.checked));
      label.append(cb, " decode on the server");
      box.replaceChildren(text, label);
    }
    const text = box.querySelector(".ld-decode-text"), cb = box.querySelector("input");
    text.textContent = "decoding: " + (this.where === "browser" ? "in your browser" : "on the server");
    text.title = this.where === "browser" ? "each slider frame is decoded by your browser (WebAssembly)" : (this.why || "");
    box.dataset.where = this.where;
    cb.checked = this.forced;
  },
  force: function (server) {
    this.forced = !!server;
    try { window.localStorage.setItem(this.KEY, this.forced ? "server" : "browser"); } catch (e) { /* private mode */ }
    const m = this.model && window.latentdashDecoder.models[this.model];
    if (m && m.session && !m.failed) { this.show("browser", ""); } else { this.show("server", (m && m.why) || this.why); }
    if (!this.forced && this.started) { this.fetchRuntime(); if (window.latentdashDecoder.ort) { this.use(this.model); } }
  }
};

/* the hooks: start once the first map is drawn (ld-2-plotly.js), and follow the drag context */
(function () {
  if (!window.latentdash) { return; }   // a page without the Dash app (the static demo) uses latentdashDecoder only
  const O = window.latentdashOnnx, FD = window.latentdashFirstDraw;
  if (FD) {
    const mark = FD.mark;
    FD.mark = function () {
      const was = this.done;
      mark.apply(this, arguments);
      if (!was) { window.requestAnimationFrame(() => setTimeout(() => O.start(), 0)); }
    };
    if (FD.done) { O.start(); }
  }
  const lc = window.dash_clientside && window.dash_clientside.latentdash;
  if (lc && lc.dragContext) {
    const ctx = lc.dragContext;
    lc.dragContext = function () {
      const out = ctx.apply(this, arguments);
      O.context(window.latentdashDrag.state);
      return out;
    };
  }
  const build = () => O.indicator();
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", build); } else { build(); }
})();
