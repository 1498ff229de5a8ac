"""One serialiser per format for the tables `tables.py` describes: CSV, JSON, zip, datapackage.json.

(The workbook is `workbook.py`, the SQLite database `database.py`.) Every function is pure:
values in, bytes out, the same bytes for the same values, so two builds of one commit
publish byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping

from .tables import Column, Table

BOM = b"\xef\xbb\xbf"
#: what makes Excel, WPS and LibreOffice read a text cell as a formula (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class FileInfo:
    """A published file as the data dictionary and datapackage.json describe it."""

    path: str  # under the site root: data/brands.csv
    format: str
    bytes: int
    sha256: str

    @classmethod
    def of(cls, path: str, fmt: str, data: bytes) -> "FileInfo":
        return cls(path, fmt, len(data), hashlib.sha256(data).hexdigest())


# -- CSV ---------------------------------------------------------------------------

def csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """RFC 4180 CSV, CRLF, UTF-8 with a BOM so that Excel and WPS open Chinese text correctly.

    Text that a spreadsheet would run as a formula gets a leading `'` (csv_cell)."""
    return csv_text_bytes(header, ([csv_cell(value) for value in row] for row in rows))


def csv_text_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """Cells already written as text, in the same dialect as csv_bytes (frozen.py re-writes a frozen
    file's own cells this way to see that its bytes are the ones `freeze` wrote)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return BOM + buffer.getvalue().encode("utf-8")


def csv_value(value: Any) -> str:
    """A typed value as CSV text: true/false, rates to 4 decimals, ISO dates, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_cell(value: Any) -> str:
    """csv_value, with text that starts like a formula neutralised by a leading `'`.

    Only text is touched: a number, even a negative one, stays a number, because the
    type says so (an `int` is never prefixed); `+86-471-…` typed as text is prefixed."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return csv_value(value)


# -- JSON --------------------------------------------------------------------------

def json_value(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def dump_json(document: Any, *, compact: bool = False) -> bytes:
    """UTF-8 JSON; `compact` for data files (no indentation: a third smaller, faster to write)."""
    if compact:
        return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def json_bytes(meta: Mapping[str, Any], described: Table, rows: Iterable[list[Any]], **extra: Any) -> bytes:
    """A table as JSON: the metadata (title, licence, sources, sample notice), the fields, the rows."""
    names = described.header
    return dump_json({
        **meta, **extra, "name": described.name, "table_title": described.title, "description": described.description,
        "fields": [field_descriptor(c) for c in described.columns],
        "rows": [{name: json_value(value) for name, value in zip(names, row)} for row in rows],
    }, compact=True)


# -- Table Schema --------------------------------------------------------------------

def field_descriptor(column: Column) -> dict[str, Any]:
    out: dict[str, Any] = {"name": column.name, "title": column.title, "type": column.type,
                           "description": column.description}
    if column.unit:
        out["skillbrands:unit"] = column.unit
    if column.constraints:
        out["constraints"] = column.constraints
    if column.labels:
        out["enumLabels"] = dict(column.labels)
    return out


def schema_descriptor(table: Table) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [field_descriptor(c) for c in table.columns],
                              "missingValues": [""], "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        schema["foreignKeys"] = [{"fields": list(fk.fields),
                                  "reference": {"resource": fk.resource, "fields": list(fk.reference)}}
                                 for fk in table.foreign_keys]
    return schema


def resource_descriptor(table: Table, csv_file: FileInfo, relative: str, rows: int,
                        others: Iterable[FileInfo] = ()) -> dict[str, Any]:
    """A CSV file as a Tabular Data Resource; `others`: the same table in other formats."""
    out: dict[str, Any] = {
        "name": table.name, "path": relative, "profile": "tabular-data-resource", "title": table.title,
        "description": table.description, "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "bytes": csv_file.bytes, "hash": f"sha256:{csv_file.sha256}", "skillbrands:rows": rows,
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
        "schema": schema_descriptor(table),
    }
    alternates = [{"path": f.path.rsplit("/", 1)[-1], "format": f.format, "bytes": f.bytes,
                   "hash": f"sha256:{f.sha256}"} for f in others]
    if alternates:
        out["skillbrands:alternates"] = alternates
    return out


def created_stamp(today: date) -> str:
    """The build's reference date as RFC 3339, as datapackage.json's `created` wants it."""
    return datetime(today.year, today.month, today.day).isoformat() + "Z"


# -- zip -----------------------------------------------------------------------------

def zip_bytes(files: Iterable[tuple[str, bytes]], when: date) -> bytes:
    """A zip of (name, bytes), in the order given, every entry dated `when`: the same files, the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below mean what they say
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def sha256_line(name: str, data: bytes) -> bytes:
    """One line in sha256sum's format: `sha256sum -c` checks the download beside it."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode("ascii")
