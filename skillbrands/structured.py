"""schema.org JSON-LD in the pages, for search engines and dataset search.

- `/data/`: a `Dataset` with its `distribution` (every download: CSV, JSON, Excel, SQLite,
  datapackage.json, zips), licence, temporal and spatial coverage and `variableMeasured`
  (each table's columns, with their Chinese titles and units);
- a brand page: an `EducationalOccupationalProgram` (provider, occupation by its code in the
  2022 classification, region, tier);
- an institution page: an `Organization` (credit code, address, phone, website).

`ld_json` is the template filter that embeds a document in `<script type="application/ld+json">`:
`<`, `>` and `&` are written as \\u escapes, so no value from the data can close the script.
`link(path)` gives each page's URLs: absolute with `--base-url`, else relative to the page.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping

from markupsafe import Markup

from .catalog import MEDIA_TYPES
from .model import Brand, Directory, Institution

Link = Callable[[str], str]
_UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}
#: institution kind -> the schema.org type (schools are educational organisations; others are organisations)
_ORGANIZATION_TYPES = {"school": "EducationalOrganization", "vocational_college": "CollegeOrUniversity",
                       "enterprise": "Corporation"}
OCCUPATION_SCHEME = "中华人民共和国职业分类大典（2022年版）"


def ld_json(document: Mapping[str, Any]) -> Markup:
    text = json.dumps({"@context": "https://schema.org", **document}, ensure_ascii=False, sort_keys=False)
    return Markup(text.translate(_UNSAFE))


def organization(institution: Institution, directory: Directory, link: Link) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": _ORGANIZATION_TYPES.get(institution.kind, "Organization"),
                           "name": institution.name, "url": link(f"institutions/{institution.institution_id}/"),
                           "identifier": {"@type": "PropertyValue", "propertyID": "统一社会信用代码",
                                          "value": institution.credit_code},
                           "address": {"@type": "PostalAddress", "addressCountry": "CN",
                                       "addressRegion": directory.place_name(institution.region.code),
                                       **({"streetAddress": institution.address} if institution.address else {})}}
    if institution.phone:
        out["telephone"] = institution.phone
    if institution.website:
        out["sameAs"] = institution.website
    return out


def program(brand: Brand, directory: Directory, link: Link) -> dict[str, Any]:
    out: dict[str, Any] = {
        "@type": "EducationalOccupationalProgram", "name": brand.name, "identifier": brand.brand_id,
        "url": link(f"brands/{brand.brand_id}/"),
        "provider": organization(brand.institution, directory, link),
        "areaServed": {"@type": "AdministrativeArea", "name": directory.place_name(brand.region.code),
                       "identifier": brand.region.code},
        "programType": directory.label("brands", "tier", brand.tier),
        "educationalCredentialAwarded": "职业技能等级证书或专项职业能力证书",
    }
    if brand.occupation_code:
        out["occupationalCategory"] = {"@type": "CategoryCode", "codeValue": brand.occupation_code,
                                       "name": brand.occupation_name, "inCodeSet": OCCUPATION_SCHEME}
    else:
        out["occupationalCategory"] = brand.occupation_name
    if brand.exit:
        out["endDate"] = brand.exit.exit_date.isoformat()
    out["startDate"] = brand.published_date.isoformat()
    return out


def dataset(directory: Directory, summary: Any, editions: Iterable[Any], bundles: Mapping[int, Any],
            link: Link) -> dict[str, Any]:
    meta = directory.meta
    settings = meta.get("skillbrands", {})
    years = sorted({b.published_year for b in directory.brands.values()}
                   | {o.year for b in directory.brands.values() for o in b.outcomes})
    files = [f for t in summary.tables for f in t.files] + list(summary.bundles) + [
        bundles[e.year] for e in editions if e.year in bundles]
    province = directory.regions.get(str(settings.get("province_code") or ""))
    out: dict[str, Any] = {
        "@type": "Dataset", "name": str(meta.get("title", "")), "description": str(meta.get("description", "")),
        "url": link("data/"), "version": summary.version, "inLanguage": "zh-CN", "isAccessibleForFree": True,
        "creator": {"@type": "GovernmentOrganization", "name": str(settings.get("publisher", ""))},
        "keywords": ["职业技能培训", "培训品牌", "就业率"],
        "distribution": [{"@type": "DataDownload", "name": f.path.removeprefix("data/"),
                          "encodingFormat": MEDIA_TYPES.get(f.format, ("application/octet-stream",))[0],
                          "contentUrl": link(f.path), "contentSize": f"{f.bytes} B"} for f in files],
        "variableMeasured": [{"@type": "PropertyValue", "name": f"{t.table.name}.{c.name}", "description": c.title,
                              **({"unitText": c.unit} if c.unit else {})}
                             for t in summary.tables for c in t.table.columns],
    }
    licence = next((l for l in meta.get("licenses", []) if l.get("path")), None)
    if licence:
        out["license"] = licence["path"]
    if years:
        out["temporalCoverage"] = f"{years[0]}/{years[-1]}"
    if province:
        out["spatialCoverage"] = {"@type": "Place", "name": province.name,
                                  "identifier": {"@type": "PropertyValue", "propertyID": "GB/T 2260",
                                                 "value": province.code}}
    if summary.created:
        out["dateModified"] = summary.created[:10]
    return out
