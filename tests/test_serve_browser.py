"""The page in headless Chromium (Debian's `chromium`, driven by Playwright) against a real
uvicorn server on 127.0.0.1: search by words, play, "more like this", filter, as a user would.

One browser and one server for the module. Set AUDIOTEXT_SCREENSHOT=docs/serve-screenshot.png
to refresh the screenshot in the docs (the test always writes one to its temporary folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from serve_library import SOUNDS, build_index, write_library

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
WAIT_MS = 20_000

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(clap_run, tmp_path_factory):
    """uvicorn serving the test library on a free loopback port; stopped after the module."""
    import uvicorn

    from audiotext_cli.serve import create_app

    root = tmp_path_factory.mktemp("serve_browser")
    idx = build_index(write_library(root), clap_run / "best", root)
    port = free_port()
    config = uvicorn.Config(create_app(idx), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 720})
        tab.set_default_timeout(WAIT_MS)
        requests: list[str] = []
        tab.on("request", lambda r: requests.append(r.url))
        tab.goto(server)
        yield tab
        browser.close()
    outside = [u for u in requests if not u.startswith(server)]
    assert not outside, f"the page fetched from elsewhere: {outside}"


def hit_ids(page) -> list[str]:
    return page.eval_on_selector_all("#results .hit", "els => els.map(e => e.dataset.id)")


def shown_durations(page) -> list[float]:
    texts = page.eval_on_selector_all("#results .hit .meta", "els => els.map(e => e.textContent)")
    return [float(t.split(" · ")[1].removesuffix(" s")) for t in texts]


def test_search_play_more_like_this_and_filter(page, server, tmp_path):
    page.fill("#q", "a low hum")
    page.press("#q", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#results .hit').length === {len(SOUNDS)}")
    assert "q=a+low+hum" in page.url
    ranks = page.eval_on_selector_all("#results .rank", "els => els.map(e => e.textContent)")
    assert ranks == [str(i) for i in range(1, len(SOUNDS) + 1)]
    assert sorted(hit_ids(page)) == sorted(SOUNDS)

    # every waveform is drawn from its peaks (some pixels painted on each canvas)
    page.wait_for_function(
        """() => [...document.querySelectorAll('canvas.wave')].every(c => {
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })"""
    )
    rate = page.text_content('.hit[data-id="tones/high_whistle.wav"] .meta')
    assert "44100 Hz" in rate and "tones" in rate and "2.50 s" in rate

    # keyboard: down moves the selection; space plays the selected row and pauses it
    page.evaluate("document.activeElement.blur()")
    index = hit_ids(page).index("tones/low_hum.wav")
    for _ in range(index):
        page.keyboard.press("ArrowDown")
    selected = page.get_attribute("#results .hit.selected", "data-id")
    assert selected == "tones/low_hum.wav"
    page.keyboard.press(" ")
    page.wait_for_function(
        "() => { const a = document.getElementById('player');"
        " return a.dataset.id === 'tones/low_hum.wav' && a.currentTime > 0.5; }"
    )
    assert "Pause" in page.text_content('.hit[data-id="tones/low_hum.wav"] .play')
    shot = tmp_path / "serve-screenshot.png"
    page.screenshot(path=str(shot))
    if os.environ.get("AUDIOTEXT_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["AUDIOTEXT_SCREENSHOT"])
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('player').paused")

    # "More like this": audio -> audio from that row; the file itself ranks first
    page.click('.hit[data-id="tones/high_whistle.wav"] .like')
    page.wait_for_function("document.getElementById('status').textContent.includes('sounds like')")
    assert hit_ids(page)[0] == "tones/high_whistle.wav"
    assert "like=tones%2Fhigh_whistle.wav" in page.url

    # a duration filter keeps the same kind of search and only rows in range
    page.fill("#duration_max", "1")
    page.click("#filters button[type=submit]")
    short = sorted(i for i, s in SOUNDS.items() if s[2] <= 1.0)
    page.wait_for_function(f"document.querySelectorAll('#results .hit').length === {len(short)}")
    assert max(shown_durations(page)) <= 1.0
    assert sorted(hit_ids(page)) == short
    assert "duration_max=1" in page.url

    # the URL holds the query: reopening it repeats the search with its filter
    page.goto(page.url)
    page.wait_for_function(f"document.querySelectorAll('#results .hit').length === {len(short)}")
    assert page.input_value("#duration_max") == "1"
