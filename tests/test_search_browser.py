"""Search in a real headless Chromium (Debian's `chromium`, driven by Playwright), against the
built sample site served on 127.0.0.1: search.js must return exactly what a plain scan of the
data finds, and the page must work from the keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import CHROMIUM, chromium, run_queries, serve
from search_queries import expected_urls, records_of, regression_queries
from skillbrands.pipeline import prepare

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium")


@pytest.fixture(scope="module")
def served(sample_site: Path, repo: Path):
    """(directory, base URL) of the sample site, built and served by this test alone."""
    with serve(sample_site) as base:
        yield prepare(repo).directory, base


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def test_regression_queries_are_exact_in_chromium(served, page) -> None:
    directory, base = served
    records = records_of(directory)
    queries = regression_queries(directory)
    assert len(queries) >= 40
    answers = run_queries(page, base, queries)
    for query, found in zip(queries, answers):
        expected = expected_urls(records, query)
        assert len(found) == len(set(found)), query
        assert set(found) == expected, f"{query}: missing {expected - set(found)}, extra {set(found) - expected}"
    assert sum(bool(found) for found in answers) >= 35


def province(record) -> bool:
    return record.kind == "brand" and record.display["tier"] == "province"


def test_filters_narrow_exactly(served, page) -> None:
    directory, base = served
    records = records_of(directory)
    expected = {r.url for r in records if province(r)} & expected_urls(records, "培训")
    [found] = run_queries(page, base, ["培训"], {"tier": "province"})
    assert set(found) == expected and expected
    listed = {r.url for r in records if not r.exited} & expected_urls(records, "焊工")
    [found] = run_queries(page, base, ["焊工"], {"status": "listed"})
    assert set(found) == listed


def test_ranking_in_chromium(served, page) -> None:
    _, base = served
    [found] = run_queries(page, base, ["包头市"])
    assert found[0].startswith("regions/")  # the region named exactly 包头市 comes first
    page.goto(f"{base}search/index.html")
    statuses = page.evaluate("""async () => {
        const m = await import(new URL("search.js", location.href));
        return (await m.search("培训")).results.map((r) => r.status);
    }""")
    assert statuses == sorted(statuses, key=lambda s: s == "exited") and "exited" in statuses


def test_one_character_says_type_two(served, page) -> None:
    _, base = served
    page.goto(f"{base}search/?q=焊")
    page.wait_for_selector("body[data-search-done]")
    assert page.inner_text("#search-status") == "请至少输入两个字"
    assert page.locator("#search-results li").count() == 0


def test_shared_url_with_filter_and_highlight(served, page) -> None:
    directory, base = served
    records = records_of(directory)
    expected = {r.url for r in records if province(r)} & expected_urls(records, "包头 焊工")
    page.goto(f"{base}search/?q=包头+焊工&tier=province")
    page.wait_for_selector("body[data-search-done]")
    assert page.get_attribute("#search-status", "aria-live") == "polite"
    assert page.inner_text("#search-status") == f"找到 {len(expected)} 条结果"
    hrefs = page.eval_on_selector_all("#search-results li > a", "links => links.map(a => a.getAttribute('href'))")
    assert {h.removeprefix("../").removesuffix("index.html") for h in hrefs} == expected
    assert "焊工" in page.locator("#search-results mark").all_inner_texts()
    assert page.input_value("#search-q") == "包头 焊工"


def test_keyboard_only_search_and_open_a_result(served, page) -> None:
    directory, base = served
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(base)
    assert not [url for url in requested if "/search/" in url or url.endswith(".js")]  # nothing preloaded
    for _ in range(10):  # Tab to the header's search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-q":
            break
    else:
        pytest.fail("the header search box cannot be reached with Tab")
    page.keyboard.type("包头 焊工")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/**")
    page.wait_for_selector("body[data-search-done]")
    first = page.locator("#search-results li > a").first
    title = first.inner_text()
    for _ in range(40):  # Tab on to the first result
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#search-results') !== null"):
            break
    else:
        pytest.fail("no result can be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/brands/**")
    assert page.locator("h1").inner_text().startswith(title)


def search_in_page(page, base: str, query: str, options: dict) -> dict:
    page.goto(f"{base}search/index.html")
    return page.evaluate("""async ([query, options]) => {
        const m = await import(new URL("search.js", location.href));
        return await m.search(query, options);
    }""", [query, options])


def test_sort_by_employment_rate_and_by_trainees(served, page) -> None:
    directory, base = served
    records = {r.url: r for r in records_of(directory)}
    expected = expected_urls(list(records.values()), "培训")
    for sort, key in (("employment_rate", "rate"), ("trainees", "trainees")):
        answer = search_in_page(page, base, "培训", {"sort": sort})
        found = [records[r["url"]] for r in answer["results"]]
        assert {r.url for r in found} == expected
        exited = [r.exited for r in found]
        assert exited == sorted(exited)  # exited records last, in every order
        listed_brands = [r for r in found if not r.exited and r.kind == "brand"]
        values = [r.rate if key == "rate" else r.attrs["trainees"] for r in listed_brands]
        values = [-1 if v is None else v for v in values]
        assert values == sorted(values, reverse=True) and len(set(values)) > 3, sort


def test_facets_count_exactly_and_filters_narrow(served, page) -> None:
    from collections import Counter

    directory, base = served
    records = records_of(directory)
    expected = [r for r in records if r.url in expected_urls(records, "培训")]
    answer = search_in_page(page, base, "培训", {"facets": True})
    assert answer["complete"]
    for name in ("prefecture", "occupation", "focus_area", "year"):
        plain = Counter(str(r.attrs[name]) for r in expected if r.attrs.get(name) is not None)
        assert answer["facets"][name] == dict(plain), name
    assert answer["facets"]["kind"] == dict(Counter(r.kind for r in expected))
    code, count = Counter(r.attrs["occupation"] for r in expected if r.kind == "brand").most_common(1)[0]
    narrowed = search_in_page(page, base, "培训", {"filters": {"occupation": code}})
    assert narrowed["total"] == count
    assert answer["labels"]["occupation"][code] == directory.occupations[code].name


def test_sorted_page_link_is_shareable(served, page) -> None:
    _, base = served
    page.goto(f"{base}search/?q=培训&sort=trainees")
    page.wait_for_selector("body[data-search-done]")
    current = page.locator("nav[aria-label='排序'] a[aria-current]")
    assert current.inner_text() == "培训人数"
    first = page.locator("#search-results li").first.inner_text()
    assert "培训" in first and "人" in first
