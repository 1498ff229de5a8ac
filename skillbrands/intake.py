"""Excel in and out for the staff who fill the tables.

`write_template`: one workbook (xlsxwriter) with a sheet per table staff fill, Chinese
titles in row 1, the CSV column names in a hidden row 2, drop-down lists, number and
date checks, text-formatted codes and the rows the project already has.
`import_workbook`: the sheets back to the CSV text of their tables (openpyxl, read-only),
checked by the same `pipeline.check_project` as `validate`, on a copy of the project;
problems are named by sheet, Excel row and Chinese column title, and datasets/ is
written only when there are no errors, all files at once.
`normalize`: CSV files saved as GBK, with a BOM or with CRLF rewritten in the
canonical form.

The canonical form of a CSV file is the one `generate` and `scripts/make_sample.py`
write and the sample is in: UTF-8 without BOM, LF line ends, `csv.writer`'s minimal
quoting, a line end after the last row. Everything about a column comes from the
schema in datapackage.json; what is particular to a sheet is one line of `SHEETS`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

import xlsxwriter

from . import cells, limits
from . import read as csvread
from .issues import Issue, excerpt, has_errors
from .workbook import text_width

if TYPE_CHECKING:
    from .pipeline import Progress

#: the sheets staff fill, in workbook order: (resource, sheet title, what goes in it).
#: Adding a table to the workbook is one line here; its columns come from its schema.
SHEETS: tuple[tuple[str, str, str], ...] = (
    ("brands", "培训品牌", "每个品牌一行：新公布的品牌加在末尾；品牌编号一经公布不要再改。"),
    ("institutions", "培训机构", "每个培训机构一行；暂停或移出时改“状态”，并填写状态日期和原因。"),
    ("outcomes", "年度培训成效", "每个品牌每年一行：只填人数，不填比例（比例由程序计算）。"),
    ("exits", "退出品牌", "退出目录的品牌，每个一行。"),
    ("corrections", "更正与变更", "改动已公布版本中的数据时，每改一处一行，写明原因。"),
    ("releases", "年度版本", "每年公布的目录版本，每年一行。"),
)
INSTRUCTIONS = "填表说明"
LISTS = "选项"  # the hidden sheet that holds the drop-down lists (a list over 255 characters needs a range)
TITLE_ROW, CODE_ROW, FIRST_ROW = 0, 1, 2  # zero-based rows of the template
LAST_ROW = 1_048_575  # Excel's last row (zero-based): checks and formats reach every row staff may add
_BOM = b"\xef\xbb\xbf"
_WHOLE_FLOAT = 1e15  # below this a float with no fraction is exactly an integer typed in a cell
_DAY_SERIALS = (1, 2_958_466)  # Excel serials of 1900-01-01 … 9999-12-31
_EXCEL_EPOCH = date(1899, 12, 30)
_INTEGER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT_TEXT = re.compile(r"(-?[0-9]+)\.0+")
_LISTED = 20  # keys named per kind of change in a dry run


class IntakeError(Exception):
    """The workbook or the files cannot be used at all; the message says why, in Chinese."""


# -- the sheets, from the schema ---------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One column of a sheet: a schema field and what the workbook does with it."""

    name: str
    title: str
    type: str
    description: str
    required: bool
    minimum: Any = None
    maximum: Any = None
    labels: Mapping[str, str] = field(default_factory=dict)  # allowed value -> Chinese label
    from_label: Mapping[str, str] = field(default_factory=dict)  # NFKC label -> value (cells.label_values)
    choices: Mapping[str, str] = field(default_factory=dict)  # code of a reference table -> "code name"
    from_choice: Mapping[str, str] = field(default_factory=dict)  # "code name", or a unique name -> code
    true_values: tuple[str, ...] = ("true",)
    false_values: tuple[str, ...] = ("false",)

    @property
    def listed(self) -> list[str]:
        """The drop-down's entries (empty: no list)."""
        if self.type == "boolean":
            return ["是", "否"]
        return list(self.labels.values() or self.choices.values())


@dataclass(frozen=True)
class Sheet:
    name: str  # the resource
    title: str  # the sheet's name in the workbook
    note: str
    path: str  # datasets/<file>.csv
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    optional: bool

    @property
    def header(self) -> list[str]:
        return [f.name for f in self.fields]


def sheets(project: Path, descriptor: Mapping[str, Any]) -> list[Sheet]:
    """The sheets of `SHEETS` the data package has, each with its schema's columns; a foreign key to a
    table that is not a sheet (regions, occupations) becomes a drop-down of that table's rows."""
    resources = {r["name"]: r for r in descriptor["resources"]}
    filled = {name for name, _, _ in SHEETS}
    out = []
    for name, title, note in SHEETS:
        resource = resources.get(name)
        if resource is None:
            continue
        schema = resource["schema"]
        lookups = {}
        for fk in schema.get("foreignKeys", []):
            fields, ref = fk.get("fields"), fk.get("reference", {})
            target = ref.get("resource")
            fields = [fields] if isinstance(fields, str) else fields
            if len(fields) == 1 and target in resources and target not in filled:
                refs = ref.get("fields")
                lookups[fields[0]] = _reference_rows(project, resources[target], refs if isinstance(refs, str) else refs[0])
        key = schema.get("primaryKey", [])
        out.append(Sheet(name, title, note, f"datasets/{resource['path']}",
                         tuple(_field(f, lookups.get(f["name"])) for f in schema["fields"]),
                         (key,) if isinstance(key, str) else tuple(key), bool(resource.get("skillbrands:optional"))))
    return out


def _field(spec: Mapping[str, Any], lookup: dict[str, str] | None) -> Field:
    constraints = spec.get("constraints", {})
    named = spec.get("enumLabels") or {}
    labels = {str(v): str(named.get(v, v)) for v in constraints.get("enum", [])}  # allowed value -> label
    from_choice: dict[str, str] = {}
    if lookup:
        names: dict[str, list[str]] = {}
        for code, shown in lookup.items():
            from_choice[shown] = code
            names.setdefault(shown[len(code):].strip(), []).append(code)
        from_choice.update({n: codes[0] for n, codes in names.items() if n and len(codes) == 1 and n not in from_choice})
    return Field(spec["name"], spec.get("title", spec["name"]), spec.get("type", "string"), spec.get("description", ""),
                 bool(constraints.get("required")), constraints.get("minimum"), constraints.get("maximum"),
                 labels, cells.label_values(spec), lookup or {}, from_choice,
                 tuple(spec.get("trueValues", ("true",))), tuple(spec.get("falseValues", ("false",))))


def _reference_rows(project: Path, resource: Mapping[str, Any], key: str) -> dict[str, str]:
    """code -> "code name" for the rows of a reference table (regions, occupations)."""
    table = read_csv(project / "datasets" / resource["path"])
    if table is None:
        return {}
    header, rows = table
    if key not in header:
        return {}
    at, named = header.index(key), header.index("name") if "name" in header else None
    out = {}
    for row in rows:
        code = row[at].strip() if at < len(row) else ""
        name = row[named].strip() if named is not None and named < len(row) else ""
        if code:
            out.setdefault(code, f"{code} {name}".strip())
    return out


# -- CSV text ---------------------------------------------------------------------------

def decode(data: bytes, relpath: str) -> tuple[str | None, list[str], list[str]]:
    """(text, errors, notes) of a CSV file's bytes, decoded as `validate` decodes them (read.py):
    UTF-8 with or without BOM, GBK/GB18030, a guess for other encodings; text None on errors."""
    errors: list[str] = []
    notes: list[str] = []

    def file_issue(code: str, message: str, severity: str = "error") -> None:
        (errors if severity == "error" else notes).append(message)

    line_issues: list[tuple[int, str, str, str]] = []
    try:
        lines = csvread.decode_lines(data, relpath, file_issue, line_issues)
        text = None if lines is None else "".join(lines)
    except csvread.Refused as refused:
        return None, [refused.message], notes
    for line, code, severity, message in line_issues:
        if severity == "error":
            errors.append(f"第{line}行：{message}")
        elif severity == "warning":
            notes.append(f"第{line}行：{message}")
    return (None if errors else text), errors, notes


def read_csv(path: Path) -> tuple[list[str], list[list[str]]] | None:
    """(header, rows) of a CSV file as text, None when it is missing; IntakeError when it cannot be
    read (a workbook without its rows would delete them at import)."""
    if path.is_symlink():
        raise IntakeError(f"{path.name} 是符号链接，未读取；请换成普通文件。")
    if not path.is_file():
        return None
    try:
        data, size = limits.read_limited(path, limits.FILE_BYTES)
    except OSError as error:
        raise IntakeError(f"无法读取 {path.name}：{error.strerror or error}。") from error
    if data is None:
        raise IntakeError(f"{path.name} 有 {limits.size(size)}，超过每个文件 {limits.size(limits.FILE_BYTES)} 的上限，未读取。")
    text, errors, _ = decode(data, path.name)
    if text is None:
        raise IntakeError(f"{path.name} 无法读取：{'；'.join(errors[:3])}；请先改正（python build.py validate 可查看）。")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return ([cells.strip_cell(c) for c in rows[0]], rows[1:]) if rows else ([], [])


def csv_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """The canonical form of a CSV file (see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _by_name(header: list[str], rows: list[list[str]], names: list[str]) -> list[list[str]]:
    at = [header.index(n) if n in header else None for n in names]
    return [[row[i] if i is not None and i < len(row) else "" for i in at] for row in rows]


# -- the template -----------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    path: Path
    year: int
    rows: dict[str, int]  # sheet title -> rows pre-filled


def default_year(project: Path) -> int:
    """The year of the list being prepared: the year after the newest in releases.csv, else this year."""
    from .validate import reference_date

    table = read_csv(project / "datasets" / "releases.csv")
    years = [int(r[0]) for r in _by_name(*table, ["year"]) if r[0].strip().isdigit()] if table else []
    return max(years) + 1 if years else reference_date().year


def write_template(project: Path, out: Path, year: int | None = None) -> Template:
    """The workbook to fill, written to `out`: 填表说明, a sheet per table with the project's rows, the lists.

    `year`: the year being prepared (default_year): its rows are shaded and 填表说明 names it."""
    descriptor = _descriptor(project)
    year = year or default_year(project)
    found = sheets(project, descriptor)
    filled = {}  # every file read before the workbook is begun: an unreadable one stops here
    for sheet in found:
        table = read_csv(project / sheet.path)
        filled[sheet.name] = _by_name(*table, sheet.header) if table else []
    try:
        book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False,
                                              "strings_to_formulas": False, "strings_to_urls": False})
    except OSError as error:
        raise IntakeError(f"无法写入 {out}：{error.strerror or error}。") from error
    styles = _Styles(book)
    about = book.add_worksheet(INSTRUCTIONS)
    columns, ranges = _lists(found)
    counts = {}
    for sheet in found:
        counts[sheet.title] = _fill(book.add_worksheet(sheet.title), sheet, filled[sheet.name], ranges, styles, year)
    _write_lists(book.add_worksheet(LISTS), columns)
    _instructions(about, found, year, styles)
    about.activate()
    try:
        book.close()
    except (OSError, xlsxwriter.exceptions.FileCreateError) as error:
        raise IntakeError(f"无法写入 {out}：{error}。") from error
    return Template(out, year, counts)


class _Styles:
    def __init__(self, book):
        self.head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEEEEE",
                                     "border": 1})
        self.code = book.add_format({"font_color": "#888888"})
        self.text = book.add_format({"num_format": "@"})
        self.day = book.add_format({"num_format": "yyyy-mm-dd"})
        self.whole = book.add_format({"num_format": "0"})
        self.shade = book.add_format({"bg_color": "#FFF2CC"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.bold = book.add_format({"bold": True})

    def column(self, f: Field):
        return {"date": self.day, "integer": self.whole}.get(f.type, self.text if f.type == "string" else None)


def _lists(found: list[Sheet]) -> tuple[list[list[str]], dict[tuple[str, str], str]]:
    """The drop-down entries, a column of the hidden sheet per list, and (resource, field) -> its range."""
    columns: list[list[str]] = []
    ranges: dict[tuple[str, str], str] = {}
    seen: dict[tuple[str, ...], str] = {}
    for s in found:
        for f in s.fields:
            entries = f.listed
            if not entries or f.type == "boolean":  # 是/否 fit in the rule itself
                continue
            key = tuple(entries)
            if key not in seen:
                col = xlsxwriter.utility.xl_col_to_name(len(columns))
                seen[key] = f"='{LISTS}'!${col}$1:${col}${len(entries)}"
                columns.append(entries)
            ranges[(s.name, f.name)] = seen[key]
    return columns, ranges


def _write_lists(sheet, columns: list[list[str]]) -> None:
    """Rows are written in order (constant_memory), so the lists are filled side by side."""
    for row in range(max(map(len, columns), default=0)):
        for col, entries in enumerate(columns):
            if row < len(entries):
                sheet.write_string(row, col, entries[row])
    sheet.hide()


def _fill(ws, sheet: Sheet, rows: list[list[str]], ranges: Mapping[tuple[str, str], str], styles: _Styles,
          year: int) -> int:
    fields = sheet.fields
    widths = [max(text_width(f.title), text_width(f.name), 8) for f in fields]
    for col, f in enumerate(fields):
        ws.write_string(TITLE_ROW, col, f.title, styles.head)
    ws.set_row(CODE_ROW, None, None, {"hidden": True})
    for col, f in enumerate(fields):
        ws.write_string(CODE_ROW, col, f.name, styles.code)
    for number, row in enumerate(rows, start=FIRST_ROW):
        for col, (f, text) in enumerate(zip(fields, row)):
            if text == "":
                continue
            value = _shown(text, f)
            if isinstance(value, datetime):
                ws.write_datetime(number, col, value, styles.day)
            elif isinstance(value, int):
                ws.write_number(number, col, value, styles.whole)
            else:
                ws.write_string(number, col, value, styles.text)
            if number < FIRST_ROW + 200:
                widths[col] = max(widths[col], text_width(value if isinstance(value, str) else text))
    for col, f in enumerate(fields):
        ws.set_column(col, col, min(widths[col] + 2, 60), styles.column(f))
        _check(ws, col, f, ranges.get((sheet.name, f.name)))
    marker = _year_column(fields)
    if marker is not None:
        col, f = marker
        cell = f"${xlsxwriter.utility.xl_col_to_name(col)}{FIRST_ROW + 1}"
        formula = f"=YEAR({cell})={year}" if f.type == "date" else f"={cell}={year}"
        ws.conditional_format(FIRST_ROW, 0, LAST_ROW, len(fields) - 1,
                              {"type": "formula", "criteria": formula, "format": styles.shade})
    ws.freeze_panes(FIRST_ROW, 0)
    return len(rows)


def _year_column(fields: tuple[Field, ...]) -> tuple[int, Field] | None:
    """The column that says which year a row belongs to: the first year-like integer, else the first date."""
    for kinds in (("integer",), ("date",)):
        for col, f in enumerate(fields):
            if f.type in kinds and (f.type == "date" or (f.minimum or 0) >= 1900):
                return col, f
    return None


def _check(ws, col: int, f: Field, listed: str | None) -> None:
    """The column's data validation: a drop-down, whole numbers in range, or dates."""
    rule: dict[str, Any] | None = None
    if f.type == "boolean":
        rule = {"validate": "list", "source": ["是", "否"]}
    elif listed:
        rule = {"validate": "list", "source": listed,
                "error_type": "warning" if f.choices else "stop"}  # a code typed in a reference column is fine
    elif f.type == "integer":
        low = f.minimum if f.minimum is not None else -2**31
        rule = {"validate": "integer", "criteria": "between", "minimum": low,
                "maximum": f.maximum if f.maximum is not None else 2**31 - 1}
    elif f.type == "date":
        rule = {"validate": "date", "criteria": "between", "minimum": date(1900, 1, 1), "maximum": date(2100, 12, 31),
                "error_type": "warning"}  # a date typed as text (2023/9/30) is read at import
    if rule is None:
        return
    rule.update({"ignore_blank": True, "input_title": f.title[:32], "input_message": _hint(f)[:255],
                 "error_title": f.title[:32], "error_message": _hint(f)[:255]})
    ws.data_validation(FIRST_ROW, col, LAST_ROW, col, rule)


def _hint(f: Field) -> str:
    if f.type == "boolean":
        return "请从下拉列表中选“是”或“否”。"
    if f.listed:
        return "请从下拉列表中选择。"
    if f.type == "integer":
        if f.minimum is not None and f.maximum is not None:
            return f"请填 {f.minimum}—{f.maximum} 之间的整数。"
        return f"请填不小于 {f.minimum} 的整数（人数）。" if f.minimum is not None else "请填整数。"
    if f.type == "date":
        return "请填日期，例如 2025-09-30。"
    return f.description


def _instructions(ws, found: list[Sheet], year: int, styles: _Styles) -> None:
    lines = [
        ("用途", f"填写职业技能培训品牌目录的数据（{year}年度）。填好后运行 python build.py import 本文件.xlsx，"
                 "程序检查全部数据，没有错误时写回 datasets/ 中的 CSV 文件。"),
        ("年度", f"浅黄色底的行是 {year} 年度的数据（按公布年度、年度或日期）。新公布的品牌加在“培训品牌”表末尾，"
                 f"公布年度填 {year}；上一年度的培训人数加到“年度培训成效”表。"),
        ("表头", "第1行是中文列名，不要改动；第2行（已隐藏）是程序用的列名，不要删除。不要增删、移动列。"),
        ("下拉列表", "层级、重点领域、状态、原因等列和地区、职业列请从下拉列表中选择；地区和职业写成“代码 名称”，"
                     "只填代码也可以。"),
        ("编号和代码", "品牌编号、机构编号、统一社会信用代码、行政区划代码、职业代码等列是“文本”格式，"
                       "请保持文本，不要改成数字（否则 Excel 会把信用代码改成 9.11101E+17）。"),
        ("人数和日期", "人数只填不小于 0 的整数，不填比例；日期写作 2025-09-30（2025/9/30 也可以）。"),
        ("检查", "导入时程序会一次列出全部问题，写明工作表、第几行、哪一列；有错误时不改动任何文件。"
                 "先用 python build.py import 本文件.xlsx --dry-run 可只查看新增、修改、删除了哪些行。"),
    ]
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 90)
    ws.write_string(0, 0, "职业技能培训品牌目录 填表说明", styles.bold)
    row = 2
    for label, text in lines:
        ws.write_string(row, 0, label, styles.bold)
        ws.write_string(row, 1, text, styles.wrap)
        row += 1
    row += 1
    ws.write_string(row, 0, "工作表", styles.head)
    ws.write_string(row, 1, "填什么", styles.head)
    for sheet in found:
        row += 1
        ws.write_string(row, 0, sheet.title)
        ws.write_string(row, 1, f"{sheet.note}（对应 {sheet.path}）", styles.wrap)
    row += 1
    for sheet in found:
        row += 1
        ws.write_string(row, 0, sheet.title, styles.head)
        ws.write_string(row, 1, "列名：说明", styles.head)
        for f in sheet.fields:
            row += 1
            need = "必填。" if f.required or f.name in sheet.key else ""
            allowed = f"可选：{'、'.join(f.labels.values())}。" if f.labels else ""
            ws.write_string(row, 0, f.title)
            ws.write_string(row, 1, f"{need}{f.description}{allowed}", styles.wrap)


def _shown(text: str, f: Field) -> Any:
    """A CSV cell as the template shows it: labels for codes, numbers, dates; anything else as it is."""
    if f.labels:
        return f.labels.get(text, text)
    if f.choices:
        return f.choices.get(text, text)
    if f.type == "boolean":
        return "是" if text in f.true_values else "否" if text in f.false_values else text
    if f.type == "integer" and _INTEGER_TEXT.fullmatch(text) and len(text) < 16:
        return int(text)
    if f.type == "date":
        try:
            return datetime.combine(date.fromisoformat(text), time()) if len(text) == 10 else text
        except ValueError:
            return text
    return text


# -- import -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """What an import does to one table: rows added, changed (with the columns) and removed, by key."""

    sheet: Sheet
    added: list[str]
    changed: list[tuple[str, list[str]]]
    removed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass
class Imported:
    issues: list[Issue]
    changes: list[Change]
    written: list[str] = field(default_factory=list)  # datasets/… files replaced


def import_workbook(project: Path, workbook: Path, today: date | None = None, jobs: int | None = None,
                    dry_run: bool = False, progress: Progress | None = None) -> Imported:
    """Read the workbook's sheets into CSV text, check the project as it would be, and write
    datasets/ when there are no errors (not with `dry_run`). IntakeError when the workbook cannot be read.
    `progress` (pipeline.Progress): told of each sheet read ("sheets", done, total), then the validator's stages."""
    descriptor = _descriptor(project)
    found = sheets(project, descriptor)
    tables = read_workbook(workbook, found, progress)
    new = {s.path: csv_bytes(s.header, rows) for s, (rows, _) in zip(found, tables)}
    keep = {s.path for s, (rows, _) in zip(found, tables) if not rows and s.optional
            and not (project / s.path).exists()}  # an optional table left out stays out
    new = {path: data for path, data in new.items() if path not in keep}
    from .pipeline import check_project

    with tempfile.TemporaryDirectory(prefix="skillbrands-import-") as scratch:
        copy = Path(scratch) / "project"
        _copy_project(project, copy, set(new))
        for path, data in new.items():
            (copy / path).write_bytes(data)
        issues = check_project(copy, today, jobs, progress)
    places = {s.path: (s, numbers) for s, (_, numbers) in zip(found, tables)}
    issues = [_on_sheet(issue, places, workbook.name) for issue in issues]
    changes = [_changes(project, s, rows) for s, (rows, _) in zip(found, tables)]
    result = Imported(issues, changes)
    if dry_run or has_errors(issues):
        return result
    files = {project / path: data for path, data in new.items()
             if not (project / path).is_file() or (project / path).read_bytes() != data}
    replace_files(files)
    result.written = sorted(path.relative_to(project).as_posix() for path in files)
    return result


def read_workbook(workbook: Path, found: list[Sheet],
                  progress: Progress | None = None) -> list[tuple[list[list[str]], list[int]]]:
    """Each sheet's rows as CSV cells in schema order, with their Excel row numbers (1-based)."""
    from openpyxl import load_workbook

    if not workbook.is_file():
        raise IntakeError(f"找不到文件 {workbook}。")
    try:
        book = load_workbook(workbook, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - zip, XML and openpyxl's own errors: the file is no workbook
        raise IntakeError(f"{workbook.name} 不是可以读取的 Excel 工作簿（.xlsx）：请用 Excel 或 WPS 打开后"
                          f"“另存为 → Excel 工作簿（*.xlsx）”，或用 python build.py template 生成新的模板"
                          f"（{excerpt(type(error).__name__ + ': ' + str(error), 80)}）。") from None
    try:
        problems, out = [], []
        names = {ws.title.strip(): ws for ws in book.worksheets}
        for done, sheet in enumerate(found):
            if progress:
                progress("sheets", done, len(found))
            ws = names.get(sheet.title) or names.get(sheet.name)
            if ws is None:
                problems.append(f"缺少工作表“{sheet.title}”（{sheet.path}）；请使用 python build.py template 生成的模板，"
                                "不要删除或改名工作表。")
                continue
            try:
                out.append(_sheet_rows(ws, sheet, problems))
            except IntakeError:
                raise
            except Exception as error:  # noqa: BLE001 - a damaged sheet
                problems.append(f"工作表“{sheet.title}”无法读取：{excerpt(error, 80)}。")
        if problems:
            raise IntakeError("\n".join(problems))
        return out
    finally:
        book.close()


def _sheet_rows(ws, sheet: Sheet, problems: list[str]) -> tuple[list[list[str]], list[int]]:
    ws.reset_dimensions()  # the size a file declares may be wrong: read every row it has
    rows = ws.iter_rows(values_only=True)
    titles = [_label(v) for v in next(rows, ())]
    codes = [_label(v) for v in next(rows, ())]
    first = 3
    if set(sheet.header) & set(codes):  # the hidden row of column names
        heading = codes
    else:  # no code row (it was deleted): the titles, and the data start in row 2
        heading, first = titles, 2
        rows = ws.iter_rows(min_row=2, values_only=True)
    wanted = {f.name: f.name for f in sheet.fields} if heading is codes else {f.title: f.name for f in sheet.fields}
    at: dict[str, int] = {}
    for index, label in enumerate(heading):
        if label in wanted and wanted[label] not in at:
            at[wanted[label]] = index
    missing = [f.title for f in sheet.fields if f.name not in at]
    if missing:
        problems.append(f"工作表“{sheet.title}”缺少列：{'、'.join(missing)}；请不要删除或改名模板中的列"
                        "（第1行中文列名、第2行隐藏的列名）。")
        return [], []
    columns = [(at[f.name], f) for f in sheet.fields]
    out, numbers = [], []
    most = limits.max_rows(len(columns))
    for number, values in enumerate(rows, start=first):
        if len(out) == most:
            raise IntakeError(f"工作表“{sheet.title}”超过 {most:,} 行，超过本表的行数上限（与 CSV 文件相同），未导入；"
                              "请检查是否重复粘贴了数据。")
        row = [cell_text(values[i] if i < len(values) else None, f) for i, f in columns]
        if any(cell.strip() for cell in row):
            out.append(row)
            numbers.append(number)
    return out, numbers


def _label(value: Any) -> str:
    return cells.strip_cell(str(value)) if value is not None else ""


def cell_text(value: Any, f: Field) -> str:
    """An Excel cell as the CSV text of its column: codes for labels, true/false for 是/否, YYYY-MM-DD
    for dates (date cells, serials in a date column, dates typed as text), 12 for 12.0. A value
    that cannot be converted stays as it is, for the validator to name."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("true" if value else "false") if f.type == "boolean" else ("TRUE" if value else "FALSE")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() or f.type == "date" else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if f.type == "date" and _DAY_SERIALS[0] <= value < _DAY_SERIALS[1]:
            return (_EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
        return _number(value)
    if isinstance(value, time):
        return value.isoformat()
    text = str(value)
    plain = cells.strip_cell(text)
    if f.type == "boolean":
        return "true" if plain == "是" else "false" if plain == "否" else text
    if f.type == "date":
        loose = cells.LOOSE_DATE.fullmatch(plain)
        if loose:
            try:
                return date(*map(int, loose.groups())).isoformat()
            except ValueError:
                return text
        return text
    if f.type == "integer":
        whole = _FLOAT_TEXT.fullmatch(plain)
        return whole.group(1) if whole else text
    if f.labels:
        if plain in f.labels:
            return plain
        return f.from_label.get(unicodedata.normalize("NFKC", plain), text)
    if f.choices:
        return plain if plain in f.choices else f.from_choice.get(plain, text)
    return text


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < _WHOLE_FLOAT:
        return str(int(value))
    return repr(value)  # 9.11101e+17 stays scientific: the validator says the digits are lost


def _on_sheet(issue: Issue, places: Mapping[str, tuple[Sheet, list[int]]], book: str) -> Issue:
    """An issue of an imported CSV file named by sheet, Excel row and Chinese column title."""
    place = places.get(issue.path)
    if place is None:
        return issue
    sheet, numbers = place
    row = issue.row
    if row is not None:
        row = 1 if row == 1 else (numbers[row - 2] if 0 <= row - 2 < len(numbers) else row)
    titles = {f.name: f.title for f in sheet.fields}
    column = titles.get(issue.field, issue.field) if issue.field else None
    return Issue(f"{book} 工作表“{sheet.title}”", row, column, issue.code, issue.severity, issue.message)


def _copy_project(project: Path, copy: Path, replaced: set[str]) -> None:
    """What check_project reads: datasets/ (with the frozen editions) and content/; the imported files
    are left out, to be written from the workbook."""
    skip = {Path(p).name for p in replaced}
    shutil.copytree(project / "datasets", copy / "datasets", symlinks=True,
                    ignore=lambda folder, names: [n for n in names if Path(folder) == project / "datasets" and n in skip])
    for folder in ("content", "site_templates"):
        if (project / folder).is_dir():
            shutil.copytree(project / folder, copy / folder, symlinks=True)


def _changes(project: Path, sheet: Sheet, rows: list[list[str]]) -> Change:
    try:
        table = read_csv(project / sheet.path)
    except IntakeError:  # a file that cannot be read is replaced whole
        table = None
    old = _keyed(sheet, _by_name(*table, sheet.header) if table else [])
    new = _keyed(sheet, rows)
    titles = [f.title for f in sheet.fields]
    changed = [(key, [t for t, a, b in zip(titles, old[key], row) if a != b])
               for key, row in new.items() if key in old and old[key] != row]
    return Change(sheet, [k for k in new if k not in old], changed, [k for k in old if k not in new])


def _keyed(sheet: Sheet, rows: list[list[str]]) -> dict[str, list[str]]:
    at = [sheet.header.index(k) for k in sheet.key if k in sheet.header] or list(range(len(sheet.header)))
    return {"/".join(row[i] for i in at): row for row in rows}


def change_lines(change: Change) -> Iterator[str]:
    """A dry run's report of one table, for people."""
    c = change
    yield (f"{c.sheet.title}（{c.sheet.path}）：新增 {len(c.added):,} 行、修改 {len(c.changed):,} 行、"
           f"删除 {len(c.removed):,} 行")
    for what, keys in (("新增", c.added), ("修改", [f"{k}（{'、'.join(cols)}）" for k, cols in c.changed]),
                       ("删除", c.removed)):
        if keys:
            more = f" …等 {len(keys):,} 行" if len(keys) > _LISTED else ""
            yield f"  {what}：{'；'.join(keys[:_LISTED])}{more}"


# -- normalize --------------------------------------------------------------------------

@dataclass(frozen=True)
class Normalized:
    path: str  # datasets/…
    changes: list[str]


def normalize(project: Path) -> list[Normalized]:
    """Rewrite every datasets/*.csv that is not in the canonical form (another encoding, a BOM, CRLF,
    no line end at the end); the cells are not touched. IntakeError, writing nothing, when a file
    cannot be decoded."""
    folder = project / "datasets"
    done, files, problems = [], {}, []
    for path in sorted(folder.glob("*.csv")):
        relpath = f"datasets/{path.name}"
        if path.is_symlink() or not path.is_file():
            problems.append(f"{relpath} 是符号链接或不是普通文件，未改动。")
            continue
        data, size = limits.read_limited(path, limits.FILE_BYTES)
        if data is None:
            problems.append(f"{relpath} 有 {limits.size(size)}，超过上限，未读取。")
            continue
        text, errors, _ = decode(data, relpath)
        if text is None:
            problems.append(f"{relpath} 无法转换：{'；'.join(errors[:3])}")
            continue
        changes = []
        body = data[len(_BOM):] if data.startswith(_BOM) else data
        if data.startswith(_BOM):
            changes.append("去掉开头的 BOM（字节顺序标记）")
        if text.encode("utf-8") != body:
            changes.append(f"编码由 {_encoding(body)} 转为 UTF-8")
        if "\r\n" in text:
            changes.append("行尾由 CRLF（Windows）改为 LF")
        if re.search(r"\r(?!\n)", text):
            changes.append("行尾由 CR 改为 LF")
        fixed = re.sub(r"\r\n?", "\n", text)
        if fixed and not fixed.endswith("\n"):
            changes.append("最后一行后加上换行")
            fixed += "\n"
        if changes:
            files[path] = fixed.encode("utf-8")
            done.append(Normalized(relpath, changes))
    if problems:
        raise IntakeError("\n".join(problems + ["没有改动任何文件。"]))
    replace_files(files)
    return done


def _encoding(body: bytes) -> str:
    for name, label in (("utf-8", "UTF-8"), ("gb18030", "GBK/GB18030")):
        try:
            body.decode(name)
            return label
        except UnicodeDecodeError:
            pass
    return "其他编码"


# -- writing ----------------------------------------------------------------------------

def replace_files(files: Mapping[Path, bytes]) -> None:
    """Write every file beside its target first, then rename each into place: a failure while
    writing leaves every target as it was."""
    temporary: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            if path.is_symlink():
                raise IntakeError(f"{path} 是符号链接；为免改写项目以外的文件，没有改动任何文件。")
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temporary.append((name, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
    except BaseException:
        for name, _ in temporary:
            Path(name).unlink(missing_ok=True)
        raise
    for name, path in temporary:
        os.replace(name, path)


def _descriptor(project: Path) -> dict[str, Any]:
    from .validate import read_descriptor

    descriptor, issues = read_descriptor(project)
    if descriptor is None:
        reasons = "；".join(excerpt(i.message, 120) for i in issues if i.severity == "error")[:600]
        raise IntakeError(f"datasets/datapackage.json 有错误，无法生成或读取工作簿：{reasons}"
                          "（运行 python build.py validate 可查看）。")
    return descriptor
