/* latentdash static demo (written by `latentdash export-static`): the map, hover, click-to-inspect,
   latent sliders and interpolation with no server. data/manifest.json says what is here; the
   decoding engine is the server page's own (js/ld-6-onnx.js, `latentdashDecoder`: onnxruntime-web
   session, slider vectors, marker placement, drawing), so pixels and marker positions are the
   server's. Without a decoder (a missing or corrupt .onnx, no WebAssembly) the page says so and
   shows the original images. */
(function () {
  "use strict";
  const E = window.latentdashDecoder;
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a"];   // ui/figures.py
  const ORT_BASE = new URL("ort/", document.baseURI).href;   // absolute: the runtime import()s its .mjs from here
  const S = {
    manifest: null, model: null, data: {}, space: "latent", method: "umap", dims: 2, map: null,
    sel: null, base: null, z: null, basis: "dims", A: null, B: null, frames: 0, strips: 0, pointer: [0, 0]
  };
  const $ = (id) => document.getElementById(id);

  /* ---------------------------------------------------------------- messages */
  function status(text, kind) {
    const el = $("status");
    el.textContent = text || "";
    el.dataset.kind = kind || "";
  }
  function fail(what, e) {
    console.warn("latentdash: " + what + ": " + (e && e.message ? e.message : e));
    status(what + ": " + (e && e.message ? e.message : e), "error");
  }

  /* ---------------------------------------------------------------- data */
  function get(url, how) {
    return fetch(url).then((r) => {
      if (!r.ok) { throw new Error(url + " could not be fetched (HTTP " + r.status + ")"); }
      return r[how]();
    });
  }
  function image(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(url + " could not be loaded"));
      img.src = url;
    });
  }
  function modelData(name) {
    if (S.data[name]) { return S.data[name]; }
    const md = S.manifest.models.find((m) => m.name === name);
    const D = S.data[name] = {md: md, coords: {}, dec: null, decWhy: null};
    D.ready = Promise.all([
      get(md.latents.file, "arrayBuffer").then((b) => { D.latents = new Float32Array(b); }),
      md.labels ? get(md.labels, "json").then((l) => { D.labels = l; }) : Promise.resolve(),
      image(md.sprite.file).then((img) => { D.sprite = img; })
    ]).then(() => {
      const k = md.class_names ? md.class_names.length : 1;
      D.groups = Array.from({length: k}, () => []);
      for (let i = 0; i < md.n; i++) { D.groups[D.labels ? D.labels[i] : 0].push(i); }
      return D;
    });
    return D;
  }
  function coords(D, name) {
    if (!D.coords[name]) {
      D.coords[name] = get(D.md.maps[name].file, "arrayBuffer").then((b) => new Float32Array(b));
    }
    return D.coords[name];
  }
  function latent(D, i) {
    const d = D.md.latent_dim;
    return Float32Array.from(D.latents.subarray(i * d, (i + 1) * d));
  }

  /* ---------------------------------------------------------------- images */
  function tile(D, i, canvas) {   // thumbnail i from the sprite sheet, at its own resolution
    const [, h, w] = D.md.image_shape, cols = D.md.sprite.cols;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(D.sprite, (i % cols) * w, Math.floor(i / cols) * h, w, h, 0, 0, w, h);
  }
  function decodeTo(D, zs, canvases) {
    return E.run(D.dec, zs).then((x) => {
      const size = D.md.image_shape.reduce((a, b) => a * b, 1);
      canvases.forEach((cv, k) => E.draw(cv, D.md.image_shape, x, k * size));
    });
  }

  /* ---------------------------------------------------------------- the map */
  function mapName() {
    const D = S.data[S.model], maps = D.md.maps;
    const want = S.space + "-" + S.method + "-" + S.dims + "d";
    if (maps[want]) { return want; }
    const alt = Object.keys(maps).find((n) => maps[n].space === S.space && maps[n].dims === S.dims) ||
      Object.keys(maps).find((n) => maps[n].dims === S.dims) || D.md.default_map;
    const mp = maps[alt];
    S.space = mp.space; S.method = mp.method; S.dims = mp.dims;
    return alt;
  }
  function fillMapControls(D) {
    const maps = Object.values(D.md.maps);
    const opts = (sel, values, labels) => {
      sel.replaceChildren(...values.map((v) => new Option(labels[v] || v, v)));
    };
    opts($("space"), [...new Set(maps.map((m) => m.space))], {latent: "latent codes", pixel: "pixels"});
    opts($("method"), [...new Set(maps.filter((m) => m.space === S.space).map((m) => m.method))],
      {pca: "PCA", tsne: "t-SNE", umap: "UMAP", raw: "raw latent"});
    $("space").value = S.space;
    $("method").value = S.method;
    $("dims-2").classList.toggle("sd-on", S.dims === 2);
    $("dims-3").classList.toggle("sd-on", S.dims === 3);
    $("dims-3").disabled = !maps.some((m) => m.space === S.space && m.method === S.method && m.dims === 3);
  }
  function drawMap() {
    const D = S.data[S.model];
    const name = mapName();
    fillMapControls(D);
    status("loading the " + D.md.maps[name].label + " map ...", "busy");
    return coords(D, name).then((c) => {
      S.map = name;
      const dims = D.md.maps[name].dims, gd = $("map");
      const traces = D.groups.map((idx, t) => {
        const xs = [new Float32Array(idx.length), new Float32Array(idx.length), new Float32Array(idx.length)];
        idx.forEach((i, k) => { for (let a = 0; a < dims; a++) { xs[a][k] = c[i * dims + a]; } });
        const tr = {
          type: dims === 3 ? "scatter3d" : "scattergl", mode: "markers", x: xs[0], y: xs[1],
          name: D.md.class_names ? D.md.class_names[t] : "images", customdata: idx, hoverinfo: "none",
          marker: dims === 3 ? {size: 2, symbol: "square", color: PALETTE[t % PALETTE.length], opacity: 0.8}
            : {size: 4, color: PALETTE[t % PALETTE.length], opacity: 0.8}
        };
        if (dims === 3) { tr.z = xs[2]; }
        return tr;
      });
      const cur = {type: dims === 3 ? "scatter3d" : "scattergl", mode: "markers", name: "current", x: [], y: [],
        hoverinfo: "skip", showlegend: false,
        marker: dims === 3 ? {size: 7, color: "#111"} : {size: 15, symbol: "circle-open", color: "#d62728", line: {width: 3}}};
      if (dims === 3) { cur.z = []; }
      traces.push(cur);
      const layout = {
        margin: {l: 36, r: 8, t: 8, b: 30}, hovermode: "closest", dragmode: dims === 3 ? "turntable" : "pan",
        legend: {itemsizing: "constant"}, uirevision: S.model + "|" + name, paper_bgcolor: "#fff", plot_bgcolor: "#fff"
      };
      if (dims === 3) {
        const ax = {title: {text: ""}, showspikes: false};
        layout.scene = {xaxis: ax, yaxis: ax, zaxis: ax, aspectmode: "cube"};
      } else {
        layout.xaxis = {zeroline: false};
        layout.yaxis = {zeroline: false};
      }
      if (gd.__dims !== dims && gd.__dims) { Plotly.purge(gd); gd.__hooked = false; }
      gd.__dims = dims;
      return Plotly.react(gd, traces, layout, {displaylogo: false, responsive: true, scrollZoom: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d"]}).then(() => {
        hook(gd);
        $("map-info").textContent = D.md.n.toLocaleString("en") + " points";
        status("", "");
        document.body.dataset.ready = "1";
        document.body.dataset.map = name;
        marker();
      });
    });
  }
  function hook(gd) {
    if (gd.__hooked) { return; }
    gd.__hooked = true;
    gd.addEventListener("mousemove", (e) => { S.pointer = [e.clientX, e.clientY]; });
    gd.on("plotly_hover", (ev) => {
      const p = ev && ev.points && ev.points.find((q) => typeof q.customdata === "number");
      if (!p) { return; }
      const D = S.data[S.model], i = p.customdata, tip = $("tip");
      tile(D, i, $("tip-img"));
      $("tip-text").textContent = "#" + i + (D.md.class_names ? " · " + D.md.class_names[D.labels[i]] : "");
      const box = gd.parentNode.getBoundingClientRect();
      const [x, y] = ev.event && ev.event.clientX !== undefined ? [ev.event.clientX, ev.event.clientY] : S.pointer;
      tip.style.left = (x - box.left + 14) + "px";
      tip.style.top = (y - box.top + 14) + "px";
      tip.hidden = false;
      tip.dataset.index = String(i);
    });
    gd.on("plotly_unhover", () => { $("tip").hidden = true; });
    gd.on("plotly_click", (ev) => {
      const p = ev && ev.points && ev.points.find((q) => typeof q.customdata === "number");
      if (p) { select(p.customdata); }
    });
  }
  /* the "current" ring: where the current vector lands (PCA exactly, t-SNE/UMAP by the 8 nearest
     latents, as the server places it), or the selected item itself when nothing decodes here */
  function marker() {
    const D = S.data[S.model], gd = $("map");
    if (!S.map || S.sel === null || !gd._fullData) { return; }
    const name = S.map, dims = D.md.maps[name].dims;
    coords(D, name).then((c) => {
      if (S.map !== name) { return; }
      let pt = null;
      if (D.dec && S.z) { pt = E.place(D.dec, name, S.z, () => c); }
      if (!pt) { pt = Array.from(c.subarray(S.sel * dims, (S.sel + 1) * dims)); }
      const upd = {x: [[pt[0]]], y: [[pt[1]]]};
      if (dims === 3) { upd.z = [[pt[2]]]; }
      S.markerAt = pt;
      return Plotly.restyle(gd, upd, [gd.data.length - 1]);
    }).catch((e) => fail("the marker could not be placed", e));
  }

  /* ---------------------------------------------------------------- inspector + sliders */
  function select(i) {
    const D = S.data[S.model];
    if (!(i >= 0 && i < D.md.n)) { return; }
    S.sel = i;
    S.base = latent(D, i);
    S.z = S.base;
    tile(D, i, $("ins-orig"));
    $("ins-label").textContent = "#" + i + (D.md.class_names ? " · " + D.md.class_names[D.labels[i]] : "");
    $("ins-z").textContent = "[" + Array.from(S.z, (v) => v.toFixed(3)).join(", ") + "]";
    $("cur-cap").textContent = D.dec ? "reconstruction"
      : D.decWhy ? "original (decoding unavailable)" : "original (the decoder is loading)";
    sliders();
    show(S.z, true);
  }
  function sliders() {
    const D = S.data[S.model], box = $("sliders");
    const ax = D.md.sliders[S.basis];
    if (!ax || !S.base) { box.replaceChildren(); return; }
    const meta = D.dec && D.dec.meta && D.dec.meta.sliders[S.basis];
    const values = meta ? valuesOf(meta, S.base) : ax.lo.map((lo, k) => (lo + ax.hi[k]) / 2);
    box.replaceChildren(...ax.labels.map((label, k) => {
      const row = document.createElement("label");
      row.className = "sd-slider";
      const input = document.createElement("input");
      Object.assign(input, {type: "range", min: ax.lo[k], max: ax.hi[k], step: (ax.hi[k] - ax.lo[k]) / 200});
      input.value = values[k];
      input.disabled = !D.dec;
      input.dataset.k = String(k);
      const out = document.createElement("output");
      out.textContent = Number(input.value).toFixed(2);
      input.addEventListener("input", () => { out.textContent = Number(input.value).toFixed(2); slid(); });
      const name = document.createElement("span");
      name.textContent = label;
      row.append(name, input, out);
      return row;
    }));
  }
  function valuesOf(ax, z) {   // ui/catalog.py SliderAxes.values_of
    const v = ax.basis ? ax.basis.map((row) => row.reduce((s, b, j) => s + (z[j] - ax.origin[j]) * b, 0))
      : ax.idx.map((i) => z[i]);
    return v.map((x, k) => Math.min(Math.max(x, ax.lo[k]), ax.hi[k]));
  }
  function slid() {
    const D = S.data[S.model];
    if (!D.dec || !S.base) { return; }
    const values = Array.from($("sliders").querySelectorAll("input"), (el) => Number(el.value));
    const z = E.compose(D.dec.meta, S.basis, S.base, values);
    if (!z) { return; }
    S.z = z;
    $("cur-cap").textContent = "decoded from the sliders";
    $("ins-z").textContent = "[" + Array.from(z, (v) => v.toFixed(3)).join(", ") + "]";
    show(z, false);
  }
  /* at most one decode per animation frame, the newest vector wins */
  const F = {pending: null, raf: 0, busy: false};
  function show(z, now) {
    const D = S.data[S.model];
    if (!D.dec) { tile(D, S.sel, $("ins-cur")); marker(); return; }
    F.pending = z;
    if (now && !F.busy) { tick(); } else if (!F.raf) { F.raf = requestAnimationFrame(tick); }
  }
  function tick() {
    if (F.raf) { cancelAnimationFrame(F.raf); }
    F.raf = 0;
    if (F.busy) { F.raf = requestAnimationFrame(tick); return; }
    const z = F.pending, D = S.data[S.model];
    F.pending = null;
    if (!z || !D.dec) { return; }
    F.busy = true;
    decodeTo(D, [z], [$("ins-cur")]).then(() => {
      S.frames += 1;
      $("ins-cur").dataset.frames = String(S.frames);
      marker();
    }).catch((e) => unavailable(D, "the decoder failed (" + e.message + ")")).finally(() => { F.busy = false; });
  }

  /* ---------------------------------------------------------------- interpolation */
  function path(a, b, steps, mode) {   // latent_ops.lerp / slerp, endpoints exact
    const ts = Array.from({length: steps}, (_, k) => (k === steps - 1 ? 1 : k / (steps - 1)));
    const lerp = () => ts.map((t) => Float32Array.from(a, (v, j) => (1 - t) * v + t * b[j]));
    if (mode !== "spherical") { return lerp(); }
    const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const na = norm(a), nb = norm(b);
    if (na < 1e-6 || nb < 1e-6) { return lerp(); }
    const cos = Math.min(1, Math.max(-1, a.reduce((s, x, j) => s + (x / na) * (b[j] / nb), 0)));
    const th = Math.acos(cos);
    if (th < 1e-4 || Math.PI - th < 1e-4) { return lerp(); }
    const out = ts.map((t) => {
      const wa = Math.sin((1 - t) * th) / Math.sin(th), wb = Math.sin(t * th) / Math.sin(th);
      const dir = Array.from(a, (x, j) => wa * x / na + wb * b[j] / nb), nd = norm(dir);
      const r = (1 - t) * na + t * nb;
      return Float32Array.from(dir, (x) => x / nd * r);
    });
    out[0] = Float32Array.from(a);
    out[steps - 1] = Float32Array.from(b);
    return out;
  }
  function setEnd(which) {
    if (S.sel === null) { status("select a point on the map first", "error"); return; }
    S[which] = {i: S.sel, z: S.z};
    $(which.toLowerCase() + "-label").textContent = which + ": #" + S.sel + (S.z !== S.base ? " (slider-edited)" : "");
    strip();
  }
  function strip() {
    const D = S.data[S.model], box = $("strip");
    if (!S.A || !S.B) { return; }
    const steps = Math.round(Number($("steps").value));
    if (!(steps >= 2 && steps <= 24)) { status("steps must be a whole number from 2 to 24", "error"); return; }
    status("", "");
    if (!D.dec) {   // no decoder: the two originals, said so
      const a = document.createElement("canvas"), b = document.createElement("canvas");
      [a, b].forEach((c) => { c.className = "sd-px sd-strip-img"; });
      tile(D, S.A.i, a); tile(D, S.B.i, b);
      const gap = document.createElement("span");
      gap.className = "sd-muted";
      gap.textContent = " originals of A and B: decoding is unavailable ";
      box.replaceChildren(a, gap, b);
      return;
    }
    const zs = path(S.A.z, S.B.z, steps, $("mode").value);
    const cvs = zs.map((_, k) => {
      const c = document.createElement("canvas");
      c.className = "sd-px sd-strip-img";
      c.title = "t = " + (k / (steps - 1)).toFixed(2);
      return c;
    });
    decodeTo(D, zs, cvs).then(() => {
      box.replaceChildren(...cvs);
      S.strips += 1;
      box.dataset.strips = String(S.strips);
    }).catch((e) => unavailable(D, "the decoder failed (" + e.message + ")"));
  }

  /* ---------------------------------------------------------------- the decoder */
  function decoder(D) {
    const md = D.md;
    if (!md.decoder) { unavailable(D, md.decoder_why || "this model has no ONNX decoder"); return; }
    where("loading", "loading the decoder (onnxruntime-web, ~14 MB the first time) ...");
    E.model(md.name, md.decoder, ORT_BASE).then((m) => {
      m.latents = D.latents;   // the latents are here already: the marker's nearest-latents rule
      m.latentsReady = Promise.resolve(D.latents);
      D.dec = m;
      if (S.model !== md.name) { return; }
      where("browser", "");
      if (S.sel !== null) { select(S.sel); }
      strip();
    }, (e) => unavailable(D, e.message));
  }
  function unavailable(D, why) {
    D.dec = null;
    D.decWhy = why;
    console.warn("latentdash: decoding is unavailable: " + why);
    if (S.model !== D.md.name) { return; }
    where("unavailable", "");
    const note = $("decode-note");
    note.textContent = "Decoding is unavailable in this static page (" + why + "): the original images are shown " +
      "instead, and the sliders and interpolation need a decoder. The full server decodes on the server: " +
      "pip install latentdash; latentdash serve.";
    note.hidden = false;
    if (S.sel !== null) { select(S.sel); }
    strip();
  }
  function where(state, text) {
    document.body.dataset.decode = state;
    const el = $("decode-where");
    el.dataset.where = state;
    el.textContent = state === "browser" ? "decoding: in your browser (WebAssembly)"
      : state === "loading" ? "decoding: " + text : "decoding: unavailable";
    if (state !== "unavailable") { $("decode-note").hidden = true; }
  }

  /* ---------------------------------------------------------------- models */
  function useModel(name) {
    const keep = S.sel, prev = S.model && S.data[S.model];
    S.model = name;
    const D = modelData(name);
    status("loading " + name + " ...", "busy");
    return D.ready.then(() => {
      const md = D.md, dm = md.maps[md.default_map];
      if (!prev) { S.space = dm.space; S.method = dm.method; S.dims = dm.dims; }
      $("model-info").textContent = md.kind.toUpperCase() + " · " + md.latent_dim + "-D latents · " +
        md.n.toLocaleString("en") + " images of " + (md.dataset || "its prior");
      $("sliders-card").querySelector("h2").textContent = "Latent sliders (" + md.latent_dim + "-D)";
      $("orig-cap").textContent = md.kind === "generator" ? "sample (as stored)" : "original";   // no encoder
      S.A = S.B = null;
      $("a-label").textContent = "A: none";
      $("b-label").textContent = "B: none";
      $("strip").replaceChildren(Object.assign(document.createElement("span"),
        {className: "sd-muted", textContent: "set A and B from selected points"}));
      return drawMap().then(() => {
        select(prev && keep !== null && prev.md.n === md.n ? keep : 0);
        if (D.dec) { where("browser", ""); } else if (D.decWhy) { unavailable(D, D.decWhy); } else { decoder(D); }
      });
    }).catch((e) => fail("could not load " + name, e));
  }

  function wire() {
    $("model").addEventListener("change", (e) => useModel(e.target.value));
    $("space").addEventListener("change", (e) => { S.space = e.target.value; drawMap(); });
    $("method").addEventListener("change", (e) => { S.method = e.target.value; drawMap(); });
    $("dims-2").addEventListener("click", () => { S.dims = 2; drawMap(); });
    $("dims-3").addEventListener("click", () => { S.dims = 3; drawMap(); });
    $("basis").addEventListener("change", (e) => { S.basis = e.target.value; S.base = S.z; sliders(); });
    $("reset").addEventListener("click", () => { if (S.sel !== null) { select(S.sel); } });
    $("set-a").addEventListener("click", () => setEnd("A"));
    $("set-b").addEventListener("click", () => setEnd("B"));
    $("steps").addEventListener("change", strip);
    $("mode").addEventListener("change", strip);
  }

  function start() {
    wire();
    if (!window.Plotly || !E) { status("the page's scripts did not load; serve this folder over HTTP", "error"); return; }
    status("loading the atlas ...", "busy");
    get("data/manifest.json", "json").then((m) => {
      S.manifest = m;
      const sel = $("model");
      sel.replaceChildren(...m.models.map((md) => new Option(md.name, md.name)));
      $("model-field").hidden = m.models.length < 2;
      $("foot").textContent = "latentdash " + m.latentdash + " static export, " + m.written + " · " + m.runtime.build +
        " · licences in licenses/";
      return useModel(m.default);
    }).catch((e) => fail("could not load the demo's data (serve this folder over HTTP: python -m http.server)", e));
  }
  window.latentdashStatic = {state: S, select: select, useModel: useModel};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
