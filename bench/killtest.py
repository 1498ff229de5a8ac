"""Kill safety: SIGKILL builds at random moments and check what is left.

Every complete build of unchanged data is byte-identical, so "the previous complete
site or the new complete one" means: the output folder's manifest (path -> size and
BLAKE2 hash) equals the reference build's. A first build (no output yet) may also
leave no output at all. After each kill the next build must succeed, leave the
reference site, and leave no `.<name>.staging-*` or `.<name>.old-*` folder beside it.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .proctree import measure

Manifest = dict[str, tuple[int, str]]


def manifest(root: Path) -> Manifest:
    """relative path -> (size, hash) of every file under `root`."""
    files: Manifest = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            data = path.read_bytes()
            files[path.relative_to(root).as_posix()] = (len(data), hashlib.blake2b(data, digest_size=16).hexdigest())
    return files


def describe_difference(found: Manifest, reference: Manifest) -> str:
    missing = reference.keys() - found.keys()
    extra = found.keys() - reference.keys()
    changed = [path for path in found.keys() & reference.keys() if found[path] != reference[path]]
    example = sorted(missing)[:1] or sorted(extra)[:1] or sorted(changed)[:1]
    return f"{len(missing)} missing, {len(extra)} extra, {len(changed)} changed (e.g. {example[0] if example else '-'})"


def leftovers(target: Path) -> list[str]:
    """Staging or old folders beside the target."""
    return sorted(p.name for p in target.parent.glob(f".{target.name}.*")
                  if p.name.rpartition("-")[0].endswith((".staging", ".old")))


def wait_for_old_sites(target: Path, seconds: float = 300.0) -> bool:
    """True once no `.old-*` folder is left (the detached delete of a replaced site finished)."""
    deadline = time.monotonic() + seconds
    while leftovers(target):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@dataclass
class Kill:
    number: int
    first_build: bool  # the target did not exist before this build
    delay: float  # seconds after start
    fraction: float  # of the expected build time
    finished_first: bool  # the build ended before the kill landed
    staging_at_kill: bool  # a staging folder existed: killed while writing or swapping
    state: str  # after the kill: "old site", "new site", "absent", or what was wrong
    next_build: str  # "ok" or what was wrong
    next_build_seconds: float
    ok: bool


@dataclass
class KillReport:
    expected: float
    kills: list[Kill] = field(default_factory=list)
    error: str = ""  # the test could not start

    @property
    def failures(self) -> list[Kill]:
        return [kill for kill in self.kills if not kill.ok]

    @property
    def passed(self) -> bool:
        return not self.error and not self.failures


def kill_test(build: Sequence[str], target: Path, reference: Manifest, expected: float, count: int,
              seed: int, env: dict[str, str], logs: Path, cwd: Path) -> KillReport:
    """`build` is the build command writing to `target`; `expected` its usual wall time."""
    rng = random.Random(seed)
    report = KillReport(expected)
    logs.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    initial = measure(build, cwd=cwd, env=env, stdout=logs / "initial.out", stderr=logs / "initial.err")
    if initial.returncode != 0 or manifest(target) != reference:
        report.error = (f"the first build into {target} failed (exit {initial.returncode}) or differs from the "
                        f"reference build; see {logs / 'initial.err'}")
        return report
    for number in range(1, count + 1):
        first = number % 5 == 0  # every fifth kill hits a first build (no output yet)
        if first:
            shutil.rmtree(target, ignore_errors=True)
        before = target.stat().st_ino if target.exists() else None
        fraction = rng.uniform(0.02, 0.98)
        killed = measure(build, cwd=cwd, env=env, kill_after=fraction * expected,
                         stdout=logs / f"kill-{number}.out", stderr=logs / f"kill-{number}.err")
        finished = killed.returncode >= 0
        staging = any(name.rpartition("-")[0].endswith(".staging") for name in leftovers(target))
        if not target.exists():
            state = "absent" if first else "FAIL: output folder gone"
        else:
            found = manifest(target)
            if found != reference:
                state = "FAIL: " + describe_difference(found, reference)
            else:
                state = "new site" if target.stat().st_ino != before else "old site"
        again = measure(build, cwd=cwd, env=env, stdout=logs / f"next-{number}.out", stderr=logs / f"next-{number}.err")
        if again.returncode != 0:
            next_build = f"FAIL: exit {again.returncode} (see {logs / f'next-{number}.err'})"
        elif [n for n in leftovers(target) if ".staging-" in n]:
            next_build = "FAIL: left " + ", ".join(leftovers(target))
        elif not wait_for_old_sites(target):
            # a large replaced site is deleted by a detached `rm` after the swap: give it time
            next_build = "FAIL: old site not deleted: " + ", ".join(leftovers(target))
        elif manifest(target) != reference:
            next_build = "FAIL: " + describe_difference(manifest(target), reference)
        else:
            next_build = "ok"
        report.kills.append(Kill(number, first, killed.wall, fraction, finished, staging, state, next_build,
                                 again.wall, not state.startswith("FAIL") and next_build == "ok"))
    return report
