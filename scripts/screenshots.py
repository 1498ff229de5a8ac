"""Screenshots of the main page types: 390 px (normal and 长辈模式) and 1366 px, first screen each.

    python scripts/screenshots.py OUT_FOLDER [--site BUILT_SITE]

Builds the sample site (unless --site names one already built), serves it on 127.0.0.1 and
drives Debian's Chromium (/usr/bin/chromium) through Playwright. The pictures are for people
to look at, not committed. Without CJK fonts Chinese shows as boxes:
`apt-get install fonts-noto-cjk`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from browser import chromium, serve  # noqa: E402
from test_accessibility import page_types  # noqa: E402  the same pages the tests check

from skillbrands.pipeline import build_site  # noqa: E402

SIZES = (("390", 390, False), ("390-large", 390, True), ("1366", 1366, False))


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--site", type=click.Path(exists=True, file_okay=False, path_type=Path), help="an already built site")
def main(out: Path, site: Path | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        if site is None:
            site = Path(scratch) / "site"
            build_site(REPO, site)
        types = page_types(REPO)
        with serve(site) as base, chromium() as browser:
            for suffix, width, large in SIZES:
                context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=width < 1000)
                page = context.new_page()
                page.goto(base + "index.html")
                page.evaluate("localStorage.clear()")
                if large:
                    page.check("#large-mode")  # remembered for the following pages
                for name, url in types.items():
                    page.goto(base + url + ("?q=焊工" if name == "search" else ""))
                    if name == "search":
                        page.wait_for_selector("#search-results li")
                    target = out / f"{name.replace(' ', '-')}-{suffix}.png"
                    page.screenshot(path=str(target))
                    click.echo(target)
                if width < 1000 and not large:  # the phone menu, open
                    page.goto(base + "index.html")
                    page.click("details.menu > summary")
                    page.screenshot(path=str(out / "menu-open-390.png"))
                context.close()


if __name__ == "__main__":
    main()
