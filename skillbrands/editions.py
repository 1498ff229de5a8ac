"""Yearly editions: the directory as it stood on each release date, frozen once published.

Before it is frozen, an edition is a pure function of the data and a release row: the
brands published on or before its date and not yet exited, their figures up to the year
before, the exits so far, and each institution's status as of that date. `freeze` writes
an edition's files into `datasets/editions/<year>/` with a SHA256SUMS manifest, atomically
(a temporary folder renamed into place) and never through a symlink. From then on the
frozen files are the edition: it is published from them byte for byte (`published`),
and any difference between them and today's data must be explained by a row of
`datasets/corrections.csv` (`corrections.py`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Mapping

from .export import metadata, package_head
from .formats import (FORMULA_START, FileInfo, created_stamp, csv_bytes, dump_json, json_bytes, resource_descriptor,
                      sha256_line, zip_bytes)
from .tables import EDITION_LAYOUT, edition_tables
from .model import Brand, Directory, Institution

FROZEN_DIR = "datasets/editions"
SUMS = "SHA256SUMS"
TOP_CHANGES = 10

#: file -> (key columns, columns): the tables of an edition and what identifies a row (tables.EDITION_LAYOUT)
TABLES: dict[str, tuple[tuple[str, ...], list[str]]] = {
    name: (keys, [as_name for as_name, _, _ in layout]) for name, keys, layout in EDITION_LAYOUT}


@dataclass(frozen=True)
class Release:
    year: int
    published_date: date
    document_no: str
    title: str
    notes: str | None


@dataclass(frozen=True)
class Change:
    """One row of an edition's changes table: what changed since the previous edition."""

    change: str  # added, exited, institution_status, employment_rate (tables.CHANGE_LABELS)
    id: str  # the brand or institution
    name: str
    before: Any  # the status before, or last year's employment rate (0-1)
    after: Any
    detail: str

    def as_row(self) -> list[Any]:
        return [self.change, self.id, self.name, self.before, self.after, self.detail]


@dataclass(frozen=True)
class Edition:
    release: Release
    previous: Release | None
    brands: tuple[Brand, ...]  # listed on the release date
    exited: tuple[Brand, ...]  # exits on or before the release date, newest first
    institutions: tuple[tuple[Institution, str, date | None, str | None], ...]  # with status as of the date
    change_list: tuple[Change, ...]  # changes since the previous edition (small: kept)
    #: the frozen CSV files (name -> bytes) when the edition is frozen: then they are the edition
    frozen: Mapping[str, bytes] | None = None
    #: the frozen files' column types (name -> types), to read their rows back as values
    types: Mapping[str, tuple[str, ...]] | None = None

    @property
    def year(self) -> int:
        return self.release.year

    def changes(self, kind: str) -> list[Change]:
        return [c for c in self.change_list if c.change == kind]

    def rows(self, name: str) -> Iterator[list[Any]]:
        """One table of the edition, row by row (typed values in TABLES' column order).

        A frozen edition's rows are read back from its frozen files, never from today's
        data. Made on demand, never kept: at national scale the tables of all editions
        would hold millions of values at once.
        """
        if self.frozen is not None:
            yield from typed_rows(self.frozen[f"{name}.csv"], (self.types or {}).get(name, ()))
            return
        last_year = self.year - 1  # figures published in year Y are those of Y-1 and before
        if name == "brands":
            for b in self.brands:
                yield [b.brand_id, b.name, b.institution.institution_id, b.institution.name, b.occupation_code,
                       b.occupation_name, b.tier, b.region.code, b.region.name, b.focus_area, b.key_support,
                       b.key_support_category, b.recommended_from, b.published_year, b.published_date, b.document_no]
        elif name == "outcomes":
            for b in self.brands:
                for o in b.outcomes:
                    if o.year <= last_year:
                        yield [b.brand_id, o.year, o.trainees, o.passed, o.employed, o.subsidised_key_group,
                               o.order_based, o.pass_rate, o.employment_rate]
        elif name == "exits":
            for b in self.exited:
                e = b.exit
                assert e is not None
                yield [b.brand_id, b.name, e.exit_date, e.reason, e.detail, e.document_no]
        elif name == "institutions":
            for i, status, status_date, reason in self.institutions:
                yield [i.institution_id, i.name, i.credit_code, i.kind, i.region.code, status, status_date, reason]
        elif name == "changes":
            yield from (c.as_row() for c in self.change_list)
        else:
            raise KeyError(name)


def releases_from(rows: list[dict[str, Any]]) -> list[Release]:
    return sorted((Release(r["year"], r["published_date"], r["document_no"], r["title"], r.get("notes"))
                   for r in rows), key=lambda r: r.year)


def compute_editions(directory: Directory, releases: list[Release]) -> list[Edition]:
    editions: list[Edition] = []
    for index, release in enumerate(releases):
        previous = releases[index - 1] if index else None
        editions.append(_edition(directory, release, previous))
    return editions


def _status_on(institution: Institution, when: date) -> tuple[str, date | None, str | None]:
    """An institution's status as of a date: a later change had not happened yet."""
    if institution.status != "active" and institution.status_date and institution.status_date <= when:
        return institution.status, institution.status_date, institution.status_reason
    return "active", None, None


def _listed_on(directory: Directory, when: date) -> list[Brand]:
    return [b for b in directory.brands.values()
            if b.published_date <= when and not (b.exit and b.exit.exit_date <= when)]


def _edition(directory: Directory, release: Release, previous: Release | None) -> Edition:
    when = release.published_date
    brands = _listed_on(directory, when)
    exited = sorted((b for b in directory.brands.values() if b.exit and b.exit.exit_date <= when),
                    key=lambda b: (b.exit.exit_date, b.brand_id), reverse=True)  # type: ignore[union-attr]
    involved = sorted({b.institution.institution_id for b in brands})
    institutions = tuple((directory.institutions[i], *_status_on(directory.institutions[i], when)) for i in involved)
    changes = _changes(directory, release, previous, brands, exited) if previous else []
    return Edition(release, previous, tuple(brands), tuple(exited), institutions, tuple(changes))


def published(directory: Directory, edition: Edition, stored: Mapping[str, bytes]) -> Edition:
    """The edition as it was frozen: its files are `stored`, byte for byte, and its brands,
    exits and changes those the frozen files list (shown on today's pages by their IDs)."""
    types = {table.name: tuple(c.type for c in table.columns) for table in edition_tables(directory)}
    frozen = replace(edition, frozen=dict(stored), types=types)
    listed = [row[0] for row in frozen.rows("brands")]
    exited = [row[0] for row in frozen.rows("exits")]
    changes = tuple(_change(*row) for row in frozen.rows("changes"))
    return replace(frozen, brands=tuple(directory.brands[i] for i in listed if i in directory.brands),
                   exited=tuple(directory.brands[i] for i in exited if i in directory.brands), change_list=changes)


def _change(change: str, id: str, name: str, before: Any, after: Any, detail: str | None) -> Change:
    """A change read back from a frozen changes.csv: rates as numbers again."""
    if change == "employment_rate":
        before, after = (None if v is None else float(v) for v in (before, after))
    return Change(change, id, name or "", before, after, detail or "")


def plain(cell: str) -> str:
    """A CSV cell's text without the `'` that neutralises formula-like text (formats.csv_cell)."""
    return cell[1:] if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA_START else cell


def csv_rows(data: bytes) -> Iterator[list[str]]:
    """The data rows of a frozen CSV file (after the header), as text."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader, None)
    yield from reader


def typed_rows(data: bytes, types: tuple[str, ...]) -> Iterator[list[Any]]:
    """The rows of a frozen CSV file as values: the inverse of formats.csv_cell for each column's type."""
    for cells in csv_rows(data):
        yield [_typed(cell, types[i] if i < len(types) else "string") for i, cell in enumerate(cells)]


def _typed(cell: str, kind: str) -> Any:
    if cell == "":
        return None
    try:
        if kind == "integer":
            return int(cell)
        if kind == "number":
            return float(cell)
        if kind == "boolean":
            return cell == "true"
        if kind == "date":
            return date.fromisoformat(cell)
    except ValueError:
        pass
    return plain(cell)


def _changes(directory: Directory, release: Release, previous: Release, brands: list[Brand],
             exited: list[Brand]) -> list[Change]:
    """What changed since the previous edition: added, exited, institution status, employment rates."""
    before = {b.brand_id for b in _listed_on(directory, previous.published_date)}
    now = {b.brand_id for b in brands}
    rows: list[Change] = []
    for b in brands:
        if b.brand_id not in before:
            rows.append(Change("added", b.brand_id, b.name, None, "listed",
                               f"{b.region.name}{directory.label('brands', 'tier', b.tier)}，{b.document_no}"))
    for b in reversed(exited):
        e = b.exit
        assert e is not None
        if e.exit_date > previous.published_date:
            rows.append(Change("exited", b.brand_id, b.name, "listed", "exited",
                               f"{e.exit_date.isoformat()} {directory.label('exits', 'reason', e.reason)}，"
                               f"{e.document_no}"))
    for institution in directory.institutions.values():
        old = _status_on(institution, previous.published_date)[0]
        new, when, reason = _status_on(institution, release.published_date)
        if old != new:
            rows.append(Change("institution_status", institution.institution_id, institution.name, old, new,
                               f"{when.isoformat() if when else ''} {reason or ''}".strip()))
    moves = []
    both = now & before
    for b in brands:
        if b.brand_id not in both:
            continue
        old_rate = _rate_in(b, release.year - 2)
        new_rate = _rate_in(b, release.year - 1)
        if old_rate is not None and new_rate is not None:
            moves.append((abs(new_rate - old_rate), b, old_rate, new_rate))
    moves.sort(key=lambda m: (-m[0], m[1].brand_id))
    for _, b, old_rate, new_rate in moves[:TOP_CHANGES]:
        rows.append(Change("employment_rate", b.brand_id, b.name, round(old_rate, 4), round(new_rate, 4),
                           f"{release.year - 2}年 {old_rate * 100:.1f}% → {release.year - 1}年 {new_rate * 100:.1f}%"))
    return rows


def _rate_in(brand: Brand, year: int) -> float | None:
    return next((o.employment_rate for o in brand.outcomes if o.year == year), None)


# -- files -------------------------------------------------------------------------

def edition_csv(edition: Edition) -> dict[str, bytes]:
    """The edition's CSV files: a frozen edition's frozen bytes, else as `freeze` would write them."""
    if edition.frozen is not None:
        return {f"{name}.csv": edition.frozen[f"{name}.csv"] for name in TABLES}
    return {f"{name}.csv": csv_bytes(columns, edition.rows(name)) for name, (_, columns) in TABLES.items()}


def sums_file(files: Mapping[str, bytes]) -> bytes:
    """sha256sum's format, so `sha256sum -c SHA256SUMS` verifies a download."""
    return sums_text({name: hashlib.sha256(data).hexdigest() for name, data in files.items()})


def sums_text(digests: Mapping[str, str]) -> bytes:
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode("ascii")


def bundle_name(year: int) -> str:
    return f"skillbrands-{year}.zip"


def edition_files(directory: Directory, edition: Edition) -> Iterator[tuple[str, bytes]]:
    """/data/releases/<year>/: each table as CSV and JSON, a datapackage.json, SHA256SUMS, and all of
    them as one zip with its SHA-256 beside it. Every column is described by tables.py; the CSV
    files are the frozen files of a frozen edition, byte for byte (edition_csv), and its JSON
    files are read back from them: nothing of a frozen edition comes from today's data."""
    meta = metadata(directory)
    release = edition.release
    folder = f"data/releases/{release.year}"
    files: list[tuple[str, bytes]] = []
    resources = []
    frozen = edition_csv(edition)
    for table in edition_tables(directory):
        data = frozen[f"{table.name}.csv"]
        rows = sum(1 for _ in edition.rows(table.name))
        document = json_bytes(meta, table, edition.rows(table.name), edition=release.year,
                              published_date=release.published_date.isoformat(), document_no=release.document_no,
                              table=table.name)
        infos = (FileInfo.of(f"{folder}/{table.name}.csv", "csv", data),
                 FileInfo.of(f"{folder}/{table.name}.json", "json", document))
        files += [(infos[0].path, data), (infos[1].path, document)]
        resources.append(resource_descriptor(table, infos[0], f"{table.name}.csv", rows, infos[1:]))
    package = {**package_head(directory, str(release.year), created_stamp(release.published_date)),
               "title": release.title, "skillbrands:document_no": release.document_no,
               "skillbrands:published_date": release.published_date.isoformat(), "resources": resources}
    files.append((f"{folder}/datapackage.json", dump_json(package)))
    sums = sums_file({path.rsplit("/", 1)[-1]: data for path, data in files})
    files.append((f"{folder}/{SUMS}", sums))
    name = bundle_name(release.year)
    archive = zip_bytes(((f"{name.removesuffix('.zip')}/{path.rsplit('/', 1)[-1]}", data) for path, data in files),
                        release.published_date)
    yield from files
    yield f"{folder}/{name}", archive
    yield f"{folder}/{name}.sha256", sha256_line(name, archive)


class FreezeError(Exception):
    """`freeze` refused to write: a symlink or an earlier frozen edition stands where the files would go."""


def freeze(project: Path, edition: Edition) -> Path:
    """Write the edition's CSV files and their SHA256SUMS into datasets/editions/<year>/.

    Atomically: the files are written into a temporary folder beside it, which is renamed
    into place only when complete, so an interrupted freeze leaves no half edition. Never
    through a symlink: a linked datasets/, editions/ or year folder (or file) would put the
    files, or overwrite others, outside the project. An existing edition is never replaced:
    a frozen edition does not change (corrections go to corrections.csv)."""
    root = project / FROZEN_DIR
    folder = root / str(edition.year)
    for path in (project / "datasets", root, folder):
        if path.is_symlink():
            raise FreezeError(f"{path.relative_to(project).as_posix()} 是符号链接；为免把文件写到项目以外，未冻结。"
                              "请把它换成项目中的普通文件夹后再冻结。")
    if folder.exists():
        raise FreezeError(f"{FROZEN_DIR}/{edition.year}/ 已存在：已冻结的版本不再改变，未重新冻结。如数据与该版本不符，"
                          "请在 datasets/corrections.csv 中说明（python build.py corrections --draft 可起草）；"
                          "如该文件夹被改动过，请从 git 历史中恢复。")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{edition.year}.freezing-", dir=root))
    try:
        files = edition_csv(edition)
        for name, data in {**files, SUMS: sums_file(files)}.items():
            _write_no_follow(staging / name, data, project)
        staging.chmod(0o755)
        os.rename(staging, folder)  # fails, writing nothing, if the folder appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _write_no_follow(path: Path, data: bytes, project: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as error:
        if path.is_symlink():
            raise FreezeError(f"{path.relative_to(project).as_posix()} 是符号链接；为免改写项目以外的文件，未冻结。"
                              "请删除这个符号链接后再冻结。") from error
        raise
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
