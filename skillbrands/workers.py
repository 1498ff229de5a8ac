"""Worker processes: how many, and forked pools whose workers end with their parent.

Workers are forked so they inherit the frozen model copy-on-write. A worker must
never outlive the build that started it: after `kill -9` of the build, a worker
left running would go on writing into a staging folder nobody will publish (and
hold the output lock). On Linux each worker asks the kernel to kill it when its
parent dies (`prctl(PR_SET_PDEATHSIG, SIGKILL)`); elsewhere it checks its parent
before every task.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Callable, Iterator

_PR_SET_PDEATHSIG = 1


def workers(requested: int | None = None) -> int:
    """Worker processes to use: `requested` (the CLI's SKILLBRANDS_JOBS), else the CPUs this
    process may run on. The engine never reads the environment itself."""
    if requested is not None and requested > 0:
        return requested
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class WorkerError(Exception):
    """A worker process died (out of memory, killed); the message says so, in Chinese."""


@contextmanager
def fork_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `jobs` forked workers, each of which dies with the process that made it.

    concurrent.futures rather than multiprocessing.Pool: when a worker is killed (say by
    the kernel's out-of-memory killer) the executor reports it instead of waiting forever,
    and leaving the block on an error cancels the tasks not yet started.
    """
    executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_die_with_parent, initargs=(os.getpid(),))
    try:
        yield executor
    except BrokenProcessPool as error:
        raise WorkerError("一个工作进程意外终止（可能是内存不足或被系统结束）；已发布的网站未被改动，"
                          "请检查内存后重试，或设置 SKILLBRANDS_JOBS=1 只用一个进程。") from error
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def in_background(task: Callable[[], None], jobs: int) -> Iterator[None]:
    """Run `task` in one forked worker while the `with` block runs in this process; leaving the
    block waits for it. The task is forked, not pickled, so it may be a closure over the frozen
    model; it reports through the files it writes. With one job (or no fork) it runs here, at
    the end of the block. An error in the block kills the worker."""
    if jobs < 2 or not can_fork():
        yield
        task()
        return
    worker = multiprocessing.get_context("fork").Process(target=_run, args=(os.getpid(), task), daemon=True)
    worker.start()
    try:
        yield
    except BaseException:
        worker.kill()
        worker.join()
        raise
    worker.join()
    if worker.exitcode != 0:
        raise WorkerError(f"一个工作进程失败（退出码 {worker.exitcode}；原因见上方的错误信息，或是内存不足、被系统结束）；"
                          "已发布的网站未被改动，请检查后重试，或设置 SKILLBRANDS_JOBS=1 只用一个进程。")


def _run(parent: int, task: Callable[[], None]) -> None:
    _die_with_parent(parent)
    task()


def _die_with_parent(parent: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        prctl = getattr(libc, "prctl", None)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
