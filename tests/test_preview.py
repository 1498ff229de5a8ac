"""`build.py serve` as a clerk uses it, over real HTTP: the site, a saved edit shown, a broken
file shown as a page of problems, the recovery, Ctrl+C; and the progress line of build."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest
from bs4 import BeautifulSoup

from browser import CHROMIUM, chromium
from conftest import copy_sample, unfreeze
from skillbrands.issues import Issue
from skillbrands.preview import EVENTS, Built, error_page, inject, reload_script
from skillbrands.progress import STAGES

REPO = Path(__file__).resolve().parent.parent
BUILD = str(REPO / "build.py")
#: how long a build of the sample may take on a loaded 2-core machine
PATIENCE = 90.0


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The bundled sample without its frozen editions, so any figure may be edited."""
    return unfreeze(copy_sample(tmp_path / "project"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    """(status, body) of a GET; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def until(check: Callable[[], object], what: str, timeout: float = PATIENCE) -> object:
    """Poll `check` until it returns something true; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except OSError:  # not listening yet
            found = None
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


class Served:
    def __init__(self, process: subprocess.Popen, url: str, tmp: Path):
        self.process, self.url, self.tmp = process, url, tmp

    def folders(self) -> list[Path]:
        return sorted(self.tmp.glob("skillbrands-preview-*"))

    def stop(self) -> str:
        """Ctrl+C, and what the console showed."""
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=30)
        return out


@pytest.fixture
def serve(project: Path, tmp_path: Path) -> Iterator[Callable[[], Served]]:
    started: list[Served] = []

    def start() -> Served:
        tmp = tmp_path / "tmp"  # the preview's temporary folder goes here (TMPDIR)
        tmp.mkdir(exist_ok=True)
        port = free_port()
        process = subprocess.Popen([sys.executable, BUILD, "serve", "--project", str(project), "--port", str(port)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "TMPDIR": str(tmp)})
        started.append(Served(process, f"http://127.0.0.1:{port}", tmp))
        return started[-1]

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.communicate()


def page_or_none(url: str, status: int = 200) -> BeautifulSoup | None:
    code, body = get(url)
    return BeautifulSoup(body, "html.parser") if code == status else None


def problems(soup: BeautifulSoup) -> list[dict[str, str]]:
    """The error page's table as {文件, 行, 列, 问题} per row."""
    heads = [th.get_text(strip=True) for th in soup.select("table thead th")]
    return [dict(zip(heads, (td.get_text(strip=True) for td in tr.select("td")))) for tr in soup.select("table tbody tr")]


def test_serve_shows_edits_errors_and_recovers(project: Path, serve) -> None:
    served = serve()
    home = until(lambda: page_or_none(served.url + "/"), "the first build")
    assert home.select_one("title").get_text() == _built_title(served)
    # the reload script is in the response, never in the built files
    assert EVENTS in str(home.select("script"))
    site = served.folders()[0] / "site"
    built_pages = list(site.rglob("*.html"))
    assert len(built_pages) > 100 and not [p for p in built_pages if EVENTS in p.read_text("utf-8")]
    assert not (project / "output").exists()  # the preview never builds into output/
    assert _events(served.url)[0] == "1"

    # a saved edit is served without restarting
    about = project / "content" / "about.md"
    about.write_text(re.sub(r"^title: .*$", "title: 预览改动后的标题", about.read_text("utf-8"), count=1,
                            flags=re.M), encoding="utf-8")
    edited = until(lambda: (s := page_or_none(served.url + "/about/")) and "预览改动后的标题" in s.h1.get_text() and s,
                   "the edited page")
    assert EVENTS in str(edited.select("script"))
    until(lambda: int(_events(served.url)[0]) >= 2, "an open page told to reload")

    # a broken figure: every page is the list of problems, with file, row, column and message
    outcomes = project / "datasets" / "outcomes.csv"
    original = outcomes.read_text("utf-8-sig")
    lines = original.splitlines(keepends=True)
    cells = lines[1].split(",")
    lines[1] = ",".join([cells[0], cells[1], "-5", *cells[3:]])
    outcomes.write_text("".join(lines), encoding="utf-8")
    broken = until(lambda: page_or_none(served.url + "/", 500), "the error page")
    assert "数据有错误" in broken.h1.get_text()
    assert {"文件": "datasets/outcomes.csv", "行": "2", "列": "trainees"}.items() <= problems(broken)[0].items()
    assert "-5" in problems(broken)[0]["问题"] and "负数" in problems(broken)[0]["问题"]
    assert page_or_none(served.url + "/brands/", 500) is not None  # any page, not only the home page
    assert EVENTS in str(broken.select("script"))  # it reloads itself when the file is fixed

    # fixed: the site is back
    outcomes.write_text(original, encoding="utf-8")
    back = until(lambda: page_or_none(served.url + "/"), "the site after the fix")
    assert back.select_one("title").get_text() == home.select_one("title").get_text()

    console = served.stop()
    assert served.process.returncode == 0, console
    assert "预览已停止" in console and "未完成" in console
    assert served.folders() == []  # the temporary folder is removed


def _built_title(served: Served) -> str:
    site = served.folders()[0] / "site"
    return BeautifulSoup((site / "index.html").read_text("utf-8"), "html.parser").select_one("title").get_text()


def _events(url: str) -> list[str]:
    """The first event of the events stream: the latest build's number."""
    with urllib.request.urlopen(url + EVENTS, timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        line = stream.readline().decode()
    assert line.startswith("data: ")
    return [line.removeprefix("data: ").strip()]


def test_a_port_in_use_is_refused_in_chinese(project: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        tmp = tmp_path / "tmp"
        tmp.mkdir()
        result = subprocess.run([sys.executable, BUILD, "serve", "--project", str(project), "--port", str(port)],
                                capture_output=True, text=True, timeout=60, env={**os.environ, "TMPDIR": str(tmp)})
    assert result.returncode == 1
    assert f"无法在端口 {port} 上启动预览：这个端口已被其他程序占用" in result.stdout + result.stderr
    assert list(tmp.iterdir()) == []


def test_the_error_page_escapes_what_the_data_says() -> None:
    issue = Issue("datasets/<b>.csv", 3, "name", "type-error", "error", "“<script>alert(1)</script>”不是数字")
    soup = BeautifulSoup(error_page(Built(7, 0.1, message="数据有错误", issues=[issue])), "html.parser")
    assert soup.select("script") == []
    assert problems(soup) == [{"文件": "datasets/<b>.csv", "行": "3", "列": "name", "级别": "错误",
                               "问题": "“<script>alert(1)</script>”不是数字", "类别": "type-error类型不符"}]
    page = inject(b"<html><body><p>x</p></body></html>", reload_script(7))
    assert page.index(b"<script>") > page.index(b"<p>x</p>") and page.endswith(b"</body></html>")


def test_a_crash_in_a_rebuild_is_a_page_not_the_end(project: Path, tmp_path: Path, monkeypatch) -> None:
    from skillbrands import preview as module

    def crash(*args, **kwargs):
        raise RuntimeError("磁盘坏了")

    preview = module.Preview(project, tmp_path / "preview")
    monkeypatch.setattr(module, "build_site", crash)
    built = preview.rebuild()
    assert (built.number, built.ok) == (1, False) and "RuntimeError: 磁盘坏了" in built.message
    assert "RuntimeError: 磁盘坏了" in BeautifulSoup(error_page(built), "html.parser").h1.get_text()
    monkeypatch.undo()
    assert preview.rebuild().ok and preview.number == 2 and (preview.site / "index.html").is_file()
    # saved again without a change: the open pages are not reloaded
    again = preview.rebuild()
    assert again.ok and again.unchanged and preview.number == 2


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_an_open_page_reloads_itself(project: Path, serve) -> None:
    """In a real browser, with nobody touching it: the edit, then the problems, then the site again."""
    served = serve()
    until(lambda: page_or_none(served.url + "/about/"), "the first build")
    about = project / "content" / "about.md"
    with chromium() as browser:
        page = browser.new_page()
        page.goto(served.url + "/about/")
        page.evaluate("window.untouched = true")  # gone once the page has reloaded
        page.wait_for_function("() => window.untouched && document.readyState === 'complete'")
        time.sleep(0.5)  # the events stream is open
        about.write_text(re.sub(r"^title: .*$", "title: 浏览器中的新标题", about.read_text("utf-8"), count=1,
                                flags=re.M), encoding="utf-8")
        page.wait_for_function("() => document.querySelector('h1').textContent.includes('浏览器中的新标题')",
                               timeout=PATIENCE * 1000)
        assert page.evaluate("window.untouched") is None
        original = about.read_text("utf-8")
        about.write_text("order: 不是数字\n" + original, encoding="utf-8")
        page.wait_for_function("() => document.title.includes('数据有错误')", timeout=PATIENCE * 1000)
        assert "content/about.md" in page.inner_text("table")
        about.write_text(original, encoding="utf-8")
        page.wait_for_function("() => document.querySelector('h1').textContent.includes('浏览器中的新标题')",
                               timeout=PATIENCE * 1000)
    served.stop()


# -- the progress line of build ------------------------------------------------------------

#: what only the progress line draws: escape sequences, the bar, the spinner
DRAWN = re.compile("\x1b|━|[\u2800-\u28ff]")


def in_terminal(args: list[str]) -> str:
    """What a command writes to a pseudo-terminal (stdout and stderr)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, BUILD, *args], stdin=follower, stdout=follower, stderr=follower,
                               env={**os.environ, "TERM": "xterm-256color"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=PATIENCE) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_build_in_a_terminal_shows_progress(tmp_path: Path) -> None:
    shown = in_terminal(["build", "--out", str(tmp_path / "site")])
    assert DRAWN.search(shown)
    assert {STAGES["render"], STAGES["search"]} <= {label for label in STAGES.values() if label in shown}
    assert "已生成" in shown


def test_build_in_a_pipe_shows_no_progress(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, BUILD, "build", "--out", str(tmp_path / "site")],
                            capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert not DRAWN.search(result.stdout + result.stderr)
    assert [line for line in result.stdout.splitlines() if line] == [result.stdout.strip()]
    assert result.stdout.startswith("已生成")


def test_json_in_a_terminal_stays_json(tmp_path: Path) -> None:
    shown = in_terminal(["build", "--out", str(tmp_path / "site"), "--format", "json"])
    assert not DRAWN.search(shown)
    start, end = shown.index("["), shown.rindex("]") + 1
    assert isinstance(json.loads(shown[start:end]), list)
    assert shown[end:].strip().startswith("已生成")  # the summary goes to stderr, after the JSON


def test_import_in_a_terminal_shows_progress_and_a_pipe_does_not(project: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    made = subprocess.run([sys.executable, BUILD, "template", "--project", str(project), "--out", str(book)],
                          capture_output=True, text=True, timeout=PATIENCE)
    assert made.returncode == 0, made.stdout + made.stderr
    shown = in_terminal(["import", str(book), "--project", str(project), "--dry-run"])
    assert DRAWN.search(shown)
    assert {STAGES["sheets"], STAGES["read"]} <= {label for label in STAGES.values() if label in shown}
    piped = subprocess.run([sys.executable, BUILD, "import", str(book), "--project", str(project), "--dry-run"],
                           capture_output=True, text=True, timeout=PATIENCE)
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert not DRAWN.search(piped.stdout + piped.stderr)
    assert "--dry-run" in piped.stdout
