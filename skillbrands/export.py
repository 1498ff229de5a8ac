"""Open-data downloads under /data/: each table as CSV (UTF-8 with BOM, for Excel) and JSON.

Every column is described once, in `DOWNLOADS`, and that description feeds the CSV
header, the JSON `fields`, the download's `datapackage.json` and the /data/ page, so
they cannot disagree. Derived columns (rates) are computed from counts here.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Iterator

from .model import Directory


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    type: str
    description: str
    get: Callable[[Any], Any]


@dataclass(frozen=True)
class Download:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[Directory], list[Any]]


def _schema_field(directory: Directory, resource: str, name: str) -> dict[str, Any]:
    for f in directory.resource(resource)["schema"]["fields"]:
        if f["name"] == name:
            return f
    raise KeyError(name)


def _from_schema(directory: Directory, resource: str, name: str, get: Callable[[Any], Any]) -> Column:
    f = _schema_field(directory, resource, name)
    return Column(name, f.get("title", name), f.get("type", "string"), f.get("description", ""), get)


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, name)


def downloads(directory: Directory) -> list[Download]:
    """The downloads this site publishes, with every column described."""
    d = directory

    def brand_cols(*names: str) -> list[Column]:
        return [_from_schema(d, "brands", n, _attr(n)) for n in names]

    brand_columns = (
        *brand_cols("brand_id", "name"),
        _from_schema(d, "brands", "institution_id", lambda b: b.institution.institution_id),
        Column("institution_name", "培训机构名称", "string", "举办机构的全称。", lambda b: b.institution.name),
        *brand_cols("occupation_code", "occupation_name", "tier"),
        _from_schema(d, "brands", "region_code", lambda b: b.region.code),
        Column("region_name", "发布地区", "string", "发布该品牌的人社部门所在地。", lambda b: b.region.name),
        *brand_cols("focus_area", "key_support", "key_support_category", "recommended_from",
                    "published_year", "published_date", "document_no"),
        Column("evaluated_year", "评价年度", "integer", "对照评价标准所用的培训数据年度（公布前一年）。",
               lambda b: d.assessments[b.brand_id].year),
        Column("verdict", "评价结论", "string",
               "meets 符合标准；meets_key_support 按重点扶持条件符合；does_not_meet 未达到标准；no_data 无法评价（无数据或未设定标准）。"
               "标准见 criteria.csv，按发布地区和层级确定。",
               lambda b: d.assessments[b.brand_id].verdict),
        Column("verdict_reason", "评价说明", "string", "评价结论的理由，列出未达到的指标、本品牌的值和标准。",
               lambda b: d.assessments[b.brand_id].reason),
        Column("status", "目录状态", "string", "listed 在目录中；exited 已退出（见 exits 表）。",
               lambda b: "exited" if b.exit else "listed"),
        Column("exit_date", "退出日期", "date", "已退出品牌的退出日期，未退出为空。",
               lambda b: b.exit.exit_date if b.exit else None),
    )
    institution_columns = (
        *(_from_schema(d, "institutions", n, _attr(n)) for n in ("institution_id", "name", "credit_code", "kind")),
        _from_schema(d, "institutions", "region_code", lambda i: i.region.code),
        Column("region_name", "所在地区", "string", "机构所在地的行政区划名称。", lambda i: i.region.name),
        *(_from_schema(d, "institutions", n, _attr(n))
          for n in ("address", "phone", "website", "status", "status_date", "status_reason")),
        Column("brand_count", "品牌数", "integer", "该机构列入目录（含已退出）的品牌数。",
               lambda i: len(d.brands_by_institution.get(i.institution_id, ()))),
    )
    outcome_columns = (
        _from_schema(d, "outcomes", "brand_id", lambda r: r[0].brand_id),
        Column("brand_name", "品牌名称", "string", "培训品牌的名称。", lambda r: r[0].name),
        *(_from_schema(d, "outcomes", n, (lambda n: lambda r: getattr(r[1], n))(n))
          for n in ("year", "trainees", "passed", "employed", "subsidised_key_group", "order_based")),
        Column("pass_rate", "培训合格率", "number", "合格人数 ÷ 培训人数，保留4位小数；由人数计算，不是填报值。",
               lambda r: r[1].pass_rate),
        Column("employment_rate", "培训后就业率", "number",
               "培训后三个月内就业人数 ÷ 培训人数，保留4位小数；由人数计算，不是填报值。",
               lambda r: r[1].employment_rate),
        Column("small_cohort", "小样本", "boolean",
               f"培训人数少于 {d.small_cohort} 人时为 true：人数少时比例波动大，解读时请谨慎。",
               lambda r: r[1].trainees < d.small_cohort),
    )
    exit_columns = (
        _from_schema(d, "exits", "brand_id", lambda b: b.brand_id),
        Column("brand_name", "品牌名称", "string", "培训品牌的名称。", lambda b: b.name),
        Column("institution_name", "培训机构名称", "string", "举办机构的全称。", lambda b: b.institution.name),
        _from_schema(d, "brands", "tier", lambda b: b.tier),
        Column("region_name", "发布地区", "string", "发布该品牌的人社部门所在地。", lambda b: b.region.name),
        *(_from_schema(d, "exits", n, (lambda n: lambda b: getattr(b.exit, n))(n))
          for n in ("exit_date", "reason", "detail", "document_no")),
    )
    return [
        Download("brands", "培训品牌", "目录中的全部品牌（含已退出的），每行一个品牌，附机构和地区名称。",
                 brand_columns, lambda d: list(d.brands.values())),
        Download("institutions", "培训机构", "举办品牌的培训机构及其状态（正常、暂停、已移出）。",
                 institution_columns, lambda d: list(d.institutions.values())),
        Download("outcomes", "年度培训成效", "每个品牌每年的培训人数、合格人数、就业人数，以及由此计算的合格率和就业率。",
                 outcome_columns, lambda d: [(b, o) for b in d.brands.values() for o in b.outcomes]),
        Download("exits", "退出品牌", "经动态调整退出目录的品牌，含退出日期、原因和文号。",
                 exit_columns, lambda d: d.exits),
    ]


def csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """RFC 4180 CSV, UTF-8 with a BOM so that Excel opens Chinese text correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, date):
        return value.isoformat()
    return value


def metadata(directory: Directory) -> dict[str, Any]:
    meta = directory.meta
    settings = meta.get("skillbrands", {})
    out: dict[str, Any] = {"title": meta.get("title", ""), "publisher": settings.get("publisher", "")}
    if settings.get("sample"):
        out["sample"] = True
        out["notice"] = settings.get("sample_notice", "示例数据")
    out["licenses"] = meta.get("licenses", [])
    out["sources"] = meta.get("sources", [])
    return out


def export_downloads(directory: Directory, specs: list[Download]) -> Iterator[tuple[str, bytes]]:
    """Each download as CSV and JSON, then a datapackage.json that describes them."""
    meta = metadata(directory)
    resources = []
    for spec in specs:
        rows = spec.rows(directory)
        yield f"data/{spec.name}.csv", csv_bytes([c.name for c in spec.columns],
                                                 ([c.get(row) for c in spec.columns] for row in rows))

        document = {
            **meta,
            "name": spec.name,
            "table_title": spec.title,
            "description": spec.description,
            "fields": [{"name": c.name, "title": c.title, "type": c.type, "description": c.description}
                       for c in spec.columns],
            "rows": [{c.name: json_value(c.get(row)) for c in spec.columns} for row in rows],
        }
        yield f"data/{spec.name}.json", dump_json(document, compact=True)
        resources.append({
            "name": spec.name, "path": f"{spec.name}.csv", "title": spec.title, "description": spec.description,
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
            "schema": {"fields": [{"name": c.name, "title": c.title, "type": c.type, "description": c.description}
                                  for c in spec.columns]},
        })
    package = {"profile": "data-package", "name": directory.meta.get("name", "skillbrands"), **meta,
               "description": directory.meta.get("description", ""), "resources": resources}
    yield "data/datapackage.json", dump_json(package)


def dump_json(document: Any, *, compact: bool = False) -> bytes:
    """UTF-8 JSON; `compact` for data files (no indentation: a third smaller, faster to write)."""
    if compact:
        return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

