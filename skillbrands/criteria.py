"""Seed 000's performance criteria, as data: thresholds from criteria.csv, verdicts per brand.

A brand is judged on the year before it was published (the evaluated year) against
the criteria of its tier set by its own region or, failing that, the nearest region
above it. No threshold lives in Python. Comparisons are exact (counts × 100 against
percent × trainees), so 70 % of 10 trainees is met by 7 and not by 6.999….
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

if TYPE_CHECKING:
    from .rules import Tables

#: (key, Chinese name, threshold column, how a year's value is computed, unit)
CRITERIA: tuple[tuple[str, str, str, str], ...] = (
    ("trainees", "培训规模", "min_trainees", "count"),
    ("pass_rate", "培训合格率", "min_pass_rate", "rate"),
    ("employment_rate", "培训后就业率", "min_employment_rate", "rate"),
    ("subsidised_key_group", "就业重点群体（享受补贴）人数", "min_subsidised_key_group", "count"),
    ("order_based_share", "订单定岗定向培训占比", "min_order_based_share", "rate"),
)
#: the count each criterion reads from an outcome row (rates divide it by trainees)
_COUNT_OF = {
    "trainees": "trainees",
    "pass_rate": "passed",
    "employment_rate": "employed",
    "subsidised_key_group": "subsidised_key_group",
    "order_based_share": "order_based",
}

VERDICTS = {
    "meets": "符合标准",
    "meets_key_support": "按重点扶持条件符合",
    "does_not_meet": "未达到标准",
    "no_data": "无法评价",
}


@dataclass(frozen=True, slots=True)
class Criteria:
    """One row of criteria.csv: the thresholds one region sets for one tier."""

    scope_code: str
    tier: str
    thresholds: Mapping[str, Fraction | None]  # by threshold column; None = not applied
    key_support_min_employment_rate: Fraction | None
    key_support_categories: tuple[str, ...]  # sorted: a set's repr would follow the hash seed
    document_no: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Criteria":
        def exact(value: Any) -> Fraction | None:
            return None if value is None else Fraction(str(value))

        categories = row.get("key_support_categories") or ""
        return cls(
            scope_code=row["scope_code"],
            tier=row["tier"],
            thresholds={column: exact(row.get(column)) for _, _, column, _ in CRITERIA},
            key_support_min_employment_rate=exact(row.get("key_support_min_employment_rate")),
            key_support_categories=tuple(sorted({c for c in categories.split(";") if c})),
            document_no=row["document_no"],
        )


@dataclass(frozen=True, slots=True)
class Check:
    key: str
    name: str
    unit: str  # "count" or "rate"
    threshold: Fraction | None
    count: int | None  # the count behind the value (None: no data)
    trainees: int
    status: str  # met / not_met / no_data

    @property
    def value(self) -> Fraction | int | None:
        """A rate as a fraction of 1, a count as an int."""
        if self.count is None:
            return None
        return Fraction(self.count, self.trainees) if self.unit == "rate" else self.count

    @property
    def threshold_text(self) -> str:
        if self.threshold is None:
            return "—"
        return f"≥ {_percent(self.threshold / 100)}" if self.unit == "rate" else f"≥ {int(self.threshold):,} 人"

    @property
    def value_text(self) -> str:
        if self.value is None:
            return "—"
        return _percent(Fraction(self.value)) if self.unit == "rate" else f"{int(self.value):,} 人"


@dataclass(frozen=True, slots=True)
class Assessment:
    """A brand judged against its tier's criteria for one year."""

    year: int  # the evaluated year
    criteria: Criteria | None
    checks: tuple[Check, ...]
    verdict: str  # a key of VERDICTS
    reason: str  # one Chinese sentence: why this verdict

    @property
    def verdict_label(self) -> str:
        return VERDICTS[self.verdict]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "not_met")


def _percent(value: Fraction) -> str:
    return f"{float(value) * 100:.1f}%"


class CriteriaBook:
    """Find the criteria for a tier in a region: its own, or the nearest region's above."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], parent_of: Callable[[str], str | None],
                 category_labels: Mapping[str, str] | None = None):
        self._by_scope = {(row["scope_code"], row["tier"]): Criteria.from_row(row) for row in rows}
        self._parent_of = parent_of
        self.category_labels = dict(category_labels or {})

    def find(self, region_code: str, tier: str) -> Criteria | None:
        code: str | None = region_code
        seen = set()
        while code and code not in seen:
            seen.add(code)
            found = self._by_scope.get((code, tier))
            if found:
                return found
            code = self._parent_of(code)
        return None


def assess(
    *,
    tier: str,
    region_code: str,
    year: int,
    outcome: Mapping[str, Any] | None,
    key_support: bool,
    key_support_category: str | None,
    book: CriteriaBook,
) -> Assessment:
    """Judge one brand's `year` figures (an outcome row, or None) against its criteria."""
    criteria = book.find(region_code, tier)
    if criteria is None:
        return Assessment(year, None, (), "no_data", "该地区该层级没有设定评价标准（criteria.csv）。")
    if outcome is None:
        return Assessment(year, criteria, (), "no_data", f"没有{year}年的培训成效数据。")

    trainees = outcome["trainees"]
    checks = []
    for key, name, column, unit in CRITERIA:
        threshold = criteria.thresholds[column]
        if threshold is None:
            continue
        count = outcome.get(_COUNT_OF[key])
        if count is None or (unit == "rate" and not trainees):
            checks.append(Check(key, name, unit, threshold, None, trainees, "no_data"))
            continue
        # exact, in integers: count / trainees >= threshold / 100
        if unit == "rate":
            met = count * 100 * threshold.denominator >= threshold.numerator * trainees
        else:
            met = count * threshold.denominator >= threshold.numerator
        checks.append(Check(key, name, unit, threshold, count, trainees, "met" if met else "not_met"))

    failed = [c for c in checks if c.status == "not_met"]
    missing = [c for c in checks if c.status == "no_data"]
    if not failed and not missing:
        return Assessment(year, criteria, tuple(checks), "meets", f"{year}年各项指标均达到标准。")
    relaxed = _key_support(criteria, outcome, key_support, key_support_category, book.category_labels)
    if relaxed:
        return Assessment(year, criteria, tuple(checks), "meets_key_support",
                          f"{'、'.join(c.name for c in failed + missing)}未达到一般标准，但{relaxed}")
    if failed:
        return Assessment(year, criteria, tuple(checks), "does_not_meet",
                          f"{year}年未达到：{'、'.join(f'{c.name}（{c.value_text}，标准{c.threshold_text}）' for c in failed)}。")
    return Assessment(year, criteria, tuple(checks), "no_data",
                      f"缺少{'、'.join(c.name for c in missing)}的数据，无法判断。")


#: the counts an outcome row gives the criteria
OUTCOME_COUNTS = ("trainees", "passed", "employed", "subsidised_key_group", "order_based")


def evaluated_year(published_year: int) -> int:
    """Seed 000 judges a brand on the previous year's training."""
    return published_year - 1


def assess_brands(t: "Tables") -> Mapping[str, Assessment]:
    """The verdict stage: every brand judged once on its evaluated year, over the typed tables.

    Run once per load (validate.load_package), before the rules; the rules (criteria-not-met,
    outcome-missing) and the model read its result instead of judging again. A brand whose
    tier, region, year or key-support cell is unusable (already reported) is not judged.
    """
    book = CriteriaBook(criteria_rows(t), t.parent_of, category_labels=t.labels("brands", "key_support_category"))
    verdicts: dict[str, Assessment] = {}
    for row in t.get("brands"):
        brand_id, tier, code = row.text("brand_id"), row.text("tier"), row.text("region_code")
        published_year, key_support = row.integer("published_year"), row.flag("key_support")
        if brand_id is None or tier is None or code is None or published_year is None or key_support is None:
            continue
        year = evaluated_year(published_year)
        outcome = t.outcomes.get((brand_id, year))
        verdicts.setdefault(brand_id, assess(
            tier=tier, region_code=code, year=year, key_support=key_support,
            outcome=None if outcome is None else {n: outcome.integer(n) for n in OUTCOME_COUNTS},
            key_support_category=row.text("key_support_category"), book=book))
    return MappingProxyType(verdicts)


def criteria_rows(t: "Tables") -> list[dict[str, Any]]:
    """criteria.csv rows as CriteriaBook reads them: usable rows only, numbers as numbers."""
    columns = [column for _, _, column, _ in CRITERIA] + ["key_support_min_employment_rate"]
    rows = []
    for row in t.get("criteria"):
        scope, tier, document_no = row.text("scope_code"), row.text("tier"), row.text("document_no")
        if scope is None or tier is None:
            continue
        numbers = {c: row.numeric(c) for c in columns}
        rows.append({"scope_code": scope, "tier": tier, "document_no": document_no or "",
                     "key_support_categories": row.text("key_support_categories"), **numbers})
    return rows


def _key_support(criteria: Criteria, outcome: Mapping[str, Any], key_support: bool,
                 category: str | None, labels: Mapping[str, str]) -> str | None:
    """Why the key-support relaxation applies, or None if it does not."""
    floor = criteria.key_support_min_employment_rate
    trainees, employed = outcome["trainees"], outcome.get("employed")
    if not key_support or floor is None or not trainees or employed is None:
        return None
    if category not in criteria.key_support_categories:
        return None
    if employed * 100 * floor.denominator < floor.numerator * trainees:
        return None
    return (f"属于重点扶持（{labels.get(category, category)}），培训后就业率 {_percent(Fraction(employed, trainees))} "
            f"达到重点扶持要求（≥ {_percent(floor / 100)}）。")
