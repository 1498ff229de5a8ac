"""Values that are not what they look like, and IDs that cannot be file names (issue 20, points 11-12).

Same pattern as `test_validate_inputs.py`: one overlay folder per mistake under
`tests/sites/value_*`, and a table saying exactly which issues the validator must
report -- nothing missing, nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from conftest import unfreeze
from skillbrands.cells import ID_MAX_LENGTH, ID_PATTERN, WINDOWS_RESERVED, FieldSpec, normalise_table, unsafe_name
from skillbrands.issues import CODES
from skillbrands.pipeline import check_project
from skillbrands.read import RawTable
from skillbrands.validate import load_package, validate_project
from test_validate_inputs import E, W, Case, Expect, case, check_issues

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"

CASES: list[Case] = [
    # -- digits of other scripts in numbers and dates: converted, with a warning -----------
    case("value_other_digits",
         W("outcomes.csv", 2, "trainees", "other-digits", "١٨٠"),
         W("outcomes.csv", 3, "passed", "other-digits", "۱۹۰"),
         W("outcomes.csv", 4, "employed", "other-digits", "३८"),
         W("outcomes.csv", 5, "subsidised_key_group", "other-digits", "᠒᠒"),
         W("outcomes.csv", 6, "order_based", "other-digits", "༢༢༠"),
         W("outcomes.csv", 7, "year", "other-digits", "٢٠٢٣"),
         W("brands.csv", 2, "published_date", "other-digits", "٢٠٢٢-١١-١٥"),
         W("criteria.csv", 2, "min_pass_rate", "other-digits", "٩٠")),
    # -- forms Python's int() / Decimal() would take but staff do not mean -----------------
    case("value_number_forms",
         E("outcomes.csv", 2, "trainees", "type-error", "1_000"),
         E("outcomes.csv", 3, "passed", "type-error", "+190"),
         E("outcomes.csv", 4, "employed", "type-error", "0x26"),
         E("outcomes.csv", 5, "subsidised_key_group", "type-error", "2 2"),
         E("outcomes.csv", 6, "order_based", "scientific-notation", "1e3"),
         E("outcomes.csv", 7, "year", "type-error", "2023.0"),
         E("criteria.csv", 2, "min_pass_rate", "type-error", "NaN"),
         E("criteria.csv", 3, "min_pass_rate", "type-error", "Infinity"),
         E("criteria.csv", 4, "min_employment_rate", "type-error", ".5"),
         E("criteria.csv", 5, "min_employment_rate", "type-error", "7_0"),
         E("brands.csv", 2, "published_date", "type-error", "2022-11-15T00:00")),
    # -- codes hold ASCII digits only --------------------------------------------------------
    case("value_code_digits",
         E("institutions.csv", 3, "region_code", "code-digits", "１５０４０２"),
         E("institutions.csv", 4, "credit_code", "code-digits", "٩١١٥٠٤٠٢٠٥١٢٨٤٧٣٢٢"),
         E("brands.csv", 3, "occupation_code", "code-digits", "٤-٠٣-٠٢-٠١")),
    # -- characters that change what readers see -------------------------------------------
    case("value_bidi",
         E("brands.csv", 2, "name", "bidi-control", "昆都仑区焊工培训[U+202E]（示例）"),
         E("institutions.csv", 3, "name", "bidi-control", "[U+2067]示例[U+2069]"),
         E("exits.csv", 2, "detail", "bidi-control", "U+202D")),
    case("value_invisible",
         W("brands.csv", 2, "name", "invisible-character", "U+200B"),
         W("brands.csv", 3, "name", "invisible-character", "U+00AD"),
         W("brands.csv", 4, "name", "invisible-character", "U+200D"),  # a joiner between Chinese characters
         W("brands.csv", 5, "document_no", "invisible-character", "U+FEFF"),
         W("brands.csv", 6, "region_code", "invisible-character", "150[U+200B]000"),
         W("institutions.csv", 4, "status_reason", "invisible-character", "U+2060"),
         W("releases.csv", 2, "title", "invisible-character", "U+200F"),
         W("regions.csv", 3, "name", "invisible-character", "U+180E")),  # a Mongolian separator between Chinese
    case("value_controls",
         E("brands.csv", 2, "name", "control-character", "U+0007"),
         E("institutions.csv", 3, "name", "control-character", "U+0085"),
         E("exits.csv", 2, "detail", "control-character", "U+001B")),
    case("value_odd_characters",
         E("brands.csv", 2, "name", "private-use-character", "U+E000"),
         E("brands.csv", 3, "name", "invalid-character", "U+0378"),
         E("brands.csv", 4, "name", "invalid-character", "U+FFFF")),
    # Mongolian (MVS, FVS), Uyghur (ZWNJ), Tibetan, Devanagari (ZWJ), Korean, an emoji
    # sequence, a CJK Extension H character, a tab and a line break in free text: all fine
    case("value_ok_scripts"),
    # -- length --------------------------------------------------------------------------------
    case("value_long_text",
         E("brands.csv", 2, "name", "cell-too-long", "AAAAAAAAAA"),  # 10,000 characters: over the 2,000 of any cell
         E("institutions.csv", 3, "address", "too-long", "内内内内"),
         E("criteria.csv", 2, "key_support_categories", "too-long", "heritage;heritage")),
    # -- point 12: IDs that cannot be file or folder names -----------------------------------------
    case("value_reserved_ids",
         *(E("brands.csv", row, "brand_id", "reserved-name", value)
           for row, value in enumerate(["CON", "nul", "Aux", "COM1", "lpt9", "COM0"], start=7)),
         E("institutions.csv", 5, "institution_id", "reserved-name", "PRN")),
    case("value_long_ids",
         E("brands.csv", 7, "brand_id", "id-too-long", "b" * 30),
         E("brands.csv", 8, "brand_id", "id-too-long", "bt-www"),
         E("institutions.csv", 5, "institution_id", "id-too-long", "i" * 30)),
]
CASE_IDS = [c.name for c in CASES]


def test_every_value_fixture_has_a_case() -> None:
    folders = {p.name for p in SITES.glob("value_*") if (p / "datasets").is_dir()}
    assert folders == set(CASE_IDS)
    for c in CASES:
        for want in c.expected:
            assert want.code in CODES, want.code
        for path in (SITES / c.name).rglob("*"):  # an overlay only changes files of the minimal site
            if path.is_file():
                original = SITES / "minimal" / path.relative_to(SITES / c.name)
                assert original.is_file() and path.read_bytes() != original.read_bytes(), path


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_value_is_reported(case: Case, make_project) -> None:
    issues = validate_project(make_project(case.name))
    check_issues(issues, case.expected)
    for issue in issues:
        assert re.search(r"[\u4e00-\u9fff]", issue.message), issue
        assert len(issue.message) < 400, f"a message quotes a whole long value: {issue}"
        # a message never carries the invisible character it reports: terminals and pages would obey it
        assert issue.message.isprintable(), repr(issue.message)
    for want in case.expected:
        hit = next(i for i in issues if i.as_tuple() == want.key())
        assert want.value in hit.message, f"message should quote “{want.value}”: {hit.message}"


def _typed(project: Path):
    """cell(table, row, field) -> the typed value the model is built from."""
    loaded = load_package(project)
    return lambda table, row, field: loaded.tables[table][loaded.row_numbers[table].index(row)][field]


def test_other_digits_become_the_numbers_they_mean(make_project) -> None:
    cell = _typed(make_project("value_other_digits"))
    assert cell("outcomes", 2, "trainees") == 180
    assert cell("outcomes", 6, "order_based") == 220
    assert cell("outcomes", 7, "year") == 2023
    assert str(cell("brands", 2, "published_date")) == "2022-11-15"
    assert cell("criteria", 2, "min_pass_rate") == 90


def test_invisible_characters_are_removed_and_scripts_keep_their_joiners(make_project) -> None:
    cell = _typed(make_project("value_invisible"))
    assert cell("brands", 2, "name") == "昆都仑区焊工培训（示例）"
    assert cell("brands", 6, "region_code") == "150000"
    assert cell("regions", 3, "name") == "包头市"
    cell = _typed(make_project("value_ok_scripts"))
    assert "\u1828\u180e\u1820" in cell("brands", 2, "name")  # Mongolian vowel separator kept
    assert "\u182d\u180b" in cell("brands", 2, "name")  # free variation selector kept
    assert "\u0628\u200c\u062e" in cell("brands", 3, "name")  # Uyghur ZWNJ kept
    assert "\u094d\u200d\u0937" in cell("brands", 4, "name")  # Devanagari ZWJ kept
    assert "\U0001f469\u200d\U0001f527" in cell("brands", 5, "name")  # emoji sequence kept
    assert cell("exits", 2, "detail") == "举办机构因虚假宣传被暂停\t（示例）\n第二行"


def _one_cell(value: str, type_: str = "string", text: bool = True) -> tuple[str | None, list[tuple[str, str]]]:
    """normalise_table on a one-cell table: (the value frictionless would see, [(code, severity)])."""
    table = RawTable(names=["c"], rows=[[value]], row_numbers=[2])
    spec = FieldSpec("c", type_, False, False, text, is_code=not text and type_ == "string")
    issues = normalise_table(table, [spec], "datasets/x.csv")
    return table.rows[0][0], [(i.code, i.severity) for i in issues]


@pytest.mark.parametrize("value, seen, found", [
    ("甲\u3000乙\u00a0丙", "甲\u3000乙\u00a0丙", []),                      # spaces are text
    ("甲\u2028乙", "甲乙", [("invisible-character", "warning")]),          # line separator
    ("甲\u200e乙", "甲乙", [("invisible-character", "warning")]),          # LRM
    ("甲\U000e0041乙", "甲乙", [("invisible-character", "warning")]),      # a tag character hides text
    ("a\u200cb", "a\u200cb", []),                                        # Latin ZWNJ (typography)
    ("\u0628\u200c 1", "\u0628 1", [("invisible-character", "warning")]),  # ZWNJ before a space
    ("\U0003134a\U00031350", "\U0003134a\U00031350", []),              # CJK Ext. G and H
    ("甲\U0003fffe", None, [("invalid-character", "error")]),             # a noncharacter of plane 3
    ("甲\ud800乙", None, [("invalid-character", "error")]),               # a lone surrogate
    ("甲\u202e乙\u200b", None, [("bidi-control", "error")]),             # one issue: the cell is refused
    ("\u00ad", None, [("invisible-character", "warning")]),              # nothing left: empty
])
def test_invisible_character_classes(value: str, seen: str | None, found: list) -> None:
    assert _one_cell(value) == (seen, found)


@pytest.mark.parametrize("value, type_, seen, code", [
    ("𝟗𝟎", "integer", "90", "other-digits"),    # mathematical digits
    ("١٢٫٥", "number", None, "type-error"),       # the Arabic decimal separator is not a point
    ("٢٠٢٣", "year", "2023", "other-digits"),
    ("٢٠٢٣", "string", None, "code-digits"),
])
def test_digits_by_type(value: str, type_: str, seen: str | None, code: str) -> None:
    got, found = _one_cell(value, type_, text=False)
    assert got == seen and code in {c for c, _ in found}


# -- point 12: content pages ------------------------------------------------------------------

def test_content_slugs_that_cannot_be_folder_names(make_project) -> None:
    # written here, not kept as a fixture: a repository holding content/con.md cannot be
    # checked out on Windows either
    project = make_project()
    long_slug = "a" * (ID_MAX_LENGTH + 1)
    for slug in ("con", "lpt1", long_slug, "com10", "x" * ID_MAX_LENGTH):
        (project / "content" / f"{slug}.md").write_text(f"title: {slug}\n\n正文。\n", encoding="utf-8")
    issues = check_project(project)
    expected = [Expect(f"content/{slug}.md", None, None, "content-invalid", "error", shown)
                for slug, shown in (("con", "con.md"), ("lpt1", "lpt1.md"), (long_slug, "a" * 30))]
    check_issues(issues, tuple(expected))
    for want in expected:
        assert want.value in next(i.message for i in issues if i.path == want.path)


def test_unsafe_name() -> None:
    for name in ("CON", "con", "Con", "nul", "AUX", "prn", "COM0", "com9", "LPT0", "lpt9", "NUL.txt", "con.tar.gz"):
        assert unsafe_name(name) is not None and unsafe_name(name)[0] == "reserved-name", name
    for name in ("console", "com10", "lpt", "nul-1", "acon", "x" * ID_MAX_LENGTH, "com"):
        assert unsafe_name(name) is None, name
    assert unsafe_name("x" * (ID_MAX_LENGTH + 1))[0] == "id-too-long"
    assert len(WINDOWS_RESERVED) == 24


# -- the schema bounds every text ------------------------------------------------------------------

_FIXED_PATTERN = re.compile(r"(?:\[[^\]]+\]\{\d+\}|\[[^\]]+\]|-)+")  # e.g. [0-9]{6}, [0-9]-[0-9]{2}-...


def _descriptors() -> list[tuple[str, dict]]:
    found = [("datasets/datapackage.json", json.loads((REPO / "datasets" / "datapackage.json").read_text("utf-8")))]
    return found


def test_every_string_field_has_a_length_limit() -> None:
    """maxLength, an enum, a fixed-length pattern, or a foreign key to a field that has one."""
    for label, package in _descriptors():
        fields = {(r["name"], f["name"]): f for r in package["resources"] for f in r["schema"]["fields"]}
        refs = {(r["name"], field): (fk["reference"]["resource"] or r["name"], fk["reference"]["fields"][i])
                for r in package["resources"] for fk in r["schema"].get("foreignKeys", [])
                for i, field in enumerate(fk["fields"])}

        def bounded(key: tuple[str, str]) -> bool:
            spec = fields[key]
            constraints = spec.get("constraints", {})
            if spec.get("type", "string") != "string" or "maxLength" in constraints or "enum" in constraints:
                return True
            if _FIXED_PATTERN.fullmatch(constraints.get("pattern", "")):
                return True
            return key in refs and bounded(refs[key])

        unbounded = [key for key in fields if not bounded(key)]
        assert unbounded == [], f"{label}: text fields without a length limit: {unbounded}"
        for (resource, name), spec in fields.items():
            constraints = spec.get("constraints", {})
            if constraints.get("pattern") == ID_PATTERN:
                assert constraints.get("maxLength") == ID_MAX_LENGTH, (resource, name)


def test_generated_project_uses_the_same_limits(tmp_path: Path) -> None:
    from skillbrands.generate import package_descriptor

    ours = json.loads((REPO / "datasets" / "datapackage.json").read_text("utf-8"))

    def limits(package: dict) -> dict:
        return {(r["name"], f["name"]): f.get("constraints", {}).get("maxLength")
                for r in package["resources"] for f in r["schema"]["fields"]}

    assert limits(package_descriptor("S", 1)) == limits(ours)


# -- the command line: the build stops before writing anything -------------------------------------

def test_build_refuses_long_and_reserved_ids_before_writing(make_project) -> None:
    # without frozen editions the new rows are simply new brands: the IDs are the only problem
    project = unfreeze(make_project("value_long_ids", "value_reserved_ids"))
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--format", "text"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "File name too long" not in result.output
    assert not (project / "output").exists()
    assert "datasets/brands.csv" in result.output and "brand_id" in result.output
    assert "CON" in result.output and "第8行" in result.output
    assert "bt-" + "w" * 297 not in result.output  # the 300-character ID is quoted, not echoed whole


# -- CSS: any text wraps, tables scroll in their own box ------------------------------------------

def _css_rules(text: str) -> list[tuple[list[str], dict[str, str]]]:
    """(selectors, declarations) of every rule, @media blocks flattened: enough for our own stylesheet."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"@media[^{]*\{((?:[^{}]*\{[^{}]*\})*)\s*\}", r"\1", text)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = {}
        for part in body.split(";"):
            if ":" in part:
                key, value = part.split(":", 1)
                declarations[key.strip()] = value.strip()
        rules.append(([s.strip() for s in selectors.split(",")], declarations))
    return rules


def test_stylesheet_wraps_any_text() -> None:
    rules = _css_rules((REPO / "site_templates" / "assets" / "style.css").read_text("utf-8"))

    def wraps(selector: str) -> bool:
        return any(selector in selectors and declarations.get("overflow-wrap") == "anywhere"
                   for selectors, declarations in rules)

    for element in ("body", "h1", "h2", "th", "td", "dd", "li", "p"):
        assert wraps(element), f"no `overflow-wrap: anywhere` for {element}"
    # nothing that shows data may refuse to wrap: `nowrap` only on our own short labels
    for selectors, declarations in rules:
        if declarations.get("white-space") == "nowrap":
            for selector in selectors:
                assert "." in selector or selector.startswith("thead"), f"{selector} never wraps"
    scrolls = {s for selectors, d in rules if d.get("overflow-x") == "auto" for s in selectors}
    assert {".table-wrap", "pre"} <= scrolls  # Markdown tables too sit in a .table-wrap (content.scrolling_tables)
