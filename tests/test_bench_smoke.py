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
