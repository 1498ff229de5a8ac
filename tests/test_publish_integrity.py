"""Publishing you can trust (issue 20, points 1-3): one build at a time per output
folder, only provably unchanged files reused, nothing deleted that the tool did not
write, and no worker outliving its build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from skillbrands.pipeline import BuildError, build_site
from skillbrands.publish import CARRY_OVER, OutputLock

REPO = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def site_files(folder: Path) -> dict[str, bytes]:
    """The site itself: what the tool writes, without carried-over entries."""
    return {path: data for path, data in tree(folder).items() if path.split("/")[0] not in CARRY_OVER}


def _command(project: Path, out: Path) -> list[str]:
    return [sys.executable, str(REPO / "build.py"), "build", "--project", str(project), "--out", str(out)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _other_project(make_project) -> Path:
    """A second project whose pages differ from the minimal one's almost everywhere."""
    project = make_project()
    package = project / "datasets" / "datapackage.json"
    text = package.read_text("utf-8")
    package.write_text(text.replace("内蒙古", "内蒙古（另一个项目）", 1), "utf-8")
    about = project / "content" / "about.md"
    about.write_text(about.read_text("utf-8") + "\n另一个项目。\n", "utf-8")
    return project


# -- 1a. one build at a time -------------------------------------------------------

def test_a_second_build_into_a_locked_output_stops_with_a_clear_message(make_project) -> None:
    project = make_project()
    out = project / "output"
    build_site(project, out)
    before = tree(out)
    lock = OutputLock(out.resolve())
    lock.acquire()  # as a running build holds it
    try:
        result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    finally:
        lock.release()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "另一个构建" in result.output and f"进程 {os.getpid()}" in result.output
    assert tree(out) == before
    assert build_site(project, out).pages > 0  # released: the next build runs


def test_overlapping_builds_of_two_projects_never_publish_a_mix(make_project, tmp_path: Path) -> None:
    first, second = make_project(), _other_project(make_project)
    references = []
    for project in (first, second):
        build_site(project, project / "output")
        references.append(tree(project / "output"))
    assert len(set(references[0]) & set(references[1])) > 20
    shared = [p for p in references[0] if references[0][p] != references[1].get(p)]
    assert len(shared) > 20  # most pages differ, so a mix would show
    out = tmp_path / "shared-site"
    stopped = 0
    for _ in range(6):
        processes = [subprocess.Popen(_command(project, out), env=_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for project in (first, second)]
        results = [(p.wait(), p.stdout.read() + p.stderr.read()) for p in processes]  # messages: one stream
        for process in processes:
            process.stdout.close()
            process.stderr.close()
        for code, output in results:
            assert code in (0, 1) and "Traceback" not in output
            if code == 1:
                assert "另一个构建" in output
                stopped += 1
        assert any(code == 0 for code, _ in results)
        assert tree(out) in references  # wholly one project's site, never a mix
    for project, reference in zip((first, second), references):  # and a clean rebuild is exact
        assert subprocess.run(_command(project, out), env=_env(), capture_output=True).returncode == 0
        assert tree(out) == reference
    assert [p.name for p in tmp_path.iterdir() if ".staging-" in p.name or ".old-" in p.name] == []


# -- 1b. only proven bytes are reused ----------------------------------------------

def test_files_edited_by_hand_are_rewritten_by_the_next_build(make_project) -> None:
    project = make_project()
    out = project / "output"
    build_site(project, out)
    reference = tree(out)
    with (out / "index.html").open("a", encoding="utf-8") as page:
        page.write("<script>alert(1)</script>")
    (out / "data" / "brands.csv").write_bytes(b"")  # : > output/data/brands.csv
    replaced = out / "exits" / "index.html"  # replaced by another file of the same size
    size = replaced.stat().st_size
    replaced.unlink()
    replaced.write_bytes(b"x" * size)
    result = build_site(project, out)
    assert tree(out) == reference
    written = result.pages + result.downloads + result.assets + result.search + result.crawler_files
    assert result.linked == written - 3  # the rest is linked


def test_a_published_site_copied_in_from_elsewhere_is_not_trusted(make_project) -> None:
    """Another project's site with this project's manifest: same names, other bytes."""
    project, other = make_project(), _other_project(make_project)
    out = project / "output"
    build_site(project, out)
    reference = tree(out)
    build_site(other, other / "output")
    for path, data in tree(other / "output").items():
        if path != ".skillbrands-site" and (out / path).exists():
            (out / path).unlink()
            (out / path).write_bytes(data)
    build_site(project, out)
    assert tree(out) == reference


# -- 2. nothing deleted that the tool did not write --------------------------------

def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


def test_github_pages_checkout_in_the_output_is_kept(make_project) -> None:
    project = make_project()
    out = project / "output"
    build_site(project, out)
    site = site_files(out)
    assert _git(out, "init", "-q").returncode == 0
    (out / "CNAME").write_text("brands.example.org\n", "utf-8")
    (out / ".nojekyll").write_bytes(b"")
    assert _git(out, "add", "-A").returncode == 0 and _git(out, "commit", "-qm", "site").returncode == 0
    head = _git(out, "rev-parse", "HEAD").stdout
    about = project / "content" / "about.md"
    about.write_text(about.read_text("utf-8") + "\n新的一段。\n", "utf-8")
    build_site(project, out)
    assert (out / "CNAME").read_text("utf-8") == "brands.example.org\n" and (out / ".nojekyll").is_file()
    assert _git(out, "rev-parse", "HEAD").stdout == head
    after = site_files(out)
    assert "新的一段" in after["about/index.html"].decode("utf-8") and set(after) == set(site)
    status = _git(out, "status", "--porcelain").stdout.splitlines()
    # git sees exactly the files whose bytes changed: the page and the manifest
    assert sorted(status) == sorted(f" M {path}" for path in site if site[path] != after[path])
    assert len(status) == 2


def test_a_fresh_clone_with_only_git_and_cname_is_accepted(make_project) -> None:
    project = make_project()
    out = project / "output"
    out.mkdir()
    assert _git(out, "init", "-q").returncode == 0
    (out / "CNAME").write_text("brands.example.org\n", "utf-8")
    build_site(project, out)
    assert (out / "CNAME").read_text("utf-8") == "brands.example.org\n" and (out / ".git" / "HEAD").is_file()
    fresh = make_project()
    build_site(fresh, fresh / "output")
    assert site_files(out) == tree(fresh / "output")  # carried entries are not part of the site


def test_files_the_tool_did_not_write_stop_the_build_and_are_named(make_project) -> None:
    project = make_project()
    out = project / "output"
    build_site(project, out)
    (out / "notes.txt").write_text("my notes", "utf-8")
    (out / "brands" / "extra").mkdir()
    (out / "brands" / "extra" / "photo.jpg").write_bytes(b"jpg")
    before = tree(out)
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "notes.txt" in result.output and "brands/extra/" in result.output
    assert tree(out) == before
    assert [p.name for p in project.iterdir() if ".staging-" in p.name] == []


# -- 3. workers end with their parent ----------------------------------------------

_SLOW_PARALLEL_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from skillbrands import render
    from skillbrands.pipeline import build_site

    render.PARALLEL_FROM = 0
    render.CHUNK_PAGES = 12  # two long tasks: a worker would go on for seconds after the kill
    real = render.render_pages

    def slow(*args, **kwargs):
        for item in real(*args, **kwargs):
            time.sleep(0.5)
            yield item

    render.render_pages = slow
    build_site(Path(sys.argv[1]), Path(sys.argv[1]) / "output", jobs=2)
""")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_workers_die_with_a_killed_build(make_project) -> None:
    project = make_project()
    process = subprocess.Popen([sys.executable, "-c", _SLOW_PARALLEL_BUILD, str(project)],
                               env=_env(), stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the build never started its workers"
    staging = [p for p in project.iterdir() if ".staging-" in p.name]
    assert len(staging) == 1  # the workers write into it (the pages are claimed before they start)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(_running(w) for w in workers):
        time.sleep(0.05)
    assert not any(_running(w) for w in workers)
    before = tree(staging[0])  # nothing goes on writing into the dead build's staging folder
    time.sleep(1.2)
    assert tree(staging[0]) == before
    finished = subprocess.run(_command(project, project / "output"), env=_env(), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert [p.name for p in project.iterdir() if ".staging-" in p.name] == []


def _die(*args: object) -> None:
    os._exit(9)  # as if the kernel's out-of-memory killer took the worker


def test_a_worker_that_dies_fails_the_build_cleanly(make_project, monkeypatch) -> None:
    from skillbrands import render

    project = make_project()
    out = project / "output"
    build_site(project, out)
    before = tree(out)
    monkeypatch.setattr(render, "PARALLEL_FROM", 0)
    monkeypatch.setattr(render, "CHUNK_PAGES", 2)
    monkeypatch.setattr(render, "_store_range", _die)  # the forked workers inherit it
    about = project / "content" / "about.md"
    about.write_text(about.read_text("utf-8") + "\n补充一句。\n", encoding="utf-8")  # else nothing to do
    with pytest.raises(BuildError, match="工作进程意外终止"):
        build_site(project, out, jobs=2)
    assert tree(out) == before
    assert [p.name for p in project.iterdir() if ".staging-" in p.name] == []


def test_leftovers_are_removed_even_when_their_pid_is_reused(make_project) -> None:
    project = make_project()
    out = project / "output"
    build_site(project, out)
    leftover = project / ".output.staging-1"  # pid 1 is alive: a pid check would keep it forever
    (leftover / "brands").mkdir(parents=True)
    (leftover / "brands" / "half.html").write_bytes(b"<html")
    build_site(project, out)
    assert not leftover.exists()
