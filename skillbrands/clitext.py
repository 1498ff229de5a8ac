"""The command line in Chinese, Click's own words included.

Click marks its messages for gettext, but a gettext catalogue is chosen from the
environment (LANGUAGE, LANG …), which a clerk's Windows or a CI runner does not set to
Chinese. So the few places where Click's words reach the reader are overridden through
Click's own extension points instead: the help formatter (用法, headings), the help
option's text, each option's help extras ([默认：…], [必填]), parameter types whose
failures say what to type, and `Group.main`, which shows every usage error in Chinese
with the exit code Click would use (2). Nothing here reads files or the data.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import Any, Callable

import click
from click.exceptions import BadOptionUsage, BadParameter, MissingParameter, NoSuchCommand, NoSuchOption

HELP = "显示本帮助并退出。"
#: Click's section headings (its gettext msgids) as the help shows them
HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数", "Arguments": "参数"}


def width(text: str) -> int:
    """Columns a terminal gives the text: two for a Chinese character (Click counts one)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class Formatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        """Two columns aligned by display width; the help text is left for the terminal to wrap
        (Click's wrapping counts a Chinese character as one column and breaks lines too late)."""
        rows = list(rows)
        first_width = min(max((width(first) for first, _ in rows), default=0), col_max)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            pad = first_width - width(first)
            if pad >= 0:
                self.write(" " * (pad + col_spacing))
            else:
                self.write("\n" + " " * (first_width + col_spacing + self.current_indent))
            self.write(f"{second}\n")


class Context(click.Context):
    formatter_class = Formatter


class Option(click.Option):
    """An option whose help extras are Chinese: [默认：text]、[必填]."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.hidden:
            return None
        extra = self.get_help_extra(ctx)
        items = []
        if "default" in extra:
            shown = self.show_default if isinstance(self.show_default, str) else extra["default"]
            items.append(f"默认：{shown}")
        if "range" in extra:
            items.append(extra["range"])
        if "required" in extra:
            items.append("必填")
        text = self.help or ""
        if items:
            text = f"{text}  [{'；'.join(items)}]" if text else f"[{'；'.join(items)}]"
        return self.get_help_spec(ctx), text


def option(*names: str, **settings: Any) -> Callable:
    """click.option with the Chinese help extras."""
    return click.option(*names, cls=Option, **settings)


class _Chinese:
    """What a command and the group share: the Chinese context, [选项] and the help option's text."""

    context_class = Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        found = super().get_help_option(ctx)  # type: ignore[misc]
        if found is not None:
            found.help = HELP
        return found


class Command(_Chinese, click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.allow_extra_args = True  # reported here, in Chinese, instead of by Click
        try:
            rest = super().parse_args(ctx, args)
        except click.UsageError as error:
            if error.ctx is None:  # the option parser raises without one: the usage line needs it
                error.ctx = ctx
            raise
        if ctx.args:
            raise click.UsageError(f"多余的内容：{' '.join(ctx.args)}；每个值都要写在它的选项后面（如 --year 2025）。", ctx)
        return rest


class Group(_Chinese, click.Group):
    command_class = Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "命令 [选项]...")
        super().__init__(*args, **kwargs)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """As Click's, but every usage error and abort is shown in Chinese."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help(), err=True)
            sys.exit(error.exit_code)
        except click.UsageError as error:
            show_usage_error(error)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"错误：{error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("已中止。", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def show_usage_error(error: click.UsageError) -> None:
    """用法 line, where to find help, and the error, as Click lays them out."""
    ctx = error.ctx
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            click.echo(f"运行 {ctx.command_path} --help 查看每个选项的说明。", err=True)
        click.echo("", err=True)
    click.echo(f"错误：{usage_message(error)}", err=True)


def _names(param: click.Parameter | None) -> str:
    return " / ".join(param.opts) if param is not None and param.opts else (param.name or "") if param else ""


def _close(possibilities: list[str] | None) -> str:
    return f"您要找的是不是 {'、'.join(possibilities)}？" if possibilities else ""


def usage_message(error: click.UsageError) -> str:
    """One Chinese sentence for a usage error Click raised."""
    ctx = error.ctx
    if isinstance(error, MissingParameter):
        param = error.param
        what = param.help if isinstance(param, click.Option) and param.help else ""
        return f"缺少必填的选项 {_names(param)}。{what}"
    if isinstance(error, NoSuchOption):
        known = []
        if ctx is not None:
            known = sorted({name for p in ctx.command.get_params(ctx) for name in p.opts if name.startswith("-")})
        listed = f"可用的选项：{'、'.join(known)}。" if known else ""
        return f"没有选项“{error.option_name}”。{_close(error.possibilities)}{listed}"
    if isinstance(error, NoSuchCommand):
        commands = ctx.command.list_commands(ctx) if ctx is not None and isinstance(ctx.command, click.Group) else []
        listed = f"可用的命令：{'、'.join(commands)}。" if commands else ""
        return f"没有命令“{error.command_name}”。{_close(error.possibilities)}{listed}"
    if isinstance(error, BadOptionUsage):
        if "does not take a value" in error.message:
            return f"选项 {error.option_name} 后面不能写值。"
        return f"选项 {error.option_name} 后面要写一个值。"
    if isinstance(error, BadParameter):
        return f"选项 {_names(error.param)} 的值不对：{error.message}"
    if error.message == "Missing command.":
        return "缺少命令。"
    return error.message


class Explained(click.ParamType):
    """A Click type whose failure is one Chinese sentence about the value typed."""

    def __init__(self, inner: click.ParamType, explain: Callable[[str], str]):
        self.inner = inner
        self.explain = explain
        self.name = inner.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.inner.convert(value, param, ctx)
        except click.BadParameter:
            self.fail(self.explain(str(value)), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        return self.inner.get_metavar(param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        return self.inner.shell_complete(ctx, param, incomplete)


def choice(values: list[str]) -> Explained:
    return Explained(click.Choice(values), lambda v: f"“{v}”不是可选的值；应为 {' 或 '.join(values)}。")


def integer_range(low: int, high: int, what: str) -> Explained:
    return Explained(click.IntRange(low, high), lambda v: f"“{v}”不是 {low} 到 {high} 之间的{what}。")


def integer() -> Explained:
    return Explained(click.INT, lambda v: f"“{v}”不是整数。")


def day() -> Explained:
    return Explained(click.DateTime(formats=["%Y-%m-%d"]),
                     lambda v: f"“{v}”不是日期；请写作 YYYY-MM-DD（如 2025-11-30）。")


def folder(*, exists: bool) -> Explained:
    from pathlib import Path

    def explain(value: str) -> str:
        path = Path(value)
        if not path.exists():
            return f"文件夹“{value}”不存在。"
        if not path.is_dir():
            return f"“{value}”是文件，不是文件夹。"
        return f"无法使用文件夹“{value}”。"

    return Explained(click.Path(exists=exists, file_okay=False, path_type=Path), explain)


def file() -> Explained:
    from pathlib import Path

    return Explained(click.Path(dir_okay=False, path_type=Path), lambda v: f"“{v}”是文件夹，这里应写文件名。")
