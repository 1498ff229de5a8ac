"""Validation and rendering in worker processes give exactly what one process gives."""

from __future__ import annotations

import pytest

from skillbrands import validate
from skillbrands.pipeline import build_site

from test_build import tree_bytes

CASES = ["bad_percent_value", "bad_duplicate_id", "bad_scientific_notation", "bad_fk_outcomes_brand",
         "bad_thousands_separator", "bad_missing_cell"]


@pytest.mark.parametrize("case", CASES)
def test_row_ranges_in_workers_match_one_process(case: str, make_project, monkeypatch) -> None:
    project = make_project(case)
    one = validate.load_package(project)
    monkeypatch.setattr(validate, "PARALLEL_FROM", 0)
    monkeypatch.setattr(validate, "CHUNK_ROWS", 2)  # many tiny row ranges, duplicates across ranges
    many = validate.load_package(project, jobs=2)
    assert many.issues == one.issues and many.issues
    assert many.tables == one.tables
    assert many.row_numbers == one.row_numbers


def test_duplicate_found_across_row_ranges(make_project, monkeypatch) -> None:
    monkeypatch.setattr(validate, "PARALLEL_FROM", 0)
    monkeypatch.setattr(validate, "CHUNK_ROWS", 1)
    issues = validate.validate_project(make_project("bad_duplicate_id"))
    assert ("datasets/brands.csv", 7, "brand_id", "duplicate-id") in [i.as_tuple() for i in issues]


def test_pages_rendered_by_workers_are_byte_identical(make_project, monkeypatch) -> None:
    from skillbrands import render

    one = make_project()
    build_site(one, one / "output")
    many = make_project()
    monkeypatch.setattr(render, "PARALLEL_FROM", 0)
    monkeypatch.setattr(render, "CHUNK_PAGES", 3)
    result = build_site(many, many / "output", jobs=2)
    assert result.pages == 57  # with search/, the browse listings and 404.html (test_build.test_page_set names them)
    assert tree_bytes(many / "output") == tree_bytes(one / "output")


def test_template_error_in_a_worker_fails_cleanly(make_project, monkeypatch) -> None:
    from skillbrands import render
    from skillbrands.pipeline import BuildError

    project = make_project()
    template = project / "site_templates" / "institution.html"
    template.write_text(template.read_text("utf-8").replace("{{ institution.name }}", "{{ institution.nmae }}"), "utf-8")
    monkeypatch.setattr(render, "PARALLEL_FROM", 0)
    monkeypatch.setattr(render, "CHUNK_PAGES", 2)
    with pytest.raises(BuildError, match="模板"):
        build_site(project, project / "output", jobs=2)
    assert not (project / "output").exists()
    assert [p.name for p in project.iterdir() if ".staging-" in p.name] == []
