"""What harvesters read: the DCAT-AP catalogue, schema.org JSON-LD, the Atom feed, the sitemap,
robots.txt, canonical URLs and Open Graph tags — each checked against the CSVs and the files.

Expected values come from a plain csv scan of datasets/ and from the bytes in output/data/, never
from the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pyshacl
import pytest
import rdflib
from bs4 import BeautifulSoup
from click.testing import CliRunner

from build import cli
from skillbrands.feeds import SITEMAP_URLS, sitemaps
from skillbrands.pipeline import build_site
from tests.browser import serve
from tests.conftest import REPO, unfreeze

BASE = "https://rsj.example.gov.cn/pxpp/"
SHAPES = Path(__file__).resolve().parent / "shapes"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def source(name: str) -> list[dict[str, str]]:
    with open(REPO / "datasets" / f"{name}.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def data_years() -> list[int]:
    return sorted({int(b["published_year"]) for b in source("brands")} | {int(o["year"]) for o in source("outcomes")})


@pytest.fixture(scope="module")
def with_base(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("based") / "site"
    build_site(REPO, out, base_url=BASE)
    return out


def _files(site: Path) -> dict[str, bytes]:
    """Every published download under data/ but the catalogue itself: site path -> bytes."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted((site / "data").rglob("*"))
            if p.is_file() and p.name != "catalog.jsonld"}


# -- DCAT-AP 3 ------------------------------------------------------------------------

def _catalog(site: Path, address: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=(site / "data" / "catalog.jsonld").read_bytes(), format="json-ld",
                                publicID=address)


def _shacl(graph: rdflib.Graph) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    shapes = rdflib.Graph()
    for name in ("shapes", "shapes_recommended", "range"):
        shapes.parse(SHAPES / f"dcat-ap-3.0.1-{name}.ttl", format="turtle")
    _, report, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    found: dict[str, list[tuple[str, str]]] = {"Violation": [], "Warning": [], "Info": []}
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[1]
        found[severity].append((str(report.value(result, SH.focusNode)), str(report.value(result, SH.resultPath))))
    return found["Violation"], found["Warning"]


@pytest.mark.parametrize("based", [False, True], ids=["relative", "base-url"])
def test_catalog_passes_the_dcat_ap_3_shapes(sample_site: Path, with_base: Path, based: bool) -> None:
    site = with_base if based else sample_site
    graph = _catalog(site, "http://127.0.0.1:8000/data/catalog.jsonld")
    violations, warnings = _shacl(graph)
    assert violations == []
    # what DCAT-AP recommends and this data cannot say: a bounding box and centre of the province,
    # and an EU file-type code for SQLite (the authority table has none)
    assert sorted(path.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for _, path in warnings) == ["bbox", "centroid", "format"]


def test_catalog_lists_every_file_with_its_size_and_checksum(sample_site: Path) -> None:
    address = "http://127.0.0.1:8000/data/catalog.jsonld"
    graph = _catalog(sample_site, address)
    listed = {}
    for dist in graph.subjects(rdflib.RDF.type, DCAT.Distribution):
        url = str(graph.value(dist, DCAT.downloadURL))
        checksum = graph.value(dist, SPDX.checksum)
        listed[url] = (int(graph.value(dist, DCAT.byteSize)), str(graph.value(checksum, SPDX.checksumValue)),
                       str(graph.value(dist, DCT.license)))
    files = _files(sample_site)
    expected_paths = ({f"data/{t}.{ext}" for t in TABLES for ext in ("csv", "json")}
                      | {"data/skillbrands.xlsx", "data/skillbrands.sqlite", "data/datapackage.json",
                         "data/skillbrands.zip"}
                      | {p for p in files if p.startswith("data/releases/") and p.endswith(".zip")})
    assert set(listed) == {urljoin(address, "/" + p) for p in expected_paths}
    for path in expected_paths:
        size, digest, licence = listed[urljoin(address, "/" + path)]
        assert (size, digest) == (len(files[path]), hashlib.sha256(files[path]).hexdigest()), path
        assert licence == "https://creativecommons.org/licenses/by/4.0/"


TABLES = ("regions", "occupations", "institutions", "brands", "outcomes", "exits", "criteria", "releases", "reviews",
          "corrections")


def test_catalog_datasets_cover_tables_editions_time_and_place(sample_site: Path) -> None:
    graph = _catalog(sample_site, "http://127.0.0.1:8000/data/catalog.jsonld")
    catalogs = list(graph.subjects(rdflib.RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    datasets = set(graph.objects(catalogs[0], DCAT.dataset))
    assert datasets == set(graph.subjects(rdflib.RDF.type, DCAT.Dataset))
    identifiers = {str(graph.value(d, DCT.identifier)) for d in datasets}
    name = json.loads((REPO / "datasets" / "datapackage.json").read_text("utf-8"))["name"]
    years = [r["year"] for r in source("releases")]
    assert identifiers == {name} | {f"{name}:{t}" for t in TABLES} | {f"{name}:{y}" for y in years}
    for dataset in datasets:
        period = graph.value(dataset, DCT.temporal)
        assert (str(graph.value(period, DCAT.startDate)), str(graph.value(period, DCAT.endDate))) == (
            f"{data_years()[0]}-01-01", f"{data_years()[-1]}-12-31")
        assert str(graph.value(graph.value(dataset, DCT.spatial), DCT.identifier)) == "150000"
        assert graph.value(dataset, DCT.publisher) is not None
    versions = {str(graph.value(d, DCAT.version)) for d in datasets if graph.value(d, DCT.isVersionOf)}
    assert versions == set(years)


def test_catalog_is_absolute_under_the_base_url(with_base: Path) -> None:
    graph = _catalog(with_base, "http://elsewhere.example/catalog.jsonld")  # where it was fetched: ignored
    urls = {str(o) for o in graph.objects(None, DCAT.downloadURL)}
    assert urls and all(u.startswith(BASE + "data/") for u in urls)


# -- schema.org -----------------------------------------------------------------------

def _jsonld(page: Path) -> list[dict]:
    soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
    return [json.loads(s.string) for s in soup.select('script[type="application/ld+json"]')]


def test_data_page_describes_the_dataset_and_every_download(sample_site: Path) -> None:
    [document] = _jsonld(sample_site / "data" / "index.html")
    assert document["@context"] == "https://schema.org" and document["@type"] == "Dataset"
    files = _files(sample_site)
    page = sample_site / "data" / "index.html"
    downloads = {}
    for d in document["distribution"]:
        target = (page.parent / d["contentUrl"]).resolve().relative_to(sample_site.resolve()).as_posix()
        downloads[target] = d
    expected = ({f"data/{t}.{ext}" for t in TABLES for ext in ("csv", "json")}
                | {"data/skillbrands.xlsx", "data/skillbrands.sqlite", "data/datapackage.json", "data/skillbrands.zip",
                   "data/skillbrands.datasette.json"}
                | {p for p in files if p.startswith("data/releases/") and p.endswith(".zip")})
    assert set(downloads) == expected
    for path, d in downloads.items():
        assert d["contentSize"] == f"{len(files[path])} B"
    formats = {path.rsplit(".", 1)[1]: d["encodingFormat"] for path, d in downloads.items()}
    assert formats["xlsx"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert formats["sqlite"] == "application/vnd.sqlite3" and formats["zip"] == "application/zip"
    assert document["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert document["temporalCoverage"] == f"{data_years()[0]}/{data_years()[-1]}"
    assert document["spatialCoverage"]["identifier"]["value"] == "150000"
    header = (sample_site / "data" / "brands.csv").read_text("utf-8-sig").splitlines()[0].split(",")
    measured = {v["name"] for v in document["variableMeasured"]}
    assert {f"brands.{column}" for column in header} <= measured


def test_brand_and_institution_pages_carry_their_json_ld(sample_site: Path) -> None:
    institutions = {i["institution_id"]: i for i in source("institutions")}
    for brand in source("brands"):
        [program] = _jsonld(sample_site / "brands" / brand["brand_id"] / "index.html")
        assert program["@type"] == "EducationalOccupationalProgram"
        assert (program["name"], program["identifier"]) == (brand["name"], brand["brand_id"])
        assert program["provider"]["name"] == institutions[brand["institution_id"]]["name"]
        if brand["occupation_code"]:
            assert program["occupationalCategory"]["codeValue"] == brand["occupation_code"]
        else:  # a trade outside the classification: named, without a code
            assert program["occupationalCategory"] == brand["occupation_name"]
    for institution in institutions.values():
        [org] = _jsonld(sample_site / "institutions" / institution["institution_id"] / "index.html")
        assert org["name"] == institution["name"]
        assert org["identifier"]["value"] == institution["credit_code"]


def test_json_ld_cannot_be_broken_out_of_by_data(make_project) -> None:
    project = unfreeze(make_project("markup_names"))
    build_site(project, project / "output")
    with open(project / "datasets" / "brands.csv", encoding="utf-8-sig", newline="") as handle:
        name = next(b["name"] for b in csv.DictReader(handle) if b["brand_id"] == "nm-weld")
    assert "</script>" in name
    page = project / "output" / "brands" / "nm-weld" / "index.html"
    raw = page.read_text("utf-8")
    script = raw.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and json.loads(script)["name"] == name


# -- the feed -------------------------------------------------------------------------

def test_feed_lists_editions_exits_and_corrections_newest_first(sample_site: Path) -> None:
    data = (sample_site / "feed.xml").read_bytes()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    root = ET.fromstring(data)
    entries = root.findall(f"{ATOM}entry")
    today = datetime.now(timezone(timedelta(hours=8))).date()  # the directories' dates are Beijing dates
    expected = [(r["published_date"], f"releases/{r['year']}/") for r in source("releases")
                if date.fromisoformat(r["published_date"]) <= today]
    names = {b["brand_id"]: b["name"] for b in source("brands")}
    expected += [(e["exit_date"], f"brands/{e['brand_id']}/") for e in source("exits")
                 if date.fromisoformat(e["exit_date"]) <= today]
    pages = {"brands": "brands", "outcomes": "brands", "exits": "brands", "institutions": "institutions"}
    expected += [(c["date"], f"{pages[c['table']]}/{c['key'].split('/')[0]}/" if c["table"] in pages else "data/")
                 for c in source("corrections") if date.fromisoformat(c["date"]) <= today]
    assert len(expected) <= 100  # the sample's events all fit in the feed
    got = [(e.find(f"{ATOM}updated").text[:10], e.find(f"{ATOM}link").get("href")) for e in entries]
    assert sorted(got) == sorted(expected)
    assert [when for when, _ in got] == sorted((when for when, _ in got), reverse=True)
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    for entry in entries:  # every link is a page of the site
        href = entry.find(f"{ATOM}link").get("href")
        assert (sample_site / href / "index.html").is_file(), href
        if href.startswith("brands/"):
            assert names[href.split("/")[1]] in entry.find(f"{ATOM}title").text
    assert root.find(f"{ATOM}updated").text[:10] == max(when for when, _ in got)


def test_feed_ids_do_not_depend_on_the_address(sample_site: Path, with_base: Path) -> None:
    def ids(site: Path) -> list[str]:
        return [e.find(f"{ATOM}id").text for e in ET.fromstring((site / "feed.xml").read_bytes()).iter(f"{ATOM}entry")]
    assert ids(sample_site) == ids(with_base)
    links = [e.get("href") for e in ET.fromstring((with_base / "feed.xml").read_bytes()).iter(f"{ATOM}link")]
    assert all(link.startswith(BASE) for link in links)


# -- sitemap, robots, canonical, Open Graph ------------------------------------------

def _pages(site: Path) -> set[str]:
    return {p.parent.relative_to(site).as_posix() + "/" if p.parent != site else ""
            for p in site.rglob("index.html")}


def test_sitemap_lists_every_page_but_the_404(with_base: Path) -> None:
    root = ET.fromstring((with_base / "sitemap.xml").read_bytes())
    locs = [loc.text for loc in root.iter(f"{SM}loc")]
    assert len(locs) == len(set(locs))
    assert set(locs) == {BASE + url for url in _pages(with_base)}
    assert not any(loc.endswith("404.html") for loc in locs)
    assert (with_base / "robots.txt").read_text("ascii").splitlines() == [
        "User-agent: *", "Allow: /", f"Sitemap: {BASE}sitemap.xml"]


def test_without_a_base_url_there_is_no_sitemap_and_no_canonical(sample_site: Path) -> None:
    assert not (sample_site / "sitemap.xml").exists()
    assert (sample_site / "robots.txt").read_text("ascii").splitlines() == ["User-agent: *", "Allow: /"]
    soup = BeautifulSoup((sample_site / "index.html").read_text("utf-8"), "html.parser")
    assert soup.select('link[rel="canonical"]') == [] and soup.select('meta[property^="og:"]') == []
    assert soup.select_one('link[type="application/atom+xml"]')["href"] == "feed.xml"


def test_pages_carry_canonical_and_open_graph_under_a_base_url(with_base: Path) -> None:
    brands = {b["brand_id"]: b for b in source("brands")}
    for url in sorted(_pages(with_base)):
        soup = BeautifulSoup((with_base / url / "index.html").read_text("utf-8"), "html.parser")
        canonical = soup.select_one('link[rel="canonical"]')["href"]
        assert canonical == BASE + url
        og = {m["property"]: m["content"] for m in soup.select('meta[property^="og:"]')}
        assert og["og:url"] == canonical and og["og:locale"] == "zh_CN"
        assert og["og:title"] and og["og:title"] in soup.title.get_text()
        if url.startswith("brands/") and url.count("/") == 2 and url.split("/")[1] in brands:
            assert og["og:title"].startswith(brands[url.split("/")[1]]["name"])
    missing = BeautifulSoup((with_base / "404.html").read_text("utf-8"), "html.parser")
    assert missing.base["href"] == BASE and missing.select('link[rel="canonical"]') == []
    assert not any("folders" in s.get_text() for s in missing.select("script"))  # known address: no root-finding


def test_a_large_sitemap_becomes_an_index() -> None:
    urls = [f"brands/{n}/" for n in range(SITEMAP_URLS + 1)]
    files = dict(sitemaps(urls, BASE))
    assert sorted(files) == ["sitemap.xml", "sitemaps/1.xml", "sitemaps/2.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert [loc.text for loc in index.iter(f"{SM}loc")] == [BASE + "sitemaps/1.xml", BASE + "sitemaps/2.xml"]
    counts = [len(list(ET.fromstring(files[f"sitemaps/{n}.xml"]).iter(f"{SM}loc"))) for n in (1, 2)]
    assert counts == [SITEMAP_URLS, 1]


@pytest.mark.parametrize("value", ["rsj.example.gov.cn", "ftp://example.org/", "javascript:alert(1)",
                                   "https://example.org/?a=1", "https://user:pw@example.org/", "https:///x"])
def test_a_bad_base_url_is_a_usage_error_in_chinese(value: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--base-url", value, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "网站地址" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# -- the site is sound ----------------------------------------------------------------

def test_builds_are_byte_identical_across_hash_seed_timezone_and_locale(tmp_path: Path) -> None:
    """Two builds of the sample in fresh processes with different PYTHONHASHSEED, TZ and LANG, at an
    instant (yesterday 23:30 UTC) that is a different calendar day in UTC and in Asia/Shanghai."""
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    epoch = str(int(datetime(yesterday.year, yesterday.month, yesterday.day, 23, 30, tzinfo=timezone.utc).timestamp()))
    trees = []
    for n, (seed, tz, lang) in enumerate((("1", "UTC", "C.UTF-8"), ("4242", "Asia/Shanghai", "zh_CN.UTF-8"))):
        out = tmp_path / f"out{n}"
        env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": seed, "TZ": tz, "LANG": lang, "LC_ALL": lang,
               "HOME": str(tmp_path), "SOURCE_DATE_EPOCH": epoch}
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--out", str(out),
                               "--base-url", BASE], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert sorted(trees[0]) == sorted(trees[1])
    assert [path for path in trees[0] if trees[0][path] != trees[1][path]] == []


def test_catalog_and_feed_are_served_over_http(sample_site: Path) -> None:
    import urllib.request

    with serve(sample_site) as base:
        with urllib.request.urlopen(base + "data/catalog.jsonld", timeout=30) as response:
            graph = rdflib.Graph().parse(data=response.read(), format="json-ld", publicID=base + "data/catalog.jsonld")
        with urllib.request.urlopen(base + "feed.xml", timeout=30) as response:
            feed = feedparser.parse(response.read())
    urls = {str(o) for o in graph.objects(None, DCAT.downloadURL)}
    assert base + "data/brands.csv" in urls
    assert not feed.bozo and feed.feed.title.endswith("更新")
