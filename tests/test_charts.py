"""The inline SVG charts on the built sample: the numbers drawn equal the numbers in the table
beside them, and both equal a plain scan of the CSV files."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from test_browse import Data, rows_of

BANDS = ("低于60%", "60%–70%", "70%–80%", "80%–90%", "90%及以上")


@pytest.fixture(scope="module")
def data(repo: Path) -> Data:
    return Data(repo)


def html_of(site: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((site / url / "index.html").read_text(encoding="utf-8"), "html.parser")


def pct(part: str, whole: str) -> str:
    return f"{int(part) / int(whole) * 100:.1f}%"


def test_brand_charts_draw_the_rates_of_the_table_and_the_csv(sample_site: Path, repo: Path) -> None:
    by_brand: dict[str, list[dict[str, str]]] = defaultdict(list)
    for o in rows_of(repo, "outcomes"):
        by_brand[o["brand_id"]].append(o)
    charted = 0
    for brand in rows_of(repo, "brands"):
        html = html_of(sample_site, f"brands/{brand['brand_id']}")
        years = sorted(by_brand[brand["brand_id"]], key=lambda o: int(o["year"]))
        svg = html.select_one("figure.chart svg")
        if len(years) < 2:
            assert svg is None, brand["brand_id"]  # one point is not a line
            continue
        charted += 1
        assert svg["role"] == "img" and svg.select_one("title").get_text()
        expected = {
            "就业率": [(o["year"], pct(o["employed"], o["trainees"])) for o in years],
            "合格率": [(o["year"], pct(o["passed"], o["trainees"])) for o in years],
        }
        table = html.select_one("table.outcomes")
        head = [th.get_text() for th in table.select("thead th")]
        shown = {name: [(tr.th.get_text(), tr.find_all(["th", "td"])[head.index(name)].get_text().rstrip("*"))
                        for tr in table.select("tbody tr")] for name in expected}
        for name, want in expected.items():
            series = svg.select_one(f"g[data-series='{name}']")
            drawn = [(m["data-year"], m["data-rate"]) for m in series.select("[data-rate]")]
            assert drawn == want == shown[name], (brand["brand_id"], name)
            # a higher rate is drawn higher up (smaller y), and each mark sits on the line's path
            ys = [float(m.get("cy") or float(m["y"]) + 3) for m in series.select("[data-rate]")]
            rates = [float(r.rstrip("%")) for _, r in want]
            for (r1, y1), (r2, y2) in zip(zip(rates, ys), zip(rates[1:], ys[1:])):
                assert (r1 - r2) * (y2 - y1) >= 0
            path = series.select_one("path")["d"]
            assert path.count("L") == len(want) - 1
    assert charted > 50  # most sample brands have several years: the check is not vacuous


def latest_rate(data: Data, brand_id: str) -> float | None:
    o = data.latest.get(brand_id)
    return None if o is None or not int(o["trainees"]) else int(o["employed"]) / int(o["trainees"])


def bands(data: Data, brand_ids) -> Counter:
    lows = (0.0, 0.6, 0.7, 0.8, 0.9)
    counts: Counter = Counter({b: 0 for b in BANDS})
    for brand_id in brand_ids:
        rate = latest_rate(data, brand_id)
        if brand_id in data.exited or rate is None:
            continue
        counts[BANDS[max(i for i, low in enumerate(lows) if rate >= low)]] += 1
    return counts


def drawn_and_tabled(html: BeautifulSoup) -> tuple[Counter, Counter]:
    section = html.select_one("section.distribution")
    assert section is not None
    drawn = Counter({g["data-band"]: int(g["data-count"]) for g in section.select("svg g[data-band]")})
    tabled = Counter({tr.th.get_text(): int(tr.td.get_text()) for tr in section.select("table tbody tr")})
    # the bar's label and its printed count are the text of the SVG, too
    for g in section.select("svg g[data-band]"):
        assert [t.get_text() for t in g.select("text")] == [g["data-band"], g["data-count"]]
    return drawn, tabled


def test_region_pages_show_the_distribution_of_employment_rates(sample_site: Path, data: Data) -> None:
    checked = 0
    for code in data.regions:
        if not data.located_in(code):
            continue
        drawn, tabled = drawn_and_tabled(html_of(sample_site, f"regions/{code}"))
        assert drawn == tabled == bands(data, data.located_in(code)), code
        checked += 1
    assert checked > 5


def test_tier_pages_show_the_distribution_of_employment_rates(sample_site: Path, data: Data) -> None:
    for tier in {b["tier"] for b in data.brands.values()}:
        drawn, tabled = drawn_and_tabled(html_of(sample_site, f"tiers/{tier}"))
        expected = bands(data, [b for b, row in data.brands.items() if row["tier"] == tier])
        assert drawn == tabled == expected, tier
        assert sum(expected.values()) > 0
        # the sorted views repeat the rows, not the summary
        assert html_of(sample_site, f"tiers/{tier}/by-rate").select_one("section.distribution") is None
