"""Incremental builds (issue 18): a rebuild renders only the pages whose inputs changed, keeps
the rest from the published site, and is byte for byte the site a clean build makes.

Every case builds the bundled sample, edits it as a clerk would, rebuilds twice (the second
rebuild starts from the spare site the first left, see publish.py) and compares every file
with a clean build of the same project into a fresh folder.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from build import cli
from conftest import copy_sample, unfreeze
from skillbrands import incremental
from skillbrands.incremental import BY_REPR, Fingerprints

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-30"
RENDERED = re.compile(r"重新渲染 (\d+) 个，其余 (\d+) 个未变")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The bundled sample without its frozen editions, so that any cell may be edited."""
    return unfreeze(copy_sample(tmp_path / "project"))


def build(project: Path, out: Path | None = None, *extra: str):
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--out", str(out or project / "output"),
                                      "--today", TODAY, *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in sorted(folder.rglob("*")) if p.is_file()}


def clean_build(project: Path, tmp_path: Path) -> dict[str, bytes]:
    """The same project built from nothing, elsewhere."""
    copy = tmp_path / "clean"
    for folder in ("datasets", "content", "site_templates"):
        shutil.copytree(project / folder, copy / folder)
    assert build(copy).exit_code == 0
    return tree(copy / "output")


def rendered(result) -> int:
    match = RENDERED.search(result.output)
    assert match, result.output
    return int(match.group(1))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rows(project: Path, name: str) -> list[list[str]]:
    return [line.split(",") for line in (project / "datasets" / f"{name}.csv").read_text("utf-8-sig").splitlines()]


# -- the edits, each as a clerk makes it --------------------------------------------------

def _a_brand(project: Path) -> list[str]:
    """The last brand row of the sample (a county brand with outcomes), as the CSV has it."""
    return rows(project, "brands")[-1]


def one_outcome_figure(project: Path) -> str:
    brand = _a_brand(project)[0]
    row = [r for r in rows(project, "outcomes") if r[0] == brand][-1]
    changed = [*row[:4], str(int(row[4]) - 1), *row[5:]]
    edit(project / "datasets" / "outcomes.csv", ",".join(row), ",".join(changed))
    return brand


def one_brand_name(project: Path) -> str:
    brand = _a_brand(project)
    edit(project / "datasets" / "brands.csv", ",".join(brand), ",".join([brand[0], brand[1] + "（更名）", *brand[2:]]))
    return brand[0]


def one_new_brand(project: Path) -> str:
    brand = _a_brand(project)
    new_id = brand[0] + "-new"
    with open(project / "datasets" / "brands.csv", "a", encoding="utf-8") as handle:
        handle.write(",".join([new_id, brand[1] + "（新增）", *brand[2:]]) + "\n")
    outcomes = [r for r in rows(project, "outcomes") if r[0] == brand[0]]
    with open(project / "datasets" / "outcomes.csv", "a", encoding="utf-8") as handle:
        handle.writelines(",".join([new_id, *r[1:]]) + "\n" for r in outcomes)
    return new_id


def one_institution_name(project: Path) -> str:
    institution = rows(project, "institutions")[1]
    edit(project / "datasets" / "institutions.csv", ",".join(institution[:2]), f"{institution[0]},{institution[1]}分校")
    return institution[0]


def one_template_line(project: Path) -> str:
    edit(project / "site_templates" / "brand.html", "{% block content %}", "{% block content %}<!-- 改版 -->")
    return ""


EDITS: dict[str, Callable[[Path], str]] = {
    "outcome": one_outcome_figure, "brand name": one_brand_name, "new brand": one_new_brand,
    "institution name": one_institution_name, "template": one_template_line,
}


@pytest.mark.parametrize("kind", list(EDITS))
def test_an_incremental_build_is_byte_identical_to_a_clean_one(project: Path, tmp_path: Path, kind: str) -> None:
    assert build(project).exit_code == 0
    assert build(project).exit_code == 0  # nothing changed
    EDITS[kind](project)
    first = build(project)
    assert first.exit_code == 0, first.output
    assert tree(project / "output") == clean_build(project, tmp_path)
    total = len([p for p in tree(project / "output") if p.endswith(".html")])
    if kind == "template":
        assert "全部重新渲染" in first.output  # a template change may touch every page
    else:
        assert 0 < rendered(first) < total / 4, first.output
    # once more, from the spare site the first rebuild left beside the output
    EDITS["outcome"](project)
    second = build(project)
    assert second.exit_code == 0, second.output
    assert (project / ".output.spare").is_dir()
    shutil.rmtree(tmp_path / "clean")
    assert tree(project / "output") == clean_build(project, tmp_path)


def test_the_pages_an_edit_concerns_are_rendered_again(project: Path) -> None:
    assert build(project).exit_code == 0
    brand = one_brand_name(project)
    before = inodes(project / "output")
    assert build(project).exit_code == 0
    after = inodes(project / "output")
    changed = {path for path in after if before.get(path) != after[path]}
    assert f"brands/{brand}/index.html" in changed
    name = rows(project, "brands")[-1][1]
    # every page that shows the new name was written again; most pages were kept (the same file)
    showing = {path for path, data in tree(project / "output").items() if path.endswith(".html")
               and name.encode("utf-8") in data}
    assert showing and showing <= changed
    assert len(changed) < len(after) / 4


def test_nothing_changed_means_nothing_is_done(project: Path) -> None:
    assert build(project).exit_code == 0
    before = inodes(project / "output")
    again = build(project)
    assert again.exit_code == 0
    assert "无需重新生成" in again.output
    assert inodes(project / "output") == before
    # a different option is a different site
    other = build(project, None, "--base-url", "https://example.gov.cn/pxpp/")
    assert other.exit_code == 0 and "无需重新生成" not in other.output


def test_a_hand_edited_published_file_is_not_kept(project: Path, tmp_path: Path) -> None:
    """The fast path trusts nothing it cannot prove: an edited page means a real build."""
    assert build(project).exit_code == 0
    page = project / "output" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>hand edit</p></body>"))
    again = build(project)
    assert again.exit_code == 0 and "无需重新生成" not in again.output
    assert b"hand edit" not in page.read_bytes()
    assert tree(project / "output") == clean_build(project, tmp_path)


@pytest.mark.parametrize("breakage", ["data error", "template error"])
def test_a_failed_incremental_build_leaves_the_published_site_untouched(project: Path, tmp_path: Path,
                                                                        breakage: str) -> None:
    assert build(project).exit_code == 0
    one_outcome_figure(project)
    assert build(project).exit_code == 0  # now there is a spare site too
    published, published_inodes = tree(project / "output"), inodes(project / "output")
    if breakage == "data error":
        brand = _a_brand(project)[0]
        row = [r for r in rows(project, "outcomes") if r[0] == brand][0]
        edit(project / "datasets" / "outcomes.csv", ",".join(row), ",".join([*row[:2], "x", *row[3:]]))
    else:
        edit(project / "site_templates" / "brand.html", "{% block content %}", "{% block content %}{% if %}")
    failed = build(project)
    assert failed.exit_code == 1
    assert tree(project / "output") == published and inodes(project / "output") == published_inodes
    # mended, the next build is right again
    shutil.rmtree(project / "site_templates")
    shutil.copytree(REPO / "site_templates", project / "site_templates")
    shutil.copy2(REPO / "datasets" / "outcomes.csv", project / "datasets" / "outcomes.csv")
    assert build(project).exit_code == 0
    assert tree(project / "output") == clean_build(project, tmp_path)


def test_a_changed_page_never_writes_through_to_the_published_copy(project: Path, tmp_path: Path) -> None:
    """The spare site shares unchanged files with the published one (hard links): a rebuild
    replaces such a file, so the bytes of an earlier site held elsewhere never change."""
    assert build(project).exit_code == 0
    one_outcome_figure(project)
    assert build(project).exit_code == 0
    brand = _a_brand(project)[0]
    page = project / "output" / "brands" / brand / "index.html"
    kept = tmp_path / "kept.html"
    os.link(page, kept)  # someone's copy of the published page, sharing its inode
    old = kept.read_bytes()
    one_outcome_figure(project)
    assert build(project).exit_code == 0
    assert page.read_bytes() != old  # the page changed …
    assert kept.read_bytes() == old  # … and the earlier file was not written through


@pytest.mark.parametrize("damage", ["edited", "foreign file", "deleted"])
def test_a_damaged_spare_site_is_never_trusted(project: Path, tmp_path: Path, damage: str) -> None:
    assert build(project).exit_code == 0
    one_outcome_figure(project)
    assert build(project).exit_code == 0
    spare = project / ".output.spare"
    victim = spare / "index.html"
    if damage == "edited":
        victim.unlink()  # a new file where the ledger knew another
        victim.write_bytes(b"<p>tampered</p>")
    elif damage == "foreign file":
        (spare / "brands" / "planted.html").write_bytes(b"<p>planted</p>")
    else:
        shutil.rmtree(spare / "brands")
    one_brand_name(project)
    assert build(project).exit_code == 0
    assert tree(project / "output") == clean_build(project, tmp_path)


# -- the digests themselves -----------------------------------------------------------------

def test_value_objects_digested_by_repr_hold_only_values_with_a_stable_repr() -> None:
    """A set's or dict's repr follows the process's hash seed: such a field in a BY_REPR type
    would make pages look changed in every build (or, worse, equal when they are not)."""
    # Mapping: Criteria.thresholds, filled in the fixed order of criteria.CRITERIA
    allowed = {"str", "int", "float", "bool", "None", "date", "tuple", "...", "Fraction", "Mapping",
               *(t.__name__ for t in BY_REPR)}
    for kind in BY_REPR:
        for field in dataclasses.fields(kind):
            words = set(re.findall(r"[A-Za-z_]+|\.\.\.", str(field.type)))
            assert words <= allowed, (kind.__name__, field.name, field.type)
            assert field.repr, (kind.__name__, field.name)


def test_fingerprints_are_equal_for_equal_values_and_differ_otherwise() -> None:
    one, two = Fingerprints(), Fingerprints()
    value = {"a": [1, 2.5, "x", None], "b": frozenset({"p", "q", "r"}), "c": list(range(40))}
    assert one.of(value) == two.of({"a": [1, 2.5, "x", None], "b": frozenset({"r", "q", "p"}), "c": list(range(40))})
    assert one.of(value) != two.of({"a": [1, 2.5, "x", None], "b": frozenset({"p", "q"}), "c": list(range(40))})
    assert one.of([1]) != one.of(["1"])
    assert one.of({"k": 1}) != one.of({"k": 2})
    with pytest.raises(incremental.Unfingerprintable):
        one.of(object())


def test_a_file_planted_deep_in_the_published_site_still_stops_the_build(project: Path) -> None:
    """Folders whose mtime is as recorded are not listed again; planting a file changes it."""
    assert build(project).exit_code == 0
    one_outcome_figure(project)
    assert build(project).exit_code == 0  # the folder records now exist
    brand = _a_brand(project)[0]
    planted = project / "output" / "brands" / brand / "notes.txt"
    planted.write_text("私人笔记", encoding="utf-8")
    one_brand_name(project)
    result = build(project)
    assert result.exit_code == 1 and f"brands/{brand}/notes.txt" in result.output
    assert planted.read_text("utf-8") == "私人笔记"
