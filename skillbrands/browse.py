"""Browsing without search: which brands a listing shows, in what order, in which sections.

Pure functions of a `Directory`; render.py cuts the lists into pages. Every listing
puts a section's exited brands after its listed ones, so a reader meets the brands
still in the directory first (the exited keep their rows, marked).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .model import TIERS, Brand, Directory, Occupation

#: the major groups (大类) of the 2022 national occupational classification, by a code's first digit
MAJOR_GROUPS = {
    "1": "党的机关、国家机关、群众团体和社会组织、企事业单位负责人",
    "2": "专业技术人员",
    "3": "办事人员和有关人员",
    "4": "社会生产服务和生活服务人员",
    "5": "农、林、牧、渔业生产及辅助人员",
    "6": "生产制造及有关人员",
    "7": "军队人员",
    "8": "不便分类的其他从业人员",
}
#: the URL part for brands whose trade has no code (codes are like 6-18-02-04, so it cannot clash)
NO_CODE = "other"
NO_CODE_TITLE = "其他工种（未标注职业代码）"
#: the URL part for brands without a focus area (the focus areas are enum values, so it cannot clash)
NO_FOCUS = "none"


@dataclass(frozen=True)
class Section:
    """Where a brand goes in a listing: `order` sorts the sections, `anchor` is the HTML id."""

    order: Any
    anchor: str
    title: str


Grouping = Callable[[Brand], Section]


def by_tier(directory: Directory) -> Grouping:
    sections = {tier: Section(i, tier, directory.label("brands", "tier", tier)) for i, tier in enumerate(TIERS)}
    return lambda brand: sections[brand.tier]


def by_prefecture(directory: Directory) -> Grouping:
    """By the prefecture the brand's institution is in: where a learner would go."""
    sections: dict[str, Section] = {}

    def group(brand: Brand) -> Section:
        code = brand.institution.region.code
        if code not in sections:
            prefecture = directory.prefecture_of(code)
            sections[code] = Section(prefecture.code, f"r{prefecture.code}", prefecture.name)
        return sections[code]

    return group


def flat(brand: Brand) -> Section:
    return Section(0, "", "")


def in_sections(brands: Iterable[Brand], group: Grouping) -> list[Brand]:
    """Section by section; in each, listed before exited, then by place, tier and ID."""
    return sorted(brands, key=lambda b: (group(b).order, b.exited, b.institution.region.code,
                                         TIERS.index(b.tier), b.brand_id))


#: the sorted views of a listing: URL part, title, sort key (largest first; no figures last)
SORTS: tuple[tuple[str, str, Callable[[Brand], tuple[Any, ...]]], ...] = (
    ("by-rate/", "按就业率", lambda b: (b.exited, -_latest(b, "employment_rate"), b.brand_id)),
    ("by-trainees/", "按培训人数", lambda b: (b.exited, -_latest(b, "trainees"), b.brand_id)),
)


def _latest(brand: Brand, name: str) -> float:
    value = getattr(brand.latest, name, None) if brand.latest else None
    return -1.0 if value is None else float(value)


def occupation_key(brand: Brand) -> str:
    return brand.occupation_code or NO_CODE


def by_occupation(directory: Directory) -> dict[str, list[Brand]]:
    """Brands by occupation code (NO_CODE for trades without one), codes in order."""
    out: dict[str, list[Brand]] = {}
    for brand in directory.brands.values():
        out.setdefault(occupation_key(brand), []).append(brand)
    return dict(sorted(out.items()))


def major_groups(directory: Directory, occupations: dict[str, list[Brand]]
                 ) -> list[tuple[str, str, int, list[tuple[Occupation, int]]]]:
    """(digit, title, brands, [(occupation, brands)]) for each major group with brands."""
    groups: dict[str, list[tuple[Occupation, int]]] = {}
    for code, brands in occupations.items():
        if code != NO_CODE:
            groups.setdefault(code[0], []).append((directory.occupations[code], len(brands)))
    return [(digit, MAJOR_GROUPS.get(digit, f"第{digit}大类"), sum(n for _, n in items), items)
            for digit, items in sorted(groups.items())]


def trades(directory: Directory, brands: Iterable[Brand]) -> list[tuple[str, str, int]]:
    """(occupation key, name, brands) of a list of brands, most brands first."""
    counts = Counter(occupation_key(b) for b in brands)
    names = {key: directory.occupations[key].name if key != NO_CODE else NO_CODE_TITLE
             for key in counts}
    return [(key, names[key], n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def by_value(brands: Iterable[Brand], value: Callable[[Brand], Any],
             order: Callable[[Any], Any] = str) -> dict[Any, list[Brand]]:
    """Brands by one column's value, values in order."""
    out: dict[Any, list[Brand]] = {}
    for brand in brands:
        out.setdefault(value(brand), []).append(brand)
    return dict(sorted(out.items(), key=lambda kv: order(kv[0])))


@dataclass(frozen=True)
class Facet:
    """A listing of every brand by one column's value, at /<folder>/<value>/."""

    folder: str
    title: str  # on /brands/: 按层级 …
    value: Callable[[Brand], Any]
    heading: Callable[[Directory, Any], str]
    group: Callable[[Directory], Grouping]  # the sections of each listing
    views: bool = False  # also sorted by employment rate and by trainees
    order: Callable[[Any], Any] = str  # of the values

    def listings(self, brands: Iterable[Brand]) -> dict[Any, list[Brand]]:
        return by_value(brands, self.value, self.order)


FACETS = (
    Facet("tiers", "按层级", lambda b: b.tier, lambda d, v: f"{d.label('brands', 'tier', v)}品牌", by_prefecture,
          views=True, order=TIERS.index),
    Facet("focus", "按重点领域", lambda b: b.focus_area or NO_FOCUS,
          lambda d, v: "未标注重点领域" if v == NO_FOCUS else d.label("brands", "focus_area", v), by_tier,
          order=lambda v: (v == NO_FOCUS, v)),
    Facet("years", "按公布年度", lambda b: b.published_year, lambda d, v: f"{v}年度公布的品牌", by_tier,
          order=lambda year: -year),  # newest first
)
