"""URLs the site renders, remote resources, and the limits of Markdown pages (issue 20, points 4, 5, 10).

Every URL that reaches a page -- package metadata, data cells, Markdown links and
images -- may only be http, https or mailto (relative links only in content); an
image or other resource from another host is an error; a page beyond the Markdown
limits is an error at its file and line, found before Python-Markdown runs, in
bounded time and memory. Issues are compared as whole sets: a test fails when the
expected issue is missing and when anything else is reported.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from build import cli
from skillbrands import content as content_module
from skillbrands import pipeline
from skillbrands.content import MAX_CONTENT_BYTES, MAX_HTML_DEPTH, MAX_MARKUP_SCAN, MAX_NESTING, MAX_PARAGRAPH_CHARS
from skillbrands.issues import CODES
from skillbrands.pipeline import build_site, check_project
from skillbrands.render import make_environment
from skillbrands.urls import URL_FLAG, url_problem

PACKAGE = "datasets/datapackage.json"
INSTITUTIONS = "datasets/institutions.csv"


def tuples(issues) -> set[tuple[str, int | None, str | None, str]]:
    return {issue.as_tuple() for issue in issues}


def edit_package(project: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the project's datapackage.json in place (the repository's own, copied by make_project)."""
    path = project / PACKAGE
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8")


def website_field(descriptor: dict[str, Any]) -> dict[str, Any]:
    institutions = next(r for r in descriptor["resources"] if r["name"] == "institutions")
    return next(f for f in institutions["schema"]["fields"] if f["name"] == "website")


def write_page(project: Path, name: str, body: str) -> Path:
    path = project / "content" / name
    path.write_text(f"title: 测试页\n\n{body}", encoding="utf-8")
    return path


def hrefs(folder: Path) -> list[str]:
    found = []
    for page in folder.rglob("*.html"):
        html = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        found += [tag.get("href") or tag.get("src") for tag in html.select("[href], [src]")]
    return found


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_codes_are_documented() -> None:
    for code in ("url-not-allowed", "remote-resource", "content-too-large", "content-too-deep",
                 "content-paragraph-too-long", "content-too-complex"):
        assert CODES[code]


# -- the decision ---------------------------------------------------------------------

ALLOWED = ["https://creativecommons.org/licenses/by/4.0/", "http://example.cn", "HTTPS://EXAMPLE.CN/",
           "mailto:contact@example.cn", "MailTo:contact@example.cn", "https://例子.中国/路径",
           "https://example.cn/a b"]
REFUSED = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
           "java\nscript:alert(1)", "\x01javascript:alert(1)", "javascript\x00:alert(1)", "%6Aavascript:alert(1)",
           "ｊavascript:alert(1)", "vbscript:msgbox(1)", "data:text/html,<script>", "file:///etc/passwd",
           "C:\\Users\\a.pdf", "//evil.example.com/", "\\\\evil.example.com/", "/\\evil.example.com/",
           "https://", "https:///evil.example.com", "https:evil.example.com", "mailto:", "tel:123",
           "https://example.cn/\u3000"]
RELATIVE = ["../data/index.html", "#part", "logo.png", "?page=2", "a/b:c", ""]


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed_urls(url: str) -> None:
    assert url_problem(url) is None and url_problem(url, relative=True) is None


@pytest.mark.parametrize("url", REFUSED)
def test_refused_urls_everywhere(url: str) -> None:
    assert url_problem(url) and url_problem(url, relative=True)


@pytest.mark.parametrize("url", RELATIVE)
def test_relative_links_only_in_content(url: str) -> None:
    assert url_problem(url, relative=True) is None
    assert url_problem(url)


def test_message_quotes_only_an_excerpt_and_shows_invisible_characters() -> None:
    long = "javascript:" + "a" * 5_000_000
    message = url_problem(long)
    assert len(message) < 200 and "5,000,011" in message
    assert "\\u0009" in url_problem("java\tscript:alert(1)")


# -- package metadata -----------------------------------------------------------------

def test_javascript_licence_path_is_an_error_and_nothing_is_published(make_project) -> None:
    project = make_project()
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--project", str(project)]).exit_code == 0
    before = tree_bytes(project / "output")

    def poison(descriptor: dict[str, Any]) -> None:
        descriptor["licenses"][0]["path"] = "javascript:alert(document.domain)"
        descriptor["sources"][0]["path"] = " JaVaScRiPt:alert(1)"
        descriptor["homepage"] = "//evil.example.com/"
        descriptor["contributors"] = [{"title": "示例", "path": "vbscript:msgbox(1)"}]

    edit_package(project, poison)
    assert tuples(check_project(project)) == {
        (PACKAGE, None, "licenses[0].path", "url-not-allowed"),
        (PACKAGE, None, "sources[0].path", "url-not-allowed"),
        (PACKAGE, None, "homepage", "url-not-allowed"),
        (PACKAGE, None, "contributors[0].path", "url-not-allowed"),
    }
    result = runner.invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 1 and "licenses[0].path" in result.output and "javascript:" in result.output
    result = runner.invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert tree_bytes(project / "output") == before
    assert not any(url.strip().lower().startswith(("javascript:", "vbscript:")) for url in hrefs(project / "output"))


def test_package_with_allowed_urls_builds(make_project) -> None:
    project = make_project()

    def allowed(descriptor: dict[str, Any]) -> None:
        descriptor["homepage"] = "https://example.cn/"
        descriptor["sources"].append({"title": "联系邮箱", "path": "mailto:data@example.cn"})
        descriptor["licenses"].append({"name": "no-path", "title": "不带网址的许可"})

    edit_package(project, allowed)
    assert check_project(project) == []
    build_site(project, project / "output")
    data = BeautifulSoup((project / "output" / "data" / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = [a["href"] for a in data.select("main a")]
    assert "mailto:data@example.cn" in links and "https://creativecommons.org/licenses/by/4.0/" in links
    assert "不带网址的许可" in data.get_text()


# -- data cells -----------------------------------------------------------------------

def test_website_column_is_marked_as_url_in_the_schema(repo: Path) -> None:
    descriptor = json.loads((repo / PACKAGE).read_text(encoding="utf-8"))
    assert website_field(descriptor).get(URL_FLAG) is True


def test_website_that_passes_the_pattern_but_is_no_url_is_an_error(make_project) -> None:
    project = make_project("url_website_incomplete")  # https:///bt-school.example.cn/
    assert tuples(check_project(project)) == {(INSTITUTIONS, 2, "website", "url-not-allowed")}


def test_javascript_website_is_reported_once(make_project) -> None:
    project = make_project("url_website_javascript")  # the column's pattern already refuses it
    assert tuples(check_project(project)) == {(INSTITUTIONS, 2, "website", "pattern-mismatch")}


@pytest.mark.parametrize("value", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "//evil.example.com/",
                                   "bt-school.example.cn", "data:text/html;charset=utf-8"])
def test_url_column_without_pattern_still_refuses(make_project, value: str) -> None:
    """The flag alone protects a URL column: the next one needs no pattern of its own."""
    project = make_project()
    edit_package(project, lambda d: website_field(d).pop("constraints"))
    path = project / INSTITUTIONS
    path.write_text(path.read_text(encoding="utf-8").replace("https://bt-school.example.cn/", value),
                    encoding="utf-8")
    assert tuples(check_project(project)) == {(INSTITUTIONS, 2, "website", "url-not-allowed")}


def test_mailto_and_unflagged_columns_are_fine(make_project) -> None:
    project = make_project()
    edit_package(project, lambda d: website_field(d).pop("constraints"))
    path = project / INSTITUTIONS
    path.write_text(path.read_text(encoding="utf-8").replace("https://bt-school.example.cn/", "mailto:a@example.cn"),
                    encoding="utf-8")
    assert check_project(project) == []


def test_templates_never_render_an_unchecked_javascript_url(make_project, monkeypatch) -> None:
    """Defence in depth: with every check bypassed, the templates still refuse the URL."""
    project = make_project()
    edit_package(project, lambda d: (website_field(d).pop("constraints"),
                                     d["licenses"][0].update(path="javascript:alert(1)"),
                                     d["sources"][0].update(path="JAVASCRIPT:alert(2)")))
    path = project / INSTITUTIONS
    path.write_text(path.read_text(encoding="utf-8").replace("https://bt-school.example.cn/", "javascript:alert(3)"),
                    encoding="utf-8")
    monkeypatch.setattr(pipeline, "check_package_urls", lambda descriptor: [])
    monkeypatch.setattr(pipeline, "check_cell_urls", lambda *args: [])
    build_site(project, project / "output")
    urls = hrefs(project / "output")
    assert urls and not any("javascript" in url.lower() for url in urls)
    page = BeautifulSoup((project / "output" / "institutions" / "bt-school" / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    assert page.select_one("a[rel~=nofollow]")["href"] == "#"


def test_safe_url_filter_keeps_strict_undefined(repo: Path) -> None:
    env = make_environment(repo / "site_templates")
    assert env.from_string("{{ u | safe_url }}").render(u="https://example.cn/") == "https://example.cn/"
    assert env.from_string("{{ u | safe_url }}").render(u=" javascript:alert(1)") == "#"
    with pytest.raises(Exception):
        env.from_string("{{ missing | safe_url }}").render()


# -- content links and remote resources -----------------------------------------------

LINKS = "content/links.md"
REMOTE = "content/remote.md"


def test_bad_links_in_content_are_errors_at_their_lines(make_project) -> None:
    project = make_project("url_content_bad")
    assert tuples(check_project(project)) == {
        (LINKS, 3, None, "url-not-allowed"),  # [脚本](javascript:…)
        (LINKS, 5, None, "url-not-allowed"),  # " JaVaScRiPt:" in raw HTML
        (LINKS, 7, None, "url-not-allowed"),  # java&#x09;script:
        (LINKS, 9, None, "url-not-allowed"),  # data:
        (LINKS, 11, None, "url-not-allowed"),  # vbscript:
        (LINKS, 13, None, "url-not-allowed"),  # %6Aavascript:
        (LINKS, 15, None, "url-not-allowed"),  # <blockquote cite="javascript:…">, which nh3 keeps
        (LINKS, 17, None, "url-not-allowed"),  # //evil.example.com
        (LINKS, 19, None, "url-not-allowed"),  # file:
    }


def test_entity_encoded_scheme_in_a_markdown_link_is_an_error(make_project) -> None:
    project = make_project()
    write_page(project, "links.md", "[编码](&#106;avascript:alert(1))\n")
    assert [i.code for i in check_project(project)] == ["url-not-allowed"]


def test_remote_images_and_resources_are_errors(make_project) -> None:
    project = make_project("url_content_remote")
    assert tuples(check_project(project)) == {
        (REMOTE, 3, None, "remote-resource"),  # ![像素](https://tracker…)
        (REMOTE, 5, None, "remote-resource"),  # <img src="//tracker…">
        (REMOTE, 7, None, "remote-resource"),  # srcset
        (REMOTE, 9, None, "remote-resource"),  # <IMG SRC="HTTP://…">
        (REMOTE, 11, None, "remote-resource"),  # <video src> and <video poster>, twice on one line
        (REMOTE, 13, None, "remote-resource"),  # <svg><image href>
    }
    assert len(check_project(project)) == 7
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1 and "tracker.example.com" in result.output and "Traceback" not in result.output
    assert not (project / "output").exists()


def test_relative_images_and_links_are_fine(make_project) -> None:
    project = make_project("url_content_ok")
    assert check_project(project) == []
    build_site(project, project / "output")
    page = BeautifulSoup((project / "output" / "links" / "index.html").read_text(encoding="utf-8"), "html.parser")
    article = page.select_one("article")
    assert [img["src"] for img in article.select("img")] == ["../assets/logo.png", "../assets/chart.png"]
    assert [a["href"] for a in article.select("a")] == [
        "../data/index.html", "#part", "../about/index.html", "https://www.mohrss.gov.cn/",
        "http://example.cn/a?b=1&c=2", "mailto:contact@example.cn", "https://example.cn/"]
    assert "in-code.gif" in article.select_one("pre").get_text()  # code is text, not an image


# -- Markdown limits ------------------------------------------------------------------

def nested_list(depth: int) -> str:
    return "\n".join("    " * level + f"- 第{level + 1}层" for level in range(depth)) + "\n"


def test_list_nested_at_the_limit_renders(make_project) -> None:
    project = make_project()
    write_page(project, "deep.md", nested_list(MAX_NESTING))
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 0, result.output
    page = BeautifulSoup((project / "output" / "deep" / "index.html").read_text(encoding="utf-8"), "html.parser")
    innermost = page.select("article li")[-1]
    assert innermost.get_text(strip=True) == f"第{MAX_NESTING}层"
    assert len(innermost.find_parents("ul")) == MAX_NESTING


@pytest.mark.parametrize("body, line", [
    (nested_list(MAX_NESTING + 1), 3 + MAX_NESTING),  # title, blank line, then one line per level
    (">" * (MAX_NESTING + 1) + " 引用\n", 3),
    ("> " * (MAX_NESTING // 2) + "- " * (MAX_NESTING // 2 + 1) + "混合\n", 3),
    ("\t" * (MAX_NESTING + 1) + "- 制表符缩进\n", 3),
])
def test_nesting_over_the_limit_is_an_error(make_project, body: str, line: int) -> None:
    project = make_project()
    write_page(project, "deep.md", body)
    assert tuples(check_project(project)) == {("content/deep.md", line, None, "content-too-deep")}


@pytest.mark.parametrize("body, code", [
    ("\n".join("\t" * level + "- 项" for level in range(400)), "content-too-deep"),  # 80 KB
    (nested_list(2000), "content-too-large"),  # 8 MB of indentation
    ("- " * 2000 + "项", "content-too-deep"),
    (">" * 2000 + " 引用", "content-too-deep"),
])
def test_very_deep_nesting_fails_fast_without_traceback(make_project, body: str, code: str) -> None:
    """Before: RecursionError at 400 levels; 3.4 GB and 165 s at 2,000."""
    project = make_project()
    write_page(project, "deep.md", body)
    tracemalloc.start()
    start = time.perf_counter()
    for command in ("validate", "build"):
        result = CliRunner().invoke(cli, [command, "--project", str(project)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "content/deep.md" in result.output and code in result.output
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 30 and peak < 200 * 2**20
    assert not (project / "output").exists()


def test_html_nesting_over_the_limit_is_an_error(make_project) -> None:
    project = make_project()
    write_page(project, "ok.md", "<div>" * MAX_HTML_DEPTH + "内容" + "</div>" * MAX_HTML_DEPTH + "\n")
    assert check_project(project) == []
    write_page(project, "deep.md", "<div>" * (MAX_HTML_DEPTH + 1) + "内容\n")
    assert tuples(check_project(project)) == {("content/deep.md", None, None, "content-too-deep")}


def test_paragraph_at_the_limit_is_fine_and_one_more_character_is_an_error(make_project) -> None:
    project = make_project()
    text = "培训" * (MAX_PARAGRAPH_CHARS // 2)
    write_page(project, "long.md", f"第一段。\n\n{text}\n")
    assert check_project(project) == []
    write_page(project, "long.md", f"第一段。\n\n{text}字\n\n后面的段落。\n")
    issues = check_project(project)
    assert tuples(issues) == {("content/long.md", 5, None, "content-paragraph-too-long")}
    assert f"{MAX_PARAGRAPH_CHARS + 1:,}" in issues[0].message and len(issues[0].message) < 300


def test_lines_without_a_blank_line_between_are_one_paragraph(make_project) -> None:
    project = make_project()
    line = "培训" * 500
    write_page(project, "long.md", "\n".join([line] * (MAX_PARAGRAPH_CHARS // 1000 + 1)) + "\n")
    assert tuples(check_project(project)) == {("content/long.md", 3, None, "content-paragraph-too-long")}


def test_file_size_at_the_limit_is_fine_and_one_byte_more_is_an_error(make_project) -> None:
    project = make_project()
    head = "title: 大页面\n\n".encode()
    paragraph = ("培训品牌" * 200 + "\n\n").encode()  # 2,402 bytes, well inside the paragraph limit
    body = paragraph * ((MAX_CONTENT_BYTES - len(head)) // len(paragraph))
    data = head + body + b"x" * (MAX_CONTENT_BYTES - len(head) - len(body))
    assert len(data) == MAX_CONTENT_BYTES
    (project / "content" / "big.md").write_bytes(data)
    assert check_project(project) == []
    (project / "content" / "big.md").write_bytes(data + b"x")
    issues = check_project(project)
    assert tuples(issues) == {("content/big.md", None, None, "content-too-large")}
    assert f"{MAX_CONTENT_BYTES + 1:,}" in issues[0].message


def test_huge_file_is_refused_before_it_is_read(make_project, monkeypatch) -> None:
    project = make_project()
    with (project / "content" / "huge.md").open("wb") as handle:
        handle.truncate(2 * 2**30)  # 2 GB, sparse: reading it would exhaust memory
    read_text = Path.read_text

    def guarded(path: Path, *args: Any, **kwargs: Any) -> str:
        assert path.name != "huge.md", "the 2 GB file was read"
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", guarded)
    _, issues = content_module.load_content(project)
    assert tuples(issues) == {("content/huge.md", None, None, "content-too-large")}


def test_unmatched_brackets_beyond_the_budget_are_an_error(make_project) -> None:
    project = make_project()
    filler = "字" * 9_000
    count = MAX_MARKUP_SCAN // 9_000 + 1  # each unmatched "[" makes Python-Markdown rescan the paragraph
    write_page(project, "brackets.md", f"正常的段落。\n\n{'[' * count}{filler}\n")
    assert tuples(check_project(project)) == {("content/brackets.md", 5, None, "content-too-complex")}
    write_page(project, "brackets.md", f"正常的段落。\n\n{'[' * (count // 2)}{filler}\n")
    assert check_project(project) == []


def test_many_ordinary_links_are_not_markup_cost(make_project) -> None:
    project = make_project()
    links = "\n".join(f"- [示例机构{i}](https://example.cn/{i}/)（{i}）<b>重点</b>" for i in range(150))
    write_page(project, "many.md", links + "\n\n" + links + "\n")
    assert check_project(project) == []


def test_the_800_kb_paragraph_fails_fast(make_project) -> None:
    """Before: an 800 KB paragraph took 5 minutes."""
    project = make_project()
    write_page(project, "big.md", "*培训* [品牌] " * 80_000)
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 1 and "content-too-large" in result.output
    assert time.perf_counter() - start < 30


def test_worst_markup_at_the_limits_stays_bounded(make_project) -> None:
    """Paragraphs just inside the limits, dense with the markup Python-Markdown is slowest on."""
    project = make_project()
    paragraph = ("*a* `b` [c](d) <b>e</b> \\* " * 400)[:MAX_PARAGRAPH_CHARS - 1]
    count = (MAX_CONTENT_BYTES - 100) // (len(paragraph) + 2)
    write_page(project, "dense.md", "\n\n".join([paragraph] * count) + "\n")
    start = time.perf_counter()
    assert check_project(project) == []
    assert time.perf_counter() - start < 30
