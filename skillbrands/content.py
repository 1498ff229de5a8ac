"""Markdown pages from content/: one page per file at /<slug>/, HTML sanitised with nh3.

Staff write these pages; whatever HTML they paste (a <script>, an onclick) is
removed, so a page can never run code on the public site. A link the site may not
render (`javascript:`, `data:`, any scheme but http, https, mailto) and an image or
other resource from another host are errors at the file and line, found on the
parsed HTML before and after nh3 (`urls.py`). Before Python-Markdown runs, a page
must stay within the limits below, so no page can exhaust the build's time, memory
or recursion depth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import markdown
import nh3
from markupsafe import escape

from .cells import unsafe_name
from .issues import EXCERPT_CHARS, Issue, excerpt
from .urls import ALLOWED_SCHEMES, AttributeUrls, HtmlUrl, html_url_problems, scan_html

#: URL paths the site itself uses; a content page may not take them.
RESERVED = {"assets", "brands", "data", "exits", "focus", "index", "institutions", "occupations", "regions",
            "releases", "search", "tiers", "years"}
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_EXTENSIONS = ["meta", "tables", "fenced_code", "sane_lists", "toc"]

# Limits, measured with Python-Markdown 3.11 on a 2-core machine (README, "Links and
# remote resources"): a realistic 100 KB page converts in 0.1 s, the densest markup in 2 s;
# any one paragraph at these limits stays well under a second.
#: largest page file, in bytes (checked before the file is read)
MAX_CONTENT_BYTES = 100 * 1024
#: deepest nesting of lists and blockquotes (one level per `>`, list marker or 4 spaces)
MAX_NESTING = 20
#: longest paragraph: characters in a run of non-blank lines (a table or list counts whole)
MAX_PARAGRAPH_CHARS = 10_000
#: Python-Markdown rescans the rest of a paragraph for each unmatched "[", "(" or "<";
#: the sum over a file of those distances ("<" weighs 1/32) may not exceed this
MAX_MARKUP_SCAN = 200_000
#: deepest nesting of the HTML Markdown makes (nh3's time grows with its square)
MAX_HTML_DEPTH = 100

_PREFIX = re.compile(r"(?:[ \t]*+(?:>|[-*+](?=[ \t])|[0-9]{1,9}[.)](?=[ \t])))*+[ \t]*+")
_LEVEL = re.compile(r">|[-*+0-9]+")
_MARKUP = re.compile(r"[\[\]()<>]")


@dataclass(frozen=True, slots=True)
class ContentPage:
    slug: str
    title: str
    html: str  # sanitised
    source: str  # project-relative path, for the page footer and error messages
    order: int  # position in the navigation (from `order:` front matter, then slug)


def load_content(project: Path) -> tuple[list[ContentPage], list[Issue]]:
    folder = project / "content"
    pages: list[ContentPage] = []
    issues: list[Issue] = []
    if not folder.is_dir():
        return pages, issues
    for path in sorted(folder.iterdir()):
        relpath = f"content/{path.name}"
        if path.suffix != ".md":
            continue

        def problem(message: str) -> None:
            issues.append(Issue(relpath, None, None, "content-invalid", "error", message))

        if path.is_symlink():
            continue  # reported by pipeline.check_paths, never followed
        if not path.is_file():
            problem(f"{relpath} 是目录，不是 Markdown 文件。")
            continue
        slug = path.stem
        if not _SLUG.fullmatch(slug):
            problem(f"文件名“{path.name}”不能用作网址；请只用小写字母、数字和连字符，如 about.md。")
            continue
        if slug in RESERVED:
            problem(f"文件名“{path.name}”与网站自带的栏目 /{slug}/ 冲突，请改名。")
            continue
        unsafe = unsafe_name(slug)
        if unsafe:
            problem(f"文件名“{path.name}”{unsafe[1]}，请改名。")
            continue
        size = path.stat().st_size
        if size > MAX_CONTENT_BYTES:
            issues.append(Issue(relpath, None, None, "content-too-large", "error",
                                f"{relpath} 有 {size:,} 字节，超过页面文件 {MAX_CONTENT_BYTES // 1024} KB 的上限；"
                                "请把内容拆成几个页面，或把大表格放进数据下载。"))
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            problem(f"{relpath} 不是 UTF-8 编码；请用 UTF-8 保存。")
            continue
        over = check_limits(text, relpath)
        if over:
            issues += over
            continue
        converter = markdown.Markdown(extensions=_EXTENSIONS, output_format="html")
        body = converter.convert(text)
        scan = scan_html(body)
        if scan.depth > MAX_HTML_DEPTH:
            issues.append(Issue(relpath, None, None, "content-too-deep", "error",
                                f"{relpath} 中的 HTML 标签嵌套了 {scan.depth} 层，超过 {MAX_HTML_DEPTH} 层的上限；"
                                "请检查是否有没有关闭的标签（如 <div>）。"))
            continue
        kept = AttributeUrls()
        html = sanitise(body, kept)
        found = check_urls(text, relpath, scan.urls, kept.urls)
        if found:
            issues += found
            continue
        meta = getattr(converter, "Meta", {})
        title = " ".join(meta.get("title", [])).strip()
        if not title:
            problem(f"{relpath} 缺少标题：请在第一行写“title: 页面标题”，空一行后再写正文。")
            continue
        try:
            order = int(" ".join(meta.get("order", ["100"])))
        except ValueError:
            problem(f"{relpath} 的 order 应为整数。")
            continue
        pages.append(ContentPage(slug, title, scrolling_tables(html, title), relpath, order))
    pages.sort(key=lambda page: (page.order, page.slug))
    return pages, issues


_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_HEADING = re.compile(r"<h[2-4][^>]*>(.*?)</h[2-4]>", re.S)
_TAG = re.compile(r"<[^>]+>")


def scrolling_tables(html: str, title: str) -> str:
    """Each table of sanitised HTML inside a focusable, labelled region that scrolls sideways on
    a phone (the page itself never does), named after the heading above it.

    Runs after nh3, whose output has bare `<table>` tags (it keeps no attribute on them) and
    escaped text, so the label taken from a heading is already safe inside an attribute.
    """
    def wrap(match: re.Match[str]) -> str:
        headings = _HEADING.findall(html, 0, match.start())
        # heading text from nh3 is escaped except for quotes; the title is plain text
        name = _TAG.sub("", headings[-1]).strip().replace('"', "&quot;") if headings else str(escape(title))
        return (f'<p class="swipe-hint" aria-hidden="true">表格较宽时可左右滑动查看 →</p>'
                f'<div class="table-wrap" role="region" aria-label="表格：{name}（可左右滑动）" tabindex="0">'
                f"{match.group(0)}</div>")

    return _TABLE.sub(wrap, html)


def sanitise(html: str, attribute_filter: Callable[[str, str, str], str | None] | None = None) -> str:
    """Keep ordinary formatting, tables and links; drop scripts, styles and event handlers.

    `attribute_filter` sees every attribute nh3 parsed (an `AttributeUrls` records the URLs).
    """
    return nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS | {"table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "hr"},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer",
        attribute_filter=attribute_filter,
    )


def check_limits(text: str, relpath: str) -> list[Issue]:
    """Nesting, paragraph length and unmatched markup, in one pass over the lines, before
    Python-Markdown sees the text (whose time and recursion they bound)."""
    issues = []
    deep: list[tuple[int, int]] = []  # (line, depth) of lines nested too deep
    scan_total, worst = 0, (0, 1)  # markup scan of the file; (cost, first line) of the worst paragraph
    lines = text.split("\n")
    start = None
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip():
            if start is None:
                start = number
            prefix = _PREFIX.match(line).group()  # possessive: linear even on a line of spaces
            if prefix:
                depth = len(_LEVEL.findall(prefix)) + (prefix.count(" ") + 4 * prefix.count("\t")) // 4
                if depth > MAX_NESTING:
                    deep.append((number, depth))
            continue
        if start is None:
            continue
        paragraph = "\n".join(lines[start - 1:number - 1])
        if len(paragraph) > MAX_PARAGRAPH_CHARS:
            issues.append(Issue(relpath, start, None, "content-paragraph-too-long", "error",
                                f"从这一行起的段落有 {len(paragraph):,} 个字符，超过 {MAX_PARAGRAPH_CHARS:,} 个字符的上限"
                                f"（开头：“{excerpt(paragraph[:EXCERPT_CHARS])}”）；请空一行分成几段，"
                                "表格或列表太长时请分成几个。"))
        else:
            cost = _markup_scan(paragraph)
            scan_total += cost
            worst = max(worst, (cost, start))
        start = None
    if deep:
        number, depth = deep[0]
        more = f"（共 {len(deep)} 行超过）" if len(deep) > 1 else ""
        issues.append(Issue(relpath, number, None, "content-too-deep", "error",
                            f"这一行的列表或引用嵌套了 {depth} 层，超过 {MAX_NESTING} 层的上限{more}；"
                            "每 4 个空格缩进、每个“>”或列表符号算一层，请减少嵌套。"))
    if scan_total > MAX_MARKUP_SCAN:
        issues.append(Issue(relpath, worst[1], None, "content-too-complex", "error",
                            f"{relpath} 中没有配对的“[”“(”或“<”太多（或配对的两端相隔太远），转换会非常慢；"
                            "最多的是从这一行起的段落。请删去多余的括号，或写成全角的【】（）《》。"))
    return issues


def _markup_scan(paragraph: str) -> int:
    """How far Python-Markdown scans for the partners of this paragraph's "[", "(" and "<"."""
    squares: list[int] = []
    rounds: list[int] = []
    angles: list[int] = []
    cost = angle_cost = 0
    for match in _MARKUP.finditer(paragraph):
        char, pos = match.group(), match.start()
        if char == "[":
            squares.append(pos)
        elif char == "(":
            rounds.append(pos)
        elif char == "<":
            angles.append(pos)
        elif char == "]" and squares:
            cost += pos - squares.pop()
        elif char == ")" and rounds:
            cost += pos - rounds.pop()
        elif char == ">" and angles:
            angle_cost += sum(pos - p for p in angles)
            angles.clear()
    end = len(paragraph)
    cost += sum(end - p for p in squares) + sum(end - p for p in rounds)
    return cost + (angle_cost + sum(end - p for p in angles)) // 32


def check_urls(text: str, relpath: str, before: list[HtmlUrl], after: list[HtmlUrl]) -> list[Issue]:
    """Links and resources of a page: before nh3 (what the author wrote, including what nh3
    will drop) and after (what the site would serve); each problem once, at its source line."""
    issues = []
    seen = set()
    for urls in (before, after):
        for item, code, message in html_url_problems(urls):
            if (code, item.url) in seen:
                continue
            seen.add((code, item.url))
            line = _line_of(text, item.url) or _line_of(text, item.raw)
            issues.append(Issue(relpath, line, None, code, "error", message))
    return issues


def _line_of(text: str, needle: str) -> int | None:
    """The first line of `text` where `needle` appears as written (None if it was encoded)."""
    index = text.find(needle) if needle else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else None
