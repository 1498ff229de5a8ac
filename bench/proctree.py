"""Run a command and measure its wall time and the peak memory of its whole process
tree (the child and every descendant), by sampling /proc/<pid>/smaps_rollup.

Linux only, no dependencies. Two sums over the tree: PSS, which divides each page
among the processes that map it, so pages that forked workers still share
copy-on-write count once (the figure issue 18's memory target is stated in); and RSS,
which counts such a page once per process, an upper bound shown beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

MIB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds from start to exit
    peak_rss: int  # bytes, the highest sampled RSS sum over the tree (at least the child's own high-water mark)
    returncode: int  # negative: killed by that signal
    samples: int
    cpu: float = 0.0  # user + system seconds of the child and the descendants it reaped
    peak_pss: int = 0  # bytes, the highest sampled PSS sum over the tree (a spike between samples is missed)

    @property
    def peak_mib(self) -> float:
        return self.peak_rss / MIB

    @property
    def pss_mib(self) -> float:
        return self.peak_pss / MIB


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process we can see."""
    table: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # it exited while we looked
        # the command name may hold spaces and parentheses: fields start after the last ')'
        table[int(entry.name)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    return table


def tree(root: int) -> list[int]:
    """`root` and all its descendants right now (nothing if it is gone)."""
    parents = _parents()
    if root not in parents:
        return []
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process from its smaps_rollup; (0, 0) if it is gone or a zombie."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024  # the file says kB and means KiB
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of `root` and all its descendants, each summed, right now."""
    sizes = [memory(pid) for pid in tree(root)]
    return sum(rss for rss, _ in sizes), sum(pss for _, pss in sizes)


def tree_rss(root: int) -> int:
    """Summed RSS in bytes of `root` and all its descendants right now (0 if it is gone)."""
    return tree_memory(root)[0]


def measure(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdout: Path | None = None, stderr: Path | None = None, interval: float = 0.05,
            kill_after: float | None = None) -> Measured:
    """Run `cmd` to completion (or SIGKILL its process group after `kill_after` seconds)
    and return its wall time, CPU time and the tree's peak PSS and RSS.

    Output goes to files, not pipes, so a chatty child can never block on a full pipe
    while we sample. The child leads its own process group, so a kill reaches workers too.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        child = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        peak, peak_pss, samples = 0, 0, 0
        while True:
            # reap first: a zombie still shows up in /proc, with no memory
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                wall = time.perf_counter() - start
                break
            rss, pss = tree_memory(child.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            samples += 1
            if kill_after is not None and time.perf_counter() - start >= kill_after:
                _kill_group(child.pid)
                kill_after = None  # reaped on the next turn
                continue
            pause = interval
            if kill_after is not None:
                pause = max(0.0, min(interval, kill_after - (time.perf_counter() - start)))
            time.sleep(pause)
        child.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
        # ru_maxrss (KiB) is the child's own high-water mark, which catches a spike between samples
        peak = max(peak, usage.ru_maxrss * 1024)
        return Measured(wall, peak, child.returncode, samples, usage.ru_utime + usage.ru_stime, peak_pss)
    finally:
        for handle in (out, err):
            if handle is not subprocess.DEVNULL:
                handle.close()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
