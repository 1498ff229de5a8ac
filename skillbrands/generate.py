"""Generate a complete, valid national test project (生成的测试数据) at scale S, M or L.

Region and occupation codes are real (reference/); institutions, brands, figures,
exits and reviews are invented. Each province is planned on its own seeded random
stream (`random.Random(f"…/{seed}/{province}")`, str seeds hash with SHA-512, not
Python's randomised hash), in lists, never in set or dict-hash order, and nothing
reads the clock into the data -- so the same scale and seed give byte-identical files.
A province is planned in memory, written to the open CSV writers and dropped before
the next one, so L (200,000 brands, a million outcome rows) stays small and fast.

The data obey the rules in rules.py: tiers match region levels; recommendations go
county -> prefecture -> province within one institution × occupation, inside the
area and earlier; figures meet the tier's criteria in the evaluated year (a few
deliberate shortfalls are warnings); exits follow publication and end the figures;
brands of suspended or removed institutions are published before the status date.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from . import fakenames as names
from .creditcode import check_character

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference"
PACKAGE = REPO / "datasets" / "datapackage.json"

SCALES = {"S": 2_000, "M": 20_000, "L": 200_000}
YEARS = (2022, 2023, 2024, 2025)  # directories published; the sample policy dates from 2022
SINGLE_YEARS = ((2022, 20), (2023, 24), (2024, 27), (2025, 29))  # brands not recommended on: more each year
LAST_DATA_YEAR = 2025
OUTCOME_YEARS = 5  # figures per brand: the five years up to 2025 or its exit year
REVIEW_YEAR = 2025  # the three-yearly review of the 2022 lists
LAST_DAY = date(2025, 12, 31)
TIERS = ("province", "prefecture", "county")
LIST_MONTHS = {"county": (6, 1, 7, 31), "prefecture": (9, 1, 10, 31), "province": (11, 1, 12, 20)}
DOC_RANGE = {"province": (60, 220), "prefecture": (20, 150), "county": (5, 80)}
REVIEW_NUMBERS, EXIT_NUMBERS, CRITERIA_NUMBERS = (230, 290), (300, 399), (1, 4)

# province code -> (id slug, short name in document numbers, first digits of the phone
# area code, relative weight ≈ population in millions, 7th census). Taiwan, Hong Kong
# and Macao are in regions.csv but publish no brands here.
PROVINCES = {
    "110000": ("bj", "京", "010", 21.9), "120000": ("tj", "津", "022", 13.9), "130000": ("he", "冀", "031", 74.6),
    "140000": ("sx", "晋", "035", 34.9), "150000": ("nm", "内", "047", 24.0), "210000": ("ln", "辽", "041", 42.6),
    "220000": ("jl", "吉", "043", 24.1), "230000": ("hl", "黑", "045", 31.9), "310000": ("sh", "沪", "021", 24.9),
    "320000": ("js", "苏", "051", 84.7), "330000": ("zj", "浙", "057", 64.6), "340000": ("ah", "皖", "055", 61.0),
    "350000": ("fj", "闽", "059", 41.5), "360000": ("jx", "赣", "079", 45.2), "370000": ("sd", "鲁", "053", 101.5),
    "410000": ("ha", "豫", "037", 99.4), "420000": ("hb", "鄂", "071", 57.8), "430000": ("hn", "湘", "073", 66.4),
    "440000": ("gd", "粤", "075", 126.0), "450000": ("gx", "桂", "077", 50.1), "460000": ("hi", "琼", "089", 10.1),
    "500000": ("cq", "渝", "023", 32.1), "510000": ("sc", "川", "083", 83.7), "520000": ("gz", "黔", "085", 38.6),
    "530000": ("yn", "云", "087", 47.2), "540000": ("xz", "藏", "089", 3.6), "610000": ("sn", "陕", "091", 39.5),
    "620000": ("gs", "甘", "093", 25.0), "630000": ("qh", "青", "097", 5.9), "640000": ("nx", "宁", "095", 7.2),
    "650000": ("xj", "新", "099", 25.9),
}
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}  # 3-digit area codes, 8-digit numbers

KINDS = (("private", 38), ("enterprise", 25), ("school", 15), ("vocational_college", 12),
         ("assessment_body", 6), ("online_platform", 4))
CREDIT_TYPE = {"school": ("12", "MB"), "vocational_college": ("12", "MB"), "private": ("52", "MJ"),
               "assessment_body": ("52", "MJ"), "enterprise": ("91", "MA"), "online_platform": ("91", "MA")}
BRANDS_PER_INSTITUTION = (1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9)  # mean ≈ 4.2 (the last one is cut short)
# Paths a programme (institution × occupation) takes through the tiers, by where the
# institution is: a county under a prefecture, a county directly under the province,
# or a prefecture without counties (东莞, 中山, 儋州, 嘉峪关).
PATHS = {
    "full": (("C", 50), ("F", 17), ("P", 4), ("CF", 9), ("FP", 5), ("CFP", 2)),
    "direct": (("C", 80), ("P", 6)),
    "city": (("F", 60), ("P", 8), ("FP", 10)),
}
TIER_OF = {"C": "county", "F": "prefecture", "P": "province"}

# Figures are drawn with a margin above seed 000's criteria (criteria.csv below):
# trainees, pass rate, employment rate, subsidised share, order-based share.
LEVELS = {"province": ((420, 900), (0.91, 0.98), (0.72, 0.90), (0.50, 0.75), (0.52, 0.80)),
          "prefecture": ((210, 400), (0.86, 0.97), (0.62, 0.86), (0.50, 0.80), (0.42, 0.75)),
          "county": ((40, 220), (0.82, 0.95), (0.58, 0.85), (0.25, 0.70), (0.10, 0.60)),
          "key_support": ((40, 150), (0.85, 0.97), (0.72, 0.92), (0.30, 0.70), (0.20, 0.60))}
CRITERIA = {"province": (400, 90, 70, 200, 50), "prefecture": (200, 85, 60, 100, 40), "county": (30, 80, 55, None, None)}
KEY_SUPPORT_RATE = 70
ALL_CATEGORIES = "key_technology;recognised_trade;heritage;rural_industry;innovation"

# How often the stories happen (per programme, brand or institution)
P_KEY_SUPPORT = 0.20  # single-brand programmes in a trade with a key-support category
P_LOCAL_TRADE = 0.006
P_SHORTFALL = 0.005
P_TINY = 0.03
P_INACTIVE = 0.02
P_VOLUNTARY = 0.006
P_REVIEW_EXIT = 0.09

REASON_TEXT = {
    "suspended": ["招生宣传中承诺“包拿证、包补贴”，存在虚假宣传、违规招生行为，暂停承训资格",
                  "未经批准擅自设立教学点开班，暂停承训资格", "培训台账与实名制记录不符，暂停承训资格"],
    "removed": ["机构申请终止办学并注销办学许可证，移出培训机构目录", "伪造培训记录骗取补贴，移出培训机构目录"],
}
EXIT_DETAIL = {
    "review_failed": f"{REVIEW_YEAR - 1}年培训后就业率低于本级标准（{REVIEW_YEAR}年评估），不再符合培训品牌条件。",
    "violation": "培训机构存在违规行为，被暂停承训资格，品牌退出目录。",
    "institution_closed": "培训机构终止办学或被移出目录，该品牌随之退出目录。",
    "voluntary": "培训机构调整办学方向，主动申请退出目录。",
    "other": "培训项目合并调整，退出目录。",
}


class GenerateError(Exception):
    """The project folder cannot be written (e.g. it exists and is not empty)."""


@dataclass
class GenerateResult:
    project: Path
    scale: str
    seed: int
    counts: dict[str, int]  # rows per resource
    seconds: float


# -- the plan of one province --------------------------------------------------------

@dataclass(eq=False, slots=True)
class Institution:
    institution_id: str
    home: str
    row: list[Any]
    word: str
    status: str = "active"
    status_date: date | None = None


@dataclass(eq=False, slots=True)
class Programme:
    institution: Institution
    occupation_code: str
    occupation_name: str
    name: str
    key_support: str = ""  # category, or "" when not key support
    brands: list["Brand"] = field(default_factory=list)
    figures: dict[int, list[int]] = field(default_factory=dict)  # year -> 5 counts


@dataclass(eq=False, slots=True)
class Brand:
    programme: Programme
    tier: str
    region: str
    year: int
    published: date
    document_no: str
    source: "Brand | None" = None
    is_source: bool = False
    brand_id: str = ""
    exit: tuple[date, str, str, str] | None = None  # date, reason, detail, document number
    review: str = ""  # retained / exited at the review of REVIEW_YEAR

    @property
    def last_year(self) -> int:
        return self.exit[0].year if self.exit else LAST_DATA_YEAR


class Regions:
    """The reference regions and what the generator needs to know about them."""

    def __init__(self, rows: list[dict[str, str]]):
        self.rows = rows
        self.by_code = {r["code"]: r for r in rows}
        self.children: dict[str, list[str]] = {}
        for r in rows:
            if r["parent_code"]:
                self.children.setdefault(r["parent_code"], []).append(r["code"])

        self._beside: dict[str, list[str]] = {}

    def name(self, code: str) -> str:
        return self.by_code[code]["name"]

    def counties_beside(self, county: str) -> list[str]:
        """The counties under the same parent (itself included)."""
        parent = self.by_code[county]["parent_code"]
        if parent not in self._beside:
            self._beside[parent] = [c for c in self.children[parent] if self.by_code[c]["level"] == "county"]
        return self._beside[parent]

    def places(self, province: str) -> list[tuple[str, str | None, str]]:
        """Where institutions can be: (home code, its prefecture or None, kind of place)."""
        out: list[tuple[str, str | None, str]] = []
        for code in self.children.get(province, []):
            level = self.by_code[code]["level"]
            if level == "county":
                out.append((code, None, "direct"))
            elif self.children.get(code):
                out += [(county, code, "full") for county in self.children[code]]
            else:  # a prefecture-level city without counties: weigh it as a few counties
                out += [(code, code, "city")] * 4
        return out


class Lists:
    """One published list (date and document number) per region and year, drawn on first use."""

    def __init__(self, rng: random.Random, regions: Regions, province: str):
        self.rng, self.regions, self.province = rng, regions, province
        self.lists: dict[tuple[str, int, str], tuple[date, str]] = {}
        self.used: set[tuple[str, int, int]] = set()  # membership only: never iterated

    def issuer(self, region: str) -> str:
        if region == self.province:
            return PROVINCES[region][1] + "人社发"
        name = self.regions.name(region)
        for suffix in ("自治州", "自治县", "自治旗", "地区", "林区", "新区", "市", "县", "区", "旗", "盟"):
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                name = name[: -len(suffix)]
                break
        return name[:3] + "人社发"

    def get(self, region: str, year: int, purpose: str, start: date, end: date, numbers: tuple[int, int]) -> tuple[date, str]:
        """The notice for (region, year, purpose): its date in [start, end] and a number
        that the region has not used for another notice that year."""
        key = (region, year, purpose)
        if key not in self.lists:
            when = date.fromordinal(self.rng.randint(start.toordinal(), end.toordinal()))
            number = self.rng.randint(*numbers)
            while (region, when.year, number) in self.used:
                number += 1
            self.used.add((region, when.year, number))
            self.lists[key] = (when, f"{self.issuer(region)}〔{when.year}〕{number}号")
        return self.lists[key]

    def published(self, tier: str, region: str, year: int) -> tuple[date, str]:
        m1, d1, m2, d2 = LIST_MONTHS[tier]
        return self.get(region, year, "list", date(year, m1, d1), date(year, m2, d2), DOC_RANGE[tier])


_CUMULATIVE: dict[tuple[tuple[Any, int], ...], list[int]] = {}  # a cache, looked up by key only


def _weighted(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    """One value of a (value, weight) table, by its weight."""
    cumulative = _CUMULATIVE.get(table)
    if cumulative is None:
        cumulative = _CUMULATIVE[table] = list(accumulate(w for _, w in table))
    return table[bisect(cumulative, rng.random() * cumulative[-1])][0]


class ProvincePlan:
    """Institutions, programmes and brands of one province, with their figures and exits."""

    def __init__(self, ctx: "Context", province: str, n_brands: int):
        self.ctx, self.province = ctx, province
        self.rng = random.Random(f"skillbrands-generate/{ctx.seed}/{province}")
        self.slug, _, self.area, _ = PROVINCES[province]
        self.lists = Lists(self.rng, ctx.regions, province)
        self.places = ctx.regions.places(province)
        self.institutions: list[Institution] = []
        self.programmes: list[Programme] = []
        self.home_seq: dict[str, int] = {}
        left = n_brands
        while left > 0:
            left -= self._institution(left)
        self.brands = self._number_brands()
        self._exits_and_reviews()
        for programme in self.programmes:
            self._figures(programme)

    # -- institutions and their programmes --
    def _institution(self, left: int) -> int:
        rng, regions = self.rng, self.ctx.regions
        home, prefecture, kind_of_place = rng.choice(self.places)
        kind = _weighted(rng, KINDS)
        self.home_seq[home] = self.home_seq.get(home, 0) + 1
        institution_id = f"{self.slug}-{home}-{self.home_seq[home]:02d}"
        place = self._place_name(home, prefecture)
        word = names.word(rng)
        name = names.institution_name(kind, place, self.province, word, rng.choice(names.ENTERPRISE_TRADES), rng)
        type_code, prefix = CREDIT_TYPE[kind]
        first17 = type_code + home + _org_code(rng, prefix)
        row = [institution_id, name, first17 + check_character(first17), kind, home,
               self._address(home, prefecture), self._phone(prefecture),
               f"https://{institution_id}.example.com/" if rng.random() < 0.3 else "",
               "active", "", ""]
        institution = Institution(institution_id, home, row, word)
        self.institutions.append(institution)

        quota = min(left, rng.choice(BRANDS_PER_INSTITUTION))
        occupations = rng.sample(self.ctx.occupations, min(quota, len(self.ctx.occupations)))
        brands: list[Brand] = []
        for code, occupation in occupations:
            if len(brands) >= quota:
                break
            brands += self._programme(institution, prefecture, kind_of_place, code, occupation, quota - len(brands))
        self._status(institution, brands)
        return len(brands)

    def _place_name(self, home: str, prefecture: str | None) -> str:
        regions = self.ctx.regions
        name = regions.name(home)
        if prefecture is None:  # a county directly under the province
            return (regions.name(self.province) if self.province in MUNICIPALITIES else "") + name
        if home != prefecture and name.endswith("区"):
            return regions.name(prefecture) + name
        return name

    def _address(self, home: str, prefecture: str | None) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return ""
        street = f"{rng.choice(names.STREETS)}{rng.randint(1, 299)}号"
        place = self._place_name(home, prefecture)
        if prefecture and home != prefecture and not place.startswith(self.ctx.regions.name(prefecture)):
            place = self.ctx.regions.name(prefecture) + place
        address = f"{place}{street}"
        return f"{address},{rng.choice(names.ROOMS)}" if roll > 0.99 else address  # a comma: CSV quoting

    def _phone(self, prefecture: str | None) -> str:
        rng = self.rng
        if rng.random() < 0.08:
            return ""
        if self.province in MUNICIPALITIES:
            return f"{self.area}-{rng.randint(2, 8)}{rng.randint(0, 9_999_999):07d}"
        digit = int(prefecture[2:4]) % 10 if prefecture else 1
        return f"{self.area}{digit}-{rng.randint(2, 8)}{rng.randint(0, 999_999):06d}"

    def _programme(self, institution: Institution, prefecture: str | None, kind_of_place: str,
                   code: str, occupation: str, room: int) -> list[Brand]:
        rng = self.rng
        paths = PATHS[kind_of_place]
        path = _weighted(rng, paths)
        if len(path) > room:
            path = _weighted(rng, tuple((p, w) for p, w in paths if len(p) <= room))
        if len(path) == 1 and rng.random() < P_LOCAL_TRADE:  # a local 工种 with no code
            code, occupation = "", rng.choice(names.LOCAL_TRADES.get(self.province, names.LOCAL_TRADES_ANY))
        place = self.ctx.regions.name(prefecture or institution.home)
        name = names.brand_name(institution.word, occupation, place, self.province, rng)
        programme = Programme(institution, code, occupation, name)
        if len(path) == 1 and rng.random() < P_KEY_SUPPORT:
            programme.key_support = names.KEY_SUPPORT_OF.get(occupation, "")
        years = self._years(len(path))
        source = None
        for letter, year in zip(path, years):
            tier = TIER_OF[letter]
            region = {"province": self.province, "prefecture": prefecture}.get(tier) or self._county(institution.home)
            published, document_no = self.lists.published(tier, region, year)
            brand = Brand(programme, tier, region, year, published, document_no, source)
            if source is not None:
                source.is_source = True
            programme.brands.append(brand)
            source = brand
        self.programmes.append(programme)
        return programme.brands

    def _county(self, home: str) -> str:
        """Mostly at home; sometimes trained in another county of the same prefecture (送培训下乡)."""
        if self.rng.random() < 0.75:
            return home
        return self.rng.choice(self.ctx.regions.counties_beside(home))

    def _years(self, steps: int) -> list[int]:
        """Published years along a path, each step a later year (or, now and then, the same year)."""
        rng = self.rng
        if steps == 1:
            return [_weighted(rng, SINGLE_YEARS)]
        first = rng.randint(YEARS[0], YEARS[-1] - steps + 1)
        years = [first]
        for step in range(1, steps):
            latest = YEARS[-1] - (steps - 1 - step)
            nxt = years[-1] if rng.random() < 0.15 else rng.randint(years[-1] + 1, latest)
            years.append(min(nxt, latest))
        return years

    def _status(self, institution: Institution, brands: list[Brand]) -> None:
        """Seeds 001/004: a few institutions are suspended or removed after their last list;
        each department that published one of their brands publishes its exit."""
        rng = self.rng
        if rng.random() >= P_INACTIVE:
            return
        start, end = max(b.published for b in brands) + timedelta(days=20), date(2025, 11, 30)
        if start > end:
            return
        status = "suspended" if rng.random() < 0.6 else "removed"
        when = date.fromordinal(rng.randint(start.toordinal(), end.toordinal()))
        institution.status, institution.status_date = status, when
        institution.row[8:] = [status, when.isoformat(), rng.choice(REASON_TEXT[status])]
        reason = "violation" if status == "suspended" else "institution_closed"
        for brand in brands:
            soon = when + timedelta(days=7)
            exit_date, document_no = self.lists.get(brand.region, 0, f"exit-{institution.institution_id}", soon,
                                                    min(LAST_DAY, soon + timedelta(days=38)), EXIT_NUMBERS)
            brand.exit = (exit_date, reason, EXIT_DETAIL[reason], document_no)

    # -- ids, exits, reviews --
    def _number_brands(self) -> list[Brand]:
        brands = [b for p in self.programmes for b in p.brands]
        brands.sort(key=lambda b: (b.year, TIERS.index(b.tier), b.region, b.programme.institution.institution_id,
                                   b.programme.occupation_name))
        seq: dict[tuple[str, int], int] = {}
        for b in brands:
            key = (b.region, b.year)
            seq[key] = seq.get(key, 0) + 1
            b.brand_id = f"{self.slug}-{b.year}-{b.region}-{seq[key]:03d}"
        return brands

    def _exits_and_reviews(self) -> None:
        rng = self.rng
        for b in self.brands:
            p = b.programme
            if b.exit or b.is_source:
                continue
            single = len(p.brands) == 1 and not p.key_support
            if b.year == YEARS[0] and single and rng.random() < P_REVIEW_EXIT:
                when, document_no = self.lists.get(b.region, REVIEW_YEAR, "review", date(REVIEW_YEAR, 3, 1),
                                                   date(REVIEW_YEAR, 9, 30), REVIEW_NUMBERS)
                b.exit = (when, "review_failed", EXIT_DETAIL["review_failed"], document_no)
                b.review = "exited"
            elif rng.random() < P_VOLUNTARY:
                start = b.published + timedelta(days=60)
                if start <= LAST_DAY:
                    when = date.fromordinal(rng.randint(start.toordinal(), LAST_DAY.toordinal()))
                    reason = "voluntary" if rng.random() < 0.7 else "other"
                    _, document_no = self.lists.get(b.region, when.year, f"exit-{b.brand_id}", when, when, EXIT_NUMBERS)
                    b.exit = (when, reason, EXIT_DETAIL[reason], document_no)
        for b in self.brands:
            if b.year == YEARS[0] and not b.exit:
                b.review = "retained"

    # -- figures --
    def _draw(self, level: str, trainees: int | None = None) -> list[int]:
        (t_lo, t_hi), (p_lo, p_hi), (e_lo, e_hi), (s_lo, s_hi), (o_lo, o_hi) = LEVELS[level]
        r = self.rng.random
        t = trainees if trainees is not None else t_lo + int(r() * (t_hi - t_lo + 1))
        floor = (CRITERIA[level][3] or 0) if level in CRITERIA else 0
        return [t, round(t * (p_lo + (p_hi - p_lo) * r())), round(t * (e_lo + (e_hi - e_lo) * r())),
                min(t, max(floor, round(t * (s_lo + (s_hi - s_lo) * r())))), round(t * (o_lo + (o_hi - o_lo) * r()))]

    def _figures(self, p: Programme) -> None:
        rng = self.rng
        last = max(b.last_year for b in p.brands)
        first = min(b.last_year for b in p.brands) - OUTCOME_YEARS + 1
        ordered = sorted(p.brands, key=lambda b: b.published)
        for year in range(first, last + 1):
            # the scale of year y: the tier of the latest brand judged on y or earlier
            judged = [b for b in ordered if b.year - 1 <= year]
            level = "key_support" if p.key_support else (judged[-1] if judged else ordered[0]).tier
            p.figures[year] = self._draw(level)
        if len(p.brands) != 1 or p.key_support:
            return
        b = p.brands[0]
        if b.review == "exited":  # the review judges 2022-2024: the programme declined
            base = p.figures[b.year - 1]
            for year, factor, scale in ((REVIEW_YEAR - 2, 0.85, 0.9), (REVIEW_YEAR - 1, 0.65, 0.75)):
                t = max(20, round(base[0] * scale))
                figures = self._draw(b.tier, t)
                figures[2] = min(t, int(t * CRITERIA[b.tier][2] * factor / 100))
                p.figures[year] = figures
        elif rng.random() < P_SHORTFALL:
            self._shortfall(b, p.figures[b.year - 1])
        elif b.tier == "county" and rng.random() < P_TINY:
            years = [y for y in p.figures if y not in (b.year - 1, REVIEW_YEAR - 1)]
            if years:
                year = rng.choice(years)
                p.figures[year] = self._draw("county", rng.randint(12, 28))

    def _shortfall(self, b: Brand, figures: list[int]) -> None:
        """Slightly short of one criterion in the evaluated year: a warning, not an error."""
        rng = self.rng
        t = figures[0]
        trainees_min, pass_min, employment_min, _, order_min = CRITERIA[b.tier]
        kind = rng.choice(["pass", "employment", "trainees"] + (["order"] if order_min else []))
        if kind == "pass":
            figures[1] = -(-pass_min * t // 100) - 1 - rng.randint(0, 3)
        elif kind == "employment":
            figures[2] = -(-employment_min * t // 100) - 1 - rng.randint(0, 3)
        elif kind == "order":
            figures[4] = -(-order_min * t // 100) - 1 - rng.randint(0, 3)
        else:
            new = max(1, trainees_min - rng.randint(1, 15))
            figures[:] = [new] + [min(new, round(v * new / t)) for v in figures[1:]]
        figures[1:] = [max(0, v) for v in figures[1:]]

    # -- rows --
    def brand_rows(self):
        for b in self.brands:
            p = b.programme
            yield [b.brand_id, p.name, p.institution.institution_id, p.occupation_code, p.occupation_name, b.tier,
                   b.region, names.FOCUS_OF.get(p.occupation_name, "rural" if not p.occupation_code else ""),
                   "true" if p.key_support else "false", p.key_support,
                   b.source.brand_id if b.source else "", b.year, b.published.isoformat(), b.document_no]

    def outcome_rows(self):
        for b in self.brands:
            figures, end = b.programme.figures, b.last_year
            for year in range(end - OUTCOME_YEARS + 1, end + 1):
                yield [b.brand_id, year, *figures[year]]

    def exit_rows(self):
        for b in sorted((b for b in self.brands if b.exit), key=lambda b: (b.exit[0], b.brand_id)):  # type: ignore[index]
            when, reason, detail, document_no = b.exit  # type: ignore[misc]
            yield [b.brand_id, when.isoformat(), reason, detail, document_no]

    def review_rows(self):
        for b in self.brands:
            if b.review:
                _, document_no = self.lists.get(b.region, REVIEW_YEAR, "review", date(REVIEW_YEAR, 3, 1),
                                                date(REVIEW_YEAR, 9, 30), REVIEW_NUMBERS)
                yield [b.brand_id, REVIEW_YEAR, b.review, document_no]


def _org_code(rng: random.Random, prefix: str) -> str:
    """A 9-character organisation code (GB 11714) of the kind issued since 2015: letters
    in it, so that no credit code is an 18-digit run (which could pass for an ID number)."""
    chars = "0123456789" * 3 + "ABCDEFGHJKLMNPQRTUWXY"
    body = prefix + "".join(rng.choice(chars) for _ in range(6))
    value = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    check = 11 - sum(v * w for v, w in zip(value, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


# -- the whole country ----------------------------------------------------------------

#: the columns this module fills, per resource, in its own order (mapped onto the package's)
COLUMNS = {
    "regions": ["code", "name", "level", "parent_code"],
    "occupations": ["code", "name"],
    "institutions": ["institution_id", "name", "credit_code", "kind", "region_code", "address", "phone", "website",
                     "status", "status_date", "status_reason"],
    "brands": ["brand_id", "name", "institution_id", "occupation_code", "occupation_name", "tier", "region_code",
               "focus_area", "key_support", "key_support_category", "recommended_from", "published_year",
               "published_date", "document_no"],
    "outcomes": ["brand_id", "year", "trainees", "passed", "employed", "subsidised_key_group", "order_based"],
    "exits": ["brand_id", "exit_date", "reason", "detail", "document_no"],
    "criteria": ["scope_code", "tier", "min_trainees", "min_pass_rate", "min_employment_rate",
                 "min_subsidised_key_group", "min_order_based_share", "key_support_min_employment_rate",
                 "key_support_categories", "document_no", "notes"],
    "releases": ["year", "published_date", "document_no", "title", "notes"],
    "reviews": ["brand_id", "year", "result", "document_no"],
    "corrections": ["date", "table", "key", "field", "old_value", "new_value", "kind", "reason", "document_no"],
}


@dataclass
class Context:
    seed: int
    regions: Regions
    occupations: list[tuple[str, str]]  # (code, name)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Tables:
    """One csv.writer per resource, in the package's column order; counts the rows."""

    def __init__(self, datasets: Path, package: dict[str, Any]):
        self.files: dict[str, Any] = {}
        self.writers: dict[str, Any] = {}
        self.order: dict[str, list[int | None] | None] = {}
        self.counts: dict[str, int] = {}
        for resource in package["resources"]:
            name = resource["name"]
            fields = [f["name"] for f in resource["schema"]["fields"]]
            mine = COLUMNS[name]
            self.order[name] = None if fields == mine else [mine.index(f) if f in mine else None for f in fields]
            handle = (datasets / resource["path"]).open("w", encoding="utf-8", newline="")
            self.files[name] = handle
            self.writers[name] = csv.writer(handle, lineterminator="\n")
            self.writers[name].writerow(fields)
            self.counts[name] = 0

    def write(self, name: str, rows) -> None:
        order, before = self.order[name], self.counts[name]
        if order is not None:  # the package has other columns than these: map (blank for unknown ones)
            rows = ([row[i] if i is not None else "" for i in order] for row in rows)
        writer = self.writers[name]
        for row in rows:
            writer.writerow(row)
            before += 1
        self.counts[name] = before

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` by weight, largest remainders first (ties by code): exact and stable."""
    whole = sum(weights.values())
    shares = {code: total * w / whole for code, w in weights.items()}
    counts = {code: int(share) for code, share in shares.items()}
    rest = total - sum(counts.values())
    for code in sorted(shares, key=lambda c: (-(shares[c] - counts[c]), c))[:rest]:
        counts[code] += 1
    return counts


def criteria_rows(ctx: Context) -> list[list[Any]]:
    """Seed 000's thresholds set by every province for its province and prefecture tiers;
    county defaults set by each province (for counties directly under it) and each
    prefecture; a few counties set their own, looser on scale."""
    rng = random.Random(f"skillbrands-generate/{ctx.seed}/criteria")
    regions = ctx.regions
    rows: list[list[Any]] = []
    for province in sorted(PROVINCES):
        lists = Lists(rng, regions, province)
        doc = lists.get(province, 2022, "criteria", date(2022, 3, 1), date(2022, 5, 31), CRITERIA_NUMBERS)[1]
        children = regions.children.get(province, [])
        prefectures = [c for c in children if regions.by_code[c]["level"] == "prefecture"]
        tiers = ("province", "prefecture", "county") if prefectures else ("province", "county")
        for tier in tiers:
            rows.append(_criteria_row(province, tier, CRITERIA[tier], doc,
                                      f"{regions.name(province)}{_TIER_NOTE[tier]}（参照实施方案第三部分；测试数据）"))
        for prefecture in prefectures:
            counties = regions.children.get(prefecture, [])
            if not counties:
                continue
            doc = lists.get(prefecture, 2022, "criteria", date(2022, 3, 1), date(2022, 5, 31), CRITERIA_NUMBERS)[1]
            rows.append(_criteria_row(prefecture, "county", CRITERIA["county"], doc,
                                      "地市为所辖县（市、区）设定的县级参考标准，县另有规定的从其规定（测试数据）"))
            for county in counties:
                if rng.random() < 0.01:
                    doc = lists.get(county, 2022, "criteria", date(2022, 3, 1), date(2022, 5, 31), CRITERIA_NUMBERS)[1]
                    rows.append(_criteria_row(county, "county", (20, 80, 55, None, None), doc,
                                              "县自行设定的县级标准：放宽培训规模（测试数据）"))
    rows.sort(key=lambda r: (r[0], TIERS.index(r[1])))
    return rows


_TIER_NOTE = {"province": "省级品牌评价标准", "prefecture": "地市级品牌评价标准",
              "county": "县级品牌默认标准（适用于没有另定标准的县，包括省直辖的县级行政区）"}


def _criteria_row(scope: str, tier: str, thresholds: tuple, document_no: str, notes: str) -> list[Any]:
    trainees, pass_rate, employment, subsidised, order = thresholds
    return [scope, tier, trainees, pass_rate, employment, "" if subsidised is None else subsidised,
            "" if order is None else order, KEY_SUPPORT_RATE, ALL_CATEGORIES, document_no, notes]


def release_dates() -> dict[int, date]:
    """The national edition of each year closes after the last province list (20 December)."""
    return {year: date(year, 12, 28) for year in YEARS}


def package_descriptor(scale: str, seed: int) -> dict[str, Any]:
    """The repository's data package, retitled for the whole country and marked as generated."""
    package = json.loads(PACKAGE.read_text(encoding="utf-8"))
    package["name"] = "china-training-brands-generated"
    package["title"] = f"全国职业技能培训品牌目录（生成的测试数据，规模 {scale}）"
    package["description"] = (
        "按照各地职业技能培训品牌实施方案（评价标准参照内人社办发〔2022〕213号）发布的全国省级、地市级、县级职业技能培训品牌"
        f"目录的测试数据，由 python build.py generate --scale {scale} --seed {seed} 生成。行政区划和职业代码是真实代码；"
        "机构、品牌和数字均为程序随机生成的测试数据，仅用于测试，不代表任何真实机构。")
    settings = package.setdefault("skillbrands", {})
    settings.pop("province_code", None)  # the whole country: no single province
    settings["sample"] = True
    settings["sample_notice"] = "生成的测试数据：本站的机构、品牌和数字均由程序随机生成，仅用于测试，不代表任何真实机构。"
    settings["publisher"] = "各级人力资源和社会保障部门（测试数据）"
    tier_labels = {"province": "省级", "prefecture": "地市级", "county": "县级"}
    for resource in package["resources"]:
        if resource["name"] == "regions":
            resource["description"] = ("全国34个省级、333个地级、2846个县级行政区划代码（GB/T 2260，截至2024年12月31日）；"
                                       "省直辖的县级行政区以省为上级。")
        for spec in resource["schema"]["fields"]:
            if resource["name"] == "regions" and spec["name"] == "level":
                spec["enumLabels"] = {"province": "省级", "prefecture": "地级", "county": "县级"}
                spec["description"] = "province 省级、prefecture 地级（地级市、地区、自治州、盟）、county 县级（县、县级市、市辖区、旗）。"
            elif spec["name"] == "tier":
                spec["enumLabels"] = dict(tier_labels)
                spec["description"] = "province 省级、prefecture 地市级、county 县级。"
    return package


ABOUT = """title: 关于本测试数据
order: 10

**本站是生成的测试数据。**全部培训机构、品牌和数字都由程序随机生成，只用于测试网站在全国规模下的生成、校验和版面，不代表任何真实机构。行政区划代码（GB/T 2260，2024年）和职业代码（职业分类大典2022年版）是真实代码。

生成命令：`python build.py generate --scale {scale} --seed {seed}`（规模 S、M、L 分别约 2,000、20,000、200,000 个品牌）。

## 数据包括

- 全国 3,213 个行政区划和 75 个职业；
- 省级、地市级、县级三级品牌，部分品牌由下一级品牌推荐遴选而来；
- 每个品牌五个年度的培训人数、合格人数和就业人数（比例由人数计算）；
- 重点扶持品牌、少数略低于评价标准的品牌、暂停或移出的机构、退出的品牌和{review}年三年评估结果；
- 少数名称特意很长，或含有 `<`、`&`、引号、拉丁字母以及蒙古文、维吾尔文、藏文等文字，用于检验网页的转义和排版。
"""


def _refuse_symlinks(project: Path, package: dict[str, Any]) -> None:
    """Nothing generate deletes or overwrites may be a symlink: the files it points at,
    anywhere on the machine, would be deleted or overwritten. Checked before anything is written."""
    datasets, content = project / "datasets", project / "content"
    paths = [datasets, content, datasets / "datapackage.json", content / "about.md", datasets / "editions",
             *(datasets / resource["path"] for resource in package["resources"])]
    if not any(path.is_symlink() for path in (datasets, datasets / "editions")) and (datasets / "editions").is_dir():
        for top, folders, files in os.walk(datasets / "editions"):  # never enters a linked folder
            paths += [Path(top, name) for name in folders + files]
    linked = sorted({path.relative_to(project).as_posix() for path in paths if path.is_symlink()})
    if linked:
        shown = "、".join(linked[:5]) + (f" 等 {len(linked)} 处" if len(linked) > 5 else "")
        raise GenerateError(f"{project} 中的 {shown} 是符号链接；为免删除或覆盖它指向的项目以外的文件，"
                            "未生成任何文件。请删除这些符号链接，或指定一个新的空文件夹。")


def generate(project: Path, scale: str, seed: int = 1, force: bool = False) -> GenerateResult:
    """Write a complete national test project into `project` (created if missing)."""
    started = time.perf_counter()
    scale = scale.upper()
    if scale not in SCALES:
        raise GenerateError(f"规模“{scale}”无效，应为 S、M 或 L。")
    project = Path(project)
    if project.exists() and not project.is_dir():
        raise GenerateError(f"{project} 已存在且不是文件夹。")
    if project.is_dir() and any(project.iterdir()) and not force:
        raise GenerateError(f"文件夹 {project} 已存在且不为空；为免覆盖已有文件，请指定一个新的或空的文件夹，"
                            "或加 --force 覆盖其中生成的文件。")
    package = package_descriptor(scale, seed)
    _refuse_symlinks(project, package)
    datasets = project / "datasets"
    datasets.mkdir(parents=True, exist_ok=True)
    (project / "content").mkdir(exist_ok=True)
    frozen = datasets / "editions"
    if frozen.is_dir():  # --force over an older project: its frozen editions describe other data
        shutil.rmtree(frozen)  # no symlink inside (refused above); rmtree would not follow one anyway

    ctx = Context(seed, Regions(_read_csv(REFERENCE / "regions_cn_2024.csv")),
                  [(r["code"], r["name"]) for r in _read_csv(REFERENCE / "occupations_2022.csv")])
    (datasets / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (project / "content" / "about.md").write_text(ABOUT.format(scale=scale, seed=seed, review=REVIEW_YEAR),
                                                  encoding="utf-8")

    tables = Tables(datasets, package)
    try:
        tables.write("regions", ([r["code"], r["name"], r["level"], r["parent_code"]] for r in ctx.regions.rows))
        tables.write("occupations", ([code, name] for code, name in ctx.occupations))
        tables.write("criteria", criteria_rows(ctx))
        listed = dict.fromkeys(YEARS, 0)
        closes = release_dates()
        per_province = allocate(SCALES[scale], {code: spec[3] for code, spec in PROVINCES.items()})
        for province in sorted(per_province):
            plan = ProvincePlan(ctx, province, per_province[province])
            tables.write("institutions", (i.row for i in plan.institutions))
            tables.write("brands", plan.brand_rows())
            tables.write("outcomes", plan.outcome_rows())
            tables.write("exits", plan.exit_rows())
            tables.write("reviews", plan.review_rows())
            for b in plan.brands:
                for year, close in closes.items():
                    if b.published <= close and not (b.exit and b.exit[0] <= close):
                        listed[year] += 1
        rng = random.Random(f"skillbrands-generate/{seed}/releases")
        tables.write("releases", ([year, closes[year].isoformat(), f"人社厅发〔{year}〕{rng.randint(100, 180)}号",
                                   f"{year}年度全国职业技能培训品牌目录（测试数据）",
                                   f"截至{closes[year].isoformat()}各级公布且未退出的品牌{listed[year]:,}个（生成的测试数据）"]
                                  for year in YEARS))
    finally:
        tables.close()
    return GenerateResult(project, scale, seed, dict(tables.counts), time.perf_counter() - started)
