"""The workbook's rows are written by workbook._Rows, not cell by cell through xlsxwriter (the
per-cell calls were most of a national build's downloads). These tests hold the fast writer to
exactly the bytes xlsxwriter writes when every cell goes through its own write_* methods, on the
sample's tables and on generated values (control characters, _xHHHH_ look-alikes, whitespace,
markup, very long text, big numbers, dates, booleans, empty cells)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from skillbrands import workbook
from skillbrands.tables import Column, Table, published_tables
from skillbrands.validate import load_package
from skillbrands.model import build_directory
from skillbrands.editions import compute_editions, releases_from

TODAY = date(2026, 6, 30)
META = {"title": "测试", "publisher": "测试单位"}
NOTES = [("标题", "测试")]


class PerCell(workbook._Rows):
    """The reference: every cell through xlsxwriter's own write_* calls, as the workbook was
    written before _Rows (the row table, its escaping and its formats)."""

    def write(self, rows) -> None:
        sheet, day, rate, formats = self.sheet, self.styles[0], self.styles[1], self.styles[2:]
        number = 0
        for values in rows:
            number += 1
            for col, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(number, col, value)
                elif isinstance(value, (int, Decimal)):
                    sheet.write_number(number, col, float(value) if isinstance(value, Decimal) else value)
                elif isinstance(value, float):
                    sheet.write_number(number, col, round(value, 4), rate)
                elif isinstance(value, date):
                    sheet.write_datetime(number, col, datetime(value.year, value.month, value.day), day)
                else:
                    sheet.write_string(number, col, str(value), formats[col])
                if self.widths is not None and number <= 200:
                    self.widths[col] = max(self.widths[col], workbook.text_width(workbook._shown(value)))
        self.rows = number


def _both(tmp_path: Path, tables, monkeypatch) -> tuple[bytes, bytes]:
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    workbook.write_xlsx(fast, ((t, t.rows()) for t in tables), META, TODAY, NOTES)
    with monkeypatch.context() as patch:
        patch.setattr(workbook, "_Rows", PerCell)
        workbook.write_xlsx(slow, ((t, t.rows()) for t in tables), META, TODAY, NOTES)
    return fast.read_bytes(), slow.read_bytes()


def _sample_tables(tmp_path: Path) -> list[Table]:
    loaded = load_package(REPO, TODAY)
    directory = build_directory(loaded.descriptor, loaded.tables, loaded.assessments)
    editions = compute_editions(directory, releases_from(loaded.tables.get("releases", [])))
    return published_tables(directory, [e.release for e in editions])


def test_the_sample_workbook_is_the_bytes_xlsxwriter_writes_cell_by_cell(tmp_path: Path, monkeypatch) -> None:
    tables = _sample_tables(tmp_path)
    fast, slow = _both(tmp_path, tables, monkeypatch)
    assert fast == slow
    book = openpyxl.load_workbook(tmp_path / "fast.xlsx")
    # every table's rows are there, in order (a plain count of the table's rows)
    for table in tables:
        assert book[table.name].max_row == 1 + sum(1 for _ in table.rows())


def _table(columns: list[tuple[str, str]], rows: list[list[Any]]) -> Table:
    cols = tuple(Column(name, name, kind, "", (lambda i: (lambda row: row[i]))(n)) for n, (name, kind) in
                 enumerate(columns))
    return Table("t", "t", "", cols, (), (), lambda: rows)


PIECES = st.sampled_from(["_x0041_", "_X00ff_", "_x00zz_", "&", "<", ">", "\"", " ", "\t", "\n", "\r", "\x00", "\x0b",
                          "\x1f", "\x85", "\u3000", "\ufffe", "\uffff", "=SUM(1)", "甲"])
TEXT = st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=4) | PIECES, max_size=5).map("".join)
CELL = {
    "string": st.none() | TEXT,
    "integer": st.none() | st.integers(-10**20, 10**20) | st.booleans(),
    "number": st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64) | st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6),
    "date": st.none() | st.dates(),
}


@st.composite
def tables(draw) -> Table:
    kinds = draw(st.lists(st.sampled_from(sorted(CELL)), min_size=1, max_size=5))
    columns = [(f"c{i}", kind) for i, kind in enumerate(kinds)]
    rows = draw(st.lists(st.tuples(*[CELL[k] for k in kinds]).map(list), max_size=8))
    return _table(columns, rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_any_values_give_the_bytes_xlsxwriter_writes_cell_by_cell(table: Table, tmp_path: Path, monkeypatch) -> None:
    fast, slow = _both(tmp_path, [table], monkeypatch)
    assert fast == slow


def test_long_text_is_cut_at_excels_limit_like_xlsxwriter(tmp_path: Path, monkeypatch) -> None:
    rows = [["甲" * 40_000], ["😀" * 20_000], ["a" * 32_767], [" x "], [""]]
    fast, slow = _both(tmp_path, [_table([("c", "string")], rows)], monkeypatch)
    assert fast == slow
    cells = [row[0] for row in openpyxl.load_workbook(tmp_path / "fast.xlsx")["t"].iter_rows(min_row=2,
                                                                                                values_only=True)]
    assert len(cells[0]) == 32_767 and len(cells[2]) == 32_767 and cells[3] == " x "


def test_a_table_longer_than_a_sheet_goes_on_to_a_second_sheet(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(workbook, "SHEET_ROWS", 3)
    rows = [[str(n), n] for n in range(7)]
    fast, slow = _both(tmp_path, [_table([("id", "string"), ("n", "integer")], rows)], monkeypatch)
    assert fast == slow
    book = openpyxl.load_workbook(tmp_path / "fast.xlsx")
    assert book.sheetnames == ["说明", "t", "t_2", "t_3"]
    values = [row for name in ("t", "t_2", "t_3") for row in book[name].iter_rows(min_row=2, values_only=True)]
    assert values == [(str(n), n) for n in range(7)]


def test_exactly_a_sheet_of_rows_makes_no_empty_second_sheet(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(workbook, "SHEET_ROWS", 3)
    fast, slow = _both(tmp_path, [_table([("id", "string")], [["a"], ["b"], ["c"]])], monkeypatch)
    assert fast == slow
    assert openpyxl.load_workbook(tmp_path / "fast.xlsx").sheetnames == ["说明", "t"]
