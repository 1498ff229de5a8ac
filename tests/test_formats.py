"""The downloads convert a column at a time (formats.csv_column, json_column, database.sql_column);
each must give, value for value, what the per-value functions give (csv_cell, json_value, _cell),
whatever mix of types a column holds. And the files are the same however many workers write them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from skillbrands.database import _cell, sql_column
from skillbrands.export import export_downloads
from skillbrands.formats import (FORMULA_START, csv_cell, csv_chunk, json_chunk, json_value,
                                 column_chunks)
from skillbrands.pipeline import prepare
from skillbrands.tables import published_tables
from skillbrands.validate import reference_date

TEXT = st.one_of(st.text(max_size=8), st.sampled_from(FORMULA_START).map(lambda s: s + "SUM(1)"),
                 st.just(""), st.just('a,"b"\r\nc'))
VALUE = st.one_of(st.none(), TEXT, st.integers(-10**6, 10**6), st.booleans(), st.dates(),
                  st.floats(-2, 2, allow_nan=False), st.decimals(-100, 100, places=2, allow_nan=False))
#: columns of one type (with gaps) as the tables have them, and columns of any mix
COLUMN = st.one_of(*(st.lists(st.one_of(st.none(), kind), min_size=1, max_size=6)
                     for kind in (TEXT, st.integers(), st.booleans(), st.dates(), st.floats(-2, 2, allow_nan=False))),
                   st.lists(VALUE, min_size=1, max_size=6))


def _rows(columns: list[list]) -> list[list]:
    height = min(len(c) for c in columns)
    return [[c[i] for c in columns] for i in range(height)]


def _csv_per_value(rows: list[list], cell) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.lists(COLUMN, min_size=1, max_size=4))
def test_a_column_at_a_time_is_the_same_as_a_value_at_a_time(columns) -> None:
    rows = _rows(columns)
    chunks = list(column_chunks(rows, size=4))
    assert b"".join(csv_chunk(c) for c in chunks) == _csv_per_value(rows, csv_cell)
    names = [f"c{i}" for i in range(len(columns))]
    expected = json.dumps([{n: json_value(v) for n, v in zip(names, row)} for row in rows],
                          ensure_ascii=False, separators=(",", ":"))
    assert "[" + ",".join(json_chunk(names, c).decode("utf-8") for c in chunks) + "]" == expected
    for chunk in chunks:
        for values in chunk:
            converted = list(sql_column(values))
            assert converted == [_cell(v) for v in values]
            assert [type(v) for v in converted] == [type(_cell(v)) for v in values]


def test_numbers_dates_and_decimals_are_left_to_the_csv_module() -> None:
    columns = [(1, None, -5), (date(2024, 1, 2), None, date(2025, 12, 31)), (Decimal("0.90"), Decimal("85"), None)]
    assert csv_chunk(columns) == "1,2024-01-02,0.90\r\n,,85\r\n-5,2025-12-31,\r\n".encode()


def test_one_worker_or_two_write_the_same_files(repo: Path, tmp_path: Path) -> None:
    today = reference_date()
    prepared = prepare(repo, today)
    directory = prepared.directory
    assert directory is not None, prepared.issues
    written = {}
    for jobs in (1, 2):
        out = tmp_path / str(jobs)
        tables = published_tables(directory, [e.release for e in prepared.editions])
        paths, summary = export_downloads(directory, tables, today, "2025", lambda r, out=out: out / r, jobs)
        written[jobs] = {path: (out / path).read_bytes() for path in paths}
        assert {f.path for f in summary.bundles} <= set(paths)
    assert written[1] == written[2]
    assert sorted(written[1]) == sorted({*(f"data/{t.name}.{x}" for t in tables for x in ("csv", "json")),
                                         "data/skillbrands.xlsx", "data/skillbrands.sqlite",
                                         "data/skillbrands.datasette.json", "data/datapackage.json",
                                         "data/skillbrands.zip", "data/skillbrands.zip.sha256"})
