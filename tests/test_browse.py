"""Browse without search, on the built sample: every listing equals a plain scan of the CSV files.

The expected sets come from datasets/*.csv read with the csv module (not the engine's
model); the site is read back by parsing its HTML and following its "next" links.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from skillbrands import render
from test_build import tree_bytes
from skillbrands.pipeline import build_site

LIMIT = 100 * 1024  # bytes a listing page may weigh
SMALL_PAGES = 5  # rows per page in the paginated build, so most listings span pages
LISTINGS = ("brands", "occupations", "tiers", "focus", "years", "regions")


def rows_of(repo: Path, name: str) -> list[dict[str, str]]:
    with (repo / "datasets" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Data:
    """The sample as its CSV files say, by a plain scan."""

    def __init__(self, repo: Path):
        self.regions = {r["code"]: r for r in rows_of(repo, "regions")}
        institutions = rows_of(repo, "institutions")
        self.place = {i["institution_id"]: i["region_code"] for i in institutions}
        self.institution_names = {i["institution_id"]: i["name"] for i in institutions}
        self.brands = {b["brand_id"]: b for b in rows_of(repo, "brands")}
        self.exited = {e["brand_id"] for e in rows_of(repo, "exits")}
        self.latest: dict[str, dict[str, str]] = {}
        for o in rows_of(repo, "outcomes"):
            if o["brand_id"] not in self.latest or int(o["year"]) > int(self.latest[o["brand_id"]]["year"]):
                self.latest[o["brand_id"]] = o

    def chain(self, code: str) -> list[str]:
        """The region and its parents, nearest first."""
        out = []
        while code:
            out.append(code)
            code = self.regions[code]["parent_code"]
        return out

    def located_in(self, code: str) -> Counter:
        return Counter(b for b, row in self.brands.items() if code in self.chain(self.place[row["institution_id"]]))

    def published_by(self, code: str) -> Counter:
        return Counter(b for b, row in self.brands.items() if row["region_code"] == code)

    def prefecture(self, brand_id: str) -> str:
        chain = self.chain(self.place[self.brands[brand_id]["institution_id"]])
        return next((c for c in chain if self.regions[c]["level"] == "prefecture"), chain[-1])

    def rate(self, brand_id: str) -> str:
        o = self.latest.get(brand_id)
        return "—" if o is None else f"{int(o['employed']) / int(o['trainees']) * 100:.1f}%"


@pytest.fixture(scope="module")
def data(repo: Path) -> Data:
    return Data(repo)


@pytest.fixture(scope="module")
def site(sample_site: Path) -> Path:
    """The sample as published (real page size)."""
    return sample_site


@pytest.fixture(scope="module")
def paged(tmp_path_factory, repo: Path) -> Path:
    """The sample with a few rows a page, so most listings need their pagination."""
    out = tmp_path_factory.mktemp("paged") / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "PAGE_SIZE", SMALL_PAGES)
        build_site(repo, out)
    return out


def page(out: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((out / url / "index.html").read_text(encoding="utf-8"), "html.parser")


def listing(out: Path, base: str) -> list[tuple[str, str, str]]:
    """(brand_id, section id, row cells...) of every row, following "next" from the first page;
    checks that the pages followed are exactly the pages written, each numbered and linked back."""
    rows: list[tuple[str, str, str]] = []
    seen = []
    current = (out / base / "index.html").resolve()
    while True:
        seen.append(current)
        html = BeautifulSoup(current.read_text(encoding="utf-8"), "html.parser")
        for tr in html.select("table.brands tbody tr"):
            link = tr.select_one("td a")["href"]
            brand_id = link.rstrip("/").split("/")[-2]
            section = tr.find_parent("section")
            rows.append((brand_id, section["id"] if section else "", tr))
        following = html.select_one("nav.pager a[rel=next]")
        if following is None:
            break
        current = (current.parent / following["href"]).resolve()
        back = BeautifulSoup(current.read_text(encoding="utf-8"), "html.parser").select_one("nav.pager a[rel=prev]")
        assert (current.parent / back["href"]).resolve() == seen[-1]
    written = {p.resolve() for p in (out / base / "page").glob("*/index.html")} | {(out / base / "index.html").resolve()}
    assert set(seen) == written and len(seen) == len(written), base
    return rows


def ids(rows) -> Counter:
    return Counter(r[0] for r in rows)


def occupation_keys(data: Data) -> set[str]:
    return {b["occupation_code"] or "other" for b in data.brands.values()}


def test_occupation_pages_list_exactly_the_brands_by_prefecture(paged: Path, data: Data) -> None:
    assert {p.name for p in (paged / "occupations").iterdir() if p.is_dir()} == occupation_keys(data)
    assert "other" in occupation_keys(data)  # the sample has trades without a code: their page is tested too
    for key in occupation_keys(data):
        expected = Counter(b for b, row in data.brands.items() if (row["occupation_code"] or "other") == key)
        rows = listing(paged, f"occupations/{key}/")
        assert ids(rows) == expected, key
        assert all(section == f"r{data.prefecture(b)}" for b, section, _ in rows), key
        for view in ("by-rate", "by-trainees"):
            assert ids(listing(paged, f"occupations/{key}/{view}/")) == expected, (key, view)


def test_occupation_index_counts_by_major_group(site: Path, data: Data) -> None:
    index = page(site, "occupations")
    counts = Counter(b["occupation_code"] for b in data.brands.values() if b["occupation_code"])
    for digit in {code[0] for code in counts}:
        section = index.select_one(f"section#major-{digit}")
        heading = section.h2.get_text(strip=True)
        assert f"（{sum(n for c, n in counts.items() if c[0] == digit)} 个品牌）" in heading
        shown = {a["href"].split("/")[-2]: li.get_text(strip=True).rsplit("（", 1)[1].rstrip("）")
                 for li in section.select("li") for a in li.select("a")}
        assert shown == {c: str(n) for c, n in counts.items() if c[0] == digit}
    assert len(index.select("section[id^=major-]")) == len({c[0] for c in counts}) + 1  # and the other trades


def test_region_pages_list_what_is_run_there_and_what_was_published(paged: Path, data: Data) -> None:
    pages = set()
    for code in data.regions:
        located, published = data.located_in(code), data.published_by(code)
        if not located and not published:
            assert not (paged / "regions" / code).exists(), code
            continue
        pages.add(code)
        assert ids(listing(paged, f"regions/{code}/")) == located, code
        if published:
            assert ids(listing(paged, f"regions/{code}/published/")) == published, code
        else:
            assert not (paged / "regions" / code / "published").exists()
    assert {p.name for p in (paged / "regions").iterdir() if p.is_dir()} == pages
    # the issue's example: 包头's page lists its province-tier brands too
    assert any(data.brands[b]["tier"] == "province" for b, _, _ in listing(paged, "regions/150200/"))


def test_region_summaries_by_county_and_by_trade(site: Path, data: Data) -> None:
    for code, region in data.regions.items():
        if region["level"] == "county" or not (site / "regions" / code).exists():
            continue
        html = page(site, f"regions/{code}")
        children = {a["href"].split("/")[-2]: li.get_text(strip=True).rsplit("（", 1)[1].rstrip("）")
                    for li in html.select("ul.regions li") for a in li.select("a")}
        expected = {c: str(sum(data.located_in(c).values())) for c, r in data.regions.items()
                    if r["parent_code"] == code and (data.located_in(c) or data.published_by(c))}
        assert children == expected, code
        trades = Counter(data.brands[b]["occupation_code"] or "other" for b in data.located_in(code).elements())
        shown = {a["href"].split("/")[-2]: int(li.get_text(strip=True).rsplit("（", 1)[1].rstrip("）"))
                 for li in html.select("ul.trades li") for a in li.select("a")}
        assert shown == dict(trades), code


def test_every_listing_covers_every_brand_exactly_once(paged: Path, data: Data) -> None:
    everything = Counter(list(data.brands))
    assert ids(listing(paged, "brands/")) == everything
    for folder in ("tiers", "focus", "years"):
        together = Counter()
        for value in sorted(p.name for p in (paged / folder).iterdir()):
            together += ids(listing(paged, f"{folder}/{value}/"))
        assert together == everything, folder
    for tier in ("province", "prefecture", "county"):
        expected = Counter(b for b, row in data.brands.items() if row["tier"] == tier)
        for view in ("", "by-rate/", "by-trainees/"):
            assert ids(listing(paged, f"tiers/{tier}/{view}")) == expected, (tier, view)


def test_exited_brands_come_after_listed_ones_in_each_section(paged: Path, data: Data) -> None:
    for base in ("brands/", "tiers/province/", "tiers/province/by-rate/", "regions/150000/", "years/2023/"):
        sections: dict[str, list[bool]] = {}
        for brand_id, section, tr in listing(paged, base):
            sections.setdefault(section, []).append(brand_id in data.exited)
            assert (brand_id in data.exited) == ("已退出" in tr.get_text()), brand_id
        assert any(True in flags for flags in sections.values()), base  # the check is not vacuous
        assert all(flags == sorted(flags) for flags in sections.values()), base


def test_sorted_by_employment_rate_largest_first(paged: Path, data: Data) -> None:
    def rate(brand_id: str) -> float:
        o = data.latest.get(brand_id)
        return -1.0 if o is None else int(o["employed"]) / int(o["trainees"])

    listed = [b for b, _, _ in listing(paged, "tiers/county/by-rate/") if b not in data.exited]
    assert [rate(b) for b in listed] == sorted((rate(b) for b in listed), reverse=True)


def test_every_list_row_shows_brand_institution_place_trade_tier_and_rate(site: Path, data: Data) -> None:
    checked = 0
    for folder in LISTINGS:
        for path in (site / folder).rglob("index.html"):
            for tr in BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select("table.brands tbody tr"):
                brand_id = tr.select_one("td a")["href"].rstrip("/").split("/")[-2]
                row = data.brands[brand_id]
                cells = [td.get_text(" ", strip=True) for td in tr.select("td")]
                place = data.chain(data.place[row["institution_id"]])[::-1]
                assert tr.select_one("td a").get_text(strip=True) == row["name"], path
                assert cells[1] == data.institution_names[row["institution_id"]], path
                assert cells[2] == " ".join(data.regions[c]["name"] for c in place[1:]), path
                assert cells[3] == row["occupation_name"], path
                assert cells[4] == {"province": "自治区级", "prefecture": "盟市级", "county": "旗县级"}[row["tier"]], path
                assert tr.select_one("td.rate").get_text(strip=True).rstrip("*") == data.rate(brand_id), path
                checked += 1
    assert checked > 1_000


def test_listing_pages_weigh_at_most_100_kb(site: Path) -> None:
    sizes = {path: path.stat().st_size for folder in LISTINGS for path in (site / folder).rglob("index.html")}
    heaviest = max(sizes, key=sizes.get)
    assert sizes[heaviest] <= LIMIT, f"{heaviest.relative_to(site)}: {sizes[heaviest]:,} bytes"


def test_browse_pages_are_deterministic_across_processes(site: Path, repo: Path, tmp_path: Path) -> None:
    """Another process with another hash seed writes the same bytes (no set or dict order leaks)."""
    out = tmp_path / "again"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", "import sys; from skillbrands.pipeline import build_site; "
                    "build_site(sys.argv[1], sys.argv[2])", str(repo), str(out)], check=True, env=env)
    first, second = tree_bytes(site), tree_bytes(out)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_text_bugs_named_in_the_issue_are_gone(site: Path, repo: Path) -> None:
    data_page = page(site, "data").get_text()
    assert "示例数据：示例数据" not in data_page and "示例数据：" in data_page
    exits = page(site, "exits").get_text()
    assert "三年评估未达标" in exits and "三年评估未达标：三年评估" not in exits
    running = {b["institution_id"] for b in rows_of(repo, "brands")}
    everyone = rows_of(repo, "institutions")
    assert len(running) < len(everyone)  # the sample has an institution without brands
    intro = page(site, "institutions").select_one("main p").get_text()
    assert f"共 {len(everyone)} 家培训机构，其中 {len(running)} 家举办了列入目录的品牌" in intro


@pytest.mark.parametrize("slug", ["occupations", "tiers", "focus", "years"])
def test_a_content_page_cannot_take_a_browse_folder(make_project, slug: str) -> None:
    from skillbrands.pipeline import check_project

    project = make_project()
    (project / "content" / f"{slug}.md").write_text("title: 冲突\n\n正文", encoding="utf-8")
    assert (f"content/{slug}.md", None, None, "content-invalid") in [i.as_tuple() for i in check_project(project)]


def test_each_edition_lists_the_brands_listed_on_its_release_date(paged: Path, data: Data, repo: Path) -> None:
    exits = {e["brand_id"]: e["exit_date"] for e in rows_of(repo, "exits")}
    for release in rows_of(repo, "releases"):
        year, when = release["year"], release["published_date"]
        listed = Counter(b for b, row in data.brands.items()
                         if row["published_date"] <= when and not (b in exits and exits[b] <= when))
        assert listed and ids(listing(paged, f"releases/{year}/brands/")) == listed, year
        html = page(paged, f"releases/{year}")
        link = html.select_one(f"a[href$='releases/{year}/brands/index.html']")
        assert link is not None and f"{sum(listed.values())} 个品牌" in link.get_text()


def test_exits_are_paginated_newest_first(paged: Path, repo: Path) -> None:
    exits = sorted(rows_of(repo, "exits"), key=lambda e: (e["exit_date"], e["brand_id"]), reverse=True)
    shown, current = [], (paged / "exits" / "index.html")
    while True:
        html = BeautifulSoup(current.read_text(encoding="utf-8"), "html.parser")
        shown += [tr.select_one("td.lead a")["href"].split("/")[-2] for tr in html.select("table.exits tbody tr")]
        following = html.select_one("nav.pager a[rel=next]")
        if following is None:
            break
        current = (current.parent / following["href"]).resolve()
    assert shown == [e["brand_id"] for e in exits] and len(exits) > SMALL_PAGES
