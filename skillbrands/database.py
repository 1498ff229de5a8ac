"""The tables as one SQLite database (sqlite-utils), ready for Datasette or any SQL client.

One table per published table with the schema's types (TEXT, INTEGER, REAL; booleans as
0/1, dates as ISO text), NOT NULL for required columns, the primary key, foreign keys
and an index on each foreign key. `_tables` and `_columns` hold every title,
description, unit and allowed value (with its Chinese label), so the file explains
itself; `datasette_metadata` gives the same as Datasette's metadata.json. Built in a
new file, the tables created in one fixed order, then VACUUMed: the same rows, the same bytes.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import sqlite_utils

from .tables import Table

_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "date": str}


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


_AS_IS = frozenset({int, str, type(None)})


def sql_column(values: Sequence[Any]) -> Sequence[Any]:
    """A column with each value as _cell gives it, one look at the column's types instead of a call per value."""
    kinds = set(map(type, values))
    if kinds <= _AS_IS:
        return values
    if kinds <= {float, type(None)}:
        return [v if v is None else round(v, 4) for v in values]
    if kinds <= {bool, type(None)}:
        return [v if v is None else int(v) for v in values]
    return [_cell(v) for v in values]


def _in_key_order(tables: list[Table]) -> list[Table]:
    """Referenced tables before the tables that refer to them (SQLite checks the names at creation)."""
    done: list[Table] = []
    names: set[str] = set()
    waiting = list(tables)
    while waiting:
        for item in waiting:
            needs = {fk.resource for fk in item.foreign_keys} - {item.name}
            if needs <= names or not needs & {t.name for t in waiting}:
                done.append(item)
                names.add(item.name)
                waiting.remove(item)
                break
    return done


class SqliteWriter:
    """The database, written into a new file at `path`: `create` every table, `insert` rows
    a chunk at a time (in any order: foreign keys are declared, not enforced while loading),
    then `close`, which describes the tables in `_tables` and `_columns` and VACUUMs.

    sqlite-utils makes the schema (types, keys, indexes); the rows go in with plain
    `executemany` inside one transaction."""

    def __init__(self, path: Path, tables: Iterable[Table]):
        self.path = path
        self.tables = _in_key_order(list(tables))
        self.counts: dict[str, int] = {t.name: 0 for t in self.tables}
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=OFF")  # a new file: nothing to roll back to
        self.connection.execute("PRAGMA page_size=4096")
        self.db = sqlite_utils.Database(self.connection)
        self.db["_tables"].create({"name": str, "title": str, "description": str, "primary_key": str, "rows": int},
                                  pk="name", not_null=["title"])
        self.db["_columns"].create({"table_name": str, "position": int, "name": str, "title": str, "type": str,
                                    "unit": str, "description": str, "constraints": str, "labels": str},
                                   pk=("table_name", "name"), foreign_keys=[("table_name", "_tables", "name")])
        self.sql: dict[str, str] = {}
        for table in self.tables:
            required = [c.name for c in table.columns if c.required or c.name in table.primary_key]
            self.db[table.name].create(
                {c.name: _TYPES.get(c.type, str) for c in table.columns},
                pk=table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key,
                foreign_keys=[(fk.fields[0], fk.resource, fk.reference[0]) for fk in table.foreign_keys],
                not_null=required)
            for fk in table.foreign_keys:
                self.db[table.name].create_index(list(fk.fields), find_unique_name=True)
            self.sql[table.name] = (
                f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{c.name}{chr(34)}" for c in table.columns)}) '
                f'VALUES ({", ".join("?" for _ in table.columns)})')
        self.connection.execute("BEGIN")

    def insert(self, table: Table, columns: list[Sequence[Any]]) -> None:
        """Some rows of `table`, as columns (formats.column_chunks)."""
        rows = list(zip(*(sql_column(c) for c in columns)))
        self.connection.executemany(self.sql[table.name], rows)
        self.counts[table.name] += len(rows)

    def close(self) -> None:
        self.connection.execute("COMMIT")
        for table in self.tables:
            self.db["_tables"].insert({"name": table.name, "title": table.title, "description": table.description,
                                       "primary_key": ",".join(table.primary_key), "rows": self.counts[table.name]})
            self.db["_columns"].insert_all([{
                "table_name": table.name, "position": index, "name": c.name, "title": c.title, "type": c.type,
                "unit": c.unit, "description": c.description,
                "constraints": json.dumps(c.constraints, ensure_ascii=False, sort_keys=True) if c.constraints else None,
                "labels": json.dumps(dict(c.labels), ensure_ascii=False) if c.labels else None,
            } for index, c in enumerate(table.columns, start=1)])
        self.connection.execute("VACUUM")
        self.connection.close()

    def abandon(self) -> None:
        self.connection.close()


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
