"""The build, one line per stage: load & validate -> model -> pages + downloads -> publish.

Everything is checked before anything is written; pages and downloads stream into a
staging folder that replaces the published site only when every stage has passed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from jinja2 import TemplateError, TemplateSyntaxError

from .catalog import CATALOG, catalog_jsonld
from .content import ContentPage, load_content
from .corrections import Difference, primary_keys, reconcile
from .editions import (FROZEN_DIR, Edition, FreezeError, bundle_name, compute_editions, edition_files, freeze,
                       published, releases_from)
from .export import export_downloads
from .feeds import crawler_files
from .frozen import History, check_history
from .issues import Issue, excerpt, has_errors, sort_key
from .model import Directory, build_directory
from .incremental import (Fingerprints, inputs_digest, read_records, read_state, records_path, shared_digest,
                          state_path, write_records, write_state)
from .publish import MARKER, OutputLock, PublishError, remove_leftovers, StagedSite, published_intact, published_manifest_digest
from .review import ReviewItem
from .review import review as review_brands
from .formats import FileInfo
from .search import STAMP, stamp, write_index
from .tables import published_tables
from .render import data_updated, make_environment, plan_pages, write_pages
from .urls import check_cell_urls, check_package_urls
from .validate import Loaded, load_package, reference_date
from .workers import WorkerError, workers


#: `progress(stage, done=None, total=None)`: told as each stage starts (`done` and `total` None)
#: and, where it is cheap to know, how many of the stage's `total` items are done. Stage names
#: are stable slugs (those of BuildResult.stages, and prepare's "read", "content", "directory",
#: "history"); the callback must not raise, and the engine never prints.
Progress = Callable[..., None]


def _tell(progress: Progress | None, stage: str, done: int | None = None, total: int | None = None) -> None:
    if progress is not None:
        progress(stage, done, total)


class BuildError(Exception):
    """The build stopped; `issues` says why (empty when the cause is the output folder)."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.issues = issues or []


@dataclass
class BuildResult:
    pages: int = 0
    downloads: int = 0
    assets: int = 0
    search: int = 0  # files of the search index
    search_reused: bool = False  # the index's input had not changed: its files were carried over
    bytes: int = 0
    linked: int = 0  # files unchanged since the published site, hard-linked instead of written
    crawler_files: int = 0  # feed.xml, robots.txt and, with a base URL, the sitemap
    issues: list[Issue] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    rendered: int = 0  # pages rendered; the others were kept from the published site (incremental.py)
    unchanged: bool = False  # same inputs as the published site, which is intact: nothing was done

    @property
    def seconds(self) -> float:
        return sum(self.stages.values())


@dataclass
class Prepared:
    """Everything checked and modelled, nothing written yet."""

    issues: list[Issue]
    content: list[ContentPage] = field(default_factory=list)
    directory: Directory | None = None  # None when the data has errors
    editions: list[Edition] = field(default_factory=list)
    frozen: set[int] = field(default_factory=set)  # checked against today's data and intact: "已冻结"
    uncovered: list[Difference] = field(default_factory=list)  # differences from frozen editions without a correction
    #: warnings nobody can act on any more, left out of `issues`: criteria-not-met of brands a
    #: frozen edition has published (shown once, on that edition's page and by `review`)
    settled: list[Issue] = field(default_factory=list)


def prepare(project: Path, today: date | None = None, jobs: int | None = None,
            progress: Progress | None = None) -> Prepared:
    """Load and validate the data and the content, build the model and the editions,
    and check that no frozen edition is damaged or would change: every problem, in one run."""
    project = Path(project)
    today = today or reference_date()
    _tell(progress, "read")
    loaded = load_package(project, today, jobs)
    _tell(progress, "content")
    content, content_issues = load_content(project)
    url_issues = check_package_urls(loaded.descriptor) + check_cell_urls(
        loaded.descriptor, loaded.tables, loaded.row_numbers, loaded.issues)
    issues = loaded.issues + content_issues + url_issues
    reported = {issue.as_tuple() for issue in issues}  # the readers refuse the links they meet, too
    issues += [issue for issue in check_paths(project) if issue.as_tuple() not in reported]
    prepared = Prepared(issues=issues, content=content)
    if not has_errors(loaded.issues):
        _tell(progress, "directory")
        directory = build_directory(loaded.descriptor, loaded.tables, loaded.assessments)
        prepared.directory = directory
        prepared.editions = compute_editions(directory, releases_from(loaded.tables.get("releases", [])))
    locate = _locator(loaded)
    _tell(progress, "history")
    history = check_history(project, prepared.editions if prepared.directory else None, _release_years(loaded),
                            today, locate, primary_keys(loaded.descriptor) if loaded.descriptor else None)
    prepared.issues += history.issues
    prepared.frozen = set(history.verified)
    if prepared.directory is not None:
        prepared.issues += _as_published(prepared, loaded, history, locate, today)
    prepared.issues, prepared.settled = settle(prepared.issues, _published_rows(loaded, prepared))
    prepared.issues.sort(key=sort_key)
    return prepared


def _as_published(prepared: Prepared, loaded: Loaded, history: History, locate, today: date) -> list[Issue]:
    """Match every difference between today's data and the frozen editions with corrections.csv,
    then take each frozen edition as it was frozen: it is published from its files."""
    reconciled = reconcile(prepared.directory, history.changes, loaded.row_numbers.get("corrections", []),
                           locate, today)
    directory = replace(prepared.directory, corrections=reconciled.corrections)
    prepared.directory = directory
    prepared.uncovered = list(reconciled.uncovered)
    prepared.editions = [published(directory, e, history.stored[e.year]) if e.year in history.stored else e
                         for e in prepared.editions]
    return list(reconciled.issues)


#: warnings about what a frozen edition has published: the edition cannot change, so they are
#: not repeated on every run
SETTLED_CODES = frozenset({"criteria-not-met"})


def settle(issues: list[Issue], published: set[tuple[str, int]]) -> tuple[list[Issue], list[Issue]]:
    """(issues to show, settled ones): a SETTLED_CODES warning at a (path, row) in `published`."""
    shown, settled = [], []
    for issue in issues:
        quiet = issue.code in SETTLED_CODES and issue.row is not None and (issue.path, issue.row) in published
        (settled if quiet else shown).append(issue)
    return shown, settled


def _published_rows(loaded: Loaded, prepared: Prepared) -> set[tuple[str, int]]:
    """(path, row) of brands.csv rows whose brand is in a frozen edition checked intact."""
    frozen_ids = {brand.brand_id for edition in prepared.editions if edition.year in prepared.frozen
                  for brand in edition.brands}
    if not frozen_ids or not loaded.descriptor:
        return set()
    resource = next((r for r in loaded.descriptor["resources"] if r.get("name") == "brands"), None)
    if resource is None:
        return set()
    path = f"datasets/{resource['path']}"
    rows = zip(loaded.tables.get("brands", []), loaded.row_numbers.get("brands", []))
    return {(path, number) for row, number in rows if row.get("brand_id") in frozen_ids}


def _release_years(loaded: Loaded) -> set[int] | None:
    """The years in releases.csv, or None when the file could not be read cleanly."""
    if not loaded.descriptor:
        return None
    resource = next((r for r in loaded.descriptor["resources"] if r.get("name") == "releases"), None)
    if resource is not None and any(i.path == f"datasets/{resource['path']}" and i.severity == "error"
                                    for i in loaded.issues):
        return None
    return {row["year"] for row in loaded.tables.get("releases", []) if isinstance(row.get("year"), int)}


def _locator(loaded: Loaded):
    """(resource, key values as text) -> spreadsheet row, for naming the row behind a change.
    The key columns are the schema's primaryKey."""
    keys = primary_keys(loaded.descriptor) if loaded.descriptor else {}
    index: dict[str, dict[tuple[str, ...], int]] = {}

    def locate(resource: str, key: tuple[str, ...]) -> int | None:
        if resource not in index:
            fields = keys.get(resource, ())
            rows = zip(loaded.tables.get(resource, []), loaded.row_numbers.get(resource, []))
            index[resource] = {tuple(str(row.get(f)) for f in fields): number for row, number in rows}
        return index[resource].get(tuple(key))

    return locate


#: folders whose symlinks are refused, and why
_GUARDED = {
    "content": "为免把项目以外的文件发布出去",
    "site_templates": "为免把项目以外的文件发布出去",
    "datasets": "为免读入项目以外的文件，或让 freeze、generate 删除、改写项目以外的文件",
}


def check_paths(project: Path) -> list[Issue]:
    """Symlinks in content/, site_templates/ or datasets/ could pull files from anywhere into
    the site, or let a command delete or overwrite files outside the project: each is refused."""
    issues = []
    for folder, why in _GUARDED.items():
        root = project / folder
        if root.is_symlink():
            issues.append(Issue(folder, None, None, "unsafe-path", "error",
                                f"{folder}/ 是符号链接；为安全起见，它必须是项目中的普通目录。"))
            continue
        if not root.is_dir():
            continue
        for path in _symlinks(root):
            relpath = path.relative_to(project).as_posix().encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            issues.append(Issue(relpath, None, None, "unsafe-path", "error",
                                f"{relpath} 是符号链接（指向 {excerpt(os.readlink(path), 80)}）；{why}，"
                                "这里不允许符号链接，请换成普通文件或文件夹。"))
    return issues


def _symlinks(root: Path) -> list[Path]:
    """Every symlink under root; a linked folder is listed, never entered (os.walk does not follow)."""
    found = []
    for top, folders, files in os.walk(root):
        found += [path for name in folders + files if (path := Path(top, name)).is_symlink()]
    return sorted(found)


def data_files(project: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the files the model is made of: datasets/ without the frozen editions."""
    root = project / "datasets"
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] != "editions" and path.is_file() and not path.is_symlink():
            yield relative.as_posix(), path.read_bytes()


class DataError(Exception):
    """A command stopped because the data has errors (`issues` holds every problem found)."""

    def __init__(self, message: str, issues: list[Issue]):
        super().__init__(message)
        self.issues = issues


@dataclass
class Reviewed:
    """The three-yearly review of one year, with the data's warnings and settled notes."""

    year: int
    directory: Directory
    items: list[ReviewItem]
    issues: list[Issue]
    settled: list[Issue]


def review_project(project: Path, year: int, today: date | None = None, jobs: int | None = None) -> Reviewed:
    """The brands due for review in `year`, from the same checked model `build` publishes;
    DataError when the data has errors."""
    prepared = prepare(project, today, jobs)
    if has_errors(prepared.issues) or prepared.directory is None:
        raise DataError("数据有错误", prepared.issues)
    items = review_brands(prepared.directory, year)
    return Reviewed(year, prepared.directory, items, prepared.issues, prepared.settled)


@dataclass
class Frozen:
    """What `freeze` did: the edition, where it went (None: already frozen and intact)."""

    edition: Edition
    folder: Path | None
    issues: list[Issue]


class FreezeRefused(Exception):
    """`freeze` did not write; the message says why."""


def freeze_year(project: Path, year: int, today: date | None = None, jobs: int | None = None) -> Frozen:
    """Freeze the edition of `year` into datasets/editions/<year>/, from the checked model;
    DataError when the data has errors, FreezeRefused when it cannot be written."""
    prepared = prepare(project, today, jobs)
    errors = [issue for issue in prepared.issues if issue.severity == "error"]
    if errors or prepared.directory is None:
        raise DataError("数据有错误", errors)
    edition = next((e for e in prepared.editions if e.year == year), None)
    if edition is None:
        raise FreezeRefused(f"releases.csv 中没有 {year} 年度；请先在 datasets/releases.csv 中登记该版本。")
    if year in prepared.frozen:
        return Frozen(edition, None, prepared.issues)
    try:
        folder = freeze(project, edition)
    except FreezeError as error:
        raise FreezeRefused(str(error)) from error
    except OSError as error:
        raise FreezeRefused(f"无法写入 {FROZEN_DIR}/{year}/：{error.strerror or error}；未冻结。") from error
    return Frozen(edition, folder, prepared.issues)


def check_project(project: Path, today: date | None = None, jobs: int | None = None,
                  progress: Progress | None = None) -> list[Issue]:
    """Every problem in the data package, the content pages and the frozen editions.
    `progress`: see Progress."""
    return prepare(project, today, jobs, progress).issues


def templates_dir(project: Path) -> Path:
    """The project's own templates, or the ones bundled with skillbrands."""
    own = project / "site_templates"
    return own if own.is_dir() else Path(__file__).resolve().parent.parent / "site_templates"


def build_site(project: Path, out: Path, today: date | None = None, base_url: str | None = None,
               jobs: int | None = None, progress: Progress | None = None) -> BuildResult:
    """Validate, render and publish the site into `out`. `base_url`: the address it is published
    at, normalised by `urls.site_base` (canonical URLs, Open Graph, sitemap); None: relative links only.
    `jobs`: worker processes for validation, downloads, pages and search (None: the CPUs available).
    `progress`: told each stage as it starts (see Progress)."""
    project = Path(project)
    result = BuildResult()
    clock = _Clock(result.stages, progress)
    templates = templates_dir(project)
    with clock("unchanged"):
        inputs = inputs_digest(project, templates, {"base_url": base_url,
                                                    "today": (today or reference_date()).isoformat()})
        kept = _kept_build(Path(out), inputs)
    if kept is not None:
        kept.stages = result.stages
        return kept

    with clock("validate"):
        try:
            prepared = prepare(project, today, jobs, progress)
        except WorkerError as error:
            raise BuildError(str(error)) from error
        result.issues = prepared.issues
    if has_errors(result.issues) or prepared.directory is None:
        raise BuildError("数据有错误", result.issues)

    with clock("model"):
        directory = prepared.directory
        content = prepared.content
        tables = published_tables(directory, [e.release for e in prepared.editions])
        updated = data_updated(directory, prepared.editions)
        env = make_environment(templates, updated, base_url)
    try:
        with StagedSite(out) as site:
            with clock("downloads"):
                version = str(prepared.editions[-1].year) if prepared.editions else str(directory.meta.get("version", ""))
                written, summary = export_downloads(directory, tables, today or reference_date(), version,
                                                    site.fresh, workers(jobs))
                result.downloads = site.adopt(written)
                bundles: dict[int, FileInfo] = {}
                for edition in prepared.editions:
                    for path, data in edition_files(directory, edition):
                        if path.endswith("/" + bundle_name(edition.year)):
                            bundles[edition.year] = FileInfo.of(path, "zip", data)
                        site.write(path, data)
                        result.downloads += 1
                issued = min((e.release.published_date for e in prepared.editions), default=updated)
                site.write(CATALOG, catalog_jsonld(directory, summary, prepared.editions, bundles, base_url,
                                                   issued, updated))
                result.downloads += 1
            with clock("render"):
                pages = list(plan_pages(directory, content, summary, prepared.editions, prepared.frozen, bundles))
                _tell(progress, "render", 0, len(pages))
                shared = shared_digest(Fingerprints(), templates, {"meta": directory.meta, "nav": content,
                                                                   "updated": updated, "base_url": base_url})
                written = write_pages(site, env, directory, pages, content, workers(jobs), shared,
                                      read_records(records_path(site.target)))
                result.pages, result.rendered = written.pages, written.rendered
                _tell(progress, "render", len(pages), len(pages))
            with clock("feeds"):
                listed = [page.url for page in pages if page.file == "index.html"]  # not the 404 page
                crawled = crawler_files(directory, prepared.editions, listed, base_url, today or reference_date())
                result.crawler_files = site.write_all(crawled)
            with clock("search"):
                signed = stamp(data_files(project))
                reused = site.reuse("search", STAMP, signed)
                result.search_reused = reused is not None
                result.search = reused if reused is not None else write_index(site, directory, signed, workers(jobs))
            with clock("assets"):
                assets = templates / "assets"
                result.assets = site.copy_tree(assets, "assets") if assets.is_dir() else 0
            with clock("cleanup"):
                result.stages["publish"] = site.commit()  # the swap alone; cleanup = deleting the old site
                result.bytes = site.bytes
                result.linked = site.linked
                write_records(records_path(site.target), written.records)
                write_state(state_path(site.target), _state(site.target, inputs, result))
            result.stages["cleanup"] -= result.stages["publish"]
    except (PublishError, WorkerError) as error:
        raise BuildError(str(error)) from error
    except TemplateError as error:
        where = f"{error.filename or error.name} 第{error.lineno}行" if isinstance(error, TemplateSyntaxError) else ""
        raise BuildError(f"模板 {where}出错：{error.message}") from error
    return result


#: the counts a build reports, kept in its state so that a build with nothing to do reports them too
_COUNTS = ("pages", "downloads", "assets", "search", "bytes", "crawler_files")


def _state(target: Path, inputs: str, result: BuildResult) -> dict:
    """What a later build with the same inputs needs to know it has nothing to do (incremental.py)."""
    return {"inputs": inputs, "manifest": published_manifest_digest(target),
            "result": {name: getattr(result, name) for name in _COUNTS},
            "issues": [issue.to_dict() for issue in result.issues]}


def _kept_build(out: Path, inputs: str) -> BuildResult | None:
    """The published site's result, when it was built from exactly these inputs and every file is
    still as that build wrote it (then there is nothing to do); None otherwise. Under the lock."""
    target = out.resolve()
    if not (target / MARKER).is_file():
        return None
    lock = OutputLock(target)
    try:
        lock.acquire()
    except PublishError as error:
        raise BuildError(str(error)) from error
    try:
        remove_leftovers(target)  # of builds that were killed, as every build does
        state = read_state(state_path(target))
        if (state is None or state["inputs"] != inputs or not isinstance(state.get("result"), dict)
                or state.get("manifest") != published_manifest_digest(target) or not published_intact(target)):
            return None
        try:
            counts = {name: int(state["result"][name]) for name in _COUNTS}
            issues = [Issue(**issue) for issue in state.get("issues", [])]
        except (KeyError, TypeError, ValueError):
            return None
        return BuildResult(**counts, linked=counts["pages"], issues=issues, unchanged=True)
    finally:
        lock.release()


class _Clock:
    """`with clock("stage"):` adds the stage's wall time to a dict (and tells `progress` it started)."""

    def __init__(self, stages: dict[str, float], progress: Progress | None = None):
        self.stages = stages
        self.progress = progress

    def __call__(self, name: str) -> "_Clock":
        self.name = name
        return self

    def __enter__(self) -> None:
        _tell(self.progress, self.name)
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.stages[self.name] = self.stages.get(self.name, 0.0) + time.perf_counter() - self.start
