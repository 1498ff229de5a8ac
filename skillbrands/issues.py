"""Problems found in a project, as data: one `Issue` per problem, all collected in one run.

Every kind of problem has a stable slug (`code`) that tests and tools can rely on;
the message is Chinese, for the staff who fix the file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Literal

Severity = Literal["error", "warning"]

#: Every issue code the validator emits, with a short Chinese title (shown in the
#: text report and documented in the README).
CODES: dict[str, str] = {
    # the file as a whole
    "file-missing": "找不到文件",
    "excel-file": "Excel 工作簿被存成了 .csv",
    "empty-file": "空文件",
    "no-rows": "只有表头，没有数据",
    "encoding-converted": "文件不是 UTF-8 编码，已自动转换",
    "encoding-line-converted": "某一行不是 UTF-8 编码，已自动转换",
    "encoding-error": "无法识别的文件编码",
    "nul-byte": "文件中有空字符（NUL）",
    "wrong-delimiter": "分隔符不是英文逗号",
    "title-row": "表头上方有标题行",
    "missing-column": "缺少列",
    "extra-column": "多余的列（已忽略）",
    "duplicate-column": "重复的列名",
    "unterminated-quote": "引号没有闭合",
    # one row
    "extra-cell": "这一行的单元格比表头多",
    "missing-cell": "这一行的单元格比表头少",
    "blank-row": "空行（已忽略）",
    # one cell
    "required": "必填项为空",
    "whitespace-trimmed": "去掉了首尾空白字符",
    "fullwidth-digits": "全角数字已转为半角",
    "thousands-separator": "去掉了千位分隔符",
    "percent-value": "填了百分比，应填人数",
    "scientific-notation": "数字被 Excel 改成了科学计数法",
    "excel-date-serial": "日期被 Excel 存成了序列号",
    "date-normalised": "日期格式已规范为 YYYY-MM-DD",
    "label-normalised": "填了中文名称，已换成代码",
    "invalid-date": "不存在的日期",
    "type-error": "类型不符",
    "not-in-enum": "不在允许的取值范围内",
    "pattern-mismatch": "格式不符",
    "below-minimum": "小于允许的最小值",
    "above-maximum": "大于允许的最大值",
    "unsafe-id": "编号含有不能用于网址的字符",
    # across rows and tables
    "duplicate-id": "编号重复",
    "duplicate-id-casefold": "编号仅大小写不同",
    "foreign-key": "引用的编号不存在",
    # domain rules of seed 000 (rules.py)
    "count-exceeds-trainees": "人数多于培训人数",
    "credit-code-check": "统一社会信用代码校验码不符",
    "status-date-missing": "暂停或移出的机构缺少状态日期",
    "status-date-while-active": "正常状态的机构填了状态日期",
    "key-support-category-missing": "重点扶持品牌缺少扶持类别",
    "key-support-category-unused": "非重点扶持品牌填了扶持类别",
    "tier-region-mismatch": "品牌层级与发布地区层级不符",
    "brand-after-institution-status": "机构暂停或移出后又公布了品牌",
    "occupation-name-mismatch": "职业名称与职业代码不符",
    "recommended-tier": "推荐来源品牌不是下一级品牌",
    "recommended-institution": "推荐来源品牌的培训机构不同",
    "recommended-occupation": "推荐来源品牌的职业不同",
    "recommended-region": "推荐来源品牌不在本地区辖区内",
    "recommended-date": "推荐来源品牌公布得不比本品牌早",
    "recommended-exited": "推荐来源品牌已退出",
    "exit-before-publication": "退出日期不晚于公布日期",
    "outcome-after-exit": "退出后的年度仍有培训成效",
    "review-exit-missing": "评估退出的品牌不在退出品牌表中",
    "review-too-early": "评估年度早于公布的次年",
    "future-date": "日期晚于今天",
    "future-year": "年度晚于今年",
    "criteria-scope-below-tier": "地区不能设定上级品牌的标准",
    "criteria-not-met": "未达到评价标准",
    "outcome-missing": "缺少评价年度的培训成效",
    # the project beyond the data package
    "datapackage-invalid": "数据包描述文件有误",
    "content-invalid": "页面文件有误",
    # yearly editions
    "edition-changed": "与已冻结的年度版本不同，corrections.csv 中没有说明",
    "correction-reason-missing": "更正没有填写原因",
    "correction-field-unknown": "更正的列名不存在",
    "correction-key-invalid": "更正的编号不是该表的主键",
    "edition-tampered": "已冻结版本的文件被改动",
    "edition-not-frozen": "已公布的年度版本尚未冻结",
    # personal information must never be published
    "personal-id-number": "含有居民身份证号",
    "personal-mobile-number": "含有个人手机号码",
    "personal-bank-card": "含有像银行卡号的号码",
    "unsafe-path": "符号链接或越出项目目录的路径",
    # publishing (issue 20, points 1-3)

    # URLs and remote resources (issue 20, points 4-5; Markdown limits of point 10)
    "url-not-allowed": "网址不允许（只允许 http、https、mailto 开头）",
    "remote-resource": "页面加载其他网站的图片或资源",
    "content-too-large": "页面文件太大",
    "content-too-deep": "列表、引用或 HTML 嵌套太深",
    "content-paragraph-too-long": "段落太长",
    "content-too-complex": "未配对的括号太多，转换太慢",

    # history that cannot be bypassed (issue 20, points 6-8)
    "edition-entry-invalid": "冻结版本目录中有不该有的文件或文件夹",
    "edition-year-unknown": "冻结版本的年度不在 releases.csv 中",
    "edition-file-missing": "冻结版本缺少文件",
    "edition-file-invalid": "冻结版本的文件无法读取",
    "edition-sums-invalid": "冻结版本的 SHA256SUMS 格式有误",

    # hostile inputs: descriptors, limits, lookalike values, IDs (issue 20, points 9-12)
    "datapackage-too-large": "数据包描述文件太大",
    "datapackage-too-deep": "数据包描述文件嵌套太深",
    "datapackage-missing": "数据包描述缺少程序要用的项",
    "datapackage-type": "数据包描述中的值类型不对",
    "datapackage-duplicate": "数据包描述中的名称重复",
    "datapackage-reference": "数据包描述引用了不存在的表或列",
    "datapackage-key": "主键或外键与程序不符",
    "datapackage-enum": "取值范围与程序不符",
    "datapackage-pattern": "格式（正则表达式）无效或不受支持",
    "datapackage-setting-unknown": "未知的设置项（已忽略）",
    "file-too-large": "文件太大",
    "too-many-rows": "行数超过上限",
    "too-many-columns": "列数超过上限",
    "cell-too-long": "单元格内容太长",
    "checking-stopped": "错误太多，其余的行未检查",
    "issues-not-listed": "问题太多，其余未逐条列出",
    "issues-truncated": "输出的问题条数已达上限",

    # -- values and IDs (points 11-12)
    "other-digits": "其他文字的数字已转为 0-9",
    "code-digits": "编号或代码中有非半角数字",
    "bidi-control": "含有改变文字方向的控制字符",
    "control-character": "含有控制字符",
    "invisible-character": "去掉了看不见的字符",
    "private-use-character": "含有私用区字符（造字）",
    "invalid-character": "含有无效字符",
    "too-long": "超过长度上限",
    "reserved-name": "编号是 Windows 保留的设备名",
    "id-too-long": "编号过长",
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: where it is (file, spreadsheet row, column), what it is, how bad."""

    path: str
    row: int | None
    field: str | None
    code: str
    severity: Severity
    message: str

    def as_tuple(self) -> tuple[str, int | None, str | None, str]:
        """The part tests compare: (path, row, field, code)."""
        return (self.path, self.row, self.field, self.code)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


#: the longest piece of a value a message quotes (a 5 MB cell is never echoed whole)
EXCERPT_CHARS = 40


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A value as a message may quote it: at most `limit` characters, then "…（共 N 个字符）"."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…（共 {len(text):,} 个字符）"


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(issue.severity == "error" for issue in issues)


def sort_key(issue: Issue) -> tuple[str, int, str, str]:
    return (issue.path, issue.row or 0, issue.field or "", issue.code)


#: rows named in the one line of a group of like warnings
GROUP_ROWS = 5


def text_report(issues: list[Issue], repeats: int) -> Iterator[str]:
    """The report for people, line by line, grouped by file.

    Warnings of one code in one column of a file (an Excel round trip normalises every date
    of a column) are one line: how many, the first GROUP_ROWS rows, and the first message as
    an example, so the warning that matters is not buried. Errors are listed one by one, at
    most `repeats` per file and code, then how many more. `--format json` lists every issue.
    """
    if not issues:
        yield "没有发现问题。"
        return
    by_file: dict[str, list[Issue]] = {}
    for issue in issues:
        by_file.setdefault(issue.path, []).append(issue)
    for path, found in by_file.items():
        yield ""
        yield path
        yield from _file_lines(found, repeats)
    errors = sum(issue.severity == "error" for issue in issues)
    yield ""
    yield f"共 {errors} 个错误、{len(issues) - errors} 个警告。"


def _file_lines(issues: list[Issue], repeats: int) -> Iterator[str]:
    groups: dict[tuple[str, str | None], list[Issue]] = {}
    for issue in issues:
        if issue.severity == "warning" and issue.row is not None:
            groups.setdefault((issue.code, issue.field), []).append(issue)
    shown: dict[str, int] = {}
    hidden: dict[str, list[Issue]] = {}
    for issue in issues:
        group = groups.get((issue.code, issue.field)) if issue.severity == "warning" and issue.row is not None else None
        if group is not None and len(group) > 1:
            if group[0] is issue:
                yield _group_line(group)
            continue
        shown[issue.code] = shown.get(issue.code, 0) + 1
        if shown[issue.code] > repeats:
            hidden.setdefault(issue.code, []).append(issue)
            continue
        yield _line(issue)
    for code, rest in hidden.items():
        level = "错误" if any(issue.severity == "error" for issue in rest) else "警告"
        yield f"  [{level}] …及另外 {len(rest):,} 处（同类问题）（{code}：{CODES.get(code, '')}）"


def _column(issue: Issue) -> str:
    return f"，{'位置' if issue.path.endswith('.json') else '列'}“{issue.field}”" if issue.field else ""


def _line(issue: Issue) -> str:
    where = f"第{issue.row}行" if issue.row is not None else "整个文件"
    level = "错误" if issue.severity == "error" else "警告"
    return f"  [{level}] {where}{_column(issue)}：{issue.message}（{issue.code}：{CODES.get(issue.code, '')}）"


def _group_line(group: list[Issue]) -> str:
    first = group[0]
    rows = "、".join(str(issue.row) for issue in group[:GROUP_ROWS])
    more = "等" if len(group) > GROUP_ROWS else ""
    return (f"  [警告] 第{rows}行{more}共 {len(group):,} 处{_column(first)}：{CODES.get(first.code, first.code)}"
            f"（{first.code}）。例如第{first.row}行：{first.message}")
