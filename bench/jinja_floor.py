"""Anchor: the plainest Jinja2 build of the brand pages, the floor for our render stage.

    python bench/jinja_floor.py --project P --out DIR [--workers N]

Reads the CSVs with the csv module, then renders one autoescaped template per brand
and writes `brands/<id>/index.html`, in 1 process or N forked workers (each takes a
contiguous slice, inheriting the facts copy-on-write). Prints JSON: load and
render+write seconds, pages.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

from jinja2 import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.facts import brand_facts  # noqa: E402

TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ b.name }}</title></head>
<body>
<h1>{{ b.name }}</h1>
<dl>
  <dt>培训机构</dt><dd>{{ b.institution }}</dd>
  <dt>职业（工种）</dt><dd>{{ b.occupation }}</dd>
  <dt>品牌层级</dt><dd>{{ b.tier }}</dd>
  <dt>发布地区</dt><dd>{{ b.region }}</dd>
  <dt>公布日期</dt><dd>{{ b.published }}</dd>
  <dt>公布文号</dt><dd>{{ b.document_no }}</dd>
</dl>
<table>
<thead><tr><th>年度</th><th>培训人数</th><th>合格人数</th><th>合格率</th><th>就业人数</th><th>就业率</th></tr></thead>
<tbody>
{% for y in b.years %}<tr><th>{{ y.year }}</th><td>{{ y.trainees }}</td><td>{{ y.passed }}</td><td>{{ pct(y.pass_rate) }}</td><td>{{ y.employed }}</td><td>{{ pct(y.employment_rate) }}</td></tr>
{% endfor %}</tbody>
</table>
</body></html>
"""


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render_slice(brands: list[dict], out: Path) -> int:
    template = Environment(autoescape=True).from_string(TEMPLATE)
    for brand in brands:
        folder = out / "brands" / brand["id"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_bytes(template.render(b=brand, pct=pct).encode("utf-8"))
    return len(brands)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)

    start = time.perf_counter()
    brands = brand_facts(args.project)
    loaded = time.perf_counter()
    if args.workers <= 1:
        render_slice(brands, args.out)
    else:
        context = multiprocessing.get_context("fork")
        size = -(-len(brands) // args.workers)
        workers = [context.Process(target=render_slice, args=(brands[i:i + size], args.out))
                   for i in range(0, len(brands), size)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if any(worker.exitcode for worker in workers):
            sys.exit("a worker failed")
    done = time.perf_counter()
    print(json.dumps({"load": loaded - start, "render": done - loaded, "pages": len(brands),
                      "workers": args.workers}))


if __name__ == "__main__":
    main()
