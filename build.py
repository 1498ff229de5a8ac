#!/usr/bin/env python3
"""skillbrands command line: validate the data package, build and publish the site.

A thin Click wrapper: each command parses options, calls the engine in
`skillbrands/`, prints the result and maps it to an exit code
(0 ok, 1 problems in the data or the build, 2 usage errors).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from skillbrands.issues import CODES, Issue, has_errors

HERE = Path(__file__).resolve().parent


def project_option(command):
    return click.option(
        "--project",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=HERE,
        show_default="this repository",
        help="项目目录（含 datasets/、content/、site_templates/）。",
    )(command)


def format_option(command):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="text 供人阅读；json 每个问题一个对象。",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """职业技能培训品牌目录：校验数据、生成网站和开放数据下载。"""


@cli.command()
@project_option
@format_option
def validate(project: Path, fmt: str) -> None:
    """校验 datasets/ 中的数据包，一次列出全部问题。"""
    from skillbrands.pipeline import check_project

    issues = check_project(project)
    print_issues(issues, fmt)
    sys.exit(1 if has_errors(issues) else 0)


@cli.command()
@project_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="输出目录，默认为项目下的 output/。",
)
@format_option
def build(project: Path, out: Path | None, fmt: str) -> None:
    """校验数据并生成网站；有错误时不改动已发布的输出目录。"""
    from skillbrands.pipeline import BuildError, build_site

    out = out if out is not None else project / "output"
    try:
        result = build_site(project, out)
    except BuildError as error:
        if error.issues:
            print_issues(error.issues, fmt)
        click.echo(f"构建失败：{error}；已发布的 {out} 未被改动。", err=True)
        sys.exit(1)
    if result.issues or fmt == "json":
        print_issues(result.issues, fmt)
    click.echo(
        f"已生成 {result.pages} 个页面、{result.downloads} 个下载文件，发布到 {out}"
        f"（用时 {result.seconds:.2f} 秒）。",
        err=True,
    )


def print_issues(issues: list[Issue], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([issue.to_dict() for issue in issues], ensure_ascii=False, indent=2))
        return
    if not issues:
        click.echo("没有发现问题。")
        return
    current = None
    for issue in issues:
        if issue.path != current:
            current = issue.path
            click.echo(f"\n{issue.path}")
        where = f"第{issue.row}行" if issue.row is not None else "整个文件"
        if issue.field:
            where += f"，列“{issue.field}”"
        level = "错误" if issue.severity == "error" else "警告"
        click.echo(f"  [{level}] {where}：{issue.message}（{issue.code}：{CODES.get(issue.code, '')}）")
    errors = sum(issue.severity == "error" for issue in issues)
    click.echo(f"\n共 {errors} 个错误、{len(issues) - errors} 个警告。")


if __name__ == "__main__":
    cli()
