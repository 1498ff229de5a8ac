"""Seed 000's rules across rows and tables: one fixture folder per broken rule, one table row each.

Each `tests/sites/rule_*` folder holds only the file(s) that differ from the minimal site
(which itself must pass every rule). The table says exactly which issues the validator
must report -- (path, row, field, code) with a severity, and a text the message must
contain (the bad value, or what was expected) -- and fails on anything else.

Minimal site rows, for reading the table: brands 2 kdl-weld (county 150203),
3 hs-cook (county 150402, key support, exited 2024-06-01), 4 bt-weld (prefecture 150200,
from kdl-weld), 5 cf-care (prefecture 150400), 6 nm-weld (province, from bt-weld);
institutions 2 bt-school, 3 cf-care-center, 4 cf-cook-school (suspended 2024-05-20).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from skillbrands.creditcode import CHARSET, check_character, is_valid
from skillbrands.issues import CODES
from skillbrands.rules import check_rules
from skillbrands.validate import load_package, validate_project
from test_validate_inputs import E, W, Expect, check_issues

SITES = Path(__file__).resolve().parent / "sites"
#: every rule test names its reference date: the fixtures' latest dates are in 2025
TODAY = date(2026, 1, 1)


@dataclass(frozen=True)
class RuleCase:
    name: str
    expected: tuple[Expect, ...]
    today: date = TODAY


def case(name: str, *expected: Expect, today: date = TODAY) -> RuleCase:
    return RuleCase(name, expected, today)


CASES: list[RuleCase] = [
    # 1. every count is among the trainees
    case("rule_count_exceeds_trainees",
         E("outcomes.csv", 4, "subsidised_key_group", "count-exceeds-trainees", "50"),
         E("outcomes.csv", 6, "passed", "count-exceeds-trainees", "435"),
         E("outcomes.csv", 8, "order_based", "count-exceeds-trainees", "240"),
         E("outcomes.csv", 9, "employed", "count-exceeds-trainees", "250")),
    # 2. GB 32100-2015 check character: the message names the right one
    case("rule_credit_code", E("institutions.csv", 3, "credit_code", "credit-code-check", "应为“F”")),
    # 3. a prefecture-tier brand published by a county
    case("rule_tier_region", E("brands.csv", 5, "tier", "tier-region-mismatch", "150402")),
    # 4. recommendations: one issue per failed condition
    case("rule_recommended_tier", E("brands.csv", 6, "recommended_from", "recommended-tier", "kdl-weld")),
    case("rule_recommended_institution",
         E("brands.csv", 4, "recommended_from", "recommended-institution", "cf-care-center")),
    case("rule_recommended_occupation",
         E("brands.csv", 4, "recommended_from", "recommended-occupation", "4-10-01-05")),
    # no code on the source brand: the occupation names are compared
    case("rule_recommended_occupation_name",
         E("brands.csv", 4, "recommended_from", "recommended-occupation", "电焊工")),
    case("rule_recommended_region", E("brands.csv", 4, "recommended_from", "recommended-region", "150203")),
    # published the same day is not earlier
    case("rule_recommended_date", E("brands.csv", 4, "recommended_from", "recommended-date", "2023-06-20")),
    # exited the day this brand was published
    case("rule_recommended_exited", E("brands.csv", 4, "recommended_from", "recommended-exited", "2023-06-20")),
    # a county brand "recommended from" another county's brand of another programme, published later
    case("rule_recommended_all",
         E("brands.csv", 3, "recommended_from", "recommended-tier", "kdl-weld"),
         E("brands.csv", 3, "recommended_from", "recommended-institution", "bt-school"),
         E("brands.csv", 3, "recommended_from", "recommended-occupation", "6-18-02-04"),
         E("brands.csv", 3, "recommended_from", "recommended-region", "150203"),
         E("brands.csv", 3, "recommended_from", "recommended-date", "2022-11-15")),
    # 5. exits
    case("rule_exit_before_publication", E("exits.csv", 2, "exit_date", "exit-before-publication", "2022-10-28")),
    case("rule_outcome_after_exit", W("outcomes.csv", 12, "year", "outcome-after-exit", "2025")),
    # 6. institutions' status
    case("rule_brand_after_status",
         E("brands.csv", 3, "published_date", "brand-after-institution-status", "2022-10-01")),
    case("rule_status_date_missing", E("institutions.csv", 4, "status_date", "status-date-missing", "suspended")),
    case("rule_status_date_while_active",
         W("institutions.csv", 3, "status_date", "status-date-while-active", "2023-01-01")),
    # 7. nothing in the future (the fixture's dates are in 2025)
    case("rule_future",
         E("brands.csv", 5, "published_date", "future-date", "2025-01-10"),
         E("brands.csv", 5, "published_year", "future-year", "2025"),
         E("exits.csv", 2, "exit_date", "future-date", "2025-02-01"),
         E("institutions.csv", 4, "status_date", "future-date", "2025-01-05"),
         E("outcomes.csv", 12, "year", "future-year", "2025"),
         E("releases.csv", 4, "published_date", "future-date", "2025-01-15"),
         E("releases.csv", 4, "year", "future-year", "2025"),
         E("reviews.csv", 2, "year", "future-year", "2025"),
         today=date(2024, 12, 31)),
    case("rule_future", today=date(2025, 2, 1)),  # the latest date is today: not in the future
    # 8. occupation name against the classification
    case("rule_occupation_name", W("brands.csv", 5, "occupation_name", "occupation-name-mismatch", "护理员")),
    # 9. key support category
    case("rule_key_support_category_missing",
         E("brands.csv", 3, "key_support_category", "key-support-category-missing")),
    case("rule_key_support_category_unused",
         W("brands.csv", 2, "key_support_category", "key-support-category-unused", "heritage")),
    # 10. criteria: 130/230 = 56.5 % employed < 60 %
    case("rule_criteria_not_met", W("brands.csv", 5, "brand_id", "criteria-not-met", "56.5%")),
    # key support, but 20/36 = 55.6 % employed < the 70 % the relaxation needs
    case("rule_criteria_key_support_not_met", W("brands.csv", 3, "brand_id", "criteria-not-met", "重点扶持")),
    # key support: 36 trainees < 40, but 30/36 = 83 % employed >= 70 %: relaxed, no warning
    case("rule_ok_key_support_relaxed"),
    # 11. a county setting prefecture criteria
    case("rule_criteria_scope", E("criteria.csv", 5, "tier", "criteria-scope-below-tier", "prefecture")),
    # 12. reviews (row 3, an exit that is in exits.csv, is fine)
    case("rule_review_exit_missing", E("reviews.csv", 2, "result", "review-exit-missing", "kdl-weld")),
    case("rule_review_too_early", E("reviews.csv", 2, "year", "review-too-early", "2024")),
]
CASE_IDS = [f"{c.name}@{c.today}" for c in CASES]


def _show(issues) -> str:
    return "\n".join(f"  {i.severity:7} {i.as_tuple()} {i.message}" for i in issues) or "  (none)"


# -- the table is sound ---------------------------------------------------------------

def test_every_rule_fixture_is_in_the_table() -> None:
    folders = {p.name for p in SITES.glob("rule_*") if p.is_dir()}
    assert folders == {c.name for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_case_is_well_formed(case: RuleCase) -> None:
    for want in case.expected:
        assert want.code in CODES and want.severity in ("error", "warning")
    for path in (SITES / case.name).rglob("*"):
        if path.is_file():
            original = SITES / "minimal" / path.relative_to(SITES / case.name)
            assert original.is_file(), f"{path} is not a file of the minimal site"
            assert path.read_bytes() != original.read_bytes(), f"{path} is identical to minimal"


# -- the rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("today", [date(2024, 6, 1), TODAY, date(2100, 1, 1)])
def test_minimal_site_passes_every_rule(make_project, today: date) -> None:
    issues = validate_project(make_project(), today=today)
    assert issues == [], _show(issues)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_broken_rule_is_reported(case: RuleCase, make_project) -> None:
    issues = validate_project(make_project(case.name), today=case.today)
    check_issues(issues, case.expected)
    for want in case.expected:
        message = next(i.message for i in issues if i.as_tuple() == want.key())
        assert re.search(r"[\u4e00-\u9fff]", message), message
        if want.value is not None:
            assert want.value in message, f"message should contain “{want.value}”: {message}"


def test_future_dates_depend_on_today_only(make_project) -> None:
    """Just before the minimal site's own dates (2024-05-20 suspension, 2024-06-01 exit,
    2024 figures), those dates are in the future; nothing else is."""
    issues = validate_project(make_project(), today=date(2023, 12, 31))
    check_issues(issues, (
        E("exits.csv", 2, "exit_date", "future-date"),
        E("institutions.csv", 4, "status_date", "future-date"),
        E("outcomes.csv", 11, "year", "future-year"),
    ))


def test_cells_already_reported_are_not_reported_again(make_project) -> None:
    """A bad status date (2023-02-30) is an invalid-date error, not also a missing one."""
    issues = validate_project(make_project("bad_invalid_date"), today=TODAY)
    check_issues(issues, (E("institutions.csv", 4, "status_date", "invalid-date"),))


def test_rules_never_raise_on_damaged_rows(make_project) -> None:
    """Rows as frictionless may hand them over when cells are bad, or when someone has
    changed a type in datapackage.json: blanks, strings for numbers and dates, missing
    tables and references to rows that do not exist."""
    loaded = load_package(make_project(), today=TODAY)
    assert check_rules(loaded, TODAY) == []
    pristine = {name: [dict(row) for row in rows] for name, rows in loaded.tables.items()}
    for filler in (None, "", "x", "2023-01-01", 0, -1, True, 10**9, Decimal("NaN"), float("inf")):
        loaded.tables = {name: [{key: filler for key in row} for row in rows] for name, rows in pristine.items()}
        check_rules(loaded, TODAY)
    for missing in pristine:
        loaded.tables = {name: rows for name, rows in pristine.items() if name != missing}
        check_rules(loaded, TODAY)
    # every brand recommended from a brand that is not there, every region's parent unknown
    loaded.tables = {name: [dict(row) for row in rows] for name, rows in pristine.items()}
    for row in loaded.tables["brands"]:
        row["recommended_from"] = "nowhere"
    for row in loaded.tables["regions"]:
        row["parent_code"] = "999999"
    assert check_rules(loaded, TODAY) == []


def test_region_loops_do_not_hang(make_project) -> None:
    """A region tree that loops (the province under one of its counties) is walked by the
    criteria lookup and the recommendation check: both must stop, and judge as before."""
    import signal

    from skillbrands.criteria import assess_brands
    from skillbrands.rules import RULES, Tables

    loaded = load_package(make_project(), today=TODAY)
    before = dict(loaded.assessments)
    for row in loaded.tables["regions"]:
        row["parent_code"] = {"150000": "150203"}.get(row["code"], row["parent_code"])

    def hung(*_: object) -> None:
        raise TimeoutError("a region loop made the rules walk forever")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        tables = Tables(loaded)
        assert tables.regions_above("150203") is None  # the loop is seen, not followed
        verdicts = assess_brands(tables)  # criteria: own region, then the regions above
        issues = [issue for rule in RULES for issue in rule(tables.judged(verdicts), TODAY)]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    # every brand's criteria are found below the loop, so nothing changes
    assert dict(verdicts) == before and len(verdicts) == len(loaded.tables["brands"])
    assert issues == []


# -- the credit code check character ---------------------------------------------------------

@pytest.mark.parametrize("code", ["121502004600158732", "52150402MJY020413F", "911504020512847322"])
def test_known_credit_codes_are_valid(code: str) -> None:
    assert is_valid(code)
    assert check_character(code[:17]) == code[17]


def test_every_single_character_change_in_a_code_is_caught() -> None:
    """The check character catches any one mistyped character (31 is prime, the weights
    are non-zero mod 31)."""
    code = "911504020512847322"
    for position in range(18):
        for char in CHARSET:
            if char != code[position]:
                mutated = code[:position] + char + code[position + 1:]
                assert not is_valid(mutated), mutated


@pytest.mark.parametrize("first17", ["", "9115040205128473", "91150402051284732X", "9115040205128473I",
                                     "9115040205128473a"])
def test_check_character_refuses_what_is_not_17_valid_characters(first17: str) -> None:
    assert check_character(first17) is None
    assert not is_valid(first17 + "2")
