"""History that cannot be bypassed (issue 20, points 6-8).

The minimal site has two frozen editions, `datasets/editions/2022/` and `2023/`. Each
test damages or disguises them the way a hurried edit (or a deliberate bypass) would,
and checks that the validator answers with exactly the expected issues, at the damaged
file, never with a traceback; that the release pages say 已冻结 only for an edition that
was checked and found intact; and that no symlink in `datasets/` is read, or deleted or
written through by `generate --force` and `freeze`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build import cli
from conftest import assemble
from skillbrands import editions
from skillbrands.issues import CODES
from skillbrands.pipeline import check_project, prepare

EDITION_CSV = ["brands.csv", "changes.csv", "exits.csv", "institutions.csv", "outcomes.csv"]
NOT_FROZEN_2023 = ("datasets/releases.csv", 3, "year", "edition-not-frozen")


def found(project: Path) -> set[tuple]:
    issues = check_project(project)
    for issue in issues:
        assert issue.code in CODES and issue.message
    return {issue.as_tuple() for issue in issues}


def resum(folder: Path) -> None:
    """What someone covering their tracks runs: `sha256sum *.csv > SHA256SUMS`."""
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(folder.glob("*.csv"))]
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="ascii")


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_bytes().decode("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_bytes(text.replace(old, new).encode("utf-8"))


def validate_json(project: Path):
    result = CliRunner().invoke(cli, ["validate", "--project", str(project), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# -- point 6: every entry under datasets/editions/ is a year in releases.csv ---------

@pytest.mark.parametrize("name", ["02023", "２０２３", "²", "2023 ", "2023.bak", "v2023", "20 23"])
def test_a_renamed_edition_folder_is_an_error_not_a_bypass(make_project, name: str) -> None:
    project = make_project()
    editions = project / "datasets" / "editions"
    (editions / "2023").rename(editions / name)
    assert found(project) == {(f"datasets/editions/{name}", None, None, "edition-entry-invalid"), NOT_FROZEN_2023}
    assert prepare(project).frozen == {2022}


def test_a_renamed_edition_folder_fails_the_build_and_the_cli_names_it(make_project) -> None:
    project = make_project()
    editions = project / "datasets" / "editions"
    (editions / "2023").rename(editions / "02023")
    result = validate_json(project)
    assert result.exit_code == 1
    [issue] = [i for i in json.loads(result.stdout) if i["code"] == "edition-entry-invalid"]
    assert "02023" in issue["message"] and "2023" in issue["message"] and "releases.csv" in issue["message"]
    built = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert built.exit_code == 1 and not (project / "output").exists()


@pytest.mark.parametrize("name", ["README.txt", ".DS_Store", "2023.zip"])
def test_a_stray_file_in_editions_is_an_error(make_project, name: str) -> None:
    project = make_project()
    (project / "datasets" / "editions" / name).write_bytes(b"notes")
    assert found(project) == {(f"datasets/editions/{name}", None, None, "edition-entry-invalid")}


def test_a_frozen_year_missing_from_releases_is_an_error(make_project) -> None:
    project = make_project()
    releases = project / "datasets" / "releases.csv"
    lines = releases.read_text("utf-8").splitlines(keepends=True)
    releases.write_text("".join(line for line in lines if not line.startswith("2023,")), "utf-8")
    # without the 2023 release, nm-weld (2023, no 2022 figures) reads as a brand not yet published
    assert found(project) == {("datasets/editions/2023", None, None, "edition-year-unknown"),
                              ("datasets/brands.csv", 6, "published_year", "outcome-missing")}
    assert prepare(project).frozen == {2022}


def test_deleting_releases_csv_does_not_drop_frozen_editions(make_project) -> None:
    project = make_project()
    (project / "datasets" / "releases.csv").unlink()  # optional in the package, but history stays
    # with no release at all, the newest year's brands are the list being prepared: nm-weld lacks 2022
    assert found(project) == {("datasets/editions/2022", None, None, "edition-year-unknown"),
                              ("datasets/editions/2023", None, None, "edition-year-unknown"),
                              ("datasets/brands.csv", 6, "published_year", "outcome-missing")}


def test_release_pages_say_frozen_only_for_checked_editions(make_project) -> None:
    project = make_project()
    releases = project / "datasets" / "releases.csv"
    releases.write_text(releases.read_text("utf-8") + "2024,2024-12-10,内人社办发〔2024〕99号,2024年度目录（示例）,\n",
                        encoding="utf-8")
    assert prepare(project, today=None).frozen == {2022, 2023}
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--today", "2024-12-31"])
    assert result.exit_code == 0, result.output
    out = project / "output" / "releases"
    index = BeautifulSoup((out / "index.html").read_text("utf-8"), "html.parser")
    states = {tr.th.get_text(strip=True)[:4]: tr.select("td")[-1].get_text(strip=True)
              for tr in index.select("table.releases tbody tr")}
    assert states == {"2024": "未冻结", "2023": "已冻结", "2022": "已冻结"}
    page = BeautifulSoup((out / "2024" / "index.html").read_text("utf-8"), "html.parser")
    assert "未冻结" in page.select_one("dl.facts").get_text() and "已冻结" not in page.get_text()


# -- point 7: a damaged frozen edition is an issue at the damaged file -----------------

F2022 = "datasets/editions/2022"
F2023 = "datasets/editions/2023"


def _drop_column(path: Path, column: str) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    index = lines[0].split(",").index(column)
    path.write_bytes(("\ufeff" + "\r\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != index)
                                             for line in lines)).encode("utf-8"))


def test_missing_column_in_a_frozen_file(make_project) -> None:
    project = make_project()
    folder = project / F2022
    _drop_column(folder / "outcomes.csv", "employed")  # no commas inside the cells of this file
    resum(folder)
    assert found(project) == {(f"{F2022}/outcomes.csv", 1, None, "edition-file-invalid")}
    assert prepare(project).frozen == {2023}


def test_extra_column_in_a_frozen_file(make_project) -> None:
    project = make_project()
    folder = project / F2022
    rewrite(folder / "outcomes.csv", "employment_rate\r\n", "employment_rate,note\r\n")
    resum(folder)
    assert found(project) == {(f"{F2022}/outcomes.csv", 1, None, "edition-file-invalid")}


def test_renamed_column_in_a_frozen_file(make_project) -> None:
    project = make_project()
    folder = project / F2022
    rewrite(folder / "brands.csv", ",name,", ",品牌名称,")
    resum(folder)
    [issue] = [i for i in check_project(project)]
    assert issue.as_tuple() == (f"{F2022}/brands.csv", 1, None, "edition-file-invalid")
    assert "name" in issue.message and "品牌名称" in issue.message


def test_non_utf8_frozen_file_with_matching_sums(make_project) -> None:
    project = make_project()
    folder = project / F2022
    path = folder / "brands.csv"
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("gbk"))  # header ASCII, Chinese from line 2
    resum(folder)
    assert found(project) == {(f"{F2022}/brands.csv", 2, None, "edition-file-invalid")}


def test_missing_frozen_file(make_project) -> None:
    project = make_project()
    (project / F2022 / "exits.csv").unlink()
    assert found(project) == {(f"{F2022}/exits.csv", None, None, "edition-file-missing")}
    resum(project / F2022)  # the sums no longer list it either: still missing
    assert found(project) == {(f"{F2022}/exits.csv", None, None, "edition-file-missing")}


def test_missing_sha256sums(make_project) -> None:
    project = make_project()
    (project / F2022 / "SHA256SUMS").unlink()
    assert found(project) == {(f"{F2022}/SHA256SUMS", None, None, "edition-file-missing")}


def test_empty_edition_folder(make_project) -> None:
    project = make_project()
    shutil.rmtree(project / F2022)
    (project / F2022).mkdir()
    assert found(project) == {(f"{F2022}/{name}", None, None, "edition-file-missing")
                              for name in [*EDITION_CSV, "SHA256SUMS"]}


def test_unreadable_sha256sums(make_project) -> None:
    project = make_project()
    (project / F2022 / "SHA256SUMS").write_bytes(b"\xff\xfe\x00\x9c binary \x00\n")
    assert found(project) == {(f"{F2022}/SHA256SUMS", 1, None, "edition-sums-invalid")}


def test_sha256sums_that_is_a_folder(make_project) -> None:
    project = make_project()
    sums = project / F2022 / "SHA256SUMS"
    sums.unlink()
    sums.mkdir()
    assert found(project) == {(f"{F2022}/SHA256SUMS", None, None, "edition-entry-invalid"),
                              (f"{F2022}/SHA256SUMS", None, None, "edition-file-missing")}


def test_subfolder_in_an_edition_folder(make_project) -> None:
    project = make_project()
    (project / F2022 / "old").mkdir()
    (project / F2022 / "old" / "brands.csv").write_bytes(b"x")
    assert found(project) == {(f"{F2022}/old", None, None, "edition-entry-invalid")}


def test_stray_file_in_an_edition_folder(make_project) -> None:
    project = make_project()
    (project / F2022 / "brands.csv.bak").write_bytes((project / F2022 / "brands.csv").read_bytes())
    assert found(project) == {(f"{F2022}/brands.csv.bak", None, None, "edition-entry-invalid")}


def test_empty_frozen_file_with_matching_sums(make_project) -> None:
    project = make_project()
    (project / F2022 / "exits.csv").write_bytes(b"")
    resum(project / F2022)
    assert found(project) == {(f"{F2022}/exits.csv", None, None, "edition-file-invalid")}


def _sums_lines(project: Path) -> list[str]:
    return (project / F2022 / "SHA256SUMS").read_text("ascii").splitlines()


@pytest.mark.parametrize("change, row", [
    (lambda lines: [lines[0].replace("  ", " "), *lines[1:]], 1),  # one space: not sha256sum's format
    (lambda lines: [lines[0], lines[1][:40] + lines[1][64:], *lines[2:]], 2),  # digest cut short
    (lambda lines: [*lines, "0" * 64 + "  notes.txt"], 6),  # a file the edition does not have
    (lambda lines: [*lines, lines[4]], 6),  # outcomes.csv listed twice
    (lambda lines: [*lines[:2], "0" * 64 + "  ../exits.csv", *lines[3:]], 3),  # a path, not a name
    (lambda lines: [*lines[:3], "", *lines[3:]], 4),  # a blank line in the middle
])
def test_malformed_sha256sums_lines(make_project, change, row: int) -> None:
    project = make_project()
    (project / F2022 / "SHA256SUMS").write_text("\n".join(change(_sums_lines(project))) + "\n", "ascii")
    assert found(project) == {(f"{F2022}/SHA256SUMS", row, None, "edition-sums-invalid")}


def test_sha256sums_without_a_line_for_a_file(make_project) -> None:
    project = make_project()
    lines = [line for line in _sums_lines(project) if not line.endswith("  exits.csv")]
    (project / F2022 / "SHA256SUMS").write_text("\n".join(lines) + "\n", "ascii")
    [issue] = check_project(project)
    assert issue.as_tuple() == (f"{F2022}/SHA256SUMS", None, None, "edition-sums-invalid")
    assert "exits.csv" in issue.message


def test_frozen_row_with_a_missing_cell(make_project) -> None:
    project = make_project()
    folder = project / F2022
    rewrite(folder / "outcomes.csv", "kdl-weld,2021,180,160,120,90,70,0.8889,0.6667",
            "kdl-weld,2021,180,160,120,90,70,0.8889")
    resum(folder)
    assert found(project) == {(f"{F2022}/outcomes.csv", 3, None, "edition-file-invalid")}


def test_many_bad_frozen_rows_are_counted_not_listed(make_project) -> None:
    project = make_project()
    folder = project / F2022
    path = folder / "outcomes.csv"
    path.write_bytes(path.read_bytes() + b"".join(b"x%d,2021\r\n" % n for n in range(15)))  # rows 4-18
    resum(folder)
    issues = [i.as_tuple() for i in check_project(project)]
    assert issues == [(f"{F2022}/outcomes.csv", None, None, "edition-file-invalid"),  # "15 - 10 more rows"
                      *((f"{F2022}/outcomes.csv", row, None, "edition-file-invalid") for row in range(4, 14))]


def test_same_rows_in_other_bytes_is_tampering(make_project) -> None:
    project = make_project()
    folder = project / F2022
    path = folder / "brands.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))  # saved by an editor with Unix line ends
    resum(folder)
    assert found(project) == {(f"{F2022}/brands.csv", None, None, "edition-tampered")}


def test_tampered_file_names_the_file_in_the_message(make_project) -> None:
    project = make_project()
    rewrite(project / F2022 / "brands.csv", "昆都仑区焊工", "青山区焊工")
    [issue] = check_project(project)
    assert issue.as_tuple() == (f"{F2022}/SHA256SUMS", None, None, "edition-tampered")
    assert "brands.csv" in issue.message


def test_damaged_edition_is_reported_with_the_data_errors(make_project) -> None:
    """All problems in one run: a broken data file does not hide a broken frozen file."""
    project = make_project()
    rewrite(project / "datasets" / "outcomes.csv", "kdl-weld,2021,180,", "kdl-weld,2021,18x,")
    _drop_column(project / F2022 / "outcomes.csv", "employed")
    resum(project / F2022)
    issues = found(project)
    assert ("datasets/outcomes.csv", 2, "trainees", "type-error") in issues
    assert (f"{F2022}/outcomes.csv", 1, None, "edition-file-invalid") in issues


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return assemble(tmp_path_factory.mktemp("history") / "base")


@contextmanager
def damaged(folder: Path, name: str, data: bytes) -> Iterator[None]:
    """`name` holds `data` (with SHA256SUMS regenerated to match, unless it is the damaged file)."""
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / name).write_bytes(data)
    if name != "SHA256SUMS":
        resum(folder)
    try:
        yield
    finally:
        for file, original in saved.items():
            (folder / file).write_bytes(original)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from([*EDITION_CSV, "SHA256SUMS"]), data=st.binary(max_size=400))
def test_random_bytes_in_a_frozen_file_are_issues_at_that_file(base: Path, name: str, data: bytes) -> None:
    folder = base / "datasets" / "editions" / "2023"
    with damaged(folder, name, data):
        result = validate_json(base)
    issues = json.loads(result.stdout)
    assert result.exit_code == 1
    assert any(i["path"].startswith("datasets/editions/2023/") and i["severity"] == "error" for i in issues), issues


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(EDITION_CSV), at=st.integers(0, 2000), cut=st.integers(0, 8), junk=st.binary(max_size=8))
def test_damaged_bytes_in_a_frozen_file_never_raise(base: Path, name: str, at: int, cut: int, junk: bytes) -> None:
    folder = base / "datasets" / "editions" / "2023"
    original = (folder / name).read_bytes()
    at = min(at, len(original))
    data = original[:at] + junk + original[at + cut:]
    with damaged(folder, name, data):
        result = validate_json(base)
    assert result.exit_code == (0 if data == original else 1), result.output
    assert isinstance(json.loads(result.stdout), list)


# -- point 8: symlinks in datasets/ are refused, never read, never written through ------

def _link(project: Path, relpath: str, outside: Path) -> Path:
    """Replace project/relpath by a symlink to a copy of it outside the project; return the copy."""
    path = project / relpath
    target = outside / path.name
    if path.is_dir():
        shutil.copytree(path, target)
        shutil.rmtree(path)
    else:
        shutil.copy2(path, target)
        path.unlink()
    path.symlink_to(target)
    return target


@pytest.mark.parametrize("relpath, frozen", [
    ("datasets", set()),
    ("datasets/datapackage.json", set()),
    ("datasets/editions", set()),
    ("datasets/editions/2023", {2022}),
    ("datasets/editions/2023/brands.csv", {2022}),
    ("datasets/editions/2023/SHA256SUMS", {2022}),
])
def test_symlinks_in_datasets_are_refused(make_project, tmp_path: Path, relpath: str, frozen: set[int]) -> None:
    """The link points at an exact copy: refused for being a link, whatever it holds."""
    project = make_project()
    outside = tmp_path / "outside"
    outside.mkdir()
    _link(project, relpath, outside)
    assert found(project) == {(relpath, None, None, "unsafe-path")}
    assert prepare(project).frozen == frozen
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1 and not (project / "output").exists()


def test_a_data_file_linked_to_a_system_file_is_never_read(make_project, tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-ROOT-LINE:/root:/bin/bash\ndaemon:x:1:1::/:/bin/sh\n", "utf-8")
    project = make_project()
    regions = project / "datasets" / "regions.csv"
    regions.unlink()
    regions.symlink_to(secret)
    result = validate_json(project)
    assert result.exit_code == 1
    assert "SECRET" not in result.output
    issues = {(i["path"], i["row"], i["field"], i["code"]) for i in json.loads(result.stdout)}
    assert ("datasets/regions.csv", None, None, "unsafe-path") in issues
    assert {path for path, *_ in issues} == {"datasets/regions.csv"}  # the other tables are fine


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """Files outside the project that a symlink inside it points at."""
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "brands.csv").write_bytes(b"important,1\n")
    (folder / "2024").mkdir()
    (folder / "2024" / "SHA256SUMS").write_bytes(b"keep me\n")
    return folder


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("relpath, target", [
    ("datasets/editions", ""),
    ("datasets/editions/2024", "2024"),
    ("datasets", ""),
    ("datasets/brands.csv", "brands.csv"),
    ("content", ""),
    ("content/about.md", "brands.csv"),
    ("datasets/datapackage.json", "brands.csv"),
])
def test_generate_force_never_deletes_or_writes_through_a_symlink(tmp_path: Path, precious: Path,
                                                                  relpath: str, target: str) -> None:
    project = tmp_path / "project"
    (project / "datasets").mkdir(parents=True)
    (project / "content").mkdir()
    link = project / relpath
    if link.exists():
        link.rmdir()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(precious / target if target else precious)
    before = _tree(precious)
    result = CliRunner().invoke(cli, ["generate", "--scale", "S", "--project", str(project), "--force"])
    assert _tree(precious) == before
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert "符号链接" in result.output and relpath in result.output
    assert not (project / "datasets" / "regions.csv").exists() or (project / "datasets").is_symlink()


def test_freeze_never_writes_through_a_symlinked_editions_folder(make_project, tmp_path: Path) -> None:
    project = make_project()
    shutil.rmtree(project / "datasets" / "editions")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project / "datasets" / "editions").symlink_to(outside)
    result = CliRunner().invoke(cli, ["freeze", "--project", str(project), "--year", "2023"])
    assert result.exit_code == 1 and "datasets/editions" in result.output
    assert list(outside.iterdir()) == []


def test_freeze_refuses_a_symlinked_year_folder(make_project, tmp_path: Path) -> None:
    project = make_project()
    edition = next(e for e in prepare(project).editions if e.year == 2023)
    shutil.rmtree(project / "datasets" / "editions" / "2023")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project / "datasets" / "editions" / "2023").symlink_to(outside)
    with pytest.raises(editions.FreezeError, match="符号链接"):
        editions.freeze(project, edition)
    assert list(outside.iterdir()) == []
    os.unlink(project / "datasets" / "editions" / "2023")
    folder = editions.freeze(project, edition)  # a real folder again: freezing works as before
    assert sorted(p.name for p in folder.iterdir()) == sorted([*EDITION_CSV, "SHA256SUMS"])
    assert found(project) == set()


def test_an_oversized_frozen_file_is_refused_by_its_size_unread(make_project, monkeypatch) -> None:
    from skillbrands import limits

    project = make_project()
    frozen = project / "datasets" / "editions"
    year = sorted(p.name for p in frozen.iterdir())[0]
    target = frozen / year / "brands.csv"
    monkeypatch.setattr(limits, "FILE_BYTES", max(p.stat().st_size for p in (project / "datasets").glob("*.csv")))
    target.write_bytes(target.read_bytes() + b"x" * (limits.FILE_BYTES + 1))
    opened = Path.open

    def guarded(self, *args, **kwargs):
        assert self != target, "the oversized frozen file was opened"
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    found = [i.as_tuple() for i in check_project(project)]
    assert (f"datasets/editions/{year}/brands.csv", None, None, "file-too-large") in found


def test_an_edited_changes_file_with_its_sums_regenerated_is_tampering(make_project) -> None:
    """changes.csv is derived from the edition's other files: edited alone, nothing explains it."""
    project = make_project()
    rewrite(project / F2023 / "changes.csv", "赤峰市养老护理员培训", "赤峰市养老护理员培圳")
    resum(project / F2023)
    assert (f"{F2023}/changes.csv", None, None, "edition-tampered") in found(project)
    assert validate_json(project).exit_code == 1



@pytest.mark.parametrize("edit", ["renamed id", "row removed", "row added"])
def test_a_frozen_institutions_file_must_list_the_institutions_of_its_brands(base: Path, edit: str) -> None:
    """Found by the hypothesis test above: two bytes cut from an institution's id (with SHA256SUMS
    regenerated) read as an institution outside the edition, which would follow the brands."""
    folder = base / "datasets" / "editions" / "2023"
    text = (folder / "institutions.csv").read_text("utf-8-sig")
    header, first, *rest = text.splitlines(keepends=True)
    listed = {line.split(",")[2] for line in (folder / "brands.csv").read_text("utf-8-sig").splitlines()[1:]}
    assert first.split(",")[0] in listed  # the row edited is one the edition's brands name
    changed = {"renamed id": [header, first[2:], *rest], "row removed": [header, *rest],
               "row added": [header, first, first.replace(first.split(",")[0], "zz-not-a-brand-s", 1), *rest]}[edit]
    with damaged(folder, "institutions.csv", ("\ufeff" + "".join(changed)).encode("utf-8")):
        result = validate_json(base)
    issues = json.loads(result.stdout)
    assert result.exit_code == 1
    assert ("datasets/editions/2023/institutions.csv", "edition-tampered") in {(i["path"], i["code"]) for i in issues}
