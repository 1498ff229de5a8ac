"""The tables as one Excel workbook (xlsxwriter): a 说明 sheet, then one sheet per table.

Every text cell is written with `write_string`, so no value can become a formula and
no code loses a digit: IDs, credit codes, region codes and occupation codes stay text
(never 9.1E+17, never 15 without its leading digits), while counts and rates are
numbers and dates are dates. Chinese headers, a frozen header row, column widths that
fit. The workbook's dates (document properties and the zip entries inside the file)
are the build's reference date, so the same commit gives the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from itertools import chain, islice
from typing import Any, Iterable, Mapping

import xlsxwriter
from xlsxwriter.utility import (_datetime_to_excel_datetime, _preserve_whitespace, _utf16_len, _utf16_truncate,
                                xl_col_to_name)
from xlsxwriter.xmlwriter import XMLwriter

from .tables import Table

#: rows a sheet holds besides its header (Excel's limit is 1,048,576)
SHEET_ROWS = 1_048_575
_WIDEST = 60  # characters
_STRMAX = 32_767  # UTF-16 units in a cell
#: what xlsxwriter escapes in a text cell: control characters, its _xHHHH_ escapes, U+FFFE/U+FFFF, & < >
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")


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
    for style in (bold, wrap, day, rate, text):  # numbered now, not in the order cells happen to be flushed
        style._get_xf_index()
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
        styles = [day, rate] + formats
        iterator, part, name = iter(rows), 1, table.name
        while True:
            sheet = _sheet(book, name, table, bold)
            cells = _Rows(sheet, styles, widths if part == 1 else None)
            cells.write(islice(iterator, SHEET_ROWS))
            _finish(sheet, table, widths, formats, cells.rows)
            following = next(iterator, None)
            if following is None:
                break
            iterator = chain([following], iterator)
            part += 1  # Excel's limit: the rest goes on brands_2, brands_3 …
            name = f"{table.name}_{part}"
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


class _Rows:
    """A sheet's data rows, written as the XML xlsxwriter writes for them, without its per-cell work.

    xlsxwriter in constant_memory mode turns each cell into a `<c>` element (inline strings)
    through several calls and a row table; at national scale that is most of a build's
    downloads (≈ 15 µs a cell). This writes the same elements straight into the sheet's row
    file, with the same escaping, number format and style indices, then tells the sheet which rows it holds; xlsxwriter
    writes everything else. tests/test_workbook.py holds the two to the same bytes.

    `styles`: the date format, the rate format, then each column's format (or None).
    `widths`: updated from the first rows' values, or None."""

    FIRST = 1  # the header is row 0
    _CHUNK = 2_000  # rows joined per write

    def __init__(self, sheet, styles: list, widths: list[int] | None):
        self.sheet, self.styles, self.widths = sheet, styles, widths
        self._attrs: dict[int, str] = {}  # id(format) -> ' s="n"'
        self.rows = 0  # rows taken, empty ones included (each has its number)
        self._last = 0  # the last row that has a cell

    def _style(self, fmt) -> str:
        known = self._attrs.get(id(fmt))
        if known is None:
            known = self._attrs[id(fmt)] = f' s="{fmt._get_xf_index()}"'
        return known

    def _other(self, ref: str, value: Any, fmt) -> str:
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>'
        if isinstance(value, (int, Decimal)):
            return f'<c r="{ref}"><v>{float(value) if isinstance(value, Decimal) else value:.16G}</v></c>'
        if isinstance(value, float):
            return f'<c r="{ref}"{self._style(self.styles[1])}><v>{round(value, 4):.16G}</v></c>'
        if isinstance(value, date):
            stamp = _datetime_to_excel_datetime(datetime(value.year, value.month, value.day), False, False)
            return f'<c r="{ref}"{self._style(self.styles[0])}><v>{stamp:.16G}</v></c>'
        style = self._style(fmt) if fmt is not None else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{_inline(str(value))}</t></is></c>'

    def write(self, rows: Iterable[list[Any]]) -> None:
        sheet = self.sheet
        sheet._write_single_row(self.FIRST)  # the header row goes out first, as xlsxwriter would
        names = [xl_col_to_name(col) for col in range(len(self.styles) - 2)]
        day, rate, formats = self.styles[0], self.styles[1], self.styles[2:]
        dates: dict[date, str] = {}
        out: list[str] = []
        number = self.FIRST - 1
        for values in rows:
            number += 1
            line = []
            for col, value in enumerate(values):
                if value is None:
                    continue
                ref = f"{names[col]}{number + 1}"
                kind = type(value)
                if kind is str:
                    text = _inline(value)
                    fmt = formats[col]
                    style = self._style(fmt) if fmt is not None else ""
                    line.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{text}</t></is></c>')
                elif kind is bool:
                    line.append(f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>')
                elif kind is int or kind is Decimal:
                    line.append(f'<c r="{ref}"><v>{float(value) if kind is Decimal else value:.16G}</v></c>')
                elif kind is float:
                    line.append(f'<c r="{ref}"{self._style(rate)}><v>{round(value, 4):.16G}</v></c>')
                elif isinstance(value, date):
                    serial = dates.get(value)
                    if serial is None:
                        stamp = _datetime_to_excel_datetime(datetime(value.year, value.month, value.day), False, False)
                        serial = dates[value] = f"{stamp:.16G}"
                    line.append(f'<c r="{ref}"{self._style(day)}><v>{serial}</v></c>')
                else:  # subclasses of the kinds above, or anything else as text
                    line.append(self._other(ref, value, formats[col]))
                if self.widths is not None and number <= 200:  # widths from the first rows: cheap, and enough
                    self.widths[col] = max(self.widths[col], text_width(_shown(value)))
            if line:
                out.append(f'<row r="{number + 1}">{"".join(line)}</row>')
                self._last = number
            if len(out) >= self._CHUNK:
                sheet.fh.write("".join(out))
                out.clear()
        sheet.fh.write("".join(out))
        self.rows = number
        if self._last:
            sheet._check_dimensions(self._last, 0)
            sheet.previous_row = self._last


def _inline(value: str) -> str:
    """A text cell's `<t>` attribute (whitespace kept) and content, escaped as xlsxwriter does: strings
    past Excel's 32,767 UTF-16 units cut, control characters as _xHHHH_, then & < >."""
    if len(value) > _STRMAX // 2 and _utf16_len(value) > _STRMAX:
        value = _utf16_truncate(value, _STRMAX)
    if _SPECIAL.search(value):
        value = XMLwriter._escape_control_characters(value)
        preserve = _preserve_whitespace(value)
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    else:
        preserve = value and (value[0].isspace() or value[-1].isspace())
    return (' xml:space="preserve">' if preserve else ">") + value


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "FALSE" if not value else "TRUE"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
