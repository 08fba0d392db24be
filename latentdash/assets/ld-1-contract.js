/* latentdash page code, part 1: the contract with the server, and failures made visible.
   Every component id and the drag callback's spec come from the server, written into the index
   as JSON (latentdash/ui/contract.py); the page's JavaScript never spells an id itself. */
(function () {
  const tag = document.getElementById("latentdash-contract");
  const contract = tag ? JSON.parse(tag.textContent) : {ids: {}, prefix: "/", drag: null};
  const shown = {};          // message -> true: each distinct failure is logged once
  const ld = window.latentdash = {
    contract: contract,
    ids: contract.ids,
    /* A failed request: logged once to the console and shown as one short line in the page. */
    report: function (source, message) {
      if (!shown[message]) { shown[message] = true; console.warn("latentdash: " + message); }
      const el = document.getElementById(ld.ids.CLIENT_MSG);
      if (el) { el.textContent = message; el.dataset.source = source; }
    },
    /* The line goes again once the same source succeeds. */
    clear: function (source) {
      const el = document.getElementById(ld.ids.CLIENT_MSG);
      if (el && el.dataset.source === source) { el.textContent = ""; delete el.dataset.source; }
    },
    graphDiv: function (graphId) {
      return document.querySelector("#" + graphId + " .js-plotly-plot");
    }
  };
  /* Dash callbacks that fail on the server (a bug: HTTP 5xx) are otherwise silent in a
     production page: say so. Dash's own requests go through window.fetch. */
  const fetch0 = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : (input && input.url) || "";
    const p = fetch0(input, init);
    if (url.indexOf("_dash-update-component") < 0) { return p; }
    return p.then((r) => {
      if (r.status >= 500) {
        ld.report("callback", "The server failed to answer (HTTP " + r.status + "); part of the page may be "
                  + "out of date. The server's log has the details.");
      } else if (r.ok) {
        ld.clear("callback");
      }
      return r;
    }, (e) => {
      ld.report("callback", "The server did not answer (" + e.message + "); is it still running?");
      throw e;
    });
  };
  /* Slider tooltips: values rounded to what a person reads (dcc.Slider's tooltip.transform). */
  window.dccFunctions = window.dccFunctions || {};
  window.dccFunctions.latentdashRound = function (v) {
    const x = Number(v);
    return isFinite(x) ? String(Math.round(x * 100) / 100) : String(v);
  };
})();
