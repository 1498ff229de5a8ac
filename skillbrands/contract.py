"""What the engine reads from the data package, in one table: resources, columns, keys, settings.

`model.build_directory`, `rules.py`, `export.py`, `editions.py`, `criteria.py` and the
templates read these tables and columns by name, with these types; a descriptor that
drops one, retypes it or loosens a constraint the engine relies on would crash the
build or silently publish wrong pages. `descriptor.py` checks `datapackage.json`
against this table before anything reads a row. Columns not listed here are free:
staff may add their own, and they are validated and ignored by the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TIERS = ("province", "prefecture", "county")


@dataclass(frozen=True)
class Column:
    """A column the engine reads: the types it accepts, whether it may be blank, the values it knows."""

    types: tuple[str, ...]
    required: bool = False  # the engine reads the value without a None check
    enum: tuple[str, ...] | None = None  # the engine compares against these values


def text(required: bool = False, enum: tuple[str, ...] | None = None) -> Column:
    return Column(("string",), required, enum)


def integer(required: bool = False) -> Column:
    return Column(("integer",), required)


def number() -> Column:
    return Column(("integer", "number"))  # read through Fraction(str(value)): either works


def day(required: bool = False) -> Column:
    return Column(("date",), required)


@dataclass(frozen=True)
class Table:
    """A resource the engine reads: its columns, primary key and the references it follows."""

    columns: dict[str, Column]
    key: tuple[str, ...]
    #: column -> (resource, column) the engine looks the value up in (so the foreign key must be declared)
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    optional: bool = False  # the engine works without this resource (an empty table)


TABLES: dict[str, Table] = {
    "regions": Table(
        {"code": text(True), "name": text(True), "level": text(True, TIERS), "parent_code": text()},
        key=("code",), references={"parent_code": ("regions", "code")}),
    "occupations": Table({"code": text(True), "name": text(True)}, key=("code",)),
    "institutions": Table(
        {"institution_id": text(True), "name": text(True), "credit_code": text(True), "kind": text(True),
         "region_code": text(True), "address": text(), "phone": text(), "website": text(),
         "status": text(True, ("active", "suspended", "removed")), "status_date": day(), "status_reason": text()},
        key=("institution_id",), references={"region_code": ("regions", "code")}),
    "brands": Table(
        {"brand_id": text(True), "name": text(True), "institution_id": text(True), "occupation_code": text(),
         "occupation_name": text(True), "tier": text(True, TIERS), "region_code": text(True),
         "focus_area": text(), "key_support": Column(("boolean",), True), "key_support_category": text(),
         "recommended_from": text(), "published_year": integer(True), "published_date": day(True),
         "document_no": text(True)},
        key=("brand_id",),
        references={"institution_id": ("institutions", "institution_id"), "region_code": ("regions", "code"),
                    "recommended_from": ("brands", "brand_id")}),
    "outcomes": Table(
        {"brand_id": text(True), "year": integer(True), "trainees": integer(True), "passed": integer(True),
         "employed": integer(True), "subsidised_key_group": integer(), "order_based": integer()},
        key=("brand_id", "year"), references={"brand_id": ("brands", "brand_id")}),
    "exits": Table(
        {"brand_id": text(True), "exit_date": day(True), "reason": text(True), "detail": text(),
         "document_no": text(True)},
        key=("brand_id",), references={"brand_id": ("brands", "brand_id")}),
    "criteria": Table(
        {"scope_code": text(True), "tier": text(True, TIERS), "min_trainees": number(), "min_pass_rate": number(),
         "min_employment_rate": number(), "min_subsidised_key_group": number(),
         "min_order_based_share": number(), "key_support_min_employment_rate": number(),
         "key_support_categories": text(), "document_no": text(True)},
        key=("scope_code", "tier"), references={"scope_code": ("regions", "code")}, optional=True),
    "releases": Table(
        {"year": integer(True), "published_date": day(True), "document_no": text(True), "title": text(True),
         "notes": text()},
        key=("year",), optional=True),
    "reviews": Table(
        {"brand_id": text(True), "year": integer(True), "result": text(True, ("retained", "exited")),
         "document_no": text(True)},
        key=("brand_id", "year"), references={"brand_id": ("brands", "brand_id")}, optional=True),
    "corrections": Table(
        {"date": day(True), "table": text(True, ("brands", "institutions", "outcomes", "exits", "regions")),
         "key": text(True), "field": text(True), "old_value": text(), "new_value": text(),
         "kind": text(True, ("correction", "change", "late_record")), "reason": text(), "document_no": text()},
        key=("date", "table", "key", "field"), optional=True),
}


@dataclass(frozen=True)
class Setting:
    """A key of the descriptor's `skillbrands` object: its JSON type and what it means."""

    kind: type
    meaning: str
    minimum: int | None = None


#: the `skillbrands` settings object (model.small_cohort, export.metadata, the templates' `settings`)
SETTINGS: dict[str, Setting] = {
    "sample": Setting(bool, "是否为示例数据（true/false）"),
    "sample_notice": Setting(str, "示例数据的提示文字"),
    "publisher": Setting(str, "发布单位名称"),
    "province_code": Setting(str, "本省行政区划代码（仅作说明）"),
    "small_cohort": Setting(int, "小样本人数线（正整数，如 30）", minimum=1),
}

#: top-level descriptor keys the site shows, with the JSON type they must have
TOP_LEVEL: dict[str, type] = {
    "name": str, "title": str, "description": str, "version": str, "homepage": str, "profile": str,
    "licenses": list, "sources": list, "skillbrands": dict, "publisher": dict,
}

#: the optional `publisher` object (the footer of every page): name, then how to reach it
PUBLISHER_FIELDS = ("name", "address", "phone", "email", "feedback")
