"""Corrections, changes and late records: how today's data may differ from a frozen edition.

A frozen edition never changes. When today's data differ from what an edition published
(a typo fixed, an institution renamed, an exit recorded late, a figure corrected), the
difference must be explained by a row of `datasets/corrections.csv`, which the site then
publishes beside the edition (更正说明). This module turns the rows in which an edition's
files differ from today's data (`frozen.RowChange`) into the *source cells* that changed
(`Difference`): a renamed institution is one difference at institutions.csv, not one per
brand row that shows its name; a late exit is one at the exit row, not the brand, figures
and institution it drops from the edition. Each difference not covered by a row of
corrections.csv is one error at the cell that changed, with the line to add.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .frozen import RowChange
from .issues import Issue, excerpt
from .model import Correction, Directory

PATH = "datasets/corrections.csv"
HEADER = ("date", "table", "key", "field", "old_value", "new_value", "kind", "reason", "document_no")
#: joins the columns of a composite primary key in the `key` column (kdl-weld/2021)
KEY_SEPARATOR = "/"
#: the column that stands for a whole row that was added (recorded late) or dropped
ROW_FIELD = {"brands": "published_date", "outcomes": "trainees", "exits": "exit_date"}

Locate = Callable[[str, tuple[str, ...]], "int | None"]


def primary_keys(meta: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each resource's key columns, from its schema's primaryKey (never a list in the code)."""
    out = {}
    for resource in meta.get("resources", []):
        key = resource.get("schema", {}).get("primaryKey", [])
        out[resource["name"]] = (key,) if isinstance(key, str) else tuple(key)
    return out


@dataclass(frozen=True)
class Difference:
    """One source cell whose value today differs from what frozen editions published."""

    table: str  # the source table (brands, institutions, outcomes, exits, regions)
    key: tuple[str, ...]  # the source row's primary key, as text
    field: str
    old: str  # as published ("" when the row was not published: recorded late)
    new: str  # as today's data have it ("" when the row is gone)
    years: tuple[int, ...]  # the frozen editions that published `old`

    @property
    def key_text(self) -> str:
        return KEY_SEPARATOR.join(self.key)

    @property
    def kind(self) -> str:
        """A first guess for the draft row; the clerk may change it."""
        if self.old == "" or (self.table == "institutions" and self.field.startswith("status")):
            return "late_record"
        return "change" if self.table in ("institutions", "regions") else "correction"

    def line(self, when: date) -> str:
        """The row to add to corrections.csv, as CSV text (reason left empty for the clerk)."""
        return csv_line([when.isoformat(), self.table, self.key_text, self.field, self.old, self.new, self.kind, "", ""])


def csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


# -- from edition rows to source cells ------------------------------------------------

def differences(changes: Mapping[int, Sequence[RowChange]], directory: Directory) -> list[Difference]:
    """The source cells behind every row a frozen edition would publish otherwise, each once,
    with the editions that published its old value; derived effects are left out."""
    found: dict[tuple[str, tuple[str, ...], str, str, str], set[int]] = defaultdict(set)
    for year, rows in sorted(changes.items()):
        index = {(c.table, c.key): c for c in rows}
        for change in rows:
            for table, key, field, old, new in _cells(change, index, directory):
                found[(table, key, field, old, new)].add(year)
    return [Difference(table, key, field, old, new, tuple(sorted(years)))
            for (table, key, field, old, new), years in sorted(found.items())]


def _cells(change: RowChange, index: Mapping[tuple[str, tuple[str, ...]], RowChange],
           directory: Directory) -> Iterable[tuple[str, tuple[str, ...], str, str, str]]:
    table, key, old, new = change.table, change.key, change.old, change.new
    if old is not None and new is not None:
        yield from _changed_cells(table, key, old, new)
        return
    if table == "institutions":
        return  # an edition lists the institutions of its brands: it follows the brands
    if table == "brands":
        exit_change = index.get(("exits", key))
        if exit_change is not None and (exit_change.old is None) != (exit_change.new is None):
            return  # in or out of the edition because of its exit: the exit row says so
        field = ROW_FIELD["brands"]
        brand = directory.brands.get(key[0])
        current = brand.published_date.isoformat() if brand else ""
        yield "brands", key, field, old[field] if old else "", current if old else new[field]  # type: ignore[index]
        return
    if table == "outcomes":
        brand_change = index.get(("brands", key[:1]))
        if brand_change is not None and (brand_change.old is None) != (brand_change.new is None):
            return  # the brand itself came into or left the edition
        field = ROW_FIELD["outcomes"]
        yield "outcomes", key, field, old[field] if old else "", new[field] if new else ""
        return
    if table == "exits":
        field = ROW_FIELD["exits"]
        brand = directory.brands.get(key[0])
        current = brand.exit.exit_date.isoformat() if brand and brand.exit else ""
        yield "exits", key, field, old[field] if old else "", current


def _changed_cells(table: str, key: tuple[str, ...], old: Mapping[str, str],
                   new: Mapping[str, str]) -> Iterable[tuple[str, tuple[str, ...], str, str, str]]:
    differ = [c for c in old if old.get(c) != new.get(c)]
    for column in differ:
        before, after = old[column], new.get(column, "")
        if table == "brands" and column == "institution_name":
            if "institution_id" not in differ:  # another institution: its name follows
                yield "institutions", (old["institution_id"],), "name", before, after
        elif table == "brands" and column == "region_name":
            if "region_code" not in differ:
                yield "regions", (old["region_code"],), "name", before, after
        elif table == "outcomes" and column in ("pass_rate", "employment_rate"):
            continue  # computed from the counts beside them
        elif table == "exits" and column == "name":
            yield "brands", key, "name", before, after
        elif table == "institutions" and column in ("status_date", "status_reason") and "status" in differ:
            continue  # the status as of the edition's date changed: its date and reason follow
        else:
            yield table, key, column, before, after


# -- matching corrections.csv -----------------------------------------------------------

@dataclass(frozen=True)
class Reconciled:
    """The outcome of comparing today's data with the frozen editions."""

    corrections: tuple[Correction, ...]  # corrections.csv, each with the editions it concerns
    uncovered: tuple[Difference, ...]  # differences with no row: each one is an error
    issues: tuple[Issue, ...]


def reconcile(directory: Directory, changes: Mapping[int, Sequence[RowChange]], row_numbers: Sequence[int],
              locate: Locate, today: date) -> Reconciled:
    """Every difference between today's data and the frozen editions, matched with corrections.csv.

    A difference is covered when the rows for its cell lead from the published value to
    today's (A → B, or A → B then B → C). `row_numbers` are corrections.csv's spreadsheet rows,
    one per row of `directory.corrections` (in file order)."""
    meta = directory.meta
    keys = primary_keys(meta)
    fields = {r["name"]: {f["name"]: f for f in r["schema"]["fields"]} for r in meta["resources"]}
    rows = list(directory.corrections)
    numbers: list[int | None] = list(row_numbers) if len(row_numbers) == len(rows) else [None] * len(rows)
    issues = list(_check_rows(rows, numbers, keys, fields))
    edges: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index, c in enumerate(rows):
        edges[(c.table, c.key, c.field)].append(index)
    years: dict[int, set[int]] = defaultdict(set)
    uncovered = []
    for difference in differences(changes, directory):
        path = _path(rows, edges.get((difference.table, difference.key_text, difference.field), []),
                     difference.old, difference.new)
        if path is None:
            uncovered.append(difference)
            issues.append(_uncovered_issue(difference, meta, fields, locate, today))
        for index in path or ():
            years[index].update(difference.years)
    corrections = tuple(replace(c, years=tuple(sorted(years[i]))) for i, c in enumerate(rows))
    return Reconciled(corrections, tuple(uncovered), tuple(issues))


def _path(rows: Sequence[Correction], candidates: Sequence[int], old: str, new: str) -> list[int] | None:
    """The rows that lead from `old` to `new` (breadth first), or None."""
    if old == new:
        return []
    seen = {old}
    frontier: list[tuple[str, list[int]]] = [(old, [])]
    while frontier:
        step = []
        for value, path in frontier:
            for index in candidates:
                c = rows[index]
                if c.old_value == value and c.new_value not in seen:
                    if c.new_value == new:
                        return path + [index]
                    seen.add(c.new_value)
                    step.append((c.new_value, path + [index]))
        frontier = step
    return None


def _check_rows(rows: Sequence[Correction], numbers: Sequence[int | None], keys: Mapping[str, tuple[str, ...]],
                fields: Mapping[str, Mapping[str, Any]]) -> Iterable[Issue]:
    for c, number in zip(rows, numbers):
        if not c.reason.strip():
            yield Issue(PATH, number, "reason", "correction-reason-missing", "error",
                        f"这一行（{excerpt(c.table)} {excerpt(c.key)} 的 {excerpt(c.field)}）没有填写原因：每一处更正、变更"
                        "或补录都要写明原因，它会和更正一起在网站上公布。")
        if c.table in fields and c.field not in fields[c.table]:
            yield Issue(PATH, number, "field", "correction-field-unknown", "error",
                        f"{c.table}.csv 中没有“{excerpt(c.field)}”这一列；请填写被更正的列名：{'、'.join(fields[c.table])}。")
        key = keys.get(c.table, ())
        if key and len(c.key.split(KEY_SEPARATOR)) != len(key):
            example = KEY_SEPARATOR.join(key)
            yield Issue(PATH, number, "key", "correction-key-invalid", "error",
                        f"“{excerpt(c.key)}”不是 {c.table}.csv 的主键：应填 {example}"
                        f"{'（各列用“/”连接）' if len(key) > 1 else ''}。")


def _uncovered_issue(d: Difference, meta: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]],
                     locate: Locate, today: date) -> Issue:
    resource = next(r for r in meta["resources"] if r["name"] == d.table)
    column = fields[d.table].get(d.field, {})
    what = f"{resource.get('title', d.table)}“{excerpt(d.key_text)}”的{column.get('title', d.field)}（{d.field}）"
    editions = "、".join(str(y) for y in d.years) + "年度版本"
    if d.old == "":
        said = f"{what}“{excerpt(d.new)}”是补录的：已公布的{editions}中没有这一行。"
    elif d.new == "":
        said = f"{what}“{excerpt(d.old)}”已从数据中删除，而已公布的{editions}中有这一行。"
    else:
        said = f"{what}由“{excerpt(d.old)}”改为“{excerpt(d.new)}”；已公布的{editions}中是“{excerpt(d.old)}”。"
    message = (f"{said}已公布的版本保持原样，不会改变；请在 {PATH} 末尾加上这一行，并在 reason 一列写明原因（必填），"
               f"kind 一列按实际情况填 correction（勘误）、change（变更）或 late_record（补录）：\n{d.line(today)}\n"
               "（运行 python build.py corrections --draft 会自动加上这一行。）")
    row = locate(d.table, d.key) if d.new != "" or d.table == "exits" else None
    return Issue(f"datasets/{resource.get('path', d.table + '.csv')}", row, d.field, "edition-changed", "error",
                 message)


# -- the draft --------------------------------------------------------------------------

class DraftError(Exception):
    """corrections.csv could not be written (a symlink, or no permission)."""


def append_draft(project: Path, uncovered: Sequence[Difference], today: date) -> Path:
    """Append one row per uncovered difference to datasets/corrections.csv (reason left empty).

    The file keeps its own line ends and BOM; it is written whole to a temporary file beside
    it and renamed into place, never through a symlink."""
    path = project / PATH
    if path.is_symlink() or path.parent.is_symlink():
        raise DraftError(f"{PATH} 是符号链接；为免改写项目以外的文件，未写入草稿。")
    data = path.read_bytes() if path.exists() else b""
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if not data.strip():
        data = ",".join(HEADER).encode("utf-8") + newline
    elif not data.endswith(b"\n"):
        data += newline
    data += b"".join(d.line(today).encode("utf-8") + newline for d in uncovered)
    fd, temporary = tempfile.mkstemp(prefix=".corrections.", suffix=".csv", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
