"""The user's own assets (Dash's `assets/` convention, --assets DIR): served and linked after
the package's own; and the shipped example, the projector theme, switched from the page."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from latentdash.errors import LatentdashError
from latentdash.server.app_factory import create_app
from latentdash.server.config import ServeConfig

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def user_dir(tmp_path):
    d = tmp_path / "theme"
    (d / "vendor").mkdir(parents=True)
    (d / "sub").mkdir()
    (d / "zz-teacher.css").write_text(".ld-header { background: rgb(1, 2, 3); }\n")
    (d / "aa-first.js").write_text("window.__teacher = (window.__teacher || []).concat('aa');\n")
    (d / "sub" / "more.css").write_text(".ld-card { border: 1px solid red; }\n")
    (d / "vendor" / "big-lib.js").write_text("window.__vendorLoaded = true;\n")
    (d / ".hidden.css").write_text("body { display: none; }\n")
    (d / "notes.txt").write_text("not linked\n")
    return d


def test_user_assets_are_served_and_linked_after_ours(explorers, user_dir):
    app = create_app(ServeConfig(assets_dir=str(user_dir)), explorers=explorers)
    c = app.server.test_client()
    html = c.get("/").get_data(as_text=True)
    names = ("/assets/style.css", "user-assets/zz-teacher.css", "user-assets/sub/more.css", "/assets/ld-5-callbacks.js")
    pos = {name.split("/")[-1]: html.find(name) for name in names}
    assert all(p > 0 for p in pos.values()), (pos, html[:1500])
    # after ours, in Dash's order (the folder's own files, then its sub-folders)
    assert pos["style.css"] < pos["zz-teacher.css"] < pos["more.css"], pos
    js = html.find("user-assets/aa-first.js")
    renderer = html.find("new DashRenderer")
    assert pos["ld-5-callbacks.js"] < js < renderer  # after our scripts, before the page starts
    # the CSS rules come after ours in the document, so they win on equal specificity
    assert html.index("</head>") > pos["zz-teacher.css"]
    # served, with its content and a fingerprint
    link = html[html.index("/user-assets/zz-teacher.css") :].split('"')[0]
    assert "?m=" in link
    r = c.get(link)
    assert r.status_code == 200 and b"rgb(1, 2, 3)" in r.data and r.mimetype == "text/css"
    assert "immutable" in r.headers["Cache-Control"]
    # vendor/: served (for on-demand loading), not linked; hidden files: neither
    assert "big-lib.js" not in html and c.get("/user-assets/vendor/big-lib.js").status_code == 200
    assert ".hidden.css" not in html and c.get("/user-assets/.hidden.css").status_code == 404
    assert "notes.txt" not in html
    assert c.get("/user-assets/nope.css").status_code == 404


def test_assets_dir_default_and_errors(explorers, tmp_path, monkeypatch):
    with pytest.raises(LatentdashError) as e:
        create_app(ServeConfig(assets_dir=str(tmp_path / "missing")), explorers=explorers)
    assert "missing" in str(e.value) and "\n" not in str(e.value)
    monkeypatch.chdir(tmp_path)  # no ./assets here: nothing linked
    html = create_app(ServeConfig(), explorers=explorers).server.test_client().get("/").get_data(as_text=True)
    assert "user-assets" not in html
    monkeypatch.chdir(ROOT)  # the checkout's ./assets: the projector theme
    html = create_app(ServeConfig(), explorers=explorers).server.test_client().get("/").get_data(as_text=True)
    assert "user-assets/projector.css" in html and "user-assets/projector.js" in html


@pytest.mark.browser
def test_projector_theme_toggle_in_chromium(browser, explorers):
    """The header's Projector button switches large type and high contrast on and off in the
    page (computed styles change), and the choice survives a reload (localStorage)."""
    import waitress

    from tests.test_browser import open_page

    app = create_app(ServeConfig(assets_dir=str(ROOT / "assets")), explorers=explorers)
    srv = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    url = f"http://127.0.0.1:{srv.effective_port}/"
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    style = """() => { const b = getComputedStyle(document.body);
      const h = getComputedStyle(document.querySelector('.ld-header h1'));
      return {font: parseFloat(b.fontSize), bg: b.backgroundColor, h1: parseFloat(h.fontSize),
              pressed: document.querySelector('.ld-theme-toggle').getAttribute('aria-pressed')}; }"""
    try:
        open_page(page, url)
        toggle = page.locator(".ld-header .ld-theme-toggle")
        assert toggle.is_visible()
        before = page.evaluate(style)
        assert before["font"] == 15 and before["bg"] != "rgb(0, 0, 0)"
        # no server round trip: with every callback answered "no update" the switch still works
        page.route("**/_dash-update-component*", lambda route: route.fulfill(status=204))
        toggle.click()
        page.wait_for_function("() => document.documentElement.classList.contains('ld-projector')")
        on = page.evaluate(style)
        assert on["font"] >= 20 and on["h1"] > before["h1"] and on["bg"] == "rgb(0, 0, 0)" and on["pressed"] == "true"
        page.screenshot(path=str(ROOT / "test-artifacts" / "assets-projector-theme.png"))
        page.unroute("**/_dash-update-component*")
        page.reload()
        open_page(page, url)
        assert page.evaluate(style)["bg"] == "rgb(0, 0, 0)"  # remembered
        page.locator(".ld-header .ld-theme-toggle").click()
        page.wait_for_function("() => !document.documentElement.classList.contains('ld-projector')")
        off = page.evaluate(style)
        assert off["font"] == before["font"] and off["bg"] == before["bg"] and off["pressed"] == "false"
        assert errors == []
    finally:
        ctx.close()
        srv.close()


def test_toggle_hidden_without_a_theme(explorers, tmp_path, monkeypatch):
    """The header's theme button is in the layout but hidden until a theme's CSS shows it."""
    monkeypatch.chdir(tmp_path)
    c = create_app(ServeConfig(), explorers=explorers).server.test_client()
    layout = c.get("/_dash-layout").get_data(as_text=True)
    assert '"ld-theme-toggle"' in layout and '"hidden":true' in layout.replace(" ", "")
