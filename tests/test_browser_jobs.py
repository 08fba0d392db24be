"""The Jobs card in headless Chromium: Start shows a progress bar and enables Cancel; the result
appears in the Model list of this page, and of a page served by a second app (another web
process sharing the atlas cache) without a restart."""

from __future__ import annotations

import threading

import pytest

from latentdash.ui import jobs_layout as jl
from tests import test_jobs as tj
from tests.test_browser import open_page

cache, job_checkpoints, served_cache = tj.cache, tj.job_checkpoints, tj.served_cache  # shared fixtures


def _serve(app):
    import waitress

    srv = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.effective_port}/"


@pytest.fixture()
def two_servers(cache, job_checkpoints):
    servers = [_serve(tj.make_app(cache, job_checkpoints)) for _ in range(2)]
    yield [url for _, url in servers]
    for srv, _ in servers:
        srv.close()


def has_choice(page, name: str) -> bool:
    """Whether the Model list, opened, offers `name`."""
    page.click("#model")
    try:
        page.wait_for_selector(f"text={name}", timeout=15_000)
        return True
    except Exception:
        return False
    finally:
        page.keyboard.press("Escape")


def test_start_progress_and_result_in_two_processes(browser, page, two_servers):
    url1, url2 = two_servers
    open_page(page, url1)
    page.fill(f"#{jl.PERPLEXITY}", "20")
    page.press(f"#{jl.PERPLEXITY}", "Enter")
    page.click(f"#{jl.BTN_START}")
    page.wait_for_function(f"() => document.getElementById('{jl.NOTE}').innerText.startsWith('Started')")
    # running: Start disabled, Cancel enabled, the progress bar shown and moving
    by_id = "document.getElementById"
    page.wait_for_function(f"() => {by_id}('{jl.BTN_START}').disabled && !{by_id}('{jl.BTN_CANCEL}').disabled")
    page.wait_for_function(
        f"() => document.getElementById('{jl.PROGRESS}').innerText.startsWith('t-SNE latent 2d')", timeout=120_000
    )
    assert page.is_visible(f"#{jl.BAR}")
    page.wait_for_function(
        f"() => document.getElementById('{jl.STATUS}').innerText.startsWith('Done')", timeout=240_000
    )
    name = "pca-16 · t-SNE perplexity 20"
    assert name in page.inner_text(f"#{jl.STATUS}")
    assert not page.is_visible(f"#{jl.BAR}") and not page.is_disabled(f"#{jl.BTN_START}")
    assert has_choice(page, name)
    # another browser on the second process: the new choice is there on load, and it opens
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        open_page(other, url2)
        other.click("#model")
        other.click(f"text={name}")
        other.wait_for_function(
            "(n) => new URLSearchParams(location.search).get('model') === n", arg=name, timeout=30_000
        )
        other.wait_for_function("() => document.querySelector('#method input[value=tsne]').checked", timeout=30_000)
    finally:
        other.context.close()
