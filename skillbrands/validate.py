"""Load and validate a project's data package: every problem of every file in one run.

Order per resource: read the file (`read.py`), tidy cells (`cells.py`), then the real
frictionless validator checks types and constraints and hands us each typed row, so
the model is built from the rows the validator already typed. Keys across rows and
tables (`keys.py`) are checked last, on those typed rows.

Schema `pattern`s are checked here with RE2 (linear time), not by frictionless (Python
`re` backtracks: `(a+)+$` on 30 letters takes minutes). Every stage feeds one
`FileIssues` per file, which lists at most `limits.LISTED` errors and warnings of it
and counts the rest, so millions of bad cells cost counts, not memory.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from frictionless import Resource, Schema

from . import descriptor as descriptors
from . import limits
from .cells import ID_PATTERN, FieldSpec, normalise_table
from .criteria import Assessment, assess_brands
from .issues import Issue, excerpt, has_errors, sort_key
from .keys import check_keys
from .limits import FileIssues, number
from .privacy import scan_personal_data
from .read import RawTable, read_table
from .rules import RULES, Tables
from .workers import can_fork, fork_map, workers

PACKAGE_FILE = "datasets/datapackage.json"

Row = dict[str, Any]


@dataclass
class Loaded:
    """The typed rows of every resource that could be read, and every issue found."""

    descriptor: dict[str, Any]
    tables: dict[str, list[Row]] = field(default_factory=dict)
    row_numbers: dict[str, list[int]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: brand_id -> verdict on the evaluated year: the assess stage's result, read by the rules and the model
    assessments: Mapping[str, Assessment] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)


def validate_project(project: Path, today: date | None = None) -> list[Issue]:
    """Every issue in the project's data package, sorted by file, row and column."""
    return load_package(project, today).issues


def load_package(project: Path, today: date | None = None, jobs: int | None = None) -> Loaded:
    """Read, type-check and cross-check every resource; `today` is the reference date
    for "not in the future" (default: today in China Standard Time); `jobs` the worker
    processes for large tables (default: the CPUs available)."""
    project = Path(project)
    descriptor, issues = read_descriptor(project)
    loaded = Loaded(descriptor=descriptor or {}, issues=issues)
    if descriptor is None:
        return loaded
    logs: dict[str, FileIssues] = {}
    raws: dict[str, tuple[RawTable, dict[str, Any], str]] = {}
    for resource in descriptor["resources"]:
        raw = _read_resource(project, resource, loaded, logs)
        if raw is not None:
            raws[resource["name"]] = (raw, resource["schema"], f"datasets/{resource['path']}")
    for name, (rows, log) in _type_check(raws, jobs).items():
        loaded.tables[name] = rows
        loaded.row_numbers[name] = list(raws[name][0].row_numbers)
        logs[raws[name][2]].merge(log)
    raws.clear()  # the cells' text: only the typed rows are used from here on
    _route(logs, check_keys(descriptor, loaded.tables, loaded.row_numbers))
    loaded.issues = issues + _listed(logs)  # the verdicts and rules skip cells reported so far
    tables = Tables(loaded)
    loaded.assessments = assess_brands(tables)  # the verdict stage: once, before the rules that read it
    _route(logs, _rule_issues(tables.judged(loaded.assessments), today or reference_date()))
    loaded.issues = sorted(issues + _listed(logs), key=sort_key)
    return loaded


def _route(logs: dict[str, FileIssues], issues: Iterable[Issue]) -> None:
    for issue in issues:
        log = logs.get(issue.path)
        if log is None:
            log = logs[issue.path] = FileIssues(issue.path)
        log.append(issue)


def _listed(logs: dict[str, FileIssues]) -> list[Issue]:
    return [issue for log in logs.values() for issue in log.issues()]


def _rule_issues(tables: Tables, today: date) -> Iterable[Issue]:
    """rules.check_rules, one issue at a time (so a million of them are counted, not kept)."""
    for rule in RULES:
        yield from rule(tables, today)


#: the time zone of the directories' dates: China Standard Time, no daylight saving
CHINA = timezone(timedelta(hours=8), "CST")


def reference_date() -> date:
    """The date rules compare against when none is given: today in China Standard Time (UTC+8),
    where the directories' dates are written — never the machine's time zone, so a server set
    to UTC (or a build at 07:00 in Beijing) gets the same day. (The CLI passes --today, or the
    day of SOURCE_DATE_EPOCH for reproducible builds: `epoch_date`.)"""
    return datetime.now(CHINA).date()


def epoch_date(epoch: int) -> date:
    """The day, in China Standard Time, of a Unix time (SOURCE_DATE_EPOCH)."""
    return datetime.fromtimestamp(epoch, tz=CHINA).date()


def read_descriptor(project: Path) -> tuple[dict[str, Any] | None, list[Issue]]:
    """The descriptor if the engine can use it, and every problem found in it (descriptor.py)."""
    path = project / PACKAGE_FILE

    def problem(message: str) -> tuple[None, list[Issue]]:
        return None, [Issue(PACKAGE_FILE, None, None, "datapackage-invalid", "error", message)]

    for link in (path.parent, path):  # never opened: the target could be any file on the machine
        if link.is_symlink():
            where = link.relative_to(project).as_posix()
            return None, [Issue(where, None, None, "unsafe-path", "error",
                                f"{where} 是符号链接；为免读入项目以外的文件，未读取数据包。请换成项目中的普通文件或文件夹。")]
    if not path.is_file():
        return problem(f"找不到数据包描述文件 {PACKAGE_FILE}。")
    try:
        data, size = limits.read_limited(path, limits.DESCRIPTOR_BYTES)
    except OSError as error:
        return problem(f"无法读取 {PACKAGE_FILE}：{error.strerror or error}。")
    if data is None:
        return None, [descriptors.too_large(size)]
    descriptor, issues = descriptors.parse(data)
    if descriptor is None:
        return None, issues
    issues = descriptors.check(descriptor)
    return (None if has_errors(issues) else descriptor), issues


def _read_resource(project: Path, resource: dict[str, Any], loaded: Loaded,
                   logs: dict[str, FileIssues]) -> RawTable | None:
    """Read one CSV file, tidy its cells and look for personal data (all in this process)."""
    relpath = f"datasets/{resource['path']}"
    schema = resource["schema"]
    names = [f["name"] for f in schema["fields"]]
    if resource.get("skillbrands:optional") and not (project / relpath).exists():
        loaded.tables[resource["name"]] = []  # an optional table may be left out
        loaded.row_numbers[resource["name"]] = []
        return None
    raw, log = read_table(
        project / relpath, relpath, names, allow_empty=bool(resource.get("skillbrands:allowEmpty"))
    )
    logs[relpath] = log
    if raw is None:
        return None
    key_fields = {name for fk in schema.get("foreignKeys", []) for name in fk["fields"]}
    key_fields |= set(schema.get("primaryKey", []))
    specs = [FieldSpec.from_descriptor(f, key_fields) for f in schema["fields"]]
    # In ranges of rows, so that the issues of a range are counted before the next is made.
    for start in range(0, len(raw.rows), TIDY_ROWS):
        view = raw.view(start, start + TIDY_ROWS)
        log.extend(normalise_table(view, specs, relpath))
        log.extend(scan_personal_data(view, schema["fields"], relpath))
        if log.errors > limits.STOP_ERRORS and start + TIDY_ROWS < len(raw.rows):
            stop = start + TIDY_ROWS
            log.append(Issue(relpath, None, None, "checking-stopped", "error",
                             f"{relpath} 到第{raw.row_numbers[stop - 1]}行已有超过 {number(limits.STOP_ERRORS)} 个错误，"
                             f"从第{raw.row_numbers[stop]}行起未再检查；请先改正前面的错误，再重新校验。"))
            del raw.rows[stop:], raw.row_numbers[stop:]
            break
    return raw


#: rows tidied at a time (the issues of a range are counted before the next range is tidied)
TIDY_ROWS = 10_000
#: rows per frictionless task: large enough to amortise a task's start, small enough to share out
CHUNK_ROWS = 50_000
#: below this many rows in all, worker processes cost more than they save
PARALLEL_FROM = 40_000


Raws = dict[str, tuple[RawTable, dict[str, Any], str]]


def _type_check(raws: Raws, requested: int | None = None) -> dict[str, tuple[list[Row], FileIssues]]:
    """Run frictionless over every table, in row ranges shared among worker processes."""
    tasks = [(name, start, min(start + CHUNK_ROWS, len(raw.rows)))
             for name, (raw, _, _) in raws.items() for start in range(0, max(len(raw.rows), 1), CHUNK_ROWS)]
    total = sum(len(raw.rows) for raw, _, _ in raws.values())
    jobs = workers(requested)
    if jobs > 1 and total >= PARALLEL_FROM and can_fork():
        # Each range is packed into bytes and the cells' objects are dropped before the
        # workers start: a worker then holds its own range only, instead of inheriting
        # every cell (which copy-on-write would duplicate as soon as it is read).
        packed = sorted((_pack(raws, *task) for task in tasks), key=len)  # biggest last: popped first
        for raw, _, _ in raws.values():
            raw.rows.clear()
        done = fork_map(lambda _, task: _type_check_packed(task), [packed.pop() for _ in range(len(packed))], jobs)
    else:
        done = [_type_check_here(raws, *task) for task in tasks]
    out = {name: ([], FileIssues(relpath)) for name, (_, _, relpath) in raws.items()}
    for name, _, rows, log in sorted(done, key=lambda d: (list(raws).index(d[0]), d[1])):
        out[name][0].extend(rows)
        out[name][1].merge(log)
    return out


def _type_check_here(raws: Raws, name: str, start: int, stop: int) -> tuple[str, int, list[Row], FileIssues]:
    """One range in this process; its cells' text is dropped at once, so the typed rows can take its memory."""
    raw, schema, relpath = raws[name]
    rows, log = _frictionless(raw, schema, relpath, start, stop)
    raw.rows[start:stop] = [None] * (stop - start)  # type: ignore[list-item]
    return name, start, rows, log


def _pack(raws: Raws, name: str, start: int, stop: int) -> bytes:
    """A range and all a worker needs to type-check it, as bytes (repeated strings stored once)."""
    raw, schema, relpath = raws[name]
    first, last = raw.row_numbers[start] if stop > start else 0, raw.row_numbers[stop - 1] if stop > start else -1
    bad = {cell for cell in raw.bad_cells if first <= cell[0] <= last}
    part = RawTable(raw.names, raw.rows[start:stop], raw.row_numbers[start:stop], bad, raw.missing_columns)
    return pickle.dumps((name, start, part, schema, relpath), protocol=pickle.HIGHEST_PROTOCOL)


def _type_check_packed(task: bytes) -> tuple[str, int, list[Row], FileIssues]:
    name, start, part, schema, relpath = pickle.loads(task)
    rows, log = _frictionless(part, schema, relpath)
    return name, start, rows, log


def _frictionless(raw: RawTable, schema: dict[str, Any], relpath: str,
                  start: int = 0, stop: int | None = None) -> tuple[list[Row], FileIssues]:
    """Type-check rows [start, stop) with frictionless, and patterns with RE2; return typed rows and the issues.

    Keys (primary and foreign) are left to `keys.py`, which sees every row of every
    table at once and reports in Chinese at the offending cell.
    """
    chunk = raw.rows[start:stop]
    numbers = raw.row_numbers[start:stop]
    typed: list[Row] = []
    log = FileIssues(relpath)
    fields = {f["name"]: f for f in schema["fields"]}
    unreadable: set[tuple[int, str]] = set()  # cells with a type error: their pattern is not checked
    # The row stream is what Resource.validate() checks (its baseline check yields each
    # row's `errors`: types and constraints); we read it directly because validate()
    # first deep-copies inline data to validate the descriptor, ~25 µs a row for nothing.
    checked = Schema.from_descriptor(descriptors.without_patterns(schema))
    with Resource(data=[raw.names, *chunk], schema=checked) as resource:
        for row in resource.row_stream:
            typed.append(row.to_dict())
            for error in row.errors:
                # frictionless numbers inline rows from the header = 1; map to the file's rows
                position = getattr(error, "row_number", None)
                number_ = numbers[position - 2] if position and position >= 2 else None
                name = getattr(error, "field_name", None)
                if number_ is not None and name is not None:
                    if (number_, name) in raw.bad_cells or name in raw.missing_columns:
                        continue
                    if error.type == "type-error":
                        unreadable.add((number_, name))
                issue = _translate(error, number_, name, fields, relpath, row.get(name) if name else None)
                if issue is not None:
                    log.append(issue)
    log.extend(_patterns(raw, schema, relpath, chunk, numbers, unreadable))
    return typed, log


def _patterns(raw: RawTable, schema: dict[str, Any], relpath: str, chunk: list[list[str | None]],
              numbers: list[int], skip: set[tuple[int, str]]) -> Iterable[Issue]:
    """Each string cell against its field's `pattern` (full match, RE2: linear in the cell)."""
    missing = set(schema.get("missingValues", [""]))
    for column, spec in enumerate(schema["fields"]):
        pattern = spec.get("constraints", {}).get("pattern")
        if pattern is None or spec.get("type", "string") != "string" or pattern == ID_PATTERN:
            continue  # IDs: cells.py has checked ID_PATTERN already (unsafe-id)
        name = spec["name"]
        matches: Callable[[str], bool] = descriptors.compile_pattern(pattern)
        known: dict[str, bool] = {}  # codes repeat (regions, occupations): look each up once
        for values, row in zip(chunk, numbers):
            value = values[column]
            if value is None or value in missing:
                continue
            ok = known.get(value)
            if ok is None:
                ok = matches(value)
                if len(known) < 65_536:
                    known[value] = ok
            if not ok and (row, name) not in raw.bad_cells and (row, name) not in skip:
                yield _pattern_mismatch(relpath, row, name, value, spec)


def _pattern_mismatch(relpath: str, row: int | None, name: str, cell: Any, spec: dict[str, Any]) -> Issue:
    pattern = spec["constraints"]["pattern"]
    return Issue(relpath, row, name, "pattern-mismatch", "error",
                 f"“{excerpt(cell)}”格式不符（应匹配 {excerpt(pattern, 100)}）。{spec.get('description', '')}")


_TYPE_HINTS = {
    "integer": "整数（如 120）",
    "number": "数字",
    "date": "日期，格式为 YYYY-MM-DD（如 2023-09-30）",
    "boolean": "是/否（或 true/false）",
    "year": "四位年份",
}


def _translate(error, row, name, fields, relpath, value=None) -> Issue | None:
    """Turn one frictionless error into our Issue, with a Chinese message."""
    cell = excerpt(getattr(error, "cell", None))
    kind = error.type
    if kind == "type-error":
        expected = _TYPE_HINTS.get(fields[name]["type"], fields[name]["type"])
        return Issue(relpath, row, name, "type-error", "error", f"“{cell}”不是有效的值，本列应为{expected}。")
    if kind == "constraint-error":
        match = re.search(r'constraint "(\w+)"', error.note or "")
        constraint = match.group(1) if match else ""
        spec = fields[name].get("constraints", {})
        if constraint == "required":
            return Issue(relpath, row, name, "required", "error", f"“{name}”是必填项，这一格为空。")
        if constraint == "enum":
            labels = fields[name].get("enumLabels", {})
            allowed = "、".join(f"{v}（{labels[v]}）" if v in labels else str(v) for v in spec["enum"])
            return Issue(relpath, row, name, "not-in-enum", "error", f"“{cell}”不是允许的取值；应为以下之一：{allowed}。")
        if constraint == "pattern":
            return _pattern_mismatch(relpath, row, name, cell, fields[name])
        if constraint in ("minimum", "exclusiveMinimum"):
            return Issue(relpath, row, name, "below-minimum", "error",
                         f"“{cell}”小于允许的最小值 {spec.get(constraint)}；人数不能为负数。" if fields[name]["type"] == "integer"
                         else f"“{cell}”小于允许的最小值 {spec.get(constraint)}。")
        if constraint in ("maximum", "exclusiveMaximum"):
            return Issue(relpath, row, name, "above-maximum", "error", f"“{cell}”大于允许的最大值 {spec.get(constraint)}。")
        if constraint == "maxLength":
            full = value if isinstance(value, str) else str(getattr(error, "cell", ""))
            return Issue(relpath, row, name, "too-long", "error",
                         f"“{excerpt(full)}”有 {len(full):,} 个字符，超过本列的上限 {spec['maxLength']} 个字符；"
                         "请删减（网页上放不下，也常是把几格内容粘进了一格）。")
        return Issue(relpath, row, name, "type-error", "error", f"“{cell}”不符合约束 {constraint}。")
    if kind == "blank-row":
        return None  # read.py reports and drops blank rows
    return Issue(relpath, row, name, "type-error", "error", f"数据校验未通过：{error.title}（{excerpt(error.note, 200)}）。")
