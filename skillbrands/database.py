"""The tables as one SQLite database (sqlite-utils), ready for Datasette or any SQL client.

One table per published table with the schema's types (TEXT, INTEGER, REAL; booleans as
0/1, dates as ISO text), NOT NULL for required columns, the primary key, foreign keys
and an index on each foreign key. `_tables` and `_columns` hold every title,
description, unit and allowed value (with its Chinese label), so the file explains
itself; `datasette_metadata` gives the same as Datasette's metadata.json. Built in a
fresh temporary file in one fixed order, then VACUUMed: the same rows, the same bytes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Mapping

import sqlite_utils

from .tables import Table

_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "date": str}
BATCH = 5_000


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return round(value, 4)  # as in the CSV: 4 decimals
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _in_key_order(tables: list[tuple[Table, Iterable[list[Any]]]]) -> list[tuple[Table, Iterable[list[Any]]]]:
    """Referenced tables before the tables that refer to them (SQLite checks the names at creation)."""
    done: list[tuple[Table, Iterable[list[Any]]]] = []
    names: set[str] = set()
    waiting = list(tables)
    while waiting:
        for item in waiting:
            needs = {fk.resource for fk in item[0].foreign_keys} - {item[0].name}
            if needs <= names or not needs & {t.name for t, _ in waiting}:
                done.append(item)
                names.add(item[0].name)
                waiting.remove(item)
                break
    return done


def sqlite_bytes(tables: Iterable[tuple[Table, Iterable[list[Any]]]]) -> bytes:
    """The database file's bytes."""
    handle, path = tempfile.mkstemp(suffix=".sqlite")
    os.close(handle)
    try:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=OFF")  # a scratch file: nothing to roll back to
        connection.execute("PRAGMA page_size=4096")
        db = sqlite_utils.Database(connection)
        db["_tables"].create({"name": str, "title": str, "description": str, "primary_key": str, "rows": int},
                             pk="name", not_null=["title"])
        db["_columns"].create({"table_name": str, "position": int, "name": str, "title": str, "type": str,
                               "unit": str, "description": str, "constraints": str, "labels": str},
                              pk=("table_name", "name"), foreign_keys=[("table_name", "_tables", "name")])
        for table, rows in _in_key_order(list(tables)):
            required = [c.name for c in table.columns if c.required or c.name in table.primary_key]
            db[table.name].create(
                {c.name: _TYPES.get(c.type, str) for c in table.columns},
                pk=table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key,
                foreign_keys=[(fk.fields[0], fk.resource, fk.reference[0]) for fk in table.foreign_keys],
                not_null=required)
            for fk in table.foreign_keys:
                db[table.name].create_index(list(fk.fields), find_unique_name=True)
            count = 0
            with connection:
                connection.execute("BEGIN")
                batch: list[list[Any]] = []
                sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{c.name}{chr(34)}" for c in table.columns)}) '
                       f'VALUES ({", ".join("?" for _ in table.columns)})')
                for values in rows:
                    batch.append([_cell(v) for v in values])
                    if len(batch) >= BATCH:
                        connection.executemany(sql, batch)
                        count += len(batch)
                        batch.clear()
                connection.executemany(sql, batch)
                count += len(batch)
            db["_tables"].insert({"name": table.name, "title": table.title, "description": table.description,
                                  "primary_key": ",".join(table.primary_key), "rows": count})
            db["_columns"].insert_all([{
                "table_name": table.name, "position": index, "name": c.name, "title": c.title, "type": c.type,
                "unit": c.unit, "description": c.description,
                "constraints": json.dumps(c.constraints, ensure_ascii=False, sort_keys=True) if c.constraints else None,
                "labels": json.dumps(dict(c.labels), ensure_ascii=False) if c.labels else None,
            } for index, c in enumerate(table.columns, start=1)])
        connection.execute("VACUUM")
        connection.close()
        with open(path, "rb") as handle_:
            return handle_.read()
    finally:
        os.unlink(path)


def datasette_metadata(tables: Iterable[Table], meta: Mapping[str, Any], database: str) -> dict[str, Any]:
    """Datasette's metadata.json for the database: titles, licence, sources, and every column's description."""
    licences = meta.get("licenses") or [{}]
    sources = meta.get("sources") or [{}]
    return {
        "title": meta.get("title", ""),
        "description": meta.get("notice", ""),
        "license": licences[0].get("title") or licences[0].get("name", ""),
        "license_url": licences[0].get("path", ""),
        "source": "；".join(s.get("title", "") for s in sources),
        "databases": {database: {"tables": {
            table.name: {
                "title": table.title, "description": table.description,
                "columns": {c.name: f"{c.title}：{c.description}" + (f"（单位：{c.unit}）" if c.unit else "")
                            for c in table.columns},
            } for table in tables}}},
    }
