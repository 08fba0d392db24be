/* latentdash page code, part 9: the "Your image" card (latentdash/ui/upload_card.py).
   The drawing canvas (pointer events: mouse, pen and touch) and its two buttons: "Clear" wipes
   it, "Encode drawing" writes the canvas as a PNG data URL into st-updraw, which the server
   converts and encodes like an uploaded file (ui/upload_callbacks.py; an empty canvas is answered
   there with "draw something first"). Strokes are light on dark, like the data the models saw,
   and as wide as the canvas says (data-stroke, in canvas pixels: about 2 px after the 8x
   downscaling to 28x28). The page also says why dcc.Upload refused a file it never sends (over
   the size limit, not an image type): react-dropzone rejects those without a word.
   Listeners are delegated to the document, so they work whenever Dash mounts the card. */
(function () {
  const ld = window.latentdash;
  const ink = "#fff", paper = "#000";
  let stroke = null;          // {id, x, y} while a pointer draws
  const canvas = () => document.getElementById(ld.ids.UP_CANVAS);
  const say = (text) => {
    const dc = window.dash_clientside;
    if (dc && dc.set_props) { dc.set_props(ld.ids.MSG, {children: text}); }
  };
  function ready(cv) {
    if (cv.dataset.ready) { return cv.getContext("2d"); }
    const g = cv.getContext("2d");
    g.fillStyle = paper;
    g.fillRect(0, 0, cv.width, cv.height);
    cv.dataset.ready = "1";
    return g;
  }
  function at(cv, ev) {      // canvas pixel coordinates of a pointer event
    const r = cv.getBoundingClientRect();
    return [(ev.clientX - r.left) * cv.width / r.width, (ev.clientY - r.top) * cv.height / r.height];
  }
  function line(cv, x0, y0, x1, y1) {
    const g = ready(cv);
    g.strokeStyle = ink;
    g.fillStyle = ink;
    g.lineWidth = Number(cv.dataset.stroke) || 18;
    g.lineCap = "round";
    g.lineJoin = "round";
    g.beginPath();
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
    g.stroke();
    cv.dataset.drawn = "1";
  }
  document.addEventListener("pointerdown", (ev) => {
    const cv = canvas();
    if (!cv || ev.target !== cv || (ev.pointerType === "mouse" && ev.button !== 0)) { return; }
    ev.preventDefault();
    cv.setPointerCapture(ev.pointerId);
    const [x, y] = at(cv, ev);
    stroke = {id: ev.pointerId, x: x, y: y};
    line(cv, x, y, x + 0.01, y);   // a dot for a tap
  });
  document.addEventListener("pointermove", (ev) => {
    const cv = canvas();
    if (!stroke || !cv || ev.pointerId !== stroke.id) { return; }
    const evs = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
    for (const e of (evs.length ? evs : [ev])) {
      const [x, y] = at(cv, e);
      line(cv, stroke.x, stroke.y, x, y);
      stroke.x = x;
      stroke.y = y;
    }
  });
  ["pointerup", "pointercancel"].forEach((t) => document.addEventListener(t, (ev) => {
    if (stroke && ev.pointerId === stroke.id) { stroke = null; }
  }));
  document.addEventListener("click", (ev) => {
    const cv = canvas();
    const btn = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!cv || !btn) { return; }
    if (btn.id === ld.ids.BTN_UP_CLEARDRAW) {
      const g = ready(cv);
      g.fillStyle = paper;
      g.fillRect(0, 0, cv.width, cv.height);
      delete cv.dataset.drawn;
    } else if (btn.id === ld.ids.BTN_UP_DRAW) {
      ready(cv);
      window.dash_clientside.set_props(ld.ids.ST_UPDRAW, {data: {png: cv.toDataURL("image/png"), t: Date.now()}});
    }
  });
  /* What dcc.Upload refuses silently: say it. */
  function check(files) {
    const box = document.getElementById(ld.ids.UPLOAD_CARD);
    const max = Number(box && box.dataset.maxbytes) || 0;
    const f = files && files[0];
    if (!f) { return; }
    if (max && f.size > max) {
      say("Could not use the image: the file is " + (f.size / 1048576).toFixed(1) + " MB; the limit is "
          + (max / 1048576) + " MB: upload a smaller one");
    } else if (!/^image\/(png|jpeg|webp)$/.test(f.type) && !/\.(png|jpe?g|webp)$/i.test(f.name)) {
      say("Could not use the image: " + (f.name || "this file") + " is not a PNG, JPEG or WebP image; "
          + "convert it first");
    }
  }
  document.addEventListener("change", (ev) => {
    const up = document.getElementById(ld.ids.UPLOAD);
    if (up && ev.target && ev.target.type === "file" && up.contains(ev.target)) { check(ev.target.files); }
  }, true);
  document.addEventListener("drop", (ev) => {
    const up = document.getElementById(ld.ids.UPLOAD);
    if (up && up.contains(ev.target) && ev.dataTransfer) { check(ev.dataTransfer.files); }
  }, true);
})();
