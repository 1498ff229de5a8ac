"""The progress line the CLI shows on a terminal while the engine works (only build.py uses it).

The engine reports through a plain callback, `progress(stage, done=None, total=None)`
(pipeline.Progress); this module turns those calls into one transient rich line: a spinner,
the stage in Chinese, a bar when the stage knows its total, and the time so far. The line
is cleared when the command ends, so what the command prints afterwards is the same as
without a terminal.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .pipeline import Progress

#: stage slug -> what the line says
STAGES = {
    "sheets": "读取工作簿",
    "unchanged": "检查数据和模板是否有改动",
    "validate": "校验数据",
    "read": "读取并校验数据",
    "content": "读取内容页",
    "directory": "建立品牌目录",
    "history": "核对已冻结的年度版本",
    "model": "准备模板",
    "downloads": "生成下载文件",
    "render": "生成页面",
    "feeds": "生成订阅和站点地图",
    "search": "生成搜索索引",
    "assets": "复制样式和脚本",
    "cleanup": "发布",
    "compare": "与对象存储中的文件比较",
    "upload": "上传",
    "delete": "删除已不在网站中的文件",
}


@contextmanager
def progress_line(stream: IO[str], enabled: bool) -> Iterator[Progress | None]:
    """A progress callback drawing on `stream` while the block runs; None when not `enabled`
    (not a terminal, or JSON output), so the engine is told nothing and nothing is drawn."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress as Bar, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
              TimeElapsedColumn(), console=Console(file=stream), transient=True)
    task = bar.add_task("开始", total=None, count="")

    def report(stage: str, done: int | None = None, total: int | None = None) -> None:
        # a stage without a total pulses; one with a total fills and shows "done/total". A new
        # stage is drawn at once, so even one that ends before the next tick is seen.
        described = STAGES.get(stage, stage)
        bar.update(task, description=described, completed=done or 0, total=total,
                   count=f"{done:,}/{total:,}" if done is not None and total else "",
                   refresh=described != bar.tasks[0].description)

    with bar:
        yield report
