"""A hand-edited datapackage.json never crashes a later stage: every mistake is an issue at its JSON path.

Each `tests/sites/desc_*` folder holds the repository's descriptor with one kind of
mistake (or a data file with one); the table says exactly which issues `check_project`
must report, and the test fails both when one is missing and when anything else is
reported. Every case also goes through the CLI: `validate` and `build` exit 1 with
Chinese issues, never a traceback, and the published site is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from skillbrands.pipeline import check_project
from test_validate_inputs import SITES, Case, Expect, check_issues

PKG = "datasets/datapackage.json"
FIELDS = "resources[{}].schema.fields[{}]"


def D(field: str | None, code: str, severity: str = "error", value: str | None = None) -> Expect:
    """An issue of datapackage.json at a JSON path."""
    return Expect(PKG, None, field, code, severity, value)


def E(file: str, row: int, field: str, code: str, value: str) -> Expect:
    return Expect(f"datasets/{file}", row, field, code, "error", value)


def case(name: str, *expected: Expect) -> Case:
    return Case(name, tuple(expected))


# resources: 0 regions, 1 occupations, 2 institutions, 3 brands, 4 outcomes, 5 exits, 6 criteria, 7 releases, 8 reviews
CASES: list[Case] = [
    # -- the file as JSON -----------------------------------------------------------------
    case("desc_recursion", D(None, "datapackage-too-deep")),  # 5,000 nested lists: RecursionError in json.loads
    case("desc_too_deep", D("extra" + "[0]" * 19, "datapackage-too-deep")),  # 25 levels; the limit is 20
    # -- resources ------------------------------------------------------------------------
    case("desc_resource_no_name", D("resources[1].name", "datapackage-missing")),  # brands' reference to it: not also
    case("desc_resource_no_path", D("resources[5].path", "datapackage-missing")),
    case("desc_resource_no_schema", D("resources[4].schema", "datapackage-missing")),
    case("desc_resource_not_object", D("resources[9]", "datapackage-type", value="exits.csv")),
    case("desc_duplicate_resource", D("resources[9].name", "datapackage-duplicate", value="brands")),
    case("desc_missing_resource", D("resources", "datapackage-missing", value="exits")),  # exits removed
    # -- columns the engine reads -----------------------------------------------------------
    case("desc_missing_field", D("resources[4].schema.fields", "datapackage-missing", value="passed")),
    case("desc_field_type", D(FIELDS.format(3, 11) + ".type", "datapackage-type", value="published_year")),
    case("desc_required_dropped", D(FIELDS.format(3, 2) + ".constraints.required", "datapackage-missing")),
    case("desc_tier_enum", D(FIELDS.format(3, 5) + ".constraints.enum", "datapackage-enum", value="national")),
    case("desc_enum_labels_list", D(FIELDS.format(3, 5) + ".enumLabels", "datapackage-type")),
    case("desc_minimum_text", D(FIELDS.format(4, 2) + ".constraints.minimum", "datapackage-type", value="零")),
    # an unbalanced parenthesis, a backreference and a lookahead: all three in one run
    case("desc_bad_pattern",
         D(FIELDS.format(0, 0) + ".constraints.pattern", "datapackage-pattern", value="\\1"),
         D(FIELDS.format(1, 0) + ".constraints.pattern", "datapackage-pattern", value="(?="),
         D(FIELDS.format(2, 7) + ".constraints.pattern", "datapackage-pattern", value="https?://\\S+(")),
    # -- keys -----------------------------------------------------------------------------------
    case("desc_pk_unknown_field", D("resources[3].schema.primaryKey[0]", "datapackage-reference", value="brand")),
    case("desc_pk_string", D("resources[4].schema.primaryKey", "datapackage-type")),
    case("desc_fk_unknown_resource",
         D("resources[3].schema.foreignKeys[0].reference.resource", "datapackage-reference", value="institution")),
    case("desc_fk_unknown_field",
         D("resources[3].schema.foreignKeys[0].reference.fields[0]", "datapackage-reference", value="id"),
         D("resources[4].schema.foreignKeys[0].fields[0]", "datapackage-reference", value="brand")),
    case("desc_fk_removed", D("resources[3].schema.foreignKeys", "datapackage-key", value="institution_id")),
    # -- settings and what the site shows ----------------------------------------------------------
    case("desc_settings_not_object", D("skillbrands", "datapackage-type", value="yes")),
    case("desc_small_cohort_text", D("skillbrands.small_cohort", "datapackage-type", value="thirty")),
    case("desc_settings_types",
         D("skillbrands.sample", "datapackage-type", value="true"),
         D("skillbrands.small_cohort", "datapackage-type", value="0"),
         D("skillbrands.smallcohort", "datapackage-setting-unknown", "warning", value="smallcohort")),
    case("desc_licenses_text", D("licenses", "datapackage-type", value="CC-BY-4.0")),
    # the footer's publisher: a name, text fields, an e-mail address, a feedback link the site may render
    case("desc_publisher_bad",
         D("publisher.name", "datapackage-missing"),
         D("publisher.phone", "datapackage-type", value="4710000000"),
         D("publisher.email", "datapackage-type", value="skills at example.org")),
    case("desc_publisher_feedback", D("publisher.feedback", "url-not-allowed", value="javascript")),
    # -- numbers frictionless reads with Decimal (sNaN made its comparison raise InvalidOperation)
    case("desc_nonfinite_numbers",
         E("criteria.csv", 2, "min_pass_rate", "type-error", "sNaN"),
         E("criteria.csv", 3, "min_employment_rate", "type-error", "NaN"),
         E("criteria.csv", 4, "min_pass_rate", "type-error", "Infinity"),
         E("criteria.csv", 5, "min_employment_rate", "type-error", "-0")),
]
CASE_IDS = [c.name for c in CASES]


def test_every_desc_fixture_is_a_case() -> None:
    folders = {p.name for p in SITES.iterdir() if p.name.startswith("desc_")}
    assert folders == set(CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_descriptor_mistake_is_reported(case: Case, make_project) -> None:
    issues = check_project(make_project(case.name))
    check_issues(issues, case.expected)
    for want in case.expected:
        issue = next(i for i in issues if i.as_tuple() == want.key())
        assert any("\u4e00" <= ch <= "\u9fff" for ch in issue.message), issue.message
        if want.value is not None:
            assert want.value in issue.message, issue.message


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_validate_and_build_exit_1_without_a_traceback(case: Case, make_project) -> None:
    project = make_project(case.name)
    out = project / "output"
    out.mkdir()
    (out / "index.html").write_text("published", encoding="utf-8")
    runner = CliRunner()
    for args in (["validate", "--project", str(project)],
                 ["build", "--project", str(project), "--out", str(out)]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.stderr
        assert case.expected[0].code in result.stdout
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text(encoding="utf-8") == "published"


# -- generated descriptors: too big to commit, or not writable with json.dumps ----------------

def _write(project: Path, text: str) -> None:
    (project / PKG).write_text(text, encoding="utf-8")


def test_descriptor_over_the_size_limit_is_refused_unread(make_project, monkeypatch) -> None:
    project = make_project()
    text = (project / PKG).read_text(encoding="utf-8")
    _write(project, text.replace('"version": "0.1.0",', '"version": "0.1.0", "notes": "' + "x" * 1_100_000 + '",'))
    opened = type(project / PKG).open

    def refuse(self, *args, **kwargs):
        assert self.name != "datapackage.json", "the descriptor was opened"
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(type(project / PKG), "open", refuse)
    issues = check_project(project)
    assert [i.as_tuple() for i in issues] == [(PKG, None, None, "datapackage-too-large")]
    assert "1.0 MB" in issues[0].message


@pytest.mark.parametrize("change, field, code", [
    ('"small_cohort": NaN', None, "datapackage-invalid"),  # json.loads accepts NaN; JSON does not
    ('"small_cohort": 30, "small_cohort": 40', "skillbrands.small_cohort", "datapackage-duplicate"),
])
def test_json_that_python_accepts_but_hides_a_mistake(make_project, change, field, code) -> None:
    project = make_project()
    text = (project / PKG).read_text(encoding="utf-8")
    assert '"small_cohort": 30' in text
    _write(project, text.replace('"small_cohort": 30', change))
    assert [i.as_tuple() for i in check_project(project)] == [(PKG, None, field, code)]


def test_the_shipped_descriptor_and_the_generator_pass(repo: Path, tmp_path: Path) -> None:
    from skillbrands import descriptor
    from skillbrands.generate import generate

    for path in (repo / PKG, generate(tmp_path / "g", "S", 1).project / PKG):
        value, issues = descriptor.parse(path.read_bytes())
        assert issues == [] and descriptor.check(value) == []


# -- schema patterns run in linear time (RE2) ---------------------------------------------------

def test_catastrophic_pattern_is_checked_in_linear_time(make_project) -> None:
    """`(a+)+$` against 30 a's and a '!' takes Python `re` minutes; RE2 answers at once."""
    project = make_project()
    package = json.loads((project / PKG).read_text(encoding="utf-8"))
    institutions = next(r for r in package["resources"] if r["name"] == "institutions")
    address = next(f for f in institutions["schema"]["fields"] if f["name"] == "address")
    address["constraints"] = {"pattern": "(a+)+$"}
    _write(project, json.dumps(package, ensure_ascii=False, indent=2))
    path = project / "datasets" / "institutions.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[4].startswith("cf-cook-school,")  # row 4 (row 2 spans two lines)
    cells = lines[4].split(",")
    cells[5] = "a" * 30 + "!"
    lines[4] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    issues = check_project(project)
    mismatches = [i.as_tuple() for i in issues if i.code == "pattern-mismatch"]
    # rows 2 and 3 have real addresses, which do not match (a+)+$ either
    assert mismatches == [("datasets/institutions.csv", row, "address", "pattern-mismatch") for row in (2, 3, 4)]


def test_patterns_are_full_matches(make_project) -> None:
    """Table Schema: the whole cell matches (frictionless anchored ^...$; RE2 full match does the same)."""
    project = make_project()
    path = project / "datasets" / "regions.csv"
    text = path.read_text(encoding="utf-8")
    assert "\n150200," in text
    path.write_text(text.replace("\n150200,", "\n1502001,", 1), encoding="utf-8")
    codes = {(i.path, i.field, i.code) for i in check_project(project) if i.row is not None}
    assert ("datasets/regions.csv", "code", "pattern-mismatch") in codes


def test_columns_of_staffs_own_are_validated_and_ignored(make_project) -> None:
    """A column not in the contract is free: the build publishes (it used to crash on institutions)."""
    import csv
    import io

    project = make_project()
    package = json.loads((project / PKG).read_text(encoding="utf-8"))
    for resource in package["resources"]:
        path = project / "datasets" / resource["path"]
        if not path.exists():
            continue
        resource["schema"]["fields"].append({"name": "staff_memo", "type": "string", "title": "内部备注"})
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([rows[0] + ["staff_memo"]] + [row + ["内部备注"] for row in rows[1:]])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    _write(project, json.dumps(package, ensure_ascii=False, indent=2))
    assert check_project(project) == []
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / "output" / "institutions" / "bt-school" / "index.html").is_file()
