"""The benchmark's measuring code, tested on a tiny child (performance itself is not asserted)."""

import os
import sys

from bench.proctree import MIB, measure, tree_rss


def test_peak_rss_of_a_process_tree_counts_a_grandchild(tmp_path):
    # the child starts a grandchild that touches ~50 MB and holds it; the tree's peak must include it
    grandchild = "data = b'x' * 50_000_000; import time; time.sleep(0.4)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"
    measured = measure([sys.executable, "-c", child], stdout=tmp_path / "out", stderr=tmp_path / "err")
    assert measured.returncode == 0, (tmp_path / "err").read_text()
    assert measured.peak_rss >= 40 * MIB + 1, f"peak {measured.peak_mib:.0f} MiB"
    assert measured.peak_rss < 400 * MIB
    assert 0.4 <= measured.wall < 30
    assert measured.samples >= 2


def test_kill_after_stops_the_whole_group(tmp_path):
    measured = measure([sys.executable, "-c", "import time; time.sleep(30)"], kill_after=0.3)
    assert measured.returncode == -9
    assert measured.wall < 10


def test_tree_rss_of_this_process_and_of_a_gone_one():
    assert tree_rss(os.getpid()) > 10 * MIB
    assert tree_rss(2**22 + 12345) == 0


def test_search_anchor_server_gzips_text_counts_bodies_and_stays_in_its_folders(tmp_path):
    import gzip
    import urllib.error
    import urllib.request

    from bench.search_anchor import Served

    site, index = tmp_path / "site", tmp_path / "index"
    (site / "search").mkdir(parents=True)
    index.mkdir()
    (site / "search" / "index.html").write_text("<p>搜索</p>" * 100, encoding="utf-8")
    (site / "secret.txt").write_text("no", encoding="utf-8")
    packed = gzip.compress(b"pagefind" * 100)
    (index / "a.pf_index").write_bytes(packed)
    with Served({"/pagefind/": index, "/": site / "search"}) as served:
        with urllib.request.urlopen(f"{served.base}/") as answer:  # a folder is its index.html, gzipped
            assert answer.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(answer.read()).decode() == "<p>搜索</p>" * 100
        with urllib.request.urlopen(f"{served.base}/pagefind/a.pf_index") as answer:  # already gzip: as it is
            assert answer.headers["Content-Encoding"] is None and answer.read() == packed
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/missing.json"):
            try:
                urllib.request.urlopen(f"{served.base}{path}")
                raise AssertionError(path)
            except urllib.error.HTTPError as error:
                assert error.code == 404
        sent = served.settle()
    assert [size for path, size in sent[:2]] == [len(gzip.compress(("<p>搜索</p>" * 100).encode(), 6, mtime=0)),
                                                 len(packed)]


def test_search_anchor_page_text_and_queries_from_the_sample(repo):
    from bench.search_anchor import brand_id, expected_ours, fixed_queries, page_text
    from skillbrands.pipeline import prepare

    text = page_text("<head><title>X</title></head><body><h1>“鸿河”西点</h1><dd>〔2023〕22号</dd>"
                     "<script>焊工</script></body>")
    assert [line for line in text.split("\n") if line.strip()] == ["鸿河西点", "202322号"]  # body only, no scripts
    assert brand_id("/brands/bj-2022-1/") == brand_id("brands/bj-2022-1/") == "bj-2022-1"
    directory = prepare(repo).directory
    queries = fixed_queries(directory)
    assert queries == fixed_queries(directory) and 8 <= len(queries) <= 14
    assert any(q.isascii() for q in queries) and any(len(q) >= 6 for q in queries)
    expected = expected_ours(directory, queries)
    assert sum(bool(found) for found in expected.values()) >= len(queries) - 2


def test_pss_of_a_forked_tree_counts_shared_pages_once(tmp_path):
    # the parent touches ~80 MB, then forks a child that keeps it shared copy-on-write: summed RSS
    # counts those pages twice, summed PSS once
    script = ("import os, time; data = bytearray(80_000_000)\n"
              "for i in range(0, len(data), 4096): data[i] = 1\n"
              "pid = os.fork()\n"
              "if pid == 0: time.sleep(0.6); os._exit(0)\n"
              "os.waitpid(pid, 0)")
    measured = measure([sys.executable, "-c", script], stdout=tmp_path / "out", stderr=tmp_path / "err")
    assert measured.returncode == 0, (tmp_path / "err").read_text()
    assert measured.peak_rss >= 140 * MIB, f"RSS {measured.peak_mib:.0f} MiB"
    assert 70 * MIB <= measured.peak_pss <= measured.peak_rss - 50 * MIB, \
        f"PSS {measured.pss_mib:.0f} MiB, RSS {measured.peak_mib:.0f} MiB"


def test_differing_names_every_file_whose_bytes_differ_or_that_one_side_lacks(tmp_path):
    from bench.incremental import differing

    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "brands" / "x").mkdir(parents=True)
        (root / "same.html").write_bytes(b"same")
        (root / "brands" / "x" / "index.html").write_bytes(b"one")
    assert differing(a, b) == []
    (b / "brands" / "x" / "index.html").write_bytes(b"two")  # same size, other bytes
    (a / "only-a.txt").write_bytes(b"")
    (b / "brands" / "only-b").mkdir()
    (b / "brands" / "only-b" / "index.html").write_bytes(b"new")
    assert differing(a, b) == ["brands/only-b/index.html", "brands/x/index.html", "only-a.txt"]


def test_incremental_edits_keep_a_generated_project_valid_and_change_what_they_say(repo, tmp_path):
    # a generated project has no frozen editions (the sample's would ask for corrections rows)
    import subprocess

    from bench.incremental import CASES
    from skillbrands.issues import has_errors
    from skillbrands.pipeline import check_project, prepare

    project = tmp_path / "project"
    subprocess.run([sys.executable, "build.py", "generate", "--scale", "S", "--project", str(project)], cwd=repo,
                   check=True, capture_output=True)
    before = prepare(project).directory
    said = [edit(project / "datasets") for _, _, edit in CASES if edit]
    assert not has_errors(check_project(project)), said
    after = prepare(project).directory
    assert len(after.brands) == len(before.brands) + 1
    assert "employed" in said[0] and "（更名）" in said[1] and "outcome rows" in said[2]
