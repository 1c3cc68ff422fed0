"""The new-user walkthrough of docs/serve.md, done by a browser on the real demo library.

    .venv/bin/python experiments/serve_walkthrough.py [--index DEMO/library.idx]
        [--screenshot docs/serve-screenshot.png]

Starts `audiotext serve` on the demo index (what `make demo` prints, `make serve` runs),
opens the page in headless Chromium (Debian's, via Playwright) with every request outside
the server aborted (offline), searches "a dog barking", plays the first result (its
`<audio>` must advance), takes the screenshot, clicks *More like this* on it, and sets a
duration filter; prints what each step showed. Exit 1 if a step fails.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio"]  # fmt: skip
DEMO_INDEX = Path(os.environ.get("AUDIOTEXT_HOME", Path.home() / ".cache/audiotext"))
DEMO_INDEX = DEMO_INDEX / "demo" / "v5" / "library.idx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(index: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "audiotext_cli", "serve", str(index), "--port", str(port)]
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=2).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not come up")


def hits(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        "#results .hit", "els => els.map(e => [e.dataset.id, e.querySelector('.meta').textContent])"
    )


def walk(page, url: str, screenshot: Path | None) -> None:
    page.goto(url)
    page.fill("#q", "a dog barking")
    page.press("#q", "Enter")
    page.wait_for_function("document.querySelectorAll('#results .hit').length >= 10")
    print(f"searched 'a dog barking': {page.url}")
    for rank, (item, meta) in enumerate(hits(page)[:5], 1):
        print(f"  {rank}. {item}  ({meta})")
    first = hits(page)[0][0]
    page.click(f'.hit[data-id="{first}"] .play')
    page.wait_for_function(
        f"() => {{ const a = document.getElementById('player');"
        f" return a.dataset.id === {first!r} && a.currentTime > 0.05; }}"
    )
    print(f"played {first}: the audio element advanced")
    page.wait_for_function(
        """() => [...document.querySelectorAll('canvas.wave')].every(c => {
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })"""
    )
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=False)
        print(f"screenshot: {screenshot}")
    page.click(f'.hit[data-id="{first}"] .like')
    page.wait_for_function("document.getElementById('status').textContent.includes('sounds like')")
    like = hits(page)
    print(f"more like this ({page.url}): " + ", ".join(i for i, _ in like[:5]))
    assert like[0][0] == first, "the file itself should rank first"
    page.fill("#duration_max", "1")
    page.click("#filters button[type=submit]")
    page.wait_for_function("location.search.includes('duration_max=1')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#results .hit .meta')].every("
        "m => parseFloat(m.textContent.split(' · ')[1]) <= 1)"
    )
    short = hits(page)
    print(f"duration <= 1 s ({page.url}): {len(short)} shown, " + ", ".join(
        f"{i} ({m.split(' · ')[1]})" for i, m in short[:3]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEMO_INDEX)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = start(args.index, port)
    outside: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            tab = browser.new_page(viewport={"width": 1200, "height": 900})

            def only_local(route):
                if route.request.url.startswith(url):
                    return route.continue_()
                outside.append(route.request.url)
                return route.abort()

            tab.route("**/*", only_local)
            walk(tab, url, args.screenshot)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)
    print(f"requests outside the server: {len(outside)} {outside[:3]}")
    if outside:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
