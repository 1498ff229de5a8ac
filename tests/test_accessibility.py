"""The built sample site as a phone, an older reader and a checker see it: in Debian's Chromium
(Playwright) and the Nu HTML Checker.

- no page scrolls sideways at 320 CSS px (WCAG 1.4.10), in either mode;
- the employment rate is on screen within 390 px on every listing of brands;
- header, banner and navigation fit in the top quarter of a 390×844 screen, and the menu
  opens and closes without JavaScript;
- 长辈模式 is on every page, works without JavaScript (≥ 20 px text, ≥ 60 px targets) and,
  with it, is remembered from page to page;
- axe-core finds no critical or serious violation on any page type, at 390 and 1366 px, in
  both modes; vnu.jar finds no error in any built HTML file.

The page of each type is picked from the data (the first exited brand, a prefecture with
brands …), never from the output. axe-core and vnu.jar come from package.json (`npm ci`);
`.ci/run` installs them and a Java runtime.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from browser import CHROMIUM, chromium, serve
from skillbrands.browse import by_occupation
from skillbrands.pipeline import prepare

REPO = Path(__file__).resolve().parent.parent
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium")
PHONE = {"width": 390, "height": 844}


def page_types(repo: Path) -> dict[str, str]:
    """One URL (site-relative) per page type, chosen from the data."""
    prepared = prepare(repo)
    directory = prepared.directory
    brands = list(directory.brands.values())
    listed = next(b for b in brands if not b.exit)
    exited = next(b for b in brands if b.exit)
    institution = next(iter(directory.brands_by_institution))
    prefecture = next(r for r in directory.regions.values()
                      if r.level == "prefecture" and next(directory.brands_located(r.code), None))
    occupation = next(iter(by_occupation(directory)))
    types = {
        "home": "", "brands": "brands/", "brand": f"brands/{listed.brand_id}/", "exited brand": f"brands/{exited.brand_id}/",
        "institutions": "institutions/", "institution": f"institutions/{institution}/",
        "regions": "regions/", "region": f"regions/{prefecture.code}/",
        "occupations": "occupations/", "occupation": f"occupations/{occupation}/",
        "listing": f"tiers/{listed.tier}/", "exits": "exits/", "data": "data/", "releases": "releases/",
        "markdown": f"{prepared.content[0].slug}/", "search": "search/",
    }
    if prepared.editions:
        types["release"] = f"releases/{prepared.editions[-1].year}/"
    return {**{name: f"{url}index.html" for name, url in types.items()}, "not found": "404.html"}


#: pages that list brands: each row must show its employment rate within 390 px
LISTINGS = ("brands", "institution", "region", "occupation", "listing")


@pytest.fixture(scope="module")
def site(sample_site: Path) -> Path:
    return sample_site


@pytest.fixture(scope="module")
def types(repo: Path) -> dict[str, str]:
    return page_types(repo)


@pytest.fixture(scope="module")
def base(site: Path):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install chromium")
    with chromium() as launched:
        yield launched


def open_page(browser, base: str, url: str, width: int, large: bool = False, javascript: bool = True):
    context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=width < 1000,
                                  has_touch=width < 1000, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(base + url)
    if large:
        page.check("#large-mode")  # as a reader would: tap the header's 长辈模式 box
    return context, page


def large_on(page) -> bool:
    return page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20


# -- the markup of every page -------------------------------------------------------------------------

def test_every_page_has_large_mode_and_a_collapsible_menu(site: Path) -> None:
    from bs4 import BeautifulSoup

    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 100
    for path in pages:
        html = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        box = html.select_one("header input#large-mode[type=checkbox]")
        assert box is not None, path
        assert "长辈模式" in html.select_one("label[for=large-mode]").get_text(), path
        assert html.select_one("header details.menu > summary") and html.select_one("details.menu nav a"), path
        for region in html.select(".table-wrap"):  # scrolling tables: focusable and named
            assert region.get("role") == "region" and region.get("tabindex") == "0" and region.get("aria-label"), path


def test_footer_names_the_publisher_and_the_date_of_the_latest_release(site: Path, repo: Path) -> None:
    import csv

    from bs4 import BeautifulSoup

    package = json.loads((repo / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    publisher = package["publisher"]
    with open(repo / "datasets" / "releases.csv", encoding="utf-8-sig", newline="") as f:
        latest = max(row["published_date"] for row in csv.DictReader(f))
    for path in (site / "index.html", site / "brands" / "index.html", site / "data" / "index.html"):
        html = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        footer = html.select_one("footer")
        text = footer.get_text(" ", strip=True)
        assert publisher["name"] in text and publisher["address"] in text, path
        assert f"数据更新于 {latest}" in text and footer.select_one("time")["datetime"] == latest
        links = {a["href"] for a in footer.select("address a")}
        assert {f"tel:{publisher['phone']}", f"mailto:{publisher['email']}", publisher["feedback"]} <= links
        icon = html.select_one("link[rel=icon]")
        assert (path.parent / icon["href"]).is_file() and icon["type"] == "image/svg+xml"


# -- Chromium: width, key figures, header ---------------------------------------------------------------

@needs_chromium
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_no_page_scrolls_sideways_at_320(browser, base: str, types: dict[str, str], large: bool) -> None:
    wide = {}
    for name, url in types.items():
        context, page = open_page(browser, base, url, 320, large)
        assert large_on(page) == large
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide[name] = (url, width)
        context.close()
    assert wide == {}


@needs_chromium
def test_employment_rate_is_on_a_390px_screen_on_every_listing(browser, base: str, types: dict[str, str]) -> None:
    for name in (*LISTINGS, "brand"):
        context, page = open_page(browser, base, types[name], 390)
        # each rate cell: inside the screen's width and not hidden under anything (a clipped
        # overflow, a neighbouring cell): what is at its centre is the cell itself
        cells = page.evaluate("""() => [...document.querySelectorAll("td.rate")].map((cell) => {
            cell.scrollIntoView({block: "center", inline: "nearest"});
            const r = cell.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return {text: cell.textContent.trim(), left: r.left, right: r.right, width: r.width,
                    seen: !!hit && cell.contains(hit), scrolled: window.scrollX};
        })""")
        assert cells, name
        for cell in cells:
            assert cell["seen"] and cell["left"] >= 0 and cell["right"] <= 390 and cell["scrolled"] == 0, (name, cell)
            assert cell["text"] == "—" or cell["text"].rstrip("*").endswith("%"), (name, cell)
        context.close()


@needs_chromium
def test_header_takes_at_most_a_quarter_of_a_phone_screen(browser, base: str, types: dict[str, str]) -> None:
    for name, url in types.items():
        context, page = open_page(browser, base, url, PHONE["width"])
        top = page.evaluate("document.querySelector('main').getBoundingClientRect().top")
        assert top <= PHONE["height"] / 4, (name, top)
        context.close()


@needs_chromium
def test_menu_opens_and_closes_without_javascript(browser, base: str) -> None:
    context, page = open_page(browser, base, "index.html", 390, javascript=False)
    link = page.locator("nav[aria-label=主导航] a").first
    assert not link.is_visible()
    page.click("details.menu > summary")
    assert link.is_visible()
    bottom = page.evaluate("document.querySelector('nav[aria-label=主导航] li:last-child').getBoundingClientRect().bottom")
    assert bottom <= PHONE["height"]  # every entry of the open menu is on the first screen
    page.keyboard.press("Enter")  # the summary keeps the focus: Enter closes it again
    assert not link.is_visible()
    context.close()
    context, page = open_page(browser, base, "index.html", 1366, javascript=False)
    assert page.locator("nav[aria-label=主导航] a").first.is_visible()  # wide screens: the links, no menu button
    context.close()


# -- 长辈模式 ------------------------------------------------------------------------------------------

TARGETS = ("header a, header button, header input[type=search], header summary, header label.mode-switch, nav[aria-label=主导航] a, "
           ".pager a, .cards .lead a, .toc a, .trades a, .views a, .links a")


@needs_chromium
def test_large_mode_without_javascript(browser, base: str, types: dict[str, str]) -> None:
    for name in ("home", "brands", "brand"):
        context, page = open_page(browser, base, types[name], 390, javascript=False)
        normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        page.check("#large-mode")
        style = page.evaluate("""() => { const s = getComputedStyle(document.body);
            return {size: parseFloat(s.fontSize), leading: parseFloat(s.lineHeight) / parseFloat(s.fontSize)}; }""")
        assert style["size"] >= 20 and style["size"] > normal and style["leading"] >= 1.8, (name, style)
        page.click("details.menu > summary")
        small = page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
            .filter((e) => e.getClientRects().length && !e.closest(".visually-hidden")
                           && getComputedStyle(e).visibility !== "hidden")
            .map((e) => [e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height])
            .filter(([, h]) => h < 60)""", TARGETS)
        assert small == [], name
        context.close()


@needs_chromium
def test_large_mode_is_remembered_with_javascript(browser, base: str, types: dict[str, str]) -> None:
    context, page = open_page(browser, base, types["home"], 390, large=True)
    page.goto(base + types["brand"])
    assert page.is_checked("#large-mode") and large_on(page)
    page.uncheck("#large-mode")
    page.goto(base + types["home"])
    assert not page.is_checked("#large-mode") and not large_on(page)
    context.close()


# -- axe-core and the Nu HTML Checker ----------------------------------------------------------------------

@needs_chromium
@pytest.mark.skipif(not AXE.exists(), reason="node_modules/axe-core is missing: run `npm ci` (.ci/run does)")
@pytest.mark.parametrize("width", [390, 1366])
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_axe_finds_no_serious_violation(browser, base: str, types: dict[str, str], width: int, large: bool) -> None:
    source = AXE.read_text(encoding="utf-8")
    found = {}
    for name, url in types.items():
        if name == "search":
            url += "?q=焊工"  # with results on the page
        context, page = open_page(browser, base, url, width, large)
        if name == "search":
            page.wait_for_selector("#search-results li")
        assert large_on(page) == large
        page.add_script_tag(content=source)
        violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
            .violations.filter((v) => v.impact === "critical" || v.impact === "serious")
            .map((v) => [v.id, v.impact, v.nodes.slice(0, 3).map((n) => n.target.join(" "))])""")
        if violations:
            found[name] = violations
        context.close()
    assert found == {}


@pytest.mark.skipif(JAVA is None, reason="no Java runtime: apt-get install default-jre-headless (.ci/run does)")
@pytest.mark.skipif(not VNU.exists(), reason="node_modules/vnu-jar is missing: run `npm ci` (.ci/run does)")
def test_nu_html_checker_finds_no_error(site: Path) -> None:
    run = subprocess.run([JAVA, "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html", str(site)],
                         capture_output=True, text=True, timeout=600)
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    errors = [(m.get("url", "").rsplit(str(site), 1)[-1], m.get("message")) for m in messages
              if m.get("type") == "error" or m.get("subType") == "fatal"]
    assert errors == [] and run.returncode == 0, errors[:20]
