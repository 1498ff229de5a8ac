"""Keys across rows and tables: IDs unique after case-folding, every reference resolves.

Foreign keys are read from the schemas (`foreignKeys`), never hard-coded, and are
reported at the referencing cell with the unknown value and a near miss if there
is one (same ID in another case, or with stray spaces).
"""

from __future__ import annotations

from typing import Any, Iterator

from .issues import Issue, excerpt


def check_keys(
    descriptor: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    row_numbers: dict[str, list[int]],
) -> Iterator[Issue]:
    """Every key problem, one at a time (a hostile file can have millions; the caller counts them)."""
    resources = {r["name"]: r for r in descriptor["resources"]}
    for name, resource in resources.items():
        if name not in tables:
            continue
        relpath = f"datasets/{resource['path']}"
        schema = resource["schema"]
        yield from _duplicates(schema, tables[name], row_numbers[name], relpath)
        yield from _casefold_duplicates(schema, tables[name], row_numbers[name], relpath)
        for fk in schema.get("foreignKeys", []):
            target = fk["reference"]["resource"] or name
            if not tables.get(target):
                continue  # the target file is unreadable or empty: already reported there
            yield from _foreign_key(fk, tables[name], row_numbers[name], tables[target],
                                    relpath, resources[target])


def _duplicates(schema, rows, numbers, relpath) -> Iterator[Issue]:
    """The primary key, unique across the whole table (every later copy is reported)."""
    keys = schema.get("primaryKey", [])
    if not keys:
        return
    first: dict[tuple[Any, ...], int] = {}
    for row, number in zip(rows, numbers):
        value = tuple(row.get(k) for k in keys)
        if any(v is None for v in value):
            continue  # an empty key cell is already reported as required
        if value in first:
            shown = "、".join(f"{k}={excerpt(v)}" for k, v in zip(keys, value))
            yield Issue(relpath, number, keys[0], "duplicate-id", "error",
                        f"编号（{shown}）与第{first[value]}行重复；每个编号只能出现一次。")
        else:
            first[value] = number


def _casefold_duplicates(schema, rows, numbers, relpath) -> Iterator[Issue]:
    keys = schema.get("primaryKey", [])
    if len(keys) != 1:
        return
    key = keys[0]
    seen: dict[str, tuple[str, int]] = {}
    for row, number in zip(rows, numbers):
        value = row.get(key)
        if not isinstance(value, str):
            continue
        folded = value.casefold()
        if folded in seen and seen[folded][0] != value:
            other, other_row = seen[folded]
            yield Issue(relpath, number, key, "duplicate-id-casefold", "error",
                        f"编号“{excerpt(value)}”与第{other_row}行的“{excerpt(other)}”只有大小写不同；网址不区分大小写时会冲突，请改用不同的编号。")
        seen.setdefault(folded, (value, number))


def _foreign_key(fk, rows, numbers, target_rows, relpath, target) -> Iterator[Issue]:
    fields = fk["fields"]
    ref_fields = fk["reference"]["fields"]
    known = {tuple(r.get(f) for f in ref_fields) for r in target_rows}
    folded = {tuple(str(v).casefold() for v in k): k for k in known}
    for row, number in zip(rows, numbers):
        values = tuple(row.get(f) for f in fields)
        if any(v is None for v in values) or values in known:
            continue
        shown = "、".join(excerpt(v) for v in values)
        near = folded.get(tuple(str(v).casefold() for v in values))
        hint = f"；是不是“{'、'.join(map(excerpt, near))}”（大小写不同）？" if near else "。"
        yield Issue(relpath, number, fields[0], "foreign-key", "error",
                    f"“{shown}”在“{target.get('title', target['name'])}”表（datasets/{target['path']}）的"
                    f"“{'、'.join(ref_fields)}”列中找不到{hint}")
