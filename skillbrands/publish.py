"""Publishing: write the whole site into a staging folder, then swap it in at once.

The staging folder sits beside the target (same filesystem, so the swap is a
rename). On Linux the swap is one `renameat2(RENAME_EXCHANGE)` call: at every
instant `output/` is the complete old site or the complete new one. Elsewhere it
falls back to two renames. Leftovers of a build that was killed are removed by the
next build. The writer refuses paths outside the folder and writing one path twice.

A rebuild rarely changes most files, and on many disks creating and deleting a
file costs far more than linking one. So the published site carries a manifest
(`.skillbrands-site`: a digest per file); a file whose bytes are unchanged is
hard-linked from the published site into the staging folder instead of written,
and deleting the old site afterwards then only drops names. The staging folder is
still a complete site of its own, so the swap stays atomic.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path, PurePosixPath
from typing import Iterable

#: every published site carries it (a manifest of its files), so we never swap away a
#: folder we did not make, and know which files a rebuild can link instead of write
MARKER = ".skillbrands-site"
_MANIFEST_HEADER = "skillbrands site manifest: blake2b-128 digest, path\n"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class PublishError(Exception):
    """The output folder cannot be written; the message names it, in Chinese."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class StagedSite:
    """A site being written into `<parent>/.<name>.staging-<pid>`."""

    def __init__(self, target: Path):
        self.target = Path(target).resolve()
        self.parent = self.target.parent
        self.staging = self.parent / f".{self.target.name}.staging-{os.getpid()}"
        self.written: set[str] = set()
        self.manifest: dict[str, str] = {}  # path -> digest of what this build wrote
        self.previous: dict[str, str] = {}  # the same for the published site
        self.files = 0
        self.linked = 0
        self.bytes = 0

    def __enter__(self) -> "StagedSite":
        self._check_target()
        remove_leftovers(self.target)
        _made_dirs.clear()
        self.previous = read_manifest(self.target)
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging.mkdir()
        except OSError as error:
            raise PublishError(_explain(error, self.parent)) from error
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _check_target(self) -> None:
        if self.target.exists() and not self.target.is_dir():
            raise PublishError(f"输出位置 {self.target} 是一个文件，不是目录。")
        if self.target.is_dir() and any(self.target.iterdir()) and not (self.target / MARKER).exists():
            raise PublishError(
                f"输出目录 {self.target} 已存在且不是本工具生成的网站（缺少 {MARKER}）；"
                "为免覆盖其中的文件，请换一个输出目录或先手动清空它。")

    def claim(self, relpath: str) -> Path:
        """Reserve a path for writing (by this process or a worker); refuse collisions and escapes."""
        path = safe_join(self.staging, relpath)
        if relpath in self.written:
            raise PublishError(f"两个页面都要写入 {relpath}；请检查编号或 content/ 中的文件名是否冲突。")
        self.written.add(relpath)
        return path

    def write(self, relpath: str, data: bytes) -> None:
        path = self.claim(relpath)
        key, linked = store(path, relpath, data, self.target, self.previous, self.parent)
        self.record([(relpath, key, linked, len(data))])

    def record(self, entries: Iterable[tuple[str, str, bool, int]]) -> None:
        """Account for stored files (relpath, digest, linked?, size), also those workers stored."""
        for relpath, key, linked, size in entries:
            self.manifest[relpath] = key
            self.files += 1
            self.linked += linked
            self.bytes += size

    def write_all(self, items: Iterable[tuple[str, bytes]]) -> int:
        count = 0
        for relpath, data in items:
            self.write(relpath, data)
            count += 1
        return count

    def copy_tree(self, source: Path, relpath: str) -> int:
        """Copy static assets (regular files only; symlinks are refused)."""
        count = 0
        for path in sorted(source.rglob("*")):
            if path.is_symlink():
                raise PublishError(f"{path} 是符号链接；为安全起见，资源目录中不允许符号链接。")
            if path.is_file():
                self.write(f"{relpath}/{path.relative_to(source).as_posix()}", path.read_bytes())
                count += 1
        return count

    def commit(self) -> float:
        """Swap the staging folder in as the target, atomically where the OS allows.

        Returns the seconds the swap itself took; the old site is deleted afterwards.
        """
        lines = "".join(f"{key}  {path}\n" for path, key in sorted(self.manifest.items()))
        write_file(safe_join(self.staging, MARKER), (_MANIFEST_HEADER + lines).encode("utf-8"), self.parent)
        started = time.perf_counter()
        try:
            if self.target.exists():
                if not _exchange(self.staging, self.target):
                    old = self.parent / f".{self.target.name}.old-{os.getpid()}"
                    os.rename(self.target, old)
                    os.rename(self.staging, self.target)
                    self.staging = old
                swapped = time.perf_counter() - started
                _delete_old_site(self.staging, len(self.previous))  # self.staging now holds the old site
            else:
                os.rename(self.staging, self.target)
                swapped = time.perf_counter() - started
        except OSError as error:
            raise PublishError(_explain(error, self.parent)) from error
        return swapped


#: above this many files, the old site is deleted by a detached process after the swap
DETACH_DELETE_FROM = 20_000


def _delete_old_site(old: Path, files: int) -> None:
    """Delete the replaced site. It is no longer published, so a large one is handed to a
    detached `rm` (on some disks deleting 200,000 files takes minutes); if that is killed,
    the next build removes what is left (see `remove_leftovers`)."""
    rm = shutil.which("rm")
    if files < DETACH_DELETE_FROM or rm is None:
        shutil.rmtree(old, ignore_errors=True)
        return
    parked = old.with_name(old.name.replace(".staging-", ".old-"))
    try:
        os.rename(old, parked)
        subprocess.Popen([rm, "-rf", "--", str(parked)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(target: Path) -> dict[str, str]:
    """The published site's files and digests (empty for an old or foreign folder)."""
    try:
        text = (target / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if not text.startswith(_MANIFEST_HEADER):
        return {}
    out = {}
    for line in text[len(_MANIFEST_HEADER):].splitlines():
        key, _, path = line.partition("  ")
        if key and path:
            out[path] = key
    return out


_made_dirs: set[Path] = set()


def store(path: Path, relpath: str, data: bytes, published: Path, previous: dict[str, str],
          folder: Path) -> tuple[str, bool]:
    """Put one file into the staging folder: a hard link to the published copy when it is
    unchanged, else the bytes. Returns (digest, linked?)."""
    key = digest(data)
    if previous.get(relpath) == key:
        _make_parent(path, folder)
        try:
            os.link(safe_join(published, relpath), path)
            return key, True
        except OSError:
            pass  # gone, another filesystem, no links: write it instead
    write_file(path, data, folder)
    return key, False


def write_file(path: Path, data: bytes, folder: Path) -> None:
    """Write one file (parents created once per process); Chinese error on failure."""
    _make_parent(path, folder)
    try:
        path.write_bytes(data)
    except OSError as error:
        raise PublishError(_explain(error, folder)) from error


def _make_parent(path: Path, folder: Path) -> None:
    if path.parent in _made_dirs:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PublishError(_explain(error, folder)) from error
    _made_dirs.add(path.parent)


def safe_join(root: Path, relpath: str) -> Path:
    """root/relpath, refusing absolute paths, `..` and anything that escapes root."""
    pure = PurePosixPath(relpath)
    if pure.is_absolute() or ".." in pure.parts or relpath.startswith("\\") or not pure.parts:
        raise PublishError(f"拒绝写入输出目录之外的路径：{relpath}")
    return root.joinpath(*pure.parts)


def remove_leftovers(target: Path) -> None:
    """Delete staging or old folders left by builds that were killed."""
    for path in target.parent.glob(f".{target.name}.*-*"):
        kind, _, pid = path.name.rpartition("-")
        if not kind.endswith((".staging", ".old")) or not pid.isdigit():
            continue
        if int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another build is running right now
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False if unsupported here."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _explain(error: OSError, folder: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"磁盘空间不足，无法写入 {folder}；请清理磁盘后重试。"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有权限写入 {folder}；请检查该目录的权限。"
    return f"写入 {folder} 时出错：{error.strerror or error}"
