"""Incremental builds: a page is kept from the published site when nothing it is made of changed.

A page is made of three things, and each is recorded as a digest when the page is rendered:

- **what every page shares** (`shared_digest`): the code of skillbrands, the templates folder,
  the data package's descriptor (titles, labels, settings), the content pages of the
  navigation, the site's address and the footer's date;
- **its context**, the values `plan_pages` gives it (a brand, a page of a listing …),
  digested by `Fingerprints`, which walks the values themselves (dataclass fields,
  containers, scalars): nothing is guessed from file times or declared by hand;
- **what it read from the directory while rendering**: templates may look anything up
  (`directory.assessments[id]`, `directory.corrections_of(brand)`), so the directory a
  template sees is a `Recorder` that notes each read and the digest of what it returned.

The next build keeps a page (a hard link to the published file, proven unchanged by the
ledger, see publish.py) only when its shared and context digests are the same and every
recorded read, asked again of the new directory, returns a value with the same digest.
Anything that cannot be digested or asked again (a value of an unknown kind, an argument
that is not a plain value or a model object) makes the page "always render": the fallback
is a full render, never a stale page.

The records live beside the output folder (`.skillbrands.<name>.pages`, like the ledger),
written only after a build has been published; a missing or damaged file only means
every page is rendered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator as IteratorABC
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable

from .criteria import Assessment, Check, Criteria
from .model import Brand, Directory, Exit, Institution, Occupation, Outcome, Region, Review

_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime, Decimal, Fraction})
_HEADER = "skillbrands page records 2\n"
#: lists and mappings this long are memoised: a listing's pages share their table of contents
_SHARED_FROM = 16


class Unfingerprintable(Exception):
    """A value whose digest would not be the same in another build (an object of unknown kind)."""


def _blake(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class Fingerprints:
    """Digests of values, the same in every build and process for equal values.

    Dataclass instances are memoised by identity (the model's objects live for the whole
    build and are shared by many pages); their fields are digested in order, except the
    model's value objects in BY_REPR, digested by their repr. Values are never mutated
    during a build, so large lists and mappings are memoised the same way.
    """

    def __init__(self) -> None:
        self._memo: dict[int, tuple[Any, bytes]] = {}  # id -> (object kept alive, digest)
        #: reads of the directory with plain arguments, asked by many pages: memo key -> (answer,
        #: recorded key, digest of the answer); the directory does not change during a build
        self.reads: dict[tuple, tuple[Any, str, str]] = {}

    def of(self, value: Any) -> bytes:
        parts: list[bytes] = []
        self._feed(value, parts)
        return _blake(b"".join(parts))

    def _feed(self, value: Any, out: list[bytes]) -> None:
        known = self._memo.get(id(value))
        if known is not None and known[0] is value:  # an object or list digested before
            out.append(known[1])
            return
        kind = type(value)
        if kind in _SCALARS or isinstance(value, str):
            out.append(f"{kind.__name__}:{value!r};".encode("utf-8", "surrogatepass"))
        elif kind in (list, tuple):
            if len(value) >= _SHARED_FROM:
                out.append(self._shared(value))
                return
            out.append(b"[")
            for item in value:
                self._feed(item, out)
            out.append(b"]")
        elif kind is dict or isinstance(value, Mapping):
            if len(value) >= _SHARED_FROM:
                out.append(self._shared(value))
                return
            out.append(b"{")
            for key, item in value.items():
                self._feed(key, out)
                self._feed(item, out)
            out.append(b"}")
        elif isinstance(value, (set, frozenset)):
            out.append(b"<" + b"".join(sorted(self.of(item) for item in value)) + b">")
        elif isinstance(value, (bytes, bytearray)):
            out.append(b"bytes:" + _blake(bytes(value)))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.append(self._object(value))
        elif callable(value) and hasattr(value, "__qualname__") and hasattr(value, "__module__"):
            out.append(f"fn:{value.__module__}.{value.__qualname__};".encode())
        else:
            raise Unfingerprintable(kind.__name__)

    def _shared(self, value: Any) -> bytes:
        """A large list or mapping, digested once however many pages hold it (a listing's table
        of contents). Memoised like objects: kept alive by the memo, so its id is never reused."""
        known = self._memo.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        parts = [b"L" if isinstance(value, (list, tuple)) else b"M"]
        if isinstance(value, Mapping):
            for key, item in value.items():
                self._feed(key, parts)
                self._feed(item, parts)
        else:
            for item in value:
                self._feed(item, parts)
        key = _blake(b"".join(parts))
        self._memo[id(value)] = (value, key)
        return key

    def _object(self, value: Any) -> bytes:
        known = self._memo.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        kind = type(value)
        if kind in BY_REPR:
            key = _blake(f"{kind.__qualname__}{value!r}".encode("utf-8", "surrogatepass"))
        else:
            parts = [kind.__qualname__.encode()]
            for item in dataclasses.fields(value):
                self._feed(getattr(value, item.name), parts)
            key = _blake(b"".join(parts))
        self._memo[id(value)] = (value, key)
        return key



#: the model's value objects whose repr is complete and the same in every process: their
#: fields are only scalars, dates, tuples of each other and mappings filled in a fixed order
#: (tests/test_incremental.py checks
#: the annotations, so a set or mapping field added later cannot slip in: a set's repr follows
#: the process's hash seed). Digesting them by repr is faster than walking their fields.
BY_REPR: frozenset[type] = frozenset({Region, Occupation, Institution, Outcome, Exit, Review, Brand,
                                     Check, Criteria, Assessment})


# -- reads of the directory ----------------------------------------------------------

#: model objects an argument may be, and how to find the same one in the next build
_REFERENCES: dict[type, tuple[str, Callable[[Any], str]]] = {
    Brand: ("brands", lambda b: b.brand_id),
    Institution: ("institutions", lambda i: i.institution_id),
    Region: ("regions", lambda r: r.code),
}
_UNREPLAYABLE = ("!",)


def _argument(value: Any) -> list[Any]:
    if type(value) in (str, int, bool, type(None)):
        return ["v", value]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    reference = _REFERENCES.get(type(value))
    if reference is not None:
        return ["@", reference[0], reference[1](value)]
    raise Unfingerprintable(type(value).__name__)


def _resolve(directory: Directory, encoded: list[Any]) -> Any:
    if encoded[0] == "v":
        return encoded[1]
    if encoded[0] == "d":
        return date.fromisoformat(encoded[1])
    found = getattr(directory, encoded[1]).get(encoded[2])
    if found is None:
        raise LookupError(encoded)
    return found


class Reads:
    """The reads one page made: key -> digest of the value read (keys are JSON-able lists)."""

    def __init__(self, fingerprints: Fingerprints):
        self.fingerprints = fingerprints
        self.found: dict[str, str] = {}
        self.replayable = True

    def note(self, key: list[Any], value: Any) -> None:
        try:
            self.found[_key_text(key)] = self.fingerprints.of(value).hex()
        except Unfingerprintable:
            self.replayable = False

    def asked(self, memo: tuple, key: Callable[[], list[Any]], answer: Callable[[], Any]) -> Any:
        """The answer to a read with plain arguments (`memo` says which), noted as `key()` says:
        worked out and digested once per process however many pages ask it."""
        known = self.fingerprints.reads.get(memo)
        if known is None:
            value = answer()
            if isinstance(value, IteratorABC):
                value = list(value)  # a generator read once here and once by the template would be empty
            try:
                known = (value, _key_text(key()), self.fingerprints.of(value).hex())
            except Unfingerprintable:
                self.replayable = False
                return value
            self.fingerprints.reads[memo] = known
        self.found[known[1]] = known[2]
        return known[0]


def _key_text(key: list[Any]) -> str:
    return json.dumps(key, ensure_ascii=False, separators=(",", ":"))


_PLAIN = frozenset({str, int, bool, type(None)})


class Recorder:
    """The directory as a template sees it: every attribute, lookup and call is noted in `reads`."""

    __slots__ = ("_directory", "_reads")

    def __init__(self, directory: Directory, reads: Reads):
        self._directory = directory
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._directory, name)
        if isinstance(value, Mapping):
            return _MappingReads(name, value, self._reads)
        if callable(value):
            return _CallReads(name, value, self._reads)
        return self._reads.asked((name,), lambda: [name], lambda: value)


class _MappingReads(Mapping):
    __slots__ = ("_name", "_mapping", "_reads")

    def __init__(self, name: str, mapping: Mapping, reads: Reads):
        self._name, self._mapping, self._reads = name, mapping, reads

    def _key(self, key: Any) -> list[Any] | None:
        try:
            return [self._name, "get", _argument(key)]
        except Unfingerprintable:
            self._reads.replayable = False
            return None

    def __getitem__(self, key: Any) -> Any:
        if type(key) in _PLAIN:
            self.get(key)
            return self._mapping[key]
        value = self._mapping.get(key)
        noted = self._key(key)
        if noted is not None:
            self._reads.note(noted, value)
        return self._mapping[key]

    def get(self, key: Any, default: Any = None) -> Any:
        if type(key) in _PLAIN:
            value = self._reads.asked((self._name, "get", type(key), key), lambda: [self._name, "get", ["v", key]],
                                      lambda: self._mapping.get(key))
            return default if value is None and key not in self._mapping else value
        value = self._mapping.get(key)
        noted = self._key(key)
        if noted is not None:
            self._reads.note(noted, value)
        return default if value is None and key not in self._mapping else value

    def __contains__(self, key: object) -> bool:
        self.get(key)
        return key in self._mapping

    def _whole(self) -> Mapping:
        self._reads.note([self._name, "*"], self._mapping)
        return self._mapping

    def __iter__(self):
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def keys(self):
        return self._whole().keys()

    def values(self):
        return self._whole().values()

    def items(self):
        return self._whole().items()


class _CallReads:
    __slots__ = ("_name", "_method", "_reads")

    def __init__(self, name: str, method: Callable, reads: Reads):
        self._name, self._method, self._reads = name, method, reads

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs and all(type(a) in _PLAIN for a in args):
            return self._reads.asked((self._name, "call", tuple(map(type, args)), args),
                                     lambda: [self._name, "call", [["v", a] for a in args], {}],
                                     lambda: self._method(*args))
        result = self._method(*args, **kwargs)
        if isinstance(result, IteratorABC):
            result = list(result)  # a generator read once here and once by the template would be empty
        try:
            key = [self._name, "call", [_argument(a) for a in args],
                   {k: _argument(v) for k, v in sorted(kwargs.items())}]
        except Unfingerprintable:
            self._reads.replayable = False
            return result
        self._reads.note(key, result)
        return result


def replay(directory: Directory, key: str, fingerprints: Fingerprints) -> str | None:
    """Ask the new directory the recorded read `key` again: the digest of its answer (None if it cannot)."""
    try:
        parts = json.loads(key)
        name = parts[0]
        value = getattr(directory, name)
        if len(parts) == 1:
            answer = value
        elif parts[1] == "*":
            answer = value
        elif parts[1] == "get":
            answer = value.get(_resolve(directory, parts[2]))
        elif parts[1] == "call":
            args = [_resolve(directory, a) for a in parts[2]]
            kwargs = {k: _resolve(directory, v) for k, v in parts[3].items()}
            answer = value(*args, **kwargs)
            if isinstance(answer, IteratorABC):
                answer = list(answer)
        else:
            return None
        return fingerprints.of(answer).hex()
    except (LookupError, AttributeError, TypeError, ValueError, Unfingerprintable):
        return None


# -- what every page shares ------------------------------------------------------------

def tree_digest(root: Path) -> bytes:
    """Names, kinds and bytes of every file under root (symlinks by their target's text)."""
    parts: list[bytes] = []
    if root.is_dir():
        for top, folders, files in os.walk(root):
            folders.sort()
            for name in sorted(files):
                path = Path(top, name)
                relpath = path.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
                if path.is_symlink():
                    parts.append(b"L" + relpath + b"\0" + os.fsencode(os.readlink(path)))
                else:
                    parts.append(b"F" + relpath + b"\0" + _blake(path.read_bytes()))
    return _blake(b"\n".join(parts))


def code_digest() -> bytes:
    """The skillbrands package's own source: a new version of the tool renders every page."""
    return tree_digest(Path(__file__).resolve().parent)


def shared_digest(fingerprints: Fingerprints, templates: Path, shared: Mapping[str, Any]) -> bytes:
    """What every page is made of besides its context and reads (see the module's docstring)."""
    return _blake(code_digest() + tree_digest(templates) + fingerprints.of(dict(shared)))


def page_digest(fingerprints: Fingerprints, shared: bytes, url: str, file: str, templates: Iterable[str],
                context: Mapping[str, Any]) -> str | None:
    """The digest of a page's own inputs, or None when its context cannot be digested."""
    try:
        return _blake(shared + fingerprints.of([url, file, list(templates), context])).hex()
    except Unfingerprintable:
        return None


# -- the records beside the output -------------------------------------------------------

#: (page digest, reads: key -> digest, digest of the bytes written): the last binds the record
#: to the published file, so a record outliving its site (a build killed between the swap and
#: writing the records) can never vouch for a file another build wrote
Record = tuple[str, dict[str, str], str]


def records_path(target: Path) -> Path:
    return target.parent / f".skillbrands.{target.name}.pages"


def read_records(path: Path) -> dict[str, Record]:
    """path -> Record; {} when the file is missing or unusable.

    The file: a header line, one line listing every distinct read (key, digest) once (many
    pages make the same lookups), then one line per page: path, digest, the indexes of its
    reads in that list, digest of the bytes written."""
    try:
        if path.is_symlink() or not path.is_file():
            return {}
        with open(path, encoding="utf-8") as handle:
            if handle.readline() != _HEADER:
                return {}
            table = json.loads(handle.readline())
            out: dict[str, Record] = {}
            for line in handle:
                relpath, digest, reads, written = json.loads(line)
                out[relpath] = (digest, {table[i][0]: table[i][1] for i in reads}, written)
            return out
    except (OSError, UnicodeDecodeError, ValueError, TypeError, IndexError):
        return {}


def write_records(path: Path, records: Mapping[str, Record]) -> None:
    """Replace the records atomically; best effort (without them the next build renders every page)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    index: dict[tuple[str, str], int] = {}
    for relpath in sorted(records):
        for read in records[relpath][1].items():
            index.setdefault(read, len(index))
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(_HEADER)
            handle.write(json.dumps([list(read) for read in index], **compact) + "\n")
            for relpath in sorted(records):
                digest, reads, written = records[relpath]
                handle.write(json.dumps([relpath, digest, [index[r] for r in reads.items()], written], **compact)
                             + "\n")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def unchanged(record: Record | None, digest: str | None, published: str | None, directory: Directory,
              fingerprints: Fingerprints, answers: dict[str, str | None]) -> bool:
    """The page recorded as `record` would render the same bytes now, and `published` (the digest
    the ledger holds for its published file) is those bytes. `answers`: replayed reads, shared by
    the pages of one build."""
    if record is None or digest is None or record[0] != digest or record[2] != published:
        return False
    for key, old in record[1].items():
        if key not in answers:
            answers[key] = replay(directory, key, fingerprints)
        if answers[key] != old:
            return False
    return True


# -- a build with nothing to do -------------------------------------------------------------

def state_path(target: Path) -> Path:
    return target.parent / f".skillbrands.{target.name}.state"


def inputs_digest(project: Path, templates: Path, options: Mapping[str, Any]) -> str:
    """Everything a build reads: the code, datasets/ (frozen editions included), content/, the
    templates and the options (address, reference date). Equal digests, equal sites."""
    parts = [code_digest(), tree_digest(project / "datasets"), tree_digest(project / "content"),
             tree_digest(templates), json.dumps(dict(options), sort_keys=True, default=str).encode()]
    return _blake(b"".join(parts)).hex()


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
        return state if isinstance(state, dict) and isinstance(state.get("inputs"), str) else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
