"""Run a command and measure its wall time and the peak resident memory of its whole
process tree (the child and every descendant, summed), by sampling /proc.

Linux only, no dependencies. Summing RSS counts pages that forked workers still share
copy-on-write once per process, so for a forking build it is an upper bound; that is
the figure the targets are stated in ("peak RSS of the whole process tree").
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds from start to exit
    peak_rss: int  # bytes, the highest sampled sum over the tree (at least the child's own high-water mark)
    returncode: int  # negative: killed by that signal
    samples: int
    cpu: float = 0.0  # user + system seconds of the child and the descendants it reaped

    @property
    def peak_mib(self) -> float:
        return self.peak_rss / MIB


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, RSS in bytes) for every process we can see."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # it exited while we looked
        # the command name may hold spaces and parentheses: fields start after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        # fields[0] is state (field 3), so field N of proc(5) is fields[N - 3]
        table[int(entry.name)] = (int(fields[1]), int(fields[21]) * PAGE)
    return table


def tree_rss(root: int) -> int:
    """Summed RSS in bytes of `root` and all its descendants right now (0 if it is gone)."""
    table = _processes()
    if root not in table:
        return 0
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


def measure(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdout: Path | None = None, stderr: Path | None = None, interval: float = 0.05,
            kill_after: float | None = None) -> Measured:
    """Run `cmd` to completion (or SIGKILL its process group after `kill_after` seconds)
    and return its wall time and the tree's peak RSS.

    Output goes to files, not pipes, so a chatty child can never block on a full pipe
    while we sample. The child leads its own process group, so a kill reaches workers too.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        child = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        peak, samples = 0, 0
        while True:
            # reap first: a zombie's stat still shows up, with RSS 0
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                wall = time.perf_counter() - start
                break
            peak = max(peak, tree_rss(child.pid))
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
        return Measured(wall, peak, child.returncode, samples, usage.ru_utime + usage.ru_stime)
    finally:
        for handle in (out, err):
            if handle is not subprocess.DEVNULL:
                handle.close()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
