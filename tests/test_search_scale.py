"""The search regression set against a generated national M site (20,000 brands), in
Debian's Chromium: every query's results equal a plain scan of the generated data."""

from __future__ import annotations

import pytest

from browser import CHROMIUM, chromium, run_queries, serve
from search_queries import expected_urls, records_of, regression_queries
from skillbrands.generate import generate
from skillbrands.pipeline import build_site, prepare

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium")


@pytest.fixture(scope="module")
def m_site(tmp_path_factory):
    project = tmp_path_factory.mktemp("scale") / "project"
    generate(project, "M", 1)
    out = project.parent / "site"
    build_site(project, out)
    return prepare(project).directory, out


def test_regression_queries_are_exact_on_a_generated_m_site(m_site) -> None:
    directory, out = m_site
    records = records_of(directory)
    assert len(directory.brands) == 20_000
    queries = regression_queries(directory)
    assert len(queries) >= 40
    with serve(out) as base, chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(120_000)
        answers = run_queries(page, base, queries)
    found_any = 0
    for query, found in zip(queries, answers):
        expected = expected_urls(records, query)
        assert len(found) == len(set(found)), query
        assert set(found) == expected, f"{query}: missing {sorted(expected - set(found))[:5]}, extra {sorted(set(found) - expected)[:5]}"
        found_any += bool(expected)
    assert found_any >= 35


def test_no_page_of_the_m_site_weighs_over_100_kb(m_site) -> None:
    """Every page, listing or not, stays light for a phone on a slow network at national scale
    (release pages, the exits list and the region index were 0.2–8.6 MB before they were split)."""
    _, out = m_site
    heavy = {p.relative_to(out).as_posix(): p.stat().st_size for p in out.rglob("*.html") if p.stat().st_size > 100 * 1024}
    assert heavy == {}
