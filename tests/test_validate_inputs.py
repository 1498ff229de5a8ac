"""Bad input as staff really produce it: one fixture folder per mistake, one table row each.

Every folder under `tests/sites/` except `minimal/` holds only the file(s) that differ
from the minimal (valid) site. The table below says, for each, exactly which issues the
validator must report -- as (path, row, field, code) with a severity -- and the test
fails both ways: when an expected issue is missing, and when anything else is reported
(unless the case lists it under `allowed`, with the reason in `why`).

Rows are spreadsheet rows: header = 1, first data row = 2, a quoted multi-line cell is
one row (minimal institutions.csv row 2 spans two physical lines, so institutions
rows 3 and 4 are physical lines 4 and 5).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from skillbrands.issues import CODES, Issue
from skillbrands.validate import validate_project

SITES = Path(__file__).resolve().parent / "sites"


class _Any:
    """Wildcard for one element of an `allowed` pattern."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass(frozen=True)
class Expect:
    path: str
    row: int | None
    field: str | None
    code: str
    severity: str
    value: str | None = None  # the bad cell's text, which the message must quote

    def key(self) -> tuple[str, int | None, str | None, str]:
        return (self.path, self.row, self.field, self.code)


def E(file: str, row: int | None, field: str | None, code: str, value: str | None = None) -> Expect:
    return Expect(f"datasets/{file}", row, field, code, "error", value)


def W(file: str, row: int | None, field: str | None, code: str, value: str | None = None) -> Expect:
    return Expect(f"datasets/{file}", row, field, code, "warning", value)


@dataclass(frozen=True)
class Case:
    name: str
    expected: tuple[Expect, ...] = ()
    #: (path, row, field, code) patterns (ANY = wildcard) that MAY also be reported
    allowed: tuple[tuple[object, object, object, object], ...] = ()
    why: str = ""


def case(name: str, *expected: Expect, allowed=(), why: str = "") -> Case:
    assert not allowed or why, f"{name}: say why extra issues are allowed"
    return Case(name, tuple(expected), tuple(allowed), why)


# When brands.csv cannot be used at all, every reference to a brand is unknown: a
# validator may report those references or (better) skip checks against a broken table.
BRANDS_UNUSABLE = (
    ("datasets/outcomes.csv", ANY, "brand_id", "foreign-key"),
    ("datasets/exits.csv", ANY, "brand_id", "foreign-key"),
)
BRANDS_UNUSABLE_WHY = "brands.csv unusable: references to it may or may not be reported"

CASES: list[Case] = [
    # -- encoding and bytes ------------------------------------------------------
    case("bad_gbk_file", W("institutions.csv", None, None, "encoding-converted")),
    # Excel "CSV (逗号分隔)" on Chinese Windows: GBK + CRLF (LF inside the quoted address)
    case("bad_gbk_crlf", W("institutions.csv", None, None, "encoding-converted")),
    case("bad_gbk_line", W("brands.csv", 4, None, "encoding-line-converted")),
    case("ok_utf8_bom"),
    case("ok_crlf"),
    case("ok_utf8_bom_crlf"),
    # b"\x81\xff" in the address of institutions row 3 (physical line 4)
    case("bad_undecodable_line", E("institutions.csv", 3, None, "encoding-error")),
    case("bad_nul_byte", E("exits.csv", 2, None, "nul-byte")),
    # -- cells -------------------------------------------------------------------
    case("bad_percent_value", E("outcomes.csv", 8, "passed", "percent-value", "85%")),
    case("bad_thousands_separator", W("outcomes.csv", 11, "trainees", "thousands-separator", "1,234")),
    case("bad_fullwidth_digits", W("outcomes.csv", 6, "employed", "fullwidth-digits", "３１０")),
    case("bad_negative_count", E("outcomes.csv", 5, "subsidised_key_group", "below-minimum", "-5")),
    case("bad_type_error", E("outcomes.csv", 2, "trainees", "type-error", "约180")),
    case("bad_excel_date_serial", E("brands.csv", 5, "published_date", "excel-date-serial", "45199")),
    case("bad_date_slashes", W("brands.csv", 5, "published_date", "date-normalised", "2023/9/30")),
    case("bad_invalid_date", E("institutions.csv", 4, "status_date", "invalid-date", "2023-02-30")),
    case("bad_scientific_notation",
         E("institutions.csv", 4, "credit_code", "scientific-notation", "9.11504E+17")),
    case("bad_pattern_mismatch", E("institutions.csv", 2, "website", "pattern-mismatch", "bt-school.example.cn")),
    case("bad_not_in_enum", E("brands.csv", 4, "tier", "not-in-enum", "city")),
    case("bad_above_maximum", E("brands.csv", 2, "published_year", "above-maximum", "2202")),
    # brands.name: "   " (row 2), U+3000 U+3000 (row 3), U+200B (row 4)
    case("bad_required_blank",
         E("brands.csv", 2, "name", "required"),
         E("brands.csv", 3, "name", "required"),
         E("brands.csv", 4, "name", "required")),
    # " bt-school " still matches every reference once trimmed: a warning, nothing else
    case("bad_whitespace_id", W("institutions.csv", 2, "institution_id", "whitespace-trimmed", "bt-school")),
    # -- keys --------------------------------------------------------------------
    case("bad_duplicate_id", E("brands.csv", 7, "brand_id", "duplicate-id", "bt-weld")),
    case("bad_duplicate_id_casefold", E("brands.csv", 7, "brand_id", "duplicate-id-casefold", "BT-Weld")),
    case("bad_unsafe_ids",
         E("brands.csv", 7, "brand_id", "unsafe-id", "bt/weld"),
         E("brands.csv", 8, "brand_id", "unsafe-id", ".."),
         E("brands.csv", 9, "brand_id", "unsafe-id", "bt weld"),
         E("brands.csv", 10, "brand_id", "unsafe-id", "包头焊工")),
    case("bad_fk_institution", E("brands.csv", 5, "institution_id", "foreign-key", "cf-care-centre")),
    case("bad_fk_region", E("brands.csv", 2, "region_code", "foreign-key", "150230")),
    case("bad_fk_occupation", E("brands.csv", 3, "occupation_code", "foreign-key", "4-03-02-10")),
    case("bad_fk_recommended_from", E("brands.csv", 6, "recommended_from", "foreign-key", "bt-weld-2023")),
    case("bad_fk_outcomes_brand", E("outcomes.csv", 10, "brand_id", "foreign-key", "nm-wled")),
    case("bad_fk_exits_brand", E("exits.csv", 2, "brand_id", "foreign-key", "hs-cooking")),
    case("bad_fk_institution_region", E("institutions.csv", 3, "region_code", "foreign-key", "150404")),
    case("bad_fk_region_parent", E("regions.csv", 4, "parent_code", "foreign-key", "150020")),
    # -- structure ---------------------------------------------------------------
    case("bad_empty_file", E("outcomes.csv", None, None, "empty-file")),
    case("bad_header_only", E("brands.csv", None, None, "no-rows"),
         allowed=BRANDS_UNUSABLE, why=BRANDS_UNUSABLE_WHY),
    case("ok_exits_header_only",
         allowed=(("datasets/exits.csv", None, None, "no-rows"),),
         why="exits.csv has skillbrands:allowEmpty; at most a warning (checked: no errors)"),
    case("bad_missing_column", E("institutions.csv", 1, "website", "missing-column", "website")),
    case("bad_extra_column", W("brands.csv", 1, "备注", "extra-column", "备注")),
    case("bad_duplicate_column", E("outcomes.csv", 1, "year", "duplicate-column", "year")),
    case("bad_extra_cell", E("outcomes.csv", 4, None, "extra-cell", "见附件")),
    # the last two cells are missing: field = the first missing column
    case("bad_missing_cell", E("outcomes.csv", 9, "subsidised_key_group", "missing-cell")),
    # `"` opens the trainees cell of row 3 and never closes: rows 4-11 are swallowed
    case("bad_unterminated_quote", E("outcomes.csv", 3, "trainees", "unterminated-quote")),
    case("bad_blank_row", W("outcomes.csv", 7, None, "blank-row")),
    case("bad_semicolon_delimiter", E("outcomes.csv", 1, None, "wrong-delimiter")),
    case("bad_chinese_comma_delimiter", E("exits.csv", 1, None, "wrong-delimiter")),
    case("bad_title_row", E("brands.csv", 1, None, "title-row"),
         allowed=BRANDS_UNUSABLE, why=BRANDS_UNUSABLE_WHY),
    case("bad_excel_file", E("brands.csv", None, None, "excel-file"),
         allowed=BRANDS_UNUSABLE, why=BRANDS_UNUSABLE_WHY),
    case("ok_chinese_boolean"),  # key_support 是/否 are the schema's trueValues/falseValues
]

CASE_IDS = [c.name for c in CASES]
CASES_BY_NAME = {c.name: c for c in CASES}


def _matches(pattern: tuple, found: tuple) -> bool:
    return all(p is ANY or p == f for p, f in zip(pattern, found, strict=True))


def _show(issues: list[Issue]) -> str:
    return "\n".join(f"  {i.severity:7} {i.as_tuple()} {i.message}" for i in issues) or "  (none)"


def check_issues(issues: list[Issue], expected: tuple[Expect, ...], allowed: tuple = ()) -> None:
    """Every expected issue exactly once with its severity; nothing else but `allowed`."""
    for want in expected:
        hits = [i for i in issues if i.as_tuple() == want.key()]
        assert len(hits) == 1, f"expected {want.key()} once, got {len(hits)}; all issues:\n{_show(issues)}"
        assert hits[0].severity == want.severity, f"{want.key()}: severity {hits[0].severity}, want {want.severity}"
    keys = {want.key() for want in expected}
    unexpected = [
        i for i in issues
        if i.as_tuple() not in keys and not any(_matches(p, i.as_tuple()) for p in allowed)
    ]
    assert not unexpected, f"unexpected issues:\n{_show(unexpected)}"


# -- the table is sound ---------------------------------------------------------------

def test_every_case_has_a_fixture_folder() -> None:
    assert len(CASE_IDS) == len(CASES_BY_NAME), "case names must be unique"
    for name in CASE_IDS:
        assert (SITES / name / "datasets").is_dir(), name


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_case_is_well_formed(case: Case) -> None:
    for want in case.expected:
        assert want.code in CODES
        assert want.severity in ("error", "warning")
    for pattern in case.allowed:
        assert pattern[3] in CODES
    # an overlay only changes files of the minimal site, and really changes them
    for path in (SITES / case.name).rglob("*"):
        if path.is_file():
            original = SITES / "minimal" / path.relative_to(SITES / case.name)
            assert original.is_file(), f"{path} is not a file of the minimal site"
            assert path.read_bytes() != original.read_bytes(), f"{path} is identical to minimal"


def test_fixture_bytes_are_exact() -> None:
    """Guards against git or an editor rewriting fixtures (see .gitattributes)."""
    def data(name: str, file: str) -> bytes:
        return (SITES / name / "datasets" / file).read_bytes()

    for path in (SITES / "minimal").rglob("*"):
        if path.is_file() and "editions" not in path.parts:  # frozen editions are published CSV (BOM, CRLF)
            raw = path.read_bytes()
            assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf"), path
            raw.decode("utf-8")
    assert data("ok_crlf", "brands.csv").count(b"\r\n") == 6
    assert data("ok_utf8_bom", "regions.csv").startswith(b"\xef\xbb\xbfcode,")
    assert data("ok_utf8_bom_crlf", "occupations.csv").startswith(b"\xef\xbb\xbfcode,name\r\n")
    assert data("bad_excel_file", "brands.csv").startswith(b"PK\x03\x04")
    assert data("bad_empty_file", "outcomes.csv") == b""
    assert b"\x00" in data("bad_nul_byte", "exits.csv")
    assert b"\x81\xff" in data("bad_undecodable_line", "institutions.csv")
    for name in ("bad_gbk_file", "bad_gbk_crlf"):
        with pytest.raises(UnicodeDecodeError):
            data(name, "institutions.csv").decode("utf-8")
        data(name, "institutions.csv").decode("gbk")
    assert data("bad_gbk_crlf", "institutions.csv").count(b"\r\n") == 4
    with pytest.raises(UnicodeDecodeError):
        data("bad_gbk_line", "brands.csv").decode("utf-8")


# -- the validator --------------------------------------------------------------------

def test_minimal_site_has_no_issues(make_project) -> None:
    issues = validate_project(make_project())
    assert issues == [], _show(issues)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_is_reported(case: Case, make_project) -> None:
    issues = validate_project(make_project(case.name))
    assert all(isinstance(i, Issue) for i in issues)
    check_issues(issues, case.expected, case.allowed)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_messages_are_chinese_and_quote_the_bad_value(case: Case, make_project) -> None:
    issues = validate_project(make_project(case.name))
    for issue in issues:
        assert issue.message.strip(), issue
        assert re.search(r"[\u4e00-\u9fff]", issue.message), f"message not in Chinese: {issue}"
    for want in case.expected:
        if want.value is None:
            continue
        hits = [i for i in issues if i.as_tuple() == want.key()]
        assert hits, f"missing {want.key()}:\n{_show(issues)}"
        for hit in hits:
            assert want.value in hit.message, f"message should quote “{want.value}”: {hit.message}"


def test_all_problems_are_reported_in_one_run(make_project) -> None:
    """Bad cells in four different files: every one is reported, nothing stops early."""
    names = ["bad_percent_value", "bad_scientific_notation", "bad_fk_institution", "bad_nul_byte"]
    files = [{p.relative_to(SITES / n) for p in (SITES / n).rglob("*") if p.is_file()} for n in names]
    assert len(set().union(*files)) == len(names), "the overlays must touch different files"
    issues = validate_project(make_project(*names))
    check_issues(issues, tuple(want for n in names for want in CASES_BY_NAME[n].expected))


# -- the command line -----------------------------------------------------------------

def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    # CliRunner turns an uncaught exception into exit code 1: rule that out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_cli_json_for_a_bad_site(make_project) -> None:
    project = make_project("bad_percent_value")
    result = invoke("validate", "--project", str(project), "--format", "json")
    assert result.exit_code == 1, result.output
    issues = json.loads(result.stdout)
    assert isinstance(issues, list) and issues
    for item in issues:
        assert isinstance(item, dict)
        assert {"path", "row", "field", "code", "severity", "message"} <= set(item)
    assert {
        "path": "datasets/outcomes.csv", "row": 8, "field": "passed",
        "code": "percent-value", "severity": "error",
    }.items() <= issues[[i["code"] for i in issues].index("percent-value")].items()


def test_cli_json_for_the_minimal_site(make_project) -> None:
    result = invoke("validate", "--project", str(make_project()), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_cli_warnings_alone_exit_zero(make_project) -> None:
    result = invoke("validate", "--project", str(make_project("bad_gbk_file")), "--format", "json")
    assert result.exit_code == 0, result.output
    assert [i["code"] for i in json.loads(result.stdout)] == ["encoding-converted"]


def test_cli_unknown_format_is_a_usage_error(make_project) -> None:
    result = invoke("validate", "--project", str(make_project()), "--format", "yaml")
    assert result.exit_code == 2, result.output


def test_cli_text_names_the_file_and_the_row(make_project) -> None:
    project = make_project("bad_percent_value")
    result = invoke("validate", "--project", str(project), "--format", "text")
    assert result.exit_code == 1, result.output
    assert "datasets/outcomes.csv" in result.output
    assert re.search(r"(?<!\d)8(?!\d)", result.output), result.output
    assert "85%" in result.output


def test_cli_missing_project_folder_is_reported_without_traceback(tmp_path: Path) -> None:
    result = invoke("validate", "--project", str(tmp_path / "nowhere"), "--format", "text")
    assert result.exit_code in (1, 2), result.output


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli_never_shows_a_traceback(case: Case, make_project) -> None:
    project = make_project(case.name)
    errors = any(want.severity == "error" for want in case.expected)
    for fmt in ("text", "json"):
        result = invoke("validate", "--project", str(project), "--format", fmt)
        assert result.exit_code == (1 if errors else 0), result.output
    json.loads(result.stdout)
