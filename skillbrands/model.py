"""The directory as frozen, fully linked values, built from the validator's typed rows.

Nothing here reads files or knows about HTML: pages and downloads are functions of
a `Directory`. Rates are never stored, only computed from counts (`Outcome`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from .criteria import Assessment, CriteriaBook, assess, evaluated_year

TIERS = ("province", "prefecture", "county")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class Occupation:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Institution:
    institution_id: str
    name: str
    credit_code: str
    kind: str
    region: Region
    address: str | None
    phone: str | None
    website: str | None
    status: str
    status_date: date | None
    status_reason: str | None


def rate(part: int | None, whole: int) -> float | None:
    """part ÷ whole, or None when it cannot be computed (no count, nobody trained)."""
    if part is None or not whole:
        return None
    return part / whole


class _Rates:
    """Pass and employment rates of anything that holds the counts (never stored)."""

    __slots__ = ()
    trainees: int
    passed: int
    employed: int

    @property
    def pass_rate(self) -> float | None:
        return rate(self.passed, self.trainees)

    @property
    def employment_rate(self) -> float | None:
        return rate(self.employed, self.trainees)


@dataclass(frozen=True, slots=True)
class Outcome(_Rates):
    """One year of one brand's training, as counts; every rate derives from them."""

    year: int
    trainees: int
    passed: int
    employed: int
    subsidised_key_group: int | None
    order_based: int | None

    @property
    def order_based_share(self) -> float | None:
        return rate(self.order_based, self.trainees)


@dataclass(frozen=True, slots=True)
class Exit:
    exit_date: date
    reason: str
    detail: str | None
    document_no: str


@dataclass(frozen=True, slots=True)
class Review:
    """One three-yearly review of a brand (reviews.csv); an `exited` one is also in exits.csv."""

    year: int
    result: str  # retained / exited
    document_no: str


@dataclass(frozen=True, slots=True)
class Brand:
    brand_id: str
    name: str
    institution: Institution
    occupation_code: str | None
    occupation_name: str
    tier: str
    region: Region
    focus_area: str | None
    key_support: bool
    key_support_category: str | None
    recommended_from: str | None
    published_year: int
    published_date: date
    document_no: str
    outcomes: tuple[Outcome, ...]
    exit: Exit | None
    reviews: tuple[Review, ...] = ()  # by year

    @property
    def exited(self) -> bool:
        return self.exit is not None

    @property
    def latest(self) -> Outcome | None:
        return self.outcomes[-1] if self.outcomes else None


@dataclass(frozen=True, slots=True)
class Correction:
    """One row of corrections.csv: a published value corrected, changed or recorded late.

    `years` are the frozen editions that published `old_value` (set when the data are compared
    with them, corrections.reconcile); empty for a change no edition published (a phone number)."""

    date: date
    table: str  # brands, institutions, outcomes, exits, regions
    key: str  # the row's primary key, its columns joined by "/" (kdl-weld/2021)
    field: str
    old_value: str
    new_value: str
    kind: str  # correction 勘误, change 变更, late_record 补录
    reason: str
    document_no: str | None
    years: tuple[int, ...] = ()

    def concerns(self, table: str, key: str) -> bool:
        """About this row, or (for a brand) about one of its rows: its outcomes, its exit."""
        if self.table == table and self.key == key:
            return True
        return table == "brands" and self.table in ("outcomes", "exits") and self.key.split("/")[0] == key


@dataclass(frozen=True)
class Directory:
    """Everything a page or a download needs, with the indexes to find it fast."""

    meta: Mapping[str, Any]  # the data package descriptor (titles, licence, sources …)
    regions: Mapping[str, Region]
    occupations: Mapping[str, Occupation]
    institutions: Mapping[str, Institution]
    brands: Mapping[str, Brand]  # sorted by brand_id
    brands_by_institution: Mapping[str, tuple[Brand, ...]] = field(repr=False)
    brands_by_region: Mapping[str, tuple[Brand, ...]] = field(repr=False)  # published by that region
    brands_by_place: Mapping[str, tuple[Brand, ...]] = field(repr=False)  # run by an institution located there
    recommended_to: Mapping[str, tuple[Brand, ...]] = field(repr=False)  # higher-tier brands chosen from it
    region_children: Mapping[str, tuple[Region, ...]] = field(repr=False)
    assessments: Mapping[str, Assessment] = field(repr=False)  # by brand_id, the evaluated year
    labels: Mapping[tuple[str, str], Mapping[Any, str]] = field(repr=False)  # (resource, field) -> enumLabels
    criteria: CriteriaBook = field(repr=False)  # the book behind `assessments`, to judge other years alike
    criteria_rows: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)  # criteria.csv, typed, as published
    corrections: tuple[Correction, ...] = field(default=(), repr=False)  # corrections.csv, in file order

    def field_title(self, resource: str, name: str) -> str:
        """A column's Chinese title from the schema (the column's own name when it has none)."""
        for r in self.meta["resources"]:
            if r["name"] == resource:
                return next((f.get("title", name) for f in r["schema"]["fields"] if f["name"] == name), name)
        return name

    def corrections_of(self, table: str, key: str) -> list[Correction]:
        """The corrections about one brand (with its figures and exit) or one institution, by date."""
        return sorted((c for c in self.corrections if c.concerns(table, key)), key=lambda c: c.date)

    def former_names(self, table: str, key: str) -> list[tuple[str, date]]:
        """曾用名: the names a brand or institution had before a change (kind `change`), with the
        date each stopped being used, oldest first."""
        return sorted(((c.old_value, c.date) for c in self.corrections
                       if c.table == table and c.key == key and c.field == "name" and c.kind == "change" and c.old_value),
                      key=lambda pair: pair[1])

    def corrections_in(self, year: int) -> list[Correction]:
        """The corrections to what the frozen edition of `year` published."""
        return sorted((c for c in self.corrections if year in c.years), key=lambda c: c.date)

    @property
    def small_cohort(self) -> int:
        """Rates from fewer trainees than this carry a caveat (datapackage `skillbrands.small_cohort`)."""
        return int(self.meta.get("skillbrands", {}).get("small_cohort", 30))

    def assess(self, brand: Brand, year: int) -> Assessment:
        """Judge the brand's `year` figures against its tier's criteria (as `assessments` does)."""
        return assess_year(brand, year, self.criteria)

    def resource(self, name: str) -> Mapping[str, Any]:
        return next(r for r in self.meta["resources"] if r["name"] == name)

    def label(self, resource: str, field_name: str, value: Any) -> str:
        """The Chinese label of an enum value, from the schema's `enumLabels` (a page asks often)."""
        return self.labels[(resource, field_name)].get(value, "" if value is None else str(value))

    def chain(self, brand: Brand) -> list[Brand]:
        """The brands this one was recommended from, nearest first (cycle-safe)."""
        out: list[Brand] = []
        seen = {brand.brand_id}
        current = brand
        while current.recommended_from and current.recommended_from not in seen:
            current = self.brands[current.recommended_from]
            seen.add(current.brand_id)
            out.append(current)
        return out

    def ancestors(self, code: str) -> list[Region]:
        """The region and its parents, top first."""
        out = []
        while code:
            region = self.regions[code]
            out.append(region)
            code = region.parent_code or ""
        return out[::-1]

    def brands_under(self, code: str) -> Iterator[Brand]:
        """Brands published by the region or by any region below it."""
        yield from self.brands_by_region.get(code, ())
        for child in self.region_children.get(code, ()):
            yield from self.brands_under(child.code)

    def brands_located(self, code: str) -> Iterator[Brand]:
        """Brands run by institutions located in the region or in any region below it, whatever
        their tier: what one can learn there."""
        yield from self.brands_by_place.get(code, ())
        for child in self.region_children.get(code, ()):
            yield from self.brands_located(child.code)

    def prefecture_of(self, code: str) -> Region:
        """The prefecture a region lies in (itself, for a prefecture); the top region when it has none."""
        chain = self.ancestors(code)
        return next((r for r in chain if r.level == "prefecture"), chain[0])

    def place_name(self, code: str) -> str:
        """Where a region is, for a list row: its names below the province (包头市 昆都仑区)."""
        chain = self.ancestors(code)
        return " ".join(r.name for r in chain[1:]) or chain[0].name

    @property
    def exits(self) -> list[Brand]:
        return sorted((b for b in self.brands.values() if b.exit),
                      key=lambda b: (b.exit.exit_date, b.brand_id), reverse=True)  # type: ignore[union-attr]

    @property
    def latest_year(self) -> int | None:
        return max((b.published_year for b in self.brands.values()), default=None)

    @property
    def latest_outcome_year(self) -> int | None:
        return max((o.year for b in self.brands.values() for o in b.outcomes), default=None)

    def tier_figures(self, year: int) -> list["TierFigures"]:
        """Per tier, the brands still listed and their pooled figures for `year`.

        Pooled within a tier only: one programme can be a brand at several tiers, so
        adding tiers together would count its trainees twice.
        """
        out = []
        for tier in TIERS:
            listed = [b for b in self.brands.values() if b.tier == tier and not b.exit]
            rows = [o for b in listed for o in b.outcomes if o.year == year]
            out.append(TierFigures(tier, len(listed), len(rows), sum(o.trainees for o in rows),
                                   sum(o.passed for o in rows), sum(o.employed for o in rows)))
        return out


@dataclass(frozen=True, slots=True)
class TierFigures(_Rates):
    tier: str
    brands: int
    reporting: int  # brands with figures for the year
    trainees: int
    passed: int
    employed: int


def _freeze(groups: dict[str, list[Any]]) -> Mapping[str, tuple[Any, ...]]:
    return MappingProxyType({key: tuple(values) for key, values in sorted(groups.items())})


def build_directory(meta: Mapping[str, Any], tables: Mapping[str, list[dict[str, Any]]],
                    assessments: Mapping[str, Assessment] | None = None) -> Directory:
    """Link the typed rows of a valid package into a Directory.

    `assessments` are the verdicts of the assess stage (criteria.assess_brands) on these rows;
    a brand missing there (a caller that changed the rows, or passed none) is assessed here."""
    regions = {r["code"]: Region(r["code"], r["name"], r["level"], r["parent_code"]) for r in tables["regions"]}
    occupations = {o["code"]: Occupation(o["code"], o["name"]) for o in tables["occupations"]}
    institutions = _institutions(tables["institutions"], regions)

    outcomes: dict[str, list[Outcome]] = defaultdict(list)
    for o in tables["outcomes"]:
        outcomes[o["brand_id"]].append(Outcome(
            o["year"], o["trainees"], o["passed"], o["employed"], o["subsidised_key_group"], o["order_based"]))
    exits = {e["brand_id"]: Exit(e["exit_date"], e["reason"], e["detail"], e["document_no"])
             for e in tables.get("exits", [])}
    reviews: dict[str, list[Review]] = defaultdict(list)
    for r in tables.get("reviews", []):
        reviews[r["brand_id"]].append(Review(r["year"], r["result"], r["document_no"]))

    brands: dict[str, Brand] = {}
    for b in sorted(tables["brands"], key=lambda row: row["brand_id"]):
        brands[b["brand_id"]] = Brand(
            brand_id=b["brand_id"], name=b["name"], institution=institutions[b["institution_id"]],
            occupation_code=b["occupation_code"], occupation_name=b["occupation_name"], tier=b["tier"],
            region=regions[b["region_code"]], focus_area=b["focus_area"], key_support=bool(b["key_support"]),
            key_support_category=b["key_support_category"], recommended_from=b["recommended_from"],
            published_year=b["published_year"], published_date=b["published_date"], document_no=b["document_no"],
            outcomes=tuple(sorted(outcomes.get(b["brand_id"], ()), key=lambda o: o.year)),
            exit=exits.get(b["brand_id"]),
            reviews=tuple(sorted(reviews.get(b["brand_id"], ()), key=lambda r: r.year)),
        )

    by_institution: dict[str, list[Brand]] = defaultdict(list)
    by_region: dict[str, list[Brand]] = defaultdict(list)
    by_place: dict[str, list[Brand]] = defaultdict(list)
    recommended_to: dict[str, list[Brand]] = defaultdict(list)
    for brand in brands.values():
        by_institution[brand.institution.institution_id].append(brand)
        by_region[brand.region.code].append(brand)
        by_place[brand.institution.region.code].append(brand)
        if brand.recommended_from:
            recommended_to[brand.recommended_from].append(brand)
    children: dict[str, list[Region]] = defaultdict(list)
    for region in sorted(regions.values(), key=lambda r: r.code):
        if region.parent_code:
            children[region.parent_code].append(region)

    book = criteria_book(meta, tables, regions)
    known = assessments or {}
    assessments = {brand_id: known.get(brand_id) or assess_brand(brand, book) for brand_id, brand in brands.items()}

    return Directory(
        meta=MappingProxyType(dict(meta)),
        regions=MappingProxyType(regions),
        occupations=MappingProxyType(occupations),
        institutions=MappingProxyType(dict(sorted(institutions.items()))),
        brands=MappingProxyType(brands),
        brands_by_institution=_freeze(by_institution),
        brands_by_region=_freeze(by_region),
        brands_by_place=_freeze(by_place),
        recommended_to=_freeze(recommended_to),
        region_children=_freeze(children),
        assessments=MappingProxyType(assessments),
        labels=MappingProxyType({(r["name"], f["name"]): f.get("enumLabels", {})
                                 for r in meta["resources"] for f in r["schema"]["fields"]}),
        criteria=book,
        corrections=corrections_from(tables.get("corrections", [])),
        criteria_rows=tuple(MappingProxyType(dict(row)) for row in sorted(
            tables.get("criteria", []), key=lambda row: (row["scope_code"], TIERS.index(row["tier"])
                                                         if row["tier"] in TIERS else len(TIERS)))),
    )


def corrections_from(rows: list[dict[str, Any]]) -> tuple[Correction, ...]:
    """corrections.csv as values, in file order (blank cells as empty text)."""
    def text(row: dict[str, Any], name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value)

    return tuple(Correction(row["date"], text(row, "table"), text(row, "key"), text(row, "field"),
                            text(row, "old_value"), text(row, "new_value"), text(row, "kind"), text(row, "reason"),
                            row.get("document_no")) for row in rows)


def criteria_book(meta: Mapping[str, Any], tables: Mapping[str, list[dict[str, Any]]],
                  regions: Mapping[str, Any]) -> CriteriaBook:
    """The criteria table, resolved up the region tree, with the schema's category labels."""
    brands = next(r for r in meta["resources"] if r["name"] == "brands")
    field_ = next(f for f in brands["schema"]["fields"] if f["name"] == "key_support_category")

    def parent_of(code: str) -> str | None:
        region = regions.get(code)
        if region is None:
            return None
        return region.parent_code if hasattr(region, "parent_code") else region.get("parent_code")

    return CriteriaBook(tables.get("criteria", []), parent_of, field_.get("enumLabels", {}))


def assess_brand(brand: Brand, book: CriteriaBook) -> Assessment:
    return assess_year(brand, evaluated_year(brand.published_year), book)


def assess_year(brand: Brand, year: int, book: CriteriaBook) -> Assessment:
    """Judge one brand's `year` figures (none: no_data) against its tier's criteria."""
    outcome = next((o for o in brand.outcomes if o.year == year), None)
    return assess(
        tier=brand.tier, region_code=brand.region.code, year=year,
        outcome=None if outcome is None else {
            "trainees": outcome.trainees, "passed": outcome.passed, "employed": outcome.employed,
            "subsidised_key_group": outcome.subsidised_key_group, "order_based": outcome.order_based},
        key_support=brand.key_support, key_support_category=brand.key_support_category, book=book,
    )


def _institutions(rows: list[dict[str, Any]], regions: Mapping[str, Region]) -> dict[str, Institution]:
    out = {}
    columns = [f.name for f in fields(Institution) if f.name != "region"]  # staff may add columns of their own
    for row in rows:
        values = {k: row[k] for k in columns}
        out[row["institution_id"]] = Institution(**values, region=regions[row["region_code"]])
    return out
