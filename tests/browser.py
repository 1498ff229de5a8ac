"""Helpers of the browser tests: a site served on 127.0.0.1, Debian's Chromium through
Playwright, and search.js run inside it."""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import threading
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


class _Mounted(_Quiet):
    """A site published under a sub-path, answering a missing address with 404.html and status 404,
    as nginx's `error_page 404 /404.html` or an object store's error document does."""

    prefix = "/"

    def send_head(self):
        path = self.path.split("?", 1)[0]
        if not path.startswith(self.prefix):
            return self._not_found()
        self.path = "/" + self.path[len(self.prefix):]
        target = Path(self.translate_path(self.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return self._not_found()
        return super().send_head()

    def _not_found(self):
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextlib.contextmanager
def serve(folder: Path, prefix: str | None = None) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (a free port); yields the base URL. With `prefix` ("/skills/nm/")
    the site is mounted there and a missing address gets the site's 404 page, as a web server would."""
    handler = _Quiet if prefix is None else type("Handler", (_Mounted,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix or '/'}"
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
