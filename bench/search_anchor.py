"""Anchor for the search stage: Pagefind 1.6.0 extended beside our own search, on the
same brands, measured the same way. See README, "Benchmark".

    python bench/search_anchor.py --project P --site OUR_SITE --hugo-out HUGO_OUT --work DIR

Pagefind indexes the Hugo anchor site (bench/hugo_site.py: one page per brand, the
same facts). Both sites are served on 127.0.0.1 by `Served` below, a threaded HTTP
server that gzips text responses (html, js, json, css) and sends Pagefind's own
files (.pf_*, wasm.*.pagefind, already gzipped) as they are; bytes transferred are the
response bodies it sends (gzip), counted by the server, headers not counted. Every
response may be cached (max-age), so a page's scripts come from the browser's cache on
the second query of a browser context, as they would for a visitor.

In headless Chromium (Playwright), for each query of `fixed_queries`:

- first query: a new browser context (empty cache) opens the search page with the
  query: everything it fetches (page, scripts, wasm, meta, index) and the time from
  navigation start to the done marker (`performance.now()` when `data-search-done` is
  set on <body>, seen by a MutationObserver installed before the page's scripts run);
- cold query: a new context first answers a warm-up query that finds nothing
  (WARM_UP: it loads the page, scripts, wasm and meta), then opens the page with the
  query: what the query itself fetches with the page in the cache, and its time;
- recall and precision: every brand result (ours: `search(q, {filters: {kind: "brand"}})`;
  Pagefind: `search(q)` and every result's `data()` for its URL) against a plain scan:
  for ours `tests/search_queries.py` `expected_urls` over the brand records, for
  Pagefind the Hugo pages whose visible text, normalised as our index normalises
  (`skillbrands.search.normalise`), contains the query.

Nothing here prints; bench/run.py (or `main` below) does.
"""

from __future__ import annotations

import argparse
import gzip
import html
import http.server
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # search_queries.py: the plain scan the tests use

PAGEFIND_VERSION = "1.6.0"  # pinned in bench/package.json and bench/package-lock.json
PAGEFIND = HERE / "node_modules" / "@pagefind" / "linux-x64" / "bin" / "pagefind_extended"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WARM_UP = "0000qx"  # finds nothing on either site; sorts before every Chinese word in Pagefind's index
SHOWN = 20  # results a results page shows: ours renders 20, the Pagefind page loads data() of 20
TEXT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
              ".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
              ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}
GZIP_LEVEL = 6
BRAND_URL = re.compile(r"(?:^|/)brands/([^/]+)/")

#: the Pagefind results page: what a results list needs (the first 20 results' data)
PAGEFIND_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>搜索</title></head>
<body>
<p id="search-status"></p>
<ol id="search-results"></ol>
<script type="module">
const query = new URLSearchParams(location.search).get("q") || "";
const status = document.getElementById("search-status");
try {
  if (query.trim()) {
    const pagefind = await import("/pagefind/pagefind.js");
    const found = await pagefind.search(query);
    const shown = await Promise.all(found.results.slice(0, %(shown)d).map((r) => r.data()));
    const list = document.getElementById("search-results");
    for (const data of shown) {
      const a = document.createElement("a");
      a.href = data.url;
      a.textContent = data.meta.title;
      const li = document.createElement("li");
      li.append(a);
      list.append(li);
    }
    status.textContent = `找到 ${found.results.length} 条结果`;
    document.body.dataset.total = String(found.results.length);
  }
  document.body.dataset.searchDone = "true";
} catch (error) {
  status.textContent = `搜索出错：${error.message}`;
  document.body.dataset.searchDone = "error";
}
</script>
</body></html>
""" % {"shown": SHOWN}

#: installed before any script of the page: the moment the page says its answer is shown
DONE_WATCH = """
new MutationObserver((changes, observer) => {
  if (document.body && document.body.dataset.searchDone) {
    window.__searchDoneAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-search-done"]});
"""

#: every brand result of one query, a page of BATCH at a time (all at once, thousands of parallel
#: fetches make Chromium refuse some: "Failed to fetch"). Ours: the module wherever the site has it
#: (search/search.js, formerly assets/search.js).
BATCH = 200
OUR_ALL = """async ([q, batch]) => {
  let m;
  try { m = await import(new URL("search.js", location.href)); }
  catch (error) { m = await import(new URL("../assets/search.js", location.href)); }
  const urls = [];
  for (let offset = 0, total = 1; offset < total; offset += batch) {
    const answer = await m.search(q, {filters: {kind: "brand"}, limit: batch, offset});
    total = answer.total || 0;
    urls.push(...answer.results.map((r) => r.url));
    if (!answer.results.length) break;
  }
  return urls;
}"""

PAGEFIND_ALL = """async ([q, batch]) => {
  const pagefind = await import("/pagefind/pagefind.js");
  const found = await pagefind.search(q);
  const urls = [];
  for (let i = 0; i < found.results.length; i += batch)
    urls.push(...(await Promise.all(found.results.slice(i, i + batch).map((r) => r.data()))).map((d) => d.url));
  return urls;
}"""


# ---------------------------------------------------------------- Pagefind and sizes

def pagefind_binary(log: Path) -> Path:
    """The pinned Pagefind extended binary, installed with `npm ci --prefix bench` when missing."""
    if not PAGEFIND.is_file():
        with log.open("wb") as out:
            subprocess.run(["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"], stdout=out,
                           stderr=subprocess.STDOUT, check=True)
    version = subprocess.run([str(PAGEFIND), "--version"], capture_output=True, text=True, check=True).stdout.split()
    if version[-1:] != [PAGEFIND_VERSION]:
        raise RuntimeError(f"{PAGEFIND} is {' '.join(version)}, not {PAGEFIND_VERSION}: run npm ci --prefix bench")
    return PAGEFIND


def pagefind_command(binary: Path, hugo_out: Path, index: Path) -> list[str]:
    return [str(binary), "--site", str(hugo_out), "--output-path", str(index)]


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of every file under `folder` (file sizes, not blocks)."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return sum(sizes), len(sizes)


# ---------------------------------------------------------------- queries and what they should find

def fixed_queries(directory) -> list[str]:
    """About a dozen Chinese 2-, 4- and 6-character queries and one pinyin query, picked
    from the data by position, so the same data gives the same list."""
    from pypinyin import lazy_pinyin

    from skillbrands.search import normalise

    brands = list(directory.brands.values())
    third, middle, last = brands[len(brands) // 3], brands[len(brands) // 2], brands[2 * len(brands) // 3]
    chain = directory.ancestors(middle.institution.region.code)
    prefecture = next((r for r in chain if r.level == "prefecture"), chain[0])
    county = chain[-1]
    rest = middle.institution.name  # the institution's own words, after the places it starts with
    for region in chain:
        rest = rest.removeprefix(region.name)
    names = [normalise(b.name) for b in (third, middle, last, *brands)]
    long_names = [name for name in names if len(name) >= 8 and not any(c.isspace() for c in name)]
    queries = [
        "焊工", "家政", "养老护理",  # trades
        prefecture.name[:2], prefecture.name, county.name,  # places, prefecture and county level
        rest[:2], rest[:4],  # institution-name fragments
        next(name for name in names[2:] if not any(c.isspace() for c in name[2:6]))[2:6],  # inner, 4 characters
        long_names[0][1:7], long_names[1][2:8],  # 6-character inner substrings of brand names
        "".join(lazy_pinyin(prefecture.name[:2])),  # pinyin
    ]
    return list(dict.fromkeys(q for q in queries if len(q) >= 2))


def brand_id(url: str) -> str | None:
    found = BRAND_URL.search(url)
    return found.group(1) if found else None


def expected_ours(directory, queries: list[str]) -> dict[str, set[str]]:
    """Brand ids our search must return: the tests' plain scan, brand records only."""
    from search_queries import expected_urls, records_of

    records = records_of(directory)
    return {q: {b for url in expected_urls(records, q) if (b := brand_id(url))} for q in queries}


def page_text(markup: str) -> str:
    """The visible text of a page's <body>: one line per text node, normalised."""
    from skillbrands.search import normalise

    body = markup[markup.find("<body"):] if "<body" in markup else markup
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    return "\n".join(normalise(html.unescape(part)) for part in re.split(r"<[^>]*>", body))


def expected_pagefind(hugo_out: Path, queries: list[str]) -> dict[str, set[str]]:
    """Brand ids whose Hugo page's visible text contains every term of the query."""
    from skillbrands.search import terms

    wanted = {q: terms(q) for q in queries}
    out: dict[str, set[str]] = {q: set() for q in queries}
    for page in (hugo_out / "brands").glob("*/index.html"):
        text = page_text(page.read_text(encoding="utf-8"))
        for q, parts in wanted.items():
            if parts and all(part in text for part in parts):
                out[q].add(page.parent.name)
    return out


# ---------------------------------------------------------------- the server

class Served:
    """A threaded HTTP server on 127.0.0.1 for one site: `mounts` maps URL prefixes
    ("/", "/pagefind/") to folders. Text is gzipped; every body sent is counted."""

    def __init__(self, mounts: dict[str, Path]):
        self.mounts = sorted(((prefix, Path(folder)) for prefix, folder in mounts.items()),
                             key=lambda m: -len(m[0]))
        self.lock = threading.Lock()
        self.sent: list[tuple[str, int]] = []  # (path, body bytes) since the last reset
        self.busy = 0
        self.last = time.monotonic()
        self._gzipped: dict[Path, bytes] = {}
        served = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with served.lock:
                    served.busy += 1
                try:
                    status, headers, body = served.respond(self.path)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with served.lock:
                        served.busy -= 1
                        served.sent.append((self.path, len(body)))
                        served.last = time.monotonic()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def locate(self, url_path: str) -> Path | None:
        path = unquote(urlsplit(url_path).path)
        for prefix, folder in self.mounts:
            if path.startswith(prefix):
                target = (folder / path[len(prefix):]).resolve()
                if not target.is_relative_to(folder.resolve()):
                    return None
                if target.is_dir():
                    target = target / "index.html"
                return target if target.is_file() else None
        return None

    def respond(self, url_path: str) -> tuple[int, dict[str, str], bytes]:
        target = self.locate(url_path)
        if target is None:
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n"
        headers = {"Cache-Control": "max-age=3600"}
        kind = TEXT_TYPES.get(target.suffix)
        if kind:
            body = self._gzipped.get(target)
            if body is None:
                body = gzip.compress(target.read_bytes(), GZIP_LEVEL, mtime=0)
                self._gzipped[target] = body
            headers.update({"Content-Type": kind, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        else:  # Pagefind's .pf_* and wasm files are gzip already; its script ungzips them
            body = target.read_bytes()
            headers["Content-Type"] = "application/wasm" if target.suffix == ".wasm" else "application/octet-stream"
        return 200, headers, body

    def reset(self) -> None:
        with self.lock:
            self.sent = []

    def settle(self, quiet: float = 0.15, limit: float = 10.0) -> list[tuple[str, int]]:
        """Wait until nothing is being sent and nothing was asked for `quiet` seconds; what was sent."""
        ends = time.monotonic() + limit
        while time.monotonic() < ends:
            with self.lock:
                if not self.busy and time.monotonic() - self.last >= quiet:
                    break
            time.sleep(0.02)
        with self.lock:
            return list(self.sent)


# ---------------------------------------------------------------- the browser

@dataclass
class Query:
    query: str
    first_bytes: int = 0
    first_files: int = 0
    first_ms: float = 0.0
    cold_bytes: int = 0
    cold_files: int = 0
    cold_ms: float = 0.0
    shown: str = ""  # the status line of the page
    found: int = 0  # brand results returned
    expected: int = 0  # brand results the plain scan expects
    correct: int = 0  # returned and expected
    missing: list[str] = field(default_factory=list)  # a few expected brand ids not returned
    extra: list[str] = field(default_factory=list)  # a few returned brand ids not expected
    error: str = ""  # the first or the cold query failed
    all_error: str = ""  # fetching all its results failed: no recall or precision

    @property
    def recall(self) -> float | None:
        return self.correct / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.found if self.found else None


@dataclass
class Engine:
    name: str
    build_seconds: float | None = None
    peak_mib: float | None = None
    peak_note: str = ""
    index_bytes: int = 0
    index_files: int = 0
    queries: list[Query] = field(default_factory=list)
    fixed_bytes: int = 0  # what the warm-up query fetched (page, scripts, wasm, meta …)
    error: str = ""

    def median(self, name: str) -> float | None:
        values = [getattr(q, name) for q in self.queries if not q.error]
        return statistics.median(values) if values else None

    def most(self, name: str) -> float | None:
        values = [getattr(q, name) for q in self.queries if not q.error]
        return max(values) if values else None

    @property
    def exact(self) -> int:
        """Queries whose brand results are exactly the expected set."""
        return sum(1 for q in self.queries if not q.error and not q.all_error and q.correct == q.expected == q.found)

    def mean(self, name: str) -> float | None:
        values = [v for v in (getattr(q, name) for q in self.queries if not q.error) if v is not None]
        return sum(values) / len(values) if values else None


def _open(context, served: Served, url: str) -> tuple[float, str, int, list[tuple[str, int]]]:
    """Open `url` in a new tab of `context`: (ms to done, status line, bodies sent)."""
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        served.settle()
        served.reset()
        page.goto(url)
        page.wait_for_selector("body[data-search-done]", state="attached")
        ms = page.evaluate("window.__searchDoneAt")
        done = page.evaluate("document.body.dataset.searchDone")
        status = page.evaluate("(document.getElementById('search-status') || {}).textContent || ''")
        sent = served.settle()
        if done != "true":
            raise RuntimeError(f"the page reports {done}: {status}")
        return float(ms), status, len(sent), sent
    finally:
        page.close()


def browse(browser, served: Served, page_url, engine: Engine, queries: list[str], evaluate_all: str,
           all_url: str, expected: dict[str, set[str]]) -> None:
    """Fill engine.queries: first query, cold query, recall (see the module's docstring)."""
    for q in queries:
        result = Query(q)
        engine.queries.append(result)
        try:
            context = browser.new_context()
            context.add_init_script(DONE_WATCH)
            try:
                result.first_ms, result.shown, result.first_files, sent = _open(context, served, page_url(q))
                result.first_bytes = sum(size for _, size in sent)
            finally:
                context.close()
            context = browser.new_context()
            context.add_init_script(DONE_WATCH)
            try:
                _, _, _, warm = _open(context, served, page_url(WARM_UP))
                engine.fixed_bytes = max(engine.fixed_bytes, sum(size for _, size in warm))
                result.cold_ms, _, result.cold_files, sent = _open(context, served, page_url(q))
                result.cold_bytes = sum(size for _, size in sent)
            finally:
                context.close()
        except Exception as error:  # noqa: BLE001 - one failing query is shown, not fatal
            result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(600_000)
        page.goto(all_url)
        page.wait_for_selector("body[data-search-done]", state="attached")
        answers = []
        for q in queries:
            try:
                answers.append(page.evaluate(evaluate_all, [q, BATCH]))
            except Exception as error:  # noqa: BLE001 - shown for that query
                answers.append(None)
                result = next(r for r in engine.queries if r.query == q)
                result.all_error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    finally:
        context.close()
    for result, urls in zip(engine.queries, answers):
        if urls is None:
            continue
        found = {brand_id(url) for url in urls} - {None}
        wanted = expected.get(result.query, set())
        result.found, result.expected, result.correct = len(found), len(wanted), len(found & wanted)
        result.missing, result.extra = sorted(wanted - found)[:3], sorted(found - wanted)[:3]


def compare(site: Path, hugo_out: Path, index: Path | None, directory, queries: list[str]) -> tuple[Engine, Engine]:
    """(ours, Pagefind's) browser measurements; sizes and build figures are filled by the caller.
    Without an index (Pagefind failed) only ours is measured."""
    from playwright.sync_api import sync_playwright

    ours, theirs = Engine("ours"), Engine(f"Pagefind {PAGEFIND_VERSION} extended")
    expected = expected_ours(directory, queries), expected_pagefind(hugo_out, queries) if index else {}
    if index:
        page_folder = index.parent / "pagefind-page"
        page_folder.mkdir(parents=True, exist_ok=True)
        (page_folder / "index.html").write_text(PAGEFIND_PAGE, encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            with Served({"/": site}) as served:
                browse(browser, served, lambda q: f"{served.base}/search/index.html?q={quote(q)}", ours, queries,
                       OUR_ALL, f"{served.base}/search/index.html", expected[0])
            if index is None:
                return ours, theirs
            with Served({"/pagefind/": index, "/search/": page_folder, "/": hugo_out}) as served:
                browse(browser, served, lambda q: f"{served.base}/search/index.html?q={quote(q)}", theirs, queries,
                       PAGEFIND_ALL, f"{served.base}/search/index.html", expected[1])
        finally:
            browser.close()
    return ours, theirs


def reference_today(env: dict[str, str]) -> date | None:
    epoch = env.get("SOURCE_DATE_EPOCH", "")
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date() if epoch.isdigit() else None


def main() -> None:
    """Standalone: compare on sites already built (our site, the Hugo site); JSON on stdout."""
    import os

    from bench.proctree import measure
    from skillbrands.pipeline import prepare

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--site", type=Path, required=True, help="our built site")
    parser.add_argument("--hugo-out", type=Path, required=True, help="the Hugo anchor site (bench/hugo_site.py)")
    parser.add_argument("--work", type=Path, required=True, help="where Pagefind's index and page go")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    index = args.work / "pagefind"
    binary = pagefind_binary(args.work / "npm-ci.log")
    measured = measure(pagefind_command(binary, args.hugo_out, index), stdout=args.work / "pagefind.out",
                       stderr=args.work / "pagefind.err")
    directory = prepare(args.project, reference_today(dict(os.environ))).directory
    queries = fixed_queries(directory)
    ours, theirs = compare(args.site, args.hugo_out, index, directory, queries)
    ours.index_bytes, ours.index_files = folder_size(args.site / "search")
    theirs.index_bytes, theirs.index_files = folder_size(index)
    theirs.build_seconds, theirs.peak_mib = measured.wall, measured.peak_mib
    out = [asdict(ours), asdict(theirs)]
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
