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
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

_PR_SET_PDEATHSIG = 1
S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


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


# What `fork_map`'s workers run: inherited when they fork, never pickled.
_MAPPED: dict[str, Any] = {}


def fork_map(task: Callable[[S, T], R], items: Iterable[T], jobs: int, shared: S = None) -> list[R]:
    """[task(shared, item) for item in items], shared among `jobs` forked workers.

    The one way the build works in parallel (validation, pages, search): `task` and `shared`
    (the frozen model, the staging folder …) are inherited copy-on-write when the workers
    fork, never pickled, so they may be closures and large; each item and each result is
    pickled, so they should be small (a range of pages, a packed range of rows). With one
    job, one item or no fork, everything runs in this process.
    """
    items = list(items)
    if jobs <= 1 or len(items) < 2 or not can_fork():
        return [task(shared, item) for item in items]
    if _MAPPED:
        raise RuntimeError("fork_map inside fork_map")
    _MAPPED.update(task=task, shared=shared)
    try:
        with fork_pool(min(jobs, len(items))) as pool:
            return list(pool.map(_mapped, items))
    finally:
        _MAPPED.clear()


def _mapped(item: Any) -> Any:
    return _MAPPED["task"](_MAPPED["shared"], item)


class Background(Generic[R]):
    """The value the task of `in_background` returned, once the `with` block has ended."""

    value: R


@contextmanager
def in_background(task: Callable[[], R], jobs: int) -> Iterator[Background[R]]:
    """Run `task` in one forked worker while the `with` block runs in this process; leaving the
    block waits for it and sets `.value` to what it returned (pickled back: keep it small).
    The task is forked, not pickled, so it may be a closure over the frozen model. With one
    job (or no fork) it runs here, at the end of the block. An error in the block kills the
    worker."""
    result: Background[R] = Background()
    if jobs < 2 or not can_fork():
        yield result
        result.value = task()
        return
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    worker = context.Process(target=_run, args=(os.getpid(), task, writer), daemon=True)
    worker.start()
    writer.close()
    try:
        yield result
    except BaseException:
        worker.kill()
        worker.join()
        raise
    try:
        result.value = reader.recv()  # before join: a large value would block the worker's exit
    except EOFError:
        pass  # the worker died: its exit code says so
    finally:
        reader.close()
    worker.join()
    if worker.exitcode != 0:
        raise WorkerError(f"一个工作进程失败（退出码 {worker.exitcode}；原因见上方的错误信息，或是内存不足、被系统结束）；"
                          "已发布的网站未被改动，请检查后重试，或设置 SKILLBRANDS_JOBS=1 只用一个进程。")


def _run(parent: int, task: Callable[[], Any], writer: Any) -> None:
    _die_with_parent(parent)
    writer.send(task())
    writer.close()


def _die_with_parent(parent: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        prctl = getattr(libc, "prctl", None)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
