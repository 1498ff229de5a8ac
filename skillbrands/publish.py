"""Publishing: write the whole site into a staging folder, then swap it in at once.

The staging folder sits beside the target (same filesystem, so the swap is a
rename). On Linux the swap is one `renameat2(RENAME_EXCHANGE)` call: at every
instant `output/` is the complete old site or the complete new one. Elsewhere it
falls back to two renames. The writer refuses paths outside the folder and writing
one path twice.

Guarantees when builds overlap or people touch the output by hand:

- **One build at a time per output folder.** A build holds an exclusive lock
  (`flock` on `.skillbrands.<name>.lock` beside the target) from before it reads
  the published site until after the swap; a second build into the same folder
  stops at once with a message naming the process that holds it. The kernel drops
  the lock when the holder dies, so a killed build never blocks the next one, and
  leftovers of killed builds are removed by the next build under the lock.
- **Only proven bytes are reused.** A rebuild rarely changes most files, and on
  many disks creating and deleting a file costs far more than linking one. The
  published site carries a manifest (`.skillbrands-site`, a digest per file: part of
  the site, so byte-identical for the same commit), and beside the target a ledger
  (`.skillbrands.<name>.ledger`) records each file's digest, size, mtime and inode as
  written. A file whose new bytes have the recorded digest is hard-linked from the
  published site only when the published file is still a regular file with the
  recorded (inode, size, mtime_ns); a file edited, truncated or replaced by hand
  fails that check and is written afresh. A missing, stale or damaged ledger only
  means more files are written.
- **Nothing is deleted that the tool did not write.** Files in the published
  folder that are not in its manifest are either carried over into the new site
  (`CARRY_OVER`: `.git`, `CNAME`, `.nojekyll`, `.well-known`, as hard links) or
  stop the build before any work, naming them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

#: every published site carries it (a manifest of its files), so we never swap away a
#: folder we did not make, and know which files a rebuild may link instead of write
MARKER = ".skillbrands-site"
_MANIFEST_HEADER = "skillbrands site manifest: blake2b-128 digest, path\n"
_LEDGER_HEADER = "skillbrands ledger: blake2b-128 digest, size, mtime_ns, inode, path\n"
#: top-level names in a published folder that the tool did not write but keeps: a git
#: checkout of the site (GitHub Pages' `gh-pages`), its custom domain, Jekyll switch-off
#: and ACME/security.txt files put there by the host
CARRY_OVER = (".git", ".nojekyll", ".well-known", "CNAME")
#: at most this many foreign files are named in the message that refuses them
_SHOWN = 10
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class PublishError(Exception):
    """The output folder cannot be written; the message names it, in Chinese."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Record(NamedTuple):
    """A published file as this tool wrote it: enough to prove it is still those bytes."""

    digest: str
    size: int
    mtime_ns: int
    inode: int


Entry = tuple[str, Record, bool]  # (relpath, record, linked?)


@dataclass
class Store:
    """Puts files into a staging folder (in this process or a forked worker): a hard link
    to the published copy when that is provably unchanged, else the bytes."""

    published: Path
    previous: dict[str, Record]
    folder: Path  # named in error messages
    made_dirs: set[Path] = field(default_factory=set)
    #: files already in the staging folder when it is the spare site (see StagedSite), as the
    #: build that wrote them recorded them: kept where they are when they hold the right bytes
    spare: dict[str, Record] = field(default_factory=dict)

    def put(self, path: Path, relpath: str, data: bytes) -> Entry:
        key = digest(data)
        here = self.spare.get(relpath)
        if here is not None and here.digest == key and here.size == len(data) and _unchanged(path, here):
            return relpath, here, True
        old = self.previous.get(relpath)
        if old is not None and old.digest == key and old.size == len(data):
            linked = self.relink(path, relpath)
            if linked is not None:
                return linked
        self.write(path, data)
        try:
            written = os.stat(path)
        except OSError as error:
            raise PublishError(_explain(error, self.folder)) from error
        return relpath, Record(key, len(data), written.st_mtime_ns, written.st_ino), False

    def adopt(self, path: Path, relpath: str) -> Entry:
        """Account for a file already written at `path` (streamed there by its writer)."""
        key = hashlib.blake2b(digest_size=16)
        try:
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    key.update(block)
            written = os.stat(path)
        except OSError as error:
            raise PublishError(_explain(error, self.folder)) from error
        record = Record(key.hexdigest(), written.st_size, written.st_mtime_ns, written.st_ino)
        old = self.previous.get(relpath)
        if old is not None and (old.digest, old.size) == (record.digest, record.size):
            # the published copy, provably the same bytes: link it in place of the new one, as put() would
            spare = path.with_name(f".{path.name}.link")
            entry = self.relink(spare, relpath)
            if entry is not None:
                try:
                    os.replace(spare, path)
                    return entry
                except OSError:
                    spare.unlink(missing_ok=True)
        return relpath, record, False

    def relink(self, path: Path, relpath: str) -> Entry | None:
        """Hard-link the published copy of `relpath` when it is provably the file this tool
        wrote (ledger); None when it is not, or cannot be linked (then write it instead)."""
        old = self.previous.get(relpath)
        here = self.spare.get(relpath)
        if old is not None and here is not None and (here.digest, here.size) == (old.digest, old.size) \
                and _unchanged(path, here):
            return relpath, here, True  # the spare site has it already
        source = safe_join(self.published, relpath)
        if old is None or not _unchanged(source, old):
            return None
        self.make_parent(path)
        try:
            try:
                os.link(source, path, follow_symlinks=False)
            except FileExistsError:  # the spare's older copy: replaced, never written through
                spare = path.with_name(f".{path.name}.link")
                spare.unlink(missing_ok=True)
                os.link(source, spare, follow_symlinks=False)
                os.replace(spare, path)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise PublishError(_explain(error, self.folder)) from error
            return None  # gone, another filesystem, no links here
        return relpath, old, True

    def write(self, path: Path, data: bytes) -> None:
        """Write one file as a new file (parents created once); Chinese error on failure.

        A file already there (the spare site's older copy, which may be a hard link to the
        published one) is replaced by a rename, never opened and written through."""
        self.make_parent(path)
        try:
            write_new(path, data)
        except OSError as error:
            raise PublishError(_explain(error, self.folder)) from error

    def make_parent(self, path: Path) -> None:
        if path.parent in self.made_dirs:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError(_explain(error, self.folder)) from error
        self.made_dirs.add(path.parent)


def write_new(path: Path, data: bytes) -> None:
    """`data` as a new file at `path`: a file already there is replaced by a rename, never opened
    and written through (it may be a hard link to a published file)."""
    try:
        with open(path, "xb") as handle:
            handle.write(data)
    except FileExistsError:
        fresh = path.with_name(f".{path.name}.new")
        with open(fresh, "wb") as handle:
            handle.write(data)
        os.replace(fresh, path)


def _unchanged(path: Path, record: Record) -> bool:
    """The published file is still the regular file this tool wrote (not edited, not replaced)."""
    try:
        now = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISREG(now.st_mode) and now.st_ino == record.inode and now.st_size == record.size
            and now.st_mtime_ns == record.mtime_ns)


class StagedSite:
    """A site being written into `<parent>/.<name>.staging-<pid>`, under the output's lock."""

    def __init__(self, target: Path):
        self.target = Path(target).resolve()
        self.parent = self.target.parent
        self.staging = self.parent / f".{self.target.name}.staging-{os.getpid()}"
        self.spare = self.parent / f".{self.target.name}.spare"  # the site before the published one
        self.lock = OutputLock(self.target)
        self.written: set[str] = set()
        self.manifest: dict[str, Record] = {}  # what this build wrote
        self.previous: dict[str, Record] = {}  # published files as their builder wrote them
        self.carried: list[str] = []  # top-level names carried over from the published site
        self.store = Store(self.target, {}, self.parent)
        self.files = 0
        self.linked = 0
        self.bytes = 0

    def __enter__(self) -> "StagedSite":
        if self.target.exists() and not self.target.is_dir():
            raise PublishError(f"输出位置 {self.target} 是一个文件，不是目录。")
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError(_explain(error, self.parent)) from error
        self.lock.acquire()
        try:
            known = read_manifest(self.target)
            self.carried = self._check_foreign(known)
            remove_leftovers(self.target)
            ledger = read_ledger(self.lock.ledger)
            self.previous = {path: record for path, record in ledger.items() if known.get(path) == record.digest}
            self.store = Store(self.target, self.previous, self.parent, spare=self._take_spare())
        except OSError as error:
            self.lock.release()
            raise PublishError(_explain(error, self.parent)) from error
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is not None and self.staging.exists():
                _delete_old_site(self.staging, len(self.written) + len(self.store.spare))
        finally:
            self.lock.release()

    def _take_spare(self) -> dict[str, Record]:
        """Start from the spare site when it is provably as its build left it (its ledger, and
        nothing in it but the files that ledger lists): the staging folder is the spare, renamed,
        and only what differs is written. Otherwise an empty staging folder. Either way the
        spare's ledger is deleted first: from here on nothing vouches for the spare until the
        next swap makes one again, so a build killed half way never leaves a spare that lies."""
        ledger = self.lock.spare_ledger
        records = read_ledger(ledger)
        folders = read_folders(self.lock.spare_folders)
        ledger.unlink(missing_ok=True)
        self.lock.spare_folders.unlink(missing_ok=True)
        usable = bool(records) and self.spare.is_dir() and not self.spare.is_symlink()
        if usable:
            foreign, _ = _foreign_entries(self.spare, set(records), folders)
            usable = not foreign
        if usable:
            os.rename(self.spare, self.staging)
            return records
        if self.spare.is_symlink() or self.spare.is_file():
            self.spare.unlink()
        elif self.spare.is_dir():
            parked = self.parent / f".{self.target.name}.old-{os.getpid()}"
            os.rename(self.spare, parked)
            _delete_old_site(parked, len(records) or DETACH_DELETE_FROM)
        self.staging.mkdir()
        return {}

    def _check_foreign(self, known: dict[str, str]) -> list[str]:
        """Refuse a published folder holding files this tool did not write (other than
        CARRY_OVER); return the CARRY_OVER names present, to carry into the new site."""
        if not self.target.is_dir():
            return []
        has_manifest = (self.target / MARKER).is_file()
        foreign, carried = _foreign_entries(self.target, set(known), read_folders(self.lock.folders))
        if foreign and not has_manifest:
            shown = "、".join(foreign[:_SHOWN])
            raise PublishError(
                f"输出目录 {self.target} 已存在且不是本工具生成的网站（缺少 {MARKER}），其中有 {shown}"
                f"{'等' if len(foreign) > _SHOWN else ''}；为免覆盖其中的文件，请换一个输出目录或先手动清空它。")
        if foreign:
            shown = "、".join(foreign[:_SHOWN])
            more = f"等 {len(foreign):,} 项" if len(foreign) > _SHOWN else ""
            raise PublishError(
                f"输出目录 {self.target} 中有不是本工具写入的文件：{shown}{more}。重新生成会替换整个目录，"
                f"为免删掉它们，构建已停止：请把它们移到别处（网站自带的文件请放进 site_templates/assets/），"
                f"然后重试。会原样保留的只有：{'、'.join(CARRY_OVER)}。")
        return carried

    def claim(self, relpath: str) -> Path:
        """Reserve a path for writing (by this process or a worker); refuse collisions and escapes."""
        path = safe_join(self.staging, relpath)
        if relpath in self.written:
            raise PublishError(f"两个页面都要写入 {relpath}；请检查编号或 content/ 中的文件名是否冲突。")
        self.written.add(relpath)
        return path

    def fresh(self, relpath: str) -> Path:
        """`claim`, for a writer that opens the file itself: the spare's older copy there (maybe
        a hard link to the published file) is unlinked first, so it is never written through."""
        path = self.claim(relpath)
        if relpath in self.store.spare:
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                raise PublishError(_explain(error, self.parent)) from error
        return path

    def write(self, relpath: str, data: bytes) -> None:
        path = self.claim(relpath)
        self.record([self.store.put(path, relpath, data)])

    def record(self, entries: Iterable[Entry]) -> None:
        """Account for stored files, also those workers stored."""
        for relpath, record, linked in entries:
            self.manifest[relpath] = record
            self.files += 1
            self.linked += linked
            self.bytes += record.size

    def adopt(self, relpaths: Iterable[str]) -> int:
        """Account for files a stage wrote itself at paths it claimed (downloads streamed to disk)."""
        count = 0
        for relpath in relpaths:
            if relpath not in self.written:
                raise PublishError(f"{relpath} 没有预先登记就被写入了。")
            self.record([self.store.adopt(safe_join(self.staging, relpath), relpath)])
            count += 1
        return count

    def write_all(self, items: Iterable[tuple[str, bytes]]) -> int:
        count = 0
        for relpath, data in items:
            self.write(relpath, data)
            count += 1
        return count

    def reuse(self, folder: str, stamp: str, data: bytes) -> int | None:
        """Carry the published `folder`/ over whole, as hard links, when its `stamp` file
        holds `data` and every file in it is provably the one this tool wrote (manifest
        and ledger); the number of files, or None (nothing carried) otherwise. Files this
        build has already written there (a page) stay its own."""
        old = self.previous.get(stamp)
        if old is None or old.digest != digest(data) or old.size != len(data):
            return None
        inside = sorted(path for path in self.previous if path.startswith(folder + "/") and path not in self.written)
        if not all(_unchanged(safe_join(self.target, path), self.previous[path]) for path in inside):
            return None
        for relpath in inside:
            path = self.claim(relpath)
            entry = self.store.relink(path, relpath)  # else copy the proven bytes
            self.record([entry or self.store.put(path, relpath, safe_join(self.target, relpath).read_bytes())])
        return len(inside)

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
        self._drop_unclaimed()
        self._carry_over()
        lines = "".join(f"{r.digest}  {path}\n" for path, r in sorted(self.manifest.items()))
        self.store.write(safe_join(self.staging, MARKER), (_MANIFEST_HEADER + lines).encode("utf-8"))
        started = time.perf_counter()
        try:
            if self.target.exists():
                if not _exchange(self.staging, self.target):
                    old = self.parent / f".{self.target.name}.old-{os.getpid()}"
                    os.rename(self.target, old)
                    os.rename(self.staging, self.target)
                    self.staging = old
                swapped = time.perf_counter() - started
                old_site = self.staging  # now holds the site that was published
            else:
                os.rename(self.staging, self.target)
                swapped = time.perf_counter() - started
                old_site = None
        except OSError as error:
            raise PublishError(_explain(error, self.parent)) from error
        write_ledger(self.lock.ledger, self.manifest)
        if old_site is not None:
            self._keep_spare(old_site)
        write_folders(self.lock.folders, folder_records(self.target, self.manifest))
        return swapped

    def _keep_spare(self, old_site: Path) -> None:
        """The site just replaced becomes the spare the next build starts from, with its ledger
        (the records of its files, as its build wrote them); without one it is deleted."""
        if self.previous and not self.spare.exists() and not self.spare.is_symlink():
            try:
                os.rename(old_site, self.spare)
                if self.lock.folders.is_file():  # the folders of the site just replaced: the spare's now
                    os.replace(self.lock.folders, self.lock.spare_folders)
                write_ledger(self.lock.spare_ledger, self.previous)  # last: it is what vouches for the spare
                return
            except OSError:
                if not old_site.exists():
                    return
        _delete_old_site(old_site, len(self.previous))

    def _drop_unclaimed(self) -> None:
        """Delete what the spare site had and this build did not write, then empty folders."""
        folders: set[Path] = set()
        for relpath in self.store.spare:
            if relpath not in self.written:
                path = safe_join(self.staging, relpath)
                try:
                    path.unlink(missing_ok=True)
                except OSError as error:
                    raise PublishError(_explain(error, self.parent)) from error
                folders.update(p for p in path.parents if p != self.staging and self.staging in p.parents)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty: it holds files of this build

    def _carry_over(self) -> None:
        """Hard-link CARRY_OVER entries of the published folder into the staging folder
        (a file the build wrote itself under the same name wins)."""
        for name in CARRY_OVER:  # the spare's own copies (of the site before): replaced below
            path = self.staging / name
            if name in self.written or any(p.startswith(f"{name}/") for p in self.written):
                continue
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)
        for name in self.carried:
            if name in self.written or any(path.startswith(f"{name}/") for path in self.written):
                continue
            source, target = self.target / name, self.staging / name
            try:
                if source.is_symlink() or source.is_file():
                    _link_or_copy(source, target)
                elif source.is_dir():
                    shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
            except (OSError, shutil.Error) as error:
                raise PublishError(f"无法保留输出目录中的 {name}：{error}") from error


def _link_or_copy(source, target) -> None:
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


Folders = dict[str, tuple[int, int]]  # folder relpath -> (mtime_ns, inode) as the build left it


def _known_folders(known: Iterable[str]) -> set[str]:
    """Every folder holding a known file, as relpaths (the root excluded)."""
    folders: set[str] = set()
    for path in known:
        cut = path.rfind("/")
        while cut > 0:
            folder = path[:cut]
            if folder in folders:
                break
            folders.add(folder)
            cut = path.rfind("/", 0, cut)
    return folders


def _foreign_entries(target: Path, known: set[str], folders: Folders | None = None) -> tuple[list[str], list[str]]:
    """(entries of `target` not written by this tool, CARRY_OVER names present), sorted.

    A folder whose inode and modification time are those its build recorded (`folders`)
    holds exactly the entries it was left with (adding, removing or renaming an entry
    changes a folder's mtime), so it is not listed again: at national scale listing 25,000
    folders took seconds, checking them takes a fraction of that. The root is always listed.
    """
    inside = _known_folders(known)
    foreign: list[str] = []
    carried: list[str] = []
    root = os.fspath(target)

    def scan(prefix: str) -> None:
        with os.scandir(os.path.join(root, prefix) if prefix else root) as entries:
            for entry in entries:
                relpath = f"{prefix}/{entry.name}" if prefix else entry.name
                if not prefix and entry.name in CARRY_OVER:
                    carried.append(entry.name)
                elif not prefix and entry.name == MARKER:
                    continue
                elif entry.is_dir(follow_symlinks=False):
                    if relpath not in inside:
                        foreign.append(f"{relpath}/")
                elif relpath not in known or not entry.is_file(follow_symlinks=False):
                    foreign.append(relpath)

    scan("")
    for folder in inside:
        recorded = (folders or {}).get(folder)
        if recorded is not None and _folder_unchanged(os.path.join(root, folder), recorded):
            continue
        try:
            scan(folder)
        except (FileNotFoundError, NotADirectoryError):
            pass  # gone or replaced: its parent, listed because its mtime changed, names it
    return sorted(foreign), sorted(carried)


def _folder_unchanged(path: str, recorded: tuple[int, int]) -> bool:
    try:
        now = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(now.st_mode) and (now.st_mtime_ns, now.st_ino) == recorded


def folder_records(target: Path, known: Iterable[str]) -> Folders:
    """(mtime_ns, inode) of every folder of the site, as it is now (after the swap)."""
    out: Folders = {}
    for folder in _known_folders(known):
        try:
            now = os.lstat(os.path.join(target, folder))
        except OSError:
            continue
        out[folder] = (now.st_mtime_ns, now.st_ino)
    return out


_FOLDERS_HEADER = "skillbrands folders: mtime_ns, inode, path\n"


def read_folders(path: Path) -> Folders:
    out: Folders = {}
    for fields, relpath in _listing(path, _FOLDERS_HEADER):
        parts = fields.split(" ")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            out[relpath] = (int(parts[0]), int(parts[1]))
    return out


def write_folders(path: Path, folders: Folders) -> None:
    lines = "".join(f"{mtime} {inode}  {relpath}\n" for relpath, (mtime, inode) in sorted(folders.items()))
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes((_FOLDERS_HEADER + lines).encode("utf-8"))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        path.unlink(missing_ok=True)


class OutputLock:
    """An exclusive, non-blocking `flock` on `<parent>/.skillbrands.<name>.lock`.

    The file stays (deleting a lock file lets two builds lock two different files); it
    holds the holder's process ID, for the message a second build shows.
    """

    def __init__(self, target: Path):
        self.path = target.parent / f".skillbrands.{target.name}.lock"
        self.ledger = target.parent / f".skillbrands.{target.name}.ledger"  # see read_ledger
        self.spare_ledger = target.parent / f".skillbrands.{target.name}.spare-ledger"  # the spare site's
        self.folders = target.parent / f".skillbrands.{target.name}.folders"  # see folder_records
        self.spare_folders = target.parent / f".skillbrands.{target.name}.spare-folders"
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise PublishError(_explain(error, self.path.parent)) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f"（进程 {holder}）" if holder.isdigit() else ""
            raise PublishError(
                f"另一个构建{who}正在发布到 {self.path.parent / self.path.name.removeprefix('.skillbrands.').removesuffix('.lock')}；"
                "同一个输出目录一次只能有一个构建。请等它结束后再运行，或换一个输出目录（--out）。") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


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


def _listing(path: Path, header: str) -> Iterator[tuple[str, str]]:
    """(fields, path) per line of a manifest or ledger; nothing if the file is unusable."""
    try:
        if path.is_symlink() or not path.is_file():
            return
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if text.startswith(header):
        for line in text[len(header):].splitlines():
            fields, _, relpath = line.partition("  ")
            if fields and relpath:
                yield fields, relpath


def read_manifest(target: Path) -> dict[str, str]:
    """The published site's files and digests (empty for a foreign folder)."""
    return {relpath: key for key, relpath in _listing(target / MARKER, _MANIFEST_HEADER)}


def published_manifest_digest(target: Path) -> str | None:
    """The digest of the published site's manifest file (None when there is none)."""
    try:
        path = target / MARKER
        return None if path.is_symlink() or not path.is_file() else digest(path.read_bytes())
    except OSError:
        return None


def published_intact(target: Path) -> bool:
    """Every file of the published site is provably the one this tool wrote (manifest, ledger,
    and each file's inode, size and mtime), and nothing else is there but CARRY_OVER. Call it
    under the output's lock."""
    known = read_manifest(target)
    if not known:
        return False
    ledger = read_ledger(OutputLock(target).ledger)
    if any(ledger.get(path) is None or ledger[path].digest != key for path, key in known.items()):
        return False
    root = os.fspath(target)  # the manifest's paths were checked when written; these are only read
    if any(".." in path.split("/") for path in known) or \
            not all(_unchanged(Path(os.path.join(root, path)), ledger[path]) for path in known):
        return False
    foreign, _ = _foreign_entries(target, set(known), read_folders(OutputLock(target).folders))
    return not foreign


def read_ledger(path: Path) -> dict[str, Record]:
    """Published files as written: path -> (digest, size, mtime_ns, inode); {} if unusable."""
    out = {}
    for fields, relpath in _listing(path, _LEDGER_HEADER):
        parts = fields.split(" ")
        if len(parts) == 4 and all(p.isdigit() for p in parts[1:]):
            out[relpath] = Record(parts[0], int(parts[1]), int(parts[2]), int(parts[3]))
    return out


def write_ledger(path: Path, records: dict[str, Record]) -> None:
    """Replace the ledger atomically. Best effort: without it the next build links nothing."""
    lines = "".join(f"{r.digest} {r.size} {r.mtime_ns} {r.inode}  {relpath}\n"
                    for relpath, r in sorted(records.items()))
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes((_LEDGER_HEADER + lines).encode("utf-8"))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def safe_join(root: Path, relpath: str) -> Path:
    """root/relpath, refusing absolute paths, `..` and anything that escapes root (as
    PurePosixPath reads the path: empty and `.` parts dropped; string work, called per file)."""
    parts = [part for part in relpath.split("/") if part and part != "."]
    if relpath.startswith(("/", "\\")) or ".." in parts or not parts or "\0" in relpath:
        raise PublishError(f"拒绝写入输出目录之外的路径：{relpath}")
    return Path(os.path.join(root, *parts))


def remove_leftovers(target: Path) -> None:
    """Delete staging or old folders left by builds that were killed (called under the
    output's lock, so no other build is writing any of them)."""
    for path in target.parent.glob(f".{target.name}.*-*"):
        kind, _, pid = path.name.rpartition("-")
        if not kind.endswith((".staging", ".old")) or not pid.isdigit():
            continue
        if path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)


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
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"磁盘空间不足，无法写入 {folder}；请清理磁盘后重试。"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有权限写入 {folder}；请检查该目录的权限。"
    return f"写入 {folder} 时出错：{error.strerror or error}"
