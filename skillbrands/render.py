"""Pages: which pages the site has, and their HTML, streamed one at a time.

`plan_pages` lists every page as a `Page` (URL, templates to try, context);
`render_pages` turns them into `(path, bytes)` pairs, noting what each page read from the
directory for later incremental builds (incremental.py), without holding the site in memory. Jinja2 runs with
autoescape and StrictUndefined: data cannot inject markup and a template typo fails
the build.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from . import structured
from .charts import employment_distribution, rates_chart
from .content import ContentPage
from .editions import Edition
from .formats import csv_value
from .browse import (FACETS, NO_CODE, NO_CODE_TITLE, SORTS, Facet, Grouping, by_occupation, by_prefecture, by_tier,
                     flat, in_sections, major_groups, trades)
from .criteria import Assessment
from .model import TIERS, Brand, Directory
from .incremental import Fingerprints, Reads, Recorder, page_digest, unchanged
from .incremental import Record as PageRecord
from .publish import Entry, StagedSite, Store
from .structured import ld_json
from .urls import safe_url
from .workers import fork_map


@dataclass(frozen=True)
class Page:
    url: str  # site-relative directory URL: "" for the home page, "brands/x/" …
    templates: tuple[str, ...]  # most specific first
    context: dict[str, Any] = field(default_factory=dict)
    file: str = "index.html"  # the file in the page's folder (the 404 page is 404.html)

    @property
    def path(self) -> str:
        return f"{self.url}{self.file}"


def make_environment(templates: Path, updated: date | None = None, base_url: str | None = None) -> Environment:
    """Jinja2 for the site's templates. `base_url` (normalised by urls.site_base): the address the
    site is published at, for canonical URLs, Open Graph and structured data; None: links only."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        auto_reload=False,  # templates do not change during a build: no stat() per page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=format_rate, num=format_count, isodate=format_date, safe_url=safe_url,
                       wbr_underscores=wbr_underscores, cell=csv_value, filesize=format_size, ld_json=ld_json)
    env.globals["data_updated"] = updated  # the footer's 数据更新于
    env.globals["rates_chart"] = rates_chart
    env.globals["base_url"] = base_url
    env.globals.update(schema_program=structured.program, schema_organization=structured.organization,
                       schema_dataset=structured.dataset)
    return env


def data_updated(directory: Directory, editions: Iterable[Edition] = ()) -> date | None:
    """The footer's 数据更新于: the latest annual release's date, else the latest brand's publication."""
    released = [e.release.published_date for e in editions]
    return max(released, default=None) or max((b.published_date for b in directory.brands.values()), default=None)


def wbr_underscores(value: str) -> Markup:
    """Escaped text with a line-break opportunity after each underscore: `brand_id` wraps as
    `brand_` / `id` on a phone, never mid-word."""
    return Markup(str(escape(value)).replace("_", "_<wbr>"))


def format_size(count: int) -> str:
    """A file's size for people: 1.2 MB, 53.3 KB, 812 字节 (1 KB = 1,000 bytes)."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:,.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:,.1f} KB"
    return f"{count} 字节"


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def format_count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def format_date(value: date | None) -> str:
    return "—" if value is None else value.isoformat()


def relative_root(url: str) -> str:
    return "../" * url.count("/")


def href_for(url: str) -> Callable[[str], str]:
    """A link from page `url` to site path `target`, relative so any sub-path or file:// works."""
    root = relative_root(url)

    def href(target: str) -> str:
        if target == "" or target.endswith("/"):
            return f"{root}{target}index.html"
        return f"{root}{target}"

    return href


def link_for(url: str, base_url: str | None) -> Callable[[str], str]:
    """A URL for structured data and feeds: absolute under `base_url` when known, else `href_for`'s."""
    if base_url is None:
        return href_for(url)
    return lambda target: f"{base_url}{target}"


def plan_pages(directory: Directory, content: list[ContentPage], downloads: Any,
               editions: list[Edition] = (), frozen: set[int] = frozenset(),  # type: ignore[assignment]
               bundles: Mapping[int, Any] | None = None) -> Iterator[Page]:
    """Every page of the site, in a fixed order, then the 404 page, which knows the site's
    top-level folders (to find the site's root in an address at any depth)."""
    folders = {"assets"}
    for page in _site_pages(directory, content, downloads, editions, frozen, bundles or {}):
        folders.add(page.url.split("/")[0])
        yield page
    yield Page("", ("404.html",), {"folders": sorted(folders - {""})}, file="404.html")


def _site_pages(directory: Directory, content: list[ContentPage], downloads: Any,
                editions: list[Edition], frozen: set[int], bundles: Mapping[int, Any]) -> Iterator[Page]:
    brands = list(directory.brands.values())
    yield Page("", ("index.html",), {"content": content})
    yield from _listing("brands/", brands, ("brands.html", "listing.html"), by_tier(directory),
                        {"heading": "品牌目录", "facets": _facet_links(directory, brands)})
    for brand in brands:
        yield Page(
            f"brands/{brand.brand_id}/",
            (f"brand-{brand.brand_id}.html", "brand.html"),
            {"brand": brand, "chain": directory.chain(brand),
             "recommended_to": directory.recommended_to.get(brand.brand_id, ())},
        )
    yield from _occupation_pages(directory)
    for facet in FACETS:
        yield from _facet_pages(directory, brands, facet)
    institutions = list(directory.institutions.values())
    for pager, chunk in _paginate("institutions/", institutions):
        yield Page(pager.url, ("institutions.html",), {"institutions": chunk, "pager": pager})
    for institution in institutions:
        own = directory.brands_by_institution.get(institution.institution_id, ())
        yield Page(
            f"institutions/{institution.institution_id}/",
            (f"institution-{institution.institution_id}.html", "institution.html"),
            {"institution": institution, "brands": own},
        )
    yield from _region_pages(directory)
    yield Page("search/", ("search.html",), {})  # the results come from search/*.json, in the browser
    exited = directory.exits
    for pager, chunk in _paginate("exits/", exited):
        yield Page(pager.url, ("exits.html",), {"exited": chunk, "total": len(exited), "pager": pager})
    yield Page("data/", ("data.html",), {"summary": downloads, "editions": editions, "frozen": frozen,
                                        "bundles": bundles})
    yield Page("releases/", ("releases.html",), {"editions": editions, "frozen": frozen})
    for edition in editions:
        yield from _edition_pages(directory, edition, frozen)
    for page in content:
        yield Page(f"{page.slug}/", (f"page-{page.slug}.html", "page.html"), {"page": page})


#: rows of each kind of change shown on a release page; the rest are on the edition's listings
SHOWN_CHANGES = 20


def _edition_pages(directory: Directory, edition: Edition, frozen: set[int]) -> Iterator[Page]:
    """A release page (what it is, what changed) and its lists of brands: all, added, exited."""
    base = f"releases/{edition.year}/"
    lists = [("brands/", f"{edition.year}年度版本收录的品牌", list(edition.brands)),
             *((f"{kind}/", f"{edition.year}年度版本{title}的品牌",
                [directory.brands[c.id] for c in edition.changes(kind) if c.id in directory.brands])
               for kind, title in (("added", "新增"), ("exited", "退出")))]
    yield Page(base, (f"release-{edition.year}.html", "release.html"),
               {"edition": edition, "frozen": frozen, "shown": SHOWN_CHANGES,
                "below_criteria": below_criteria(directory, edition),
                "lists": {part.strip("/"): base + part for part, _, brands in lists if brands}})
    crumbs = [("releases/", "年度版本"), (base, f"{edition.year}年度")]
    for part, heading, brands in lists:
        if brands:
            yield from _listing(base + part, brands, ("listing.html",), by_tier(directory),
                                {"heading": heading, "crumbs": crumbs})


def below_criteria(directory: Directory, edition: Edition) -> list[tuple[Brand, Assessment]]:
    """The brands this edition was the first to list although they did not meet their criteria
    (criteria-not-met): said once here, not by every validate and build once frozen."""
    before = edition.previous.published_date if edition.previous else None
    return [(b, directory.assessments[b.brand_id]) for b in edition.brands
            if (before is None or b.published_date > before)
            and directory.assessments[b.brand_id].verdict == "does_not_meet"]


def _listing(base: str, brands: Iterable[Brand], templates: tuple[str, ...], group: Grouping,
             context: dict[str, Any]) -> Iterator[Page]:
    """A list of brands in sections, cut into pages of PAGE_SIZE rows; each page knows every
    section's count and the page where it starts, so the table of contents spans the pages."""
    ordered = in_sections(brands, group) if group is not flat else list(brands)
    sections = [group(b) for b in ordered]
    first_page: dict[str, str] = {}
    totals: dict[str, int] = {}
    for index, section in enumerate(sections):
        first_page.setdefault(section.anchor, _page_url(base, index // PAGE_SIZE + 1))
        totals[section.anchor] = totals.get(section.anchor, 0) + 1
    toc = list(dict.fromkeys(sections))
    exited = sum(1 for b in ordered if b.exited)
    for pager, chunk in _paginate(base, ordered):
        start = (pager.number - 1) * PAGE_SIZE
        groups: list[tuple[Any, list[Brand]]] = []
        for brand, section in zip(chunk, sections[start:start + PAGE_SIZE]):
            if not groups or groups[-1][0] != section:
                groups.append((section, []))
            groups[-1][1].append(brand)
        yield Page(pager.url, templates,
                   {**context, "groups": groups, "toc": toc, "totals": totals, "first_page": first_page,
                    "pager": pager, "total": len(ordered), "exited": exited})


def _occupation_pages(directory: Directory) -> Iterator[Page]:
    """/occupations/ by major group, and every brand of each trade by prefecture (and sorted)."""
    occupations = by_occupation(directory)
    group = by_prefecture(directory)
    yield Page("occupations/", ("occupations.html",),
               {"groups": major_groups(directory, occupations), "no_code": len(occupations.get(NO_CODE, ()))})
    for code, listed in occupations.items():
        name = NO_CODE_TITLE if code == NO_CODE else f"{directory.occupations[code].name}（{code}）"
        yield from _with_views(f"occupations/{code}/", listed, group,
                               {"heading": name, "crumbs": [("occupations/", "按职业")]})


def _facet_pages(directory: Directory, brands: list[Brand], facet: Facet) -> Iterator[Page]:
    """One listing per value of the facet's column (tier, focus area, year)."""
    for value, listed in facet.listings(brands).items():
        base = f"{facet.folder}/{value}/"
        context = {"heading": facet.heading(directory, value), "crumbs": [("brands/", "品牌目录")]}
        if facet.views:
            context["distribution"] = employment_distribution(listed)
            yield from _with_views(base, listed, facet.group(directory), context)
        else:
            yield from _listing(base, listed, ("listing.html",), facet.group(directory), context)


def _facet_links(directory: Directory, brands: list[Brand]) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """For /brands/: each facet's listings, as (title, [(url, heading, count)])."""
    return [(facet.title, [(f"{facet.folder}/{value}/", facet.heading(directory, value), len(listed))
                           for value, listed in facet.listings(brands).items()]) for facet in FACETS]


def _with_views(base: str, brands: list[Brand], group: Grouping, context: dict[str, Any]) -> Iterator[Page]:
    """The listing in sections, and again once per sort (by employment rate, by trainees), unsectioned."""
    views = [(base, "按地区"), *((base + part, title) for part, title, _ in SORTS)]
    yield from _listing(base, brands, ("listing.html",), group, {**context, "views": views})
    context = {**context, "distribution": None}  # the sorted views repeat the rows, not the summary
    for part, title, key in SORTS:
        yield from _listing(base + part, sorted(brands, key=key), ("listing.html",), flat,
                            {**context, "views": views, "heading": f"{context['heading']}（{title}）"})


def _region_pages(directory: Directory) -> Iterator[Page]:
    """/regions/ and, per region with brands: what is run there (any tier), and what its department published."""
    regions = [r for r in directory.regions.values()
               if next(directory.brands_under(r.code), None) or next(directory.brands_located(r.code), None)]
    with_brands = {r.code for r in regions}
    located = Counter(directory.prefecture_of(b.institution.region.code).code for b in directory.brands.values())
    yield Page("regions/", ("regions.html",), {"regions": regions, "with_brands": with_brands, "located": located})
    for region in regions:
        base = f"regions/{region.code}/"
        located = list(directory.brands_located(region.code))
        own = directory.brands_by_region.get(region.code, ())
        children = [(c, sum(1 for _ in directory.brands_located(c.code)))
                    for c in directory.region_children.get(region.code, ()) if c.code in with_brands]
        crumbs = [("regions/", "按地区"), *((f"regions/{a.code}/", a.name) for a in directory.ancestors(region.code)[:-1])]
        yield from _listing(base, located, (f"region-{region.code}.html", "region.html"), by_tier(directory),
                            {"heading": region.name, "crumbs": crumbs, "region": region, "own": len(own),
                             "children": children, "trades": trades(directory, located),
                             "distribution": employment_distribution(located)})
        if own:
            yield from _listing(f"{base}published/", own, ("listing.html",), by_tier(directory),
                                {"heading": f"{region.name}人社部门公布的品牌",
                                 "crumbs": [*crumbs, (base, region.name)]})


#: rows per listing page: light enough for a phone on a slow network (at national scale, with long
#: names and deep links, 100 rows weighed up to 109 KB; 80 stay under 90 KB)
PAGE_SIZE = 80


@dataclass(frozen=True)
class Pager:
    number: int
    count: int
    base: str  # "brands/"

    @property
    def url(self) -> str:
        return _page_url(self.base, self.number)

    def page_url(self, number: int) -> str:
        return _page_url(self.base, number)


def _page_url(base: str, number: int) -> str:
    return base if number == 1 else f"{base}page/{number}/"


def _paginate(base: str, items: list[Any]) -> Iterator[tuple[Pager, list[Any]]]:
    count = max(1, -(-len(items) // PAGE_SIZE))
    for number in range(1, count + 1):
        yield Pager(number, count, base), items[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]


def render_pages(env: Environment, directory: Directory, pages: Iterable[Page], nav: list[ContentPage],
                 fingerprints: Fingerprints | None = None) -> Iterator[tuple[str, bytes, Reads | None]]:
    """Render each page as it comes: (output path, UTF-8 bytes, what it read from the directory).

    With `fingerprints`, templates see the directory through a `Recorder`, so every lookup a
    page makes is noted for the next incremental build (see incremental.py); without, reads
    are None."""
    meta = directory.meta
    settings = meta.get("skillbrands", {})
    common = {"directory": directory, "meta": meta, "settings": settings, "nav": nav,
              "label": directory.label, "tiers": TIERS}
    available = set(env.list_templates())  # look an override up in a set, not on disk per page
    for page in pages:
        reads = Reads(fingerprints) if fingerprints is not None else None
        if reads is not None:
            common["directory"] = Recorder(directory, reads)
        template = env.get_template(next((n for n in page.templates if n in available), page.templates[-1]))
        html = template.render(
            **common, **page.context, page_url=page.url, href=href_for(page.url),
            link=link_for(page.url, env.globals["base_url"]),
            templates_considered=", ".join(
                f"*{name}" if name == template.name else name for name in page.templates),
        )
        yield page.path, html.encode("utf-8"), reads


#: pages per worker task: enough to amortise a task, few enough to share out evenly
CHUNK_PAGES = 2_000
#: below this many pages, forking workers costs more than it saves
PARALLEL_FROM = 5_000


@dataclass
class Written:
    """What `write_pages` did: pages in all, those rendered (the rest were kept from the
    published site), and the records for the next incremental build."""

    pages: int
    rendered: int
    records: dict[str, PageRecord]


def write_pages(site: StagedSite, env: Environment, directory: Directory, pages: list[Page],
                nav: list[ContentPage], jobs: int, shared: bytes = b"",
                previous: Mapping[str, PageRecord] | None = None) -> Written:
    """Store every page: kept from the published site when nothing it is made of changed since
    `previous` recorded it (incremental.py), else rendered; in worker processes for large sites.

    Paths are claimed here first (collisions and escapes fail before any work); workers take
    ranges of pages, digest them, keep or render them and store them straight into the
    staging folder, so no rendered page travels between processes or stays in memory: only
    (path, digest) and the page's record come back.
    """
    paths = [site.claim(page.path) for page in pages]
    job = {"env": env, "directory": directory, "pages": pages, "nav": nav, "paths": paths, "store": site.store,
           "shared": shared, "previous": previous or {}}
    written = Written(len(pages), 0, {})
    for page in pages[:1]:  # compile the templates once, before forking
        env.select_template(list(page.templates))
    size = CHUNK_PAGES if len(pages) >= PARALLEL_FROM else max(len(pages), 1)
    ranges = [(start, min(start + size, len(pages))) for start in range(0, len(pages), size)]
    for entries, records, rendered in fork_map(lambda shared, bounds: _store_range(shared, *bounds),
                                               ranges, jobs, job):
        site.record(entries)
        written.records.update(records)
        written.rendered += rendered
    return written


Done = tuple[list[Entry], dict[str, PageRecord], int]  # stored files, records, pages rendered


def _store_range(job: dict[str, Any], start: int, stop: int) -> Done:
    """Pages start…stop: those unchanged since their record are linked from the published site,
    the others rendered and stored."""
    store: Store = job["store"]
    previous: Mapping[str, PageRecord] = job["previous"]
    fingerprints = Fingerprints()
    answers: dict[str, str | None] = {}
    entries: list[Entry] = []
    made: dict[str, PageRecord] = {}
    todo: list[tuple[int, str | None]] = []
    for index in range(start, stop):
        page = job["pages"][index]
        digest = page_digest(fingerprints, job["shared"], page.url, page.file, page.templates, page.context)
        record = previous.get(page.path)
        published = store.previous.get(page.path)
        if record is not None and unchanged(record, digest, published.digest if published else None,
                                            job["directory"], fingerprints, answers):
            entry = store.relink(job["paths"][index], page.path)
            if entry is not None:
                entries.append(entry)
                made[page.path] = record
                continue
        todo.append((index, digest))
    rendered = render_pages(job["env"], job["directory"], [job["pages"][i] for i, _ in todo], job["nav"],
                            fingerprints)
    for (index, digest), (relpath, data, reads) in zip(todo, rendered):
        entry = store.put(job["paths"][index], relpath, data)
        entries.append(entry)
        if digest is not None and reads is not None and reads.replayable:
            made[relpath] = (digest, reads.found, entry[1].digest)
    return entries, made, len(todo)
