"""The build, one line per stage: load & validate -> model -> pages + downloads -> publish.

Everything is checked before anything is written; pages and downloads stream into a
staging folder that replaces the published site only when every stage has passed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

from jinja2 import TemplateError, TemplateSyntaxError

from .content import ContentPage, load_content
from .editions import Edition, bundle_name, compute_editions, edition_files, releases_from
from .export import export_downloads
from .frozen import check_history
from .issues import Issue, excerpt, has_errors, sort_key
from .model import Directory, build_directory
from .publish import PublishError, StagedSite
from .formats import FileInfo
from .search import STAMP, stamp, write_index
from .tables import published_tables
from .render import data_updated, make_environment, plan_pages, write_pages
from .urls import check_cell_urls, check_package_urls
from .validate import Loaded, load_package, reference_date
from .workers import WorkerError, workers


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
    issues: list[Issue] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds

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


def prepare(project: Path, today: date | None = None) -> Prepared:
    """Load and validate the data and the content, build the model and the editions,
    and check that no frozen edition is damaged or would change: every problem, in one run."""
    project = Path(project)
    today = today or reference_date()
    loaded = load_package(project, today)
    content, content_issues = load_content(project)
    url_issues = check_package_urls(loaded.descriptor) + check_cell_urls(
        loaded.descriptor, loaded.tables, loaded.row_numbers, loaded.issues)
    issues = loaded.issues + content_issues + url_issues
    reported = {issue.as_tuple() for issue in issues}  # the readers refuse the links they meet, too
    issues += [issue for issue in check_paths(project) if issue.as_tuple() not in reported]
    prepared = Prepared(issues=issues, content=content)
    if not has_errors(loaded.issues):
        directory = build_directory(loaded.descriptor, loaded.tables, loaded.assessments)
        prepared.directory = directory
        prepared.editions = compute_editions(directory, releases_from(loaded.tables.get("releases", [])))
    history = check_history(project, prepared.editions if prepared.directory else None, _release_years(loaded),
                            today, _locator(loaded))
    prepared.issues += history.issues
    prepared.frozen = set(history.verified)
    prepared.issues.sort(key=sort_key)
    return prepared


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
    """(resource, key values as text) -> spreadsheet row, for naming the row behind a change."""
    keys = {"brands": ("brand_id",), "outcomes": ("brand_id", "year"), "exits": ("brand_id",),
            "institutions": ("institution_id",), "releases": ("year",)}
    index: dict[str, dict[tuple[str, ...], int]] = {}

    def locate(resource: str, key: tuple[str, ...]) -> int | None:
        if resource not in index:
            fields = keys[resource]
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


def check_project(project: Path, today: date | None = None) -> list[Issue]:
    """Every problem in the data package, the content pages and the frozen editions."""
    return prepare(project, today).issues


def templates_dir(project: Path) -> Path:
    """The project's own templates, or the ones bundled with skillbrands."""
    own = project / "site_templates"
    return own if own.is_dir() else Path(__file__).resolve().parent.parent / "site_templates"


def build_site(project: Path, out: Path, today: date | None = None) -> BuildResult:
    project = Path(project)
    result = BuildResult()
    clock = _Clock(result.stages)

    with clock("validate"):
        try:
            prepared = prepare(project, today)
        except WorkerError as error:
            raise BuildError(str(error)) from error
        result.issues = prepared.issues
    if has_errors(result.issues) or prepared.directory is None:
        raise BuildError("数据有错误", result.issues)

    with clock("model"):
        directory = prepared.directory
        content = prepared.content
        tables = published_tables(directory, [e.release for e in prepared.editions])
        templates = templates_dir(project)
        env = make_environment(templates, data_updated(directory, prepared.editions))
    try:
        with StagedSite(out) as site:
            with clock("downloads"):
                version = str(prepared.editions[-1].year) if prepared.editions else str(directory.meta.get("version", ""))
                written, summary = export_downloads(directory, tables, today or reference_date(), version,
                                                    site.claim, workers())
                result.downloads = site.adopt(written)
                bundles: dict[int, FileInfo] = {}
                for edition in prepared.editions:
                    for path, data in edition_files(directory, edition):
                        if path.endswith("/" + bundle_name(edition.year)):
                            bundles[edition.year] = FileInfo.of(path, "zip", data)
                        site.write(path, data)
                        result.downloads += 1
            with clock("render"):
                pages = list(plan_pages(directory, content, summary, prepared.editions, prepared.frozen, bundles))
                result.pages = write_pages(site, env, directory, pages, content, workers())
            with clock("search"):
                signed = stamp(data_files(project))
                reused = site.reuse("search", STAMP, signed)
                result.search_reused = reused is not None
                result.search = reused if reused is not None else write_index(site, directory, signed, workers())
            with clock("assets"):
                assets = templates / "assets"
                result.assets = site.copy_tree(assets, "assets") if assets.is_dir() else 0
            with clock("cleanup"):
                result.stages["publish"] = site.commit()  # the swap alone; cleanup = deleting the old site
            result.stages["cleanup"] -= result.stages["publish"]
            result.bytes = site.bytes
            result.linked = site.linked
    except (PublishError, WorkerError) as error:
        raise BuildError(str(error)) from error
    except TemplateError as error:
        where = f"{error.filename or error.name} 第{error.lineno}行" if isinstance(error, TemplateSyntaxError) else ""
        raise BuildError(f"模板 {where}出错：{error.message}") from error
    return result


class _Clock:
    """`with clock("stage"):` adds the stage's wall time to a dict."""

    def __init__(self, stages: dict[str, float]):
        self.stages = stages

    def __call__(self, name: str) -> "_Clock":
        self.name = name
        return self

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.stages[self.name] = self.stages.get(self.name, 0.0) + time.perf_counter() - self.start
