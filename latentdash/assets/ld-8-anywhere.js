/* latentdash page code, part 8: decode anywhere and the manifold grid on the 2-D map
   (latentdash/ui/anywhere.py has the server's side).
   - A click on the plot area that is no drag, with Shift or Alt held on empty space (no point
     under the pointer: plotly's hover has none), or any click while "Click sets" is "any
     position", is turned into data coordinates (the axes' p2l) and written to st-anyclick with a
     nonce; the reducer decodes it into the sliders.
   - An HTML layer over the plot area (so nothing here redraws the WebGL points) holds the
     crosshair at the decoded position and the manifold grid: one sprite image placed in data
     coordinates, moved with the axes while panning and zooming, and asked for again (st-gridreq,
     the visible ranges) 250 ms after the view last moved. */
window.latentdashAnywhere = {
  out: null,          // what the server says to draw (st-anyout): {key, dims, grid, mark}
  shown: null,        // the grid on show (st-gridout): {key, x, y, n, src}
  asked: null,        // the last grid request's view (JSON), so a redraw alone asks nothing
  timer: null, nonce: 0, DEBOUNCE: 250, DRAG_PX: 4,
  ensure: function (tries) {
    const gd = window.latentdash.graphDiv(window.latentdash.ids.GRAPH);
    if (gd && typeof gd.on === "function") {
      this.hook(gd);
      this.place(gd);
      this.schedule(gd);
    } else if (tries > 0) {
      setTimeout(() => this.ensure(tries - 1), 250);
    }
  },
  hook: function (gd) {
    if (gd.__ldAnywhere) { return; }
    gd.__ldAnywhere = true;
    gd.addEventListener("pointerdown", (ev) => this.down(gd, ev), {capture: true, passive: true});
    const moved = () => { this.place(gd); this.schedule(gd); };
    gd.on("plotly_afterplot", moved);
    gd.on("plotly_relayouting", moved);
    gd.on("plotly_relayout", moved);
    window.addEventListener("resize", moved);
    document.addEventListener("change", () => this.cursor(gd));
    this.cursor(gd);
  },
  /* "any position" chosen under "Click sets" */
  anyMode: function () {
    const el = document.querySelector("#" + window.latentdash.ids.CLICK_MODE + " input:checked");
    return !!el && el.value === "anywhere";
  },
  cursor: function (gd) { gd.classList.toggle("ld-any-on", this.anyMode()); },
  /* a press on the plot area in pan or zoom mode; a release within DRAG_PX is a click */
  down: function (gd, ev) {
    const fl = gd._fullLayout;
    const t = ev.target;
    if (ev.button !== 0 || !fl || fl.scene || !fl.xaxis || !fl.yaxis) { return; }
    if (fl.dragmode !== "pan" && fl.dragmode !== "zoom") { return; }   // box/lasso: latentdashLasso
    if (!t || !t.classList || !t.classList.contains("nsewdrag")) { return; }
    const press = {x: ev.clientX, y: ev.clientY, id: ev.pointerId, mod: ev.shiftKey || ev.altKey,
                   onPoint: !!(gd._hoverdata && gd._hoverdata.length)};
    const up = (e) => {
      if (e.pointerId !== press.id) { return; }
      window.removeEventListener("pointerup", up, true);
      if (e.type === "pointerup" && Math.hypot(e.clientX - press.x, e.clientY - press.y) < this.DRAG_PX) {
        this.click(gd, press, e);
      }
    };
    window.addEventListener("pointerup", up, true);
  },
  click: function (gd, press, e) {
    if (!this.anyMode() && !(press.mod && !press.onPoint)) { return; }   // an ordinary click: plotly's
    const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
    const box = gd.getBoundingClientRect();
    const px = e.clientX - box.left - xa._offset, py = e.clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) { return; }
    const xy = [xa.p2l(px), ya.p2l(py)];
    this.nonce += 1;
    window.dash_clientside.set_props(window.latentdash.ids.ST_ANYCLICK,
                                     {data: {xy: xy, key: fl.uirevision, nonce: this.nonce}});
  },
  /* the layer over the plot area, made on first use next to the slider marker */
  layer: function () {
    const ids = window.latentdash.ids;
    let el = document.getElementById(ids.ANY_LAYER);
    if (el) { return el; }
    const host = document.getElementById(ids.MARKER);
    if (!host || !host.parentElement) { return null; }
    el = document.createElement("div");
    el.id = ids.ANY_LAYER;
    el.className = "ld-any-layer";
    const img = document.createElement("img");
    img.id = ids.ANY_GRID;
    img.className = "ld-any-grid";
    img.alt = "manifold grid";
    const mark = document.createElement("div");
    mark.id = ids.ANY_MARK;
    mark.className = "ld-any-mark";
    el.append(img, mark);
    host.parentElement.insertBefore(el, host);
    return el;
  },
  /* the layer, the grid and the crosshair follow the axes (every redraw, pan and zoom) */
  place: function (gd) {
    const el = this.layer();
    const fl = gd._fullLayout;
    const box = document.getElementById(window.latentdash.ids.GRAPH_BOX);
    if (!el) { return; }
    if (!fl || fl.scene || !fl.xaxis || !fl.yaxis || !box || !box.classList.contains("ld-on")) {
      el.style.display = "none"; return;
    }
    const xa = fl.xaxis, ya = fl.yaxis;
    const g = gd.getBoundingClientRect(), w = el.parentElement.getBoundingClientRect();
    Object.assign(el.style, {display: "block", left: (g.left - w.left + xa._offset) + "px",
                             top: (g.top - w.top + ya._offset) + "px",
                             width: xa._length + "px", height: ya._length + "px"});
    const out = this.out, key = fl.uirevision;
    const img = el.firstChild, mark = el.lastChild;
    const grid = this.shown;
    if (out && out.grid && out.key === key && grid && grid.key === key) {
      const x0 = xa.l2p(grid.x[0]), x1 = xa.l2p(grid.x[1]), y0 = ya.l2p(grid.y[1]), y1 = ya.l2p(grid.y[0]);
      if (img.getAttribute("src") !== grid.src) { img.setAttribute("src", grid.src); }
      Object.assign(img.style, {display: "block", left: x0 + "px", top: y0 + "px",
                                width: (x1 - x0) + "px", height: (y1 - y0) + "px"});
      img.dataset.x = grid.x.join(","); img.dataset.y = grid.y.join(",");
    } else {
      img.style.display = "none";
    }
    const m = out && out.key === key ? out.mark : null;
    if (m) {
      mark.className = "ld-any-mark ld-any-" + m.style;
      mark.title = m.kind;
      Object.assign(mark.style, {display: "block", left: xa.l2p(m.xy[0]) + "px", top: ya.l2p(m.xy[1]) + "px"});
    } else {
      mark.style.display = "none";
    }
  },
  /* the grid for the visible ranges, DEBOUNCE ms after the view last moved */
  schedule: function (gd) {
    const fl = gd._fullLayout, out = this.out;
    clearTimeout(this.timer);
    if (!out || !out.grid || out.dims !== 2 || !fl || fl.scene || !fl.xaxis || out.key !== fl.uirevision) { return; }
    const want = {key: fl.uirevision, x: fl.xaxis.range.slice(), y: fl.yaxis.range.slice()};
    if (JSON.stringify(want) === this.asked) { return; }
    this.timer = setTimeout(() => {
      const f = gd._fullLayout;   // the figure now (a redraw replaces the layout object)
      if (!f || f.scene || !f.xaxis || !f.yaxis) { return; }
      const again = {key: f.uirevision, x: f.xaxis.range.slice(), y: f.yaxis.range.slice()};
      this.asked = JSON.stringify(again);
      this.nonce += 1;
      window.dash_clientside.set_props(window.latentdash.ids.ST_GRIDREQ, {data: Object.assign(again, {nonce: this.nonce})});
    }, this.DEBOUNCE);
  },
  render: function (out) {
    if (!out || !out.grid) { this.asked = null; }   // switched off: the next switch-on asks again
    this.out = out || null;
    this.ensure(40);
  },
  grid: function (res) {
    if (!res) { return; }
    const apply = () => {
      const gd = window.latentdash.graphDiv(window.latentdash.ids.GRAPH);
      if (gd) { this.place(gd); if (res.stale) { this.schedule(gd); } }
    };
    if (res.stale) { this.asked = null; } else if (res.off) { this.shown = null; }
    if (!res.src) { apply(); return; }
    // decoded before it replaces the grid on show, so a zoom never flashes an empty plot
    const pre = new Image();
    pre.src = res.src;
    const swap = () => {
      if (this.shown && this.shown.nonce > res.nonce) { return; }   // a newer grid is already up
      this.shown = res;
      apply();
    };
    (pre.decode ? pre.decode() : Promise.resolve()).then(swap, swap);
  }
};

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.latentdashAnywhere = {
  /* the server's render (st-anyout) and every new figure: hook the graph, redraw the layer */
  render: function (out) {
    window.latentdashAnywhere.render(out);
    return window.dash_clientside.no_update;
  },
  grid: function (res) {
    window.latentdashAnywhere.grid(res);
    return window.dash_clientside.no_update;
  }
};
