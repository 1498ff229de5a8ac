"""Small inline SVG charts, drawn at build time: no JavaScript, no library at run time.

Each function returns plain geometry (numbers and labels); the templates turn it into
SVG and always put the same numbers in a table beside the chart, for screen readers and
for anyone who wants the figures rather than the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .model import Brand, Outcome

#: the drawing area of a rates chart, in SVG user units (the SVG scales to its container)
WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 10, 24


@dataclass(frozen=True)
class Point:
    year: int
    value: float  # a rate, 0..1
    x: float
    y: float


@dataclass(frozen=True)
class Series:
    name: str  # 就业率
    css: str  # the class that colours and dashes the line (colour is never the only signal)
    mark: str  # "circle" or "square": the shape of each point, a second signal beside the dash
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points))


@dataclass(frozen=True)
class RatesChart:
    series: tuple[Series, ...]
    years: tuple[tuple[int, float], ...]  # (year, x) of the axis labels
    grid: tuple[tuple[int, float], ...]  # (percent, y) of the horizontal lines
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT  # where the plot starts and ends across
    right: int = WIDTH - RIGHT


#: the rates drawn on a brand page, in legend order
RATES = (("employment_rate", "就业率", "line-employment", "circle"), ("pass_rate", "合格率", "line-pass", "square"))


def rates_chart(outcomes: Sequence[Outcome]) -> RatesChart | None:
    """Employment and pass rates over the years; None below two years (a line needs two points)."""
    rows = sorted(outcomes, key=lambda o: o.year)
    if len(rows) < 2:
        return None
    first, last = rows[0].year, rows[-1].year
    span = max(1, last - first)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(year: int) -> float:
        return LEFT + plot_w * (year - first) / span

    def y(rate: float) -> float:
        return TOP + plot_h * (1 - rate)

    series = tuple(
        Series(title, css, mark, tuple(Point(o.year, getattr(o, name), x(o.year), y(getattr(o, name)))
                                       for o in rows if getattr(o, name) is not None))
        for name, title, css, mark in RATES)
    return RatesChart(
        series=tuple(s for s in series if s.points),
        years=tuple((o.year, x(o.year)) for o in rows),
        grid=tuple((pct, y(pct / 100)) for pct in (0, 50, 100)),
    )


#: employment-rate bands of a distribution: (label, lowest rate included); the last band includes 100 %
BANDS = (("低于60%", 0.0), ("60%–70%", 0.6), ("70%–80%", 0.7), ("80%–90%", 0.8), ("90%及以上", 0.9))
BAR_HEIGHT, BAR_GAP, LABEL_W, BAR_W = 22, 6, 84, 200


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: float
    width: float


@dataclass(frozen=True)
class Distribution:
    bars: tuple[Bar, ...]
    counted: int  # brands with a latest employment rate
    without: int  # brands without one (no figures yet)
    width: int = LABEL_W + BAR_W + 56  # room for the count after the longest bar
    label_width: int = LABEL_W
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return len(self.bars) * (BAR_HEIGHT + BAR_GAP)


def band_of(rate: float) -> int:
    """The index in BANDS of an employment rate."""
    return max(i for i, (_, low) in enumerate(BANDS) if rate >= low)


def employment_distribution(brands: Iterable[Brand]) -> Distribution | None:
    """How many listed brands' latest employment rate falls in each band (exited brands are left
    out: they are history); None when no brand has one."""
    counts = [0] * len(BANDS)
    without = 0
    for brand in brands:
        if brand.exited:
            continue
        latest = brand.latest
        if latest is None or latest.employment_rate is None:
            without += 1
        else:
            counts[band_of(latest.employment_rate)] += 1
    counted = sum(counts)
    if not counted:
        return None
    most = max(counts)
    bars = tuple(Bar(label, n, i * (BAR_HEIGHT + BAR_GAP), BAR_W * n / most)
                 for i, ((label, _), n) in enumerate(zip(BANDS, counts)))
    return Distribution(bars, counted, without)
