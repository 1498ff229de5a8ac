"""Whatever bytes staff commit, validate answers with issues, never a traceback."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillbrands.issues import CODES
from skillbrands.validate import validate_project
from conftest import assemble

FILES = ["brands.csv", "outcomes.csv", "institutions.csv", "exits.csv"]
HEADER_CODES = {"extra-column", "duplicate-column"}
_BASE: dict[str, Path] = {}


def project(tmp_path_factory) -> Path:
    if "p" not in _BASE:
        _BASE["p"] = assemble(tmp_path_factory.mktemp("fuzz") / "base")
    return _BASE["p"]


def check(folder: Path) -> None:
    issues = validate_project(folder)
    package = json.loads((folder / "datasets" / "datapackage.json").read_text("utf-8"))
    columns = {f"datasets/{r['path']}": {f["name"] for f in r["schema"]["fields"]} for r in package["resources"]}
    for issue in issues:
        assert issue.code in CODES and issue.severity in ("error", "warning") and issue.message
        path = folder / issue.path
        assert path.exists()
        assert issue.row is None or 1 <= issue.row <= len(path.read_bytes().splitlines()) + 1  # CR, LF, CRLF
        # a column of the schema, or (for header problems) a label found in the file's header
        assert issue.field is None or issue.field in columns[issue.path] or issue.code in HEADER_CODES


@contextmanager
def replaced(target: Path, change: Callable[[bytes], bytes]) -> Iterator[None]:
    """The file holds change(original bytes) inside the block, its own bytes again after."""
    original = target.read_bytes()
    target.write_bytes(change(original))
    try:
        yield
    finally:
        target.write_bytes(original)


cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["85%", "1,234", "１２３", "-5", "45199", "2023/9/30", "2023-02-30", "9.11101E+17",
                     "\u3000", "\u200b", " ", '"', '""', "\n", "\r\n", ",", "；", "，", "\x00", "..", "a/b"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), data=st.binary(max_size=400))
def test_random_bytes_never_raise(tmp_path_factory, name: str, data: bytes) -> None:
    folder = project(tmp_path_factory)
    with replaced(folder / "datasets" / name, lambda _: data):
        check(folder)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), line=st.integers(0, 6), column=st.integers(0, 14), value=cell,
       cut=st.integers(0, 2000))
def test_damaged_cells_and_truncation_never_raise(tmp_path_factory, name, line, column, value, cut) -> None:
    def damage(original: bytes) -> bytes:
        lines = original.decode("utf-8").split("\n")
        row = lines[min(line, len(lines) - 1)].split(",")
        row[min(column, len(row) - 1)] = value
        lines[min(line, len(lines) - 1)] = ",".join(row)
        return "\n".join(lines).encode("utf-8", errors="surrogatepass")[: cut or None]

    folder = project(tmp_path_factory)
    with replaced(folder / "datasets" / name, damage):
        check(folder)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), data=st.binary(max_size=300))
def test_cli_exits_0_or_1_with_json_issues(tmp_path_factory, name: str, data: bytes) -> None:
    from click.testing import CliRunner

    from build import cli

    folder = project(tmp_path_factory)
    with replaced(folder / "datasets" / name, lambda _: data):
        result = CliRunner().invoke(cli, ["validate", "--project", str(folder), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert isinstance(json.loads(result.stdout), list)
