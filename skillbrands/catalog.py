"""`data/catalog.jsonld`: the downloads as a DCAT-AP 3 catalogue, for data portals that harvest.

One `dcat:Catalog` with: a `dcat:Dataset` for the whole directory (distributions: the Excel
workbook, the SQLite database, datapackage.json and the zip), one per published table (its CSV
and JSON), and one per yearly edition (its zip, a version of the whole). Every distribution has
its access and download URL, media type (IANA), format (EU file-type authority), size,
SHA-256 checksum and licence; datasets have publisher, temporal coverage (the years of the
data), spatial coverage (the directory's province, by its GB/T 2260 code), language and theme.

Addresses are absolute with `--base-url`, otherwise relative to the catalogue itself (JSON-LD
resolves them against where the file was fetched). The context is inline: no remote context is
fetched by whoever reads it. Checked in tests with rdflib and pyshacl against the official
DCAT-AP 3.0.1 shapes (tests/shapes/).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Sequence

from .editions import Edition
from .formats import FileInfo, dump_json
from .model import Directory

CATALOG = "data/catalog.jsonld"

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "locn": "http://www.w3.org/ns/locn#",
    "dcatap": "http://data.europa.eu/r5r/",
}
_AUTHORITY = "http://publications.europa.eu/resource/authority/"
#: format -> (IANA media type, EU file-type code or None)
MEDIA_TYPES = {
    "csv": ("text/csv", "CSV"),
    "json": ("application/json", "JSON"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    "sqlite": ("application/vnd.sqlite3", None),
    "zip": ("application/zip", "ZIP"),
}
KEYWORDS = ("职业技能培训", "培训品牌", "就业率")
_STABLE = {"@id": f"{_AUTHORITY}planned-availability/STABLE", "@type": "skos:Concept",
           "skos:prefLabel": {"@value": "stable", "@language": "en"}}
#: what each kind of file is, in a distribution's description
_DESCRIPTIONS = {
    "csv": "UTF-8（带 BOM）、逗号分隔、CRLF 换行；以 = + - @ 开头的文字前加了单引号，打开时不会被当作公式。",
    "json": "同样的行，附标题、许可、来源和每一列的说明。",
    "xlsx": "每张表一个工作表，另有“说明”工作表；编号和代码是文本，日期是日期。",
    "sqlite": "每张表一个数据表，有主键、外键和索引；可用 Datasette 打开。",
    "zip": "以上全部文件。",
    "datapackage.json": "Frictionless 数据包描述：每个文件的列、类型、允许的值、主键和外键、大小和 SHA-256。",
}
#: the EU data themes the directory belongs to, with their labels in the authority table
THEMES = {"EDUC": "Education, culture and sport", "ECON": "Economy and finance"}


def catalog_jsonld(directory: Directory, summary: Any, editions: Sequence[Edition],
                   bundles: Mapping[int, FileInfo], base_url: str | None, issued: date | None,
                   modified: date | None) -> bytes:
    """The catalogue as JSON-LD bytes (deterministic: fixed order, dates from the data)."""
    iri = _addresses(base_url)
    meta = directory.meta
    settings = meta.get("skillbrands", {})
    publisher = {"@id": iri("#publisher"), "@type": "foaf:Agent",
                 "dct:type": {"@id": "http://purl.org/adms/publishertype/RegionalAuthority", "@type": "skos:Concept",
                              "skos:prefLabel": {"@value": "Regional authority", "@language": "en"}},
                 "foaf:name": str(settings.get("publisher") or (meta.get("publisher") or {}).get("name", ""))}
    licence = _licence(meta)
    years = sorted({b.published_year for b in directory.brands.values()}
                   | {o.year for b in directory.brands.values() for o in b.outcomes})
    province = str(settings.get("province_code") or "")
    region = directory.regions.get(province)
    spatial = ({"@id": iri(f"regions/{province}/"), "@type": "dct:Location", "dct:identifier": province,
                "skos:prefLabel": {"@value": region.name, "@language": "zh"}} if region else None)
    temporal = ({"@type": "dct:PeriodOfTime", "dcat:startDate": _date(date(years[0], 1, 1)),
                 "dcat:endDate": _date(date(years[-1], 12, 31))} if years else None)
    common: dict[str, Any] = {"dct:publisher": {"@id": publisher["@id"]},
                              "dct:language": {"@id": f"{_AUTHORITY}language/ZHO", "@type": "dct:LinguisticSystem"},
                              "dcat:theme": [{"@id": f"{_AUTHORITY}data-theme/{code}", "@type": "skos:Concept",
                                              "skos:prefLabel": {"@value": label, "@language": "en"}}
                                             for code, label in THEMES.items()]}
    contact = _contact(meta)
    if contact:
        common["dcat:contactPoint"] = contact
    if spatial:
        common["dct:spatial"] = spatial
    if temporal:
        common["dct:temporal"] = temporal
    if modified:
        common["dct:modified"] = _date(modified)

    def distribution(info: FileInfo, title: str, description: str) -> dict[str, Any]:
        media, code = MEDIA_TYPES[info.format]
        out: dict[str, Any] = {
            "@id": iri(f"{info.path}#distribution"), "@type": "dcat:Distribution", "dct:title": _zh(title),
            "dct:description": _zh(description), "dcatap:availability": _STABLE,
            "dcat:accessURL": {"@id": iri(info.path)}, "dcat:downloadURL": {"@id": iri(info.path)},
            "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{media}", "@type": "dct:MediaType"},
            "dcat:byteSize": {"@value": str(info.bytes), "@type": "xsd:nonNegativeInteger"},
            "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                              "spdx:checksumValue": {"@value": info.sha256, "@type": "xsd:hexBinary"}},
        }
        if code:
            out["dct:format"] = {"@id": f"{_AUTHORITY}file-type/{code}", "@type": "dct:MediaTypeOrExtent"}
        if licence:
            out["dct:license"] = licence
        return out

    keywords = [_zh(word) for word in KEYWORDS]
    whole_id = iri("#directory")
    datasets: list[dict[str, Any]] = []
    titles = {"xlsx": "Excel 工作簿（每表一个工作表）", "sqlite": "SQLite 数据库", "json": "datapackage.json（数据包描述）",
              "zip": "整包 zip"}
    wholes = [f for f in summary.bundles if f.format in MEDIA_TYPES and not f.path.endswith(".datasette.json")]
    whole = {"@id": whole_id, "@type": "dcat:Dataset", "dct:title": _zh(str(meta.get("title", ""))),
             "dct:description": _zh(str(meta.get("description", "")) or str(meta.get("title", ""))),
             "dct:identifier": str(meta.get("name", "")), "dcat:version": summary.version,
             "dcat:landingPage": {"@id": iri("data/"), "@type": "foaf:Document"},
             "dcat:keyword": keywords,
             "dcat:distribution": [distribution(f, titles.get(f.format, f.path),
                                                _DESCRIPTIONS.get(f.path.rsplit("/", 1)[-1], _DESCRIPTIONS[f.format]))
                                   for f in wholes], **common}
    for edition in editions:
        if edition.year not in bundles:
            continue
        release = edition.release
        datasets.append({
            "@id": iri(f"#edition-{edition.year}"), "@type": "dcat:Dataset",
            "dct:title": _zh(release.title),
            "dct:description": _zh(f"{release.title}（{release.document_no}），{release.published_date.isoformat()} 公布，"
                                   f"收录 {len(edition.brands)} 个品牌。冻结后内容不再改变。"),
            "dct:identifier": f"{meta.get('name', '')}:{edition.year}", "dcat:version": str(edition.year),
            "dct:issued": _date(release.published_date), "dct:isVersionOf": {"@id": whole_id},
            "dcat:landingPage": {"@id": iri(f"releases/{edition.year}/"), "@type": "foaf:Document"},
            "dcat:distribution": [distribution(bundles[edition.year], f"{edition.year}年度版本 zip",
                                               "该版本的全部 CSV、JSON、datapackage.json 和 SHA256SUMS，冻结后不再改变。")],
            "dcat:keyword": keywords,
            **{k: v for k, v in common.items() if k != "dct:modified"}})
    if datasets:
        whole["dct:hasVersion"] = [{"@id": d["@id"]} for d in datasets]
    for t in summary.tables:
        datasets.append({
            "@id": iri(f"#table-{t.table.name}"), "@type": "dcat:Dataset",
            "dct:title": _zh(f"{t.table.title}（{t.table.name}）"),
            "dct:description": _zh(f"{t.table.description} 共 {t.rows} 行。"),
            "dct:identifier": f"{meta.get('name', '')}:{t.table.name}", "dct:isPartOf": {"@id": whole_id},
            "dcat:landingPage": {"@id": iri(f"data/#{t.table.name}"), "@type": "foaf:Document"},
            "dcat:distribution": [distribution(f, f"{t.table.title}（{f.format.upper()}）", _DESCRIPTIONS[f.format])
                                  for f in t.files],
            "dcat:keyword": [*keywords, _zh(t.table.title)],
            **common})
    catalog: dict[str, Any] = {
        "@id": iri("#catalog"), "@type": "dcat:Catalog", "dct:title": _zh(str(meta.get("title", ""))),
        "dct:description": _zh(str(meta.get("description", "")) or str(meta.get("title", ""))),
        "dct:publisher": {"@id": publisher["@id"]},
        "foaf:homepage": {"@id": iri(""), "@type": "foaf:Document"},
        "dct:language": common["dct:language"],
        "dcat:themeTaxonomy": {"@id": f"{_AUTHORITY}data-theme", "@type": "skos:ConceptScheme",
                               "dct:title": {"@value": "Data theme", "@language": "en"}},
        "dcat:dataset": [{"@id": whole_id}, *({"@id": d["@id"]} for d in datasets)],
    }
    if licence:
        catalog["dct:license"] = licence
    if issued:
        catalog["dct:issued"] = _date(issued)
    if modified:
        catalog["dct:modified"] = _date(modified)
    if spatial:
        catalog["dct:spatial"] = {"@id": spatial["@id"]}
    return dump_json({"@context": CONTEXT, "@graph": [catalog, publisher, whole, *datasets]})


def _addresses(base_url: str | None):
    """site path -> IRI: absolute under the base URL, else relative to data/catalog.jsonld."""
    def iri(path: str) -> str:
        if path.startswith("#"):
            return f"{base_url}{CATALOG}{path}" if base_url else f"catalog.jsonld{path}"
        if base_url:
            return f"{base_url}{path}"
        if path.startswith("data/"):
            rest = path[len("data/"):]
            return f"./{rest}" if rest == "" or rest.startswith("#") else rest
        return f"../{path}"
    return iri


def _contact(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The publisher's contact (datapackage.json `publisher`) as a vCard."""
    publisher = meta.get("publisher") or {}
    if not publisher.get("name"):
        return None
    out: dict[str, Any] = {"@type": ["vcard:Kind", "vcard:Organization"], "vcard:fn": str(publisher["name"])}
    if publisher.get("email"):
        out["vcard:hasEmail"] = {"@id": f"mailto:{publisher['email']}"}
    if publisher.get("phone"):
        out["vcard:hasTelephone"] = {"@id": "tel:" + str(publisher["phone"]).replace(" ", "")}
    if publisher.get("address"):
        out["vcard:hasAddress"] = {"@type": "vcard:Address", "vcard:street-address": str(publisher["address"])}
    return out


def _licence(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    for licence in meta.get("licenses", []):
        if licence.get("path"):
            return {"@id": licence["path"], "@type": "dct:LicenseDocument",
                    "dct:type": {"@id": "http://purl.org/adms/licencetype/Attribution", "@type": "skos:Concept",
                                 "skos:prefLabel": {"@value": "Attribution", "@language": "en"}},
                    "dct:title": _zh(str(licence.get("title") or licence.get("name", "")))}
    return None


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _date(when: date) -> dict[str, str]:
    return {"@value": when.isoformat(), "@type": "xsd:date"}
