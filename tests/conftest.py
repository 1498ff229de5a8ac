"""Shared fixtures: small projects assembled from folders under tests/sites/.

A fixture site is a folder that holds only what differs from `tests/sites/minimal/`
(e.g. `tests/sites/bad_gbk/datasets/institutions.csv`); `make_project` copies the
minimal site, lays the named overlays on top, and adds the repository's own
`datasets/datapackage.json` and `site_templates/` when the overlay has none, so a
bug report becomes a folder on disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"


def assemble(target: Path, *overlays: str) -> Path:
    """Copy tests/sites/minimal plus overlays into `target`; return it."""
    shutil.copytree(SITES / "minimal", target, dirs_exist_ok=True)
    for name in overlays:
        shutil.copytree(SITES / name, target, dirs_exist_ok=True)
    package = target / "datasets" / "datapackage.json"
    if not package.exists():
        shutil.copy2(REPO / "datasets" / "datapackage.json", package)
    if not (target / "site_templates").exists():
        shutil.copytree(REPO / "site_templates", target / "site_templates")
    return target


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """make_project("bad_gbk") -> a fresh project folder in tmp_path."""
    counter = iter(range(1000))

    def _make(*overlays: str) -> Path:
        return assemble(tmp_path / f"project{next(counter)}", *overlays)

    return _make


def copy_sample(target: Path) -> Path:
    """The bundled sample project (data, content, templates) copied to `target`."""
    for folder in ("datasets", "content", "site_templates"):
        shutil.copytree(REPO / folder, target / folder)
    return target


def unfreeze(project: Path) -> Path:
    """Drop the frozen editions, for tests that rewrite history on purpose (names, old figures)."""
    shutil.rmtree(project / "datasets" / "editions", ignore_errors=True)
    return project


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory) -> Path:
    """The bundled sample, built once for every test that only reads the site."""
    from skillbrands.pipeline import build_site

    out = tmp_path_factory.mktemp("sample") / "site"
    build_site(REPO, out)
    return out
