"""Cells as staff type them in Excel: tidy what is unambiguous, report what is not.

Runs before frictionless so that a fixable cell (`1,234`, `１２３`, `2023/9/30`,
stray spaces) is fixed with a warning, and a cell Excel has damaged beyond repair
(`85%` for a count, `9.11101E+17`, date serial `45199`) gets an error that says
what happened, instead of frictionless's generic "type error".

Values that are not what they look like are settled here too: digits of other scripts
(`٩٠`) in numbers and dates become 0-9 with a warning, and only the plain forms
(`120`, `-5`, `92.5`, `2023-09-30`) reach frictionless, whose `int()` would also take
`1_000` or `+5`; characters nobody can see (zero-width spaces, bidi overrides,
control and private-use characters) are removed with a warning or refused; IDs that
cannot be a folder name on every system (`CON`, 300 characters) are refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Mapping

from .issues import EXCERPT_CHARS, Issue, excerpt
from .read import RawTable

#: Stable IDs end up in URLs: ASCII letters, digits, '-' and '_' only.
ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9_-]*"
_ID_RE = re.compile(ID_PATTERN)
#: The longest ID or page name: it becomes a folder of the site (`brands/<id>/`) and of
#: every copy of it, which must fit 255-byte file names and Windows' 260-character paths.
ID_MAX_LENGTH = 64
#: Windows device names: no file or folder may be called so, in any case, with any extension.
WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(10))})
#: What Python's str.strip() misses: zero-width characters Excel and web pages leave.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff0c\uff0d\uff0e\uff0f\uff05]")
# [0-9], not \d: Python's \d also matches ٩ and १, which int() and Decimal() accept
_THOUSANDS = re.compile(r"-?[0-9]{1,3}(?:[,，][0-9]{3})+")
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?[Ee][+-]?[0-9]+")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LOOSE_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
_SERIAL = re.compile(r"[0-9]{5}(?:\.0+)?")
#: The only forms a typed cell may have when it reaches frictionless (ASCII digits only).
_FORMS = {
    "integer": re.compile(r"-?[0-9]+"),
    "number": re.compile(r"-?[0-9]+(?:\.[0-9]+)?"),
    "year": re.compile(r"[0-9]{4}"),
}
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class FieldSpec:
    """What `cells` needs to know of one schema field."""

    name: str
    type: str
    required: bool
    is_id: bool  # a stable ID used in URLs (its pattern is ID_PATTERN)
    is_text: bool  # free text: trailing spaces are trimmed silently
    is_code: bool = False  # a key, an allowed value or a pattern with digits: digits must be 0-9
    #: an allowed value's Chinese label (the schema's enumLabels, as the site shows it) -> the value
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

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
            is_code=not typed and ("0-9" in constraints.get("pattern", "") or "enum" in constraints
                                   or descriptor["name"] in key_fields),
            labels=label_values(descriptor),
        )


def label_values(descriptor: dict[str, Any]) -> dict[str, str]:
    """Chinese label (NFKC, so 旗县(市、区) and 旗县（市、区） are one) -> allowed value, from the
    field's enumLabels: the labels the site and the downloads show, defined once in the schema.
    A label two values share would be a guess, so it is left out."""
    labels = descriptor.get("enumLabels")
    allowed = descriptor.get("constraints", {}).get("enum")
    if not isinstance(labels, dict) or not isinstance(allowed, list):
        return {}
    found: dict[str, list[str]] = {}
    for value, label in labels.items():
        if value in allowed and isinstance(label, str) and label.strip():
            found.setdefault(unicodedata.normalize("NFKC", label.strip()), []).append(value)
    return {label: values[0] for label, values in found.items() if len(values) == 1 and label not in allowed}


def strip_cell(value: str) -> str:
    return value.strip().strip(_INVISIBLE).strip()


def unsafe_name(name: str) -> tuple[str, str] | None:
    """(issue code, Chinese reason) when `name` cannot be a file or folder name on every
    system the site is copied to (a Windows device name, or too long); else None."""
    if name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        return ("reserved-name", "是 Windows 保留的设备名（CON、PRN、AUX、NUL、COM0–COM9、LPT0–LPT9，不分大小写），"
                                 "网站复制到 Windows 电脑上时无法建立这个名字的文件夹")
    if len(name) > ID_MAX_LENGTH:
        return ("id-too-long", f"有 {len(name):,} 个字符，超过上限 {ID_MAX_LENGTH} 个字符"
                               "（它会成为网址和文件夹名，太长的名字在一些系统上无法保存）")
    return None


def normalise_table(table: RawTable, specs: list[FieldSpec], relpath: str) -> list[Issue]:
    """Tidy `table.rows` in place; return the issues, and mark reported cells bad."""
    issues: list[Issue] = []
    for column, spec in enumerate(specs):
        if spec.name in table.missing_columns:
            continue
        fix = _FIXERS.get(spec.type, _fix_string)
        clean = _cleaner(spec)
        for values, row in zip(table.rows, table.row_numbers):
            raw = values[column]
            if raw is None:
                continue
            if raw and raw[0] not in _EDGES and raw[-1] not in _EDGES and clean(raw):
                continue  # the common case: nothing to tidy, nothing to report

            def report(code: str, message: str, severity: str = "error") -> None:
                issues.append(Issue(relpath, row, spec.name, code, severity, message))  # type: ignore[arg-type]
                if severity == "error":
                    table.bad_cells.add((row, spec.name))

            value = strip_cell(raw)
            trimmed = value != raw
            if value and not spec.is_id and not value.isprintable():
                visible = _visible(value, report)  # IDs are checked whole by _fix_string
                if visible is None:
                    values[column] = None
                    continue
                value = strip_cell(visible)
            if value == "":
                values[column] = None
                if spec.required and (row, spec.name) not in table.bad_cells:
                    shown = "只含空白字符（空格、全角空格或零宽空格），看起来填了其实是空的" if raw else "为空"
                    report("required", f"“{spec.name}”是必填项，这一格{shown}。")
                continue
            if trimmed and not spec.is_text:
                report("whitespace-trimmed", f"“{excerpt(raw)}”首尾有空白字符，已去掉，按“{excerpt(value)}”处理。", "warning")
            values[column] = fix(value, spec, report)
    return issues


Report = Callable[..., None]

# Fast path: characters that may need stripping at either end of a cell, and per type
# a test that a cell is already clean (checked with C-speed string methods first:
# str.isprintable() is False for every control, format, private-use, unassigned or
# separator character other than the ASCII space, so a clean cell costs one C loop).
_EDGES = frozenset(" \t\r\n\u3000\u00a0" + _INVISIBLE)


def _clean_integer(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


def _clean_number(raw: str) -> bool:
    return raw.isascii() and raw.replace(".", "", 1).isdigit() and raw[0] != "." and raw[-1] != "."


def _clean_year(raw: str) -> bool:
    return len(raw) == 4 and raw.isascii() and raw.isdigit()


def _clean_date(raw: str) -> bool:
    if len(raw) != 10 or not raw.isascii() or raw[4] != "-" or raw[7] != "-":
        return False
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return True


def _clean_id(raw: str) -> bool:
    return (raw.isascii() and len(raw) <= ID_MAX_LENGTH and _ID_RE.fullmatch(raw) is not None
            and (len(raw) > 4 or raw.upper() not in WINDOWS_RESERVED))


def _clean_code(raw: str) -> bool:
    return raw.isascii() and raw.isprintable() and (
        not ("e" in raw or "E" in raw) or not (raw[:1].isdigit() or raw[:1] in "+-"))


_CLEAN: dict[str, Callable[[str], bool]] = {
    "integer": _clean_integer,
    "date": _clean_date,
    "number": _clean_number,
    "year": _clean_year,
    "boolean": str.isprintable,  # trueValues / falseValues are matched exactly
}


def _cleaner(spec: FieldSpec) -> Callable[[str], bool]:
    """The fast test for one column; free text is clean when printable (one C call)."""
    if spec.type != "string":
        return _CLEAN.get(spec.type, _clean_code)
    return _clean_id if spec.is_id else str.isprintable if spec.is_text else _clean_code


# -- characters nobody can see ------------------------------------------------------------

#: Bidi embeddings, overrides and isolates: they reorder what readers see ("Trojan Source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: ZWNJ / ZWJ shape Arabic, Uyghur, Mongolian, Indic scripts and emoji; kept between their letters.
_JOINERS = frozenset("\u200c\u200d")
#: Mongolian vowel separator: kept between Mongolian letters (ᠴᠢᠨ᠎ᠠ).
_MVS = "\u180e"
_CONTEXTUAL = re.compile("[\u200c\u200d\u180e]")
_MONGOLIAN = range(0x1800, 0x18B0)
_CHAR_NAMES = {
    "\u200b": "零宽空格", "\u200c": "零宽不连字", "\u200d": "零宽连字", "\u2060": "零宽不折行空格",
    "\ufeff": "字节顺序标记", "\u00ad": "软连字符", "\u200e": "从左到右标记", "\u200f": "从右到左标记",
    "\u061c": "阿拉伯字母标记", "\u180e": "蒙古文元音分隔符", "\u2028": "行分隔符", "\u2029": "段分隔符",
    "\u202a": "从左到右嵌入", "\u202b": "从右到左嵌入", "\u202c": "方向格式结束", "\u202d": "从左到右强制",
    "\u202e": "从右到左强制", "\u2066": "从左到右隔离", "\u2067": "从右到左隔离", "\u2068": "首强字符隔离",
    "\u2069": "方向隔离结束",
}


def _kind(ch: str) -> str | None:
    """The issue code for a non-printable character, or None to keep it."""
    category = unicodedata.category(ch)
    if ch in "\t\n\r" or category == "Zs":
        return None  # tab and line breaks of multi-line cells, and spaces, are text
    if ch in _BIDI_CONTROLS:
        return "bidi-control"
    if category == "Cc":
        return "control-character"
    if category == "Co":
        return "private-use-character"
    if category == "Cn":
        return None if _future_ideograph(ord(ch)) else "invalid-character"
    if category == "Cs":
        return "invalid-character"
    return "invisible-character"  # other format characters (Cf), line and paragraph separators


def _future_ideograph(code: int) -> bool:
    """Planes 2 and 3 hold CJK ideographs only: one this Python's Unicode database does not
    know yet (Extension H, I ...) is a newer rare character, not garbage."""
    return 0x20000 <= code <= 0x3FFFF and code & 0xFFFF < 0xFFFE


def _joinable(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category[0] == "M" or category == "So":
        return True  # combining marks (Mongolian variation selectors, viramas), emoji
    # letters of scripts that join; Chinese, Japanese and Korean (wide) never do
    return category[0] == "L" and unicodedata.east_asian_width(ch) not in ("W", "F")


def _in_place(value: str, index: int) -> bool:
    """Is the ZWJ, ZWNJ or MVS at `index` between letters of a script that uses it?"""
    if index == 0 or index == len(value) - 1:
        return False
    before, after = value[index - 1], value[index + 1]
    if value[index] == _MVS:
        return ord(before) in _MONGOLIAN and ord(after) in _MONGOLIAN
    return _joinable(before) and _joinable(after)


def _code_point(ch: str) -> str:
    name = _CHAR_NAMES.get(ch)
    return f"U+{ord(ch):04X}（{name}）" if name else f"U+{ord(ch):04X}"


def _marked(value: str, chars: set[str]) -> str:
    """The value as a message may quote it: its first EXCERPT_CHARS characters, with each of
    `chars` and anything else not printable written as [U+XXXX], so the reader sees where."""
    shown = "".join(f"[U+{ord(ch):04X}]" if ch in chars or not (ch.isprintable() or ch == "\u3000") else ch
                    for ch in value[:EXCERPT_CHARS])
    return shown if len(value) <= EXCERPT_CHARS else f"{shown}…（共 {len(value):,} 个字符）"


_MESSAGES = {
    "bidi-control": "含有改变文字显示方向的控制字符 {chars}：网页上看到的文字顺序会与实际内容不同，可被用来伪装名称。"
                    "请重新输入这一格（不要从网页或聊天软件中复制粘贴）。",
    "control-character": "含有控制字符 {chars}：它不是文字，看不见也打印不出，常见于从其他系统导出或复制的内容{c1}。"
                         "请重新输入这一格。",
    "private-use-character": "含有私用区字符 {chars}：这是用造字程序造的字或某种字体专用的符号，别人的电脑和网页上会显示成"
                             "方框或别的字。请改用标准汉字，或用文字说明。",
    "invalid-character": "含有无效字符 {chars}（Unicode {version} 中没有这个字符），网页上无法显示。请检查来源后重新输入这一格。",
}


def _visible(value: str, report: Report) -> str | None:
    """Remove what nobody can see (a warning), refuse what changes what readers see or
    cannot be shown (an error, and None); keep tabs, line breaks and joiners in place."""
    kinds: dict[str, list[str]] = {}
    for ch in sorted(ch for ch in set(value) if not ch.isprintable()):
        kind = _kind(ch)
        if kind is not None:
            kinds.setdefault(kind, []).append(ch)
    removable = set(kinds.pop("invisible-character", ()))
    for kind, chars in kinds.items():  # errors: the cell is refused
        first = min(value.index(ch) for ch in chars) + 1
        c1 = "；U+0080–U+009F 的字符通常说明文件曾按错误的编码转换过" if any("\x80" <= ch <= "\x9f" for ch in chars) else ""
        detail = _MESSAGES[kind].format(chars="、".join(map(_code_point, chars)), c1=c1, version=unicodedata.unidata_version)
        report(kind, f"“{_marked(value, set(chars) | removable)}”（第 {first} 个字符处）{detail}")
    if kinds:
        return None
    if not removable:
        return value
    drop = {m.start() for m in _CONTEXTUAL.finditer(value) if m.group() in removable and not _in_place(value, m.start())}
    plain = removable - _JOINERS - {_MVS}
    fixed = value.translate({ord(ch): None for ch in plain}) if not drop else "".join(
        ch for index, ch in enumerate(value) if ch not in plain and index not in drop)
    if fixed == value:
        return value  # only joiners where they belong
    gone = sorted(plain | {value[index] for index in drop})
    report("invisible-character",
           f"“{_marked(value, set(gone))}”中有看不见的字符 {'、'.join(map(_code_point, gone))}，已去掉，"
           f"按“{_marked(fixed, set())}”处理。", "warning")
    return fixed


# -- digits and the forms of typed cells ---------------------------------------------------------

_DIGIT_SYSTEMS = {
    0xFF10: "全角数字", 0x0660: "阿拉伯-印度数字", 0x06F0: "东阿拉伯数字（波斯、乌尔都文）", 0x0966: "天城文数字",
    0x0F20: "藏文数字", 0x1810: "蒙古文数字", 0x0E50: "泰文数字", 0x1040: "缅甸文数字",
}


def _digit_systems(value: str) -> str:
    zeros = sorted({ord(ch) - unicodedata.decimal(ch) for ch in value if ch.isdecimal() and not ch.isascii()})
    return "、".join(_DIGIT_SYSTEMS.get(zero, f"{unicodedata.name(chr(zero), '').rsplit(' DIGIT', 1)[0]} 数字")
                    for zero in zeros)


def _other_digits(value: str, report: Report) -> str:
    """Digits of any script (Unicode Nd: ٩, ۹, ९, ᠙, ༩, 𝟗 ...) as 0-9, with a warning."""
    if value.isascii():
        return value
    plain = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in value)
    if plain != value:
        report("other-digits", f"“{excerpt(value)}”中的数字是{_digit_systems(value)}，已转为 0-9，"
                               f"按“{excerpt(plain)}”处理；请核对。", "warning")
    return plain


_EXPECTED = {
    "integer": "整数：本列只能填写由 0-9 组成的整数（如 120）",
    "number": "数字：本列只能填写由 0-9 组成的数，可带一个小数点，小数点前后都要有数字（如 92.5、0.5）",
    "year": "年份：本列应填写四位年份（如 2023）",
    "date": "日期：日期格式为 YYYY-MM-DD（如 2023-09-30）",
}
_NAMED = {"_": "下划线（_）", "+": "加号（+）", ".": "小数点（.）", " ": "空格", ",": "逗号（,）", "，": "中文逗号（，）"}


#: what frictionless's Decimal/int would also read as a number, and what it means
_NOT_FINITE = {"nan": "NaN 的意思是“不是数字”", "snan": "sNaN 的意思是“不是数字”",
               "inf": "表示无穷大", "infinity": "表示无穷大"}


def _refuse_form(value: str, spec: FieldSpec, report: Report) -> None:
    meaning = _NOT_FINITE.get(value.strip("+-").lower())
    if meaning:
        report("type-error", f"“{excerpt(value)}”不是有效的{_EXPECTED[spec.type]}（{meaning}）。")
        return
    allowed = set("0123456789-" + ("." if spec.type == "number" else ""))
    odd = []
    for ch in value:
        shown = _NAMED.get(ch) or ("字母" if ch.isascii() and ch.isalpha() else f"“{_marked(ch, set())}”")
        if ch not in allowed and shown not in odd:
            odd.append(shown)
    extra = f"；其中的{'、'.join(odd[:5])}不能填写" if odd else ""
    report("type-error", f"“{_marked(value, set())}”不是有效的{_EXPECTED[spec.type]}{extra}。")


def _fix_string(value: str, spec: FieldSpec, report: Report) -> str | None:
    if spec.is_id and not _ID_RE.fullmatch(value):
        bad = "".join(sorted({ch for ch in value if not re.fullmatch(r"[A-Za-z0-9_-]", ch)}))
        shown = bad.replace(" ", "空格") or value[:1]
        report("unsafe-id",
               f"编号“{excerpt(value)}”含有不能用于网址的字符“{excerpt(shown)}”；编号只能用英文字母、数字、连字符（-）和下划线（_），且以字母或数字开头。")
        return None
    unsafe = unsafe_name(value) if spec.is_id else None
    if unsafe:
        report(unsafe[0], f"编号“{excerpt(value)}”{unsafe[1]}；请改用别的编号。")
        return None
    if spec.labels and not value.isascii():
        code = spec.labels.get(unicodedata.normalize("NFKC", value))
        if code is not None:
            report("label-normalised", f"“{excerpt(value)}”是网页上显示的中文名称，本列应填代码，已按“{code}”处理；"
                                       f"请改填 {code}。", "warning")
            return code
    if spec.is_code and not value.isascii() and _has_other_digits(value):
        report("code-digits", f"“{excerpt(value)}”中的数字是{_digit_systems(value)}；编号和代码只能用半角数字 0-9，"
                              "请切换到英文半角输入后重新输入。")
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


def _has_other_digits(value: str) -> bool:
    return any(ch.isdecimal() for ch in value if not ch.isascii())


def _fix_integer(value: str, spec: FieldSpec, report: Report) -> str | None:
    """integer, number and year cells: only -?[0-9]+ (and one decimal point) reach frictionless."""
    value = _other_digits(_fullwidth(value, report), report)
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
    if not _FORMS[spec.type].fullmatch(value):
        _refuse_form(value, spec, report)
        return None
    if value.startswith("-") and not value.strip("-0."):  # Decimal keeps the sign of -0: shown as "-0"
        report("type-error", f"“{excerpt(value)}”是负零，请填 0。")
        return None
    return value


def _fix_date(value: str, spec: FieldSpec, report: Report) -> str | None:
    value = _other_digits(_fullwidth(value, report), report)
    if _ISO.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            report("invalid-date", f"“{excerpt(value)}”不是存在的日期（请核对月份和日）；日期格式为 YYYY-MM-DD。")
            return None
        return value
    loose = LOOSE_DATE.fullmatch(value)
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
    _refuse_form(value, spec, report)
    return None


_FIXERS: dict[str, Callable[[str, FieldSpec, Report], str | None]] = {
    "integer": _fix_integer,
    "number": _fix_integer,
    "year": _fix_integer,
    "date": _fix_date,
    "string": _fix_string,
    "boolean": lambda value, spec, report: value,  # frictionless matches trueValues / falseValues
}
