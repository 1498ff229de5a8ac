"""The live preview behind `build.py serve`: build into a folder of its own, serve it on this
machine, rebuild when the project's files change and tell the open pages to reload.

The preview builds with `pipeline.build_site` into `<folder>/site` (incremental, as every
build is), so a rebuild after one edit renders only what the edit touched. Each build,
good or bad, gets a new number; the pages the server sends carry a small script (added to
the response only, never to the built files) that listens on `/__preview/events` and
reloads when the number changes. While the data has errors every HTML request is answered
with a page listing them; when they are fixed the site is served again.
"""

from __future__ import annotations

import html
import http.server
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from .issues import CODES, Issue
from .pipeline import BuildError, build_site

#: the address the pages listen on for new builds (Server-Sent Events)
EVENTS = "/__preview/events"
#: the most problems the error page lists (the rest are counted)
PAGE_ISSUES = 500
#: how often an events stream sends a keep-alive comment, in seconds
KEEPALIVE = 15.0
#: the project's folders a change in which means a rebuild
WATCHED = ("datasets", "content", "site_templates")


@dataclass(frozen=True)
class Built:
    """One preview build: its number, how long it took and, when it failed, why."""

    number: int
    seconds: float
    pages: int = 0
    rendered: int = 0
    message: str | None = None  # None: the site was built
    issues: list[Issue] = field(default_factory=list)  # the errors and warnings found
    unchanged: bool = False  # the inputs were those of the site already served: nothing to reload

    @property
    def ok(self) -> bool:
        return self.message is None


class Preview:
    """A project previewed from `folder` (which the caller creates and removes)."""

    def __init__(self, project: Path, folder: Path, today: date | None = None, jobs: int | None = None):
        self.project = Path(project)
        self.folder = Path(folder)
        self.today = today
        self.jobs = jobs
        self.latest: Built | None = None
        self.closed = False
        self._changed = threading.Condition()

    @property
    def site(self) -> Path:
        return self.folder / "site"

    def rebuild(self) -> Built:
        """Build the site again; a failure of any kind is kept as the latest build, never raised."""
        last = self.latest
        number = last.number + 1 if last else 1
        start = time.perf_counter()
        try:
            result = build_site(self.project, self.site, self.today, None, self.jobs)
            same = result.unchanged and last is not None and last.ok  # a save without a change
            built = Built(last.number if same else number, time.perf_counter() - start, result.pages,
                          result.rendered, issues=result.issues, unchanged=same)
        except BuildError as error:
            built = Built(number, time.perf_counter() - start, message=str(error), issues=error.issues)
        except Exception as error:  # noqa: BLE001 - a broken rebuild must not stop the preview
            where = traceback.extract_tb(error.__traceback__)[-1]
            built = Built(number, time.perf_counter() - start,
                          message=f"生成时出现程序错误：{type(error).__name__}: {error}"
                                  f"（{Path(where.filename).name} 第{where.lineno}行）")
        with self._changed:
            self.latest = built
            self._changed.notify_all()
        return built

    @property
    def number(self) -> int:
        """The latest build's number (0 before the first)."""
        latest = self.latest
        return latest.number if latest else 0

    def wait(self, seen: int, timeout: float) -> int:
        """The latest build's number, once it is not `seen` (or `timeout` seconds have passed)."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self.number != seen, timeout)
            return self.number

    def close(self) -> None:
        """End the events streams (their pages reconnect to whatever serves next)."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def watch(self, stop: threading.Event, report: Callable[[Built], None]) -> None:
        """Rebuild after every batch of changes in the watched folders until `stop` is set (it
        returns within a step of 50 ms); `report` is told each build. KeyboardInterrupt passes
        through."""
        from watchfiles import watch

        folders = [self.project / name for name in WATCHED if (self.project / name).is_dir()]
        # changes are gathered until 50 ms pass without one (at most 400 ms), so saving many
        # files at once is one rebuild; changes made during a rebuild make the next one
        for _changes in watch(*(folders or [self.project]), stop_event=stop, debounce=400, step=50):
            if stop.is_set():
                return
            report(self.rebuild())

    def server(self, port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
        """The preview's HTTP server, bound (OSError when the port is taken) but not yet serving."""
        server = http.server.ThreadingHTTPServer((host, port), partial(_Handler, self))
        server.daemon_threads = True  # an open events stream does not hold up Ctrl+C
        return server


def reload_script(number: int) -> str:
    """The script a served page gets: reload when a build other than `number` is announced.
    EventSource reconnects by itself, so a page outlives a restart of the preview."""
    return (f'<script>/* skillbrands preview */(function(){{var s=new EventSource("{EVENTS}");'
            f's.onmessage=function(e){{if(e.data!=="{number}"){{s.close();location.reload();}}}};}})();</script>')


def inject(page: bytes, script: str) -> bytes:
    """The page with the script before its last </body> (at its end when it has none)."""
    marker = page.rfind(b"</body>")
    at = marker if marker >= 0 else len(page)
    return page[:at] + script.encode("utf-8") + page[at:]


def error_page(built: Built) -> str:
    """The Chinese page shown instead of the site while the data has errors: every problem, escaped."""
    errors = [i for i in built.issues if i.severity == "error"]
    shown = (errors + [i for i in built.issues if i.severity != "error"])[:PAGE_ISSUES]
    rest = len(built.issues) - len(shown)
    rows = "\n".join(
        f"<tr><td>{_e(i.path)}</td><td>{'' if i.row is None else i.row}</td><td>{_e(i.field or '')}</td>"
        f"<td>{'错误' if i.severity == 'error' else '警告'}</td><td>{_e(i.message)}</td>"
        f"<td><code>{_e(i.code)}</code> {_e(CODES.get(i.code, ''))}</td></tr>" for i in shown)
    table = (f'<table><thead><tr><th scope="col">文件</th><th scope="col">行</th><th scope="col">列</th>'
             f'<th scope="col">级别</th><th scope="col">问题</th><th scope="col">类别</th></tr></thead>'
             f'<tbody>\n{rows}\n</tbody></table>') if shown else ""
    more = f"<p>另有 {rest:,} 个问题未列出；运行 python build.py validate 可查看全部。</p>" if rest > 0 else ""
    count = f"共 {len(errors):,} 个错误、{len(built.issues) - len(errors):,} 个警告。" if built.issues else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>预览：数据有错误</title>
<style>body{{font:16px/1.6 system-ui,sans-serif;margin:2rem;color:#222}}h1{{color:#a00;font-size:1.5rem}}
table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}}
th{{background:#f4f4f4}}</style></head>
<body>
<h1>预览暂停：{_e(built.message or '')}</h1>
<p>第 {built.number} 次生成未完成，网站没有更新。{count}改正下面的问题并保存后，预览会自动重新生成，本页会自动刷新。</p>
{table}
{more}
</body>
</html>
"""


#: the page served before the first build has finished (it reloads when the build is done)
WAITING = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>预览：正在生成</title></head>
<body><p>正在生成网站，完成后本页会自动刷新……</p></body></html>
"""


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the preview's site; HTML gets the reload script; the events stream; the error page."""

    def __init__(self, preview: Preview, *args, **kwargs):
        self.preview = preview
        super().__init__(*args, directory=str(preview.site), **kwargs)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the standard library's name
        """Quiet: the console shows the builds, not every request."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a reload fetches the new build
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        route = unquote(urlsplit(self.path).path)
        if route == EVENTS:
            return self._events()
        # the number is taken before the file is read: a build swaps its site in before its number
        # is announced, so a page is at worst newer than its number (one reload too many), never older
        latest = self.preview.latest
        number = latest.number if latest else 0
        if latest is None and _wants_html(route):
            return self._send(503, WAITING.encode("utf-8"), 0)
        if latest is not None and not latest.ok and _wants_html(route):
            return self._send(500, error_page(latest).encode("utf-8"), latest.number)
        path = Path(self.translate_path(self.path))
        if path.is_dir() and route.endswith("/"):
            path = path / "index.html"
        if path.suffix == ".html" and path.is_file():
            try:
                page = path.read_bytes()
            except OSError:  # replaced by a rebuild this instant
                return self.send_error(503)
            return self._send(200, page, number)
        missing = Path(self.directory) / "404.html"
        if not path.exists() and _wants_html(route) and missing.is_file():
            return self._send(404, missing.read_bytes(), number)
        return super().do_GET()

    def _send(self, status: int, page: bytes, number: int) -> None:
        body = inject(page, reload_script(number))
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        """Server-Sent Events: the latest build's number now, and again after every build."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.end_headers()
        seen = None
        try:
            while not self.preview.closed:
                number = self.preview.number if seen is None else self.preview.wait(seen, KEEPALIVE)
                self.wfile.write(f"data: {number}\n\n".encode() if number != seen else b": keep-alive\n\n")
                self.wfile.flush()
                seen = number
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page was closed or reloaded


def _wants_html(route: str) -> bool:
    """Whether an address is a page: a folder, an .html file, or a name without an extension."""
    name = route.rsplit("/", 1)[-1]
    return route.endswith("/") or name.endswith(".html") or "." not in name

