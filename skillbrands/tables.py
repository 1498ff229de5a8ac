"""Every published table, described once: columns, Chinese titles, types, units, allowed values
with their Chinese labels, primary and foreign keys, and how its rows are made.

This description is the only one. CSV, JSON, the XLSX workbook, the SQLite database,
`data/datapackage.json`, the /data/ data dictionary and the yearly editions' files
(`editions.py`) all read it, so no two of them can disagree on a column. Titles,
descriptions, constraints and labels come from the data package's own schema
(`datasets/datapackage.json`) wherever the column is a source column, so another
province that renames 自治区级 to 省级 renames it everywhere.

A coded column (`tier`, `status`, `reason` …) is followed by a `<name>_label` column holding
its Chinese label; rates are computed from the counts published beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Mapping

from .criteria import VERDICTS
from .model import Directory

#: what each unit means, for the data dictionary
PEOPLE = "人"
SHARE = "比例（0–1，保留4位小数）"
PERCENT = "%（90 表示 90%）"

#: the directory status of a brand (not in the source data: derived from exits.csv)
BRAND_STATUS = {"listed": "在目录中", "exited": "已退出"}
#: the kinds of row in an edition's changes table
CHANGE_LABELS = {"added": "新增品牌", "exited": "退出品牌", "institution_status": "机构状态变化",
                 "employment_rate": "就业率变化"}


@dataclass(frozen=True)
class Column:
    """One column of a published table, with everything every format needs to know."""

    name: str
    title: str
    type: str  # a Table Schema type: string, integer, number, boolean, date
    description: str
    get: Callable[[Any], Any]
    unit: str | None = None
    labels: Mapping[str, str] | None = None  # allowed values -> Chinese labels (an enum)
    required: bool = False
    pattern: str | None = None  # only for codes and IDs (never neutralised, see formats.csv_cell)
    minimum: int | float | None = None
    maximum: int | float | None = None
    code: bool = False  # an ID or a code: text, never a number, whatever it looks like

    @property
    def constraints(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.required:
            out["required"] = True
        if self.labels:
            out["enum"] = list(self.labels)
        if self.pattern:
            out["pattern"] = self.pattern
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out

    def rules(self, primary_key: tuple[str, ...] = ()) -> list[str]:
        """The constraints in Chinese, for the data dictionary."""
        out = []
        if self.required or self.name in primary_key:
            out.append("必填")
        if self.name in primary_key:
            out.append("主键" if len(primary_key) == 1 else f"主键（{'、'.join(primary_key)}）之一")
        if self.code:
            out.append("文本，不要转为数字")
        if self.pattern:
            out.append(f"格式 {self.pattern}")
        if self.minimum is not None:
            out.append(f"≥ {self.minimum}")
        if self.maximum is not None:
            out.append(f"≤ {self.maximum}")
        if self.labels:
            out.append("只能取下列值")
        return out


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str  # the table referred to (itself for a self-reference)
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A published table: its description and the rows (one list of values per row, in column order)."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    source: Callable[[], Iterable[Any]]  # the objects behind the rows, made on demand (never kept)

    def rows(self) -> Iterator[list[Any]]:
        getters = [c.get for c in self.columns]
        for item in self.source():
            yield [get(item) for get in getters]

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


# -- columns from the data package's schema ---------------------------------------

#: source columns that are IDs or codes: text in every format, with their pattern
_CODES = {"brand_id", "institution_id", "recommended_from", "credit_code", "code", "parent_code", "region_code",
          "occupation_code", "scope_code"}
_UNITS = {"trainees": PEOPLE, "passed": PEOPLE, "employed": PEOPLE, "subsidised_key_group": PEOPLE,
          "order_based": PEOPLE, "min_trainees": PEOPLE, "min_subsidised_key_group": PEOPLE,
          "min_pass_rate": PERCENT, "min_employment_rate": PERCENT, "min_order_based_share": PERCENT,
          "key_support_min_employment_rate": PERCENT}


class _Schema:
    """Columns made from the fields of datasets/datapackage.json."""

    def __init__(self, meta: Mapping[str, Any]):
        self.fields = {(r["name"], f["name"]): f for r in meta["resources"] for f in r["schema"]["fields"]}

    def column(self, resource: str, name: str, get: Callable[[Any], Any] | None = None, *,
               as_name: str | None = None, required: bool | None = None) -> Column:
        f = self.fields[(resource, name)]
        constraints = f.get("constraints", {})
        labels = f.get("enumLabels")
        if constraints.get("enum") and not labels:
            labels = {value: str(value) for value in constraints["enum"]}
        code = name in _CODES
        return Column(
            name=as_name or name, title=f.get("title", name), type=f.get("type", "string"),
            description=f.get("description", ""), get=get or _attr(name), unit=_UNITS.get(name),
            labels=dict(labels) if labels else None,
            required=constraints.get("required", False) if required is None else required,
            pattern=constraints.get("pattern") if code else None,
            minimum=constraints.get("minimum"), maximum=constraints.get("maximum"), code=code)


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, name)


def _key(name: str) -> Callable[[Any], Any]:
    return lambda row: row.get(name)


def labelled(column: Column) -> tuple[Column, Column]:
    """A coded column and, beside it, its Chinese label."""
    labels = dict(column.labels or {})
    get = column.get
    return column, Column(
        f"{column.name}_label", f"{column.title}名称", "string",
        f"{column.name} 的中文名称（{'；'.join(f'{k} {v}' for k, v in labels.items())}）。",
        lambda item: None if (value := get(item)) is None else labels.get(value, str(value)))


def _text(name: str, title: str, description: str, get: Callable[[Any], Any], **more: Any) -> Column:
    return Column(name, title, "string", description, get, **more)


def _fk(field: str, resource: str, reference: str) -> ForeignKey:
    return ForeignKey((field,), resource, (reference,))


# -- the tables ---------------------------------------------------------------------

def published_tables(directory: Directory, releases: Iterable[Any] = ()) -> list[Table]:
    """Every table a reader needs, in the order of the downloads: the directory, then the reference tables.

    `releases` are the yearly editions' `Release` rows (editions.releases_from)."""
    d = directory
    s = _Schema(d.meta)
    releases = list(releases)
    prefecture = d.prefecture_of

    brands = (
        s.column("brands", "brand_id"), s.column("brands", "name"),
        s.column("brands", "institution_id", lambda b: b.institution.institution_id),
        _text("institution_name", "培训机构名称", "举办机构的全称（institutions 表的 name）。", lambda b: b.institution.name),
        s.column("brands", "occupation_code"), s.column("brands", "occupation_name"),
        *labelled(s.column("brands", "tier")),
        s.column("brands", "region_code", lambda b: b.region.code),
        _text("region_name", "发布地区", "发布该品牌的人社部门所在的行政区划名称。", lambda b: b.region.name),
        _text("prefecture_code", "机构所在盟市代码",
              "举办机构所在地的盟市（地级）行政区划代码，用于按盟市汇总；机构在自治区直属时为自治区代码。",
              lambda b: prefecture(b.institution.region.code).code, code=True, pattern="[0-9]{6}", required=True),
        _text("prefecture_name", "机构所在盟市", "举办机构所在地的盟市名称。",
              lambda b: prefecture(b.institution.region.code).name),
        *labelled(s.column("brands", "focus_area")),
        s.column("brands", "key_support"),
        *labelled(s.column("brands", "key_support_category")),
        s.column("brands", "recommended_from"),
        s.column("brands", "published_year"), s.column("brands", "published_date"), s.column("brands", "document_no"),
        Column("evaluated_year", "评价年度", "integer", "对照评价标准所用的培训数据年度（公布前一年）。",
               lambda b: d.assessments[b.brand_id].year),
        *labelled(Column("verdict", "评价结论", "string",
                         "公布时对照本层级评价标准（criteria 表，按发布地区和层级确定）的结论。",
                         lambda b: d.assessments[b.brand_id].verdict, labels=VERDICTS, required=True)),
        _text("verdict_reason", "评价说明", "评价结论的理由，列出未达到的指标、本品牌的值和标准。",
              lambda b: d.assessments[b.brand_id].reason),
        *labelled(Column("status", "目录状态", "string", "品牌现在是否仍在目录中；已退出的见 exits 表。",
                         lambda b: "exited" if b.exit else "listed", labels=BRAND_STATUS, required=True)),
        Column("exit_date", "退出日期", "date", "已退出品牌的退出日期，未退出为空。",
               lambda b: b.exit.exit_date if b.exit else None),
    )
    institutions = (
        s.column("institutions", "institution_id"), s.column("institutions", "name"),
        s.column("institutions", "credit_code"),
        *labelled(s.column("institutions", "kind")),
        s.column("institutions", "region_code", lambda i: i.region.code),
        _text("region_name", "所在地区", "机构所在地的行政区划名称。", lambda i: i.region.name),
        _text("prefecture_code", "所在盟市代码", "机构所在地的盟市（地级）行政区划代码，用于按盟市汇总。",
              lambda i: prefecture(i.region.code).code, code=True, pattern="[0-9]{6}", required=True),
        _text("prefecture_name", "所在盟市", "机构所在地的盟市名称。", lambda i: prefecture(i.region.code).name),
        s.column("institutions", "address"), s.column("institutions", "phone"), s.column("institutions", "website"),
        *labelled(s.column("institutions", "status")),
        s.column("institutions", "status_date"), s.column("institutions", "status_reason"),
        Column("brand_count", "品牌数", "integer", "该机构列入目录（含已退出）的品牌数。",
               lambda i: len(d.brands_by_institution.get(i.institution_id, ())), unit="个", minimum=0),
    )
    outcome = _outcome_columns(s, d.small_cohort)
    exits = (
        s.column("exits", "brand_id", lambda b: b.brand_id),
        _text("brand_name", "品牌名称", "培训品牌的名称。", lambda b: b.name),
        _text("institution_name", "培训机构名称", "举办机构的全称。", lambda b: b.institution.name),
        *labelled(s.column("brands", "tier")),
        _text("region_name", "发布地区", "发布该品牌的人社部门所在地。", lambda b: b.region.name),
        *(s.column("exits", n, (lambda n: lambda b: getattr(b.exit, n))(n)) for n in ("exit_date",)),
        *labelled(s.column("exits", "reason", lambda b: b.exit.reason)),
        *(s.column("exits", n, (lambda n: lambda b: getattr(b.exit, n))(n)) for n in ("detail", "document_no")),
    )
    regions = (
        s.column("regions", "code"), s.column("regions", "name"),
        *labelled(s.column("regions", "level")),
        s.column("regions", "parent_code"),
    )
    occupations = (s.column("occupations", "code"), s.column("occupations", "name"))
    criteria = (
        s.column("criteria", "scope_code", _key("scope_code")),
        _text("scope_name", "适用地区", "设定这条标准的地区名称。", lambda r: d.regions[r["scope_code"]].name),
        *labelled(s.column("criteria", "tier", _key("tier"))),
        *(s.column("criteria", n, _key(n)) for n in (
            "min_trainees", "min_pass_rate", "min_employment_rate", "min_subsidised_key_group",
            "min_order_based_share", "key_support_min_employment_rate", "key_support_categories",
            "document_no", "notes")),
    )
    listed_on = _listed_counts(d, releases)
    release_columns = (
        *(s.column("releases", n) for n in ("year", "published_date", "document_no", "title", "notes")),
        Column("brands", "品牌数", "integer", "版本公布之日在目录中的品牌数（公布日期不晚于版本日期、且尚未退出）。",
               lambda r: listed_on[r.year], unit="个", minimum=0),
    )
    reviews = (
        s.column("reviews", "brand_id", lambda r: r[0].brand_id),
        _text("brand_name", "品牌名称", "培训品牌的名称。", lambda r: r[0].name),
        s.column("reviews", "year", lambda r: r[1].year),
        *labelled(s.column("reviews", "result", lambda r: r[1].result)),
        s.column("reviews", "document_no", lambda r: r[1].document_no),
    )
    titles = {(r["name"], f["name"]): f.get("title", f["name"]) for r in d.meta["resources"] for f in r["schema"]["fields"]}
    corrections = () if ("corrections", "date") not in s.fields else (  # a package may leave the table out
        s.column("corrections", "date", _attr("date")),
        *labelled(s.column("corrections", "table", _attr("table"))),
        s.column("corrections", "key", _attr("key")),
        s.column("corrections", "field", _attr("field")),
        _text("field_title", "列名", "被更正的列的中文名。", lambda c: titles.get((c.table, c.field), c.field)),
        s.column("corrections", "old_value", _attr("old_value")), s.column("corrections", "new_value", _attr("new_value")),
        *labelled(s.column("corrections", "kind", _attr("kind"))),
        s.column("corrections", "reason", _attr("reason"), required=True),
        s.column("corrections", "document_no", _attr("document_no")),
        _text("editions", "涉及的版本", "公布过原值、由这一行说明的已冻结年度版本，多个用分号分隔；为空表示不涉及已公布的版本"
              "（如只改了电话）。", lambda c: ";".join(str(y) for y in c.years) or None),
    )
    all_brands = lambda: d.brands.values()  # noqa: E731
    return [
        Table("brands", "培训品牌", "目录中的全部品牌（含已退出的），每行一个品牌，附机构、地区名称、公布时的评价结论和目录状态。",
              brands, ("brand_id",),
              (_fk("institution_id", "institutions", "institution_id"), _fk("occupation_code", "occupations", "code"),
               _fk("region_code", "regions", "code"), _fk("prefecture_code", "regions", "code"),
               _fk("recommended_from", "brands", "brand_id")), all_brands),
        Table("institutions", "培训机构", "举办品牌的培训机构及其状态（正常、暂停、已移出），附所在地区和盟市。",
              institutions, ("institution_id",),
              (_fk("region_code", "regions", "code"), _fk("prefecture_code", "regions", "code")),
              lambda: d.institutions.values()),
        Table("outcomes", "年度培训成效", "每个品牌每年的培训人数、合格人数、就业人数，以及由这些人数计算的合格率、就业率和订单式培训占比。",
              outcome, ("brand_id", "year"), (_fk("brand_id", "brands", "brand_id"),),
              lambda: ((b, o) for b in d.brands.values() for o in b.outcomes)),
        Table("exits", "退出品牌", "经动态调整退出目录的品牌，新的在前，含退出日期、原因和文号。",
              exits, ("brand_id",), (_fk("brand_id", "brands", "brand_id"),), lambda: d.exits),
        Table("regions", "行政区划", "品牌和机构所在的行政区划（GB/T 2260）：自治区、盟市、旗县（市、区）。",
              regions, ("code",), (_fk("parent_code", "regions", "code"),),
              lambda: sorted(d.regions.values(), key=lambda r: r.code)),
        Table("occupations", "职业（工种）", "《中华人民共和国职业分类大典（2022年版）》中的职业代码与名称。",
              occupations, ("code",), (), lambda: sorted(d.occupations.values(), key=lambda o: o.code)),
        Table("criteria", "评价标准", "各地区为各层级品牌设定的评价标准（下限）和重点扶持的放宽条件；品牌按发布地区本身、"
              "没有时按上一级地区的标准评价。",
              criteria, ("scope_code", "tier"), (_fk("scope_code", "regions", "code"),),
              lambda: d.criteria_rows),
        Table("releases", "年度版本", "每年公布的目录版本（永久、冻结），每个版本另有整包下载。",
              release_columns, ("year",), (), lambda: releases),
        Table("reviews", "三年评估", "每三年一次的评估结果；评估后退出的品牌同时在 exits 表中。",
              reviews, ("brand_id", "year"), (_fk("brand_id", "brands", "brand_id"),),
              lambda: ((b, r) for b in d.brands.values() for r in b.reviews)),
            *(Table("corrections", "更正与变更", "已冻结的年度版本公布后对其中数据的更正（勘误）、变更（如机构更名）和补录"
                "（如补记的退出）。已公布的版本保持原样，这些说明与它们一起公布。",
                corrections, ("date", "table", "key", "field"), (), lambda: sorted(d.corrections, key=lambda c: c.date)),
          ) * bool(corrections),
    ]


def _outcome_columns(s: _Schema, small_cohort: int) -> tuple[Column, ...]:
    def count(n: str) -> Column:
        return s.column("outcomes", n, lambda r: getattr(r[1], n))

    return (
        s.column("outcomes", "brand_id", lambda r: r[0].brand_id),
        _text("brand_name", "品牌名称", "培训品牌的名称。", lambda r: r[0].name),
        *(count(n) for n in ("year", "trainees", "passed", "employed", "subsidised_key_group", "order_based")),
        Column("pass_rate", "培训合格率", "number", "合格人数 ÷ 培训人数，保留4位小数；由人数计算，不是填报值。",
               lambda r: r[1].pass_rate, unit=SHARE, minimum=0, maximum=1),
        Column("employment_rate", "培训后就业率", "number",
               "培训后三个月内就业人数 ÷ 培训人数，保留4位小数；由人数计算，不是填报值。",
               lambda r: r[1].employment_rate, unit=SHARE, minimum=0, maximum=1),
        Column("order_based_share", "订单定岗定向培训占比", "number",
               "订单定岗定向培训人数 ÷ 培训人数，保留4位小数；由人数计算，未填人数时为空。",
               lambda r: r[1].order_based_share, unit=SHARE, minimum=0, maximum=1),
        Column("small_cohort", "小样本", "boolean",
               f"培训人数少于 {small_cohort} 人时为 true：人数少时比例波动大，解读时请谨慎。",
               lambda r: r[1].trainees < small_cohort, required=True),
    )


def _listed_counts(directory: Directory, releases: list[Any]) -> dict[int, int]:
    return {r.year: sum(1 for b in directory.brands.values()
                        if b.published_date <= r.published_date and not (b.exit and b.exit.exit_date <= r.published_date))
            for r in releases}


# -- the yearly editions -------------------------------------------------------------

#: (table, key columns, (column, described as this column of that published table)):
#: the layout of an edition's files, frozen with the first edition and never changed
EDITION_LAYOUT: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str, str], ...]], ...] = (
    ("brands", ("brand_id",), tuple((c, "brands", c) for c in (
        "brand_id", "name", "institution_id", "institution_name", "occupation_code", "occupation_name", "tier",
        "region_code", "region_name", "focus_area", "key_support", "key_support_category", "recommended_from",
        "published_year", "published_date", "document_no"))),
    ("outcomes", ("brand_id", "year"), tuple((c, "outcomes", c) for c in (
        "brand_id", "year", "trainees", "passed", "employed", "subsidised_key_group", "order_based",
        "pass_rate", "employment_rate"))),
    ("exits", ("brand_id",), (("brand_id", "exits", "brand_id"), ("name", "brands", "name"),
                              *((c, "exits", c) for c in ("exit_date", "reason", "detail", "document_no")))),
    ("institutions", ("institution_id",), tuple((c, "institutions", c) for c in (
        "institution_id", "name", "credit_code", "kind", "region_code", "status", "status_date", "status_reason"))),
    ("changes", ("change", "id"), tuple((c, "changes", c) for c in (
        "change", "id", "name", "before", "after", "detail"))),
)

_EDITION_TITLES = {"brands": "培训品牌（版本）", "outcomes": "年度培训成效（版本）", "exits": "退出品牌（截至版本日期）",
                   "institutions": "培训机构（版本日期的状态）", "changes": "与上一版本相比的变化"}
_EDITION_DESCRIPTIONS = {
    "brands": "版本公布之日在目录中的品牌。",
    "outcomes": "这些品牌截至版本上一年的培训成效；比例由人数计算。",
    "exits": "截至版本公布之日退出目录的品牌，新的在前。",
    "institutions": "举办这些品牌的机构及其在版本公布之日的状态。",
    "changes": "与上一版本相比：新增品牌、退出品牌、状态变化的机构、就业率变化最大的10个品牌。",
}


def _change_columns() -> dict[str, Column]:
    return {c.name: c for c in (
        Column("change", "变化类型", "string", "added、exited、institution_status 或 employment_rate。", _attr("change"),
               labels=CHANGE_LABELS, required=True),
        _text("id", "编号", "品牌编号或机构编号。", _attr("id"), code=True, required=True),
        _text("name", "名称", "品牌或机构的名称。", _attr("name")),
        _text("before", "变化前", "上一版本中的值：目录状态、机构状态，或上一年的就业率（0–1）。", _attr("before")),
        _text("after", "变化后", "本版本中的值：目录状态、机构状态，或本年的就业率（0–1）。", _attr("after")),
        _text("detail", "说明", "变化的说明（地区和层级、退出日期和原因、状态日期和原因，或两年的就业率）。", _attr("detail")),
    )}


def edition_tables(directory: Directory) -> list[Table]:
    """The tables of a yearly edition, each column described as the published column it copies.

    The rows come from `Edition.rows(name)`, in EDITION_LAYOUT's column order; `source`
    here yields nothing (an edition supplies its own rows)."""
    described = {(t.name, c.name): c for t in published_tables(directory) for c in t.columns}
    described.update({("changes", name): c for name, c in _change_columns().items()})
    tables = []
    for name, keys, layout in EDITION_LAYOUT:
        columns = tuple(replace(described[(table, column)], name=as_name, get=itemgetter(index))
                        for index, (as_name, table, column) in enumerate(layout))
        foreign = {"outcomes": (_fk("brand_id", "brands", "brand_id"),),
                   "brands": (_fk("institution_id", "institutions", "institution_id"),)}.get(name, ())
        tables.append(Table(name, _EDITION_TITLES[name], _EDITION_DESCRIPTIONS[name], columns, keys, foreign,
                            lambda: ()))
    return tables
