"""Generated national test data (build.py generate): deterministic, valid, awkward, buildable."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from skillbrands.creditcode import is_valid
from skillbrands.generate import GenerateError, generate
from skillbrands.pipeline import build_site, check_project

TODAY = date(2026, 6, 1)
OTHER_SCRIPTS = re.compile("[\u1800-\u18af\u0600-\u06ff\u0f00-\u0fff\uac00-\ud7af]")  # Mongolian, Arabic, Tibetan, Hangul
MARKUP = re.compile("[<>&\"']")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(project: Path, name: str) -> list[dict[str, str]]:
    with (project / "datasets" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("generated") / "s"
    generate(project, "S", seed=7)
    return project


def test_same_seed_same_bytes_other_seed_differs(small: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, "S", seed=7)
    files = tree_bytes(small)
    assert files == tree_bytes(again)
    assert "datasets/datapackage.json" in files and "content/about.md" in files
    assert not any(name.startswith(("site_templates/", "datasets/editions/")) for name in files)
    other = tmp_path / "other"
    generate(other, "S", seed=8)
    changed = tree_bytes(other)
    assert changed.keys() == files.keys()
    assert changed["datasets/brands.csv"] != files["datasets/brands.csv"]
    assert changed["datasets/outcomes.csv"] != files["datasets/outcomes.csv"]


def test_validates_without_errors(small: Path) -> None:
    issues = check_project(small, TODAY)
    assert [i for i in issues if i.severity == "error"] == []
    assert {i.code for i in issues} <= {"criteria-not-met", "edition-not-frozen"}
    assert len(issues) < 40


def test_counts(small: Path) -> None:
    brands = rows(small, "brands")
    assert len(brands) == 2_000
    assert len(rows(small, "regions")) == 3_213
    assert len(rows(small, "occupations")) == 75
    per_brand = Counter(o["brand_id"] for o in rows(small, "outcomes"))
    assert set(per_brand.values()) == {5} and per_brand.keys() == {b["brand_id"] for b in brands}
    assert 400 <= len(rows(small, "institutions")) <= 600
    exits = rows(small, "exits")
    assert 0.01 * 2_000 <= len(exits) <= 0.08 * 2_000
    assert {"review_failed", "violation", "institution_closed"} <= {e["reason"] for e in exits}
    reviews = rows(small, "reviews")
    exited = {e["brand_id"] for e in exits}
    assert {r["brand_id"] for r in reviews if r["result"] == "exited"} <= exited
    assert Counter(r["result"] for r in reviews).keys() == {"retained", "exited"}
    assert [r["year"] for r in rows(small, "releases")] == ["2022", "2023", "2024", "2025"]
    key_support = sum(b["key_support"] == "true" for b in brands)
    assert 0.05 * 2_000 <= key_support <= 0.10 * 2_000


def test_whole_country_and_tiers(small: Path) -> None:
    brands = {b["brand_id"]: b for b in rows(small, "brands")}
    regions = {r["code"]: r for r in rows(small, "regions")}
    assert all(regions[b["region_code"]]["level"] == b["tier"] for b in brands.values())
    provinces = {b["region_code"][:2] for b in brands.values()}
    assert len(provinces) == 31  # every province but Taiwan, Hong Kong and Macao
    tiers = Counter(b["tier"] for b in brands.values())
    assert tiers["county"] > tiers["prefecture"] > tiers["province"] > 0
    sources = {b["tier"]: brands[b["recommended_from"]]["tier"] for b in brands.values() if b["recommended_from"]}
    assert sources == {"province": "prefecture", "prefecture": "county"}
    chains = [b for b in brands.values() if b["recommended_from"] and brands[b["recommended_from"]]["recommended_from"]]
    assert chains and all(b["tier"] == "province" for b in chains)


def test_awkward_names_and_clean_codes(small: Path) -> None:
    for name in ("brands", "institutions"):
        names = [r["name"] for r in rows(small, name)]
        assert sum(len(n) >= 50 for n in names) >= 0.02 * len(names), name
        assert any(MARKUP.search(n) for n in names), name
        assert any(OTHER_SCRIPTS.search(n) for n in names), name
    ids = [r["brand_id"] for r in rows(small, "brands")] + [r["institution_id"] for r in rows(small, "institutions")]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in ids)
    institutions = rows(small, "institutions")
    assert all(is_valid(i["credit_code"]) for i in institutions)
    assert all(re.fullmatch(r"0\d{2,3}-\d{7,8}", i["phone"]) for i in institutions if i["phone"])
    assert {"suspended", "removed"} <= {i["status"] for i in institutions}


def test_builds(small: Path, tmp_path: Path) -> None:
    result = build_site(small, tmp_path / "site", TODAY)
    assert result.pages > 2_000
    brand = rows(small, "brands")[0]["brand_id"]
    assert (tmp_path / "site" / "brands" / brand / "index.html").is_file()
    assert (tmp_path / "site" / "about" / "index.html").is_file()
    # the browse listings stay light at national scale, whatever the names (limit of issue 15)
    listings = [p for folder in ("brands", "occupations", "tiers", "focus", "years", "regions")
                for p in (tmp_path / "site" / folder).rglob("index.html") if not p.parent.parent.name == "brands"]
    assert len(listings) > 1_000 and max(p.stat().st_size for p in listings) <= 100 * 1024


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(GenerateError):
        generate(tmp_path, "S")
    result = CliRunner().invoke(cli, ["generate", "--scale", "S", "--project", str(tmp_path)])
    assert result.exit_code == 1 and "不为空" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    result = CliRunner().invoke(cli, ["generate", "--scale", "XL", "--project", str(tmp_path / "new")])
    assert result.exit_code == 2


def test_cli_force_writes_and_summarises(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["generate", "--scale", "S", "--seed", "3", "--project", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert "品牌 2,000 个" in result.output and "秒" in result.output
    assert (tmp_path / "datasets" / "brands.csv").is_file() and (tmp_path / "notes.txt").is_file()
