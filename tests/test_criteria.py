"""Seed 000's criteria as data: hand-computed verdicts, exact boundaries, key support, scopes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from bs4 import BeautifulSoup

from skillbrands.criteria import CriteriaBook, assess
from skillbrands.pipeline import build_site
from conftest import unfreeze

EVERY = "key_technology;recognised_trade;heritage;rural_industry;innovation"
ROWS = [
    # seed 000: province and prefecture tiers, set by the province for the whole region
    {"scope_code": "150000", "tier": "province", "min_trainees": 400, "min_pass_rate": 90, "min_employment_rate": 70,
     "min_subsidised_key_group": 200, "min_order_based_share": 50, "key_support_min_employment_rate": 70,
     "key_support_categories": EVERY, "document_no": "内人社办发〔2022〕213号"},
    {"scope_code": "150000", "tier": "prefecture", "min_trainees": 200, "min_pass_rate": 85, "min_employment_rate": 60,
     "min_subsidised_key_group": 100, "min_order_based_share": 40, "key_support_min_employment_rate": 70,
     "key_support_categories": EVERY, "document_no": "内人社办发〔2022〕213号"},
    # a prefecture's default for its counties, and one county's own stricter row
    {"scope_code": "150200", "tier": "county", "min_trainees": 100, "min_pass_rate": 80, "min_employment_rate": 50,
     "min_subsidised_key_group": None, "min_order_based_share": None, "key_support_min_employment_rate": 70,
     "key_support_categories": "heritage", "document_no": "包人社发〔2022〕12号"},
    {"scope_code": "150203", "tier": "county", "min_trainees": 150, "min_pass_rate": 85, "min_employment_rate": 65,
     "min_subsidised_key_group": None, "min_order_based_share": None, "key_support_min_employment_rate": None,
     "key_support_categories": None, "document_no": "昆人社发〔2022〕3号"},
]
PARENTS = {"150000": None, "150200": "150000", "150203": "150200", "150204": "150200", "150400": "150000"}
BOOK = CriteriaBook(ROWS, PARENTS.get, {"heritage": "非物质文化遗产或地域特色"})


def outcome(trainees, passed, employed, subsidised=None, order=None):
    return {"trainees": trainees, "passed": passed, "employed": employed,
            "subsidised_key_group": subsidised, "order_based": order}


def judge(tier, region, row, key_support=False, category=None):
    return assess(tier=tier, region_code=region, year=2022, outcome=row, key_support=key_support,
                  key_support_category=category, book=BOOK)


def test_province_brand_meeting_every_criterion_exactly_at_the_threshold() -> None:
    # 400 trainees; 360/400 = 90 %; 280/400 = 70 %; 200 subsidised; 200/400 = 50 % order-based
    result = judge("province", "150000", outcome(400, 360, 280, 200, 200))
    assert result.verdict == "meets"
    assert [(c.key, c.status) for c in result.checks] == [
        ("trainees", "met"), ("pass_rate", "met"), ("employment_rate", "met"),
        ("subsidised_key_group", "met"), ("order_based_share", "met")]
    assert result.checks[1].value == Fraction(9, 10)


def test_one_trainee_short_of_a_rate_fails_with_value_and_threshold_named() -> None:
    # 279/400 = 69.75 % < 70 %: exact arithmetic, no float rounding up to 70.0
    result = judge("province", "150000", outcome(400, 360, 279, 200, 200))
    assert result.verdict == "does_not_meet"
    assert [c.key for c in result.failed] == ["employment_rate"]
    assert "培训后就业率（69.8%，标准≥ 70.0%）" in result.reason


def test_prefecture_tier_uses_its_own_thresholds() -> None:
    # 210 trainees ≥ 200; 180/210 = 85.7 % ≥ 85; 130/210 = 61.9 % ≥ 60; 100 ≥ 100; 84/210 = 40 % ≥ 40
    assert judge("prefecture", "150200", outcome(210, 180, 130, 100, 84)).verdict == "meets"
    # the same figures fail the province tier (scale, rates, subsidised, order share)
    failed = judge("province", "150000", outcome(210, 180, 130, 100, 84)).failed
    assert [c.key for c in failed] == ["trainees", "pass_rate", "employment_rate",
                                       "subsidised_key_group", "order_based_share"]


def test_key_support_relaxes_scale_when_employment_is_high_enough() -> None:
    # 60 trainees (< 100), 54/60 = 90 %, 45/60 = 75 % ≥ the 70 % key-support floor, category heritage
    row = outcome(60, 54, 45)
    assert judge("county", "150204", row).verdict == "does_not_meet"
    relaxed = judge("county", "150204", row, key_support=True, category="heritage")
    assert relaxed.verdict == "meets_key_support"
    assert "非物质文化遗产或地域特色" in relaxed.reason and "75.0%" in relaxed.reason


def test_key_support_does_not_apply_below_the_floor_or_outside_the_categories() -> None:
    # 41/60 = 68.3 % < 70 %
    assert judge("county", "150204", outcome(60, 54, 41), True, "heritage").verdict == "does_not_meet"
    # innovation is not among this prefecture's county categories
    assert judge("county", "150204", outcome(60, 54, 45), True, "innovation").verdict == "does_not_meet"


def test_most_specific_scope_wins() -> None:
    # 120 trainees, 100/120 = 83.3 %, 70/120 = 58.3 %: meets Baotou's county default, not Kundulun's own row
    row = outcome(120, 100, 70)
    assert judge("county", "150204", row).verdict == "meets"
    own = judge("county", "150203", row)
    assert own.verdict == "does_not_meet" and own.criteria.document_no == "昆人社发〔2022〕3号"


def test_no_data_and_no_criteria() -> None:
    missing = judge("province", "150000", None)
    assert missing.verdict == "no_data" and "没有2022年" in missing.reason
    # Chifeng set no county criteria and the province set none for counties
    nothing = judge("county", "150400", outcome(100, 90, 80))
    assert nothing.verdict == "no_data" and nothing.criteria is None
    # a threshold on an optional count that was left blank cannot be judged
    blank = judge("prefecture", "150200", outcome(210, 180, 130, None, 84))
    assert blank.verdict == "no_data" and [c.status for c in blank.checks][3] == "no_data"


def test_brand_pages_and_downloads_show_the_verdict(make_project) -> None:
    project = make_project()
    out = project / "output"
    build_site(project, out)
    page = BeautifulSoup((out / "brands" / "bt-weld" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.select_one("#assessment").get_text().startswith("对照评价标准（2022年")
    assert page.select_one(".verdict strong").get_text() == "符合标准"
    rows = [[c.get_text(strip=True) for c in tr.select("th, td")] for tr in page.select("table.criteria tbody tr")]
    # bt-weld 2022: 430 trainees, 395 passed (91.9 %), 310 employed (72.1 %), 215 subsidised, 220 order (51.2 %)
    assert rows == [["培训规模", "≥ 200 人", "430 人", "✓ 达到"], ["培训合格率", "≥ 85.0%", "91.9%", "✓ 达到"],
                    ["培训后就业率", "≥ 60.0%", "72.1%", "✓ 达到"],
                    ["就业重点群体（享受补贴）人数", "≥ 100 人", "215 人", "✓ 达到"],
                    ["订单定岗定向培训占比", "≥ 40.0%", "51.2%", "✓ 达到"]]
    province = BeautifulSoup((out / "brands" / "nm-weld" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert province.select_one(".verdict").get_text(strip=True) == "无法评价：没有2022年的培训成效数据。"
    brands = (out / "data" / "brands.csv").read_text(encoding="utf-8-sig").splitlines()
    header = brands[0].split(",")
    verdicts = {line.split(",")[0]: line.split(",")[header.index("verdict")] for line in brands[1:]}
    assert verdicts == {"bt-weld": "meets", "cf-care": "meets", "hs-cook": "meets", "kdl-weld": "meets",
                        "nm-weld": "no_data"}


@pytest.mark.parametrize("trainees, small", [(29, True), (30, False)])
def test_small_cohort_caveat(make_project, trainees: int, small: bool) -> None:
    project = unfreeze(make_project())  # rewrites a 2022 figure that frozen editions published
    outcomes = project / "datasets" / "outcomes.csv"
    outcomes.write_text(outcomes.read_text(encoding="utf-8").replace(
        "hs-cook,2022,52,49,40,22,15", f"hs-cook,2022,{trainees},20,15,10,5"), encoding="utf-8")
    build_site(project, project / "output")
    page = BeautifulSoup((project / "output" / "brands" / "hs-cook" / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    assert bool(page.select(".caveat")) is small
    assert bool(page.select("table.outcomes tr.small-cohort")) is small
    row = [line for line in (project / "output" / "data" / "outcomes.csv").read_text(encoding="utf-8-sig").splitlines()
           if line.startswith("hs-cook,")][1]
    assert row.endswith(",true" if small else ",false")


def test_model_reuses_the_rules_verdicts_and_they_agree(repo) -> None:
    from skillbrands.model import build_directory
    from skillbrands.validate import load_package

    loaded = load_package(repo)
    assert len(loaded.assessments) == len(loaded.tables["brands"]) == 170
    shared = build_directory(loaded.descriptor, loaded.tables, loaded.assessments)
    alone = build_directory(loaded.descriptor, loaded.tables)
    assert dict(shared.assessments) == dict(alone.assessments)
    assert sum(a.verdict == "does_not_meet" for a in alone.assessments.values()) == 4
