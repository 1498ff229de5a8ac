#!/usr/bin/env python3
"""skillbrands command line: validate the data package, build and publish the site.

A thin Click wrapper: each command parses options, calls the engine in
`skillbrands/`, prints the result and maps it to an exit code
(0 ok, 1 problems in the data or the build, 2 usage errors).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

import click

from skillbrands import clitext
from skillbrands.clitext import option
from skillbrands.issues import Issue, has_errors, text_report

HERE = Path(__file__).resolve().parent


def project_option(command):
    return option(
        "--project",
        type=clitext.folder(exists=True),
        default=HERE,
        show_default="本仓库",
        metavar="目录",
        help="项目目录（含 datasets/、content/、site_templates/）。",
    )(command)


def format_option(what: str):
    def decorate(command):
        return option(
            "--format",
            "fmt",
            type=clitext.choice(["text", "json"]),
            default="text",
            show_default=True,
            help=f"text：供人阅读的文字；json：{what}，供程序读取。",
        )(command)
    return decorate


def today_option(command):
    return option(
        "--today",
        type=clitext.day(),
        default=None,
        metavar="日期",
        help="把这一天（YYYY-MM-DD）当作今天：检查“日期不能晚于今天”时以它为准，下载文件也记为这一天生成；"
             "不填时为今天。用于重新检查或重新生成某一天的结果。",
    )(command)


def reference_day(today: datetime | None) -> date | None:
    """The day the engine takes as today: --today, else the day of SOURCE_DATE_EPOCH (reproducible
    builds), else None (the engine's own: today in China Standard Time). Only the CLI reads these."""
    from skillbrands.validate import epoch_date

    if today is not None:
        return today.date()
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return epoch_date(int(epoch)) if epoch.isdigit() else None


def worker_jobs() -> int | None:
    """SKILLBRANDS_JOBS: how many worker processes the engine may use (None: the CPUs available)."""
    forced = os.environ.get("SKILLBRANDS_JOBS", "").strip()
    return int(forced) if forced.isdigit() and int(forced) > 0 else None


def _site_base(value: str | None) -> str | None:
    from skillbrands.urls import site_base

    try:
        return None if value is None else site_base(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


def year_option(text: str):
    return option("--year", type=clitext.integer_range(2000, 2100, "年度"), required=True, metavar="年度", help=text)


def progress_shown(fmt: str) -> bool:
    """A progress line only for a person at a terminal: not in pipes or CI logs, not with JSON."""
    return fmt != "json" and sys.stdout.isatty()


def say(message: str, fmt: str = "text") -> None:
    """Success and problems on one stream: stdout, or stderr when stdout carries JSON."""
    click.echo(message, err=fmt == "json")


@click.group(cls=clitext.Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """职业技能培训品牌目录：校验数据、生成网站和开放数据下载。

    每个命令后加 --help 可查看它的选项，例如：python build.py validate --help
    """


@cli.command()
@project_option
@format_option("每个问题一个对象")
@today_option
def validate(project: Path, fmt: str, today) -> None:
    """校验 datasets/ 中的数据包，一次列出全部问题。"""
    from skillbrands.pipeline import check_project
    from skillbrands.progress import progress_line
    from skillbrands.workers import WorkerError

    try:
        with progress_line(sys.stdout, progress_shown(fmt)) as progress:
            issues = check_project(project, reference_day(today), worker_jobs(), progress)
    except WorkerError as error:
        say(f"校验未完成：{error}", fmt)
        sys.exit(1)
    print_issues(issues, fmt)
    sys.exit(1 if has_errors(issues) else 0)


@cli.command()
@project_option
@option(
    "--out",
    type=clitext.folder(exists=False),
    default=None,
    metavar="目录",
    help="输出目录，默认为项目下的 output/。",
)
@option(
    "--base-url",
    default=None,
    metavar="URL",
    callback=lambda ctx, param, value: _site_base(value),
    help="网站发布后的地址，例如 https://rsj.example.gov.cn/pxpp/。给出时页面带规范地址（canonical）和分享信息（Open Graph），"
         "并生成 sitemap.xml；不给时链接仍是相对的，网站在任何地址下都能用。",
)
@format_option("每个问题一个对象")
@today_option
def build(project: Path, out: Path | None, base_url: str | None, fmt: str, today) -> None:
    """校验数据并生成网站；有错误时不改动已发布的输出目录。"""
    from skillbrands.pipeline import BuildError, build_site
    from skillbrands.progress import progress_line

    out = out if out is not None else project / "output"
    try:
        with progress_line(sys.stdout, progress_shown(fmt)) as progress:
            result = build_site(project, out, reference_day(today), base_url, worker_jobs(), progress)
    except BuildError as error:
        if error.issues:
            print_issues(error.issues, fmt)
        say(f"构建失败：{error}；已发布的 {out} 未被改动。", fmt)
        sys.exit(1)
    if result.issues or fmt == "json":
        print_issues(result.issues, fmt)
    if result.unchanged:
        say(f"数据、内容、模板和选项都与 {out} 上次构建时相同，已发布的网站完好，无需重新生成"
            f"（{result.pages} 个页面、{result.downloads} 个下载文件；用时 {result.seconds:.2f} 秒）。", fmt)
        return
    kept = result.pages - result.rendered
    say(f"已生成 {result.pages} 个页面（{f'重新渲染 {result.rendered} 个，其余 {kept} 个未变，沿用已发布的' if kept else '全部重新渲染'}）、"
        f"{result.downloads} 个下载文件，发布到 {out}"
        f"（用时 {result.seconds:.2f} 秒{'；数据未变，搜索索引沿用上次的' if result.search_reused else ''}）。", fmt)


@cli.command()
@project_option
@year_option("评估年度（2000—2100），例如 2025：评估 2022—2024 年的数据。")
@format_option("每个到期品牌一个对象")
@option(
    "--csv",
    "csv_path",
    type=clitext.file(),
    default=None,
    metavar="文件",
    help="另存一份 CSV（UTF-8 带 BOM，可用 Excel 打开），每个到期品牌一行。",
)
@today_option
def review(project: Path, year: int, fmt: str, csv_path: Path | None, today) -> None:
    """三年评估：列出该年度到期评估的品牌、三年数据和建议结论。"""
    from skillbrands.pipeline import DataError, review_project
    from skillbrands.review import review_csv, review_records, review_text

    try:
        reviewed = review_project(project, year, reference_day(today), worker_jobs())
    except DataError as error:
        print_issues(error.issues, fmt)
        say("数据有错误，请先改正后再进行评估。", fmt)
        sys.exit(1)
    if reviewed.issues:
        say(f"数据有 {len(reviewed.issues)} 个警告，运行 python build.py validate 可查看。", fmt)
    directory, items = reviewed.directory, reviewed.items
    if csv_path is not None:
        try:
            csv_path.write_bytes(review_csv(directory, items, year))
        except OSError as error:
            say(f"无法写入 {csv_path}：{error.strerror or error}", fmt)
            sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(review_records(directory, items), ensure_ascii=False, indent=2))
    else:
        click.echo(review_text(directory, items, year, [issue.message for issue in reviewed.settled]))
    if csv_path is not None:
        say(f"已写入 {csv_path}（{len(items)} 行）。", fmt)


@cli.command()
@project_option
@year_option("要冻结的年度版本，须已在 datasets/releases.csv 中登记。")
@today_option
def freeze(project: Path, year: int, today) -> None:
    """冻结一个已公布的年度版本：把版本文件和 SHA256SUMS 写入 datasets/editions/<年度>/。"""
    from skillbrands.editions import FROZEN_DIR
    from skillbrands.pipeline import DataError, FreezeRefused, freeze_year

    try:
        frozen = freeze_year(project, year, reference_day(today), worker_jobs())
    except DataError as error:
        print_issues(error.issues, "text")
        say("数据有错误，未冻结。")
        sys.exit(1)
    except FreezeRefused as error:
        say(str(error))
        sys.exit(1)
    if frozen.folder is None:
        say(f"{year}年度版本已冻结（{FROZEN_DIR}/{year}/），内容与当前数据一致，无需再次冻结。")
        return
    say(f"已冻结{year}年度版本：{len(frozen.edition.brands)} 个品牌，文件写入 {frozen.folder}；请提交该目录。")


@cli.command()
@project_option
@option("--draft", is_flag=True, help="把未说明的不同之处作为草稿行加到 datasets/corrections.csv 末尾（原因留空，须填写）。")
@today_option
def corrections(project: Path, draft: bool, today) -> None:
    """列出当前数据与已冻结版本不同、但 corrections.csv 中还没有说明的地方。"""
    from skillbrands.corrections import PATH, DraftError, append_draft
    from skillbrands.pipeline import prepare

    when = reference_day(today)
    prepared = prepare(project, when, worker_jobs())
    if prepared.directory is None:
        print_issues([i for i in prepared.issues if i.severity == "error"], "text")
        say("数据有错误，无法与已冻结的版本比较；请先改正。")
        sys.exit(1)
    uncovered = prepared.uncovered
    if not uncovered:
        say("当前数据与已冻结的版本之间的每一处不同都已在 corrections.csv 中说明。")
        return
    for d in uncovered:
        what = f"“{d.old}” → “{d.new}”" if d.old and d.new else (f"补录 “{d.new}”" if d.new else f"删除 “{d.old}”")
        say(f"{d.table}.csv {d.key_text} {d.field}：{what}（{'、'.join(map(str, d.years))}年度版本）")
    if not draft:
        say(f"共 {len(uncovered)} 处未说明；运行 python build.py corrections --draft 可把它们加到 {PATH}。")
        sys.exit(1)
    from skillbrands.validate import reference_date

    try:
        path = append_draft(project, uncovered, when or reference_date())
    except (DraftError, OSError) as error:
        say(f"未写入草稿：{getattr(error, 'strerror', None) or error}")
        sys.exit(1)
    say(f"已在 {path} 末尾加上 {len(uncovered)} 行草稿；请核对 kind（correction 勘误 / change 变更 / "
               "late_record 补录），在 reason 一列写明原因，再运行 python build.py validate。")


@cli.command()
@project_option
@option("--year", type=clitext.integer_range(2000, 2100, "年度"), default=None, metavar="年度",
        help="正在准备的年度：这一年的行以浅黄色标出，填表说明写明这一年要填什么。"
             "不填时为 releases.csv 中最新年度的下一年。")
@option("--out", type=clitext.file(), default=None, metavar="文件",
        help="写入的工作簿（.xlsx），默认为当前目录下的 填表模板.xlsx。")
def template(project: Path, year: int | None, out: Path | None) -> None:
    """生成填表用的 Excel 工作簿：每个表一个工作表，带下拉列表和现有数据。"""
    from skillbrands.intake import IntakeError, write_template

    out = out if out is not None else Path("填表模板.xlsx")
    try:
        made = write_template(project, out, year)
    except (IntakeError, OSError) as error:
        say(f"未生成模板：{getattr(error, 'strerror', None) or error}")
        sys.exit(1)
    rows = "、".join(f"{title} {count:,} 行" for title, count in made.rows.items())
    say(f"已生成 {made.path}（{made.year}年度）：{rows}。填好后运行 python build.py import {made.path}。")


@cli.command("import")
@click.argument("workbook", type=clitext.file(), metavar="工作簿.xlsx")
@project_option
@option("--dry-run", is_flag=True, help="只检查并列出每个表新增、修改、删除的行，不写入任何文件。")
@today_option
def import_(workbook: Path, project: Path, dry_run: bool, today) -> None:
    """读入填好的 Excel 工作簿：检查全部数据，没有错误时写回 datasets/ 中的 CSV 文件。"""
    from skillbrands.intake import IntakeError, change_lines, import_workbook
    from skillbrands.progress import progress_line
    from skillbrands.workers import WorkerError

    try:
        with progress_line(sys.stdout, progress_shown("text")) as progress:
            imported = import_workbook(project, workbook, reference_day(today), worker_jobs(), dry_run, progress)
    except (IntakeError, WorkerError) as error:
        say(f"未导入：{error}")
        sys.exit(1)
    except OSError as error:
        say(f"未导入：无法写入 datasets/（{error.strerror or error}）；datasets/ 中的文件未被改动。")
        sys.exit(1)
    if imported.issues:
        print_issues(imported.issues, "text")
    failed = has_errors(imported.issues)
    if dry_run or failed:
        for change in imported.changes:
            for line in change_lines(change):
                say(line)
    if failed:
        say("工作簿中有错误，未写入任何文件；请改正后重新导入。")
        sys.exit(1)
    if dry_run:
        say("这是试运行（--dry-run），没有写入任何文件。")
    elif imported.written:
        say(f"已写入 {len(imported.written)} 个文件：{'、'.join(imported.written)}。")
        for change in imported.changes:
            if not change.empty:
                say(next(change_lines(change)))
    else:
        say("工作簿与 datasets/ 中的数据相同，没有改动任何文件。")


@cli.command()
@project_option
def normalize(project: Path) -> None:
    """把 datasets/ 中存成 GBK、带 BOM 或 CRLF 行尾的 CSV 文件改写为 UTF-8（无 BOM、LF 行尾）。"""
    from skillbrands.intake import IntakeError, normalize as normalize_files

    try:
        done = normalize_files(project)
    except (IntakeError, OSError) as error:
        say(f"未改写：{getattr(error, 'strerror', None) or error}")
        sys.exit(1)
    for item in done:
        say(f"{item.path}：{'；'.join(item.changes)}")
    say(f"已改写 {len(done)} 个文件。" if done else "datasets/ 中的 CSV 文件都已是 UTF-8（无 BOM、LF 行尾），没有改动。")


@cli.command()
@option("--scale", type=clitext.choice(["S", "M", "L"]), required=True,
              help="规模：S 约 2,000 个品牌，M 约 20,000 个，L 约 200,000 个（每个品牌 5 年成效数据）。")
@option("--seed", type=clitext.integer(), default=1, show_default=True, metavar="整数", help="随机种子；规模和种子相同，生成的文件逐字节相同。")
@option("--project", type=clitext.folder(exists=False), required=True, metavar="目录",
              help="写入的项目目录；不存在时新建，已存在且不为空时拒绝写入（除非加 --force）。")
@option("--force", is_flag=True, help="目录不为空时仍写入，覆盖其中生成的文件。")
def generate(scale: str, seed: int, project: Path, force: bool) -> None:
    """生成全国规模的测试数据项目（机构、品牌、数字均为随机生成），用于测试和压测。"""
    from skillbrands.generate import GenerateError
    from skillbrands.generate import generate as generate_project

    try:
        result = generate_project(project, scale, seed, force=force)
    except GenerateError as error:
        say(f"未生成：{error}")
        sys.exit(1)
    counts = result.counts
    click.echo(
        f"已生成测试数据（规模 {result.scale}，种子 {result.seed}）：品牌 {counts['brands']:,} 个、"
        f"机构 {counts['institutions']:,} 个、年度成效 {counts['outcomes']:,} 行、退出 {counts['exits']:,} 个、"
        f"评估 {counts['reviews']:,} 条，写入 {result.project}（用时 {result.seconds:.2f} 秒）。"
    )


@cli.command()
@project_option
@option("--port", type=clitext.integer_range(1, 65535, "端口号"), default=8000, show_default=True, metavar="端口",
        help="预览用的端口号（1—65535）。")
def serve(project: Path, port: int) -> None:
    """在本机（127.0.0.1）预览网站：生成到临时文件夹，改动数据、内容或模板后自动重新生成并刷新页面；按 Ctrl+C 停止。"""
    import errno
    import shutil
    import signal
    import tempfile
    import threading

    from skillbrands.preview import Built, Preview

    def report(built: Built) -> None:
        if built.unchanged:
            click.echo(f"[{datetime.now():%H:%M:%S}] 文件已保存，但内容与第 {built.number} 次生成时相同，网站无需更新。")
            return
        if built.ok:
            warned = f"，{len(built.issues)} 个警告（python build.py validate 可查看）" if built.issues else ""
            click.echo(f"[{datetime.now():%H:%M:%S}] 第 {built.number} 次生成：{built.pages} 个页面"
                       f"（重新渲染 {built.rendered} 个），用时 {built.seconds:.2f} 秒{warned}。")
            return
        errors = sum(issue.severity == "error" for issue in built.issues)
        click.echo(f"[{datetime.now():%H:%M:%S}] 第 {built.number} 次生成未完成：{built.message}"
                   f"{f'（{errors} 个错误）' if errors else ''}；浏览器中显示问题列表，改正并保存后自动重新生成。")

    folder = Path(tempfile.mkdtemp(prefix="skillbrands-preview-"))
    try:
        preview = Preview(project, folder, reference_day(None), worker_jobs())
        try:
            server = preview.server(port)
        except OSError as error:
            why = {errno.EADDRINUSE: "这个端口已被其他程序占用", errno.EACCES: "没有使用这个端口的权限"}
            say(f"无法在端口 {port} 上启动预览：{why.get(error.errno, error.strerror or error)}；请用 --port 换一个端口。")
            sys.exit(1)
        stop = threading.Event()

        def interrupted(signum: int, frame: object) -> None:
            # Ctrl+C, and `kill` (SIGTERM) alike, so the temporary folder is removed. The event
            # first: a KeyboardInterrupt raised while a finaliser runs (in garbage collection
            # during a rebuild) is printed and dropped by Python, and the watcher still sees it.
            stop.set()
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, interrupted)
        signal.signal(signal.SIGTERM, interrupted)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            click.echo(f"预览地址：http://127.0.0.1:{port}/ （改动 datasets/、content/、site_templates/ 后自动更新；"
                       "按 Ctrl+C 停止）")
            click.echo(f"正在生成网站（临时文件夹 {folder}）……")
            report(preview.rebuild())
            preview.watch(stop, report)  # until `stop` is set
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            preview.close()
            server.shutdown()
            server.server_close()
        click.echo("预览已停止。")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@cli.command()
@project_option
@option("--to", "to", required=True, metavar="s3://存储桶/前缀",
        help="发布到哪里，例如 s3://pxpp-site/www（前缀可省略，即整个存储桶）。")
@option("--endpoint", default=None, metavar="URL",
        help="对象存储的服务地址，例如阿里云 OSS 的 https://oss-cn-hangzhou.aliyuncs.com；"
             "不填时用环境变量 AWS_ENDPOINT_URL，再没有则为 AWS S3。")
@option("--site", type=clitext.folder(exists=False), default=None, metavar="目录",
        help="要发布的网站目录（python build.py build 的结果），默认为项目下的 output/。")
@option("--dry-run", is_flag=True, help="只列出会上传和删除的文件，不做任何改动。")
def publish(project: Path, to: str, endpoint: str | None, site: Path | None, dry_run: bool) -> None:
    """把生成好的网站上传到对象存储（阿里云 OSS、腾讯云 COS、华为云 OBS、MinIO 等 S3 兼容服务）：
    只传改动过的文件，先传页面、最后传首页和搜索索引，全部传完后才删除旧文件；中途失败可直接重新运行。

    访问密钥只从环境变量 AWS_ACCESS_KEY_ID、AWS_SECRET_ACCESS_KEY（或 AWS_PROFILE）读取，不要写进仓库。
    """
    from skillbrands.objectstore import ObjectStoreError, Target, connect
    from skillbrands.objectstore import publish as publish_site
    from skillbrands.progress import progress_line

    site = site if site is not None else project / "output"
    if not (site / "index.html").is_file():
        say(f"{site} 中还没有网站；请先运行 python build.py build。")
        sys.exit(1)
    try:
        target = Target.parse(to)
        with progress_line(sys.stdout, progress_shown("text")) as progress:
            result = publish_site(connect(endpoint), site, target, dry_run=dry_run, progress=progress)
    except ObjectStoreError as error:
        say(f"未发布：{error}")
        sys.exit(1)
    plan = result.plan
    if dry_run:
        for upload in plan.uploads:
            click.echo(f"上传 {upload.path}（{upload.size:,} 字节，{upload.content_type}）")
        for path in plan.deletes:
            click.echo(f"删除 {path}")
        say(f"试运行：发布到 {target} 将上传 {len(plan.uploads):,} 个文件（{_mb(plan.bytes)}）、"
            f"删除 {len(plan.deletes):,} 个，{plan.unchanged:,} 个未变；未做任何改动。")
        return
    say(f"已发布到 {target}：上传 {len(result.uploaded):,} 个文件（{_mb(result.bytes)}），"
        f"删除 {len(result.deleted):,} 个，{plan.unchanged:,} 个未变（用时 {result.seconds:.2f} 秒）。")


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} 字节"


def print_issues(issues: list[Issue], fmt: str) -> None:
    """The report: JSON (every issue up to limits.JSON_ISSUES, then one `issues-truncated` object),
    or text (issues.text_report: like warnings of a column grouped, errors at most
    limits.TEXT_REPEATS per file and code, then how many more)."""
    from skillbrands import limits

    if fmt == "json":
        shown = [issue.to_dict() for issue in issues[:limits.JSON_ISSUES]]
        rest = issues[limits.JSON_ISSUES:]
        if rest:
            errors = sum(issue.severity == "error" for issue in rest)
            shown.append(Issue("", None, None, "issues-truncated", "error" if errors else "warning",
                               f"另有 {len(rest):,} 个问题（{errors:,} 个错误）未输出；JSON 最多输出 "
                               f"{limits.JSON_ISSUES:,} 个问题。").to_dict())
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for line in text_report(issues, limits.TEXT_REPEATS):
        click.echo(line)


if __name__ == "__main__":
    cli()
