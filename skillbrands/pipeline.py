"""The build, one line per stage: load & validate -> model -> pages + downloads -> publish.

Everything is checked before anything is written; pages and downloads stream into a
staging folder that replaces the published site only when every stage has passed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError

from .content import load_content
from .export import downloads, export_downloads
from .issues import Issue, has_errors, sort_key
from .model import build_directory
from .publish import PublishError, StagedSite
from .render import make_environment, plan_pages, render_pages
from .validate import load_package


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
    bytes: int = 0
    issues: list[Issue] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds

    @property
    def seconds(self) -> float:
        return sum(self.stages.values())


def check_project(project: Path) -> list[Issue]:
    """Every problem in the data package and the content pages, in one run."""
    loaded = load_package(project)
    _, content_issues = load_content(project)
    return sorted(loaded.issues + content_issues, key=sort_key)


def templates_dir(project: Path) -> Path:
    """The project's own templates, or the ones bundled with skillbrands."""
    own = project / "site_templates"
    return own if own.is_dir() else Path(__file__).resolve().parent.parent / "site_templates"


def build_site(project: Path, out: Path) -> BuildResult:
    project = Path(project)
    result = BuildResult()
    clock = _Clock(result.stages)

    with clock("validate"):
        loaded = load_package(project)
        content, content_issues = load_content(project)
        result.issues = sorted(loaded.issues + content_issues, key=sort_key)
    if has_errors(result.issues):
        raise BuildError("数据有错误", result.issues)

    with clock("model"):
        directory = build_directory(loaded.descriptor, loaded.tables)
        specs = downloads(directory)
        templates = templates_dir(project)
        env = make_environment(templates)
    try:
        with StagedSite(out) as site:
            with clock("render"):
                listing = [{"name": s.name, "title": s.title, "description": s.description, "columns": s.columns}
                           for s in specs]
                pages = plan_pages(directory, content, listing)
                result.pages = site.write_all(render_pages(env, directory, pages, content))
            with clock("downloads"):
                result.downloads = site.write_all(export_downloads(directory, specs))
            # search index: a later stage writes its files here, from the same model
            with clock("assets"):
                assets = templates / "assets"
                result.assets = site.copy_tree(assets, "assets") if assets.is_dir() else 0
            with clock("publish"):
                site.commit()
            result.bytes = site.bytes
    except PublishError as error:
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
