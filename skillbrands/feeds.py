"""What harvesters read besides the pages: the Atom feed, the sitemap and robots.txt.

- `feed.xml` (Atom, RFC 4287): the newest `FEED_ENTRIES` events, newest first. Each kind of
  event is one function in `FEED_SOURCES` (editions, exits …): adding a kind is one line there.
  Entry ids are `urn:uuid:` names derived from the package name and the event's key, so they
  stay the same wherever the site is published; links are relative to the feed (resolved
  against where it was fetched) unless the site's address is known.
- `sitemap.xml` (sitemaps.org 0.9) and the `Sitemap:` line of robots.txt need absolute
  addresses, so they exist only with `--base-url`; above 50,000 addresses the sitemap is an
  index of numbered files, as the protocol requires. The 404 page is never listed.

Built with xml.etree.ElementTree, which escapes every text and attribute; the bytes are
deterministic (fixed order, dates from the data, no clock).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Iterator, Sequence

from .editions import Edition
from .model import Directory

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: entries in feed.xml: the newest events (a national directory has tens of thousands of exits)
FEED_ENTRIES = 100
#: addresses per sitemap file (the protocol's limit)
SITEMAP_URLS = 50_000
#: XML 1.0 cannot carry C0 controls other than tab, newline and carriage return
_CONTROLS = dict.fromkeys(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))


@dataclass(frozen=True)
class FeedEntry:
    kind: str  # a stable slug: edition, exit, correction …
    label: str  # the kind in Chinese, the entry's category label
    key: str  # unique within the kind: the entry's id is derived from (package, kind, key)
    title: str
    when: date
    url: str  # site-relative page address: "releases/2025/"
    summary: str


def _edition_entries(directory: Directory, editions: Sequence[Edition]) -> Iterator[FeedEntry]:
    for edition in editions:
        release = edition.release
        summary = (f"{release.title}（{release.document_no}）公布，收录 {len(edition.brands)} 个品牌；"
                   f"与上一版本相比新增 {len(edition.changes('added'))} 个，退出 {len(edition.changes('exited'))} 个。")
        yield FeedEntry("edition", "年度版本", str(edition.year), release.title, release.published_date,
                        f"releases/{edition.year}/", summary)


def _exit_entries(directory: Directory, editions: Sequence[Edition]) -> Iterator[FeedEntry]:
    for brand in directory.exits:
        exit = brand.exit
        assert exit is not None
        detail = f"：{exit.detail.rstrip('。')}" if exit.detail else ""
        yield FeedEntry("exit", "品牌退出", brand.brand_id, f"退出目录：{brand.name}（{brand.institution.name}）",
                        exit.exit_date, f"brands/{brand.brand_id}/",
                        f"{exit.exit_date.isoformat()} 退出，原因：{directory.label('exits', 'reason', exit.reason)}"
                        f"{detail}。文号：{exit.document_no}。")


#: where a correction's row is shown: the page of the brand or institution it concerns
_CORRECTED_PAGES = {"brands": "brands", "outcomes": "brands", "exits": "brands", "institutions": "institutions"}


def _correction_entries(directory: Directory, editions: Sequence[Edition]) -> Iterator[FeedEntry]:
    for c in directory.corrections:
        kind = directory.label("corrections", "kind", c.kind)
        field = directory.field_title(c.table, c.field)
        folder = _CORRECTED_PAGES.get(c.table)
        url = f"{folder}/{c.key.split('/')[0]}/" if folder else "data/"
        published = f"（{'、'.join(f'{y}年度' for y in c.years)}版本公布的是旧值）" if c.years else ""
        document = f"文号：{c.document_no}。" if c.document_no else ""
        yield FeedEntry("correction", kind, f"{c.date.isoformat()}/{c.table}/{c.key}/{c.field}",
                        f"{kind}：{directory.label('corrections', 'table', c.table)} {c.key} 的“{field}”", c.date, url,
                        f"“{c.old_value}”改为“{c.new_value}”{published}。原因：{c.reason.rstrip('。')}。{document}")


#: every kind of event the feed carries; each yields FeedEntry values
FEED_SOURCES: tuple[Callable[[Directory, Sequence[Edition]], Iterable[FeedEntry]], ...] = (
    _edition_entries, _exit_entries, _correction_entries)


def feed_entries(directory: Directory, editions: Sequence[Edition], today: date) -> list[FeedEntry]:
    """The newest FEED_ENTRIES events dated on or before `today`, newest first (ties by kind and key)."""
    entries = [e for source in FEED_SOURCES for e in source(directory, editions) if e.when <= today]
    entries.sort(key=lambda e: (e.when, e.kind, e.key), reverse=True)
    return entries[:FEED_ENTRIES]


def atom_feed(directory: Directory, entries: Sequence[FeedEntry], base_url: str | None) -> bytes:
    meta = directory.meta
    name = str(meta.get("name") or "skillbrands")
    publisher = str(meta.get("skillbrands", {}).get("publisher") or meta.get("title", ""))
    root = base_url or ""
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "zh-CN"})
    _text(feed, "title", f"{meta.get('title', '')}：更新")
    _text(feed, "subtitle", "年度版本的公布、品牌退出和更正，最新的在前。")
    _text(feed, "id", _urn(name, "feed", ""))
    _text(feed, "updated", _stamp(entries[0].when if entries else None))
    ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": f"{root}feed.xml"})
    ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": root or "./"})
    _text(ET.SubElement(feed, "author"), "name", publisher)
    for licence in meta.get("licenses", []):
        _text(feed, "rights", str(licence.get("title") or licence.get("name", "")))
        break
    for item in entries:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "title", item.title)
        _text(entry, "id", _urn(name, item.kind, item.key))
        _text(entry, "updated", _stamp(item.when))
        ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": f"{root}{item.url}"})
        ET.SubElement(entry, "category", {"term": item.kind, "label": item.label})
        _text(entry, "summary", item.summary)
    return _xml(feed)


def sitemaps(urls: Iterable[str], base_url: str) -> list[tuple[str, bytes]]:
    """sitemap.xml listing every page address, or, above SITEMAP_URLS, an index of sitemaps/N.xml."""
    addresses = [f"{base_url}{url}" for url in urls]
    if len(addresses) <= SITEMAP_URLS:
        return [("sitemap.xml", _urlset(addresses))]
    files = []
    index = ET.Element("sitemapindex", {"xmlns": SITEMAP})
    for number, start in enumerate(range(0, len(addresses), SITEMAP_URLS), 1):
        path = f"sitemaps/{number}.xml"
        files.append((path, _urlset(addresses[start:start + SITEMAP_URLS])))
        _text(ET.SubElement(index, "sitemap"), "loc", f"{base_url}{path}")
    return [("sitemap.xml", _xml(index)), *files]


def robots(base_url: str | None) -> bytes:
    """Everything may be crawled; the sitemap's address when it has one."""
    lines = ["User-agent: *", "Allow: /"]
    if base_url:
        lines.append(f"Sitemap: {base_url}sitemap.xml")
    return ("\n".join(lines) + "\n").encode("ascii")


def crawler_files(directory: Directory, editions: Sequence[Edition], page_urls: Sequence[str],
                  base_url: str | None, today: date) -> list[tuple[str, bytes]]:
    """feed.xml, robots.txt and, with a base URL, the sitemap: (path, bytes)."""
    files = [("feed.xml", atom_feed(directory, feed_entries(directory, editions, today), base_url)),
             ("robots.txt", robots(base_url))]
    if base_url:
        files += sitemaps(page_urls, base_url)
    return files


def _urlset(addresses: Sequence[str]) -> bytes:
    urlset = ET.Element("urlset", {"xmlns": SITEMAP})
    for address in addresses:
        _text(ET.SubElement(urlset, "url"), "loc", address)
    return _xml(urlset)


def _urn(name: str, kind: str, key: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"skillbrands:{name}:{kind}:{key}").urn


def _stamp(when: date | None) -> str:
    return f"{(when or date(1970, 1, 1)).isoformat()}T00:00:00Z"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text.translate(_CONTROLS)
    return element


def _xml(element: ET.Element) -> bytes:
    ET.indent(element)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True) + b"\n"
