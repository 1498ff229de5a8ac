"""The open data as a journalist or a harvester meets it: every table in every format, cells that
cannot run as formulas, metadata that the official validator accepts, a database Datasette serves.

Expected values come from a plain scan of the committed CSV files in datasets/, never from
what the code printed. The checks by real programs (frictionless, LibreOffice, Datasette)
are skipped, saying why, only when the program is missing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from skillbrands.formats import csv_cell
from skillbrands.pipeline import build_site
from tests.browser import serve

REPO = Path(__file__).resolve().parent.parent
TABLES = ("brands", "institutions", "outcomes", "exits", "regions", "occupations", "criteria", "releases", "reviews",
          "corrections")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

# what staff could type and a spreadsheet would run (OWASP "CSV injection"), and a phone with +
HOSTILE_BRAND = '=HYPERLINK("http://example.com","点我")'
HOSTILE_BRAND_2 = "+SUM(1+1)*cmd"
HOSTILE_INSTITUTION = "@SUM(1+1)培训学校"
HOSTILE_DETAIL = "-2+3 退出说明"
PHONE = "+86-471-1234567"


def source(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((REPO / "datasets" / f"{name}.csv").read_text("utf-8-sig"))))


def published(site: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((site / "data" / f"{name}.csv").read_text("utf-8-sig"), newline="")))


def prefecture_of(code: str, regions: dict[str, dict[str, str]]) -> str:
    while regions[code]["level"] not in ("prefecture", "province"):
        code = regions[code]["parent_code"]
    return code


# -- the sample ------------------------------------------------------------------------

def test_every_table_is_published_with_labels_beside_codes(sample_site: Path) -> None:
    brands = {r["brand_id"]: r for r in published(sample_site, "brands")}
    assert set(brands) == {r["brand_id"] for r in source("brands")}
    tier_labels = {"province": "自治区级", "prefecture": "盟市级", "county": "旗县级"}
    assert all(r["tier_label"] == tier_labels[r["tier"]] for r in brands.values())
    for name in TABLES:
        rows = published(sample_site, name)
        if name in ("brands", "institutions", "regions", "occupations", "criteria", "releases", "reviews",
                    "exits", "outcomes"):
            assert len(rows) == len(source(name)), name
    exits = published(sample_site, "exits")
    assert {r["reason_label"] for r in exits} <= {"三年评估未达标", "违规", "机构停办或被移出", "主动申请退出", "其他"}
    institutions = published(sample_site, "institutions")
    assert {r["status_label"] for r in institutions} <= {"正常", "暂停", "已移出"}
    # institutions roll up to 盟市: the prefecture of the county they are in, from regions.csv
    regions = {r["code"]: r for r in source("regions")}
    for row, raw in zip(institutions, sorted(source("institutions"), key=lambda r: r["institution_id"])):
        assert row["institution_id"] == raw["institution_id"]
        assert row["prefecture_code"] == prefecture_of(raw["region_code"], regions)
        assert row["prefecture_name"] == regions[row["prefecture_code"]]["name"]
        assert row["credit_code"] == raw["credit_code"]
    # rates computed from the counts beside them
    for row in published(sample_site, "outcomes"):
        assert row["employment_rate"] == f"{int(row['employed']) / int(row['trainees']):.4f}"


def test_csv_is_utf8_with_bom_and_crlf(sample_site: Path) -> None:
    for name in TABLES:
        raw = (sample_site / "data" / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        body = raw[3:]
        assert body.count(b"\r\n") >= 1 and body.count(b"\n") == body.count(b"\r\n"), name


def test_datapackage_describes_every_download(sample_site: Path) -> None:
    package = json.loads((sample_site / "data" / "datapackage.json").read_text("utf-8"))
    releases = source("releases")
    assert package["version"] == max(r["year"] for r in releases)
    beijing = datetime.now(timezone(timedelta(hours=8))).date()  # the reference date is a Beijing date
    assert datetime.fromisoformat(package["created"].removesuffix("Z")).date() <= beijing
    assert package["licenses"] and package["sources"] and package["contributors"][0]["role"] == "publisher"
    resources = {r["name"]: r for r in package["resources"]}
    assert set(resources) == set(TABLES)
    assert resources["outcomes"]["schema"]["primaryKey"] == ["brand_id", "year"]
    assert {"fields": ["institution_id"], "reference": {"resource": "institutions", "fields": ["institution_id"]}} in \
        resources["brands"]["schema"]["foreignKeys"]
    tier = next(f for f in resources["brands"]["schema"]["fields"] if f["name"] == "tier")
    assert tier["constraints"]["enum"] == ["province", "prefecture", "county"] and tier["enumLabels"]["county"] == "旗县级"
    for name, resource in resources.items():
        data = (sample_site / "data" / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data) and resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    for extra in package["skillbrands:downloads"]:
        data = (sample_site / "data" / extra["path"]).read_bytes()
        assert extra["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()


def _frictionless_report(path: str):
    frictionless = pytest.importorskip("frictionless")
    return frictionless.validate(path)


def _errors(report) -> list[str]:
    return [f"{task.name}: {error.message}" for task in report.tasks for error in task.errors] + [
        error.message for error in report.errors]


def test_frictionless_validates_the_published_packages(sample_site: Path) -> None:
    report = _frictionless_report(str(sample_site / "data" / "datapackage.json"))
    assert report.valid, _errors(report)
    assert {task.name for task in report.tasks} == set(TABLES)
    for edition in sorted((sample_site / "data" / "releases").iterdir()):
        report = _frictionless_report(str(edition / "datapackage.json"))
        assert report.valid, (edition.name, _errors(report))


def test_frictionless_catches_a_damaged_download(sample_site: Path, tmp_path: Path) -> None:
    """The test above can fail: one changed figure breaks the published hash and the rate's bounds."""
    copy = tmp_path / "data"
    shutil.copytree(sample_site / "data", copy)
    path = copy / "outcomes.csv"
    text = path.read_text("utf-8-sig")
    first = text.splitlines()[1].split(",")
    damaged = text.replace(",".join(first), ",".join(first[:-4] + ["1.5000"] + first[-3:]), 1)
    path.write_bytes(b"\xef\xbb\xbf" + damaged.encode("utf-8"))
    report = _frictionless_report(str(copy / "datapackage.json"))
    assert not report.valid
    assert {error.type for task in report.tasks for error in task.errors} >= {"constraint-error"}


def test_frictionless_validates_over_http(sample_site: Path) -> None:
    with serve(sample_site) as base:
        report = _frictionless_report(base + "data/datapackage.json")
        assert report.valid, _errors(report)
        assert {task.name for task in report.tasks} == set(TABLES)


def test_two_builds_are_byte_identical(sample_site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site(REPO, again)
    for path in sorted((sample_site / "data").rglob("*")):
        if path.is_file():
            other = again / path.relative_to(sample_site)
            assert other.read_bytes() == path.read_bytes(), path.relative_to(sample_site)


def test_zips_hold_the_package_and_match_their_sha256(sample_site: Path) -> None:
    data = sample_site / "data"
    bundles = [data / "skillbrands.zip"] + sorted(data.glob("releases/*/skillbrands-*.zip"))
    assert len(bundles) == 1 + len(source("releases"))
    for bundle in bundles:
        digest, name = (bundle.parent / (bundle.name + ".sha256")).read_text("ascii").split()
        assert name == bundle.name and digest == hashlib.sha256(bundle.read_bytes()).hexdigest()
        with zipfile.ZipFile(bundle) as archive:
            for info in archive.infolist():
                inner = info.filename.split("/", 1)[1]
                assert archive.read(info) == (bundle.parent / inner).read_bytes(), (bundle.name, inner)
            names = {info.filename.split("/", 1)[1] for info in archive.infolist()}
        assert "datapackage.json" in names and "brands.csv" in names


def test_sqlite_has_keys_indexes_descriptions_and_the_rows(sample_site: Path) -> None:
    db = sqlite3.connect(sample_site / "data" / "skillbrands.sqlite")
    try:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        pk = [row[1] for row in sorted(db.execute("PRAGMA table_info(outcomes)"), key=lambda r: r[5]) if row[5]]
        assert pk == ["brand_id", "year"]
        fks = {(row[3], row[2], row[4]) for row in db.execute("PRAGMA foreign_key_list(brands)")}
        assert ("institution_id", "institutions", "institution_id") in fks and ("recommended_from", "brands", "brand_id") in fks
        indexed = {db.execute(f"PRAGMA index_info('{row[1]}')").fetchone()[2] for row in db.execute("PRAGMA index_list(brands)")}
        assert {"institution_id", "region_code", "occupation_code"} <= indexed
        types = {row[1]: row[2] for row in db.execute("PRAGMA table_info(outcomes)")}
        assert types["trainees"] == "INTEGER" and types["employment_rate"] == "REAL" and types["brand_id"] == "TEXT"
        title, = db.execute("select title from _columns where table_name='institutions' and name='credit_code'").fetchone()
        assert title == "统一社会信用代码"
        for name in TABLES:
            assert db.execute(f'select count(*) from "{name}"').fetchone()[0] == len(source(name)), name
        code, = db.execute("select typeof(code) from regions limit 1").fetchone()
        assert code == "text"
    finally:
        db.close()


def test_data_page_is_a_data_dictionary(sample_site: Path) -> None:
    page = BeautifulSoup((sample_site / "data" / "index.html").read_text("utf-8"), "html.parser")
    text = page.get_text(" ", strip=True)
    for name in TABLES:
        section = page.select_one(f"section#{name}")
        header = (sample_site / "data" / f"{name}.csv").read_text("utf-8-sig").splitlines()[0].split(",")
        assert [c.get_text() for c in section.select("table.columns code.name")] == header
        assert f"共 {len(source(name)):,} 行" in section.get_text(" ", strip=True)
        digest = hashlib.sha256((sample_site / "data" / f"{name}.csv").read_bytes()).hexdigest()
        assert digest in section.get_text()
    tier = next(tr for tr in page.select("section#brands table.columns tr") if tr.select_one("code.name")
                and tr.select_one("code.name").get_text() == "tier")
    assert "旗县级" in tier.get_text() and "county" in tier.get_text()
    for release in source("releases"):
        assert any(release["title"] in li.get_text() and release["document_no"] in li.get_text()
                   for li in page.select("ul.citations li")), release["year"]
    assert "合格率 = 合格人数 ÷ 培训人数" in text


# -- hostile cells ----------------------------------------------------------------------

def _rewrite(path: Path, change) -> None:
    text = path.read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    change(rows)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The sample with names, a phone and an exit's detail that a spreadsheet would run; built."""
    project = tmp_path_factory.mktemp("hostile") / "project"
    for folder in ("datasets", "content", "site_templates"):
        shutil.copytree(REPO / folder, project / folder, ignore=shutil.ignore_patterns("editions"))
    brands = source("brands")
    targets = {"brand": brands[0]["brand_id"], "brand2": brands[1]["brand_id"],
               "institution": source("institutions")[0]["institution_id"], "exit": source("exits")[0]["brand_id"]}

    def brand_names(rows):
        for row in rows[1:]:
            if row[0] == targets["brand"]:
                row[1] = HOSTILE_BRAND
            elif row[0] == targets["brand2"]:
                row[1] = HOSTILE_BRAND_2

    def institution(rows):
        head = rows[0]
        for row in rows[1:]:
            if row[0] == targets["institution"]:
                row[head.index("name")] = HOSTILE_INSTITUTION
                row[head.index("phone")] = PHONE

    def exit_detail(rows):
        for row in rows[1:]:
            if row[0] == targets["exit"]:
                row[rows[0].index("detail")] = HOSTILE_DETAIL

    _rewrite(project / "datasets" / "brands.csv", brand_names)
    _rewrite(project / "datasets" / "institutions.csv", institution)
    _rewrite(project / "datasets" / "exits.csv", exit_detail)
    build_site(project, project / "output")
    return project / "output", targets


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def test_csv_cells_never_start_like_a_formula(hostile) -> None:
    site, targets = hostile
    for name in TABLES:
        for row in published(site, name):
            for column, value in row.items():
                assert not value.startswith(FORMULA), (name, column, value)
    brands = {r["brand_id"]: r for r in published(site, "brands")}
    assert brands[targets["brand"]]["name"] == "'" + HOSTILE_BRAND
    assert brands[targets["brand2"]]["name"] == "'" + HOSTILE_BRAND_2
    institution = next(r for r in published(site, "institutions") if r["institution_id"] == targets["institution"])
    assert institution["name"] == "'" + HOSTILE_INSTITUTION and institution["phone"] == "'" + PHONE
    # the JSON keeps the text as typed: no spreadsheet opens it
    document = json.loads((site / "data" / "brands.json").read_text("utf-8"))
    assert next(r for r in document["rows"] if r["brand_id"] == targets["brand"])["name"] == HOSTILE_BRAND


def test_numbers_stay_numbers_and_text_is_neutralised() -> None:
    assert csv_cell(-5) == "-5" and csv_cell(0.25) == "0.2500" and csv_cell(True) == "true"
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("0471-2345678") == "0471-2345678" and csv_cell("a=b") == "a=b"


def test_workbook_cells_are_typed_and_never_formulas(hostile) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    site, targets = hostile
    book = openpyxl.load_workbook(site / "data" / "skillbrands.xlsx")
    assert book.sheetnames == ["说明", *TABLES]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    brands = book["brands"]
    assert brands.freeze_panes == "A2"
    header = [c.value for c in brands[1]]
    assert header[:2] == ["品牌编号", "品牌名称"]
    by_id = {row[0]: row for row in brands.iter_rows(min_row=2, values_only=True)}
    assert by_id[targets["brand"]][1] == HOSTILE_BRAND and by_id[targets["brand2"]][1] == HOSTILE_BRAND_2
    institutions = book["institutions"]
    head = [c.value for c in institutions[1]]
    rows = {row[0]: row for row in institutions.iter_rows(min_row=2, values_only=True)}
    target = rows[targets["institution"]]
    assert target[head.index("机构名称")] == HOSTILE_INSTITUTION and target[head.index("联系电话")] == PHONE
    for raw in source("institutions"):  # codes come back exactly, as text
        row = rows[raw["institution_id"]]
        assert row[head.index("统一社会信用代码")] == raw["credit_code"]
        assert row[head.index("所在地区代码")] == raw["region_code"]
    outcomes = book["outcomes"]
    head = [c.value for c in outcomes[1]]
    first = next(outcomes.iter_rows(min_row=2, values_only=True))
    assert isinstance(first[head.index("培训人数")], int) and isinstance(first[head.index("培训后就业率")], float)
    published_date = next(c for c in book["brands"][2] if isinstance(c.value, datetime))
    assert published_date.number_format == "yyyy-mm-dd"


def _soffice(source_file: Path, target: str, out: Path, infilter: str | None = None) -> None:
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    command = [SOFFICE, f"-env:UserInstallation=file://{out}/profile", "--headless", "--convert-to", target,
               "--outdir", str(out), str(source_file)]
    if infilter:
        command[3:3] = [f"--infilter={infilter}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def test_libreoffice_reads_the_workbook_back_exactly(hostile, tmp_path: Path) -> None:
    """LibreOffice opens the workbook and writes every sheet as CSV: text stays text, codes exact."""
    site, targets = hostile
    _soffice(site / "data" / "skillbrands.xlsx", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
             tmp_path)
    sheets = {}
    for name in TABLES:
        path = tmp_path / f"skillbrands-{name}.csv"
        sheets[name] = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
    brands = {row[0]: row for row in sheets["brands"][1:]}
    # a formula would have been evaluated: 点我, 2 … ; the text comes back as typed
    assert brands[targets["brand"]][1] == HOSTILE_BRAND and brands[targets["brand2"]][1] == HOSTILE_BRAND_2
    assert set(brands) == {r["brand_id"] for r in source("brands")}
    for raw in source("brands"):
        row = brands[raw["brand_id"]]
        assert row[2] == raw["institution_id"] and row[4] == raw["occupation_code"] and row[8] == raw["region_code"]
    head = sheets["institutions"][0]
    rows = {row[0]: row for row in sheets["institutions"][1:]}
    for raw in source("institutions"):
        row = rows[raw["institution_id"]]
        assert row[head.index("统一社会信用代码")] == raw["credit_code"]
        assert row[head.index("所在地区代码")] == raw["region_code"]
    target = rows[targets["institution"]]
    assert target[head.index("联系电话")] == PHONE and target[head.index("机构名称")] == HOSTILE_INSTITUTION
    regions = {row[0] for row in sheets["regions"][1:]}
    assert regions == {r["code"] for r in source("regions")}


def test_libreoffice_opens_the_csv_without_running_formulas(hostile, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    site, targets = hostile
    for name in ("brands", "institutions", "exits"):
        _soffice(site / "data" / f"{name}.csv", "xlsx", tmp_path, infilter="CSV:44,34,76,1")
        book = openpyxl.load_workbook(tmp_path / f"{name}.xlsx")
        sheet = book.active
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate, cell.value)
        values = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None}
        ids = {r["brand_id" if name != "institutions" else "institution_id"] for r in source(name)}
        assert ids <= values, name
    sheet = openpyxl.load_workbook(tmp_path / "brands.xlsx").active
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert any(str(n).endswith(HOSTILE_BRAND) for n in names)  # shown as text ('=HYPERLINK…), never run
    detail = next(row for row in openpyxl.load_workbook(tmp_path / "exits.xlsx").active.iter_rows(values_only=True)
                  if row[0] == targets["exit"])
    assert any(str(v).endswith(HOSTILE_DETAIL) for v in detail)


# -- Datasette -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.fixture(scope="module")
def datasette(sample_site: Path):
    pytest.importorskip("datasette")
    port = _free_port()
    data = sample_site / "data"
    process = subprocess.Popen([sys.executable, "-m", "datasette", "serve", str(data / "skillbrands.sqlite"),
                                "-m", str(data / "skillbrands.datasette.json"), "-h", "127.0.0.1", "-p", str(port),
                                "--immutable", str(data / "skillbrands.sqlite")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base + "/-/versions.json")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"datasette did not start: {process.stderr.read().decode()}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _sql(base: str, query: str) -> list[dict]:
    return json.loads(_get(f"{base}/skillbrands.json?" + urllib.parse.urlencode({"sql": query, "_shape": "array"})))


def test_datasette_joins_brands_and_outcomes_by_region(datasette: str) -> None:
    year = max(int(r["year"]) for r in source("outcomes"))
    brands = {r["brand_id"]: r for r in source("brands")}
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in source("outcomes"):
        if int(row["year"]) == year:
            total = expected[brands[row["brand_id"]]["region_code"]]
            total[0] += 1
            total[1] += int(row["trainees"])
            total[2] += int(row["employed"])
    rows = _sql(datasette, f"""
        select b.region_code, count(*) as n, sum(o.trainees) as trainees, sum(o.employed) as employed
        from brands b join outcomes o on o.brand_id = b.brand_id
        where o.year = {year} group by b.region_code order by b.region_code""")
    assert {r["region_code"]: [r["n"], r["trainees"], r["employed"]] for r in rows} == dict(expected)


def test_datasette_rolls_institutions_up_to_prefectures(datasette: str) -> None:
    regions = {r["code"]: r for r in source("regions")}
    institutions = {r["institution_id"]: r for r in source("institutions")}
    brands = {r["brand_id"]: r for r in source("brands")}
    expected: dict[str, int] = defaultdict(int)
    for row in source("outcomes"):
        place = institutions[brands[row["brand_id"]]["institution_id"]]["region_code"]
        expected[regions[prefecture_of(place, regions)]["name"]] += int(row["trainees"])
    rows = _sql(datasette, """
        select i.prefecture_name, sum(o.trainees) as trainees
        from outcomes o join brands b on b.brand_id = o.brand_id join institutions i on i.institution_id = b.institution_id
        group by i.prefecture_code""")
    assert {r["prefecture_name"]: r["trainees"] for r in rows} == dict(expected)


def test_datasette_shows_the_column_descriptions(datasette: str) -> None:
    metadata = json.loads(_get(datasette + "/-/metadata.json"))
    columns = metadata["databases"]["skillbrands"]["tables"]["outcomes"]["columns"]
    assert columns["employment_rate"].startswith("培训后就业率")
    page = _get(datasette + "/skillbrands/outcomes").decode("utf-8")
    assert "年度培训成效" in page
