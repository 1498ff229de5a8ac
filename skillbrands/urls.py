"""Which URLs the site may render: http, https and mailto only (and relative links in content).

One decision, `url_problem`, serves every place a URL reaches a page: the package
metadata (`datasets/datapackage.json`), data cells of columns marked
`"skillbrands:url": true` in the schema, and the links and images of `content/`
pages (found in parsed HTML: `scan_html` before nh3, `AttributeUrls` inside it).
`safe_url` is the same decision as
a template filter, so even a value no check has seen never becomes a `javascript:`
link. The scheme is read the way a browser reads it (surrounding spaces and control
characters stripped, tabs and newlines inside removed, any letter case), so
`" JaVa\\tScript:"` is caught; anything that only looks like a scheme once decoded
(`&#106;avascript:`, `%6Aavascript:`) is refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .issues import Issue, excerpt

PACKAGE_FILE = "datasets/datapackage.json"
#: the schemes a rendered URL may have
ALLOWED_SCHEMES = ("http", "https", "mailto")
#: a schema field with this key set to true holds URLs the site renders as links
URL_FLAG = "skillbrands:url"

_WEB_PREFIXES = ("https://", "http://")
_STRIP = "".join(map(chr, range(0x21)))  # what a browser strips around a URL: C0 controls and space
_INSIDE = re.compile(r"[\t\n\r]")  # what a browser removes inside a URL
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_ALLOWED_TEXT = "、".join(ALLOWED_SCHEMES)


def url_problem(url: str, *, relative: bool = False) -> str | None:
    """None if the site may link to `url`, else why not (Chinese, quoting at most an excerpt).

    `relative=True` (content pages) also allows links within the site: `../data/`,
    `#part`, `a.png`. A protocol-relative `//host/…` is never allowed: it is a remote
    address that breaks when the site is opened from disk.
    """
    if url.startswith(_WEB_PREFIXES) and url.isprintable() and url[url.index("//") + 2:][:1] not in ("", "/", "\\"):
        return None  # the common case: one prefix test, no regex
    quoted = f"“{_visible(excerpt(url))}”"
    if not url.isprintable():
        return f"网址{quoted}含有控制字符或不可见字符（如制表符、换行、全角空格）；请删去后重新输入。"
    clean = _INSIDE.sub("", url.strip(_STRIP))
    colon = clean.find(":")
    head = clean[:colon] if colon >= 0 else ""
    if colon < 0 or any(c in head for c in "/?#"):  # no scheme: a path, a query or a fragment
        if clean[:2].replace("\\", "/") == "//":
            host = clean.replace("\\", "/").lstrip("/")
            return f"网址{quoted}以“//”开头，没有写协议；请写完整，如 https://{excerpt(host, 30)}。"
        if relative:
            return None
        return f"{quoted}不是完整的网址；应以 https:// 或 http:// 开头（电子邮箱写 mailto:地址）。"
    if not _SCHEME.fullmatch(head):
        return (f"网址{quoted}的开头“{excerpt(head, 20)}:”不是正常的协议名（可能经过编码伪装）；"
                f"只允许 {_ALLOWED_TEXT} 开头的网址。")
    scheme = head.lower()
    if scheme not in ALLOWED_SCHEMES:
        if len(scheme) == 1:
            return f"{quoted}像是本机文件路径，网站上无法打开；请改为 https:// 开头的网址或站内相对链接。"
        return f"网址{quoted}使用了不允许的协议“{excerpt(scheme, 20)}:”；只允许 {_ALLOWED_TEXT} 开头的网址。"
    rest = clean[colon + 1:]
    if scheme != "mailto" and (rest[:2].replace("\\", "/") != "//" or rest[2:3] in ("", "/", "\\")):
        return f"网址{quoted}不完整；应写成 {scheme}://域名/…，如 {scheme}://www.example.cn/。"
    if scheme == "mailto" and not rest:
        return f"网址{quoted}缺少电子邮箱地址；应写成 mailto:name@example.cn。"
    return None


def _visible(text: str) -> str:
    """Invisible characters spelled out (\\u0009), so a message shows what is wrong."""
    return text if text.isprintable() else "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def is_remote(url: str) -> bool:
    """Would a browser fetch `url` from another host (http(s) or protocol-relative)?"""
    clean = _INSIDE.sub("", url.strip(_STRIP)).replace("\\", "/")
    return clean.startswith("//") or clean[:6].lower() == "https:" or clean[:5].lower() == "http:"


def safe_url(value: Any) -> str:
    """Template filter: the URL if the site may link to it, else "#" (defence in depth).

    `str(value)` first, so an undefined template variable still fails the build.
    """
    text = str(value)
    return text if url_problem(text) is None else "#"


# -- package metadata -----------------------------------------------------------------

#: the URL-valued fields of a Data Package's metadata: top-level strings, and lists of objects
_PACKAGE_URLS = ("homepage",)
_PACKAGE_LISTS = ("licenses", "sources", "contributors")


def check_package_urls(descriptor: Mapping[str, Any]) -> list[Issue]:
    """Every URL of `datapackage.json` the site may render (licences, sources, homepage …)."""
    issues = []

    def check(field: str, value: Any) -> None:
        if value is None or value == "":
            return  # not given: the templates render no link
        problem = url_problem(value) if isinstance(value, str) else f"应为网址文本，现在是 {excerpt(value)}。"
        if problem:
            issues.append(Issue(PACKAGE_FILE, None, field, "url-not-allowed", "error",
                                f"{PACKAGE_FILE} 中 {field}：{problem}"))

    for key in _PACKAGE_URLS:
        check(key, descriptor.get(key))
    publisher = descriptor.get("publisher")
    if isinstance(publisher, dict):
        check("publisher.feedback", publisher.get("feedback"))
    for key in _PACKAGE_LISTS:
        items = descriptor.get(key)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                check(f"{key}[{index}].path", item.get("path"))
    return issues


# -- data cells -----------------------------------------------------------------------

def url_fields(descriptor: Mapping[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """resource name -> (its file, the names of its fields marked as URLs)."""
    found = {}
    for resource in descriptor.get("resources", []):
        names = [f["name"] for f in resource.get("schema", {}).get("fields", []) if f.get(URL_FLAG) is True]
        if names:
            found[resource["name"]] = (f"datasets/{resource['path']}", names)
    return found


def check_cell_urls(descriptor: Mapping[str, Any], tables: Mapping[str, Sequence[Mapping[str, Any]]],
                    row_numbers: Mapping[str, Sequence[int]], issues: Sequence[Issue]) -> list[Issue]:
    """Every non-empty cell of a URL column must be an allowed absolute URL.

    A cell already reported as an error (say, by the column's `pattern`) is skipped,
    so one bad cell is one issue.
    """
    reported = {(i.path, i.row, i.field) for i in issues if i.severity == "error"}
    rows_broken = {(i.path, i.row) for i in issues if i.severity == "error" and i.field is None}
    found = []
    for name, (path, fields) in url_fields(descriptor).items():
        for values, row in zip(tables.get(name, ()), row_numbers.get(name, ())):
            for field in fields:
                value = values.get(field)
                if not value or not isinstance(value, str):
                    continue
                problem = url_problem(value)
                if problem and (path, row, field) not in reported and (path, row) not in rows_broken:
                    found.append(Issue(path, row, field, "url-not-allowed", "error", problem))
    return found


# -- HTML of content pages ------------------------------------------------------------

#: attributes whose value is a URL the reader follows (a link) …
LINK_ATTRIBUTES = frozenset({"href", "cite", "action", "formaction", "longdesc", "xlink:href"})
#: … and those the browser fetches by itself when the page loads
RESOURCE_ATTRIBUTES = frozenset({"src", "srcset", "imagesrcset", "poster", "data", "background", "lowsrc",
                                 "dynsrc"})
#: elements whose href is fetched, not followed (SVG images, stylesheets)
_HREF_LOADS = frozenset({"image", "use", "feimage", "link", "script"})
_URL_ATTRIBUTES = LINK_ATTRIBUTES | RESOURCE_ATTRIBUTES
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr", "param", "keygen", "command"})


@dataclass(frozen=True, slots=True)
class HtmlUrl:
    tag: str
    attribute: str
    url: str
    loads: bool  # fetched on page load (an image …) rather than followed (a link)
    raw: str  # the start tag as written, to find it in the source


@dataclass(frozen=True)
class HtmlScan:
    urls: list[HtmlUrl]
    depth: int  # deepest element nesting


def scan_html(html: str) -> HtmlScan:
    """Every URL in `html`'s attributes (entities decoded, as a browser reads them), and its nesting."""
    parser = _UrlParser()
    parser.feed(html)
    parser.close()
    return HtmlScan(parser.urls, parser.deepest)


class _UrlParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[HtmlUrl] = []
        self.depth = 0
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(tag, attrs)
        if tag not in _VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.depth:
            self.depth -= 1

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        for name, value in attrs:
            if value is not None:
                self.urls += urls_in_attribute(tag, name, value, raw)


class AttributeUrls:
    """An nh3 `attribute_filter` that records the URLs in what nh3 parsed (values unchanged)."""

    def __init__(self) -> None:
        self.urls: list[HtmlUrl] = []

    def __call__(self, tag: str, name: str, value: str) -> str:
        if name in _URL_ATTRIBUTES:
            self.urls += urls_in_attribute(tag, name, value, "")
        return value


def urls_in_attribute(tag: str, name: str, value: str, raw: str) -> list[HtmlUrl]:
    """The URLs one attribute holds (a srcset holds several), as HtmlUrl."""
    if name in ("srcset", "imagesrcset"):
        return [HtmlUrl(tag, name, c.split()[0], True, raw) for c in value.split(",") if c.strip()]
    if name in RESOURCE_ATTRIBUTES:
        return [HtmlUrl(tag, name, value, True, raw)]
    if name in LINK_ATTRIBUTES:
        return [HtmlUrl(tag, name, value, tag in _HREF_LOADS, raw)]
    return []


def html_url_problems(urls: Iterable[HtmlUrl]) -> Iterator[tuple[HtmlUrl, str, str]]:
    """(url, code, message) for each URL in content HTML the site may not render."""
    for item in urls:
        if item.loads and is_remote(item.url):
            yield item, "remote-resource", (
                f"<{item.tag}> 的 {item.attribute} 属性“{excerpt(item.url)}”会让读者的浏览器从其他网站加载内容"
                "（可被用来追踪访问者）；本站不加载任何外部资源。请把图片放进 site_templates/assets/，"
                "用相对路径引用（如 ../assets/图片.png），或改成普通链接。")
        elif (problem := url_problem(item.url, relative=True)) is not None:
            yield item, "url-not-allowed", problem


def site_base(value: str) -> str:
    """The address the site is published at (`--base-url`), as `https://host/path/`: http or https,
    a host, no query, fragment or credentials; a trailing slash is added. ValueError (Chinese) otherwise.

    Given, pages carry canonical URLs and Open Graph tags and the site gets a sitemap; links stay
    relative either way."""
    from urllib.parse import urlsplit

    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"“{excerpt(value)}”不是网站地址：应以 https:// 或 http:// 开头，后接域名，"
                         "例如 https://rsj.example.gov.cn/pxpp/")
    if parts.query or parts.fragment or parts.username or parts.password or _INSIDE.search(text) or " " in text:
        raise ValueError(f"“{excerpt(value)}”：网站地址不能含空格、“?”“#”或用户名密码，例如 https://rsj.example.gov.cn/pxpp/")
    return text if text.endswith("/") else text + "/"
