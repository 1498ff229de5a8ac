"""Read one CSV file as staff really produce it: bytes -> text -> header and records.

Everything that is wrong with the *file* (encoding, NUL bytes, an Excel workbook under
a .csv name, a wrong delimiter, a title row, missing or extra columns, cells that
do not line up, a quote that never closes) becomes an `Issue` here; what is wrong
with a *cell* is left to `cells.py` and frictionless.

Memory stays proportional to the rows kept, not to the bytes: the file is decoded a
chunk of lines at a time and parsed as it is decoded, and the input limits
(`limits.py`: bytes, rows, columns, characters per cell) are checked on the way, so a
hostile file is refused early instead of filling memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterator

from charset_normalizer import from_bytes

from . import limits
from .issues import Issue, excerpt
from .limits import FileIssues, number

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: delimiters staff end up with when Excel or WPS runs in another locale
_WRONG_DELIMITERS = {";": "分号（;）", "，": "中文逗号（，）", "\t": "制表符（Tab）", "|": "竖线（|）"}
_SAVE_AS_HINT = "请在 Excel 中用“另存为 → CSV UTF-8（逗号分隔）”保存"
#: bytes decoded at a time (cut at a line end); also the sample charset-normalizer guesses from
_CHUNK = 1 << 20
#: a physical line longer than this cannot be a row within the limits (COLUMNS cells of
#: CELL_CHARS each): only its beginning is parsed, which is then reported (too many cells,
#: or a cell too long), so a 200 MB line is never split into millions of cells
_LINE_LIMIT = 1_000_000
#: the csv module's own field limit while we read (its buffer holds 4 bytes a character):
#: a quoted cell running over this many characters ends its row's reading
_FIELD_LIMIT = _LINE_LIMIT + 1024
_BREAK = {bytes: re.compile(rb"\r\n|\r|\n"), str: re.compile(r"\r\n|\r|\n")}
_BLANK = re.compile(rb"[ \t\r\n\x0b\x0c\x00]*")
#: distinct values of a column remembered for sharing (the memo is emptied when it grows past this)
_SHARED = 16_384


@dataclass
class RawTable:
    """A CSV file's records, lined up with the schema's field names.

    `rows[i][j]` is the text of field `names[j]` in spreadsheet row `row_numbers[i]`
    (None where the column or cell is missing); `bad_cells` holds (row_number, field)
    pairs already reported, so later stages do not report the same cell twice (a
    missing column is in `missing_columns`, not in `bad_cells` row by row).
    Row numbers are a compact array: kept after the cells are dropped, a million int
    objects among them would keep their memory from being returned.
    """

    names: list[str]
    rows: list[list[str | None]] = field(default_factory=list)
    row_numbers: array = field(default_factory=lambda: array("q"))
    bad_cells: set[tuple[int, str]] = field(default_factory=set)
    missing_columns: set[str] = field(default_factory=set)

    def view(self, start: int, stop: int) -> "RawTable":
        """Rows [start, stop) sharing this table's row lists and bad cells (changes show in both)."""
        return RawTable(self.names, self.rows[start:stop], self.row_numbers[start:stop],
                        self.bad_cells, self.missing_columns)


class Refused(Exception):
    """The file cannot be read any further; `args[0]` is the file-level message."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code, self.message = code, message


def read_table(
    path: Path, relpath: str, names: list[str], *, allow_empty: bool = False
) -> tuple[RawTable | None, FileIssues]:
    """Read `path`; return its records (None if the file is unusable) and the issues."""
    issues = FileIssues(relpath)

    def file_issue(code: str, message: str, severity: str = "error") -> None:
        issues.append(Issue(relpath, None, None, code, severity, message))  # type: ignore[arg-type]

    if path.is_symlink():  # never opened: the target could be any file on the machine
        file_issue("unsafe-path", f"{relpath} 是符号链接；为免读入项目以外的文件，未读取它。请换成普通文件。")
        return None, issues
    if not path.is_file():
        file_issue("file-missing", f"找不到文件 {relpath}；数据包 datapackage.json 列出了它。")
        return None, issues
    try:
        data, size = limits.read_limited(path, limits.FILE_BYTES)
    except OSError as error:
        file_issue("file-missing", f"无法读取 {relpath}：{error.strerror or error}。")
        return None, issues
    if data is None:
        file_issue("file-too-large",
                   f"{relpath} 有 {limits.size(size)}，超过每个文件 {limits.size(limits.FILE_BYTES)} 的上限，未读取；"
                   "请检查是否存错了文件，或把数据拆分到多个年度的文件后联系技术人员。")
        return None, issues
    if data.startswith(_XLSX_MAGIC) or data.startswith(_XLS_MAGIC):
        file_issue(
            "excel-file",
            f"{relpath} 实际上是 Excel 工作簿，只是扩展名改成了 .csv；{_SAVE_AS_HINT}。",
        )
        return None, issues
    if _BLANK.fullmatch(data, len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0):
        file_issue("empty-file", f"{relpath} 是空文件，至少应有表头一行：{','.join(names)}。")
        return None, issues
    line_issues: list[_LineIssue] = []
    lines = decode_lines(data, relpath, file_issue, line_issues)
    if lines is None:
        return None, issues
    try:
        with _field_limit(_FIELD_LIMIT):
            return _parse(lines, relpath, names, line_issues, issues, allow_empty)
    except Refused as refused:  # the file is not checked: its refusal is the one issue that matters
        issues = FileIssues(relpath)
        file_issue(refused.code, refused.message)
        return None, issues


@contextmanager
def _field_limit(chars: int) -> Iterator[None]:
    """The csv module's field limit is process-wide (frictionless raises it to 2 GB): set it while we read."""
    previous = csv.field_size_limit(chars)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


# -- bytes to text -----------------------------------------------------------------

_LineIssue = tuple[int, str, str, str]  # (physical line, code, severity, message)
_CUT = ""  # the code of a line-issue entry that only marks a line cut at _LINE_LIMIT
FileIssue = Callable[..., None]


def decode_lines(data: bytes, relpath: str, file_issue: FileIssue, line_issues: list[_LineIssue]) -> Iterator[str] | None:
    """The file's lines as text, decoded lazily: UTF-8 (BOM optional); else GB18030 per file or per line.

    Problems of single lines are appended to `line_issues` as the lines are produced.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            file_issue("encoding-error", f"{relpath} 像是 UTF-16 编码，但其中有无法识别的字节；{_SAVE_AS_HINT}。")
            return None
        file_issue(
            "encoding-converted",
            f"{relpath} 是 UTF-16 编码（Excel 的“Unicode 文本”），已自动转换为 UTF-8；{_SAVE_AS_HINT}。",
            "warning",
        )
        return _text_lines(text, line_issues)
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    if _valid(data, start, "utf-8"):
        return _lines(data, start, "utf-8", line_issues)
    if not _any_utf8_line(data, start):
        return _decode_legacy(data, start, relpath, file_issue, line_issues)
    return _lines(data, start, "utf-8", line_issues)


def _chunks(data, start: int) -> Iterator[tuple[object, bool]]:
    """(piece, cut) of about _CHUNK bytes or characters each, every piece ending at a line end;
    `cut`: the piece is one line longer than _LINE_LIMIT, of which only the beginning is kept."""
    breaks = _BREAK[type(data)]
    lf, cr = ("\n", "\r") if isinstance(data, str) else (b"\n", b"\r")
    size = len(data)
    while start < size:
        stop = start + _CHUNK
        if stop >= size:
            stop = size
        else:
            cut = data.rfind(lf, start, stop)
            if cut < 0:
                cut = data.rfind(cr, start, stop - 1)  # a CR at the very end may start a CRLF
            if cut >= 0:
                stop = cut + 1
            else:  # one line longer than a chunk: up to its end
                match = breaks.search(data, stop)
                stop = match.end() if match else size
                if stop - start > _LINE_LIMIT:
                    yield _beginning(data, start), True
                    start = stop
                    continue
        yield data[start:stop], False
        start = stop


def _beginning(data, start: int):
    """The first _LINE_LIMIT of a line: cut between characters, an open quote closed, a line end added."""
    stop = start + _LINE_LIMIT
    if isinstance(data, bytes):
        while stop > start and 0x80 <= data[stop] < 0xC0:  # not inside a UTF-8 character
            stop -= 1
    piece = data[start:stop]
    quote, lf = ('"', "\n") if isinstance(data, str) else (b'"', b"\n")
    return piece + (quote if piece.count(quote) % 2 else piece[:0]) + lf


def _valid(data: bytes, start: int, encoding: str) -> bool:
    """Whether all of data[start:] decodes (in pieces, so no whole-file text is made)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for offset in range(start, len(data), _CHUNK):
            decoder.decode(view[offset:offset + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _any_utf8_line(data: bytes, start: int) -> bool:
    """A non-ASCII line that is valid UTF-8: proof the file *is* UTF-8 (with some lines pasted from GBK)."""
    for chunk, _ in _chunks(data, start):
        for line in chunk.splitlines():  # type: ignore[attr-defined]
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return True
    return False


def _lines(data: bytes, start: int, encoding: str, line_issues: list[_LineIssue]) -> Iterator[str]:
    """Decode and split a chunk at a time; line by line only in a chunk with NUL bytes or bad lines."""
    line = 1  # physical line number of the chunk's first line
    bad = 0
    for chunk, cut in _chunks(data, start):
        count = 1 if cut else _count_lines(chunk)  # type: ignore[arg-type]
        if cut:
            line_issues.append((line, _CUT, "", ""))
        text = None
        if b"\x00" not in chunk:  # type: ignore[operator]
            try:
                text = chunk.decode(encoding)  # type: ignore[attr-defined]
            except UnicodeDecodeError:
                pass  # some lines are not in the file's encoding: see which, line by line
        if text is not None:
            yield from io.StringIO(text, newline="")
        else:
            for index, raw in enumerate(chunk.splitlines(keepends=True)):  # type: ignore[attr-defined]
                decoded, problem = _decode_line(raw, line + index, encoding, line_issues)
                bad += problem
                if bad > limits.UNDECODABLE_LINES:
                    raise Refused("encoding-error",
                                   f"文件中超过 {number(limits.UNDECODABLE_LINES)} 行既不是 UTF-8 也不是 GBK 编码，"
                                   f"不像是 CSV 文本文件，未再读取；{_SAVE_AS_HINT}。")
                yield decoded
        line += count


def _count_lines(chunk) -> int:
    lf, cr, crlf = ("\n", "\r", "\r\n") if isinstance(chunk, str) else (b"\n", b"\r", b"\r\n")
    breaks = chunk.count(lf) + chunk.count(cr) - chunk.count(crlf)
    return breaks + (0 if chunk.endswith((lf, cr)) else 1)


def _decode_line(raw: bytes, number_: int, encoding: str, line_issues: list[_LineIssue]) -> tuple[str, int]:
    """One line: NUL bytes removed (an error), then UTF-8, else GBK (a warning), else unreadable (an error)."""
    nul = raw.count(b"\x00")
    if nul:
        line_issues.append(
            (number_, "nul-byte", "error",
             f"这一行含有 {nul} 个空字符（NUL，常见于文件损坏或从其他系统导出），请删除后重新保存。")
        )
        raw = raw.replace(b"\x00", b"")
    try:
        return raw.decode(encoding), 0
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
        line_issues.append(
            (number_, "encoding-line-converted", "warning",
             f"这一行不是 UTF-8 编码（像是从 GBK 文件中粘贴来的），已按 GBK 转换为“{excerpt(text.strip())}”，请核对。")
        )
        return text, 0
    except UnicodeDecodeError:
        line_issues.append(
            (number_, "encoding-error", "error",
             "这一行有无法识别的字节（既不是 UTF-8 也不是 GBK），无法读取；请检查文件来源并重新导出。")
        )
        return raw.decode(encoding, errors="replace"), 1


def _decode_legacy(data: bytes, start: int, relpath: str, file_issue: FileIssue,
                   line_issues: list[_LineIssue]) -> Iterator[str] | None:
    """A whole file in another encoding: GB18030 (a superset of GBK/GB2312) first, else a guess."""
    if _valid(data.replace(b"\x00", b"") if b"\x00" in data else data, start, "gb18030"):
        lines, encoding = _lines(data, start, "gb18030", line_issues), "GBK/GB18030"
    else:
        best = from_bytes(data[start:start + _CHUNK]).best()  # a sample: the guess costs memory per byte
        encoding = best.encoding if best is not None else ""
        if not encoding or not _valid(data, start, encoding):
            file_issue("encoding-error", f"{relpath} 的编码无法识别，既不是 UTF-8 也不是 GBK；{_SAVE_AS_HINT}。")
            return None
        if encoding.startswith(("utf_16", "utf_32")):  # line ends are not single bytes: decode at once
            lines = _text_lines(data[start:].decode(encoding), line_issues)
        else:
            lines = _lines(data, start, encoding, line_issues)
    file_issue(
        "encoding-converted",
        f"{relpath} 是 {encoding} 编码，已自动转换为 UTF-8；{_SAVE_AS_HINT}，以免下次出错。",
        "warning",
    )
    return lines


def _text_lines(text: str, line_issues: list[_LineIssue]) -> Iterator[str]:
    line = 1
    for piece, cut in _chunks(text, 0):
        if cut:
            line_issues.append((line, _CUT, "", ""))
        yield from io.StringIO(piece, newline="")  # type: ignore[arg-type]
        line += 1 if cut else _count_lines(piece)


# -- text to records ---------------------------------------------------------------

_Record = tuple[int, int, list[str] | None]  # (first line, last line, cells; None: the csv module gave up)


def _records(lines: Iterator[str]) -> Iterator[_Record]:
    """(first line, last line, cells) for every record; csv handles quotes and CRLF.

    A field over the csv module's limit makes it give up on that record (cells None)
    and go on with the next line.
    """
    reader = csv.reader(lines)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            cells = None
        yield start, reader.line_num, cells
        start = reader.line_num + 1


def _clean_label(label: str) -> str:
    return label.strip().strip("\ufeff\u200b")


def _header_score(cells: list[str], names: list[str]) -> int:
    wanted = set(names)
    return sum(1 for cell in cells if _clean_label(cell) in wanted)


def _blank(cells: list[str] | None) -> bool:
    return cells is not None and not any(cell.strip() for cell in cells)


def _parse(
    lines: Iterator[str],
    relpath: str,
    names: list[str],
    line_issues: list[_LineIssue],
    issues: FileIssues,
    allow_empty: bool,
) -> tuple[RawTable | None, FileIssues]:
    records = _records(lines)
    head = list(islice(records, 6))
    pending = 0  # line issues already given a row
    cut_row = 0  # the last row with a line cut at _LINE_LIMIT: its missing cells are not its fault

    def add(row: int | None, column: str | None, code: str, message: str, severity: str = "error") -> None:
        issues.append(Issue(relpath, row, column, code, severity, message))  # type: ignore[arg-type]

    def lines_of(row: int, last: int) -> None:
        """Line problems of the physical lines up to `last`, at the spreadsheet row they belong to."""
        nonlocal pending, cut_row
        while pending < len(line_issues) and line_issues[pending][0] <= last:
            _, code, severity, message = line_issues[pending]
            if code == _CUT:
                cut_row = row
            else:
                add(row, None, code, message, severity)
            pending += 1

    for row, (_, last, _) in enumerate(head, start=1):
        lines_of(row, last)
    if all(_blank(cells) for _, _, cells in head) and len(head) < 6:
        add(None, None, "empty-file", f"{relpath} 是空文件，至少应有表头一行：{','.join(names)}。")
        return None, issues

    # The header: normally row 1; a title row above it is an error, but we read on
    # from the real header so that every other problem is reported in the same run.
    header_index = 0
    first_cells = head[0][2] or []
    if head[0][2] is None:
        _gave_up(add, 1, head[0][0], head[0][1])
        return None, issues
    if len(first_cells) > limits.COLUMNS:
        _too_many_columns(add, 1, len(first_cells), names)
        return None, issues
    if _header_score(first_cells, names) * 2 < len(names):
        delimiter = _wrong_delimiter(first_cells, names)
        if delimiter:
            add(1, None, "wrong-delimiter",
                f"表头用{_WRONG_DELIMITERS[delimiter]}分隔，应使用英文逗号（,）；{_SAVE_AS_HINT}。")
            return None, issues
        for index in range(1, len(head)):
            if _header_score(head[index][2] or [], names) * 2 >= len(names):
                header_index = index
                title = excerpt("".join(first_cells).strip())
                add(1, None, "title-row",
                    f"第1行“{title}”像是标题行，表头在第{index + 1}行；CSV 的第1行必须是表头，请删去表头上方的行。")
                break

    header_cells = head[header_index][2] or []
    header_row = header_index + 1
    if len(header_cells) > limits.COLUMNS:
        _too_many_columns(add, header_row, len(header_cells), names)
        return None, issues
    header = [_clean_label(cell) for cell in header_cells]
    position: dict[str, int] = {}
    for index, label in enumerate(header):
        if label == "" and index == len(header) - 1 and index > 0:
            continue  # a trailing comma after the last label: harmless
        if label in position:
            add(header_row, excerpt(label), "duplicate-column", f"列名“{excerpt(label)}”出现了不止一次；每一列只能有一个。")
        elif label in names:
            position[label] = index
        else:
            shown = excerpt(label) if label else f"第{index + 1}列（空列名）"
            add(header_row, excerpt(label) or None, "extra-column",
                f"列“{shown}”不在本表的列中，已忽略；本表的列为：{'、'.join(names)}。", "warning")
    table = RawTable(names=list(names))
    for name in names:
        if name not in position:
            table.missing_columns.add(name)
            add(header_row, name, "missing-column", f"缺少列“{name}”；本表的列为：{'、'.join(names)}。")

    width = len(header)
    limit = max(position.values(), default=-1) + 1
    columns = [position.get(name) for name in names]
    memos: list[dict[str, str]] = [{} for _ in names]
    shared = [(memo.setdefault, column) for memo, column in zip(memos, columns)]
    cell_chars = limits.CELL_CHARS
    blank_row: int | None = None  # a blank row is reported only if another row follows it
    row = header_row
    max_rows, stop_errors = limits.max_rows(len(names)) + header_row, limits.STOP_ERRORS
    for first, last, cells in chain(head[header_index + 1:], records):
        row += 1
        if pending < len(line_issues):
            lines_of(row, last)
        if blank_row is not None:
            add(blank_row, None, "blank-row", "空行，已忽略。", "warning")
            blank_row = None
        if row > max_rows:
            raise Refused("too-many-rows",
                           f"{relpath} 的数据超过 {number(max_rows - header_row)} 行，超过本表的行数上限"
                           f"（每个文件最多 {number(limits.FILE_ROWS)} 行、{number(limits.FILE_CELLS)} 格，本表 {len(names)} 列），"
                           "未检查；请检查是否存错了文件（例如重复粘贴了数据），或联系技术人员。")
        if issues.seen["error"] > stop_errors:
            add(None, None, "checking-stopped",
                f"{relpath} 到第{row - 1}行已有超过 {number(limits.STOP_ERRORS)} 个错误，从第{row}行起未再检查；"
                "请先改正前面的错误（常见原因：存错了文件、选错了分隔符或编码），再重新校验。")
            break
        if cells is None:
            _gave_up(add, row, first, last)
            continue
        if not any(cell.strip() for cell in cells):
            blank_row = row
            continue
        swallowed = _swallowed_rows(cells, width)
        if swallowed is not None:
            column, count = swallowed
            add(row, header[column] if column < width and header[column] in position else None, "unterminated-quote",
                f"这一格的引号（\"）没有闭合，把后面 {count} 行都并进了这一格；请检查第{row}行的引号。")
            continue
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            add(row, None, "extra-cell",
                f"这一行有 {number(len(cells))} 格，比表头的 {width} 列多出 {_extra(cells[width:])}；"
                "可能是某个值里有英文逗号却没有加引号。")
            continue
        if len(cells) >= limit and not table.missing_columns and max(map(len, cells)) <= cell_chars:
            # the common case; equal cells share one string (counts, years, codes repeat down a column)
            values: list[str | None] = [keep(value := cells[column], value) for keep, column in shared]
        else:
            values = _values(cells, names, columns, row, table, add)
        if len(table.rows) % 8192 == 0:
            for memo in memos:
                if len(memo) > _SHARED:
                    memo.clear()  # mostly distinct values: sharing costs more than it saves
        if len(cells) < limit and row != cut_row:
            missing = [name for name in names if position.get(name, -1) >= len(cells)]
            add(row, missing[0] if missing else None, "missing-cell",
                f"这一行只有 {len(cells)} 格，比表头的 {width} 列少，缺少：{'、'.join(missing)}。")
        table.rows.append(values)
        table.row_numbers.append(row)
    lines_of(row, 1 << 62)

    if not table.rows and not allow_empty:
        add(None, None, "no-rows", f"{relpath} 只有表头，没有数据行。")
    return table, issues


def _values(cells: list[str], names: list[str], columns: list[int | None], row: int, table: RawTable,
            add: Callable[..., None]) -> list[str | None]:
    """A row's values in schema order, when columns are missing, cells are missing or cells are too long."""
    values: list[str | None] = []
    for name, column in zip(names, columns):
        if column is None:
            values.append(None)  # a missing column: reported once, in the header
        elif column < len(cells):
            value: str | None = cells[column]
            if len(value) > limits.CELL_CHARS:  # type: ignore[arg-type]
                add(row, name, "cell-too-long", limits.too_long(value))  # type: ignore[arg-type]
                table.bad_cells.add((row, name))
                value = None
            values.append(value)
        else:
            values.append(None)
            table.bad_cells.add((row, name))
    return values


def _too_many_columns(add, row: int, count: int, names: list[str]) -> None:
    add(row, None, "too-many-columns",
        f"表头超过每个文件 {number(limits.COLUMNS)} 列的上限（读到 {number(count)} 列），未再读取本文件；"
        f"本表只需要这些列：{'、'.join(names)}。")


def _gave_up(add, row: int, first: int, last: int) -> None:
    """The csv module stopped on a cell longer than it reads: a quote left open, or a giant cell."""
    if last > first:
        add(row, None, "unterminated-quote",
            f"从这一行开始的一格跨了 {last - first + 1} 行、超过 {number(_LINE_LIMIT)} 个字符，多半是引号（\"）没有闭合；"
            f"请检查第{row}行的引号。其后的行已重新按行读取。")
    else:
        add(row, None, "cell-too-long",
            f"这一行有一格超过 {number(_LINE_LIMIT)} 个字符，无法读取；请检查是否把整个文件粘贴进了一个单元格。")


def _extra(cells: list[str]) -> str:
    """The extra cells of a row as a message shows them: the first three, each excerpted."""
    filled = [cell for cell in cells if cell.strip()]
    shown = "、".join(f"“{excerpt(cell)}”" for cell in filled[:3])
    return shown + (f" 等 {number(len(filled))} 格" if len(filled) > 3 else "")


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
        lines = cell.split("\n", 100)[1:]  # enough to see rows; a long cell is counted, not split
        row_like = [line for line in lines if line.count(",") >= width - 1]
        if row_like:
            if len(lines) <= 100:
                return column, len([line for line in lines if line.strip()])
            return column, cell.count("\n")
    return None
