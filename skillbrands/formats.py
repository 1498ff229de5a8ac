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
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .tables import Column, Table

BOM = b"\xef\xbb\xbf"
#: what makes Excel, WPS and LibreOffice read a text cell as a formula (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: rows converted and written at a time: large enough that a column costs one call, small enough to stream
CHUNK = 20_000
_BLOCK = 1 << 20
JSON_TAIL = b"]}\n"
_NONE = type(None)
_CSV_AS_IS = frozenset({int, Decimal, date, _NONE})
_JSON_AS_IS = frozenset({str, int, bool, _NONE})
_TEXT = frozenset({str, _NONE})
_FLOAT = frozenset({float, _NONE})
_BOOLEAN = frozenset({bool, _NONE})


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

    @classmethod
    def of_file(cls, path: Path, relpath: str = "", fmt: str = "") -> "FileInfo":
        """The same for a file on disk, read a megabyte at a time."""
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
        return cls(relpath, fmt, path.stat().st_size, digest.hexdigest())


# -- CSV ---------------------------------------------------------------------------

def csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """RFC 4180 CSV, CRLF, UTF-8 with a BOM so that Excel and WPS open Chinese text correctly.

    Text that a spreadsheet would run as a formula gets a leading `'` (csv_cell)."""
    return b"".join([csv_header(header), *(csv_chunk(columns) for columns in column_chunks(rows))])


def csv_text_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """Cells already written as text, in the same dialect as csv_bytes (frozen.py re-writes a frozen
    file's own cells this way to see that its bytes are the ones `freeze` wrote)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return csv_header(header) + buffer.getvalue().encode("utf-8")


def csv_header(header: list[str]) -> bytes:
    """The start of a CSV file: the BOM and the header line."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(header)
    return BOM + buffer.getvalue().encode("utf-8")


def csv_chunk(columns: list[Sequence[Any]]) -> bytes:
    """The CSV lines of some rows, given as columns (column_chunks): each value as csv_cell writes it."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(zip(*(csv_column(c) for c in columns)))
    return buffer.getvalue().encode("utf-8")


def column_chunks(rows: Iterable[Sequence[Any]], size: int = CHUNK) -> Iterator[list[Sequence[Any]]]:
    """The rows, `size` at a time, as columns: each format converts a column at a time, and
    no more than one chunk of a national table is held in memory."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield list(zip(*chunk))


def csv_column(values: Sequence[Any]) -> Sequence[Any]:
    """A column as the csv module should write it, so that every cell reads as csv_cell (csv_value) gives it.

    One look at the column's types instead of a function call per value: the csv module
    itself writes str(value) for an int, a Decimal or a date (ISO) and nothing for None,
    which is what csv_value gives; only text, floats and booleans need converting."""
    kinds = set(map(type, values))
    if kinds <= _CSV_AS_IS:
        return values
    if kinds <= _TEXT:
        return [("'" + v) if v and v.startswith(FORMULA_START) else v for v in values]
    if kinds <= _FLOAT:
        return [v if v is None else f"{v:.4f}" for v in values]
    if kinds <= _BOOLEAN:
        return [v if v is None else ("true" if v else "false") for v in values]
    return [csv_cell(v) for v in values]


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
    chunks = [json_chunk(names, columns) for columns in column_chunks(rows)]
    return json_head(meta, described, **extra) + b",".join(chunks) + JSON_TAIL


def json_head(meta: Mapping[str, Any], described: Table, **extra: Any) -> bytes:
    """A JSON table up to its rows: `json_head + ",".join(json_chunk …) + JSON_TAIL` is the whole file,
    the bytes dump_json(…, compact=True) gives for the same document with `rows` last."""
    head = dump_json({
        **meta, **extra, "name": described.name, "table_title": described.title, "description": described.description,
        "fields": [field_descriptor(c) for c in described.columns],
    }, compact=True)
    return head[:-len(b"}\n")] + b',"rows":['


def json_chunk(names: list[str], columns: list[Sequence[Any]]) -> bytes:
    """Some rows (as columns, column_chunks) as JSON objects separated by commas, without brackets."""
    rows = [dict(zip(names, row)) for row in zip(*(json_column(c) for c in columns))]
    return dump_json(rows, compact=True)[1:-len(b"]\n")]


def json_column(values: Sequence[Any]) -> Sequence[Any]:
    """A column with each value as json_value gives it; text, integers and booleans are already JSON."""
    kinds = set(map(type, values))
    if kinds <= _JSON_AS_IS:
        return values
    if kinds <= _FLOAT:
        return [v if v is None else round(v, 4) for v in values]
    return [json_value(v) for v in values]


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
            archive.writestr(_zip_entry(name, when), data, compresslevel=9)
    return buffer.getvalue()


class ZipWriter:
    """A zip written to `target` from files on disk, added in order (`add(name in the zip, path)`),
    each read and compressed a megabyte at a time; every entry dated `when`, so the same files give
    the same bytes. zlib's default level (6): at 20,000 brands it takes a third of the time of
    level 9 for a zip 2 % larger."""

    def __init__(self, target: Path, when: date):
        self.archive = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)
        self.when = when

    def add(self, name: str, path: Path) -> None:
        entry = _zip_entry(name, self.when)
        entry.file_size = path.stat().st_size  # known before writing: zip64 only when needed
        with open(path, "rb") as source, self.archive.open(entry, "w") as member:
            shutil.copyfileobj(source, member, _BLOCK)

    def __enter__(self) -> "ZipWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.archive.close()


def _zip_entry(name: str, when: date) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the permissions below mean what they say
    info.external_attr = 0o644 << 16
    return info


class HashedFile:
    """A file written in pieces, counting its bytes and its SHA-256 as they go by."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "wb")
        self.hash = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.hash.update(data)
        self.bytes += len(data)

    def close(self, relpath: str, fmt: str) -> FileInfo:
        self.handle.close()
        return FileInfo(relpath, fmt, self.bytes, self.hash.hexdigest())


def sha256_line(name: str, data: bytes) -> bytes:
    """One line in sha256sum's format: `sha256sum -c` checks the download beside it."""
    return sha256_text(name, hashlib.sha256(data).hexdigest())


def sha256_text(name: str, digest: str) -> bytes:
    """The same line from a digest already known."""
    return f"{digest}  {name}\n".encode("ascii")
