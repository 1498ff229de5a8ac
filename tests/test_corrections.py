"""Correcting the record without rewriting history (issue 17): corrections.csv.

Each test copies the bundled sample (three frozen editions, 2023-2025) into a temporary
folder and does what a clerk does: fixes a typo in a published brand name, renames an
institution, records an exit late, corrects a published figure, with and without a row
in corrections.csv. Expected values are read from the sample's own files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from build import cli
from skillbrands.pipeline import prepare

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-30"
HEADER = ["date", "table", "key", "field", "old_value", "new_value", "kind", "reason", "document_no"]
EDITIONS = (2023, 2024, 2025)


# -- helpers --------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled sample."""
    target = tmp_path / "project"
    for folder in ("datasets", "content", "site_templates"):
        shutil.copytree(REPO / folder, target / folder)
    return target


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def write(path: Path, rows: list[dict[str, str]]) -> None:
    """Write a data file back as the sample writes it (so untouched rows keep their bytes)."""
    fields = _header(path)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([[row.get(f, "") for f in fields] for row in rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _header(path: Path) -> list[str]:
    return path.read_text("utf-8-sig").splitlines()[0].split(",")


def data(project: Path, name: str) -> Path:
    return project / "datasets" / f"{name}.csv"


def frozen(project: Path, year: int, name: str) -> list[dict[str, str]]:
    return read(project / "datasets" / "editions" / str(year) / f"{name}.csv")


def add_correction(project: Path, **row: str) -> None:
    path = data(project, "corrections")
    rows = read(path)
    rows.append({"date": TODAY, "reason": "", "document_no": "", **row})
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows([[r.get(f, "") for f in HEADER] for r in rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def invoke(*args: str):
    result = CliRunner().invoke(cli, [*args, "--today", TODAY])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def build(project: Path):
    return invoke("build", "--project", str(project), "--out", str(project / "output"))


def errors(project: Path) -> list[dict]:
    result = invoke("validate", "--project", str(project), "--format", "json")
    return [i for i in json.loads(result.stdout) if i["severity"] == "error"]


def page(project: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((project / "output" / url / "index.html").read_text("utf-8"), "html.parser")


def text(element) -> str:
    return "".join(element.get_text().split())


def listed_in(project: Path, brand_id: str) -> list[int]:
    return [y for y in EDITIONS if any(r["brand_id"] == brand_id for r in frozen(project, y, "brands"))]


def row_of(rows: list[dict[str, str]], column: str, value: str) -> int:
    """The spreadsheet row (header = row 1)."""
    return next(i for i, r in enumerate(rows) if r[column] == value) + 2


def a_brand_in_every_edition(project: Path) -> dict[str, str]:
    exited = {r["brand_id"] for r in read(data(project, "exits"))}
    return next(r for r in read(data(project, "brands"))
                if listed_in(project, r["brand_id"]) == list(EDITIONS) and r["brand_id"] not in exited)


# -- a typo in a published brand name ---------------------------------------------------

def fix_name(project: Path) -> tuple[dict[str, str], str]:
    brand = a_brand_in_every_edition(project)
    rows = read(data(project, "brands"))
    new = brand["name"].replace("培训", "技能培训", 1) if "培训" in brand["name"] else brand["name"] + "培训"
    for row in rows:
        if row["brand_id"] == brand["brand_id"]:
            row["name"] = new
    write(data(project, "brands"), rows)
    return brand, new


def test_the_sample_writes_back_byte_for_byte(project: Path) -> None:
    """The helpers above rewrite a file without touching its other rows."""
    for name in ("brands", "institutions", "outcomes", "exits"):
        before = data(project, name).read_bytes()
        write(data(project, name), read(data(project, name)))
        assert data(project, name).read_bytes() == before


def test_a_typo_fixed_with_a_correction_row(project: Path) -> None:
    assert build(project).exit_code == 0
    editions_before = tree(project / "datasets" / "editions")
    published_before = tree(project / "output" / "data" / "releases")
    brand, new = fix_name(project)
    add_correction(project, table="brands", key=brand["brand_id"], field="name", old_value=brand["name"],
                   new_value=new, kind="correction", reason="公布时品牌名称漏写“技能”二字")
    result = build(project)
    assert result.exit_code == 0, result.output
    # the current site shows the corrected name
    assert text(page(project, f"brands/{brand['brand_id']}").select_one("h1")).startswith(new)
    # every edition, its SHA256SUMS and everything published from it: byte for byte as before
    assert tree(project / "datasets" / "editions") == editions_before
    assert tree(project / "output" / "data" / "releases") == published_before
    for year in EDITIONS:
        names = {r["brand_id"]: r["name"] for r in read(project / "output" / "data" / "releases" / str(year) / "brands.csv")}
        assert names[brand["brand_id"]] == brand["name"]
        # each release page that published the typo lists the correction
        items = [li for li in page(project, f"releases/{year}").select("#corrections ~ ul.corrections li")
                 if li.select_one(f"a[href$='brands/{brand['brand_id']}/index.html']")]
        assert len(items) == 1
        assert f"由“{brand['name']}”更正为“{new}”" in text(items[0])
        assert "公布时品牌名称漏写“技能”二字" in text(items[0])
    brand_page = page(project, f"brands/{brand['brand_id']}")
    assert f"由“{brand['name']}”更正为“{new}”" in text(brand_page.select_one("ul.corrections"))
    assert not brand_page.select(".former-names")  # a typo is not a former name
    # and the correction is a download
    [row] = [r for r in read(project / "output" / "data" / "corrections.csv") if r["table"] == "brands"]
    assert (row["key"], row["old_value"], row["new_value"], row["kind"], row["editions"]) == (
        brand["brand_id"], brand["name"], new, "correction", "2023;2024;2025")
    document = json.loads((project / "output" / "data" / "corrections.json").read_text("utf-8"))
    assert brand["brand_id"] in {r["key"] for r in document["rows"]}
    package = json.loads((project / "output" / "data" / "datapackage.json").read_text("utf-8"))
    assert "corrections" in {r["name"] for r in package["resources"]}


def test_a_typo_fixed_without_a_row_is_one_error_at_the_cell(project: Path) -> None:
    assert build(project).exit_code == 0
    before = tree(project / "output")
    brand, new = fix_name(project)
    [issue] = errors(project)
    assert (issue["path"], issue["row"], issue["field"], issue["code"]) == (
        "datasets/brands.csv", row_of(read(data(project, "brands")), "brand_id", brand["brand_id"]), "name",
        "edition-changed")
    message = issue["message"]
    assert f"由“{brand['name']}”改为“{new}”" in message
    assert "2023、2024、2025年度版本" in message
    line = io.StringIO(newline="")
    csv.writer(line, lineterminator="").writerow([TODAY, "brands", brand["brand_id"], "name", brand["name"], new,
                                                  "correction", "", ""])
    assert f"\n{line.getvalue()}\n" in message
    result = build(project)
    assert result.exit_code == 1
    assert tree(project / "output") == before


def test_an_empty_reason_is_an_error(project: Path) -> None:
    brand, new = fix_name(project)
    add_correction(project, table="brands", key=brand["brand_id"], field="name", old_value=brand["name"],
                   new_value=new, kind="correction", reason="")
    row = len(read(data(project, "corrections"))) + 1
    assert [(i["path"], i["row"], i["field"], i["code"]) for i in errors(project)] == [
        ("datasets/corrections.csv", row, "reason", "correction-reason-missing")]


def test_a_correction_dated_in_the_future_is_an_error(project: Path) -> None:
    brand, new = fix_name(project)
    add_correction(project, table="brands", key=brand["brand_id"], field="name", old_value=brand["name"],
                   new_value=new, kind="correction", reason="错字", date="2099-01-01")
    row = len(read(data(project, "corrections"))) + 1
    assert [(i["path"], i["row"], i["field"], i["code"]) for i in errors(project)] == [
        ("datasets/corrections.csv", row, "date", "future-date")]


# -- an institution renamed --------------------------------------------------------------

def busiest_institution(project: Path) -> dict[str, str]:
    """The institution with most brands in the 2023 edition (its name is on many brand rows)."""
    counts: dict[str, int] = {}
    for r in frozen(project, 2023, "brands"):
        counts[r["institution_id"]] = counts.get(r["institution_id"], 0) + 1
    best = max(sorted(counts), key=lambda i: counts[i])
    assert counts[best] > 1
    return next(r for r in read(data(project, "institutions")) if r["institution_id"] == best)


def rename(project: Path, institution: dict[str, str], new: str) -> None:
    rows = read(data(project, "institutions"))
    for row in rows:
        if row["institution_id"] == institution["institution_id"]:
            row["name"] = new
    write(data(project, "institutions"), rows)


def test_an_institution_rename_is_one_change(project: Path) -> None:
    institution = busiest_institution(project)
    new = institution["name"] + "（更名）"
    rename(project, institution, new)
    issues = errors(project)
    assert [(i["path"], i["row"], i["field"], i["code"]) for i in issues] == [
        ("datasets/institutions.csv", row_of(read(data(project, "institutions")), "institution_id",
                                             institution["institution_id"]), "name", "edition-changed")]
    assert f",institutions,{institution['institution_id']},name,{institution['name']},{new},change,," in \
        issues[0]["message"]

    add_correction(project, date="2026-10-08", table="institutions", key=institution["institution_id"], field="name",
                   old_value=institution["name"], new_value=new, kind="change", reason="机构更名",
                   document_no="内人社函〔2026〕99号")
    assert build(project).exit_code == 0
    institution_page = page(project, f"institutions/{institution['institution_id']}")
    assert text(institution_page.select_one("h1")) == new
    assert [text(li) for li in institution_page.select(".former-names li")] == [
        f"{institution['name']}（使用至2026-10-08）"]
    assert "机构更名（内人社函〔2026〕99号）" in text(institution_page.select_one("ul.corrections"))
    # the editions still show the name they published
    for year in EDITIONS:
        published = read(project / "output" / "data" / "releases" / str(year) / "institutions.csv")
        names = {r["institution_id"]: r["name"] for r in published}
        assert names.get(institution["institution_id"], institution["name"]) == institution["name"]


def test_the_sample_shows_its_own_rename(project: Path) -> None:
    [rename_row] = [r for r in read(data(project, "corrections")) if r["field"] == "name"]
    assert build(project).exit_code == 0
    institution_page = page(project, f"institutions/{rename_row['key']}")
    assert [text(li) for li in institution_page.select(".former-names li")] == [
        f"{rename_row['old_value']}（使用至{rename_row['date']}）"]
    for year in EDITIONS:
        assert rename_row["old_value"] in text(page(project, f"releases/{year}").select_one("ul.corrections"))


# -- an exit recorded late ---------------------------------------------------------------

def record_late_exit(project: Path) -> tuple[dict[str, str], str]:
    """An exit dated before the 2025 edition, recorded after it was frozen."""
    releases = {int(r["year"]): r["published_date"] for r in read(data(project, "releases"))}
    when = "2025-10-01"
    assert releases[2024] < when < releases[2025]
    exited = {r["brand_id"] for r in read(data(project, "exits"))}
    brand = next(r for r in read(data(project, "brands"))
                 if 2025 in listed_in(project, r["brand_id"]) and r["brand_id"] not in exited
                 and r["published_date"] < "2025-01-01")
    rows = read(data(project, "exits"))
    rows.append({"brand_id": brand["brand_id"], "exit_date": when, "reason": "voluntary",
                 "detail": "机构主动申请退出（补录）", "document_no": "示例人社发〔2025〕88号"})
    write(data(project, "exits"), rows)
    return brand, when


def test_a_late_exit_without_a_row_is_one_error_at_the_exit(project: Path) -> None:
    brand, when = record_late_exit(project)
    issues = errors(project)
    assert [(i["path"], i["row"], i["field"], i["code"]) for i in issues] == [
        ("datasets/exits.csv", len(read(data(project, "exits"))) + 1, "exit_date", "edition-changed")]
    message = issues[0]["message"]
    assert "补录" in message and "2025年度版本" in message and "2024" not in message.split("\n")[0].split("版本")[0]
    assert f",exits,{brand['brand_id']},exit_date,,{when},late_record,," in message


def test_a_late_exit_with_a_late_record(project: Path) -> None:
    assert build(project).exit_code == 0
    published_before = tree(project / "output" / "data" / "releases")
    brand, when = record_late_exit(project)
    add_correction(project, table="exits", key=brand["brand_id"], field="exit_date", old_value="", new_value=when,
                   kind="late_record", reason="机构于2025年10月申请退出，公布2025年度目录时未及时记入")
    result = build(project)
    assert result.exit_code == 0, result.output
    assert tree(project / "output" / "data" / "releases") == published_before  # 2025 still lists it, as published
    assert brand["brand_id"] in {r["brand_id"] for r in read(project / "output" / "data" / "releases" / "2025" / "brands.csv")}
    items = page(project, "releases/2025").select("#corrections ~ ul.corrections li")
    assert [brand["brand_id"] in str(li) and f"补录为“{when}”" in text(li) for li in items].count(True) == 1
    assert not any(brand["brand_id"] in str(li) for li in page(project, "releases/2024").select("ul.corrections li"))
    # the brand page shows the exit, and why it was recorded late
    brand_page = page(project, f"brands/{brand['brand_id']}")
    assert brand_page.select_one(".exit-banner") is not None
    assert "公布2025年度目录时未及时记入" in text(brand_page.select_one("ul.corrections"))


# -- a corrected outcome figure --------------------------------------------------------------

def test_a_corrected_outcome_figure(project: Path) -> None:
    brand = a_brand_in_every_edition(project)
    outcomes = read(data(project, "outcomes"))
    target = next(r for r in outcomes if r["brand_id"] == brand["brand_id"]
                  and any(f["brand_id"] == brand["brand_id"] and f["year"] == r["year"] for f in frozen(project, 2024, "outcomes")))
    old = target["employed"]
    new = str(int(old) - 3)
    target["employed"] = new
    write(data(project, "outcomes"), outcomes)
    key = f"{brand['brand_id']}/{target['year']}"
    years = [y for y in EDITIONS if any(f["brand_id"] == brand["brand_id"] and f["year"] == target["year"]
                                        for f in frozen(project, y, "outcomes"))]
    [issue] = errors(project)  # the rates and the changes tables follow from the count: not differences
    row = next(i for i, r in enumerate(outcomes) if r is target) + 2
    assert (issue["path"], issue["row"], issue["field"]) == ("datasets/outcomes.csv", row, "employed")
    assert "、".join(map(str, years)) + "年度版本" in issue["message"]
    assert f",outcomes,{key},employed,{old},{new},correction,," in issue["message"]

    add_correction(project, table="outcomes", key=key, field="employed", old_value=old, new_value=new,
                   kind="correction", reason="复核实名制台账，有3人不符合就业统计口径")
    assert build(project).exit_code == 0
    [item] = page(project, f"brands/{brand['brand_id']}").select("ul.corrections li")
    assert f"{target['year']}年" in text(item) and f"由“{old}”更正为“{new}”" in text(item)
    [published] = [r for r in read(project / "output" / "data" / "outcomes.csv")
                   if r["brand_id"] == brand["brand_id"] and r["year"] == target["year"]]
    assert published["employed"] == new  # the current data, corrected
    [as_frozen] = [r for r in read(project / "output" / "data" / "releases" / str(years[-1]) / "outcomes.csv")
                   if r["brand_id"] == brand["brand_id"] and r["year"] == target["year"]]
    assert as_frozen["employed"] == old  # the edition, as published


# -- the draft ---------------------------------------------------------------------------------

def test_draft_appends_the_missing_rows(project: Path) -> None:
    brand, new = fix_name(project)
    late, when = record_late_exit(project)
    before = data(project, "corrections").read_bytes()
    listed = invoke("corrections", "--project", str(project))
    assert listed.exit_code == 1
    assert f"brands.csv {brand['brand_id']} name" in listed.output and f"exits.csv {late['brand_id']} exit_date" in listed.output

    drafted = invoke("corrections", "--project", str(project), "--draft")
    assert drafted.exit_code == 0, drafted.output
    after = data(project, "corrections").read_bytes()
    assert after.startswith(before)
    added = list(csv.reader(io.StringIO(after[len(before):].decode("utf-8"))))
    assert sorted(added) == sorted([
        [TODAY, "brands", brand["brand_id"], "name", brand["name"], new, "correction", "", ""],
        [TODAY, "exits", late["brand_id"], "exit_date", "", when, "late_record", "", ""]])
    # nothing is uncovered now, but the clerk must give the reasons
    count = len(read(data(project, "corrections")))
    assert sorted((i["row"], i["code"]) for i in errors(project)) == [
        (count, "correction-reason-missing"), (count + 1, "correction-reason-missing")]
    assert invoke("corrections", "--project", str(project)).exit_code == 0

    rows = read(data(project, "corrections"))
    for row in rows:
        row["reason"] = row["reason"] or "核对原始材料后更正"
    add_path = data(project, "corrections")
    add_path.write_text("", encoding="utf-8")
    write_rows = io.StringIO(newline="")
    writer = csv.writer(write_rows, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows([[r.get(f) or "" for f in HEADER] for r in rows])
    add_path.write_text(write_rows.getvalue(), encoding="utf-8")
    assert errors(project) == []


def test_prepare_exposes_corrections_as_values(project: Path) -> None:
    """For the feed: the corrections, typed, with the editions each concerns."""
    prepared = prepare(project, date.fromisoformat(TODAY))
    rows = read(data(project, "corrections"))
    corrections = prepared.directory.corrections
    assert [(c.date.isoformat(), c.table, c.key, c.field, c.kind) for c in corrections] == [
        (r["date"], r["table"], r["key"], r["field"], r["kind"]) for r in rows]
    assert {c.field: c.years for c in corrections} == {"name": EDITIONS, "phone": ()}


def test_freeze_never_replaces_a_frozen_edition(project: Path) -> None:
    (project / "datasets" / "editions" / "2025" / "changes.csv").unlink()  # a damaged edition
    before = tree(project / "datasets" / "editions")
    result = invoke("freeze", "--project", str(project), "--year", "2025")
    assert result.exit_code == 1
    assert tree(project / "datasets" / "editions") == before  # nothing written, no temporary folder left


def test_freeze_writes_a_whole_folder(project: Path) -> None:
    shutil.rmtree(project / "datasets" / "editions" / "2025")
    result = invoke("freeze", "--project", str(project), "--year", "2025")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project / "datasets" / "editions").iterdir()) == ["2023", "2024", "2025"]
    folder = tree(project / "datasets" / "editions" / "2025")
    assert sorted(folder) == ["SHA256SUMS", "brands.csv", "changes.csv", "exits.csv", "institutions.csv",
                              "outcomes.csv"]
    for line in folder["SHA256SUMS"].decode("ascii").splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(folder[name]).hexdigest() == digest
    # frozen again today, the edition has today's name of the renamed institution: the rename now
    # concerns the two editions that published the old one
    [rename_row] = [r for r in read(data(project, "corrections")) if r["field"] == "name"]
    names = {r["institution_id"]: r["name"] for r in read(project / "datasets" / "editions" / "2025" / "institutions.csv")}
    assert names[rename_row["key"]] == rename_row["new_value"]
    prepared = prepare(project, date.fromisoformat(TODAY))
    assert [c.years for c in prepared.directory.corrections if c.field == "name"] == [(2023, 2024)]


def test_a_corrected_name_that_a_changes_file_repeats(project: Path) -> None:
    """changes.csv is derived: a covered correction of a name it lists is not tampering with it."""
    [added] = [r for r in frozen(project, 2024, "changes") if r["change"] == "added"][:1]
    rows = read(data(project, "brands"))
    [brand] = [r for r in rows if r["brand_id"] == added["id"]]
    new = brand["name"] + "（更正）"
    brand_name = brand["name"]
    brand["name"] = new
    write(data(project, "brands"), rows)
    add_correction(project, table="brands", key=added["id"], field="name", old_value=brand_name,
                   new_value=new, kind="correction", reason="公布时名称有误")
    result = build(project)
    assert result.exit_code == 0, result.output
    assert "changes.csv" not in result.output
