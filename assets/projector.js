/* The "Projector" theme switch (see projector.css): a class on <html>, remembered in this
   browser's localStorage; no request to the server. The button is the page's `.ld-theme-toggle`
   in the header (rendered by Dash later than this script runs, so clicks are caught on the
   document and the button's state is refreshed whenever it appears). */
(function () {
  const KEY = "latentdash.theme";
  const CLS = "ld-projector";
  const root = document.documentElement;
  const stored = () => { try { return window.localStorage.getItem(KEY); } catch (e) { return null; } };
  const sync = () => {
    const on = root.classList.contains(CLS);
    document.querySelectorAll(".ld-theme-toggle").forEach((b) => {
      if (b.getAttribute("aria-pressed") !== String(on)) { b.setAttribute("aria-pressed", String(on)); }
    });
  };
  const set = (on) => {
    root.classList.toggle(CLS, on);
    try { window.localStorage.setItem(KEY, on ? "projector" : "default"); } catch (e) { /* private mode */ }
    sync();
    window.dispatchEvent(new Event("resize"));   // the map redraws at its new size
  };
  root.classList.toggle(CLS, stored() === "projector");   // before the first paint: no flash
  document.addEventListener("click", (e) => {
    const b = e.target && e.target.closest && e.target.closest(".ld-theme-toggle");
    if (b) { set(!root.classList.contains(CLS)); }
  });
  new MutationObserver(sync).observe(document.documentElement, {childList: true, subtree: true});
})();
