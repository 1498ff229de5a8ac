"""A guard against publishing personal information: every cell is checked before anything is built.

Staff paste from registration spreadsheets; a trainee's resident ID number or mobile
number in a "detail" or "address" cell would be published to the world. The guard
reports (masked, so the message itself does not spread it):

- an 18-digit resident ID number (GB 11643) with a valid birth date and check digit — error;
- an 11-digit mobile number in a column not declared for phones — error
  (a column is declared with `"skillbrands:phone": true` in its schema);
- a 16–19 digit number passing the Luhn check, like a bank card — warning.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .creditcode import is_valid as is_credit_code
from .issues import Issue
from .read import RawTable

_DIGITS = re.compile(r"\d{11,}")  # cheap pre-filter: nothing to look at without a long digit run
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[0-9Xx])(?![0-9A-Za-z])")
# bounded by anything but letters and digits, so part of a credit code or an ID never matches
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d{9})(?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{16,19})(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_resident_id(text: str) -> bool:
    """GB 11643-1999: province prefix, a real birth date, and the ISO 7064 MOD 11-2 check digit."""
    if not (11 <= int(text[:2]) <= 82):
        return False
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    if born.year < 1900:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == text[17].upper()


def passes_luhn(number: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def mask(text: str) -> str:
    return f"{text[:3]}{'*' * (len(text) - 7)}{text[-4:]}"


def scan_personal_data(table: RawTable, fields: list[dict[str, Any]], relpath: str) -> list[Issue]:
    """Every cell that looks like personal information, as issues at file, row and column."""
    issues: list[Issue] = []
    for column, spec in enumerate(fields):
        if spec.get("type", "string") != "string":
            continue  # typed numbers and dates cannot hold a pasted ID or phone number
        phone_ok = bool(spec.get("skillbrands:phone"))
        name = spec["name"]
        for values, row in zip(table.rows, table.row_numbers):
            text = values[column]
            if not text or not _DIGITS.search(text):
                continue
            for issue in _scan_cell(text, phone_ok):
                code, severity, message = issue
                issues.append(Issue(relpath, row, name, code, severity, message))  # type: ignore[arg-type]
    return issues


def _scan_cell(text: str, phone_ok: bool) -> list[tuple[str, str, str]]:
    found = []
    ids = {m for m in _RESIDENT_ID.findall(text) if is_resident_id(m)}
    for number in sorted(ids):
        found.append(("personal-id-number", "error",
                      f"这一格含有像居民身份证号的号码（{mask(number)}）；个人信息不能公开发布，请删除。"))
    if not phone_ok:
        for number in sorted(set(_MOBILE.findall(text))):
            found.append(("personal-mobile-number", "error",
                          f"这一格含有手机号码（{mask(number)}）；本列不是联系电话列，个人手机号不能公开发布，请删除。"))
    for number in sorted(set(_CARD.findall(text))):
        if number in ids or is_credit_code(number):
            continue  # an organisation's unified social credit code is public by law
        if passes_luhn(number):
            found.append(("personal-bank-card", "warning",
                          f"这一格含有像银行卡号的号码（{mask(number)}，通过 Luhn 校验）；如是个人银行卡号，请删除。"))
    return found
