"""Hostile sizes: every input limit is one error where it is exceeded, and the report stays bounded.

Big inputs are generated into tmp_path, not committed; where a real-size file would
take long, the limit is lowered with monkeypatch (the code reads `limits.NAME` when it
runs). Two tests use real sizes: a 1,000,000-column header and a 5 MB cell.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from skillbrands import limits, validate
from skillbrands.pipeline import check_project
from test_validate_inputs import E, check_issues

OUTCOMES_HEADER = "brand_id,year,trainees,passed,employed,subsidised_key_group,order_based"


def datasets(project: Path, name: str) -> Path:
    return project / "datasets" / name


def append_rows(project: Path, name: str, rows: list[str]) -> None:
    path = datasets(project, name)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    path.write_text(text + "".join(row + "\n" for row in rows), encoding="utf-8")


def tuples(issues) -> list[tuple]:
    return [issue.as_tuple() for issue in issues]


# -- files ------------------------------------------------------------------------------------

def test_a_file_over_the_byte_limit_is_refused_by_its_size_unread(make_project, monkeypatch) -> None:
    project = make_project()
    append_rows(project, "outcomes.csv", [f"kdl-weld,{2000 + i},180,160,120,90,70" for i in range(100)])
    size = datasets(project, "outcomes.csv").stat().st_size
    assert all(p.stat().st_size < size // 2 for p in (project / "datasets").glob("*.csv") if p.name != "outcomes.csv")
    monkeypatch.setattr(limits, "FILE_BYTES", size // 2)
    opened = Path.open
    refused = datasets(project, "outcomes.csv")

    def guarded(self, *args, **kwargs):
        assert self != refused, "outcomes.csv was opened"
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    issues = check_project(project)
    assert tuples(issues) == [("datasets/outcomes.csv", None, None, "file-too-large")]
    assert limits.size(size) in issues[0].message


def test_rows_over_the_limit_refuse_the_file(make_project, monkeypatch) -> None:
    project = make_project()
    monkeypatch.setattr(limits, "FILE_ROWS", 9)  # outcomes.csv has 10 data rows
    assert tuples(check_project(project)) == [("datasets/outcomes.csv", None, None, "too-many-rows")]


def test_wide_tables_have_fewer_rows(make_project, monkeypatch) -> None:
    """The row limit is also FILE_CELLS ÷ the schema's columns: memory grows with cells, not rows."""
    project = make_project()
    monkeypatch.setattr(limits, "FILE_CELLS", 60)  # brands (14 columns): 4 rows; outcomes (7): 8 rows
    assert limits.max_rows(14) == 4 and limits.max_rows(7) == 8
    issues = check_project(project)
    assert tuples(issues) == [("datasets/brands.csv", None, None, "too-many-rows"),
                              ("datasets/outcomes.csv", None, None, "too-many-rows")]
    assert "超过 4 行" in issues[0].message and "14 列" in issues[0].message


def test_a_million_column_header_is_one_error(make_project) -> None:
    """It used to pass validation with a million extra-column warnings."""
    project = make_project()
    extra = ",".join(f"c{i}" for i in range(1, 1_000_001))
    datasets(project, "outcomes.csv").write_text(
        f"{OUTCOMES_HEADER},{extra}\nkdl-weld,2021,180,160,120,90,70\n", encoding="utf-8")
    issues = check_project(project)
    assert tuples(issues) == [("datasets/outcomes.csv", 1, None, "too-many-columns")]
    assert len(issues[0].message) < 300


@pytest.mark.parametrize("quoted", [False, True])
def test_an_enormous_cell_is_one_error_at_its_column_never_quoted_whole(make_project, quoted: bool) -> None:
    project = make_project()
    giant = "很" * 1_750_000  # 5 MB of UTF-8 in one cell
    cell = f'"{giant}"' if quoted else giant
    datasets(project, "exits.csv").write_text(
        f"brand_id,exit_date,reason,detail,document_no\nhs-cook,2024-06-01,violation,{cell},红人社发〔2024〕7号\n",
        encoding="utf-8")
    issues = check_project(project)
    check_issues(issues, (E("exits.csv", 2, "detail", "cell-too-long"),))
    assert all(len(issue.message) < 300 for issue in issues)


def test_cells_over_the_character_limit(make_project) -> None:
    """A 2,001-character name is `cell-too-long` at its cell (never typed, never quoted whole);
    2,000 characters pass that limit and meet the schema's own `maxLength` (100 for a name)."""
    project = make_project()
    path = datasets(project, "brands.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    for index, length in ((1, limits.CELL_CHARS + 1), (2, limits.CELL_CHARS)):
        cells = lines[index].split(",")
        cells[1] = "训" * length
        lines[index] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    issues = check_project(project)
    check_issues(issues, (E("brands.csv", 2, "name", "cell-too-long"), E("brands.csv", 3, "name", "too-long")))
    assert f"{limits.CELL_CHARS + 1:,}" in issues[0].message and f"{limits.CELL_CHARS:,}" in issues[1].message
    assert all("训" * 41 not in issue.message for issue in issues)


def test_random_bytes_give_a_bounded_report(make_project) -> None:
    """4 MB of random bytes: not text, refused after UNDECODABLE_LINES lines, the report stays short."""
    project = make_project()
    datasets(project, "outcomes.csv").write_bytes(random.Random(20).randbytes(4 << 20))
    issues = check_project(project)
    mine = [i for i in issues if i.path == "datasets/outcomes.csv"]
    assert ("datasets/outcomes.csv", None, None, "encoding-error") in tuples(mine)
    assert len(mine) <= 2 * limits.LISTED + 2
    assert all(len(issue.message) < 300 for issue in issues)
    result = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stdout) < 20_000


def test_bytes_that_are_neither_text_nor_a_known_encoding(make_project) -> None:
    project = make_project()
    datasets(project, "exits.csv").write_bytes(b"\x81\xff\xfe\x80" * 5000)
    assert tuples(check_project(project)) == [("datasets/exits.csv", None, None, "encoding-error")]


# -- how many issues are kept -------------------------------------------------------------------

def test_a_file_lists_its_first_issues_and_counts_the_rest(make_project) -> None:
    project = make_project()
    append_rows(project, "outcomes.csv", ["kdl-weld,2021,180,160,120,90,70"] * 1_500)  # rows 12-1511: duplicates
    issues = check_project(project)
    listed = [("datasets/outcomes.csv", row, "brand_id", "duplicate-id") for row in range(12, 12 + limits.LISTED)]
    assert tuples(issues) == [("datasets/outcomes.csv", None, None, "issues-not-listed")] + listed
    assert "另有 500 处问题未列出" in issues[0].message and issues[0].severity == "error"


def test_checking_stops_after_too_many_errors_while_reading(make_project, monkeypatch) -> None:
    monkeypatch.setattr(limits, "STOP_ERRORS", 50)
    monkeypatch.setattr(limits, "LISTED", 10)
    project = make_project()
    append_rows(project, "outcomes.csv", ["kdl-weld,2021,180,160,120,90,70,多出"] * 200)  # rows 12-211: extra cells
    issues = check_project(project)
    assert tuples(issues) == [("datasets/outcomes.csv", None, None, "checking-stopped"),
                              ("datasets/outcomes.csv", None, None, "issues-not-listed")] + [
        ("datasets/outcomes.csv", row, None, "extra-cell") for row in range(12, 22)]
    # rows 12..62 hold 51 errors, more than 50: row 63 is the first not checked
    assert "从第63行起未再检查" in issues[0].message
    assert "另有 41 处问题未列出" in issues[1].message


def test_checking_stops_after_too_many_errors_while_tidying(make_project, monkeypatch) -> None:
    monkeypatch.setattr(limits, "STOP_ERRORS", 50)
    monkeypatch.setattr(limits, "LISTED", 10)
    monkeypatch.setattr(validate, "TIDY_ROWS", 20)
    project = make_project()
    append_rows(project, "outcomes.csv", [f"nm-weld,{2000 + i},180,85%,120,90,70" for i in range(100)] * 2)
    issues = check_project(project)
    # ranges of 20 rows: rows 2-21 have 10 errors, 22-41 30, 42-61 50, 62-81 70: row 82 is not checked
    stopped = [i for i in issues if i.code == "checking-stopped"]
    assert tuples(stopped) == [("datasets/outcomes.csv", None, None, "checking-stopped")]
    assert "从第82行起未再检查" in stopped[0].message
    assert [i.row for i in issues if i.severity == "error" and i.row] == list(range(12, 22))
    assert {i.code for i in issues if i.row and i.severity == "error"} == {"percent-value"}


def test_messages_quote_only_an_excerpt_of_a_long_value(make_project) -> None:
    """1,500-character values (under the cell limit) reach every stage; no message quotes one whole."""
    project = make_project()
    long_id, long_text = "x" * 1_500, "焊" * 1_500
    path = datasets(project, "brands.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = lines[1].split(",")
    cells[2] = long_id  # institution_id: an unknown institution
    cells[4] = long_text  # occupation_name: over the schema's maxLength
    lines[1] = ",".join(cells)
    cells = lines[2].split(",")
    cells[0] = "包" * 1_500  # brand_id: not URL-safe
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    append_rows(project, "outcomes.csv", ["kdl-weld,2020," + "约" * 1_500 + ",1,1,1,1",
                                          "kdl-weld,2019,1,1,1,1,1," + "多" * 1_500])
    issues = check_project(project)
    codes = {i.code for i in issues}
    assert {"foreign-key", "too-long", "unsafe-id", "type-error", "extra-cell"} <= codes
    assert all(len(issue.message) < 400 for issue in issues), max(issues, key=lambda i: len(i.message)).message


# -- the command line's report ---------------------------------------------------------------------

def test_text_report_shows_twenty_of_a_kind_and_counts_all(make_project) -> None:
    project = make_project()
    append_rows(project, "outcomes.csv", ["kdl-weld,2021,180,160,120,90,70"] * 30)  # rows 12-41: duplicates
    result = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert sum("（duplicate-id：" in line for line in lines) == limits.TEXT_REPEATS + 1
    assert any("…及另外 10 处（同类问题）" in line and "duplicate-id" in line for line in lines)
    assert "第31行" in result.stdout and "第32行" not in result.stdout
    assert lines[-1] == "共 30 个错误、0 个警告。"


def test_json_report_keeps_every_issue_up_to_its_cap(make_project, monkeypatch) -> None:
    project = make_project()
    append_rows(project, "outcomes.csv", ["kdl-weld,2021,180,160,120,90,70"] * 30)
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", "--project", str(project), "--format", "json"])
    assert [i["row"] for i in json.loads(result.stdout)] == list(range(12, 42))
    monkeypatch.setattr(limits, "JSON_ISSUES", 25)
    result = runner.invoke(cli, ["validate", "--project", str(project), "--format", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and len(report) == 26
    assert [i["row"] for i in report[:25]] == list(range(12, 37))
    assert report[-1]["code"] == "issues-truncated" and "另有 5 个问题" in report[-1]["message"]
    assert set(report[-1]) == set(report[0])


def test_limits_are_documented(repo: Path) -> None:
    readme = (repo / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Input limits", 1)[1].split("\n## ", 1)[0]
    for value in (limits.DESCRIPTOR_DEPTH, limits.FILE_ROWS, limits.COLUMNS, limits.CELL_CHARS,
                  limits.UNDECODABLE_LINES, limits.LISTED, limits.STOP_ERRORS, limits.TEXT_REPEATS,
                  limits.JSON_ISSUES):
        assert f"{value:,}" in section, value
    for size in (limits.DESCRIPTOR_BYTES, limits.FILE_BYTES):
        assert f"{size >> 20:,} MiB" in section, size
