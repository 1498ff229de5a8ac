"""Yearly editions: frozen once published, diffs between editions, per-edition downloads.

The minimal site has two releases (2022-12-20 and 2023-12-15), both frozen in
tests/sites/minimal/datasets/editions/.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

from bs4 import BeautifulSoup
from click.testing import CliRunner

from build import cli
from skillbrands.pipeline import check_project


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def build(project: Path, *args: str):
    return CliRunner().invoke(cli, ["build", "--project", str(project), *args])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_edition_contents_as_of_the_release_date(make_project) -> None:
    project = make_project()
    assert build(project).exit_code == 0
    out = project / "output" / "data" / "releases"
    # 2022 edition (2022-12-20): only the two county brands published in 2022, figures up to 2021
    brands_2022 = rows((out / "2022" / "brands.csv").read_bytes())
    assert [r["brand_id"] for r in brands_2022] == ["hs-cook", "kdl-weld"]
    assert {r["year"] for r in rows((out / "2022" / "outcomes.csv").read_bytes())} == {"2021"}
    # 2023 edition: all five; hs-cook exits only in 2024, so it is still listed and not in exits
    assert len(rows((out / "2023" / "brands.csv").read_bytes())) == 5
    assert rows((out / "2023" / "exits.csv").read_bytes()) == []
    # cf-cook-school was suspended on 2024-05-20: active as of both editions
    statuses = {r["institution_id"]: r["status"] for r in rows((out / "2023" / "institutions.csv").read_bytes())}
    assert statuses["cf-cook-school"] == "active"


def test_changes_between_editions(make_project) -> None:
    project = make_project()
    assert build(project).exit_code == 0
    changes = rows((project / "output" / "data" / "releases" / "2023" / "changes.csv").read_bytes())
    assert [(c["change"], c["id"]) for c in changes] == [
        ("added", "bt-weld"), ("added", "cf-care"), ("added", "nm-weld"),
        # kdl-weld 120/180 = 66.7 % -> 150/210 = 71.4 % (+4.8 points); hs-cook 38/48 = 79.2 % -> 40/52 = 76.9 %
        ("employment_rate", "kdl-weld"), ("employment_rate", "hs-cook")]
    assert changes[3]["before"] == "0.6667" and changes[3]["after"] == "0.7143"
    document = json.loads((project / "output" / "data" / "releases" / "2023" / "changes.json").read_text("utf-8"))
    assert document["edition"] == 2023 and document["sample"] is True and len(document["rows"]) == 5
    page = BeautifulSoup((project / "output" / "releases" / "2023" / "index.html").read_text("utf-8"), "html.parser")
    added = [a.get_text(strip=True) for a in page.select("#changes ~ ul.changes")[0].select("a")]
    assert added == ["包头市焊工培训（示例）", "赤峰市养老护理员培训（示例）", "自治区级焊工培训品牌（示例）"]
    moves = [[td.get_text(strip=True) for td in tr.select("td")] for tr in page.select("table.moves tbody tr")]
    assert moves[0] == ["昆都仑区焊工培训（示例）", "66.7%", "71.4%", "+4.8 个百分点"]


def test_exits_and_status_changes_appear_in_the_next_edition(make_project) -> None:
    project = make_project()
    releases = project / "datasets" / "releases.csv"
    releases.write_text(releases.read_text("utf-8") + "2024,2024-12-10,内人社办发〔2024〕99号,2024年度目录（示例）,\n",
                        encoding="utf-8")
    assert build(project, "--today", "2024-12-31").exit_code == 0
    changes = rows((project / "output" / "data" / "releases" / "2024" / "changes.csv").read_bytes())
    kinds = {(c["change"], c["id"]): c for c in changes}
    assert kinds[("exited", "hs-cook")]["detail"].startswith("2024-06-01 违规")
    status = kinds[("institution_status", "cf-cook-school")]
    assert (status["before"], status["after"]) == ("active", "suspended")


def test_published_downloads_match_the_frozen_files_and_their_sums(make_project) -> None:
    project = make_project()
    assert build(project).exit_code == 0
    published = project / "output" / "data" / "releases" / "2023"
    frozen = project / "datasets" / "editions" / "2023"
    for path in frozen.glob("*.csv"):
        assert (published / path.name).read_bytes() == path.read_bytes()
    for line in (published / "SHA256SUMS").read_text("ascii").splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((published / name).read_bytes()).hexdigest() == digest
    assert {line.split("  ")[1] for line in (published / "SHA256SUMS").read_text("ascii").splitlines()} == {
        "datapackage.json"} | {
        f"{n}.{e}" for n in ("brands", "outcomes", "exits", "institutions", "changes") for e in ("csv", "json")}


def test_changing_an_old_year_fails_the_build_and_names_the_row(make_project) -> None:
    project = make_project()
    assert build(project).exit_code == 0
    before = tree(project / "output")
    # kdl-weld's 2021 figures were published in both frozen editions; outcomes.csv row 2
    edit(project / "datasets" / "outcomes.csv", "kdl-weld,2021,180,160,120", "kdl-weld,2021,180,160,125")
    result = CliRunner().invoke(cli, ["validate", "--project", str(project), "--format", "json"])
    assert result.exit_code == 1
    found = {(i["path"], i["row"], i["field"], i["code"]) for i in json.loads(result.stdout)}
    assert found == {("datasets/outcomes.csv", 2, "employed", "edition-changed")}
    [message] = [i["message"] for i in json.loads(result.stdout)]  # one cell: one issue, naming both editions
    assert "由“120”改为“125”" in message and "2022、2023年度版本" in message
    assert "outcomes,kdl-weld/2021,employed,120,125,correction,," in message
    assert build(project).exit_code == 1
    assert tree(project / "output") == before


def test_renaming_an_institution_is_one_difference_at_the_institution(make_project) -> None:
    project = make_project()
    edit(project / "datasets" / "institutions.csv", "包头市示例技工学校", "包头市示例高级技工学校")
    issues = [i.as_tuple() for i in check_project(project) if i.severity == "error"]
    assert issues == [("datasets/institutions.csv", 2, "name", "edition-changed")]  # not one per brand row


def test_new_data_after_the_last_edition_is_fine(make_project) -> None:
    project = make_project()
    # 2024 figures and a 2024 brand change no frozen edition; neither does a status change dated 2024
    edit(project / "datasets" / "outcomes.csv", "nm-weld,2024,505,468,371,252,268", "nm-weld,2024,505,470,380,252,268")
    brands = project / "datasets" / "brands.csv"
    brands.write_text(brands.read_text("utf-8") + "cf-care-2,赤峰市养老护理员培训二期（示例）,cf-care-center,4-10-01-05,"
                      "养老护理员,prefecture,150400,new_forms,false,,,2024,2024-09-30,赤人社发〔2024〕70号\n", "utf-8")
    outcomes = project / "datasets" / "outcomes.csv"
    outcomes.write_text(outcomes.read_text("utf-8") + "cf-care-2,2023,240,220,170,110,100\n", "utf-8")
    assert [i for i in check_project(project) if i.severity == "error"] == []


def test_tampered_frozen_file_is_an_error(make_project) -> None:
    project = make_project()
    frozen = project / "datasets" / "editions" / "2022" / "brands.csv"
    frozen.write_bytes(frozen.read_bytes().replace("昆都仑区".encode(), "青山区".encode()))
    issues = check_project(project)
    assert ("datasets/editions/2022/SHA256SUMS", None, None, "edition-tampered") in [i.as_tuple() for i in issues]


def test_unfrozen_published_edition_warns_and_freeze_fixes_it(make_project) -> None:
    project = make_project()
    shutil.rmtree(project / "datasets" / "editions" / "2023")
    warnings = [i.as_tuple() for i in check_project(project)]
    assert warnings == [("datasets/releases.csv", 3, "year", "edition-not-frozen")]
    runner = CliRunner()
    result = runner.invoke(cli, ["freeze", "--project", str(project), "--year", "2023"])
    assert result.exit_code == 0 and "已冻结2023年度版本：5 个品牌" in result.output
    assert check_project(project) == []
    again = runner.invoke(cli, ["freeze", "--project", str(project), "--year", "2023"])
    assert again.exit_code == 0 and "无需再次冻结" in again.output
    missing = runner.invoke(cli, ["freeze", "--project", str(project), "--year", "2019"])
    assert missing.exit_code == 1 and "releases.csv 中没有 2019 年度" in missing.output


def test_releases_index_lists_every_edition(make_project) -> None:
    project = make_project()
    assert build(project).exit_code == 0
    page = BeautifulSoup((project / "output" / "releases" / "index.html").read_text("utf-8"), "html.parser")
    cells = [[c.get_text(strip=True) for c in tr.select("th, td")] for tr in page.select("table.releases tbody tr")]
    assert [(c[0], c[3], c[4], c[6]) for c in cells] == [
        ("2023年度职业技能培训品牌目录（示例）", "5", "3", "已冻结"),
        ("2022年度职业技能培训品牌目录（示例）", "2", "—", "已冻结")]


def test_exited_brand_keeps_its_page_after_later_editions(make_project) -> None:
    project = make_project()
    assert build(project).exit_code == 0
    page = project / "output" / "brands" / "hs-cook" / "index.html"
    html = BeautifulSoup(page.read_text("utf-8"), "html.parser")
    assert "该品牌已退出目录" in html.select_one(".exit-banner").get_text()
    assert [tr.th.get_text() for tr in html.select("table.outcomes tbody tr")] == ["2021", "2022"]
