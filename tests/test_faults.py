"""A worker killed mid-drag: real gunicorn (`latentdash serve --workers 2`), real headless
Chromium. The drag loop (latentdash/assets/ld-4-drag.js) retries the frame that failed, the
page goes on decoding, at most a short notice shows (and goes again), and the image is never
broken. A connection reset injected into one drag request checks the retry path itself (a
killed worker's reset is often retried by the browser before the page even sees it)."""

from __future__ import annotations

import os
import signal
import subprocess

import psutil
import pytest

from .conftest import CACHE
from .test_server import free_port, serve_cmd, stop, wait_health, wait_workers  # noqa: F401  (stop: fixture)

pytestmark = pytest.mark.browser

RECORD = """() => { const ld = window.latentdash; window.__f = {srcs: [], msgs: []};
  const img = document.getElementById(ld.ids.CUR_IMG), msg = document.getElementById(ld.ids.CLIENT_MSG);
  new MutationObserver(() => window.__f.srcs.push(img.src)).observe(img, {attributes: true, attributeFilter: ['src']});
  new MutationObserver(() => window.__f.msgs.push(msg.textContent))
    .observe(msg, {childList: true, characterData: true, subtree: true}); }"""
FRAMES = "() => window.__f.srcs.length"
IMG_OK = """() => { const img = document.getElementById(window.latentdash.ids.CUR_IMG);
  return img.complete && img.naturalWidth === 28 && img.src.startsWith('data:image/png;base64,'); }"""
NETWORK = ("net::ERR", "Failed to load resource", "Failed to fetch")


class Drag:
    """A held slider handle moved back and forth (each move a new position: a new frame)."""

    def __init__(self, page):
        self.page = page
        box = page.locator(".ld-sliders [role=slider]").first.bounding_box()
        self.x0, self.y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.k = 0
        page.mouse.move(self.x0, self.y)
        page.mouse.down()

    def moves(self, n: int) -> None:
        for _ in range(n):
            self.k += 1
            self.page.mouse.move(self.x0 + 40 * (((self.k // 8) % 2) * 2 - 1) + (self.k % 8) * 5, self.y)
            self.page.wait_for_timeout(50)

    def until_frames(self, more: int, max_moves: int = 400) -> None:
        """Keep moving until `more` new frames have arrived (a busy machine: no timing)."""
        target = self.page.evaluate(FRAMES) + more
        for _ in range(max_moves):
            self.moves(1)
            if self.page.evaluate(FRAMES) >= target:
                return
        raise AssertionError(f"no new frames after {max_moves} moves")


def established(pid: int, port: int) -> int:
    try:
        return sum(
            1 for c in psutil.Process(pid).net_connections("tcp") if c.status == "ESTABLISHED" and c.laddr.port == port
        )
    except psutil.Error:
        return 0


def test_worker_killed_mid_drag_page_goes_on(browser, pca_checkpoint, stop):  # noqa: F811
    from .test_browser import open_page

    port = free_port()
    proc = subprocess.Popen(
        serve_cmd(pca_checkpoint, port, "--workers", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("LATENTDASH_SERVER", "LATENTDASH_WORKERS")},
    )
    stop(proc)
    base = f"http://127.0.0.1:{port}/"
    wait_health(base, proc)
    wait_workers(proc.pid, 2)
    assert str(CACHE)  # the test atlas, built by the session fixtures
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    # the server path (the page's own switch, ld-6-onnx.js): every frame is a request to a worker
    ctx.add_init_script("window.localStorage.setItem('latentdash.decode', 'server');")
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        open_page(page, base)
        page.evaluate(RECORD)
        drag = Drag(page)
        drag.until_frames(3)
        killed = []
        # kill the worker holding the page's connections (the drag loop's among them), one at a
        # time, while the handle keeps moving; twice, so both original workers die mid-drag
        for _ in range(2):
            workers = wait_workers(proc.pid, 2, exclude=killed)
            victim = max(workers, key=lambda w: established(w, port))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            drag.until_frames(3)  # the page goes on
            assert page.evaluate(IMG_OK)
        drag.moves(10)
        page.mouse.up()
        page.wait_for_function("() => new URLSearchParams(location.search).has('z')", timeout=30_000)
        f = page.evaluate("() => window.__f")
        assert all(s.startswith("data:image/png;base64,") for s in f["srcs"])  # never a broken image
        assert page.evaluate(IMG_OK)
        assert all("retrying" in m or m == "" or "did not answer" in m for m in f["msgs"]), f["msgs"]
        msg_now = page.evaluate("() => document.getElementById(window.latentdash.ids.CLIENT_MSG).textContent")
        assert "retrying" not in msg_now  # the notice went once frames came again
        assert len(wait_workers(proc.pid, 2, exclude=killed)) == 2  # both replaced

        # the retry path itself: the next drag request's connection is reset
        hits = []

        def reset_once(route):
            if not hits and route.request.method == "POST" and "st-dragout" in (route.request.post_data or ""):
                hits.append(1)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/_dash-update-component*", reset_once)
        page.evaluate(RECORD)
        drag = Drag(page)
        drag.until_frames(3)
        page.mouse.up()
        f = page.evaluate("() => window.__f")
        assert hits and any("retrying" in m for m in f["msgs"]), f["msgs"]  # the short notice
        page.wait_for_function(
            "() => !document.getElementById(window.latentdash.ids.CLIENT_MSG).textContent.includes('retrying')"
        )
        assert page.evaluate(IMG_OK)
        assert [e for e in errors if not any(n in e for n in NETWORK)] == []
    finally:
        ctx.close()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 130
