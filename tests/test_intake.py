"""Excel in and out as staff use it: `template`, fill in Excel (openpyxl, LibreOffice), `import`, `normalize`.

Expected values come from a plain csv scan of the project's files and from datapackage.json,
never from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from build import cli
from conftest import REPO, unfreeze
from skillbrands import intake

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
TABLES = ("brands", "institutions", "outcomes", "exits", "corrections", "releases")


def scan(project: Path, name: str) -> list[dict[str, str]]:
    path = project / "datasets" / f"{name}.csv"
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"), newline=""))) if path.exists() else []


def schema(project: Path, name: str) -> dict:
    meta = json.loads((project / "datasets" / "datapackage.json").read_text("utf-8"))
    return next(r["schema"] for r in meta["resources"] if r["name"] == name)


def csv_bytes(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((project / "datasets").glob("*.csv"))}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def template(project: Path, out: Path, *more: str) -> Path:
    result = run("template", "--project", str(project), "--out", str(out), *more)
    assert result.exit_code == 0, result.output
    return out


def sheet_title(name: str) -> str:
    return next(title for resource, title, _ in intake.SHEETS if resource == name)


def column(ws, code: str) -> int:
    """The 1-based column whose hidden row 2 holds `code`."""
    return next(c.column for c in ws[2] if c.value == code)


def row_of(ws, **key: str) -> int:
    cols = {name: column(ws, name) for name in key}
    for r in range(3, ws.max_row + 1):
        if all(str(ws.cell(r, c).value) == str(key[n]) for n, c in cols.items()):
            return r
    raise AssertionError(key)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The bundled sample project (data and content), copied."""
    project = tmp_path / "sample"
    shutil.copytree(REPO / "datasets", project / "datasets")
    shutil.copytree(REPO / "content", project / "content")
    return project


# -- template ---------------------------------------------------------------------------------

def test_template_sheets_lists_and_formats(sample: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(template(sample, tmp_path / "t.xlsx", "--year", "2025"))
    assert book.sheetnames[0] == "填表说明"
    assert book["选项"].sheet_state == "hidden"
    lists = book["选项"]
    for name in TABLES:
        ws = book[sheet_title(name)]
        fields = schema(sample, name)["fields"]
        assert [c.value for c in ws[1]] == [f.get("title", f["name"]) for f in fields]
        assert [c.value for c in ws[2]] == [f["name"] for f in fields]
        assert ws.row_dimensions[2].hidden and ws.freeze_panes == "A3"
        rows = scan(sample, name)
        assert ws.max_row == 2 + len(rows)
    ws = book[sheet_title("brands")]
    rows = scan(sample, "brands")
    rules = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    letter = lambda code: openpyxl.utils.get_column_letter(column(ws, code))  # noqa: E731

    def listed(code: str) -> list[str]:
        ref = rules[f"{letter(code)}3"].formula1.split("!")[1].replace("$", "")
        return [c.value for row in lists[ref] for c in row]

    fields = {f["name"]: f for f in schema(sample, "brands")["fields"]}
    assert listed("tier") == list(fields["tier"]["enumLabels"].values())
    assert listed("focus_area") == list(fields["focus_area"]["enumLabels"].values())
    regions = scan(sample, "regions")
    assert listed("region_code") == [f"{r['code']} {r['name']}" for r in regions]
    assert len(",".join(listed("region_code"))) > 255  # why the lists are on a sheet
    assert rules[f"{letter('key_support')}3"].formula1 == '"是,否"'
    assert rules[f"{letter('published_date')}3"].type == "date"
    outcomes = book[sheet_title("outcomes")]
    count = {str(dv.sqref).split(":")[0]: dv for dv in outcomes.data_validations.dataValidation}
    trainees = count[f"{openpyxl.utils.get_column_letter(column(outcomes, 'trainees'))}3"]
    assert (trainees.type, trainees.operator or "between", trainees.formula1) == ("whole", "between", "0")
    # existing rows pre-filled: IDs and codes are text cells, labels shown for codes, dates are dates
    first = rows[0]
    assert ws.cell(3, column(ws, "brand_id")).value == first["brand_id"]
    assert ws.cell(3, column(ws, "brand_id")).number_format == "@"
    assert ws.cell(3, column(ws, "region_code")).data_type == "s"
    assert ws.cell(3, column(ws, "tier")).value == fields["tier"]["enumLabels"][first["tier"]]
    assert ws.cell(3, column(ws, "published_date")).value == datetime.fromisoformat(first["published_date"])
    assert ws.column_dimensions[letter("brand_id")].number_format == "@"  # rows staff add are text too
    notes = " ".join(str(c.value) for row in book["填表说明"].iter_rows() for c in row if c.value)
    assert "2025" in notes and sheet_title("outcomes") in notes


def test_default_year_follows_the_newest_release(sample: Path, tmp_path: Path) -> None:
    newest = max(int(r["year"]) for r in scan(sample, "releases"))
    result = run("template", "--project", str(sample), "--out", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 0 and f"（{newest + 1}年度）" in result.output


# -- import -----------------------------------------------------------------------------------

def test_unchanged_workbook_changes_no_byte(sample: Path, tmp_path: Path) -> None:
    before = csv_bytes(sample)
    book = template(sample, tmp_path / "t.xlsx")
    result = run("import", str(book), "--project", str(sample))
    assert result.exit_code == 0, result.output
    assert "没有改动任何文件" in result.output
    assert csv_bytes(sample) == before


def test_fill_and_import_round_trip(make_project, tmp_path: Path) -> None:
    """openpyxl edits a count (as a float), adds an outcome row and a brand typed the Excel way."""
    project = unfreeze(make_project())
    outcomes_before, brands_before = scan(project, "outcomes"), scan(project, "brands")
    path = template(project, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[sheet_title("outcomes")]
    edited = outcomes_before[0]
    ws.cell(row_of(ws, brand_id=edited["brand_id"], year=edited["year"]), column(ws, "trainees")).value = 999.0
    ws.append(["kdl-weld", 2023.0, 200, 180, 140, None, None])
    wb = book[sheet_title("brands")]
    new = {"brand_id": "kdl-cook", "name": "昆都仑区烹调培训（示例）", "institution_id": "bt-school",
           "occupation_code": "4-03-02-01 中式烹调师", "occupation_name": "中式烹调师", "tier": "旗县级",
           "region_code": "150203 昆都仑区", "focus_area": "重点产业", "key_support": "否",
           "published_year": 2025, "published_date": "2025/3/5", "document_no": "昆人社发〔2025〕3号"}
    wb.append([new.get(c.value) for c in wb[2]])
    book.save(path)

    result = run("import", str(path), "--project", str(project))
    assert result.exit_code == 0, result.output
    assert "已写入 2 个文件" in result.output
    outcomes = scan(project, "outcomes")
    expected = [dict(r, trainees="999") if r is edited else r for r in outcomes_before]
    expected.append({"brand_id": "kdl-weld", "year": "2023", "trainees": "200", "passed": "180", "employed": "140",
                     "subsidised_key_group": "", "order_based": ""})
    assert outcomes == expected
    brands = scan(project, "brands")
    assert brands[:-1] == brands_before
    assert brands[-1] == {**{k: "" for k in brands_before[0]}, "brand_id": "kdl-cook", "name": new["name"],
                          "institution_id": "bt-school", "occupation_code": "4-03-02-01",
                          "occupation_name": "中式烹调师", "tier": "county", "region_code": "150203",
                          "focus_area": "key_industry", "key_support": "false", "published_year": "2025",
                          "published_date": "2025-03-05", "document_no": new["document_no"]}
    assert run("validate", "--project", str(project)).exit_code == 0

    # idempotent: the same workbook again changes nothing, byte for byte
    after = csv_bytes(project)
    again = run("import", str(path), "--project", str(project))
    assert again.exit_code == 0 and "没有改动任何文件" in again.output
    assert csv_bytes(project) == after


def test_errors_are_named_by_sheet_row_and_column(make_project, tmp_path: Path) -> None:
    project = make_project()
    before = csv_bytes(project)
    path = template(project, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[sheet_title("outcomes")]
    first = scan(project, "outcomes")[1]
    bad_count = row_of(ws, brand_id=first["brand_id"], year=first["year"])
    ws.cell(bad_count, column(ws, "trainees")).value = -5
    wb = book[sheet_title("brands")]
    bad_region = row_of(wb, brand_id=scan(project, "brands")[2]["brand_id"])
    wb.cell(bad_region, column(wb, "region_code")).value = "火星市"
    we = book[sheet_title("exits")]
    bad_date = row_of(we, brand_id=scan(project, "exits")[0]["brand_id"])
    we.cell(bad_date, column(we, "exit_date")).value = "2024-02-30"
    book.save(path)

    imported = intake.import_workbook(project, path)
    found = {i.as_tuple() for i in imported.issues if i.severity == "error"}
    titles = {n: {f["name"]: f["title"] for f in schema(project, n)["fields"]} for n in ("outcomes", "brands", "exits")}
    assert (f"t.xlsx 工作表“{sheet_title('outcomes')}”", bad_count, titles["outcomes"]["trainees"], "below-minimum") in found
    assert (f"t.xlsx 工作表“{sheet_title('brands')}”", bad_region, titles["brands"]["region_code"],
            "pattern-mismatch") in found
    assert (f"t.xlsx 工作表“{sheet_title('exits')}”", bad_date, titles["exits"]["exit_date"], "invalid-date") in found

    result = run("import", str(path), "--project", str(project))
    assert result.exit_code == 1
    assert f"t.xlsx 工作表“{sheet_title('outcomes')}”" in result.output
    assert f"第{bad_count}行，列“{titles['outcomes']['trainees']}”" in result.output
    assert "未写入任何文件" in result.output
    assert csv_bytes(project) == before


def test_dry_run_lists_changes_and_writes_nothing(make_project, tmp_path: Path) -> None:
    project = unfreeze(make_project())
    before = csv_bytes(project)
    outcomes = scan(project, "outcomes")
    path = template(project, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[sheet_title("outcomes")]
    changed, removed = outcomes[0], outcomes[-1]
    ws.cell(row_of(ws, brand_id=changed["brand_id"], year=changed["year"]), column(ws, "passed")).value = 1
    ws.delete_rows(row_of(ws, brand_id=removed["brand_id"], year=removed["year"]))
    ws.append(["kdl-weld", 2023, 200, 180, 140])
    book.save(path)

    result = run("import", str(path), "--project", str(project), "--dry-run")
    assert result.exit_code == 0, result.output
    title = next(f["title"] for f in schema(project, "outcomes")["fields"] if f["name"] == "passed")
    assert f"{sheet_title('outcomes')}（datasets/outcomes.csv）：新增 1 行、修改 1 行、删除 1 行" in result.output
    assert "新增：kdl-weld/2023" in result.output
    assert f"修改：{changed['brand_id']}/{changed['year']}（{title}）" in result.output
    assert f"删除：{removed['brand_id']}/{removed['year']}" in result.output
    assert f"{sheet_title('brands')}（datasets/brands.csv）：新增 0 行、修改 0 行、删除 0 行" in result.output
    assert "没有写入任何文件" in result.output
    assert csv_bytes(project) == before


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
def test_libreoffice_round_trip_keeps_lists_formats_and_data(sample: Path, tmp_path: Path) -> None:
    """The template through LibreOffice (xlsx -> ods -> xlsx) imports back unchanged."""
    path = template(sample, tmp_path / "t.xlsx")
    profile = [f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to"]
    for target, source, out in (("ods", path, tmp_path / "ods"), ("xlsx", tmp_path / "ods" / "t.ods", tmp_path / "lo")):
        done = subprocess.run([SOFFICE, *profile, target, "--outdir", str(out), str(source)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    converted = tmp_path / "lo" / "t.xlsx"
    book = openpyxl.load_workbook(converted)
    for name in TABLES:
        ws = book[sheet_title(name)]
        kinds = {dv.type for dv in ws.data_validations.dataValidation}
        assert kinds, name
    ws = book[sheet_title("brands")]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert any("选项" in (dv.formula1 or "") for dv in lists)
    assert ws.cell(3, column(ws, "brand_id")).number_format == "@"
    assert ws.cell(3, column(ws, "region_code")).data_type == "s"
    before = csv_bytes(sample)
    dry = run("import", str(converted), "--project", str(sample), "--dry-run")
    assert dry.exit_code == 0, dry.output
    for name in TABLES:
        assert f"{sheet_title(name)}（datasets/{name}.csv）：新增 0 行、修改 0 行、删除 0 行" in dry.output
    result = run("import", str(converted), "--project", str(sample))
    assert result.exit_code == 0 and "没有改动任何文件" in result.output, result.output
    assert csv_bytes(sample) == before


#: Debian's Python, with LibreOffice's UNO bridge (python3-uno), to type into cells in LibreOffice itself
UNO_PYTHON = "/usr/bin/python3"


def _has_uno() -> bool:
    try:
        return subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(SOFFICE is None or not _has_uno(),
                    reason="LibreOffice with its Python bridge is not installed: apt-get install libreoffice-calc python3-uno")
def test_cells_filled_in_libreoffice_import_as_typed(make_project, tmp_path: Path) -> None:
    """LibreOffice opens the template, a count is typed over and an outcome row added (an ID into a
    text column, figures typed as numbers), Calc saves it as .xlsx, and `import` reads exactly that."""
    project = unfreeze(make_project())
    outcomes_before = scan(project, "outcomes")
    path = template(project, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)[sheet_title("outcomes")]
    edited = outcomes_before[0]
    title = sheet_title("outcomes")
    at = lambda row, code: {"sheet": title, "row": row - 1, "col": column(ws, code) - 1}  # noqa: E731
    added = ws.max_row + 1
    edits = [{**at(row_of(ws, brand_id=edited["brand_id"], year=edited["year"]), "trainees"), "typed": "999"},
             {**at(added, "brand_id"), "text": "kdl-weld"}, {**at(added, "year"), "typed": "2023"},
             {**at(added, "trainees"), "typed": "200"}, {**at(added, "passed"), "typed": "180"},
             {**at(added, "employed"), "typed": "140"}]
    (tmp_path / "edits.json").write_text(json.dumps(edits), "utf-8")
    saved = tmp_path / "saved.xlsx"
    done = subprocess.run([UNO_PYTHON, str(REPO / "tests" / "lo_fill.py"), str(path), str(saved),
                           str(tmp_path / "edits.json"), str(tmp_path / "lo-profile")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and saved.is_file(), done.stdout + done.stderr
    with zipfile.ZipFile(saved) as written:
        assert b"<Application>LibreOffice" in written.read("docProps/app.xml")  # saved by Calc, not by us
    book = openpyxl.load_workbook(saved)  # what Calc wrote: the lists and the text format are still there
    brands = book[sheet_title("brands")]
    assert any(dv.type == "list" for dv in brands.data_validations.dataValidation)
    assert brands.cell(3, column(brands, "brand_id")).number_format == "@"

    result = run("import", str(saved), "--project", str(project))
    assert result.exit_code == 0, result.output
    expected = [dict(r, trainees="999") if r is edited else r for r in outcomes_before]
    expected.append({"brand_id": "kdl-weld", "year": "2023", "trainees": "200", "passed": "180", "employed": "140",
                     "subsidised_key_group": "", "order_based": ""})
    assert scan(project, "outcomes") == expected
    assert "已写入 1 个文件：datasets/outcomes.csv" in result.output
    assert run("validate", "--project", str(project)).exit_code == 0


# -- bad workbooks ----------------------------------------------------------------------------

def test_not_a_workbook(sample: Path, tmp_path: Path) -> None:
    fake = tmp_path / "data.xlsx"
    fake.write_text("brand_id,name\nx,y\n", "utf-8")
    before = csv_bytes(sample)
    result = run("import", str(fake), "--project", str(sample))
    assert result.exit_code == 1
    assert "不是可以读取的 Excel 工作簿" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    missing = run("import", str(tmp_path / "none.xlsx"), "--project", str(sample))
    assert missing.exit_code == 1 and "找不到文件" in missing.output
    assert csv_bytes(sample) == before


def test_missing_sheet_and_column(sample: Path, tmp_path: Path) -> None:
    path = template(sample, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    del book[sheet_title("exits")]
    ws = book[sheet_title("outcomes")]
    title = ws.cell(1, column(ws, "employed")).value
    ws.delete_cols(column(ws, "employed"))
    book.save(path)
    result = run("import", str(path), "--project", str(sample))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"缺少工作表“{sheet_title('exits')}”" in result.output
    assert f"工作表“{sheet_title('outcomes')}”缺少列：{title}" in result.output


def test_a_failed_write_leaves_the_files(tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(b"old a\n")
    second.write_bytes(b"old b\n")
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(intake.os, "fsync", fsync)
    with pytest.raises(OSError):
        intake.replace_files({first: b"new a\n", second: b"new b\n"})
    assert first.read_bytes() == b"old a\n" and second.read_bytes() == b"old b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


# -- normalize --------------------------------------------------------------------------------

def test_normalize_gbk_crlf_and_bom(sample: Path) -> None:
    canonical = csv_bytes(sample)
    brands = sample / "datasets" / "brands.csv"
    brands.write_bytes(canonical["brands.csv"].decode("utf-8").replace("\n", "\r\n").encode("gbk"))
    exits = sample / "datasets" / "exits.csv"
    exits.write_bytes(b"\xef\xbb\xbf" + canonical["exits.csv"])
    result = run("normalize", "--project", str(sample))
    assert result.exit_code == 0, result.output
    assert "datasets/brands.csv：编码由 GBK/GB18030 转为 UTF-8；行尾由 CRLF（Windows）改为 LF" in result.output
    assert "datasets/exits.csv：去掉开头的 BOM（字节顺序标记）" in result.output
    assert "已改写 2 个文件" in result.output
    assert csv_bytes(sample) == canonical
    again = run("normalize", "--project", str(sample))
    assert again.exit_code == 0 and "没有改动" in again.output
    assert csv_bytes(sample) == canonical


def test_template_refuses_an_unreadable_file(sample: Path, tmp_path: Path) -> None:
    """A sheet without the rows of a file it could not read would delete them at import."""
    (sample / "datasets" / "outcomes.csv").write_bytes(bytes(range(128, 256)) * 20)
    result = run("template", "--project", str(sample), "--out", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 1 and "outcomes.csv 无法读取" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "t.xlsx").exists()


def test_a_sheet_over_the_row_limit_is_refused(make_project, tmp_path: Path, monkeypatch) -> None:
    project = make_project()
    path = template(project, tmp_path / "t.xlsx")
    rows = len(scan(project, "outcomes"))
    monkeypatch.setattr(intake.limits, "max_rows", lambda columns: rows - 1)
    with pytest.raises(intake.IntakeError, match=f"工作表“{sheet_title('outcomes')}”超过 {rows - 1:,} 行"):
        intake.import_workbook(project, path)
