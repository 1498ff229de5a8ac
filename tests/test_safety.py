"""Safety: no personal information published, no path escapes the output, kills leave a whole site."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillbrands.pipeline import BuildError, build_site, check_project
from skillbrands.privacy import is_resident_id, passes_luhn
from skillbrands.publish import PublishError, StagedSite, safe_join

REPO = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_personal_information_is_refused_at_file_row_column(make_project) -> None:
    issues = check_project(make_project("pii_in_cells"))
    found = {(i.path, i.row, i.field, i.code, i.severity) for i in issues}
    assert found == {
        ("datasets/brands.csv", 3, "name", "personal-id-number", "error"),
        ("datasets/institutions.csv", 3, "address", "personal-mobile-number", "error"),
        ("datasets/exits.csv", 2, "detail", "personal-bank-card", "warning"),
    }
    # the message masks the number, so the report does not spread it either
    for issue in issues:
        assert "11010519491231002X" not in issue.message and "13912345678" not in issue.message
    assert any("110**" in i.message for i in issues)


def test_phone_column_may_hold_a_mobile_number(make_project) -> None:
    project = make_project()
    path = project / "datasets" / "institutions.csv"
    path.write_text(path.read_text("utf-8").replace("0476-8300001", "13912345678"), "utf-8")
    assert check_project(project) == []


def test_pii_blocks_the_build(make_project) -> None:
    project = make_project("pii_in_cells")
    with pytest.raises(BuildError):
        build_site(project, project / "output")
    assert not (project / "output").exists()


@pytest.mark.parametrize("number, valid", [
    ("11010519491231002X", True),   # the standard's own example
    ("11010519491231002Y", False),
    ("110105194913310021", False),  # no 13th month
    ("121502004600158732", False),  # a credit code: positions 7-14 are no birth date
])
def test_resident_id_check(number: str, valid: bool) -> None:
    assert is_resident_id(number) is valid


def test_luhn() -> None:
    assert passes_luhn("4111111111111111") and not passes_luhn("4111111111111112")


@pytest.mark.parametrize("relpath", ["../escape.html", "/etc/passwd", "a/../../b", "", "brands/../../x"])
def test_writer_refuses_paths_outside_the_output(relpath: str, tmp_path: Path) -> None:
    with pytest.raises(PublishError):
        safe_join(tmp_path, relpath)


def test_writer_refuses_to_write_a_path_twice(tmp_path: Path) -> None:
    with StagedSite(tmp_path / "out") as site:
        site.write("brands/x/index.html", b"a")
        with pytest.raises(PublishError):
            site.write("brands/x/index.html", b"b")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("folder", ["content", "site_templates"])
def test_symlinks_in_content_or_templates_are_refused(make_project, tmp_path: Path, folder: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("title: x\n\nsecret", "utf-8")
    project = make_project()
    link = project / folder / ("leak.md" if folder == "content" else "leak.html")
    link.symlink_to(secret)
    issues = [i.as_tuple() for i in check_project(project)]
    assert (f"{folder}/{link.name}", None, None, "unsafe-path") in issues
    with pytest.raises(BuildError):
        build_site(project, project / "output")
    assert not (project / "output").exists()


def test_killed_builds_leave_the_old_or_the_new_site(make_project) -> None:
    """SIGKILL a real build at random moments: output/ is always a whole site, never a mix."""
    project = make_project()
    out = project / "output"
    command = [sys.executable, str(REPO / "build.py"), "build", "--project", str(project)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    duration = time.perf_counter() - start
    reference = tree(out)
    rng = random.Random(11)
    for _ in range(6):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert tree(out) == reference  # the same data builds the same site: old and new are equal
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert tree(out) == reference
    assert [p.name for p in project.iterdir() if p.name.startswith(".output.")] == []


def test_large_old_site_is_deleted_by_a_detached_process(make_project, monkeypatch) -> None:
    from skillbrands import publish

    monkeypatch.setattr(publish, "DETACH_DELETE_FROM", 0)
    project = make_project()
    build_site(project, project / "output")
    reference = tree(project / "output")
    build_site(project, project / "output")
    assert tree(project / "output") == reference
    for _ in range(100):  # the detached rm finishes on its own
        if not [p for p in project.iterdir() if p.name.startswith(".output.")]:
            break
        time.sleep(0.05)
    assert [p.name for p in project.iterdir() if p.name.startswith(".output.")] == []
