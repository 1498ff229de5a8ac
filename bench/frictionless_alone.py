"""Anchor: frictionless alone validating the same data package, one core, none of our checks.

    python bench/frictionless_alone.py --project P

Each resource of datasets/datapackage.json is validated by `frictionless.Resource(path,
schema=...).validate()` with its own Table Schema (types, constraints, primary key;
foreign keys left out, as our validator hands them to keys.py). Prints JSON: per
resource seconds, rows and error count, and the total.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from frictionless import Resource, Schema


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, required=True)
    args = parser.parse_args()
    datasets = args.project / "datasets"
    descriptor = json.loads((datasets / "datapackage.json").read_text(encoding="utf-8-sig"))
    results = {}
    start = time.perf_counter()
    for resource in descriptor["resources"]:
        if not (datasets / resource["path"]).exists():
            continue
        schema = {key: value for key, value in resource["schema"].items() if key != "foreignKeys"}
        began = time.perf_counter()
        report = Resource(path=resource["path"], basepath=str(datasets),
                          schema=Schema.from_descriptor(schema)).validate()
        task = report.tasks[0]
        results[resource["name"]] = {"seconds": time.perf_counter() - began,
                                     "rows": task.stats.get("rows") or 0, "errors": len(task.errors)}
    print(json.dumps({"total": time.perf_counter() - start, "resources": results}))


if __name__ == "__main__":
    main()
