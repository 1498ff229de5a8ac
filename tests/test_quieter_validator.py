"""A quieter, kinder validator (issue 17): like warnings grouped, Chinese labels accepted for
codes, a warning for a new brand without its evaluated year's figures, criteria-not-met of
published editions said once, and the command line in Chinese, Click's own words included.

Every expected value comes from the CSV files themselves (a plain csv scan), not from the
program's output.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from conftest import unfreeze
from skillbrands.pipeline import check_project
from skillbrands.validate import load_package

REPO = Path(__file__).resolve().parent.parent


def records(project: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row, record) of a CSV file: the header is row 1, a multi-line cell one row."""
    with (project / "datasets" / name).open(encoding="utf-8-sig", newline="") as f:
        return [(number, row) for number, row in enumerate(csv.DictReader(f), start=2)]


def rewrite(project: Path, name: str, change) -> None:
    """Apply `change(record)` to every record of a CSV file and write it back (UTF-8, LF)."""
    path = project / "datasets" / name
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        change(row)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), prog_name="build.py")
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the bundled sample (170 brands, three frozen editions)."""
    project = tmp_path / "sample"
    for folder in ("datasets", "content"):
        shutil.copytree(REPO / folder, project / folder)
    return project


# -- grouped warnings -----------------------------------------------------------------------------

def test_like_warnings_of_a_column_are_one_line_and_json_keeps_each(sample: Path) -> None:
    """What an Excel round trip does to dates: every publication date written 2022/11/15."""
    rewrite(sample, "brands.csv", lambda row: row.update(published_date=row["published_date"].replace("-", "/")))
    slashed = [number for number, row in records(sample, "brands.csv") if "/" in row["published_date"]]
    assert len(slashed) == 170

    text = invoke("validate", "--project", str(sample))
    assert text.exit_code == 0, text.output
    lines = [line for line in text.stdout.splitlines() if "date-normalised" in line]
    assert len(lines) == 1, lines
    first = ", ".join(map(str, slashed[:5])).replace(", ", "、")
    assert lines[0].startswith(f"  [警告] 第{first}行等共 170 处，列“published_date”：")
    assert f"例如第{slashed[0]}行：" in lines[0]
    assert text.stdout.splitlines()[-1] == "共 0 个错误、170 个警告。"

    issues = json.loads(invoke("validate", "--format", "json", "--project", str(sample)).stdout)
    assert [(i["path"], i["row"], i["field"], i["code"]) for i in issues] == [
        ("datasets/brands.csv", number, "published_date", "date-normalised") for number in slashed]


def test_a_single_warning_keeps_its_own_line(make_project) -> None:
    project = make_project()
    rewrite(project, "brands.csv", lambda row: row.update(
        published_date=row["published_date"].replace("-", "/") if row["brand_id"] == "kdl-weld" else row["published_date"]))
    [number] = [n for n, row in records(project, "brands.csv") if "/" in row["published_date"]]
    result = invoke("validate", "--project", str(project))
    [line] = [line for line in result.stdout.splitlines() if "date-normalised" in line]
    assert line.startswith(f"  [警告] 第{number}行，列“published_date”：日期“")


def test_errors_are_never_grouped(make_project) -> None:
    project = make_project()
    rewrite(project, "outcomes.csv", lambda row: row.update(trainees=row["trainees"] + "%"))
    rows = [number for number, _ in records(project, "outcomes.csv")]
    result = invoke("validate", "--project", str(project))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if "（percent-value：" in line]
    assert [re.match(r"  \[错误\] 第(\d+)行", line).group(1) for line in lines] == [str(n) for n in rows]


# -- Chinese labels for codes -----------------------------------------------------------------------

def _labels() -> dict[tuple[str, str], dict[str, str]]:
    """(file, column) -> {label: value}, read straight from datapackage.json's enumLabels."""
    package = json.loads((REPO / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    return {(r["path"], f["name"]): {label: value for value, label in f["enumLabels"].items()}
            for r in package["resources"] for f in r["schema"]["fields"] if "enumLabels" in f}


def test_labels_the_site_shows_are_taken_for_codes_with_a_warning(make_project) -> None:
    project = make_project()
    labels = _labels()
    shown = {file: {column: {v: k for k, v in mapping.items()} for (f, column), mapping in labels.items() if f == file}
             for file in ("brands.csv", "institutions.csv", "regions.csv")}

    def to_labels(file: str):
        def change(row: dict[str, str]) -> None:
            for column, label_of in shown[file].items():
                if row.get(column) in label_of:
                    row[column] = label_of[row[column]]
        return change

    for file in shown:
        rewrite(project, file, to_labels(file))
    rewrite(project, "regions.csv", lambda row: row.update(level=row["level"].replace("（", "(").replace("）", ")")))

    expected = set()
    for file in shown:
        for number, row in records(project, file):
            for column in shown[file]:
                normalised = row[column].replace("(", "（").replace(")", "）")
                if normalised in labels[(file, column)]:
                    expected.add((f"datasets/{file}", number, column, "label-normalised"))
    assert {("datasets/brands.csv", 2, "tier", "label-normalised"),
            ("datasets/institutions.csv", 2, "status", "label-normalised")} <= expected
    issues = check_project(project, date(2026, 6, 1))
    assert {i.as_tuple() for i in issues} == expected
    assert all(i.severity == "warning" for i in issues)

    loaded = load_package(project, date(2026, 6, 1))
    coded = {row["brand_id"]: row["tier"] for row in loaded.tables["brands"]}
    plain = {row["brand_id"]: labels[("brands.csv", "tier")][row["tier"]] for _, row in records(project, "brands.csv")}
    assert coded == plain
    assert {row["status"] for row in loaded.tables["institutions"]} <= {"active", "suspended", "removed"}


def test_an_unknown_chinese_word_is_still_refused(make_project) -> None:
    project = make_project()
    rewrite(project, "brands.csv", lambda row: row.update(tier="省级") if row["brand_id"] == "kdl-weld" else None)
    [number] = [n for n, row in records(project, "brands.csv") if row["tier"] == "省级"]
    found = {i.as_tuple(): i for i in check_project(project, date(2026, 6, 1))}
    assert ("datasets/brands.csv", number, "tier", "not-in-enum") in found
    assert "旗县级" in found[("datasets/brands.csv", number, "tier", "not-in-enum")].message


# -- a new brand without its evaluated year's figures --------------------------------------------------

NEW_BRANDS = [
    "kdl-cook,昆都仑区中式烹调师培训（示例）,bt-school,4-03-02-01,中式烹调师,county,150203,rural,false,,,2024,2024-03-01,昆人社发〔2024〕3号",
    "kdl-cook2,昆都仑区烹调进阶培训（示例）,bt-school,4-03-02-01,中式烹调师,county,150203,rural,false,,,2024,2024-03-02,昆人社发〔2024〕4号",
]


def test_a_new_brand_without_its_evaluated_year_is_warned(make_project) -> None:
    project = make_project()
    for name, lines in (("brands.csv", NEW_BRANDS), ("outcomes.csv", ["kdl-cook2,2023,150,130,100,,"])):
        path = project / "datasets" / name
        path.write_text(path.read_text(encoding="utf-8") + "".join(line + "\n" for line in lines), encoding="utf-8")

    newest = max(date.fromisoformat(row["published_date"]) for _, row in records(project, "releases.csv"))
    figures = {(row["brand_id"], int(row["year"])) for _, row in records(project, "outcomes.csv")}
    expected = [(number, row) for number, row in records(project, "brands.csv")
                if date.fromisoformat(row["published_date"]) > newest
                and (row["brand_id"], int(row["published_year"]) - 1) not in figures]
    assert [row["brand_id"] for _, row in expected] == ["kdl-cook"]

    issues = check_project(project, date(2026, 6, 1))
    assert [i.as_tuple() for i in issues] == [
        ("datasets/brands.csv", number, "published_year", "outcome-missing") for number, _ in expected]
    assert "2023年" in issues[0].message and "kdl-cook" in issues[0].message and issues[0].severity == "warning"


def test_brands_an_edition_published_are_not_asked_again(make_project) -> None:
    """The minimal site's nm-weld (2023, in the 2023 edition) has no 2022 figures: history, no warning."""
    project = make_project()
    figures = {(row["brand_id"], int(row["year"])) for _, row in records(project, "outcomes.csv")}
    without = [row["brand_id"] for _, row in records(project, "brands.csv")
               if (row["brand_id"], int(row["published_year"]) - 1) not in figures]
    assert without  # the case is there
    assert "outcome-missing" not in {i.code for i in check_project(project, date(2026, 6, 1))}


# -- criteria-not-met of published editions, said once -----------------------------------------------------

def test_criteria_not_met_of_frozen_brands_is_said_on_the_release_page_and_in_review(sample: Path) -> None:
    frozen = {i.as_tuple() for i in check_project(sample)}
    assert not any(code == "criteria-not-met" for *_, code in frozen)
    review = invoke("review", "--year", "2026", "--project", str(sample))
    assert review.exit_code == 0, review.output
    open_ = unfreeze(sample)
    shouted = [i for i in check_project(open_) if i.code == "criteria-not-met"]
    assert shouted  # without the editions, the warnings are back
    brand_ids = {row["brand_id"] for number, row in records(sample, "brands.csv")
                 if ("datasets/brands.csv", number, "brand_id", "criteria-not-met") in {i.as_tuple() for i in shouted}}
    for brand_id in brand_ids:
        assert f"品牌“{brand_id}”" in review.stdout
    assert review.stdout.splitlines()[-1].startswith("共 ")


# -- the command line in Chinese -------------------------------------------------------------------------

ENGLISH = re.compile(r"Usage|Options|Commands|Show this message|Missing|No such|Error|Invalid|Try '|required|default")


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["validate", "--help"], ["build", "--help"], ["review", "--help"],
                                  ["freeze", "--help"], ["generate", "--help"], ["serve", "--help"]])
def test_help_is_chinese(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert result.output.startswith("用法：build")
    assert "显示本帮助并退出。" in result.output
    assert "选项：" in result.output
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)
    assert "SOURCE_DATE_EPOCH" not in result.output


def test_review_help_says_what_its_json_holds() -> None:
    output = invoke("review", "--help").output
    assert "每个到期品牌一个对象" in output and "每个问题一个对象" not in output
    assert "把这一天（YYYY-MM-DD）当作今天" in output


@pytest.mark.parametrize("args, exit_code, says", [
    (["review"], 2, "缺少必填的选项 --year。"),
    (["review", "--year"], 2, "选项 --year 后面要写一个值。"),
    (["review", "--year", "abc"], 2, "选项 --year 的值不对：“abc”不是 2000 到 2100 之间的年度。"),
    (["review", "--year", "1999"], 2, "“1999”不是 2000 到 2100 之间的年度"),
    (["validate", "--formt", "json"], 2, "没有选项“--formt”。您要找的是不是 --format？"),
    (["validate", "--format", "xml"], 2, "“xml”不是可选的值；应为 text 或 json。"),
    (["validate", "--today", "2025-13-01"], 2, "“2025-13-01”不是日期；请写作 YYYY-MM-DD"),
    (["validate", "--project", "/nonexistent/folder"], 2, "文件夹“/nonexistent/folder”不存在。"),
    (["validate", "extra"], 2, "多余的内容：extra"),
    (["valdate"], 2, "没有命令“valdate”。您要找的是不是 validate？"),
    (["--version-of-nothing"], 2, "没有选项“--version-of-nothing”"),
])
def test_usage_errors_are_chinese(args: list[str], exit_code: int, says: str) -> None:
    result = invoke(*args)
    assert result.exit_code == exit_code, result.output
    assert says in result.output, result.output
    assert "错误：" in result.output and "用法：build.py" in result.output and "--help 查看" in result.output
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)


def test_success_and_problems_share_one_stream(make_project, tmp_path: Path) -> None:
    project = make_project()
    result = invoke("build", "--project", str(project), "--out", str(tmp_path / "site"), "--today", "2026-06-01")
    assert result.exit_code == 0, result.output
    assert "已生成" in result.stdout
    bad = make_project("bad_percent_value")
    result = invoke("build", "--project", str(bad), "--out", str(tmp_path / "other"))
    assert result.exit_code == 1
    assert "percent-value" in result.stdout and "构建失败" in result.stdout
    result = invoke("build", "--format", "json", "--project", str(bad), "--out", str(tmp_path / "other"))
    assert any(i["code"] == "percent-value" for i in json.loads(result.stdout))  # stdout stays JSON
