"""The pictures of the staff guide (content/guide.md): the workbook to fill, and the preview's error page.

    python scripts/staff_screenshots.py [OUT_FOLDER]   (default site_templates/assets/guide)

workbook.png: `build.py template` of the bundled sample, its brands sheet printed by LibreOffice
headless (Debian libreoffice-calc) to PDF and cut out by pdftoppm (Debian poppler-utils): what
a real spreadsheet program shows of it. error-page.png: `build.py serve` on a copy of the sample
with a negative count in outcomes.csv, as Debian's Chromium shows it at 1000 px. Chinese needs
CJK fonts (`apt-get install fonts-noto-cjk`). The pictures are committed; run this again when
the workbook or the error page changes.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser import chromium  # noqa: E402

#: the part of the printed brands sheet shown (pixels at 150 dpi: header, columns A–G, 13 rows)
CROP = {"x": 95, "y": 100, "W": 1440, "H": 235}


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path), default=REPO / "site_templates/assets/guide")
def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        click.echo(workbook(scratch, out / "workbook.png"))
        click.echo(error_page(scratch, out / "error-page.png"))


def workbook(scratch: Path, target: Path) -> Path:
    import openpyxl

    book = scratch / "template.xlsx"
    subprocess.run([sys.executable, str(REPO / "build.py"), "template", "--project", str(REPO), "--out", str(book)],
                   check=True, capture_output=True)
    wb = openpyxl.load_workbook(book)
    for name in wb.sheetnames:
        if name != "培训品牌":
            del wb[name]
    ws = wb["培训品牌"]
    ws.print_area = "A1:G14"
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = 1
    ws.print_options.gridLines = ws.print_options.headings = True
    printed = scratch / "brands.xlsx"
    wb.save(printed)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(scratch), str(printed)],
                   check=True, capture_output=True)
    args = ["pdftoppm", "-png", "-gray", "-r", "150", "-f", "1", "-l", "1", "-singlefile"]
    for key, value in CROP.items():
        args += [f"-{key}", str(value)]
    subprocess.run([*args, str(scratch / "brands.pdf"), str(target.with_suffix(""))], check=True, capture_output=True)
    return target


def error_page(scratch: Path, target: Path) -> Path:
    project = scratch / "project"
    for part in ("datasets", "content", "site_templates"):
        shutil.copytree(REPO / part, project / part)
    outcomes = project / "datasets" / "outcomes.csv"
    lines = outcomes.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    cells[header.index("employed")] = "-3"  # a count below zero: one error at file, row and column
    lines[1] = ",".join(cells) + "\n"
    outcomes.write_text("".join(lines), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--project", str(project),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 180
        while True:  # until the first build has failed: the error page answers with status 500
            try:
                urllib.request.urlopen(url, timeout=5)
            except urllib.error.HTTPError as error:
                if error.code == 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("预览没有在 3 分钟内给出错误页")
            time.sleep(0.5)
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1000, "height": 420})
            page.goto(url)
            page.screenshot(path=str(target))
    finally:
        server.terminate()
        server.wait(30)
    return target


if __name__ == "__main__":
    main()
