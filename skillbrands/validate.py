"""Load and validate a project's data package: every problem of every file in one run.

Order per resource: read the file (`read.py`), tidy cells (`cells.py`), then the real
frictionless validator checks types and constraints and hands us each typed row, so
the model is built from the rows the validator already typed. Keys across rows and
tables (`keys.py`) are checked last, on those typed rows.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from frictionless import FrictionlessException, Resource, Schema

from .cells import FieldSpec, normalise_table
from .issues import Issue, excerpt, sort_key
from .keys import check_keys
from .privacy import scan_personal_data
from .read import RawTable, read_table
from .rules import check_rules
from .workers import can_fork, fork_pool, workers

PACKAGE_FILE = "datasets/datapackage.json"

Row = dict[str, Any]


@dataclass
class Loaded:
    """The typed rows of every resource that could be read, and every issue found."""

    descriptor: dict[str, Any]
    tables: dict[str, list[Row]] = field(default_factory=dict)
    row_numbers: dict[str, list[int]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: brand_id -> criteria verdict on the evaluated year, computed by the rules and reused by the model
    assessments: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)


def validate_project(project: Path, today: date | None = None) -> list[Issue]:
    """Every issue in the project's data package, sorted by file, row and column."""
    return load_package(project, today).issues


def load_package(project: Path, today: date | None = None) -> Loaded:
    """Read, type-check and cross-check every resource; `today` is the reference date
    for "not in the future" (default: SOURCE_DATE_EPOCH, else the current date)."""
    project = Path(project)
    descriptor, issues = read_descriptor(project)
    loaded = Loaded(descriptor=descriptor or {}, issues=issues)
    if descriptor is None:
        return loaded
    raws: dict[str, tuple[RawTable, dict[str, Any], str]] = {}
    for resource in descriptor["resources"]:
        raw = _read_resource(project, resource, loaded)
        if raw is not None:
            raws[resource["name"]] = (raw, resource["schema"], f"datasets/{resource['path']}")
    for name, (rows, issues) in _type_check(raws).items():
        loaded.tables[name] = rows
        loaded.row_numbers[name] = list(raws[name][0].row_numbers)
        loaded.issues.extend(issues)
    loaded.issues.extend(check_keys(descriptor, loaded.tables, loaded.row_numbers))
    loaded.issues.extend(check_rules(loaded, today or reference_date()))
    loaded.issues.sort(key=sort_key)
    return loaded


def reference_date() -> date:
    """The date rules compare against: SOURCE_DATE_EPOCH if set (reproducible builds), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
    return date.today()


def read_descriptor(project: Path) -> tuple[dict[str, Any] | None, list[Issue]]:
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
        descriptor = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return problem(f"{PACKAGE_FILE} 不是有效的 UTF-8 JSON：{error}")
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        return problem(f"{PACKAGE_FILE} 中没有 resources 列表。")
    for resource in descriptor["resources"]:
        try:
            Schema.from_descriptor(resource["schema"])
            if not re.fullmatch(r"[a-z0-9_-]+\.csv", resource["path"]):
                raise ValueError(f"资源路径“{resource['path']}”应为 datasets/ 下的 .csv 文件名")
        except (FrictionlessException, KeyError, TypeError, ValueError) as error:
            name = resource.get("name", "?") if isinstance(resource, dict) else "?"
            return problem(f"{PACKAGE_FILE} 中资源“{name}”的描述有误：{error}")
    return descriptor, []


def _read_resource(project: Path, resource: dict[str, Any], loaded: Loaded) -> RawTable | None:
    """Read one CSV file, tidy its cells and look for personal data (all in this process)."""
    relpath = f"datasets/{resource['path']}"
    schema = resource["schema"]
    names = [f["name"] for f in schema["fields"]]
    if resource.get("skillbrands:optional") and not (project / relpath).exists():
        loaded.tables[resource["name"]] = []  # an optional table may be left out
        loaded.row_numbers[resource["name"]] = []
        return None
    raw, issues = read_table(
        project / relpath, relpath, names, allow_empty=bool(resource.get("skillbrands:allowEmpty"))
    )
    loaded.issues.extend(issues)
    if raw is None:
        return None
    key_fields = {name for fk in schema.get("foreignKeys", []) for name in fk["fields"]}
    key_fields |= set(schema.get("primaryKey", []))
    specs = [FieldSpec.from_descriptor(f, key_fields) for f in schema["fields"]]
    loaded.issues.extend(normalise_table(raw, specs, relpath))
    loaded.issues.extend(scan_personal_data(raw, schema["fields"], relpath))
    return raw


#: rows per frictionless task: large enough to amortise a task's start, small enough to share out
CHUNK_ROWS = 50_000
#: below this many rows in all, worker processes cost more than they save
PARALLEL_FROM = 40_000
# Tables to type-check, visible to forked workers without pickling them (copy-on-write).
_PENDING: dict[str, tuple[RawTable, dict[str, Any], str]] = {}


def _type_check(raws: dict[str, tuple[RawTable, dict[str, Any], str]]) -> dict[str, tuple[list[Row], list[Issue]]]:
    """Run frictionless over every table, in row ranges shared among worker processes."""
    tasks = [(name, start, min(start + CHUNK_ROWS, len(raw.rows)))
             for name, (raw, _, _) in raws.items() for start in range(0, max(len(raw.rows), 1), CHUNK_ROWS)]
    total = sum(len(raw.rows) for raw, _, _ in raws.values())
    _PENDING.clear()
    _PENDING.update(raws)
    try:
        jobs = workers()
        if jobs > 1 and total >= PARALLEL_FROM and can_fork():
            # biggest tasks first, so the last ones to finish are small
            tasks.sort(key=lambda t: t[1] - t[2])
            with fork_pool(jobs) as pool:
                done = list(pool.map(_type_check_chunk, tasks))
        else:
            done = [_type_check_chunk(task) for task in tasks]
    finally:
        _PENDING.clear()
    out: dict[str, tuple[list[Row], list[Issue]]] = {name: ([], []) for name in raws}
    for name, _, rows, issues in sorted(done, key=lambda d: (list(raws).index(d[0]), d[1])):
        out[name][0].extend(rows)
        out[name][1].extend(issues)
    return out


def _type_check_chunk(task: tuple[str, int, int]) -> tuple[str, int, list[Row], list[Issue]]:
    name, start, stop = task
    raw, schema, relpath = _PENDING[name]
    rows, issues = _frictionless(raw, schema, relpath, start, stop)
    return name, start, rows, issues


def _frictionless(raw: RawTable, schema: dict[str, Any], relpath: str,
                  start: int = 0, stop: int | None = None) -> tuple[list[Row], list[Issue]]:
    """Type-check rows [start, stop) with frictionless; return typed rows and its issues.

    Keys (primary and foreign) are left to `keys.py`, which sees every row of every
    table at once and reports in Chinese at the offending cell.
    """
    checked = {key: value for key, value in schema.items() if key not in ("foreignKeys", "primaryKey")}
    chunk = raw.rows[start:stop]
    typed: list[Row] = []
    found = []
    # The row stream is what Resource.validate() checks (its baseline check yields each
    # row's `errors`: types and constraints); we read it directly because validate()
    # first deep-copies inline data to validate the descriptor, ~25 µs a row for nothing.
    with Resource(data=[raw.names, *chunk], schema=Schema.from_descriptor(checked)) as resource:
        for row in resource.row_stream:
            typed.append(row.to_dict())
            found.extend(row.errors)
    issues: list[Issue] = []
    fields = {f["name"]: f for f in schema["fields"]}
    for error in found:
        # frictionless numbers inline rows from the header = 1; map to the file's rows
        position = getattr(error, "row_number", None)
        row = raw.row_numbers[start + position - 2] if position and position >= 2 else None
        name = getattr(error, "field_name", None)
        if row is not None and name is not None and (row, name) in raw.bad_cells:
            continue
        issue = _translate(error, row, name, fields, relpath)
        if issue is not None:
            issues.append(issue)
    return typed, issues


_TYPE_HINTS = {
    "integer": "整数（如 120）",
    "number": "数字",
    "date": "日期，格式为 YYYY-MM-DD（如 2023-09-30）",
    "boolean": "是/否（或 true/false）",
    "year": "四位年份",
}


def _translate(error, row, name, fields, relpath) -> Issue | None:
    """Turn one frictionless error into our Issue, with a Chinese message."""
    cell = getattr(error, "cell", None)
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
            description = fields[name].get("description", "")
            return Issue(relpath, row, name, "pattern-mismatch", "error",
                         f"“{cell}”格式不符（应匹配 {spec['pattern']}）。{description}")
        if constraint in ("minimum", "exclusiveMinimum"):
            return Issue(relpath, row, name, "below-minimum", "error",
                         f"“{cell}”小于允许的最小值 {spec.get(constraint)}；人数不能为负数。" if fields[name]["type"] == "integer"
                         else f"“{cell}”小于允许的最小值 {spec.get(constraint)}。")
        if constraint in ("maximum", "exclusiveMaximum"):
            return Issue(relpath, row, name, "above-maximum", "error", f"“{cell}”大于允许的最大值 {spec.get(constraint)}。")
        if constraint == "maxLength":
            return Issue(relpath, row, name, "too-long", "error",
                         f"“{excerpt(cell)}”有 {len(str(cell)):,} 个字符，超过本列的上限 {spec['maxLength']} 个字符；"
                         "请删减（网页上放不下，也常是把几格内容粘进了一格）。")
        return Issue(relpath, row, name, "type-error", "error", f"“{cell}”不符合约束 {constraint}。")
    if kind == "blank-row":
        return None  # read.py reports and drops blank rows
    return Issue(relpath, row, name, "type-error", "error", f"数据校验未通过：{error.title}（{error.note}）。")
