"""The three-yearly review (三年评估, seed 000): which brands are due in a year, and what to propose.

"以三年为一个周期对本级征集公布的职业技能培训品牌进行绩效评估……对不符合相应培育标准的及时公布退出。"
Each level reviews the brands it published every three years, on training scale,
quality and employment. This module is a pure function of the model: it lists the
brands due in a review year with the figures of the three years under review, each
year judged by the same criteria the directory uses (`Directory.assess`), and a
*proposed* verdict for staff to confirm. The decision itself is published by the
department and recorded in reviews.csv (and exits.csv for exits).

Due rule, for review year Y:

- the brand's cycle starts at its publication year or at its latest `retained` review
  before Y, whichever is later; it is due when that start is Y−3;
- a brand that has left the directory is not due: an `exited` review before Y, or an
  exit dated before Y, or an exit dated in Y that is not the outcome of a review in Y
  (e.g. a voluntary exit earlier in the year). An exit dated after Y, or one recorded
  together with a review in Y, leaves it due, so a past year's review can be re-run.

Proposed verdict, from the institution's status and the latest year (Y−1):

- exit  建议退出   the institution is removed or suspended, or Y−1 does not meet the criteria;
- retain 建议保留  Y−1 meets the criteria, or meets them under key support;
- check 需人工核实 Y−1 has no figures, lacks a figure a criterion needs, or no criteria apply.

A trend note is added when the employment rate fell by 10 percentage points or more
from the earliest to the latest year of the period that has figures.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .criteria import VERDICTS, Assessment
from .model import TIERS, Brand, Directory, Outcome

#: the review cycle, in years
PERIOD = 3
#: a fall of the employment rate over the period that earns a trend note (10 percentage points)
TREND_DROP = Fraction(10, 100)

PROPOSALS = {"retain": "建议保留", "exit": "建议退出", "check": "需人工核实"}


@dataclass(frozen=True, slots=True)
class ReviewYear:
    """One year of the period under review: the figures (if any) and their verdict."""

    year: int
    outcome: Outcome | None
    assessment: Assessment

    @property
    def trainees(self) -> int | None:
        return None if self.outcome is None else self.outcome.trainees

    @property
    def pass_rate(self) -> float | None:
        return None if self.outcome is None else self.outcome.pass_rate

    @property
    def employment_rate(self) -> float | None:
        return None if self.outcome is None else self.outcome.employment_rate

    @property
    def verdict(self) -> str:
        return self.assessment.verdict


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One brand due for review in `review_year`, with a proposed verdict and why."""

    brand: Brand
    review_year: int
    last_reviewed: int | None  # the latest `retained` review before review_year
    years: tuple[ReviewYear, ...]  # Y−3, Y−2, Y−1
    proposed: str  # a key of PROPOSALS
    reasons: tuple[str, ...]  # Chinese sentences: why this proposal
    trend: str | None  # a note when the employment rate fell by 10 points or more

    @property
    def proposed_label(self) -> str:
        return PROPOSALS[self.proposed]


def last_retained(brand: Brand, year: int) -> int | None:
    """The year of the brand's latest `retained` review before `year`."""
    return max((r.year for r in brand.reviews if r.result == "retained" and r.year < year), default=None)


def is_due(brand: Brand, year: int) -> bool:
    """Whether the brand is due for the three-yearly review in `year` (see the module docstring)."""
    if any(r.result == "exited" and r.year < year for r in brand.reviews):
        return False
    if brand.exit is not None:
        exit_year = brand.exit.exit_date.year
        reviewed_in_year = any(r.year == year for r in brand.reviews)
        if exit_year < year or (exit_year == year and not reviewed_in_year):
            return False
    start = max(brand.published_year, last_retained(brand, year) or 0)
    return start == year - PERIOD


def review(directory: Directory, year: int) -> list[ReviewItem]:
    """Every brand due for review in `year`, by region code, tier and brand_id."""
    due = [b for b in directory.brands.values() if is_due(b, year)]
    due.sort(key=lambda b: (b.region.code, TIERS.index(b.tier), b.brand_id))
    return [_review_brand(directory, brand, year) for brand in due]


def _review_brand(directory: Directory, brand: Brand, year: int) -> ReviewItem:
    outcomes = {o.year: o for o in brand.outcomes}
    judged = directory.assessments.get(brand.brand_id)  # the assess stage's verdict of the evaluated year
    years = tuple(ReviewYear(y, outcomes.get(y), judged if judged is not None and judged.year == y
                             else directory.assess(brand, y))
                  for y in range(year - PERIOD, year))
    proposed, reasons = _propose(directory, brand, years[-1])
    return ReviewItem(brand, year, last_retained(brand, year), years, proposed, tuple(reasons), _trend(years))


def _propose(directory: Directory, brand: Brand, latest: ReviewYear) -> tuple[str, list[str]]:
    reasons = []
    institution = brand.institution
    if institution.status in ("removed", "suspended"):
        status = directory.label("institutions", "status", institution.status)
        when = f"（{institution.status_date.isoformat()}）" if institution.status_date else ""
        why = f"：{institution.status_reason}" if institution.status_reason else ""
        reasons.append(f"举办机构“{institution.name}”状态为“{status}”{when}{why}。")
    assessment, y = latest.assessment, latest.year
    tier = directory.label("brands", "tier", brand.tier)
    if assessment.verdict == "does_not_meet":
        failed = "、".join(f"{c.name} {c.value_text}（标准 {c.threshold_text}）" for c in assessment.failed)
        reasons.append(f"{y}年未达到{tier}品牌标准：{failed}。")
    if reasons:
        return "exit", reasons
    if assessment.verdict == "meets":
        return "retain", [f"{y}年各项指标均达到{tier}品牌标准。"]
    if assessment.verdict == "meets_key_support":
        return "retain", [f"{y}年按重点扶持条件符合：{assessment.reason}"]
    if assessment.criteria is None:
        return "check", [f"没有适用于{brand.region.name}{tier}品牌的评价标准（criteria.csv），请人工核实。"]
    if latest.outcome is None:
        return "check", [f"没有{y}年的培训成效数据（outcomes.csv），请补充数据或人工核实。"]
    missing = "、".join(c.name for c in assessment.checks if c.status == "no_data")
    return "check", [f"{y}年缺少{missing}的数据，无法判断，请补充数据或人工核实。"]


def _trend(years: tuple[ReviewYear, ...]) -> str | None:
    """A note when the employment rate fell by TREND_DROP or more, earliest to latest year with figures."""
    rates = [(ry.year, Fraction(ry.outcome.employed, ry.outcome.trainees))
             for ry in years if ry.outcome is not None and ry.outcome.trainees]
    if len(rates) < 2:
        return None
    (first_year, first), (last_year, last) = rates[0], rates[-1]
    if first - last < TREND_DROP:
        return None
    return (f"就业率由{first_year}年的{_percent(first)}降至{last_year}年的{_percent(last)}，"
            f"下降{float((first - last) * 100):.1f}个百分点。")


def _percent(value: float | Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def summary(items: list[ReviewItem]) -> str:
    """One line: how many brands are due and how many of each proposal."""
    counts = Counter(item.proposed for item in items)
    parts = "，".join(f"{label} {counts[key]} 个" for key, label in PROPOSALS.items())
    return f"共 {len(items)} 个品牌到期评估：{parts}。"


def review_text(directory: Directory, items: list[ReviewItem], year: int, settled: list[str] = ()) -> str:
    """The review as readable Chinese text, grouped by the publishing region; `settled` are the
    criteria-not-met notes of brands frozen editions published (validate no longer repeats them)."""
    period = f"{year - PERIOD}—{year - 1}年"
    notes = []
    if settled:
        notes = ["", f"已收入冻结版本、公布时未达到评价标准的品牌（{len(settled)} 个，validate 和 build 不再重复提示，"
                     "详见各年度版本页面）："] + [f"  {message}" for message in settled]
    if not items:
        return "\n".join([f"{year}年没有到期需要三年评估的品牌（到期指{year - PERIOD}年公布、或{year - PERIOD}年评估后保留，"
                          f"且尚未退出目录的品牌）。", *notes])
    lines = [f"{year}年三年评估：评估期 {period}，到期品牌 {len(items)} 个。",
             "以下结论为根据数据提出的建议，最终结论以人社部门评估和公布的文件为准。"]
    region = None
    for item in items:
        brand = item.brand
        if brand.region.code != region:
            region = brand.region.code
            lines += ["", f"{brand.region.code} {brand.region.name}"]
        tier = directory.label("brands", "tier", brand.tier)
        reviewed = f"；上次评估保留：{item.last_reviewed}年" if item.last_reviewed else ""
        lines.append(f"  {brand.brand_id}  {brand.name}［{tier}］")
        lines.append(f"    机构：{brand.institution.name}；{brand.published_year}年公布{reviewed}")
        for ry in item.years:
            figures = ("没有数据" if ry.outcome is None else
                       f"培训 {ry.outcome.trainees:,} 人，合格率 {_percent(ry.pass_rate)}，"
                       f"就业率 {_percent(ry.employment_rate)}")
            lines.append(f"    {ry.year}年  {figures}：{VERDICTS[ry.verdict]}")
        lines.append(f"    → {item.proposed_label}：{''.join(item.reasons)}")
        if item.trend:
            lines.append(f"    ！趋势：{item.trend}")
    lines += [*notes, "", summary(items)]
    return "\n".join(lines)


def review_records(directory: Directory, items: list[ReviewItem]) -> list[dict[str, Any]]:
    """The review as JSON-ready objects (rates as fractions of 1, 4 decimals)."""
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    out = []
    for item in items:
        brand = item.brand
        out.append({
            "brand_id": brand.brand_id,
            "name": brand.name,
            "institution_id": brand.institution.institution_id,
            "institution": brand.institution.name,
            "institution_status": brand.institution.status,
            "tier": brand.tier,
            "tier_label": directory.label("brands", "tier", brand.tier),
            "region_code": brand.region.code,
            "region": brand.region.name,
            "published_year": brand.published_year,
            "last_reviewed": item.last_reviewed,
            "review_year": item.review_year,
            "years": [{
                "year": ry.year,
                "trainees": ry.trainees,
                "passed": None if ry.outcome is None else ry.outcome.passed,
                "employed": None if ry.outcome is None else ry.outcome.employed,
                "pass_rate": rounded(ry.pass_rate),
                "employment_rate": rounded(ry.employment_rate),
                "verdict": ry.verdict,
                "verdict_label": VERDICTS[ry.verdict],
            } for ry in item.years],
            "proposed": item.proposed,
            "proposed_label": item.proposed_label,
            "reasons": list(item.reasons),
            "trend": item.trend,
        })
    return out


def csv_columns(year: int) -> list[str]:
    per_year = [f"{name}_{y}" for y in range(year - PERIOD, year)
                for name in ("trainees", "pass_rate", "employment_rate", "verdict")]
    return ["brand_id", "name", "institution", "tier", "region", "published_year", "last_reviewed",
            *per_year, "proposed", "reasons"]


def review_csv(directory: Directory, items: list[ReviewItem], year: int) -> bytes:
    """One row per due brand, UTF-8 with BOM so Excel opens it, for staff preparing the exits list."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(year))
    for item in items:
        brand = item.brand
        per_year: list[Any] = []
        for ry in item.years:
            per_year += ["" if ry.trainees is None else ry.trainees, _blank(ry.pass_rate),
                         _blank(ry.employment_rate), VERDICTS[ry.verdict]]
        reasons = "".join([*item.reasons, *([f"趋势：{item.trend}"] if item.trend else [])])
        writer.writerow([brand.brand_id, brand.name, brand.institution.name,
                         directory.label("brands", "tier", brand.tier), brand.region.name, brand.published_year,
                         item.last_reviewed or "", *per_year, item.proposed_label, reasons])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _blank(value: float | None) -> str:
    return "" if value is None else _percent(value)
