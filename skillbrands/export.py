"""Open-data downloads under /data/: every table of `tables.py` in every format, and their description.

Each table as CSV (UTF-8 with BOM, CRLF, formula-safe) and JSON (rows and metadata);
all tables together as an Excel workbook (`skillbrands.xlsx`) and a SQLite database
(`skillbrands.sqlite`, with Datasette's metadata beside it); `datapackage.json`
describing every file with its size and SHA-256; and the whole package as one zip with
its SHA-256 beside it. `export_downloads` returns the files and a `DataSummary` (rows,
sizes, digests, example values) for the /data/ page, which is rendered afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from .database import datasette_metadata, sqlite_bytes
from .formats import (FileInfo, created_stamp, csv_bytes, dump_json, json_bytes, resource_descriptor, sha256_line,
                      zip_bytes)
from .model import Directory
from .tables import Table
from .workbook import xlsx_bytes

WORKBOOK = "skillbrands.xlsx"
DATABASE = "skillbrands.sqlite"
DATASETTE = "skillbrands.datasette.json"
BUNDLE = "skillbrands.zip"


@dataclass(frozen=True)
class TableFiles:
    """A published table and what the data dictionary says about its files."""

    table: Table
    rows: int
    files: tuple[FileInfo, ...]  # csv, json
    examples: Mapping[str, Any]  # column -> the first non-empty value


@dataclass
class DataSummary:
    tables: list[TableFiles] = field(default_factory=list)
    bundles: list[FileInfo] = field(default_factory=list)  # workbook, database, datapackage.json, zip
    version: str = ""
    created: str = ""


def metadata(directory: Directory) -> dict[str, Any]:
    """What every JSON download carries about itself: title, publisher, sample notice, licence, sources."""
    meta = directory.meta
    settings = meta.get("skillbrands", {})
    out: dict[str, Any] = {"title": meta.get("title", ""), "publisher": settings.get("publisher", "")}
    if settings.get("sample"):
        out["sample"] = True
        out["notice"] = settings.get("sample_notice", "示例数据")
    out["licenses"] = meta.get("licenses", [])
    out["sources"] = meta.get("sources", [])
    return out


def package_head(directory: Directory, version: str, created: str) -> dict[str, Any]:
    """The top of a datapackage.json: name, title, version, created, licence, sources, publisher."""
    meta = metadata(directory)
    publisher = directory.meta.get("publisher") or {}
    head: dict[str, Any] = {"profile": "data-package", "name": directory.meta.get("name", "skillbrands"),
                            **meta, "description": directory.meta.get("description", ""),
                            "version": version, "created": created}
    if publisher.get("name"):
        contributor = {"title": publisher["name"], "role": "publisher"}
        if publisher.get("email"):
            contributor["email"] = publisher["email"]
        head["contributors"] = [contributor]
    return head


def _examples(table: Table, rows: list[list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for index, column in enumerate(table.columns):
        out[column.name] = next((row[index] for row in rows if row[index] not in (None, "")), None)
    return out


def export_downloads(directory: Directory, tables: list[Table], today: date,
                     version: str) -> tuple[list[tuple[str, bytes]], DataSummary]:
    """Every download of /data/ as (path, bytes), and the summary the /data/ page shows."""
    meta = metadata(directory)
    created = created_stamp(today)
    summary = DataSummary(version=version, created=created)
    files: list[tuple[str, bytes]] = []
    resources = []
    everything: list[tuple[Table, list[list[Any]]]] = []
    for table in tables:
        rows = list(table.rows())
        everything.append((table, rows))
        data_csv = csv_bytes(table.header, rows)
        data_json = json_bytes(meta, table, rows)
        infos = (FileInfo.of(f"data/{table.name}.csv", "csv", data_csv),
                 FileInfo.of(f"data/{table.name}.json", "json", data_json))
        files += [(infos[0].path, data_csv), (infos[1].path, data_json)]
        summary.tables.append(TableFiles(table, len(rows), infos, _examples(table, rows)))
        resources.append(resource_descriptor(table, infos[0], f"{table.name}.csv", len(rows), infos[1:]))

    notes = _notes(directory, meta, version, today)
    workbook = xlsx_bytes(everything, meta, today, notes)
    database = sqlite_bytes(everything)
    datasette = dump_json(datasette_metadata(tables, meta, DATABASE.rsplit(".", 1)[0]))
    bundles = [FileInfo.of(f"data/{WORKBOOK}", "xlsx", workbook), FileInfo.of(f"data/{DATABASE}", "sqlite", database),
               FileInfo.of(f"data/{DATASETTE}", "json", datasette)]
    files += [(f"data/{WORKBOOK}", workbook), (f"data/{DATABASE}", database), (f"data/{DATASETTE}", datasette)]
    package = {**package_head(directory, version, created), "resources": resources,
               "skillbrands:downloads": [
                   {"path": f.path.removeprefix("data/"), "format": f.format, "bytes": f.bytes,
                    "hash": f"sha256:{f.sha256}", "title": title}
                   for f, title in zip(bundles, ("全部表格的 Excel 工作簿（每表一个工作表，另有“说明”）",
                                                 "全部表格的 SQLite 数据库（可用 Datasette 打开）",
                                                 "SQLite 数据库的 Datasette 元数据（datasette -m）"))],
               "skillbrands:bundle": {"path": BUNDLE, "sha256": f"{BUNDLE}.sha256",
                                      "title": "整包下载：以上全部文件的 zip"}}
    described = dump_json(package)
    files.append(("data/datapackage.json", described))
    bundles.append(FileInfo.of("data/datapackage.json", "json", described))
    folder = BUNDLE.rsplit(".", 1)[0]
    archive = zip_bytes(((f"{folder}/{path.removeprefix('data/')}", data) for path, data in files), today)
    files += [(f"data/{BUNDLE}", archive), (f"data/{BUNDLE}.sha256", sha256_line(BUNDLE, archive))]
    bundles.append(FileInfo.of(f"data/{BUNDLE}", "zip", archive))
    summary.bundles = bundles
    return files, summary


def _notes(directory: Directory, meta: Mapping[str, Any], version: str, today: date) -> list[tuple[str, str]]:
    notes = [("标题", str(meta.get("title", ""))), ("发布单位", str(meta.get("publisher", "")))]
    if meta.get("sample"):
        notes.append(("注意", str(meta.get("notice", ""))))
    notes += [("版本", version), ("生成日期", today.isoformat()),
              ("许可", "；".join(str(l.get("title") or l.get("name", "")) for l in meta.get("licenses", []))),
              ("来源", "；".join(str(s.get("title", "")) + (f"（{s['description']}）" if s.get("description") else "")
                               for s in meta.get("sources", []))),
              ("比例", "合格率 = 合格人数 ÷ 培训人数；就业率 = 培训后三个月内就业人数 ÷ 培训人数；由人数计算，不是填报值。"),
              ("编号和代码", "编号、统一社会信用代码、行政区划代码、职业代码均为文本，请勿转为数字。")]
    return notes

