"""Publishing a built site to S3-compatible object storage (OSS, COS, OBS, MinIO, AWS S3).

An object store has no atomic swap, so a publish is ordered instead, and every step may be
repeated:

1. **Check.** The site folder must be a complete build (`publish.published_intact`, under
   the folder's build lock, which is held to the end so no build swaps the folder while it
   is being read). Its manifest `.skillbrands-site` gives each file's digest, so unchanged
   files are not read at all.
2. **Compare.** One listing of the prefix (`list_objects_v2`: key, size, ETag; 1,000 keys a
   request) and the remote manifest `PREFIX/.skillbrands-manifest.json.gz` (gzipped JSON), which records for
   each file the digest it was uploaded with and the ETag the store answered. A remote file
   counts as holding that digest only while the listing still shows that ETag and size: an
   object replaced by hand, or by an upload whose answer never arrived, has another ETag
   and is uploaded again. The ETag is only compared with itself, never taken for an MD5
   (it is not one for multipart uploads or some encrypted buckets).
3. **Upload** what differs, in `rank` order: pages, data and assets first; then the entry
   points (top-level files, `<section>/index.html`, the download manifests); then
   `search/search.js`; `search/meta.json`, the first file the search client reads, last. A
   publish stopped half way leaves the old entry points, which link only to files that
   were already there.
4. **Delete** what the site no longer has, only after every upload succeeded.
5. **Record** the remote manifest, last (it is also written after each rank and, best
   effort, when a publish fails, so a rerun skips what already arrived).

A prefix that holds objects but no remote manifest is refused (not this tool's), like a
foreign output folder. Under a prefix that is, every object the site does not have is
deleted, except the top-level names in `publish.CARRY_OVER`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import os
import re
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from .publish import CARRY_OVER, MARKER, OutputLock, PublishError, published_intact, read_ledger, read_manifest

#: the remote manifest, beside the site's files under the prefix
MANIFEST = ".skillbrands-manifest.json.gz"
_FORMAT = "skillbrands remote manifest 1"
#: uploads (and deletions) in flight at once
JOBS = 8
#: names with a content digest in them (`style.3f9a1c2b.css`) never change: cached for a year
_HASHED = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
LONG_CACHE = "public, max-age=31536000, immutable"
#: everything else: pages and their assets change together at each publish, so none is kept
#: long enough to meet a page of another publish for more than a few minutes
SHORT_CACHE = "public, max-age=300"
#: the last files of a publish, in this order: the search client, then what it reads first
SEARCH_LAST = ("search/search.js", "search/meta.json")
#: manifests of the downloads, which name the files beside them
_ENTRY = {"data/datapackage.json", "data/catalog.jsonld", "data/index.html"}
#: suffixes the standard table lacks or names differently
_TYPES = {
    ".jsonld": "application/ld+json",
    ".bin": "application/octet-stream",  # search postings: gzip bytes the client decodes itself
    ".sqlite": "application/vnd.sqlite3",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",  # not in Python 3.11's table
    ".woff2": "font/woff2",
    ".webp": "image/webp",
    ".sha256": "text/plain",
    ".js": "text/javascript",
    ".xml": "application/xml",
    ".webmanifest": "application/manifest+json",
}
_TEXT = {"text/html", "text/css", "text/javascript", "text/csv", "text/plain", "application/json",
         "application/ld+json", "application/xml", "application/manifest+json", "image/svg+xml"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$")


class ObjectStoreError(Exception):
    """The publish cannot go on; the message says why and what to do, in Chinese."""


@dataclass(frozen=True)
class Target:
    """Where the site goes: `s3://bucket/prefix`."""

    bucket: str
    prefix: str  # "" or "a/b" (no slashes at either end)

    @classmethod
    def parse(cls, url: str) -> "Target":
        if not url.startswith("s3://"):
            raise ObjectStoreError(f"“{url}”不是对象存储地址；请写作 s3://存储桶/前缀，例如 s3://pxpp-site/www。")
        bucket, _, prefix = url[len("s3://"):].partition("/")
        prefix = prefix.strip("/")
        if not _BUCKET.match(bucket):
            raise ObjectStoreError(f"“{bucket}”不是存储桶的名字：应为 3—63 个小写字母、数字、点或连字符。")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise ObjectStoreError(f"前缀“{prefix}”中不能有空的部分、“.”或“..”。")
        return cls(bucket, prefix)

    def key(self, relpath: str) -> str:
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


@dataclass(frozen=True)
class Upload:
    path: str
    size: int
    digest: str
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class Plan:
    """What a publish will do: uploads in the order they go, then deletions."""

    target: Target
    uploads: tuple[Upload, ...]
    deletes: tuple[str, ...]
    unchanged: int
    claimed: bool  # the prefix already has a remote manifest
    known: dict[str, tuple[str, int, str]]  # relpath -> (digest, size, etag) the store provably holds

    @property
    def bytes(self) -> int:
        return sum(upload.size for upload in self.uploads)


@dataclass(frozen=True)
class PublishResult:
    plan: Plan
    uploaded: tuple[str, ...]  # in the order they completed
    deleted: tuple[str, ...]
    bytes: int
    seconds: float
    dry_run: bool


# ---------------------------------------------------------------- headers and order

def _types() -> mimetypes.MimeTypes:
    # a fresh table holds Python's built-in map only, not /etc/mime.types: the same headers everywhere
    return mimetypes.MimeTypes()


_TABLE = _types()


def content_type(relpath: str) -> str:
    """The Content-Type of a file: by suffix, with `charset=utf-8` for text (every text file
    of the site is UTF-8). A suffix no table knows is octet-stream; `SHA256SUMS` is text."""
    name = relpath.rsplit("/", 1)[-1]
    suffix = os.path.splitext(name)[1].lower()
    kind = _TYPES.get(suffix) or _TABLE.guess_type(name, strict=False)[0]
    if kind is None:
        kind = "text/plain" if name.isupper() else "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind in _TEXT else kind


def cache_control(relpath: str) -> str:
    return LONG_CACHE if _HASHED.search(relpath.rsplit("/", 1)[-1]) else SHORT_CACHE


def rank(relpath: str) -> int:
    """Upload order: 0 pages, data and assets; 1 entry points (top-level files,
    `<section>/index.html`, download manifests); then SEARCH_LAST, one rank each."""
    if relpath in SEARCH_LAST:
        return 2 + SEARCH_LAST.index(relpath)
    depth = relpath.count("/")
    if depth == 0 or (depth == 1 and relpath.endswith("/index.html")) or relpath in _ENTRY:
        return 1
    return 0


# ---------------------------------------------------------------- the two sides

def connect(endpoint: str | None, jobs: int = JOBS) -> Any:
    """A boto3 S3 client. Credentials and region come from boto3's default chain only
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/, instance roles);
    without `endpoint`, AWS_ENDPOINT_URL(_S3) or AWS itself."""
    import boto3
    from botocore.config import Config

    config = Config(
        # boto3 >= 1.36 adds CRC32 checksums (aws-chunked bodies) that several S3-compatible
        # stores reject; send them only where the API requires one
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 4, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=jobs + 2,
    )
    try:
        return boto3.session.Session().client("s3", endpoint_url=endpoint or None, config=config)
    except Exception as error:  # a bad endpoint URL or profile
        raise ObjectStoreError(_explain(error, None, endpoint)) from error


def local_files(site: Path) -> dict[str, tuple[str, int]]:
    """relpath -> (digest, size) of a complete build, from its manifest and ledger (proven by
    published_intact), plus the manifest file itself."""
    known = read_manifest(site)
    ledger = read_ledger(OutputLock(site).ledger)
    files = {path: (key, ledger[path].size) for path, key in known.items()}
    marker = (site / MARKER).read_bytes()
    files[MARKER] = (_digest(marker), len(marker))
    return files


def remote_files(client: Any, target: Target) -> tuple[dict[str, tuple[int, str]], dict | None]:
    """(relpath -> (size, etag) of every object under the prefix, the remote manifest or None).

    One listing, page after page. Not cut into ranges listed side by side (StartAfter): that
    needs the store to list in UTF-8 byte order, and SeaweedFS, for one, does not (it lists
    `data/releases/…` before `data/releases.csv`), so a range could miss keys."""
    listed: dict[str, tuple[int, str]] = {}
    start = f"{target.prefix}/" if target.prefix else ""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=start):
        for item in page.get("Contents", ()):
            relpath = item["Key"][len(start):]
            if relpath and not relpath.endswith("/"):
                listed[relpath] = (item["Size"], _etag(item["ETag"]))
    manifest = None
    if MANIFEST in listed:
        try:
            body = client.get_object(Bucket=target.bucket, Key=target.key(MANIFEST))["Body"].read()
            manifest = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        except (ValueError, OSError, EOFError):
            manifest = {}  # damaged: the prefix is ours, but nothing in it is vouched for
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            manifest = {}
    return listed, manifest


def plan(client: Any, site: Path, target: Target) -> Plan:
    """Compare the site with what the store provably holds. Call under the site's lock."""
    local = local_files(site)
    listed, manifest = _guard(lambda: remote_files(client, target), target, client)
    others = [path for path in listed if path != MANIFEST]
    if manifest is None and others:
        shown = "、".join(sorted(others)[:10])
        raise ObjectStoreError(
            f"{target} 下已有 {len(others):,} 个不是本工具发布的对象（没有 {MANIFEST}），例如 {shown}；"
            f"为免删掉它们，未发布。请换一个前缀，或先在对象存储控制台清空这个前缀。")
    known = {}
    for path, entry in (manifest or {}).get("files", {}).items():
        if isinstance(entry, list) and len(entry) == 3 and listed.get(path) == (entry[1], entry[2]):
            known[path] = (entry[0], entry[1], entry[2])
    uploads = sorted(
        (Upload(path, size, key, content_type(path), cache_control(path))
         for path, (key, size) in local.items() if known.get(path, ("",))[0] != key),
        key=lambda u: (rank(u.path), u.path))
    deletes = tuple(sorted(path for path in others if path not in local and path.split("/", 1)[0] not in CARRY_OVER))
    return Plan(target, tuple(uploads), deletes, len(local) - len(uploads), manifest is not None, known)


# ---------------------------------------------------------------- the publish

def publish(client: Any, site: Path, target: Target, *, dry_run: bool = False, jobs: int = JOBS,
            after_upload: Callable[[str], None] | None = None,
            progress: Callable[..., None] | None = None) -> PublishResult:
    """Publish the built site folder `site` to `target` (see the module docstring); with
    `dry_run`, only plan. `after_upload(relpath)` is called after each upload (tests stop a
    publish half way with it). `progress` (pipeline.Progress): told "compare", then
    ("upload", done, total) after each upload, then "delete"."""
    report = progress or (lambda stage, done=None, total=None: None)
    started = time.monotonic()
    site = Path(site).resolve()
    lock = OutputLock(site)
    try:
        lock.acquire()
    except PublishError as error:
        raise ObjectStoreError(str(error)) from error
    try:
        if not published_intact(site):
            raise ObjectStoreError(
                f"{site} 不是一次完整的构建结果（缺少文件清单，或有文件在构建后被改动、删除或添加）；"
                f"为免发布残缺的网站，未上传。请先运行 python build.py build，再发布。")
        report("compare")
        chosen = plan(client, site, target)
        if dry_run:
            return PublishResult(chosen, (), (), 0, time.monotonic() - started, True)
        return _guard(lambda: _run(client, site, chosen, jobs, after_upload, report, started), target, client)
    except OSError as error:  # the site folder cannot be read
        raise ObjectStoreError(f"无法读取 {error.filename or site}：{error.strerror or error}") from error
    finally:
        lock.release()


def _run(client: Any, site: Path, chosen: Plan, jobs: int, after_upload: Callable[[str], None] | None,
         report: Callable[..., None], started: float) -> PublishResult:
    target = chosen.target
    holds = dict(chosen.known)  # what the store provably holds, as uploads complete
    uploaded: list[str] = []
    sent = 0
    if not chosen.claimed:  # claim the prefix before the first upload: a rerun knows it is ours
        _write_manifest(client, target, {})

    def put(upload: Upload) -> tuple[Upload, str]:
        data = (site / upload.path).read_bytes()
        if _digest(data) != upload.digest:
            raise ObjectStoreError(f"{site / upload.path} 在发布过程中被改动了；请重新构建后再发布。")
        answer = client.put_object(Bucket=target.bucket, Key=target.key(upload.path), Body=data,
                                   ContentType=upload.content_type, CacheControl=upload.cache_control,
                                   Metadata={"skillbrands-digest": upload.digest})
        return upload, _etag(answer["ETag"])

    pending: set = set()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            for _, group in _ranks(chosen.uploads):
                pending = {pool.submit(put, upload) for upload in group}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in done:
                        upload, etag = future.result()  # raises the first failure
                        holds[upload.path] = (upload.digest, upload.size, etag)
                        uploaded.append(upload.path)
                        sent += upload.size
                        if after_upload is not None:
                            after_upload(upload.path)
                        report("upload", len(uploaded), len(chosen.uploads))
                if group:
                    _write_manifest(client, target, holds)
            report("delete")
            deleted = list(pool.map(lambda path: _delete(client, target, path, holds), chosen.deletes))
        except BaseException:
            for future in pending:
                future.cancel()
            try:  # best effort: the rerun then skips what already arrived
                _write_manifest(client, target, holds)
            except Exception:
                pass
            raise
    _write_manifest(client, target, holds)
    return PublishResult(chosen, tuple(uploaded), tuple(deleted), sent, time.monotonic() - started, False)


def _ranks(uploads: Iterable[Upload]) -> list[tuple[int, list[Upload]]]:
    groups: dict[int, list[Upload]] = {}
    for upload in uploads:
        groups.setdefault(rank(upload.path), []).append(upload)
    return sorted(groups.items())


def _delete(client: Any, target: Target, path: str, holds: dict) -> str:
    # one DeleteObject per key: DeleteObjects needs a checksum header that not every store takes
    client.delete_object(Bucket=target.bucket, Key=target.key(path))
    holds.pop(path, None)
    return path


def _write_manifest(client: Any, target: Target, holds: dict[str, tuple[str, int, str]]) -> None:
    body = json.dumps({"format": _FORMAT, "files": {path: list(entry) for path, entry in sorted(holds.items())}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    client.put_object(Bucket=target.bucket, Key=target.key(MANIFEST), Body=gzip.compress(body, mtime=0),
                      ContentType="application/gzip", CacheControl="no-store")


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()  # the site manifest's digest


def _etag(value: str) -> str:
    return value.strip('"').lower()


# ---------------------------------------------------------------- errors in Chinese

def _guard(step: Callable[[], Any], target: Target, client: Any) -> Any:
    """Run a step that talks to the store; its failures become one Chinese sentence."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return step()
    except (BotoCoreError, ClientError) as error:
        raise ObjectStoreError(_explain(error, target, client.meta.endpoint_url)) from error


def _explain(error: Exception, target: Target | None, endpoint: str | None) -> str:
    from botocore import exceptions as e

    where = endpoint or "对象存储"
    if isinstance(error, (e.NoCredentialsError, e.PartialCredentialsError)):
        return ("找不到对象存储的访问密钥：请设置环境变量 AWS_ACCESS_KEY_ID 和 AWS_SECRET_ACCESS_KEY"
                "（或用 AWS_PROFILE 指定 ~/.aws/credentials 中的一组）；密钥不要写进仓库。")
    if isinstance(error, e.ProfileNotFound):
        return f"找不到访问密钥配置 {error.kwargs.get('profile', '')}：请检查环境变量 AWS_PROFILE 和 ~/.aws/credentials。"
    if isinstance(error, (e.EndpointConnectionError, e.ConnectTimeoutError, e.ReadTimeoutError,
                          e.ConnectionClosedError)):
        return f"无法连接对象存储 {where}：请检查 --endpoint 的地址、网络和防火墙，然后重试（重试是安全的）。"
    if isinstance(error, ValueError) and endpoint:
        return f"对象存储地址“{endpoint}”无效：请写作 https://主机名（例如 https://oss-cn-hangzhou.aliyuncs.com）。"
    if isinstance(error, e.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        bucket = target.bucket if target else ""
        if code == "NoSuchBucket":
            return f"存储桶 {bucket} 不存在：请检查 --to 中的名字和 --endpoint（地域），或先在对象存储控制台创建它。"
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden") or status == 403:
            return (f"对象存储拒绝了访问（{code or status}）：请检查访问密钥是否正确，"
                    f"以及它是否有读写存储桶 {bucket} 的权限。")
        return f"对象存储 {where} 返回错误 {code or status}：{error.response.get('Error', {}).get('Message', '')}"
    return f"访问对象存储 {where} 时出错：{error}"
