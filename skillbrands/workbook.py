"""The tables as one Excel workbook (xlsxwriter): a 说明 sheet, then one sheet per table.

Every text cell is written with `write_string`, so no value can become a formula and
no code loses a digit: IDs, credit codes, region codes and occupation codes stay text
(never 9.1E+17, never 15 without its leading digits), while counts and rates are
numbers and dates are dates. Chinese headers, a frozen header row, column widths that
fit. The workbook's dates (document properties and the zip entries inside the file)
are the build's reference date, so the same commit gives the same bytes.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

import xlsxwriter

from .tables import Table

#: rows a sheet holds besides its header (Excel's limit is 1,048,576)
SHEET_ROWS = 1_048_575
_WIDEST = 60  # characters


def text_width(text: str) -> int:
    """Display width in Excel's character units: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(path: Path, tables: Iterable[tuple[Table, Iterable[list[Any]]]], meta: Mapping[str, Any],
               today: date, notes: list[tuple[str, str]]) -> None:
    """The workbook, written to `path`: 说明 (what the file is, then every column of every sheet) and a
    sheet per table, whose rows are read once, as they are written.

    `notes`: (label, text) lines for the top of 说明 (title, licence, sources, sample notice)."""
    created = datetime(today.year, today.month, today.day)
    # constant_memory: rows are streamed to disk, so a national table does not sit in memory
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": str(meta.get("title", "")), "author": str(meta.get("publisher", "")),
                         "created": created, "comments": str(meta.get("notice", ""))})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEEEEE"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    rate = book.add_format({"num_format": "0.0000"})
    text = book.add_format({"num_format": "@"})  # shown and typed as text in Excel, WPS and LibreOffice
    listing = list(tables)

    about = book.add_worksheet("说明")
    about.set_column(0, 0, 18)
    about.set_column(1, 1, 24)
    about.set_column(2, 2, 16)
    about.set_column(3, 4, 12)
    about.set_column(5, 5, 80)
    row = 0
    for label, value in notes:
        about.write_string(row, 0, label, bold)
        about.write_string(row, 1, value)
        row += 1
    row += 1
    for col, head in enumerate(("工作表", "列名", "中文名", "类型", "单位", "说明（允许的值）")):
        about.write_string(row, col, head, bold)
    about.freeze_panes(row + 1, 0)
    for table, _ in listing:
        for column in table.columns:
            row += 1
            allowed = "；".join(f"{k} {v}" for k, v in (column.labels or {}).items())
            cells = (table.name, column.name, column.title, column.type, column.unit or "",
                     column.description + (f"（{allowed}）" if allowed and allowed not in column.description else ""))
            for col, value in enumerate(cells):
                about.write_string(row, col, value, wrap if col == 5 else None)

    for table, rows in listing:
        widths = [max(text_width(c.title), 8) for c in table.columns]
        formats = [text if c.type == "string" else None for c in table.columns]
        part, sheet, number = 1, _sheet(book, table.name, table, bold), 0
        for values in rows:
            if number == SHEET_ROWS:  # Excel's limit: the rest goes on brands_2, brands_3 …
                _finish(sheet, table, widths, formats, number)
                part += 1
                sheet, number = _sheet(book, f"{table.name}_{part}", table, bold), 0
            number += 1
            for col, value in enumerate(values):
                if value is None:
                    continue
                _write(sheet, number, col, value, formats[col], day, rate)
                if number <= 200 and part == 1:  # widths from the first rows: cheap, and enough
                    widths[col] = max(widths[col], text_width(_shown(value)))
        _finish(sheet, table, widths, formats, number)
    book.close()


def _sheet(book, name: str, table: Table, bold):
    sheet = book.add_worksheet(name[:31])
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, column.title, bold)
    sheet.freeze_panes(1, 0)
    return sheet


def _finish(sheet, table: Table, widths: list[int], formats: list, rows: int) -> None:
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width + 2, _WIDEST), formats[col])
    if rows:
        sheet.autofilter(0, 0, rows, len(table.columns) - 1)


def _write(sheet, row: int, col: int, value: Any, text_format, day, rate) -> None:
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, Decimal)):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value)
    elif isinstance(value, float):
        sheet.write_number(row, col, round(value, 4), rate)  # as in the CSV: 4 decimals
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), day)
    else:
        sheet.write_string(row, col, str(value), text_format)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "FALSE" if not value else "TRUE"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
