"""Open-data downloads under /data/: every table of `tables.py` in every format, and their description.

Each table as CSV (UTF-8 with BOM, CRLF, formula-safe) and JSON (rows and metadata);
all tables together as an Excel workbook (`skillbrands.xlsx`) and a SQLite database
(`skillbrands.sqlite`, with Datasette's metadata beside it); `datapackage.json`
describing every file with its size and SHA-256; and the whole package as one zip with
its SHA-256 beside it. `export_downloads` writes the files straight to disk and returns
their paths and a `DataSummary` (rows, sizes, digests, example values) for the /data/ page,
which is rendered afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .database import SqliteWriter, datasette_metadata
from .formats import (JSON_TAIL, FileInfo, HashedFile, column_chunks, created_stamp, csv_chunk, csv_header, dump_json,
                      json_chunk, json_head, resource_descriptor, sha256_text, ZipWriter)
from .model import Directory
from .tables import Table
from .workbook import write_xlsx
from .workers import in_background

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


def _first_values(found: dict[str, Any], table: Table, columns: list[Sequence[Any]]) -> None:
    """Fill in each column's first non-empty value from another chunk of its rows."""
    for column, values in zip(table.columns, columns):
        if column.name not in found:
            value = next((v for v in values if v not in (None, "")), None)
            if value is not None:
                found[column.name] = value


def export_downloads(directory: Directory, tables: list[Table], today: date, version: str,
                     place: Callable[[str], Path], jobs: int = 1) -> tuple[list[str], DataSummary]:
    """Write every download of /data/ to disk, each at `place(relpath)` (a new file's path; its
    folder may not exist yet), and return the relpaths written and the summary the /data/ page shows.

    Each table is read once, a chunk of rows at a time, and every chunk goes to its CSV, its JSON
    and the SQLite database before the next is made; the workbook, the slowest format, is written
    meanwhile by a forked worker (`jobs` ≥ 2) reading the tables on its own. The zip is then
    written from the files on disk. Nothing holds a whole file, or a whole table, in memory."""
    meta = metadata(directory)
    created = created_stamp(today)
    summary = DataSummary(version=version, created=created)
    paths: dict[str, Path] = {}

    def new(relpath: str) -> Path:
        path = paths[relpath] = place(relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    workbook = new(f"data/{WORKBOOK}")
    notes = _notes(directory, meta, version, today)
    resources = []
    folder = BUNDLE.rsplit(".", 1)[0]
    archive = new(f"data/{BUNDLE}")
    with ZipWriter(archive, today) as bundle:
        def pack(relpath: str) -> None:
            bundle.add(f"{folder}/{relpath.removeprefix('data/')}", paths[relpath])

        with in_background(lambda: write_xlsx(workbook, ((t, t.rows()) for t in tables), meta, today, notes), jobs):
            database = SqliteWriter(new(f"data/{DATABASE}"), tables)
            for table in tables:
                infos, rows, examples = _write_table(table, meta, new, database)
                summary.tables.append(TableFiles(table, rows, infos, examples))
                resources.append(resource_descriptor(table, infos[0], f"{table.name}.csv", rows, infos[1:]))
                pack(infos[0].path)
                pack(infos[1].path)
            database.close()
            datasette = dump_json(datasette_metadata(tables, meta, DATABASE.rsplit(".", 1)[0]))
            new(f"data/{DATASETTE}").write_bytes(datasette)
            pack(f"data/{DATABASE}")
            pack(f"data/{DATASETTE}")
        pack(f"data/{WORKBOOK}")  # the worker is done
        bundles = [FileInfo.of_file(workbook, f"data/{WORKBOOK}", "xlsx"),
                   FileInfo.of_file(paths[f"data/{DATABASE}"], f"data/{DATABASE}", "sqlite"),
                   FileInfo.of(f"data/{DATASETTE}", "json", datasette)]
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
        new("data/datapackage.json").write_bytes(described)
        bundles.append(FileInfo.of("data/datapackage.json", "json", described))
        pack("data/datapackage.json")
    zipped = FileInfo.of_file(archive, f"data/{BUNDLE}", "zip")
    new(f"data/{BUNDLE}.sha256").write_bytes(sha256_text(BUNDLE, zipped.sha256))
    summary.bundles = bundles + [zipped]
    return list(paths), summary


def _write_table(table: Table, meta: Mapping[str, Any], new: Callable[[str], Path],
                 database: SqliteWriter) -> tuple[tuple[FileInfo, FileInfo], int, dict[str, Any]]:
    """One pass over a table's rows, a chunk at a time, into its CSV, its JSON and the database:
    the two files' descriptions, the number of rows and each column's first non-empty value."""
    csv_path, json_path = f"data/{table.name}.csv", f"data/{table.name}.json"
    csv_file, json_file = HashedFile(new(csv_path)), HashedFile(new(json_path))
    csv_file.write(csv_header(table.header))
    json_file.write(json_head(meta, table))
    rows, examples = 0, {}
    for columns in column_chunks(table.rows()):
        csv_file.write(csv_chunk(columns))
        json_file.write((b"," if rows else b"") + json_chunk(table.header, columns))
        database.insert(table, columns)
        _first_values(examples, table, columns)
        rows += len(columns[0])
    json_file.write(JSON_TAIL)
    infos = (csv_file.close(csv_path, "csv"), json_file.close(json_path, "json"))
    return infos, rows, {c.name: examples.get(c.name) for c in table.columns}


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

