"""Helpers of the browser tests: a site served on 127.0.0.1, Debian's Chromium through
Playwright, and search.js run inside it."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (a free port); yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def run_queries(page, base: str, queries: list[str], filters: dict | None = None) -> list[list[str]]:
    """The URLs search.js returns for each query, every match, in rank order."""
    page.goto(f"{base}search/index.html")
    return page.evaluate("""async ([queries, filters]) => {
        const m = await import(new URL("search.js", location.href));
        const out = [];
        for (const q of queries) out.push((await m.search(q, {filters})).results.map((r) => r.url));
        return out;
    }""", [queries, filters or {}])
