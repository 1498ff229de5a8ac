"""The 404 page, as a reader meets it: served by the web server for a missing address at any
depth, under a sub-path, in Debian's Chromium; styled and with working links either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import CHROMIUM, chromium, serve

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium")
PREFIX = "/skills/nm/"  # the site published under a sub-path
MISSING = ("", "brands/no-such-brand/", "regions/150200/page/99/", "data/releases/1999/brands.csv", "no-such-page")


def test_the_404_page_is_written_and_self_contained(sample_site: Path) -> None:
    html = (sample_site / "404.html").read_text(encoding="utf-8")
    assert "<style>" in html and 'rel="stylesheet"' not in html  # no stylesheet to lose at the wrong depth
    assert 'href="data:image/svg+xml,' in html  # nor an icon
    assert '<meta name="robots" content="noindex">' in html


@needs_chromium
@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without"])
def test_a_missing_address_at_any_depth_gets_a_styled_page_whose_links_work(sample_site: Path, javascript: bool) -> None:
    with serve(sample_site, PREFIX) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=javascript)
        page = context.new_page()
        failed: list[str] = []
        # a request cut short by the next navigation is aborted, not failed
        page.on("requestfailed", lambda r: "ERR_ABORTED" in (r.failure or "") or failed.append(r.url))
        page.on("response", lambda r: r.status >= 400 and r.request.resource_type != "document" and failed.append(r.url))
        for missing in MISSING[1:]:
            response = page.goto(base + missing)
            assert response.status == 404, missing
            assert page.locator("h1").inner_text() == "页面不存在（404）"
            # styled: style.css sets the text colour (--ink, #1a1a1a) and the body size (17 px)
            assert page.evaluate("getComputedStyle(document.body).color") == "rgb(26, 26, 26)"
            assert page.evaluate("getComputedStyle(document.body).fontSize") == "17px"
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            home = page.locator("main a", has_text="回到首页").evaluate("a => a.href")
            if javascript:  # the script finds the site's root in the address
                assert home == base + "index.html", (missing, home)
                assert page.goto(home).status == 200
                assert page.locator("main h1").count() == 1 and page.locator("a.site-title").count() == 1
            else:  # without it, links go to the root path of the server (set --base-url for a sub-path)
                assert home == base[: -len(PREFIX)] + "/index.html", (missing, home)
        assert not failed
        context.close()
