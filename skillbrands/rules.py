"""Consistency rules of seed 000 across rows and tables, run after types and keys.

Each rule is a small function `(tables, today) -> Iterator[Issue]` whose docstring says
which policy fact it protects. The rules read the typed rows `validate.py` already
holds; a cell that reading, typing or key checks reported as an error reads as None
here (a whole row does if the row itself is broken), and a rule skips a row when a
value it needs is None or a reference it follows leads nowhere. So a mistake is
reported once, where it was made, and no rule ever raises on bad data.

Not coded because the keys already guarantee it: a brand, once exited, can only come
back under a new `brand_id` -- `brand_id` is the primary key of brands.csv and of
exits.csv, so listing the same brand_id again is a duplicate-id error.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from .creditcode import check_character
from .criteria import Assessment, evaluated_year
from .issues import Issue, excerpt

if TYPE_CHECKING:
    from .validate import Loaded

TIERS = ("province", "prefecture", "county")  # top first: a larger index is a lower tier
NEXT_LOWER = {"province": "prefecture", "prefecture": "county"}
COUNTS = ("passed", "employed", "subsidised_key_group", "order_based")
INACTIVE = ("suspended", "removed")
_WHOLE_ROW = "*"
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Row:
    """One typed row with where it came from; cells already reported as errors read as None."""

    path: str
    number: int
    values: Mapping[str, Any]
    reported: frozenset[str]  # fields with an error already; _WHOLE_ROW = the row is broken

    def _get(self, name: str, kind: type | tuple[type, ...]) -> Any:
        if self.reported and (name in self.reported or _WHOLE_ROW in self.reported):
            return None
        value = self.values.get(name)
        if value is None or type(value) is kind:  # the common case, first
            return value
        if isinstance(value, bool) and kind is not bool:
            return None  # bool is an int to Python, never to us
        return value if isinstance(value, kind) else None

    def text(self, name: str) -> str | None:
        value = self._get(name, str)
        return value or None

    def integer(self, name: str) -> int | None:
        return self._get(name, int)

    def day(self, name: str) -> date | None:
        return self._get(name, date)

    def flag(self, name: str) -> bool | None:
        return self._get(name, bool)

    def numeric(self, name: str) -> int | float | Decimal | None:
        value = self._get(name, (int, float, Decimal))
        return None if value is None or not math.isfinite(value) else value

    def blank(self, name: str) -> bool:
        """Really left empty (not a bad value read as None)."""
        return (self.values.get(name) in (None, "") and name not in self.reported
                and _WHOLE_ROW not in self.reported)


class Tables:
    """The rows of every readable resource, indexed by key (first row wins on duplicates)."""

    def __init__(self, loaded: "Loaded"):
        resources = {r.get("name"): r for r in loaded.descriptor.get("resources", [])}
        reported: dict[tuple[str, int], set[str]] = defaultdict(set)
        for issue in loaded.issues:
            if issue.severity == "error" and issue.row is not None:
                reported[(issue.path, issue.row)].add(issue.field or _WHOLE_ROW)
        self._fields = {name: {f["name"]: f for f in r["schema"]["fields"]} for name, r in resources.items()}
        self.rows: dict[str, list[Row]] = {}
        for name, rows in loaded.tables.items():
            path = f"datasets/{resources[name]['path']}"
            self.rows[name] = [Row(path, number, values, frozenset(reported.get((path, number), _NONE)))
                               for values, number in zip(rows, loaded.row_numbers.get(name, []))]
        #: brand_id -> verdict on the evaluated year, from the assess stage (see `judged`)
        self.assessments: Mapping[str, Assessment] = {}
        self.regions = self._index("regions", "code")
        self.institutions = self._index("institutions", "institution_id")
        self.occupations = self._index("occupations", "code")
        self.brands = self._index("brands", "brand_id")
        self.exits = self._index("exits", "brand_id")
        self.outcomes: dict[tuple[str, int], Row] = {}
        for row in self.get("outcomes"):
            brand_id, year = row.text("brand_id"), row.integer("year")
            if brand_id is not None and year is not None:
                self.outcomes.setdefault((brand_id, year), row)

    def judged(self, assessments: Mapping[str, Assessment]) -> "Tables":
        """The same tables with the assess stage's verdicts, for the rules that read them."""
        judged = copy.copy(self)
        judged.assessments = assessments
        return judged

    def get(self, name: str) -> list[Row]:
        return self.rows.get(name, [])

    def current_brands(self) -> list[Row]:
        """The list being prepared: brands published after the newest release of releases.csv,
        or, when no release is registered, the brands of the newest publication year."""
        released = [day for row in self.get("releases") if (day := row.day("published_date")) is not None]
        if released:
            newest = max(released)
            return [row for row in self.get("brands") if (day := row.day("published_date")) is not None and day > newest]
        years = [year for row in self.get("brands") if (year := row.integer("published_year")) is not None]
        latest = max(years, default=None)
        return [row for row in self.get("brands") if latest is not None and row.integer("published_year") == latest]

    def _index(self, name: str, key: str) -> dict[str, Row]:
        index: dict[str, Row] = {}
        for row in self.get(name):
            value = row.text(key)
            if value is not None:
                index.setdefault(value, row)
        return index

    def label(self, resource: str, name: str) -> str:
        """A column as staff see it: its Chinese title and its header, e.g. 合格人数（passed）."""
        title = self._fields.get(resource, {}).get(name, {}).get("title")
        return f"{title}（{name}）" if title else name

    def enum(self, resource: str, name: str, value: str) -> str:
        """An enum value as typed, with its Chinese label: county（旗县级）."""
        label = self.plain(resource, name, value)
        return f"{value}（{label}）" if label != value else value

    def plain(self, resource: str, name: str, value: str) -> str:
        """An enum value's Chinese label alone: 旗县级."""
        return self.labels(resource, name).get(value, value)

    def labels(self, resource: str, name: str) -> dict[str, str]:
        return self._fields.get(resource, {}).get(name, {}).get("enumLabels", {})

    def region_name(self, code: str) -> str:
        region = self.regions.get(code)
        name = region.text("name") if region else None
        return f"{excerpt(code)} {excerpt(name)}" if name else excerpt(code)

    def parent_of(self, code: str) -> str | None:
        region = self.regions.get(code)
        return region.text("parent_code") if region else None

    def regions_above(self, code: str) -> list[str] | None:
        """The codes above a region, nearest first; None if the chain is broken or loops
        (a bad parent_code is reported by the key checks: don't guess past it)."""
        above: list[str] = []
        region = self.regions.get(code)
        while region is not None:
            if "parent_code" in region.reported:
                return None
            parent = region.text("parent_code")
            if parent is None:
                return above
            if parent == code or parent in above:
                return None
            above.append(parent)
            region = self.regions.get(parent)
        return None


Rule = Callable[[Tables, date], Iterator[Issue]]


def _error(row: Row, name: str, code: str, message: str) -> Issue:
    return Issue(row.path, row.number, name, code, "error", message)


def _warning(row: Row, name: str, code: str, message: str) -> Issue:
    return Issue(row.path, row.number, name, code, "warning", message)


# -- one table ----------------------------------------------------------------------

def outcome_counts(t: Tables, today: date) -> Iterator[Issue]:
    """Those who passed, found work, were subsidised or trained to order are all among the
    trainees, so none of these counts can exceed the number trained (else a rate > 100%)."""
    for row in t.get("outcomes"):
        trainees = row.integer("trainees")
        for name in COUNTS:
            value = row.integer(name)
            if trainees is not None and value is not None and value > trainees:
                yield _error(row, name, "count-exceeds-trainees",
                             f"{t.label('outcomes', name)}为 {value} 人，多于{t.label('outcomes', 'trainees')} {trainees} 人；"
                             f"这些人都在培训人数之内，应不大于 {trainees}。")


def credit_codes(t: Tables, today: date) -> Iterator[Issue]:
    """GB 32100-2015 ends each code with a check character, so a mistyped code is caught here."""
    for row in t.get("institutions"):
        code = row.text("credit_code")
        expected = check_character(code[:17]) if code and len(code) == 18 else None
        if expected is not None and code is not None and code[17] != expected:
            yield _error(row, "credit_code", "credit-code-check",
                         f"统一社会信用代码“{excerpt(code)}”的第18位校验码是“{code[17]}”，按 GB 32100-2015 计算应为“{expected}”；"
                         "请核对代码是否抄错。")


def institution_status_dates(t: Tables, today: date) -> Iterator[Issue]:
    """A suspension or removal takes effect on a date (brands are checked against it); an
    active institution has none, so a date there is probably left over."""
    for row in t.get("institutions"):
        status = row.text("status")
        if status in INACTIVE and row.blank("status_date"):
            yield _error(row, "status_date", "status-date-missing",
                         f"状态为“{t.enum('institutions', 'status', status)}”，但{t.label('institutions', 'status_date')}为空；"
                         "暂停或移出时应填写生效日期（YYYY-MM-DD）。")
        elif status == "active" and row.day("status_date") is not None:
            yield _warning(row, "status_date", "status-date-while-active",
                           f"状态为“{t.enum('institutions', 'status', status)}”，却填了状态日期 {row.day('status_date')}；"
                           "正常状态一般不填日期，请核对状态是否应为暂停或移出。")


def key_support_categories(t: Tables, today: date) -> Iterator[Issue]:
    """Seed 000 relaxes the criteria only for five kinds of programme: a key-support brand
    must say which one; a category on an ordinary brand has no effect."""
    for row in t.get("brands"):
        flag, category = row.flag("key_support"), row.text("key_support_category")
        if flag is True and row.blank("key_support_category"):
            yield _error(row, "key_support_category", "key-support-category-missing",
                         f"{t.label('brands', 'key_support')}为“是”，但{t.label('brands', 'key_support_category')}为空；"
                         "应填 key_technology、recognised_trade、heritage、rural_industry、innovation 之一。")
        elif flag is False and category is not None:
            yield _warning(row, "key_support_category", "key-support-category-unused",
                           f"{t.label('brands', 'key_support')}为“否”，却填了重点扶持类别“{excerpt(category)}”；"
                           "请核对是否应为重点扶持，或清空类别。")


# -- brands against their institution, region and occupation ---------------------------

def brand_tiers(t: Tables, today: date) -> Iterator[Issue]:
    """Each tier is called and published by the department of that level (seed 000), so a
    brand's tier must match the level of its publishing region. Reported at `tier`: the
    region code is who published it, the tier is the claim that must agree with it."""
    for row in t.get("brands"):
        tier, code = row.text("tier"), row.text("region_code")
        region = t.regions.get(code) if code else None
        level = region.text("level") if region else None
        if tier in TIERS and level in TIERS and tier != level:
            yield _error(row, "tier", "tier-region-mismatch",
                         f"品牌层级为“{t.enum('brands', 'tier', tier)}”，但发布地区 {t.region_name(code)} 属于"
                         f"{t.plain('regions', 'level', level)}；品牌由同级人社部门公布，层级应为"
                         f"“{t.enum('brands', 'tier', level)}”，或请核对发布地区代码。")


def brands_after_institution_status(t: Tables, today: date) -> Iterator[Issue]:
    """A suspended or removed institution may not gain brands (seeds 001, 004): no brand of
    its may be published after the suspension or removal."""
    for row in t.get("brands"):
        institution = t.institutions.get(row.text("institution_id") or "")
        published = row.day("published_date")
        if institution is None or published is None:
            continue
        status, since = institution.text("status"), institution.day("status_date")
        if status in INACTIVE and since is not None and published > since:
            yield _error(row, "published_date", "brand-after-institution-status",
                         f"公布日期 {published} 晚于培训机构“{excerpt(institution.text('institution_id'))}”的状态日期 {since}"
                         f"（状态：{t.plain('institutions', 'status', status)}）；被暂停或移出的机构此后不能再公布新的品牌。")


def occupation_names(t: Tables, today: date) -> Iterator[Issue]:
    """The name shown to the public should be the classification's name for the code; a
    different name is often a wrong code (a warning: it may be a 工种 under that occupation)."""
    for row in t.get("brands"):
        code, name = row.text("occupation_code"), row.text("occupation_name")
        occupation = t.occupations.get(code) if code else None
        official = occupation.text("name") if occupation else None
        if name is not None and official is not None and name != official:
            yield _warning(row, "occupation_name", "occupation-name-mismatch",
                           f"职业代码 {excerpt(code)} 在职业表中的名称是“{excerpt(official)}”，这里填的是“{excerpt(name)}”；"
                           "请核对职业代码或名称（若是该职业下的工种，可忽略）。")


# -- recommendations: counties recommend to prefectures, prefectures to the province ---

def recommendations(t: Tables, today: date) -> Iterator[Issue]:
    """Seed 000: a higher-tier brand is chosen from the lower-tier brands recommended up to
    it -- the same programme (institution × occupation), one tier down, in its area,
    published earlier, and not already exited. One issue per condition that fails."""
    checks = (("recommended-tier", _recommended_tier), ("recommended-institution", _recommended_institution),
              ("recommended-occupation", _recommended_occupation), ("recommended-region", _recommended_region),
              ("recommended-date", _recommended_date), ("recommended-exited", _recommended_exited))
    for row in t.get("brands"):
        source = t.brands.get(row.text("recommended_from") or "")
        if source is None:
            continue
        for code, check in checks:
            problem = check(t, row, source)
            if problem:
                yield _error(row, "recommended_from", code, f"推荐来源品牌“{excerpt(source.text('brand_id'))}”{problem}")


def _recommended_tier(t: Tables, brand: Row, source: Row) -> str | None:
    tier, source_tier = brand.text("tier"), source.text("tier")
    if tier not in TIERS or source_tier is None:
        return None
    expected = NEXT_LOWER.get(tier)
    if expected is None:
        return f"：{t.plain('brands', 'tier', tier)}是最低一级，不由其他品牌推荐而来，推荐来源应留空。"
    if source_tier != expected:
        return (f"是{t.plain('brands', 'tier', source_tier)}品牌；{t.plain('brands', 'tier', tier)}品牌应从下一级"
                f"（{t.plain('brands', 'tier', expected)}）品牌中遴选。")
    return None


def _recommended_institution(t: Tables, brand: Row, source: Row) -> str | None:
    mine, theirs = brand.text("institution_id"), source.text("institution_id")
    if mine and theirs and mine != theirs:
        return f"的培训机构是“{excerpt(theirs)}”，本品牌是“{excerpt(mine)}”；推荐遴选的应是同一机构的同一培训项目。"
    return None


def _recommended_occupation(t: Tables, brand: Row, source: Row) -> str | None:
    if "occupation_code" in brand.reported or "occupation_code" in source.reported:
        return None  # a bad code is not a blank one: don't fall back to the names
    mine, theirs = brand.text("occupation_code"), source.text("occupation_code")
    if not (mine and theirs):  # a code is blank: compare the names instead
        mine, theirs = brand.text("occupation_name"), source.text("occupation_name")
    if mine and theirs and mine != theirs:
        mine, theirs = _occupation(brand), _occupation(source)
        return f"的职业是“{excerpt(theirs)}”，本品牌是“{excerpt(mine)}”；推荐遴选的应是同一职业（工种）的培训项目。"
    return None


def _occupation(row: Row) -> str:
    return " ".join(filter(None, (row.text("occupation_code"), row.text("occupation_name"))))


def _recommended_region(t: Tables, brand: Row, source: Row) -> str | None:
    mine, theirs = brand.text("region_code"), source.text("region_code")
    above = t.regions_above(theirs) if mine in t.regions and theirs else None
    if above is not None and mine not in above:
        return (f"的发布地区 {t.region_name(theirs or '')} 不在本品牌发布地区 {t.region_name(mine or '')} 的辖区内；"
                "只能从本地区下辖地区的品牌中遴选。")
    return None


def _recommended_date(t: Tables, brand: Row, source: Row) -> str | None:
    mine, theirs = brand.day("published_date"), source.day("published_date")
    if mine and theirs and theirs >= mine:
        return f"的公布日期 {theirs} 不早于本品牌的公布日期 {mine}；推荐来源应先于本品牌公布。"
    return None


def _recommended_exited(t: Tables, brand: Row, source: Row) -> str | None:
    exit_row = t.exits.get(source.text("brand_id") or "")
    exited, published = (exit_row.day("exit_date") if exit_row else None), brand.day("published_date")
    if exited and published and exited <= published:
        return f"已于 {exited} 退出目录，早于本品牌的公布日期 {published}；已退出的品牌不能再被推荐遴选。"
    return None


# -- exits and reviews ------------------------------------------------------------------

def exit_dates(t: Tables, today: date) -> Iterator[Issue]:
    """A brand can only leave the directory after it was published into it."""
    for row in t.get("exits"):
        brand = t.brands.get(row.text("brand_id") or "")
        exited, published = row.day("exit_date"), brand.day("published_date") if brand else None
        if exited and published and exited <= published:
            yield _error(row, "exit_date", "exit-before-publication",
                         f"退出日期 {exited} 不晚于品牌“{excerpt(row.text('brand_id'))}”的公布日期 {published}；"
                         "退出日期应在公布日期之后。")


def outcomes_after_exit(t: Tables, today: date) -> Iterator[Issue]:
    """After its exit a brand is no longer in the directory, so figures for a later year
    are probably entered under the wrong brand (a warning: the programme may still run)."""
    for row in t.get("outcomes"):
        brand_id, year = row.text("brand_id"), row.integer("year")
        exit_row = t.exits.get(brand_id or "")
        exited = exit_row.day("exit_date") if exit_row else None
        if year is not None and exited is not None and year > exited.year:
            yield _warning(row, "year", "outcome-after-exit",
                           f"品牌“{excerpt(brand_id)}”已于 {exited} 退出目录，这里却有 {year} 年的培训成效；"
                           "请核对品牌编号或年度。")


def reviews(t: Tables, today: date) -> Iterator[Issue]:
    """The review judges a brand's training after it was listed, so it comes a year or more
    after publication; a brand the review removes is published as an exit (seed 000)."""
    exits_readable = "exits" in t.rows
    for row in t.get("reviews"):
        brand_id, year, result = row.text("brand_id"), row.integer("year"), row.text("result")
        brand = t.brands.get(brand_id or "")
        if brand is None:
            continue
        if result == "exited" and exits_readable and brand_id not in t.exits:
            yield _error(row, "result", "review-exit-missing",
                         f"评估结果为“{t.enum('reviews', 'result', result)}”，但退出品牌表（datasets/exits.csv）中没有"
                         f"品牌“{excerpt(brand_id)}”；请在 exits.csv 中补上退出日期、原因和文号。")
        published_year = brand.integer("published_year")
        if year is not None and published_year is not None and year < published_year + 1:
            yield _error(row, "year", "review-too-early",
                         f"评估年度 {year} 早于品牌“{excerpt(brand_id)}”公布（{published_year}年）的次年；"
                         f"评估年度应不早于 {published_year + 1}。")


# -- dates and criteria -------------------------------------------------------------------

FUTURE_DATES = (("brands", "published_date"), ("exits", "exit_date"),
                ("institutions", "status_date"), ("releases", "published_date"), ("corrections", "date"))
FUTURE_YEARS = (("brands", "published_year"), ("outcomes", "year"), ("releases", "year"), ("reviews", "year"))


def future_dates(t: Tables, today: date) -> Iterator[Issue]:
    """What is published records what has happened: a date after `today` (or a year after
    this one) is a typo, such as 2032 for 2023."""
    for resource, name in FUTURE_DATES:
        for row in t.get(resource):
            value = row.day(name)
            if value is not None and value > today:
                yield _error(row, name, "future-date",
                             f"{t.label(resource, name)}为 {value}，晚于今天（{today}）；不能填写将来的日期。")
    for resource, name in FUTURE_YEARS:
        for row in t.get(resource):
            year = row.integer(name)
            if year is not None and year > today.year:
                yield _error(row, name, "future-year",
                             f"{t.label(resource, name)}为 {year}，晚于今年（{today.year}）；不能填写将来的年度。")


def criteria_scopes(t: Tables, today: date) -> Iterator[Issue]:
    """A department sets criteria for its own tier or the tiers below it: a county cannot
    set criteria for prefecture- or province-tier brands."""
    for row in t.get("criteria"):
        code, tier = row.text("scope_code"), row.text("tier")
        region = t.regions.get(code) if code else None
        level = region.text("level") if region else None
        if tier in TIERS and level in TIERS and TIERS.index(level) > TIERS.index(tier):
            yield _error(row, "tier", "criteria-scope-below-tier",
                         f"适用地区 {t.region_name(code or '')} 属于{t.plain('regions', 'level', level)}，不能设定"
                         f"“{t.enum('criteria', 'tier', tier)}”品牌的标准；一个地区只能设定本级或下级品牌的标准。")


def criteria_verdicts(t: Tables, today: date) -> Iterator[Issue]:
    """Seed 000's performance criteria on the evaluated year (the assess stage's verdicts).
    Falling short is a warning, not an error: a department may list a brand on grounds the
    figures don't show, but staff should look before publishing."""
    for row in t.get("brands"):
        brand_id, tier = row.text("brand_id"), row.text("tier")
        assessment = t.assessments.get(brand_id or "")
        if assessment is None or tier is None or assessment.verdict != "does_not_meet" or assessment.criteria is None:
            continue
        basis = f"{t.plain('brands', 'tier', tier)}品牌标准（{excerpt(assessment.criteria.document_no)}）"
        relaxed = "本品牌为重点扶持，但也不符合重点扶持的放宽条件；" if row.flag("key_support") else ""
        yield _warning(row, "brand_id", "criteria-not-met",
                       f"品牌“{excerpt(brand_id)}”按{basis}评价，{relaxed}{assessment.reason}"
                       f"请核对{assessment.year}年的培训成效。")


def missing_outcomes(t: Tables, today: date) -> Iterator[Issue]:
    """Seed 000 judges a brand on its evaluated year's training (the year before publication):
    a brand of the list being prepared without that year's figures cannot be judged, and its
    page would only say 无法评价. The list being prepared is the brands published after the
    newest release in releases.csv (all of the newest year when there is none); brands an
    edition has published are history, and not asked again."""
    current = t.current_brands()
    # a brand with an outcome row whose cells were reported already: that row is the problem
    unsure = {row.values.get("brand_id") for row in t.get("outcomes") if row.reported}
    for row in current:
        brand_id, published_year = row.text("brand_id"), row.integer("published_year")
        if brand_id is None or published_year is None or brand_id in unsure or "outcomes" not in t.rows:
            continue
        year = evaluated_year(published_year)
        if (brand_id, year) not in t.outcomes:
            yield _warning(row, "published_year", "outcome-missing",
                           f"品牌“{excerpt(brand_id)}”是{published_year}年公布的品牌，按{year}年的培训成效评价，但"
                           f"年度培训成效表（datasets/outcomes.csv）中没有它{year}年的一行，网页上只能显示“无法评价”；"
                           f"请在 outcomes.csv 中补上 {brand_id} 的{year}年培训人数、合格人数和就业人数。")


RULES: tuple[Rule, ...] = (
    outcome_counts, credit_codes, institution_status_dates, key_support_categories,
    brand_tiers, brands_after_institution_status, occupation_names, recommendations,
    exit_dates, outcomes_after_exit, reviews, future_dates, criteria_scopes, criteria_verdicts,
    missing_outcomes,
)


def check_rules(loaded: "Loaded", today: date) -> list[Issue]:
    """Every rule's issues for the loaded package (with the verdicts of its assess stage);
    `today` is the limit for dates."""
    tables = Tables(loaded).judged(loaded.assessments)
    return [issue for rule in RULES for issue in rule(tables, today)]
