"""The facts of every brand page, read straight from a project's CSVs with the csv
module, for the anchors (Hugo, the plain Jinja2 loop): name, institution, occupation,
tier, region, publication date, document number, and the yearly table with rates
computed from the counts, as our own brand page shows them.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _rate(part: str, whole: int) -> float | None:
    return int(part) / whole if part and whole else None


def brand_facts(project: Path) -> list[dict[str, Any]]:
    """One dict per brand, in file order."""
    datasets = Path(project) / "datasets"
    descriptor = json.loads((datasets / "datapackage.json").read_text(encoding="utf-8-sig"))
    brand_fields = next(r for r in descriptor["resources"] if r["name"] == "brands")["schema"]["fields"]
    tiers = next(f for f in brand_fields if f["name"] == "tier").get("enumLabels", {})
    regions = {row["code"]: row["name"] for row in _rows(datasets / "regions.csv")}
    institutions = {row["institution_id"]: row["name"] for row in _rows(datasets / "institutions.csv")}
    years: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(datasets / "outcomes.csv"):
        trainees = int(row["trainees"])
        years[row["brand_id"]].append({
            "year": int(row["year"]), "trainees": trainees, "passed": int(row["passed"]),
            "pass_rate": _rate(row["passed"], trainees), "employed": int(row["employed"]),
            "employment_rate": _rate(row["employed"], trainees),
        })
    return [{
        "id": row["brand_id"], "name": row["name"], "institution": institutions.get(row["institution_id"], ""),
        "occupation": row["occupation_name"], "tier": tiers.get(row["tier"], row["tier"]),
        "region": regions.get(row["region_code"], ""), "published": row["published_date"],
        "document_no": row["document_no"], "years": sorted(years.get(row["brand_id"], []), key=lambda y: y["year"]),
    } for row in _rows(datasets / "brands.csv")]


def count_rows(path: Path) -> int:
    """Data rows of a CSV file (quoted newlines handled)."""
    if not path.exists():
        return 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
