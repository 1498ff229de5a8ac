"""Markdown pages from content/: one page per file at /<slug>/, HTML sanitised with nh3.

Staff write these pages; whatever HTML they paste (a <script>, an onclick, a
javascript: link) is removed, so a page can never run code on the public site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import markdown
import nh3

from .cells import unsafe_name
from .issues import Issue

#: URL paths the site itself uses; a content page may not take them.
RESERVED = {"assets", "brands", "data", "exits", "index", "institutions", "regions", "releases", "search"}
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_EXTENSIONS = ["meta", "tables", "fenced_code", "sane_lists", "toc"]


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
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            problem(f"{relpath} 不是 UTF-8 编码；请用 UTF-8 保存。")
            continue
        converter = markdown.Markdown(extensions=_EXTENSIONS, output_format="html")
        body = converter.convert(text)
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
        pages.append(ContentPage(slug, title, sanitise(body), relpath, order))
    pages.sort(key=lambda page: (page.order, page.slug))
    return pages, issues


def sanitise(html: str) -> str:
    """Keep ordinary formatting, tables and links; drop scripts, styles and event handlers."""
    return nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS | {"table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "hr"},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
