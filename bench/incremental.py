"""The incremental cases of issue 18: one small edit to a project, a rebuild into the same
output folder, and whether the result is byte-identical to a clean build.

The edits are picked from the data (the first rows that fit), so the same generated
project always gets the same edits. Each edit changes only the lines it is about, so
the rest of each file keeps its bytes. bench/run.py runs the builds and prints.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Callable


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _row(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(cells: list[str], ending: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerow(cells)
    return out.getvalue()


def _ending(lines: list[str]) -> str:
    return "\r\n" if lines[0].endswith("\r\n") else "\n"


def edit_outcome(datasets: Path) -> str:
    """One outcome figure: `employed` of the first outcomes row with someone employed, one fewer
    (it stays within 0 ≤ employed ≤ trainees, the rule outcome_counts checks)."""
    path = datasets / "outcomes.csv"
    lines = _lines(path)
    header = _row(lines[0])
    column = header.index("employed")
    for number, line in enumerate(lines[1:], start=1):
        cells = _row(line)
        if cells[column].isdigit() and int(cells[column]) > 0:
            before = cells[column]
            cells[column] = str(int(before) - 1)
            lines[number] = _line(cells, _ending(lines))
            path.write_text("".join(lines), encoding="utf-8")
            return f"outcomes.csv row {number} ({cells[0]}, {cells[1]}): employed {before} → {cells[column]}"
    raise ValueError(f"{path}: no row with employed > 0")


def rename_brand(datasets: Path) -> str:
    """One brand name: the first brand's, with （更名） appended."""
    path = datasets / "brands.csv"
    lines = _lines(path)
    column = _row(lines[0]).index("name")
    cells = _row(lines[1])
    before = cells[column]
    cells[column] = before + "（更名）"
    lines[1] = _line(cells, _ending(lines))
    path.write_text("".join(lines), encoding="utf-8")
    return f"brands.csv row 1 ({cells[0]}): name {before} → {cells[column]}"


def add_brand(datasets: Path) -> str:
    """One new brand: a copy of the first brand not recommended from another (so no
    recommendation rule is involved), with a new id and name, and a copy of its outcome rows."""
    brands, outcomes = datasets / "brands.csv", datasets / "outcomes.csv"
    lines = _lines(brands)
    header = _row(lines[0])
    ids = {_row(line)[0].casefold() for line in lines[1:]}
    source = next(_row(line) for line in lines[1:] if not _row(line)[header.index("recommended_from")])
    new_id = next(f"{source[0]}-{n}" for n in range(1, 10_000) if f"{source[0]}-{n}".casefold() not in ids)
    cells = list(source)
    cells[0] = new_id
    cells[header.index("name")] = source[header.index("name")] + "（新增）"
    _append(brands, [_line(cells, _ending(lines))])
    rows = [_row(line) for line in _lines(outcomes)[1:]]
    copied = [_line([new_id, *row[1:]], _ending(lines)) for row in rows if row[0] == source[0]]
    _append(outcomes, copied)
    return f"brands.csv: {new_id}, a copy of {source[0]}, with its {len(copied)} outcome rows"


def _append(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    ending = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += ending
    path.write_text(text + "".join(lines), encoding="utf-8")


#: (letter, name, edit or None), applied in this order to one copy of the project, each on top of the last
CASES: tuple[tuple[str, str, Callable[[Path], str] | None], ...] = (
    ("a", "nothing changed", None),
    ("b", "one outcome figure", edit_outcome),
    ("c", "one brand name", rename_brand),
    ("d", "one new brand", add_brand),
)


def files(root: Path) -> dict[str, int]:
    """Relative path -> inode of every file under `root`: a file a rebuild hard-linked keeps its inode."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = path.stat().st_ino
    return found


def differing(a: Path, b: Path) -> list[str]:
    """Relative paths, sorted, whose bytes differ between the two folder trees or that only one holds."""
    left, right = files(a), files(b)
    return sorted((left.keys() ^ right.keys()) |
                  {path for path in left.keys() & right.keys() if not _same_bytes(a / path, b / path)})


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as one, open(b, "rb") as two:
        while True:
            block = one.read(1 << 20)
            if block != two.read(1 << 20):
                return False
            if not block:
                return True
