/* latentdash page code, part 4: the slider drag loop, the hot path. While a handle is held, the
   positions (read from the sliders' aria-valuenow as they move) are posted to the `drag` callback.
   Two kinds of slider drive it: the latent sliders (kind "z": the image and the map marker follow)
   and the attribute-strength slider (kind "strength": the edited image follows), each found by
   its container's class (KINDS); the reply says which it answers.
   through Dash's own endpoint, one request in flight and always the newest positions next; the
   reply (a PNG data URI and the marker position) goes straight into the page. No Dash callback
   runs per frame, so a frame costs one small request and no re-render of the layout. Releasing
   the handle commits the vector through the normal callbacks (URL, map, image). The request's
   shape comes from the server (contract.drag), filled with the state the dragContext callback
   hands over (the drag callback's State, in the same order). */
window.latentdashDrag = {
  active: false, kind: "z", inflight: false, latest: null, state: null, observer: null,
  KINDS: {z: ".ld-sliders", strength: ".ld-strength"},
  observe: function () {
    if (this.observer) { return; }
    this.observer = new MutationObserver(() => this.moved());
    this.observer.observe(document.body, {subtree: true, attributes: true, attributeFilter: ["aria-valuenow"]});
  },
  moved: function () {
    if (!this.active || !this.state) { return; }
    const thumbs = document.querySelectorAll(this.KINDS[this.kind] + " [role=slider]");
    const values = Array.from(thumbs, (t) => parseFloat(t.getAttribute("aria-valuenow")));
    if (!values.length || values.some((v) => !isFinite(v))) { return; }
    this.latest = {values: values, kind: this.kind, state: this.state};
    // [decoding in the browser] ld-6-onnx.js takes the frame when it can (no request); else it is posted
    if (window.latentdashOnnx && window.latentdashOnnx.frame(this.latest)) { this.latest = null; return; }
    if (!this.inflight) { this.send(); }
  },
  body: function (spec, p) {
    return {
      output: spec.output, outputs: spec.outputs, changedPropIds: spec.changedPropIds,
      inputs: [Object.assign({}, spec.inputs[0], {value: Object.assign({values: p.values, kind: p.kind},
        window.latentdashPlaus && window.latentdashPlaus.off ? {plaus: false} : {})})],
      state: spec.state.map((s, k) => ({id: s.id, property: s.property, value: p.state[k]}))
    };
  },
  /* One frame: the newest positions, else (after a failure) the frame that failed, retried up to
     RETRIES times with a short pause: a worker restarting under gunicorn, or a dropped
     connection, costs a frame's delay and a short notice, never a broken image (the image keeps
     its last frame until a new one arrives). */
  RETRIES: 3, failures: 0,
  send: function (failed) {
    const p = this.latest || failed || null;
    const spec = window.latentdash.contract.drag;
    this.latest = null;
    if (!p || !spec) { this.inflight = false; return; }
    this.inflight = true;
    const out = spec.outputs.id;
    let retry = null;
    fetch(spec.url, {method: "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify(this.body(spec, p))})
      .then((r) => {
        if (r.status === 204) { return null; }
        if (r.status !== 200) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then((j) => {
        this.failures = 0;
        if (j && j.response && j.response[out]) { this.apply(j.response[out][spec.outputs.property]); }
      })
      .catch((e) => {
        this.failures += 1;
        if (this.failures <= this.RETRIES) {
          retry = p;
          window.latentdash.report("drag", "Live decoding interrupted (" + e.message + "); retrying...");
        } else {
          this.failures = 0;
          window.latentdash.report("drag", "Live decoding failed (" + e.message + "); "
                                   + "release the slider to decode on the server.");
        }
      })
      .finally(() => {
        if (retry) { setTimeout(() => this.send(retry), 150 * this.failures); } else { this.send(); }
      });
  },
  apply: function (d) {
    const ld = window.latentdash;
    if (d && d.error) { ld.report("drag", d.error); return; }
    if (!d || !d.src) { return; }
    ld.clear("drag");
    const img = document.getElementById(d.kind === "strength" ? ld.ids.ATTR_EDIT : ld.ids.CUR_IMG);
    if (img) { img.src = d.src; }
    if (d.kind === "strength") { return; }
    if (window.latentdashPlaus) { window.latentdashPlaus.live(d.plaus); }   // ld-7-plaus.js
    const gd = ld.graphDiv(d.pt && d.pt.length === 3 ? ld.ids.GRAPH3 : ld.ids.GRAPH);
    if (!gd || !d.pt || !gd.layout || String(gd.layout.uirevision) !== d.key) { return; }
    if (d.pt.length === 3) { window.latentdashMarker.restyle3d(gd, d.pt); return; }
    window.latentdashMarker.hook(gd);
    gd.__ldMarker.pt = d.pt;
    window.latentdashMarker.sync(gd);
  }
};
document.addEventListener("pointerdown", (e) => {
  const D = window.latentdashDrag;
  if (!e.target || !e.target.closest) { return; }
  Object.keys(D.KINDS).forEach((kind) => {
    if (e.target.closest(D.KINDS[kind])) { D.active = true; D.kind = kind; }
  });
}, true);
["pointerup", "pointercancel"].forEach((t) => window.addEventListener(t, () => {
  window.latentdashDrag.active = false;
}, true));
