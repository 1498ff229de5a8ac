"""Cells as staff type them in Excel: tidy what is unambiguous, report what is not.

Runs before frictionless so that a fixable cell (`1,234`, `１２３`, `2023/9/30`,
stray spaces) is fixed with a warning, and a cell Excel has damaged beyond repair
(`85%` for a count, `9.11101E+17`, date serial `45199`) gets an error that says
what happened, instead of frictionless's generic "type error".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

from .issues import Issue, excerpt
from .read import RawTable

#: Stable IDs end up in URLs: ASCII letters, digits, '-' and '_' only.
ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9_-]*"
_ID_RE = re.compile(ID_PATTERN)
#: What Python's str.strip() misses: zero-width characters Excel and web pages leave.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff0c\uff0d\uff0e\uff0f\uff05]")
_THOUSANDS = re.compile(r"-?\d{1,3}(?:[,，]\d{3})+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[Ee][+-]?\d+")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOOSE_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_SERIAL = re.compile(r"\d{5}(?:\.0+)?")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class FieldSpec:
    """What `cells` needs to know of one schema field."""

    name: str
    type: str
    required: bool
    is_id: bool  # a stable ID used in URLs (its pattern is ID_PATTERN)
    is_text: bool  # free text: trailing spaces are trimmed silently

    @classmethod
    def from_descriptor(cls, descriptor: dict[str, Any], key_fields: set[str]) -> "FieldSpec":
        constraints = descriptor.get("constraints", {})
        is_id = constraints.get("pattern") == ID_PATTERN
        typed = descriptor.get("type", "string") != "string"
        coded = "pattern" in constraints or "enum" in constraints or descriptor["name"] in key_fields
        return cls(
            name=descriptor["name"],
            type=descriptor.get("type", "string"),
            required=bool(constraints.get("required")),
            is_id=is_id,
            is_text=not (typed or coded),
        )


def strip_cell(value: str) -> str:
    return value.strip().strip(_INVISIBLE).strip()


def normalise_table(table: RawTable, specs: list[FieldSpec], relpath: str) -> list[Issue]:
    """Tidy `table.rows` in place; return the issues, and mark reported cells bad."""
    issues: list[Issue] = []
    for column, spec in enumerate(specs):
        if spec.name in table.missing_columns:
            continue
        fix = _FIXERS.get(spec.type, _fix_string)
        clean = _CLEAN.get(spec.type, _clean_string)
        for values, row in zip(table.rows, table.row_numbers):
            raw = values[column]
            if raw is None:
                continue
            if raw and raw[0] not in _EDGES and raw[-1] not in _EDGES and clean(raw, spec):
                continue  # the common case: nothing to tidy, nothing to report

            def report(code: str, message: str, severity: str = "error") -> None:
                issues.append(Issue(relpath, row, spec.name, code, severity, message))  # type: ignore[arg-type]
                if severity == "error":
                    table.bad_cells.add((row, spec.name))

            value = strip_cell(raw)
            if value == "":
                values[column] = None
                if spec.required and (row, spec.name) not in table.bad_cells:
                    shown = "只含空白字符（空格、全角空格或零宽空格），看起来填了其实是空的" if raw else "为空"
                    report("required", f"“{spec.name}”是必填项，这一格{shown}。")
                continue
            if value != raw and not spec.is_text:
                report("whitespace-trimmed", f"“{excerpt(raw)}”首尾有空白字符，已去掉，按“{excerpt(value)}”处理。", "warning")
            values[column] = fix(value, spec, report)
    return issues


Report = Callable[..., None]

# Fast path: characters that may need stripping at either end of a cell, and per type
# a test that a cell is already clean (checked with C-speed string methods first).
_EDGES = frozenset(" \t\r\n\u3000\u00a0" + _INVISIBLE)


def _clean_integer(raw: str, spec: FieldSpec) -> bool:
    return raw.isascii() and raw.isdigit()


def _clean_date(raw: str, spec: FieldSpec) -> bool:
    if len(raw) != 10 or not raw.isascii() or raw[4] != "-" or raw[7] != "-":
        return False
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return True


def _clean_string(raw: str, spec: FieldSpec) -> bool:
    if spec.is_id:
        return raw.isascii() and _ID_RE.fullmatch(raw) is not None
    return spec.is_text or not ("e" in raw or "E" in raw) or not (raw[:1].isdigit() or raw[:1] in "+-")


_CLEAN: dict[str, Callable[[str, FieldSpec], bool]] = {
    "integer": _clean_integer,
    "date": _clean_date,
    "string": _clean_string,
    "number": lambda raw, spec: raw.isascii() and raw.replace(".", "", 1).isdigit(),
    "boolean": lambda raw, spec: True,
}


def _fix_string(value: str, spec: FieldSpec, report: Report) -> str | None:
    if spec.is_id and not _ID_RE.fullmatch(value):
        bad = "".join(sorted({ch for ch in value if not re.fullmatch(r"[A-Za-z0-9_-]", ch)}))
        shown = bad.replace(" ", "空格") or value[:1]
        report("unsafe-id",
               f"编号“{excerpt(value)}”含有不能用于网址的字符“{excerpt(shown)}”；编号只能用英文字母、数字、连字符（-）和下划线（_），且以字母或数字开头。")
        return None
    if not spec.is_text and _SCIENTIFIC.fullmatch(value):
        report("scientific-notation",
               f"“{excerpt(value)}”是被 Excel 改成科学计数法的数字，后面的位数已经丢失，无法还原；"
               "请把这一列设为“文本”格式后重新输入原值。")
        return None
    return value


def _fullwidth(value: str, report: Report) -> str:
    if _FULLWIDTH.search(value):
        fixed = unicodedata.normalize("NFKC", value)
        report("fullwidth-digits", f"“{excerpt(value)}”含全角字符，已转为半角“{excerpt(fixed)}”。", "warning")
        return fixed
    return value


def _fix_integer(value: str, spec: FieldSpec, report: Report) -> str | None:
    value = _fullwidth(value, report)
    if value.endswith("%"):
        report("percent-value",
               f"“{excerpt(value)}”是百分比，本列应填人数（整数）；合格率、就业率等比例由人数自动计算，不要填写。")
        return None
    if _THOUSANDS.fullmatch(value):
        fixed = re.sub(r"[,，]", "", value)
        report("thousands-separator", f"“{excerpt(value)}”含千位分隔符，已按“{excerpt(fixed)}”处理。", "warning")
        return fixed
    if _SCIENTIFIC.fullmatch(value):
        report("scientific-notation", f"“{excerpt(value)}”是科学计数法，本列应填整数；请把单元格设为“数值”或“文本”格式后重新输入。")
        return None
    return value


def _fix_date(value: str, spec: FieldSpec, report: Report) -> str | None:
    value = _fullwidth(value, report)
    if _ISO.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            report("invalid-date", f"“{excerpt(value)}”不是存在的日期（请核对月份和日）；日期格式为 YYYY-MM-DD。")
            return None
        return value
    loose = _LOOSE_DATE.fullmatch(value)
    if loose:
        try:
            fixed = date(*map(int, loose.groups())).isoformat()
        except ValueError:
            report("invalid-date", f"“{excerpt(value)}”不是存在的日期（请核对月份和日）；日期格式为 YYYY-MM-DD。")
            return None
        report("date-normalised", f"日期“{excerpt(value)}”已规范为“{fixed}”；日期请写作 YYYY-MM-DD。", "warning")
        return fixed
    if _SERIAL.fullmatch(value):
        guess = (_EXCEL_EPOCH + timedelta(days=int(float(value)))).isoformat()
        report("excel-date-serial",
               f"“{excerpt(value)}”是 Excel 内部的日期序列号，不是日期；如果原意是 {guess}，请填写“{guess}”"
               "（把单元格设为“文本”格式，日期写作 YYYY-MM-DD）。")
        return None
    return value


_FIXERS: dict[str, Callable[[str, FieldSpec, Report], str | None]] = {
    "integer": _fix_integer,
    "number": _fix_integer,
    "date": _fix_date,
    "string": _fix_string,
}
