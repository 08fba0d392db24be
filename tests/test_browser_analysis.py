"""In a real headless Chromium: the "Region labels" toggle writes each region's label on the 2-D
map (and none on a 3-D map, with a note), the Analysis card shows the fit histogram with the
selected point's percentile and both persistence diagrams with their counts, and a model whose
atlas has a train/test split colours the map by split. No timing assertions."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from latentdash.ui import analysis
from latentdash.ui.catalog import Catalog
from tests.test_browser import ARTIFACTS, GD, open_page, query

pytestmark = pytest.mark.browser
MAP2 = "latent-pca-2d"
REGION_ANNS = f"() => ({GD}.layout.annotations || []).filter((a) => (a.name || '').startsWith('region ')).length"
# each drawn region label: its text, the centre of its box on screen, and where its (x, y) lies
LABELS_DRAWN = f"""() => {{ const gd = {GD}; const fl = gd._fullLayout; const b = gd.getBoundingClientRect();
  return Array.from(gd.querySelectorAll('.annotation'), (el) => {{
    const k = parseInt(el.getAttribute('data-index')); const a = fl.annotations[k];
    const r = el.querySelector('.annotation-text-g').getBoundingClientRect();
    return {{name: a.name || '', text: el.textContent, cx: r.left + r.width / 2, cy: r.top + r.height / 2,
             px: b.left + fl.xaxis._offset + fl.xaxis.l2p(a.x), py: b.top + fl.yaxis._offset + fl.yaxis.l2p(a.y)}};
  }}); }}"""
POINTS_IN = "(sel) => document.querySelectorAll(sel + ' .scatterlayer .point').length"
TEXT_OF = "(id) => (document.getElementById(id) || {}).innerText || ''"


def test_region_labels_toggle_and_the_analysis_card(page, live_server, explorers):
    view = Catalog(explorers).get("pca-16")
    expected = sorted(a["text"] for a in analysis.region_annotations(view, MAP2))
    assert len(expected) >= 2
    open_page(page, live_server + f"?map={MAP2}&sel=3")
    assert page.evaluate(REGION_ANNS) == 0
    page.click("#region-on input[type=checkbox]")
    page.wait_for_function(f"(n) => ({REGION_ANNS})() === n", arg=len(expected))
    assert query(page).get("regions") == "1"
    page.wait_for_function(f"(n) => ({LABELS_DRAWN})().filter((l) => l.name).length === n", arg=len(expected))
    drawn = [d for d in page.evaluate(LABELS_DRAWN) if d["name"]]
    assert sorted(d["text"] for d in drawn) == expected  # "Sneaker 94%": majority class and purity
    for d in drawn:  # each box centred on its region's medoid, on screen
        assert abs(d["cx"] - d["px"]) < 3 and abs(d["cy"] - d["py"]) < 3, d
    page.wait_for_function(f"() => ({TEXT_OF})('region-short') === '{len(expected)} regions'")
    page.locator(".ld-graph.ld-on").screenshot(path=str(ARTIFACTS / "analysis-region-labels.png"))

    # the Analysis card: fit histogram with the selected point's percentile, both diagrams
    err = np.asarray(view.explorer.recon_error, np.float64)
    pct = analysis.ordinal(100.0 * (err <= err[3]).mean())
    page.locator("#analysis-card").scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({TEXT_OF})('fit-text').includes('at the {pct} percentile')")
    topo = view.explorer.topology()
    page.wait_for_function(f"() => ({TEXT_OF})('topo-text').includes('long-lived')")
    text = page.evaluate(TEXT_OF, "topo-text")
    comp, loops = topo["components"], topo["loops"]
    assert f"H0: {comp} long-lived component" in text and f"H1: {loops} long-lived loop" in text
    assert topo["reading"] in text
    assert page.evaluate(POINTS_IN, "#topo-h0") == len(topo["h0"])  # every bar a point
    assert page.evaluate(POINTS_IN, "#topo-h1") == len(topo["h1"])
    assert "landmarks" in page.evaluate(TEXT_OF, "topo-params")
    assert page.evaluate("() => document.getElementById('topo-diagrams').offsetHeight") >= analysis.DIAGRAM_PX
    assert page.evaluate("() => document.querySelectorAll('#fit-graph .scatterlayer .trace').length") == 2
    page.locator("#analysis-card").screenshot(path=str(ARTIFACTS / "analysis-card.png"))

    # 3-D: no labels there, and the note says why; back to 2-D: they are drawn again
    page.click("#dims input[value='3']")
    page.wait_for_function(f"() => ({TEXT_OF})('region-short') === '2-D maps only'")
    page.wait_for_function(f"() => {GD} && {GD}._fullLayout && {GD}._fullLayout.scene !== undefined")
    assert page.evaluate(f"() => ({GD}.layout.scene || {{}}).annotations || []") == []
    page.click("#dims input[value='2']")
    page.wait_for_function(f"(n) => ({REGION_ANNS})() === n", arg=len(expected))
    page.click("#region-on input[type=checkbox]")  # off: the labels go, the link drops them
    page.wait_for_function(f"() => ({REGION_ANNS})() === 0")
    assert "regions" not in query(page)


@pytest.fixture(scope="module")
def split_server(explorers):
    """The 16-D test model with its dataset's first 1,000 rows declared the train split."""
    import waitress

    from latentdash.atlas.extras import QUICK_PARTS, compute_extras
    from latentdash.server.app_factory import create_app
    from latentdash.service import Explorer

    ex = explorers[0]
    split_ex = Explorer(ex.model, ex.atlas, "pca-16-split", extras=compute_extras(ex.atlas, QUICK_PARTS, n_train=1000))
    srv = waitress.create_server(create_app(explorers=[split_ex]).server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{srv.effective_port}/", split_ex
    srv.close()


def test_colour_by_split_and_the_gap(page, split_server):
    url, ex = split_server
    view = Catalog([ex]).get("pca-16-split")
    open_page(page, url + "?color=split")
    colours = page.evaluate(
        f"() => {GD}._fullData.slice(0, {len(view.trace_idx)}).map((t) => Array.from(t.marker.color))"
    )
    split = ex.split()
    for t, idx in enumerate(view.trace_idx):
        assert np.array_equal(np.asarray(colours[t]), split[idx]), t  # train 0, test 1
    texts = page.evaluate(f"() => Array.from({GD}.querySelectorAll('.colorbar text'), (e) => e.textContent)")
    assert {"train", "test", "split"} <= set(texts), texts  # the colour bar's title and two ticks
    page.locator("#analysis-card").scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({TEXT_OF})('fit-text').includes('Generalisation gap')")
    err = np.asarray(ex.recon_error, np.float64)
    gap = err[split == 1].mean() / err[split == 0].mean()
    assert f"test / train mean error = {gap:.2f}" in page.evaluate(TEXT_OF, "fit-text")
    assert page.evaluate("() => document.querySelectorAll('#fit-graph .scatterlayer .trace').length") == 3
    # no topology for this model (its extras have the quick parts only): said, no empty diagrams
    page.wait_for_function(f"() => ({TEXT_OF})('topo-text').includes('was not computed')")
    assert page.evaluate("() => document.getElementById('topo-diagrams').offsetHeight") == 0
    page.locator(".ld-map-card").screenshot(path=str(ARTIFACTS / "analysis-split-map.png"))
    page.locator("#analysis-card").screenshot(path=str(ARTIFACTS / "analysis-split-card.png"))
