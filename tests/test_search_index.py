"""The search index: what the written files answer equals a plain substring scan of the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_queries import expected_urls, records_of, regression_queries
from skillbrands.pipeline import build_site, prepare
from skillbrands.search import (
    EXACT, IN_NAME, OTHER, PREFIX, TooShort, fold, normalise, query_index, search_files, terms)


@pytest.fixture(scope="module")
def sample(sample_site: Path, repo: Path):
    """The bundled sample, built once: (directory, site folder)."""
    return prepare(repo).directory, sample_site


def reader(out: Path):
    cache: dict[str, object] = {}
    fetched: list[str] = []

    def load(relpath: str) -> bytes:
        if relpath not in cache:
            fetched.append(relpath)
            cache[relpath] = (out / relpath).read_bytes()
        return cache[relpath]

    load.fetched = fetched  # type: ignore[attr-defined]
    return load


def urls(out: Path, query: str) -> list[str]:
    load = reader(out)
    meta = json.loads(load("search/meta.json"))
    found = []
    for rid, _ in query_index(load, query):
        block = json.loads(load(f"search/r/{rid // meta['display_block']}.json"))
        found.append(block[rid % meta["display_block"]]["url"])
    return found


def test_every_regression_query_is_exact(sample) -> None:
    directory, out = sample
    records = records_of(directory)
    queries = regression_queries(directory)
    assert len(queries) >= 40
    hits = 0
    for query in queries:
        expected = expected_urls(records, query)
        found = urls(out, query)
        assert len(found) == len(set(found)), query
        assert set(found) == expected, f"{query}: missing {expected - set(found)}, extra {set(found) - expected}"
        hits += bool(expected)
    assert hits >= 35  # the set is not vacuous: most queries find something
    assert not expected_urls(records, "火星基地")


def test_every_substring_of_some_names_is_found(sample) -> None:
    """Exhaustive on a few records: every substring of 2..8 characters of the name."""
    directory, out = sample
    records = records_of(directory)
    for record in records[:: max(1, len(records) // 6)]:
        name = record.name
        for length in range(2, 9):
            for start in range(0, max(0, len(name) - length) + 1, 3):
                query = name[start:start + length]
                if all(len(t) >= 2 for t in terms(query)) and terms(query):
                    assert set(urls(out, query)) == expected_urls(records, query), query


def test_normalisation() -> None:
    assert normalise("錫林郭勒盟") == "锡林郭勒盟"
    assert normalise("ＢａｏＴｏｕ") == "baotou"
    assert normalise("内人社办发〔2023〕22号") == "内人社办发202322号"
    assert normalise("6-18-02-04") == "6180204"
    assert fold("乾") == "乾"  # also a simplified character: kept, at index and query time alike
    assert terms("包头  焊工") == ["包头", "焊工"]


def test_one_character_is_too_short(sample) -> None:
    _, out = sample
    with pytest.raises(TooShort):
        query_index(reader(out), "焊")
    with pytest.raises(TooShort):
        query_index(reader(out), "包头 焊")
    assert query_index(reader(out), "  ") == []


def test_ranking_name_before_other_fields(sample) -> None:
    directory, out = sample
    ranked = query_index(reader(out), "包头")
    classes = [cls for _, cls in ranked]
    meta = json.loads((out / "search/meta.json").read_text(encoding="utf-8"))
    listed = [cls for rid, cls in ranked if rid < meta["first_exited"]]
    assert listed == sorted(listed) and OTHER in classes and min(classes) < OTHER
    region = next(r for r in directory.regions.values() if r.name == "包头市")
    rid, cls = query_index(reader(out), "包头市")[0]
    assert cls == EXACT and urls(out, "包头市")[0] == f"regions/{region.code}/"
    assert {cls for _, cls in query_index(reader(out), "包头市焊工")} <= {PREFIX, IN_NAME, EXACT}
    # exited records come after listed ones
    ranked = query_index(reader(out), "培训")
    flags = [rid >= meta["first_exited"] for rid, _ in ranked]
    assert flags == sorted(flags) and any(flags)


def test_a_query_fetches_few_small_files(sample) -> None:
    _, out = sample
    load = reader(out)
    query_index(load, "鄂尔多斯")
    assert len(load.fetched) <= 7  # meta, and two lists (records, positions) per bigram


def test_index_is_deterministic(sample) -> None:
    directory, _ = sample
    assert list(search_files(directory)) == list(search_files(directory))


def test_search_box_on_every_page_and_script_only_on_the_search_page(sample, repo: Path) -> None:
    from bs4 import BeautifulSoup

    LARGE_MODE = (repo / "site_templates" / "_large_mode.js").read_text(encoding="utf-8")

    _, out = sample
    for page in out.rglob("*.html"):
        html = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        form = html.select_one("header form[role=search]")
        assert form is not None and form["method"] == "get", page
        # the 404 page resolves its links against <base> (the site's root), every other page against itself
        folder = out if page.name == "404.html" else page.parent
        assert (folder / form["action"]).resolve() == (out / "search" / "index.html").resolve(), page
        assert form.select_one("input[name=q]") is not None
        # every page has the small inline script that remembers 长辈模式 (the mode works without it);
        # the 404 page also the one that finds the site's root in the address
        scripts = [s.get("src") for s in html.select("script[src]")]
        # (JSON-LD is data, not script: <script type="application/ld+json"> runs nothing)
        inline = [(s.string or "").strip()[:80] for s in html.select("script:not([src])")
                  if s.get("type") != "application/ld+json"]
        if page.name == "404.html":
            assert "document.querySelector(\"base\")" in html.select_one("script").string
            inline = inline[1:]
        assert inline == [LARGE_MODE.strip()[:80]], page
        assert scripts == (["../assets/search-page.js"] if page.parent.name == "search" else []), page
    search = BeautifulSoup((out / "search" / "index.html").read_text(encoding="utf-8"), "html.parser")
    notice = search.select_one("noscript p")
    assert "JavaScript" in notice.get_text() and "\n" not in notice.get_text()
    assert [a["href"] for a in notice.select("a")] == [
        "../brands/index.html", "../institutions/index.html", "../regions/index.html"]
    assert search.select_one("#search-status")["aria-live"] == "polite"


def test_index_is_carried_over_when_its_input_is_unchanged(tmp_path: Path, repo: Path) -> None:
    """A rebuild with the same data links the published index; a changed brand name rebuilds it."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(repo / "datasets", project / "datasets", ignore=shutil.ignore_patterns("editions"))
    shutil.copytree(repo / "content", project / "content")  # no frozen editions: names may change
    out = tmp_path / "site"
    first = build_site(project, out)
    assert not first.search_reused
    inode = (out / "search/meta.json").stat().st_ino
    page = sorted((project / "content").glob("*.md"))[0]  # a change the index does not read
    page.write_text(page.read_text("utf-8") + "\n补充一句。\n", encoding="utf-8")
    second = build_site(project, out)
    assert second.search_reused and second.search == first.search
    assert (out / "search/meta.json").stat().st_ino == inode
    brands = project / "datasets/brands.csv"
    text = brands.read_text(encoding="utf-8")
    name = next(b.name for b in prepare(project).directory.brands.values() if not b.exited)
    brands.write_text(text.replace(name, name + "甲乙", 1), encoding="utf-8")
    third = build_site(project, out)
    assert not third.search_reused
    assert any(url.startswith("brands/") for url in urls(out, name + "甲乙"))
    (out / "search/meta.json").write_bytes(b"{}")  # a published file edited by hand: rebuilt, not trusted
    fourth = build_site(project, out)
    assert not fourth.search_reused and json.loads((out / "search/meta.json").read_bytes())["records"]
