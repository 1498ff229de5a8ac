"""Input limits and issue caps: the numbers, and the per-file log that keeps issues within them.

Every limit is an error at the file, row and column where it is exceeded (README,
"Input limits"). They exist so that no input up to them -- random bytes, a million
columns, one enormous cell -- can make validation take unbounded memory, time or
output. Modules read them as `limits.NAME` at call time, so tests can lower them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .issues import Issue, excerpt

#: datasets/datapackage.json: bytes, and nesting of objects and lists
DESCRIPTOR_BYTES = 1 << 20
DESCRIPTOR_DEPTH = 20
#: one CSV file: bytes (checked with stat, before reading), data rows, cells (data rows x schema
#: columns: what memory grows with), header columns, characters per cell
FILE_BYTES = 256 << 20
FILE_ROWS = 2_000_000
FILE_CELLS = 14_000_000
COLUMNS = 200
CELL_CHARS = 2_000
#: lines that are neither UTF-8 nor GBK before a file is refused as not being text
UNDECODABLE_LINES = 1_000
#: issues of one file listed per severity (the rest are counted in one `issues-not-listed`)
LISTED = 1_000
#: errors found while reading and tidying a file after which its remaining rows are not checked
STOP_ERRORS = 10_000
#: the command line's report: issues shown per file and code in text, issues written as JSON
TEXT_REPEATS = 20
JSON_ISSUES = 10_000


def number(value: int) -> str:
    """1,000,000 as staff read it."""
    return f"{value:,}"


def size(value: int) -> str:
    """Bytes as MB (or KB), for messages."""
    if value >= 1 << 20:
        return f"{value / (1 << 20):,.1f} MB"
    return f"{value / 1024:,.1f} KB"


def max_rows(columns: int) -> int:
    """The data rows a file with this many schema columns may have (FILE_ROWS, or fewer for wide tables)."""
    return min(FILE_ROWS, FILE_CELLS // max(columns, 1))


def too_long(value: str) -> str:
    """The Chinese message for a cell over CELL_CHARS, quoting only its beginning."""
    return (f"这一格有 {number(len(value))} 个字符，超过每格 {number(CELL_CHARS)} 个字符的上限，未再检查："
            f"“{excerpt(value)}”。请检查是否把整段文字或整个文件粘贴进了一个单元格。")


@dataclass
class FileIssues:
    """One file's issues: the first LISTED of each severity by row (all file-level ones), the rest counted.

    Cheap to feed millions of issues: once a severity is full, an issue later in the
    file than the last one kept is counted and dropped without being stored.
    """

    path: str
    kept: dict[str, list[Issue]] = field(default_factory=lambda: {"error": [], "warning": []})
    general: list[Issue] = field(default_factory=list)  # row None: never capped (few per file)
    dropped: Counter = field(default_factory=Counter)
    seen: Counter = field(default_factory=Counter)
    _bound: dict[str, tuple] = field(default_factory=dict)

    def append(self, issue: Issue) -> None:
        self.seen[issue.severity] += 1
        if issue.row is None:
            self.general.append(issue)
            return
        key = (issue.row, issue.field or "", issue.code)
        bound = self._bound.get(issue.severity)
        if bound is not None and key >= bound:
            self.dropped[issue.severity] += 1
            return
        kept = self.kept[issue.severity]
        kept.append(issue)
        if len(kept) >= 2 * LISTED:
            self._trim(issue.severity)

    def extend(self, issues) -> None:
        for issue in issues:
            self.append(issue)

    def merge(self, other: "FileIssues") -> None:
        """Add another log of the same file (a worker's share of the rows)."""
        for issues in other.kept.values():
            self.extend(issues)
        self.extend(other.general)
        self.seen.update(other.dropped)
        self.dropped.update(other.dropped)

    @property
    def errors(self) -> int:
        """Errors seen so far, listed or not."""
        return self.seen["error"]

    def _trim(self, severity: str) -> None:
        kept = self.kept[severity]
        kept.sort(key=lambda i: (i.row, i.field or "", i.code))
        listed = LISTED
        if len(kept) > listed:
            self.dropped[severity] += len(kept) - listed
            del kept[listed:]
            last = kept[-1]
            self._bound[severity] = (last.row, last.field or "", last.code)

    def issues(self) -> list[Issue]:
        """What is listed, and one `issues-not-listed` if anything was left out."""
        for severity in self.kept:
            self._trim(severity)
        out = self.general + self.kept["error"] + self.kept["warning"]
        errors, warnings = self.dropped["error"], self.dropped["warning"]
        if errors or warnings:
            parts = "、".join(part for part in (f"{number(errors)} 个错误" if errors else "",
                                                 f"{number(warnings)} 个警告" if warnings else "") if part)
            out.append(Issue(self.path, None, None, "issues-not-listed", "error" if errors else "warning",
                             f"另有 {number(errors + warnings)} 处问题未列出（{parts}）；每个文件按行号最多列出 "
                             f"{number(LISTED)} 个错误和 {number(LISTED)} 个警告。请先改正上面列出的问题，再重新校验。"))
        return out


def read_limited(path: Path, limit: int) -> tuple[bytes | None, int]:
    """(bytes, size) of a file of at most `limit` bytes; (None, size) for a bigger one, which is
    refused by its size and never read whole. Raises OSError as `open` does."""
    size = path.stat().st_size
    if size > limit:
        return None, size
    with path.open("rb") as file:
        data = read_at_most(file, limit, size)
    return (None, len(data)) if len(data) > limit else (data, len(data))


def read_at_most(file: BinaryIO, limit: int, expected: int) -> bytes:
    """At most `limit` + 1 bytes of an open file (so "over the limit" shows), in pieces:
    `file.read(limit + 1)` would allocate the whole limit up front for a 1 KB file."""
    data = file.read(min(expected, limit) + 1)
    if len(data) <= expected:
        return data
    pieces = [data]
    total = len(data)
    while total <= limit:  # the file grew since stat(): read on, never past the limit
        piece = file.read(min(1 << 20, limit + 1 - total))
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return b"".join(pieces)
