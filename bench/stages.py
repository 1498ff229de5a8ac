"""Build a project as `build.py build` does and print the per-stage times as JSON.

    python bench/stages.py --project P --out DIR

Calls `skillbrands.pipeline.build_site` and reports `result.stages`. To split the
pipeline's "validate" stage (which is `prepare()`: read, tidy, frictionless, keys,
rules, model, editions, content) it wraps those functions with timers in this
process only; nothing in skillbrands/ changes. A wrapped name that no longer exists
is reported under "unpatched" instead of failing. The high-water RSS of this process
is recorded at the end of every stage, to show which stage makes the peak.
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skillbrands import pipeline, publish, validate  # noqa: E402

#: (module, function names to try in order, label): the parts of prepare() and of
#: publish we time. Only calls made in this process are seen, so for work that the
#: build shares out to worker processes we time the call that hands it out.
PARTS = (
    (validate, ("read_descriptor",), "descriptor"),
    (validate, ("read_table",), "read"),
    (validate, ("normalise_table",), "tidy"),
    (validate, ("scan_personal_data",), "privacy"),
    (validate, ("_type_check", "_frictionless"), "frictionless"),
    (validate, ("check_keys",), "keys"),
    (validate, ("assess_brands",), "assess"),
    (validate, ("_rule_issues", "check_rules"), "rules"),
    (pipeline, ("load_content",), "content"),
    (pipeline, ("build_directory",), "model"),
    (pipeline, ("compute_editions",), "editions"),
    (pipeline, ("check_history", "check_frozen"), "frozen"),
    (publish, ("_exchange",), "swap"),
)


def high_water_mib() -> tuple[float, float]:
    """Peak RSS so far, MiB: this process's, and the largest of its reaped workers'."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, children / 1024


def _timed_iteration(items, parts: dict[str, float], label: str):
    """Yield from a generator, adding the time spent inside it to parts[label]."""
    while True:
        began = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            parts[label] += time.perf_counter() - began
            return
        parts[label] += time.perf_counter() - began
        yield item


def instrument() -> tuple[dict[str, float], dict[str, int], dict[str, tuple[float, float]], list[str]]:
    parts: dict[str, float] = defaultdict(float)
    rows: dict[str, int] = {}
    high_water: dict[str, tuple[float, float]] = {}
    unpatched: list[str] = []

    for module, names, label in PARTS:
        name = next((n for n in names if hasattr(module, n)), None)
        if name is None:
            unpatched.append(f"{module.__name__}.{names[0]}")
            continue
        original = getattr(module, name)

        def timed(*args, __original=original, __label=label, **kwargs):
            began = time.perf_counter()
            try:
                result = __original(*args, **kwargs)
            finally:
                parts[__label] += time.perf_counter() - began
            if inspect.isgenerator(result):  # stages that yield their results: time the iteration
                return _timed_iteration(result, parts, __label)
            if __label == "frictionless":
                if isinstance(result, dict):  # _type_check: name -> (typed rows, issues)
                    rows.update({name: len(typed) for name, (typed, _) in result.items()})
                elif len(args) >= 3:  # _frictionless(raw, schema, relpath): (typed rows, issues)
                    rows[str(args[2])] = rows.get(str(args[2]), 0) + len(result[0])
            return result

        setattr(module, name, timed)

    clock = getattr(pipeline, "_Clock", None)
    if clock is not None:
        class Clock(clock):  # type: ignore[misc, valid-type]
            def __exit__(self, *exc: object) -> None:
                super().__exit__(*exc)
                high_water[self.name] = high_water_mib()

        pipeline._Clock = Clock
    else:
        unpatched.append("skillbrands.pipeline._Clock")
    return parts, rows, high_water, unpatched


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    parts, rows, high_water, unpatched = instrument()
    imported = time.perf_counter()
    result = pipeline.build_site(args.project, args.out)
    print(json.dumps({
        "startup": imported - STARTED,
        "stages": result.stages,
        "parts": parts,
        "rows": rows,
        "high_water_mib": high_water,
        "pages": result.pages,
        "downloads": result.downloads,
        "assets": result.assets,
        "search": result.search,
        "search_reused": result.search_reused,
        "bytes": result.bytes,
        "issues": len(result.issues),
        "unpatched": unpatched,
    }))


if __name__ == "__main__":
    main()
