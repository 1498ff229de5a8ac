"""The three-yearly review (三年评估) against a hand-computed case: tests/sites/review_case.

The case is reviewed in 2025, so the period is 2022–2024 and the latest year is 2024.
Criteria are those of tests/sites/minimal/datasets/criteria.csv:
  province (150000)        trainees ≥ 400, pass ≥ 90 %, employment ≥ 70 %, key group ≥ 200, order ≥ 50 %
  prefecture (150000)      trainees ≥ 200, pass ≥ 85 %, employment ≥ 60 %, key group ≥ 100, order ≥ 40 %
  county under 包头 150200  trainees ≥ 100, pass ≥ 80 %, employment ≥ 50 %
  county 红山区 150402      trainees ≥ 40,  pass ≥ 85 %, employment ≥ 70 %; key support (heritage) employment ≥ 70 %
  county 阿鲁科尔沁旗 150421 none (no row for it, for 150400 or for 150000)

Due in 2025 (published 2022, or retained at the 2022 review), by region code:
  nm-care   150000 province, published 2019, retained 2022  -> retain (meets in 2024)
  bt-cnc    150200 prefecture                                -> exit (2024 trainees 180 < 200)
  kdl-weld  150203 county                                    -> retain (meets in 2024)
  cf-elec   150400 prefecture, no 2024 figures               -> check
  hs-milk   150402 county, key support (heritage)            -> retain under key support
  hs-noodle 150402 county, institution suspended 2024-05-20  -> exit (although 2024 meets)
  alk-beef  150421 county, no criteria apply                 -> check
Not due: hs-cook (published 2022, exited 2024-06-01), kdl-elec (published 2022, left
voluntarily 2025-03-01), bt-old (exited at the 2022 review), bt-weld, cf-care and
nm-weld (published 2023: due in 2026).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from conftest import unfreeze
from skillbrands.issues import has_errors
from skillbrands.model import Directory, build_directory
from skillbrands.review import is_due, review, review_csv
from skillbrands.validate import load_package, validate_project

YEAR = 2025
DUE = ["nm-care", "bt-cnc", "kdl-weld", "cf-elec", "hs-milk", "hs-noodle", "alk-beef"]
PROPOSED = {"nm-care": "retain", "bt-cnc": "exit", "kdl-weld": "retain", "cf-elec": "check",
            "hs-milk": "retain", "hs-noodle": "exit", "alk-beef": "check"}
SUMMARY = "共 7 个品牌到期评估：建议保留 3 个，建议退出 2 个，需人工核实 2 个。"


@pytest.fixture
def project(make_project) -> Path:
    # the case rewrites the minimal site's history (other brands, other years): its editions go
    return unfreeze(make_project("review_case"))


def directory_of(project: Path, change=None) -> Directory:
    loaded = load_package(project, today=date(2026, 11, 1))
    assert not has_errors(loaded.issues), loaded.issues
    tables = copy.deepcopy(loaded.tables)
    if change:
        change(tables)
    return build_directory(loaded.descriptor, tables)


@pytest.fixture
def items(project):
    return {item.brand.brand_id: item for item in review(directory_of(project), YEAR)}


def test_the_case_validates_without_errors(project: Path) -> None:
    issues = validate_project(project, today=date(2026, 11, 1))
    assert not has_errors(issues), [i.as_tuple() for i in issues]


def test_due_list_in_region_tier_id_order(project: Path) -> None:
    assert [item.brand.brand_id for item in review(directory_of(project), YEAR)] == DUE


def test_proposed_verdicts(items) -> None:
    assert {brand_id: item.proposed for brand_id, item in items.items()} == PROPOSED
    assert items["bt-cnc"].proposed_label == "建议退出"
    assert items["cf-elec"].proposed_label == "需人工核实"


def test_every_item_covers_the_three_years_before(items) -> None:
    for item in items.values():
        assert [y.year for y in item.years] == [2022, 2023, 2024]
        assert item.review_year == YEAR


def test_retained_brand_meets_every_year(items) -> None:
    item = items["kdl-weld"]
    # 2022: employed 150 / trainees 210 = 71.4 %, passed 190 / 210 = 90.5 %
    # 2024: employed 160 / 220 = 72.7 %, passed 200 / 220 = 90.9 %  (county: ≥ 100, ≥ 80 %, ≥ 50 %)
    first, _, last = item.years
    assert (first.trainees, round(first.pass_rate * 100, 1), round(first.employment_rate * 100, 1)) == (210, 90.5, 71.4)
    assert (last.trainees, round(last.pass_rate * 100, 1), round(last.employment_rate * 100, 1)) == (220, 90.9, 72.7)
    assert [y.verdict for y in item.years] == ["meets", "meets", "meets"]
    assert item.reasons == ("2024年各项指标均达到旗县级品牌标准。",)
    assert item.last_reviewed is None
    assert item.trend is None  # 71.4 % -> 72.7 %: up


def test_failing_brand_names_the_failed_criterion(items) -> None:
    item = items["bt-cnc"]
    last = item.years[-1]
    # 2024: trainees 180 < 200 fails; passed 160 / 180 = 88.9 % ≥ 85 %; employed 110 / 180 = 61.1 % ≥ 60 %;
    # key group 100 ≥ 100; order-based 80 / 180 = 44.4 % ≥ 40 %: only the training scale fails
    assert last.verdict == "does_not_meet"
    assert [c.key for c in last.assessment.failed] == ["trainees"]
    assert item.reasons == ("2024年未达到盟市级品牌标准：培训规模 180 人（标准 ≥ 200 人）。",)
    # employment 180 / 240 = 75.0 % in 2022, 110 / 180 = 61.1 % in 2024: down 13.9 points
    assert item.trend == "就业率由2022年的75.0%降至2024年的61.1%，下降13.9个百分点。"
    assert [y.verdict for y in item.years] == ["meets", "meets", "does_not_meet"]


def test_key_support_brand_is_retained_at_the_exact_floor(items) -> None:
    item = items["hs-milk"]
    last = item.years[-1]
    # 2024: 30 trainees < 40 fails the county scale, but it is key support (heritage) and
    # employed 21 / 30 = 70.0 % meets the key-support floor of 70 % exactly (21 × 100 = 70 × 30)
    assert (last.trainees, last.outcome.employed) == (30, 21)
    assert [y.verdict for y in item.years] == ["meets_key_support"] * 3
    assert item.proposed == "retain"
    assert item.reasons[0].startswith("2024年按重点扶持条件符合：")
    assert "70.0%" in item.reasons[0]
    # 20 / 25 = 80.0 % in 2022 down to 70.0 %: exactly 10 points, which earns the note
    assert item.trend == "就业率由2022年的80.0%降至2024年的70.0%，下降10.0个百分点。"


def test_no_figures_for_the_latest_year_is_a_check(items) -> None:
    item = items["cf-elec"]
    assert item.years[-1].outcome is None and item.years[-1].trainees is None
    assert item.years[-1].verdict == "no_data"
    assert item.reasons == ("没有2024年的培训成效数据（outcomes.csv），请补充数据或人工核实。",)
    # 150 / 220 = 68.2 % -> 130 / 205 = 63.4 %: down 4.8 points, no note
    assert item.trend is None


def test_no_criteria_is_a_check_that_says_so(items) -> None:
    item = items["alk-beef"]
    assert item.years[-1].trainees == 60 and item.years[-1].assessment.criteria is None
    assert item.reasons == ("没有适用于阿鲁科尔沁旗旗县级品牌的评价标准（criteria.csv），请人工核实。",)


def test_suspended_institution_means_exit_even_when_figures_meet(items) -> None:
    item = items["hs-noodle"]
    # 2024: 42 trainees ≥ 40; 38 / 42 = 90.5 % ≥ 85 %; 30 / 42 = 71.4 % ≥ 70 %: meets
    assert item.years[-1].verdict == "meets"
    assert item.proposed == "exit"
    assert item.reasons == (
        "举办机构“赤峰市红山区示例烹饪培训有限公司”状态为“暂停”（2024-05-20）：虚假宣传，被责令暂停招生（示例）。",)


def test_brand_retained_three_years_ago_is_due_again(items) -> None:
    item = items["nm-care"]
    assert item.brand.published_year == 2019 and item.last_reviewed == 2022
    # 2024: 450 ≥ 400; 414 / 450 = 92.0 %; 324 / 450 = 72.0 %; key group 220 ≥ 200; order 240 / 450 = 53.3 %
    assert item.years[-1].verdict == "meets" and item.proposed == "retain"


def test_exited_and_younger_brands_are_not_due(project: Path) -> None:
    directory = directory_of(project)
    for brand_id in ("hs-cook", "kdl-elec", "bt-old", "bt-weld", "cf-care", "nm-weld"):
        assert not is_due(directory.brands[brand_id], YEAR), brand_id


def test_a_past_review_can_be_rerun(project: Path) -> None:
    # 2022 reviews the brands of 2019; bt-old's exit (2022-12-20) is that review's outcome
    items = review(directory_of(project), 2022)
    assert [item.brand.brand_id for item in items] == ["nm-care", "bt-old"]
    nm_care, bt_old = items
    assert nm_care.last_reviewed is None  # the 2022 review itself does not count
    assert nm_care.proposed == "check"  # no figures for 2019–2021
    # 2021: 150 < 200; 120 / 150 = 80.0 % < 85 %; 80 / 150 = 53.3 % < 60 %; 60 < 100; 50 / 150 = 33.3 % < 40 %
    assert bt_old.proposed == "exit"
    assert [c.key for c in bt_old.years[-1].assessment.failed] == [
        "trainees", "pass_rate", "employment_rate", "subsidised_key_group", "order_based_share"]
    assert "培训后就业率 53.3%（标准 ≥ 60.0%）" in bt_old.reasons[0]


def test_the_brands_of_2023_are_due_in_2026_and_none_in_2024(project: Path) -> None:
    directory = directory_of(project)
    assert [i.brand.brand_id for i in review(directory, 2026)] == ["nm-weld", "bt-weld", "cf-care"]
    assert review(directory, 2024) == []


def _set_institution(tables, institution_id: str, **values) -> None:
    row = next(r for r in tables["institutions"] if r["institution_id"] == institution_id)
    row.update(values)


def test_removed_institution_means_exit(project: Path) -> None:
    directory = directory_of(project, lambda t: _set_institution(
        t, "bt-school", status="removed", status_date=date(2025, 1, 10), status_reason="终止办学（示例）"))
    items = {i.brand.brand_id: i for i in review(directory, YEAR)}
    assert items["kdl-weld"].proposed == "exit"
    assert items["kdl-weld"].reasons == ("举办机构“包头市示例技工学校”状态为“已移出”（2025-01-10）：终止办学（示例）。",)
    # a failing brand of a removed institution gives both reasons
    assert len(items["bt-cnc"].reasons) == 2 and "培训规模 180 人" in items["bt-cnc"].reasons[1]


@pytest.mark.parametrize("exit_date, review_row, due", [
    (date(2024, 12, 31), False, False),  # left before the review year
    (date(2025, 3, 1), False, False),  # left during the year, not through this review
    (date(2025, 9, 1), True, True),  # left as the outcome of the 2025 review (a re-run)
    (date(2026, 2, 1), False, True),  # still listed in 2025
])
def test_due_rule_around_exits(project: Path, exit_date: date, review_row: bool, due: bool) -> None:
    def change(tables):
        exit_row = next(r for r in tables["exits"] if r["brand_id"] == "kdl-elec")
        exit_row["exit_date"] = exit_date
        if review_row:
            tables["reviews"].append({"brand_id": "kdl-elec", "year": 2025, "result": "exited", "document_no": "x"})

    assert is_due(directory_of(project, change).brands["kdl-elec"], YEAR) is due


def test_an_off_cycle_retained_review_restarts_the_cycle(project: Path) -> None:
    def change(tables):
        tables["reviews"].append({"brand_id": "kdl-weld", "year": 2023, "result": "retained", "document_no": "x"})

    directory = directory_of(project, change)
    assert not is_due(directory.brands["kdl-weld"], 2025)
    assert is_due(directory.brands["kdl-weld"], 2026)


def _shuffled(project: Path, seed: int) -> Path:
    """The same data with the rows of every one-line-per-row table in another order."""
    import random

    for name in ("brands.csv", "outcomes.csv", "exits.csv", "reviews.csv", "regions.csv", "criteria.csv"):
        path = project / "datasets" / name
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        assert not any('"' in row for row in rows)  # no multi-line cells: a line is a row
        random.Random(seed).shuffle(rows)
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return project


def test_review_is_deterministic(make_project) -> None:
    """Other processes, other hash seeds, rows in another order: the same review, byte for byte."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    projects = [unfreeze(make_project("review_case")), _shuffled(unfreeze(make_project("review_case")), 1)]
    outputs = []
    for seed, project in zip(("0", "12345"), projects):
        run = []
        for fmt in ("text", "json"):
            done = subprocess.run([sys.executable, str(repo / "build.py"), "review", "--year", str(YEAR), "--format", fmt,
                                   "--today", "2026-11-01", "--project", str(project)],
                                  capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}, timeout=300)
            assert done.returncode == 0, done.stderr.decode()
            run.append(done.stdout)
        outputs.append(run)
    assert [row.split(",")[0] for row in (projects[1] / "datasets" / "brands.csv").read_text(encoding="utf-8")
            .splitlines()[1:]] != [row.split(",")[0] for row in (projects[0] / "datasets" / "brands.csv")
                                   .read_text(encoding="utf-8").splitlines()[1:]]  # the order really differs
    assert [r["brand_id"] for r in json.loads(outputs[0][1])] == DUE
    assert outputs[1] == outputs[0]


# -- the command line -----------------------------------------------------------------

def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_cli_json(project: Path) -> None:
    result = invoke("review", "--year", "2025", "--format", "json", "--project", str(project))
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["brand_id"] for r in records] == DUE
    assert {r["brand_id"]: r["proposed"] for r in records} == PROPOSED
    kdl = records[DUE.index("kdl-weld")]
    assert kdl["years"][0] == {"year": 2022, "trainees": 210, "passed": 190, "employed": 150, "pass_rate": 0.9048,
                               "employment_rate": 0.7143, "verdict": "meets", "verdict_label": "符合标准"}
    assert kdl["tier"] == "county" and kdl["region_code"] == "150203" and kdl["last_reviewed"] is None
    assert records[DUE.index("nm-care")]["last_reviewed"] == 2022
    assert records[DUE.index("cf-elec")]["years"][2]["trainees"] is None


def test_cli_text_groups_by_region_and_ends_with_the_summary(project: Path) -> None:
    result = invoke("review", "--year", "2025", "--project", str(project))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == SUMMARY
    headers = [line for line in lines if line[:6].isdigit()]
    assert headers == ["150000 内蒙古自治区", "150200 包头市", "150203 昆都仑区", "150400 赤峰市",
                       "150402 红山区", "150421 阿鲁科尔沁旗"]
    assert "→ 建议退出：2024年未达到盟市级品牌标准：培训规模 180 人（标准 ≥ 200 人）。" in result.stdout


def test_cli_csv_for_excel(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "review-2025.csv"
    result = invoke("review", "--year", "2025", "--project", str(project), "--csv", str(target))
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))
    assert list(rows[0]) == [
        "brand_id", "name", "institution", "tier", "region", "published_year", "last_reviewed",
        "trainees_2022", "pass_rate_2022", "employment_rate_2022", "verdict_2022",
        "trainees_2023", "pass_rate_2023", "employment_rate_2023", "verdict_2023",
        "trainees_2024", "pass_rate_2024", "employment_rate_2024", "verdict_2024", "proposed", "reasons"]
    assert [r["brand_id"] for r in rows] == DUE
    bt = rows[DUE.index("bt-cnc")]
    assert (bt["trainees_2024"], bt["pass_rate_2024"], bt["employment_rate_2024"], bt["verdict_2024"]) == (
        "180", "88.9%", "61.1%", "未达到标准")
    assert bt["proposed"] == "建议退出" and "培训规模 180 人（标准 ≥ 200 人）" in bt["reasons"]
    assert "下降13.9个百分点" in bt["reasons"]
    assert rows[DUE.index("nm-care")]["last_reviewed"] == "2022"
    assert rows[DUE.index("cf-elec")]["trainees_2024"] == ""
    # the same bytes as the engine makes
    assert data == review_csv(directory_of(project), review(directory_of(project), YEAR), YEAR)


def test_cli_nothing_due_says_so(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "empty.csv"
    result = invoke("review", "--year", "2024", "--project", str(project), "--csv", str(target))
    assert result.exit_code == 0, result.output
    assert "2024年没有到期需要三年评估的品牌" in result.stdout
    assert target.read_bytes().decode("utf-8-sig").startswith("brand_id,name,")
    result = invoke("review", "--year", "2024", "--format", "json", "--project", str(project))
    assert result.exit_code == 0 and json.loads(result.stdout) == []


@pytest.mark.parametrize("args", [[], ["--year"], ["--year", "abc"], ["--year", "2025.5"], ["--year", "1999"],
                                  ["--year", "2025", "--format", "xml"]])
def test_cli_usage_errors(project: Path, args: list[str]) -> None:
    result = invoke("review", "--project", str(project), *args)
    assert result.exit_code == 2, result.output


def test_cli_bad_data_prints_the_problems_and_exits_1(make_project) -> None:
    project = make_project("review_case", "bad_percent_value")
    for fmt in ("text", "json"):
        result = invoke("review", "--year", "2025", "--format", fmt, "--project", str(project))
        assert result.exit_code == 1, result.output
        assert "percent-value" in result.stdout
    assert any(i["code"] == "percent-value" for i in json.loads(result.stdout))


def test_cli_unwritable_csv_is_an_error_not_a_traceback(project: Path, tmp_path: Path) -> None:
    result = invoke("review", "--year", "2025", "--project", str(project), "--csv", str(tmp_path / "no" / "r.csv"))
    assert result.exit_code == 1
    assert "无法写入" in result.output


def test_cli_today_is_the_reference_date_for_validation(project: Path) -> None:
    # the case publishes brands in 2022: "in the future" as seen from 2021-12-31
    result = invoke("review", "--year", "2025", "--today", "2021-12-31", "--project", str(project))
    assert result.exit_code == 1 and "future-date" in result.stdout
    assert invoke("review", "--year", "2025", "--today", "2026-01-01", "--project", str(project)).exit_code == 0
