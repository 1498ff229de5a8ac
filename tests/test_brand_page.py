"""Brand pages people can act on: the title names tier and institution, the institution's
address and a tappable phone, how to enrol; an exited brand's verdict is history, never a
pass. Expected values come from the CSV files read with the csv module."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup



def rows(repo: Path, name: str) -> list[dict[str, str]]:
    with open(repo / "datasets" / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def site(sample_site: Path) -> Path:
    return sample_site


def page(site: Path, brand_id: str) -> BeautifulSoup:
    return BeautifulSoup((site / "brands" / brand_id / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_title_address_phone_and_enrolment(site: Path, repo: Path) -> None:
    package = json.loads((repo / "datasets/datapackage.json").read_text(encoding="utf-8"))
    brands_schema = next(r for r in package["resources"] if r["name"] == "brands")["schema"]
    tiers = next(f for f in brands_schema["fields"] if f["name"] == "tier")["enumLabels"]
    institutions = {r["institution_id"]: r for r in rows(repo, "institutions")}
    exited = {r["brand_id"] for r in rows(repo, "exits")}
    phones = 0
    for brand in rows(repo, "brands"):
        html = page(site, brand["brand_id"])
        institution = institutions[brand["institution_id"]]
        title = html.title.get_text()
        assert title.startswith(f"{brand['name']}（{tiers[brand['tier']]}）— {institution['name']}"), title
        facts = {dt.get_text(): dd for dt, dd in zip(html.select("dl.facts dt"), html.select("dl.facts dd"))}
        assert facts["地址"].get_text(strip=True) == (institution["address"] or "—")
        if institution["phone"]:
            link = facts["电话"].select_one("a[href^='tel:']")
            digits = "".join(c for c in institution["phone"] if c in "+0123456789")
            assert link is not None and link["href"] == f"tel:{digits}" and link.get_text() == institution["phone"]
            phones += 1
        enrol = facts["报名"].get_text()
        assert ("不再作为品牌项目招生" in enrol) == (brand["brand_id"] in exited)
    assert phones > 10  # the sample has phones: the check is not vacuous


def test_exited_brand_shows_its_verdict_as_history(site: Path, repo: Path) -> None:
    exits = rows(repo, "exits")
    assert exits
    for exit in exits:
        html = page(site, exit["brand_id"])
        verdict = html.select_one("p.verdict")
        assert "verdict-history" in verdict["class"] and "历史记录" in verdict.get_text()
        assert not html.select(".verdict-meets, .verdict-meets_key_support")
        assert exit["exit_date"] in verdict.get_text()
        banner = html.select_one(".exit-banner")
        assert banner is not None and banner.find_previous("h1") is None  # the exit leads the page
