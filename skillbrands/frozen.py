"""Frozen editions, checked on every build: history that cannot be bypassed.

Every entry of `datasets/editions/` must be a real folder named exactly as a year in
releases.csv (four ASCII digits), holding the edition's five CSV files and a
SHA256SUMS in sha256sum's format whose digests match. The frozen files are the edition:
it is published from them byte for byte and never recomputed. Today's data are compared
with them row by row only to find what changed since (`RowChange`), which corrections.csv
must explain (`corrections.py`). Damage of any kind is an `Issue` at the damaged file,
never an exception, and nothing behind a symlink is read (`pipeline.check_paths` refuses
it). Only an edition checked and found intact counts as frozen (`History.verified`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Mapping

from . import limits
from .editions import FROZEN_DIR, SUMS, TABLES, Edition, csv_rows, edition_csv, plain
from .formats import csv_text_bytes
from .issues import Issue, excerpt

Locate = Callable[[str, tuple[str, ...]], int | None]
#: the files of a frozen edition folder, besides SHA256SUMS
EDITION_FILES = tuple(f"{name}.csv" for name in TABLES)
#: a folder name that is a year: ASCII digits, canonical ("²", "２０２４", "02024" are not)
_YEAR = re.compile(r"[1-9][0-9]{3}")
#: one line of sha256sum's output: digest, a space, " " (text) or "*" (binary), file name
_SUMS_LINE = re.compile(rb"([0-9a-fA-F]{64}) [ *]([!-~]+)")
#: rows of one frozen file reported one by one; the rest are counted
ROW_PROBLEMS = 10
_BOM = b"\xef\xbb\xbf"
_ASK = "已公布的版本不能修改：请从 git 历史中恢复该文件（git checkout -- 文件路径）。"


@dataclass(frozen=True)
class History:
    """What the frozen editions say: the years checked and found intact, their files, how today's
    data differ from them, and every problem."""

    verified: frozenset[int]  # frozen, read whole, intact: the site says 已冻结
    issues: tuple[Issue, ...]
    stored: Mapping[int, Mapping[str, bytes]] = field(default_factory=dict)  # year -> the frozen CSV files
    changes: Mapping[int, tuple["RowChange", ...]] = field(default_factory=dict)  # year -> rows today's data differ in


def check_history(project: Path, editions: list[Edition] | None, release_years: set[int] | None,
                  today: date, locate: Locate, keys: Mapping[str, tuple[str, ...]] | None = None) -> History:
    """Every entry of datasets/editions/: a folder named as a release year, whole, matching its
    SHA256SUMS; and, for each, the rows today's data would publish otherwise (for corrections.py).
    Nothing behind a symlink is read (check_paths reports it).

    `editions` is None when the data has errors: the folders are still checked, not compared.
    `release_years` is None when releases.csv cannot be read: folder names are checked, not looked up.
    `keys`: each table's key columns (the schema's primaryKey).
    """
    issues: list[Issue] = []
    folders, claimed, readable = _edition_folders(project, issues)
    if release_years is not None:
        for year in sorted(set(folders) - release_years):
            issues.append(Issue(f"{FROZEN_DIR}/{year}", None, None, "edition-year-unknown", "error",
                                f"{FROZEN_DIR}/{year}/ 是{year}年度的冻结版本，但 datasets/releases.csv 中没有{year}年度。"
                                f"已公布的版本不能撤销：请在 releases.csv 中恢复{year}年度的登记；如果该版本确实从未公布、"
                                "这个文件夹是误建的，须经批准后删除它。"))
    by_year = {edition.year: edition for edition in editions or ()}
    verified: set[int] = set()
    kept: dict[int, Mapping[str, bytes]] = {}
    differences: dict[int, tuple[RowChange, ...]] = {}
    derived_differ: list[int] = []  # years whose changes.csv today's data would write otherwise
    for year in sorted(folders):
        stored, problems = read_frozen(project, year)
        issues += problems
        if stored is not None and year in by_year:
            changed, problems, derived = compare_frozen(year, stored, by_year[year], keys or {})
            issues += problems
            if not problems:
                verified.add(year)
                kept[year] = stored
                differences[year] = tuple(changed)
                if derived:
                    derived_differ.append(year)
    for year in derived_differ:
        issue = _derived_unexplained(year, by_year[year], differences)
        if issue is not None:
            issues.append(issue)
            verified.discard(year)
    if readable:
        for edition in editions or ():
            if edition.year not in claimed and edition.release.published_date <= today:
                issues.append(Issue(
                    "datasets/releases.csv", locate("releases", (str(edition.year),)), "year", "edition-not-frozen",
                    "warning", f"{edition.year}年度版本已于 {edition.release.published_date.isoformat()} 公布，但尚未冻结；"
                    f"请运行 python build.py freeze --year {edition.year} 并提交 {FROZEN_DIR}/{edition.year}/。"))
    return History(frozenset(verified), tuple(issues), kept, differences)


def _shown(name: str) -> str:
    """A file name as text, even when it is not valid UTF-8 on disk."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _edition_folders(project: Path, issues: list[Issue]) -> tuple[dict[int, Path], set[int], bool]:
    """(year -> real folder to check, years that have an entry of that name, whether editions/ could be read)."""
    root = project / FROZEN_DIR
    if (project / "datasets").is_symlink() or root.is_symlink():
        return {}, set(), False  # refused by check_paths; never followed
    if not root.exists():
        return {}, set(), True
    if not root.is_dir():
        issues.append(Issue(FROZEN_DIR, None, None, "edition-entry-invalid", "error",
                            f"{FROZEN_DIR} 是文件，应为存放冻结版本的文件夹；请删除这个文件。"))
        return {}, set(), True
    folders: dict[int, Path] = {}
    claimed: set[int] = set()
    for entry in _entries(root, FROZEN_DIR, issues):
        name = _shown(entry.name)
        relpath = f"{FROZEN_DIR}/{name}"
        year = int(entry.name) if _YEAR.fullmatch(entry.name) else None
        if year is not None:
            claimed.add(year)
        if entry.is_symlink():
            continue  # check_paths reports it
        if year is None:
            kind = "文件夹" if entry.is_dir(follow_symlinks=False) else "文件"
            issues.append(Issue(relpath, None, None, "edition-entry-invalid", "error",
                                f"{FROZEN_DIR}/ 中只能有以年度命名的冻结版本文件夹，{kind}“{excerpt(name)}”不是："
                                "文件夹名必须与 releases.csv 中的年度完全一致，写成四位半角数字（如 2023，不能有前导零、"
                                f"全角数字、空格或后缀）。如果它是某个年度的冻结版本，请把名称改回该年度；否则请把它移出 {FROZEN_DIR}/。"))
        elif not entry.is_dir(follow_symlinks=False):
            issues.append(Issue(relpath, None, None, "edition-entry-invalid", "error",
                                f"{relpath} 是文件，不是文件夹；冻结版本应是文件夹 {relpath}/"
                                f"（由 python build.py freeze --year {year} 生成）。请删除这个文件后重新冻结。"))
        else:
            folders[year] = Path(entry.path)
    return folders, claimed, True


def _entries(folder: Path, relfolder: str, issues: list[Issue]) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as error:
        issues.append(Issue(relfolder, None, None, "edition-file-invalid", "error",
                            f"无法读取文件夹 {relfolder}/：{error.strerror or error}。"))
        return []


def read_frozen(project: Path, year: int) -> tuple[dict[str, bytes] | None, list[Issue]]:
    """The CSV files of a frozen edition, checked to be whole; None (and the issues) if anything is wrong.

    Cheap enough for every build: one hash and one UTF-8 decode per file, and the header.
    """
    relfolder = f"{FROZEN_DIR}/{year}"
    issues: list[Issue] = []
    files: dict[str, bytes] = {}
    seen: set[str] = set()  # names present as a file (or a symlink, refused elsewhere)
    linked = False
    for entry in _entries(project / relfolder, relfolder, issues):
        name, relpath = entry.name, f"{relfolder}/{_shown(entry.name)}"
        if entry.is_symlink():
            seen.add(name)
            linked = True  # unusable; refused by check_paths, never read
            continue
        if entry.is_dir(follow_symlinks=False):
            issues.append(Issue(relpath, None, None, "edition-entry-invalid", "error",
                                f"冻结版本的文件夹中不能有子文件夹“{excerpt(_shown(name))}”；请把它移出 {relfolder}/。"))
            continue
        if name not in EDITION_FILES and name != SUMS:
            issues.append(Issue(relpath, None, None, "edition-entry-invalid", "error",
                                f"“{excerpt(_shown(name))}”不是冻结版本的文件（应只有 {'、'.join(EDITION_FILES)} 和 {SUMS}）；"
                                f"请把它移出 {relfolder}/。"))
            continue
        seen.add(name)
        try:
            data, size = limits.read_limited(Path(entry.path), limits.FILE_BYTES)
            if data is None:  # refused by its size, never read whole (as data files are)
                issues.append(Issue(relpath, None, None, "file-too-large", "error",
                                    f"{relpath} 有 {limits.size(size)}，超过每个文件 {limits.size(limits.FILE_BYTES)} 的上限；"
                                    f"冻结文件不会这么大，它已被改动。{_ASK}"))
                continue
            files[name] = data
        except OSError as error:
            issues.append(Issue(relpath, None, None, "edition-file-invalid", "error",
                                f"无法读取 {relpath}：{error.strerror or error}。"))
    for name in (*EDITION_FILES, SUMS):
        if name not in seen:
            issues.append(Issue(f"{relfolder}/{name}", None, None, "edition-file-missing", "error",
                                f"{year}年度的冻结版本缺少 {name}。{_ASK}如果该版本其实尚未冻结，"
                                f"请删除 {relfolder}/ 后运行 python build.py freeze --year {year}。"))
    if SUMS in files:
        issues += _check_sums(year, files[SUMS], files)
    for name, (_, columns) in TABLES.items():
        if f"{name}.csv" in files:
            issues += _check_text(files[f"{name}.csv"], columns, f"{relfolder}/{name}.csv")
    if issues or linked:
        return None, issues
    return {name: files[name] for name in EDITION_FILES}, []


def _check_sums(year: int, data: bytes, files: Mapping[str, bytes]) -> list[Issue]:
    """SHA256SUMS in sha256sum's format, one line per CSV file, every digest matching."""
    relpath = f"{FROZEN_DIR}/{year}/{SUMS}"
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    digests: dict[str, str] = {}
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        match = _SUMS_LINE.fullmatch(line)
        if match is None:
            bad.append((number, "格式不符"))
            continue
        name = match.group(2).decode("ascii")
        if name not in EDITION_FILES:
            bad.append((number, f"列出的“{excerpt(name)}”不是冻结版本的文件"))
        elif name in digests:
            bad.append((number, f"重复列出了 {name}"))
        else:
            digests[name] = match.group(1).decode("ascii").lower()
    if bad:
        number, reason = bad[0]
        more = f"（共 {len(bad)} 行有误）" if len(bad) > 1 else ""
        return [Issue(relpath, number, None, "edition-sums-invalid", "error",
                      f"这一行{reason}{more}：{SUMS} 每行应为 64 位十六进制校验值、两个空格、文件名"
                      f"（sha256sum 的格式），五个 CSV 文件各一行。{_ASK}")]
    unlisted = [name for name in EDITION_FILES if name in files and name not in digests]
    if unlisted:
        return [Issue(relpath, None, None, "edition-sums-invalid", "error",
                      f"{SUMS} 中缺少 {'、'.join(unlisted)} 的校验值。{_ASK}")]
    changed = [name for name in EDITION_FILES
               if name in files and hashlib.sha256(files[name]).hexdigest() != digests[name]]
    if changed:
        return [Issue(relpath, None, None, "edition-tampered", "error",
                      f"{year}年度版本的冻结文件 {'、'.join(changed)} 与 {SUMS} 不符：冻结后的文件被改动过。{_ASK}")]
    return []


def _check_text(data: bytes, columns: list[str], relpath: str) -> list[Issue]:
    """A frozen CSV file is UTF-8 with the edition's header (the rows are read only when they differ)."""
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    if not body.strip():
        return [Issue(relpath, None, None, "edition-file-invalid", "error",
                      f"{relpath} 是空文件，至少应有表头：{','.join(columns)}。{_ASK}")]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body[:error.start].count(b"\n") + 1
        return [Issue(relpath, line, None, "edition-file-invalid", "error",
                      f"这一行有不是 UTF-8 编码的字节；冻结版本的文件必须保持冻结时的 UTF-8 编码。{_ASK}")]
    end = text.find("\n")
    header = (text if end < 0 else text[:end]).removesuffix("\r").split(",")
    if header != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        what = "；".join(part for part in (
            f"缺少 {'、'.join(missing)}" if missing else "",
            f"多出 {'、'.join(excerpt(c) for c in extra[:5])}" if extra else "",
            "列的顺序不同" if not missing and not extra else "") if part)
        return [Issue(relpath, 1, None, "edition-file-invalid", "error",
                      f"{relpath} 的表头与冻结版本的列不符（{what}）；应为：{','.join(columns)}。{_ASK}")]
    return []


@dataclass(frozen=True)
class RowChange:
    """A row of a frozen edition file that today's data would write otherwise (or not at all)."""

    table: str  # the edition's file without .csv: brands, outcomes, exits, institutions
    key: tuple[str, ...]  # the row's key, as text
    old: Mapping[str, str] | None  # the frozen row (None: the row was not published)
    new: Mapping[str, str] | None  # the row as today's data has it (None: it would not be there)


def _derived_unexplained(year: int, edition: Edition,
                         differences: Mapping[int, tuple[RowChange, ...]]) -> Issue | None:
    """changes.csv is derived from this edition's four other files and the previous edition's: it
    may read otherwise today only when one of those does (a correction). When none does, the file
    itself was edited. Unknowable, so not reported, when the previous edition is not frozen."""
    prior = edition.previous.year if edition.previous is not None else None
    if differences.get(year) or (prior is not None and (prior not in differences or differences[prior])):
        return None
    relpath = f"{FROZEN_DIR}/{year}/changes.csv"
    return Issue(relpath, None, None, "edition-tampered", "error",
                 f"{relpath} 与{year}年度版本其他冻结文件推算出的变动不符，而那些文件都未改动："
                 f"冻结后的 changes.csv 被改动过（{SUMS} 也被重新生成）。{_ASK}")


def compare_frozen(year: int, stored: Mapping[str, bytes], edition: Edition,
                   keys: Mapping[str, tuple[str, ...]]) -> tuple[list[RowChange], list[Issue], bool]:
    """Compare a frozen edition (checked whole by `read_frozen`) with the one today's data produce.

    The frozen files are the edition and are never rewritten: this only finds what differs, row
    by row (`keys`: the key columns of each table, from the schema's primaryKey), so that every
    difference can be matched with corrections.csv. Cells are compared as text without the `'`
    that neutralises formula-like text, so an edition frozen before that rule reads the same.
    The changes file is not compared row by row: it is derived from the other four, and the third
    value says whether it reads otherwise today (see `_derived_unexplained`). Damage is an issue: a
    file whose rows do not read back, or the same rows in other bytes (line ends, quotes, order,
    BOM edited and SHA256SUMS regenerated), which is tampering.
    """
    relfolder = f"{FROZEN_DIR}/{year}"
    changes: list[RowChange] = []
    issues: list[Issue] = []
    derived = False
    current = edition_csv(edition)
    for name, (_, columns) in TABLES.items():
        filename = f"{name}.csv"
        relpath = f"{relfolder}/{filename}"
        if stored[filename] == current[filename]:
            continue  # the common case, one comparison of bytes: nothing is parsed
        rows, order, problems = _rows_by_key(stored[filename], keys.get(name, TABLES[name][0]), columns, relpath)
        if problems:
            issues += problems
            continue
        if name == "changes":
            derived = True  # derived from the other four: their rows say what changed
            continue
        if name == "institutions" and {key[0] for key in rows} != _institutions_of(stored["brands.csv"]):
            issues.append(Issue(relpath, None, None, "edition-tampered", "error",
                                f"{relpath} 列出的培训机构与同一版本 brands.csv 中品牌所属的机构不符（版本的机构表"
                                f"只列它的品牌所属的机构）：冻结后的文件被改动过（{SUMS} 也被重新生成）。{_ASK}"))
            continue  # a row present or absent here is otherwise taken as following the brands (corrections.py)
        now, now_order, problems = _rows_by_key(current[filename], keys.get(name, TABLES[name][0]), columns, relpath)
        if problems:  # today's own file did not read back (a cell beyond the csv module's limit)
            issues.append(Issue(relpath, None, None, "edition-changed", "error",
                                f"按当前数据算出的{year}年度版本的 {filename} 无法与冻结的文件逐行比较。"
                                "请检查数据中是否有极长的单元格。"))
            continue
        found = [RowChange(name, key, rows.get(key), now.get(key))
                 for key in sorted(set(rows) | set(now)) if rows.get(key) != now.get(key)]
        changes += found
        if not found and (_canonical(stored[filename], columns) != stored[filename] or order != now_order):
            issues.append(Issue(relpath, None, None, "edition-tampered", "error",
                                f"{relpath} 与冻结时写入的文件行行相同，但文件本身不同（换行符、引号、行的顺序或 BOM "
                                f"被改过，{SUMS} 也被重新生成）。{_ASK}"))
    return changes, issues, derived


def _institutions_of(brands: bytes) -> set[str] | None:
    """The institution_id column of a frozen brands.csv (None when its cells do not line up:
    that file's own problem, reported when it is compared)."""
    try:
        reader = csv.DictReader(io.StringIO(brands.decode("utf-8-sig"), newline=""))
        return {row["institution_id"] for row in reader}
    except (UnicodeDecodeError, csv.Error, KeyError):
        return None


def _canonical(data: bytes, columns: list[str]) -> bytes:
    """The file's own cells, written again as `freeze` writes them (BOM, CRLF, minimal quoting)."""
    return csv_text_bytes(columns, csv_rows(data))


def _rows_by_key(data: bytes, keys: tuple[str, ...], columns: list[str], relpath: str
                 ) -> tuple[dict[tuple[str, ...], dict[str, str]], list[tuple[str, ...]], list[Issue]]:
    """The rows of a frozen file by key (cells as plain text), the keys in file order, and problems
    (cells not lining up, keys twice) instead of exceptions."""
    positions = [columns.index(k) for k in keys]
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    order: list[tuple[str, ...]] = []
    problems: list[Issue] = []
    first: dict[tuple[str, ...], int] = {}
    bad = 0

    def problem(row: int | None, message: str) -> None:
        nonlocal bad
        bad += 1
        if bad <= ROW_PROBLEMS:
            problems.append(Issue(relpath, row, None, "edition-file-invalid", "error", message + _ASK))

    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    number = 1
    try:
        next(reader, None)  # the header, checked by read_frozen
        for number, cells in enumerate(reader, start=2):
            if len(cells) != len(columns):
                problem(number, f"这一行有 {len(cells)} 格，应为 {len(columns)} 格（{'、'.join(columns)}）。")
                continue
            key = tuple(cells[i] for i in positions)
            if key in first:
                problem(number, f"这一行与第{first[key]}行的编号（{excerpt('、'.join(key))}）相同。")
                continue
            first[key] = number
            order.append(key)
            rows[key] = {column: plain(cell) for column, cell in zip(columns, cells)}
    except csv.Error:
        problem(number + 1, "从这一行起无法按 CSV 格式读取（引号或换行有误）。")
    if bad > ROW_PROBLEMS:
        problems.append(Issue(relpath, None, None, "edition-file-invalid", "error",
                              f"{relpath} 还有 {bad - ROW_PROBLEMS} 行有同样的问题，未逐一列出。"))
    return rows, order, problems
