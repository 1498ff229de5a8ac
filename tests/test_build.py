"""The build as a user sees it: the page set, links, escaping, rates, downloads, atomic publish."""

from __future__ import annotations

import csv
import io
import errno
import json
import os
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from build import cli
from skillbrands import publish
from skillbrands.pipeline import BuildError, build_site
from conftest import unfreeze


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def soup(out: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((out / url / "index.html").read_text(encoding="utf-8"), "html.parser")


@pytest.fixture
def built(make_project) -> Path:
    project = make_project()
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 0, result.output
    return project / "output"


def test_page_set(built: Path) -> None:
    pages = {p.parent.relative_to(built).as_posix() for p in built.rglob("index.html")}
    brands = {f"brands/{b}" for b in ("kdl-weld", "hs-cook", "bt-weld", "cf-care", "nm-weld")}
    institutions = {f"institutions/{i}" for i in ("bt-school", "cf-care-center", "cf-cook-school")}
    # every region with brands in its subtree; none for regions without
    regions = {f"regions/{c}" for c in ("150000", "150200", "150203", "150400", "150402")}
    published = {f"{r}/published" for r in regions}  # what each region's department published
    releases = {"releases", "releases/2022", "releases/2023",
                # each edition's brands; 2023 added brands (2022 is the first edition: nothing to compare)
                "releases/2022/brands", "releases/2023/brands", "releases/2023/added"}
    # browse without search: by trade and by tier (each also sorted two ways), by focus area and by year
    listings = {f"{base}{view}" for base in (
        "occupations/6-18-02-04", "occupations/4-03-02-01", "occupations/4-10-01-05",
        "tiers/province", "tiers/prefecture", "tiers/county") for view in ("", "/by-rate", "/by-trainees")}
    facets = {"focus/key_industry", "focus/rural", "focus/new_forms", "years/2022", "years/2023"}
    expected = ({".", "brands", "institutions", "regions", "exits", "data", "about", "search", "occupations"}
                | brands | institutions | regions | published | releases | listings | facets)
    assert pages == expected
    data = {p.name for p in (built / "data").iterdir()}
    tables = ("brands", "institutions", "outcomes", "exits", "regions", "occupations", "criteria", "releases",
              "reviews", "corrections")
    assert data == {"index.html", "datapackage.json", "catalog.jsonld", "releases", "skillbrands.xlsx",
                    "skillbrands.sqlite",
                    "skillbrands.datasette.json", "skillbrands.zip", "skillbrands.zip.sha256"} | {
        f"{name}.{ext}" for name in tables for ext in ("csv", "json")}
    for year in ("2022", "2023"):
        assert {p.name for p in (built / "data" / "releases" / year).iterdir()} == {
            "SHA256SUMS", "datapackage.json", f"skillbrands-{year}.zip", f"skillbrands-{year}.zip.sha256"} | {
            f"{name}.{ext}" for name in ("brands", "outcomes", "exits", "institutions", "changes")
            for ext in ("csv", "json")}


def test_every_link_resolves_relatively(built: Path) -> None:
    check_links(built)


def test_every_link_of_the_sample_resolves(sample_site: Path) -> None:
    check_links(sample_site)


def check_links(built: Path) -> None:
    """Every link inside the site reaches a file, and every #fragment an id on the page it names."""
    ids: dict[Path, set[str]] = {}

    def ids_of(page: Path) -> set[str]:
        if page not in ids:
            html = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            ids[page] = {tag["id"] for tag in html.select("[id]")}
        return ids[page]

    checked = 0
    for page in built.rglob("*.html"):
        for a in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select("a[href], link[href]"):
            target = a["href"]
            if target.startswith(("http://", "https://", "tel:", "mailto:", "data:")):
                continue
            assert not target.startswith("/"), f"{page}: absolute link {target}"
            path, _, fragment = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page.resolve()
            assert resolved.is_file(), f"{page.relative_to(built)} links to missing {target}"
            if fragment and resolved.suffix == ".html":
                assert fragment in ids_of(resolved), f"{page.relative_to(built)}: no #{fragment} in {path or 'itself'}"
                checked += 1
    assert checked  # the site links to sections (the table of contents of listings): the check is not vacuous


def test_no_foreign_resources(built: Path) -> None:
    for page in built.rglob("*.html"):
        html = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in html.select("script[src], link[href], img[src]"):
            url = tag.get("src") or tag.get("href")
            assert not url.startswith(("http:", "https:", "//")), f"{page}: loads {url}"


def test_brand_page_facts_and_rates(built: Path) -> None:
    page = soup(built, "brands/bt-weld")
    assert page.h1.get_text(" ", strip=True).startswith("包头市焊工培训（示例）")
    facts = {dt.get_text(strip=True): dd.get_text(" ", strip=True) for dt, dd in
             zip(page.select("dl.facts dt"), page.select("dl.facts dd"))}
    assert facts["培训机构"] == "包头市示例技工学校"
    assert facts["职业（工种）"].startswith("焊工")
    assert facts["品牌层级"] == "盟市级"
    assert "包人社发〔2023〕40号" in facts["公布"]
    header = [th.get_text(strip=True) for th in page.select("table.outcomes thead th")]
    rows = [dict(zip(header, (c.get_text(strip=True) for c in tr.select("th, td"))))
            for tr in page.select("table.outcomes tbody tr")]
    # 2023: 441 of 480 passed = 91.9 %, 350 of 480 employed = 72.9 %
    assert [rows[1][k] for k in ("年度", "培训人数", "合格人数", "合格率", "就业人数", "就业率")] == [
        "2023", "480", "441", "91.9%", "350", "72.9%"]
    assert rows[0]["合格率"] == f"{395 / 430 * 100:.1f}%"
    chain = [a.get_text(strip=True) for a in page.select("ol.chain a")]
    assert chain == ["昆都仑区焊工培训（示例）"]


def test_recommendation_chain_goes_all_the_way_down(built: Path) -> None:
    page = soup(built, "brands/nm-weld")
    links = [a["href"] for a in page.select("ol.chain a")]
    assert links == ["../../brands/bt-weld/index.html", "../../brands/kdl-weld/index.html"]


def test_exited_brand_keeps_page_with_banner(built: Path) -> None:
    page = soup(built, "brands/hs-cook")
    banner = page.select_one(".exit-banner").get_text(" ", strip=True)
    assert "2024-06-01" in banner and "违规" in banner and "红人社发〔2024〕7号" in banner
    exits = soup(built, "exits")
    assert [a["href"] for a in exits.select("main table a")] == ["../brands/hs-cook/index.html"]
    assert soup(built, "brands/bt-weld").select_one(".exit-banner") is None


def test_institution_and_region_pages(built: Path) -> None:
    page = soup(built, "institutions/cf-cook-school")
    assert "暂停" in page.select_one(".exit-banner").get_text()
    assert [a.get_text(strip=True) for a in page.select("table.brands tbody a")] == ["红山区赤峰风味中式烹调师培训（示例）"]
    # 包头's page: every brand run by an institution there, whatever its tier; its department's own apart
    prefecture = soup(built, "regions/150200")
    assert [a.get_text(strip=True) for a in prefecture.select("table.brands tbody td:first-child a")] == [
        "自治区级焊工培训品牌（示例）", "包头市焊工培训（示例）", "昆都仑区焊工培训（示例）"]
    own = soup(built, "regions/150200/published")
    assert [a.get_text(strip=True) for a in own.select("table.brands tbody a")] == ["包头市焊工培训（示例）"]
    province = soup(built, "regions/150000")
    assert {a.get_text(strip=True) for a in province.select("ul.regions a")} == {"包头市", "赤峰市"}


def test_sample_label_on_every_page_and_download(built: Path) -> None:
    for page in built.rglob("*.html"):
        assert "示例数据" in page.read_text(encoding="utf-8"), page
    for name in ("brands", "institutions", "outcomes", "exits"):
        document = json.loads((built / "data" / f"{name}.json").read_text(encoding="utf-8"))
        assert document["sample"] is True and "示例数据" in document["notice"]
    package = json.loads((built / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["sample"] is True


def test_outcomes_download_has_rates_from_counts(built: Path) -> None:
    raw = (built / "data" / "outcomes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV needs a BOM so Excel reads UTF-8"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    row = next(r for r in rows if r["brand_id"] == "bt-weld" and r["year"] == "2023")
    assert row["pass_rate"] == f"{441 / 480:.4f}" and row["employment_rate"] == f"{350 / 480:.4f}"
    document = json.loads((built / "data" / "outcomes.json").read_text(encoding="utf-8"))
    item = next(r for r in document["rows"] if r["brand_id"] == "bt-weld" and r["year"] == 2023)
    assert item["pass_rate"] == round(441 / 480, 4) and item["trainees"] == 480
    brands = list(csv.DictReader(io.StringIO((built / "data" / "brands.csv").read_text(encoding="utf-8-sig"))))
    assert {r["brand_id"]: r["status"] for r in brands}["hs-cook"] == "exited"
    assert len(brands) == 5


def test_data_page_documents_every_column(built: Path) -> None:
    page = soup(built, "data")
    for name in ("brands", "institutions", "outcomes", "exits"):
        header = (built / "data" / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        documented = [code.get_text() for code in page.select(f"section#{name} table.columns code")]
        assert documented == header


def test_markup_in_data_and_content_is_escaped(make_project) -> None:
    project = unfreeze(make_project("markup_names"))  # changes names that frozen editions published
    build_site(project, project / "output")
    out = project / "output"
    brand = (out / "brands" / "nm-weld" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in brand and "&lt;script&gt;alert(1)&lt;/script&gt;" in brand
    assert "<b>品牌</b>" not in brand
    institution = (out / "institutions" / "cf-care-center" / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in institution and "&lt;img src=x onerror=alert(2)&gt;" in institution
    notes = BeautifulSoup((out / "notes" / "index.html").read_text(encoding="utf-8"), "html.parser")
    article = notes.select_one("article")
    assert article.select("script") == [] and "alert(\"content\")" not in str(article)
    assert all(not a.get("href", "").startswith("javascript:") and not a.get("onclick") for a in article.select("a"))
    assert all(not img.get("onerror") for img in article.select("img"))
    assert article.select_one("strong").get_text() == "加粗" and article.select("table td")
    assert notes.h1.get_text() == "说明 <i>页</i>"  # the title is text, shown as typed


def test_failed_build_leaves_output_byte_identical(make_project) -> None:
    project = make_project()
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--project", str(project)]).exit_code == 0
    before = tree_bytes(project / "output")
    bad = project / "datasets" / "outcomes.csv"
    bad.write_text(bad.read_text(encoding="utf-8").replace("480,441", "480,85%"), encoding="utf-8")
    result = runner.invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1
    assert "datasets/outcomes.csv" in result.output and "85%" in result.output
    assert tree_bytes(project / "output") == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".output")) == []


def test_template_error_fails_cleanly_and_keeps_output(make_project) -> None:
    project = make_project()
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--project", str(project)]).exit_code == 0
    before = tree_bytes(project / "output")
    template = project / "site_templates" / "brand.html"
    template.write_text(template.read_text(encoding="utf-8").replace("{{ brand.name }}", "{{ brand.nmae }}"),
                        encoding="utf-8")
    result = runner.invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1 and "模板" in result.output and "Traceback" not in result.output
    assert tree_bytes(project / "output") == before
    assert [p.name for p in project.iterdir() if ".staging-" in p.name] == []


def test_build_is_deterministic(make_project) -> None:
    first, second = make_project(), make_project()
    build_site(first, first / "output")
    build_site(second, second / "output")
    assert tree_bytes(first / "output") == tree_bytes(second / "output")


def test_rebuild_replaces_site_and_leaves_no_debris(make_project) -> None:
    project = make_project()
    out = project / "output"
    extra = project / "content" / "extra.md"
    extra.write_text("title: 临时页面\n\n正文。\n", encoding="utf-8")
    build_site(project, out)
    assert (out / "extra" / "index.html").is_file()
    extra.unlink()
    build_site(project, out)  # a page the last build wrote and this one does not: gone
    assert not (out / "extra").exists()
    # beside the output only the spare site (the one before, which the next build starts from)
    assert [p.name for p in project.iterdir() if p.name.startswith(".output")] == [".output.spare"]
    assert (project / ".output.spare" / "extra" / "index.html").is_file()
    (project / "content" / "about.md").write_text("title: 关于\n\n改过的正文。\n", encoding="utf-8")
    build_site(project, out)  # from the spare: what it had and this build did not write is gone
    assert not (out / "extra").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".output")] == [".output.spare"]


def test_refuses_to_replace_a_folder_it_did_not_make(make_project, tmp_path: Path) -> None:
    project = make_project()
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "report.docx").write_bytes(b"keep me")
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--out", str(precious)])
    assert result.exit_code == 1 and "不是本工具生成的网站" in result.output
    assert (precious / "report.docx").read_bytes() == b"keep me"


def _change_a_page(project: Path) -> None:
    (project / "content" / "about.md").write_text("title: 关于\n\n改过的正文。\n", encoding="utf-8")


def test_full_disk_gives_clear_error_and_keeps_site(make_project, monkeypatch) -> None:
    project = make_project()
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--project", str(project)]).exit_code == 0
    before = tree_bytes(project / "output")
    _change_a_page(project)  # else the rebuild has nothing to do
    real_write = publish.write_new
    calls = iter(range(10_000))

    def write_until_full(path: Path, data: bytes) -> None:
        if next(calls) >= 12:  # the disk fills up part-way through the pages
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    real_link = os.link

    def link_until_full(source, target, *args, **kwargs):
        if next(calls) >= 12:  # a rebuild links unchanged files: a full disk stops that too
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(publish, "write_new", write_until_full)
    monkeypatch.setattr(os, "link", link_until_full)
    result = runner.invoke(cli, ["build", "--project", str(project)])
    monkeypatch.undo()
    assert result.exit_code == 1 and "磁盘空间不足" in result.output and "Traceback" not in result.output
    assert str(project.resolve()) in result.output  # names the folder
    assert tree_bytes(project / "output") == before
    assert [p.name for p in project.iterdir() if ".staging-" in p.name] == []


def test_output_under_a_file_gives_clear_error(make_project, tmp_path: Path) -> None:
    project = make_project()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--out", str(blocker / "site")])
    assert result.exit_code == 1 and "Traceback" not in result.output and str(blocker) in result.output


def test_content_slug_clash_is_reported(make_project) -> None:
    project = make_project()
    (project / "content" / "brands.md").write_text("title: 冲突\n\n正文", encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build_site(project, project / "output")
    assert ("content/brands.md", None, None, "content-invalid") in [i.as_tuple() for i in caught.value.issues]
    assert not (project / "output").exists()


def test_home_page_shows_latest_year_figures_per_tier(built: Path) -> None:
    page = soup(built, "")
    assert page.select_one("h2").get_text(strip=True).startswith("2024年培训成效")
    rows = {tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
            for tr in page.select("table.tier-figures tbody tr")}
    # 2024: only nm-weld reports (505 trainees, 468 passed, 371 employed); hs-cook has exited
    assert rows["自治区级"] == ["1", "1", "505", f"{468 / 505 * 100:.1f}%", f"{371 / 505 * 100:.1f}%"]
    assert rows["旗县级"] == ["1", "0", "0", "—", "—"]


def test_rebuild_links_unchanged_files_and_writes_changed_ones(make_project) -> None:
    project = make_project()
    out = project / "output"
    first = build_site(project, out)
    assert first.linked == 0
    inode = (out / "brands" / "bt-weld" / "index.html").stat().st_ino
    content = project / "content" / "about.md"
    content.write_text(content.read_text("utf-8") + "\n补充一句。\n", "utf-8")
    second = build_site(project, out)
    # every file but the changed page and the manifest is linked from the published site
    written = second.pages + second.downloads + second.assets + second.search + second.crawler_files
    assert second.linked == written - 1
    assert (out / "brands" / "bt-weld" / "index.html").stat().st_ino == inode
    assert "补充一句" in (out / "about" / "index.html").read_text("utf-8")
    manifest = (out / ".skillbrands-site").read_text("utf-8").splitlines()
    assert len(manifest) == 1 + written
    fresh = make_project()
    content = fresh / "content" / "about.md"
    content.write_text(content.read_text("utf-8") + "\n补充一句。\n", "utf-8")
    build_site(fresh, fresh / "output")
    assert tree_bytes(fresh / "output") == tree_bytes(out)  # linking changes nothing in the result


def test_long_listings_are_paginated(make_project, monkeypatch) -> None:
    from skillbrands import render

    monkeypatch.setattr(render, "PAGE_SIZE", 2)
    project = make_project()
    build_site(project, project / "output")
    out = project / "output"
    pages = [soup(out, url) for url in ("brands", "brands/page/2", "brands/page/3")]
    listed = [[a.get_text(strip=True) for a in page.select("table.brands tbody td:first-child a")] for page in pages]
    assert [len(names) for names in listed] == [2, 2, 1] and len({n for names in listed for n in names}) == 5
    assert not (out / "brands" / "page" / "4").exists()
    nav = pages[1].select_one("nav.pager")
    assert nav.select_one("a[rel=prev]")["href"] == "../../../brands/index.html"
    assert nav.select_one("a[rel=next]")["href"] == "../../../brands/page/3/index.html"
    # the tier links point at the page where each tier's section starts (province first)
    toc = {a.get_text(strip=True): a["href"] for a in pages[0].select("nav.toc a")}
    assert toc == {"自治区级（1）": "../brands/index.html#province", "盟市级（2）": "../brands/index.html#prefecture",
                   "旗县级（2）": "../brands/page/2/index.html#county"}
    assert len(soup(out, "institutions/page/2").select("table tbody tr")) == 1


def test_serve_previews_the_project(built: Path) -> None:
    """serve builds the project itself (into a temporary folder: see tests/test_preview.py)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    repo = Path(__file__).resolve().parent.parent
    server = subprocess.Popen([sys.executable, str(repo / "build.py"), "serve", "--project", str(built.parent),
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90  # the first build comes before the site is served
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/brands/bt-weld/", timeout=2) as response:
                    assert "包头市焊工培训（示例）" in response.read().decode("utf-8")
                    break
            except OSError:  # not listening yet, or 503 while the first build runs
                if time.monotonic() > deadline:
                    pytest.fail("the preview server did not answer")
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unwritable_output_folder_gives_clear_error_and_keeps_site(make_project, monkeypatch) -> None:
    """As root a chmod does not stop writes, so the writer is made to meet EACCES."""
    project = make_project()
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--project", str(project)]).exit_code == 0
    before = tree_bytes(project / "output")
    _change_a_page(project)  # else the rebuild has nothing to do

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    result = runner.invoke(cli, ["build", "--project", str(project)])
    monkeypatch.undo()
    assert result.exit_code == 1 and "没有权限写入" in result.output and "Traceback" not in result.output
    assert str(project.resolve()) in result.output
    assert tree_bytes(project / "output") == before
