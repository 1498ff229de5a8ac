"""Read one CSV file as staff really produce it: bytes -> text -> header and records.

Everything that is wrong with the *file* (encoding, NUL bytes, an Excel workbook under
a .csv name, a wrong delimiter, a title row, missing or extra columns, cells that
do not line up, a quote that never closes) becomes an `Issue` here; what is wrong
with a *cell* is left to `cells.py` and frictionless.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from .issues import Issue

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: delimiters staff end up with when Excel or WPS runs in another locale
_WRONG_DELIMITERS = {";": "分号（;）", "，": "中文逗号（，）", "\t": "制表符（Tab）", "|": "竖线（|）"}
_SAVE_AS_HINT = "请在 Excel 中用“另存为 → CSV UTF-8（逗号分隔）”保存"


@dataclass
class RawTable:
    """A CSV file's records, lined up with the schema's field names.

    `rows[i][j]` is the text of field `names[j]` in spreadsheet row `row_numbers[i]`
    (None where the column is missing); `bad_cells` holds (row_number, field) pairs
    already reported, so later stages do not report the same cell twice.
    """

    names: list[str]
    rows: list[list[str | None]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    bad_cells: set[tuple[int, str]] = field(default_factory=set)
    missing_columns: set[str] = field(default_factory=set)


def read_table(
    path: Path, relpath: str, names: list[str], *, allow_empty: bool = False
) -> tuple[RawTable | None, list[Issue]]:
    """Read `path`; return its records (None if the file is unusable) and the issues."""
    issues: list[Issue] = []

    def file_issue(code: str, message: str, severity: str = "error") -> None:
        issues.append(Issue(relpath, None, None, code, severity, message))  # type: ignore[arg-type]

    if path.is_symlink():  # never opened: the target could be any file on the machine
        file_issue("unsafe-path", f"{relpath} 是符号链接；为免读入项目以外的文件，未读取它。请换成普通文件。")
        return None, issues
    if not path.is_file():
        file_issue("file-missing", f"找不到文件 {relpath}；数据包 datapackage.json 列出了它。")
        return None, issues
    try:
        data = path.read_bytes()
    except OSError as error:
        file_issue("file-missing", f"无法读取 {relpath}：{error.strerror or error}。")
        return None, issues
    if data.startswith(_XLSX_MAGIC) or data.startswith(_XLS_MAGIC):
        file_issue(
            "excel-file",
            f"{relpath} 实际上是 Excel 工作簿，只是扩展名改成了 .csv；{_SAVE_AS_HINT}。",
        )
        return None, issues
    text, line_issues = _decode(data, relpath, file_issue)
    if text is None:
        return None, issues
    if not text.strip():
        file_issue("empty-file", f"{relpath} 是空文件，至少应有表头一行：{','.join(names)}。")
        return None, issues
    return _parse(text, relpath, names, line_issues, issues, allow_empty)


# -- bytes to text -----------------------------------------------------------------

_LineIssue = tuple[int, str, str, str]  # (physical line, code, severity, message)


def _decode(data: bytes, relpath: str, file_issue) -> tuple[str | None, list[_LineIssue]]:
    """Decode as UTF-8 (BOM optional); fall back to GB18030 per file or per line."""
    line_issues: list[_LineIssue] = []
    if data.startswith(_UTF16_BOMS):
        file_issue(
            "encoding-converted",
            f"{relpath} 是 UTF-16 编码（Excel 的“Unicode 文本”），已自动转换为 UTF-8；{_SAVE_AS_HINT}。",
            "warning",
        )
        return data.decode("utf-16"), line_issues
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    if b"\x00" in data:
        for number, line in enumerate(data.split(b"\n"), start=1):
            count = line.count(b"\x00")
            if count:
                line_issues.append(
                    (number, "nul-byte", "error",
                     f"这一行含有 {count} 个空字符（NUL，常见于文件损坏或从其他系统导出），请删除后重新保存。")
                )
        data = data.replace(b"\x00", b"")
    try:
        return data.decode("utf-8"), line_issues
    except UnicodeDecodeError:
        pass

    lines = data.split(b"\n")
    utf8_ok = 0  # non-ASCII lines that are valid UTF-8: proof the file *is* UTF-8
    bad: list[int] = []
    for index, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_ok += 1
        except UnicodeDecodeError:
            bad.append(index)

    if utf8_ok == 0:
        return _decode_legacy(data, relpath, file_issue), line_issues

    decoded: list[str] = []
    bad_set = set(bad)
    for index, line in enumerate(lines):
        if index not in bad_set:
            decoded.append(line.decode("utf-8"))
            continue
        try:
            text = line.decode("gb18030")
            snippet = text.strip()[:40]
            line_issues.append(
                (index + 1, "encoding-line-converted", "warning",
                 f"这一行不是 UTF-8 编码（像是从 GBK 文件中粘贴来的），已按 GBK 转换为“{snippet}”，请核对。")
            )
        except UnicodeDecodeError:
            text = line.decode("utf-8", errors="replace")
            line_issues.append(
                (index + 1, "encoding-error", "error",
                 "这一行有无法识别的字节（既不是 UTF-8 也不是 GBK），无法读取；请检查文件来源并重新导出。")
            )
        decoded.append(text)
    return "\n".join(decoded), line_issues


def _decode_legacy(data: bytes, relpath: str, file_issue) -> str | None:
    """A whole file in another encoding: GB18030 (a superset of GBK/GB2312) first."""
    try:
        text = data.decode("gb18030")
        encoding = "GBK/GB18030"
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            file_issue("encoding-error", f"{relpath} 的编码无法识别，既不是 UTF-8 也不是 GBK；{_SAVE_AS_HINT}。")
            return None
        text, encoding = str(best), best.encoding
    file_issue(
        "encoding-converted",
        f"{relpath} 是 {encoding} 编码，已自动转换为 UTF-8；{_SAVE_AS_HINT}，以免下次出错。",
        "warning",
    )
    return text


# -- text to records ---------------------------------------------------------------

def _records(text: str) -> list[tuple[int, int, list[str]]]:
    """(first line, last line, cells) for every record; csv handles quotes and CRLF."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    start = 1
    for cells in reader:
        out.append((start, reader.line_num, cells))
        start = reader.line_num + 1
    return out


def _clean_label(label: str) -> str:
    return label.strip().strip("\ufeff\u200b")


def _header_score(cells: list[str], names: list[str]) -> int:
    wanted = set(names)
    return sum(1 for cell in cells if _clean_label(cell) in wanted)


def _parse(
    text: str,
    relpath: str,
    names: list[str],
    line_issues: list[_LineIssue],
    issues: list[Issue],
    allow_empty: bool,
) -> tuple[RawTable | None, list[Issue]]:
    records = _records(text)
    # physical line -> spreadsheet row (the record the line belongs to)
    line_to_row: dict[int, int] = {}
    for row, (first, last, _) in enumerate(records, start=1):
        for line in range(first, last + 1):
            line_to_row[line] = row
    for line, code, severity, message in line_issues:
        issues.append(Issue(relpath, line_to_row.get(line, line), None, code, severity, message))  # type: ignore[arg-type]

    def add(row: int | None, column: str | None, code: str, message: str, severity: str = "error") -> None:
        issues.append(Issue(relpath, row, column, code, severity, message))  # type: ignore[arg-type]

    # The header: normally row 1; a title row above it is an error, but we read on
    # from the real header so that every other problem is reported in the same run.
    header_index = 0
    first_cells = records[0][2] if records else []
    if _header_score(first_cells, names) * 2 < len(names):
        delimiter = _wrong_delimiter(first_cells, names)
        if delimiter:
            add(1, None, "wrong-delimiter",
                f"表头用{_WRONG_DELIMITERS[delimiter]}分隔，应使用英文逗号（,）；{_SAVE_AS_HINT}。")
            return None, issues
        for index in range(1, min(len(records), 6)):
            if _header_score(records[index][2], names) * 2 >= len(names):
                header_index = index
                title = "".join(first_cells).strip()[:40]
                add(1, None, "title-row",
                    f"第1行“{title}”像是标题行，表头在第{index + 1}行；CSV 的第1行必须是表头，请删去表头上方的行。")
                break

    header = [_clean_label(cell) for cell in records[header_index][2]] if records else []
    header_row = header_index + 1
    position: dict[str, int] = {}
    for index, label in enumerate(header):
        if label == "" and index == len(header) - 1 and index > 0:
            continue  # a trailing comma after the last label: harmless
        if label in position:
            add(header_row, label, "duplicate-column", f"列名“{label}”出现了不止一次；每一列只能有一个。")
        elif label in names:
            position[label] = index
        else:
            shown = label or f"第{index + 1}列（空列名）"
            add(header_row, label or None, "extra-column",
                f"列“{shown}”不在本表的列中，已忽略；本表的列为：{'、'.join(names)}。", "warning")
    table = RawTable(names=list(names))
    for name in names:
        if name not in position:
            table.missing_columns.add(name)
            add(header_row, name, "missing-column", f"缺少列“{name}”；本表的列为：{'、'.join(names)}。")

    width = len(header)
    limit = max(position.values(), default=-1) + 1
    for row_index in range(header_index + 1, len(records)):
        row = row_index + 1
        first, last, cells = records[row_index]
        if not any(cell.strip() for cell in cells):
            if row_index != len(records) - 1:
                add(row, None, "blank-row", "空行，已忽略。", "warning")
            continue
        swallowed = _swallowed_rows(cells, width)
        if swallowed is not None:
            column, count = swallowed
            add(row, header[column] if column < width else None, "unterminated-quote",
                f"这一格的引号（\"）没有闭合，把后面 {count} 行都并进了这一格；请检查第{row}行的引号。")
            continue
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            extra = "、".join(f"“{cell}”" for cell in cells[width:] if cell.strip())
            add(row, None, "extra-cell",
                f"这一行有 {len(cells)} 格，比表头的 {width} 列多出 {extra}；可能是某个值里有英文逗号却没有加引号。")
            continue
        values: list[str | None] = []
        for name in names:
            column = position.get(name)
            if column is None:
                values.append(None)
                table.bad_cells.add((row, name))
            elif column < len(cells):
                values.append(cells[column])
            else:
                values.append(None)
                table.bad_cells.add((row, name))
        if len(cells) < limit:
            missing = [name for name in names if position.get(name, -1) >= len(cells)]
            add(row, missing[0] if missing else None, "missing-cell",
                f"这一行只有 {len(cells)} 格，比表头的 {width} 列少，缺少：{'、'.join(missing)}。")
        table.rows.append(values)
        table.row_numbers.append(row)

    if not table.rows and not allow_empty:
        add(None, None, "no-rows", f"{relpath} 只有表头，没有数据行。")
    return table, issues


def _wrong_delimiter(cells: list[str], names: list[str]) -> str | None:
    line = ",".join(cells)
    for delimiter in _WRONG_DELIMITERS:
        parts = [_clean_label(part) for part in line.split(delimiter)]
        if len(parts) > 1 and _header_score(parts, names) * 2 >= len(names):
            return delimiter
    return None


def _swallowed_rows(cells: list[str], width: int) -> tuple[int, int] | None:
    """A cell that holds whole CSV rows is an opened quote that never closed."""
    if width < 2:
        return None
    for column, cell in enumerate(cells):
        if "\n" not in cell:
            continue
        lines = cell.split("\n")[1:]
        row_like = [line for line in lines if line.count(",") >= width - 1]
        if row_like:
            return column, len([line for line in lines if line.strip()])
    return None
