"""The search index: records from the model -> deterministic files under search/.

Exact by construction, with no word segmentation:

- Every record has *fields* (its name first), each normalised character by character
  (`fold`: NFKC, case folding, traditional -> simplified with OpenCC's character table,
  punctuation dropped). A match never crosses from one field to the next.
- A Chinese (non-ASCII) term matches a record iff it is a substring of one of its fields.
  Every bigram of every field is indexed with its field and offset (`postings.py`), so a
  term of n >= 2 characters is answered by its n-1 bigrams found at consecutive offsets:
  no false hit, no miss, at any length.
- An ASCII term (letters and digits) matches iff it begins an ASCII run of a field
  (`6-18-02-04` -> `6180204`, `〔2023〕22号` -> `202322`), or it *spells* a Chinese string
  that the record contains: a string of 2-4 characters from a place or trade name whose
  full pinyin the term begins, reaching into its last character (`baotou`, `baot` ->
  包头), or whose initials the term is (`bt` -> 包头). The spellings come from a
  vocabulary of place and trade names (`y/<letter>.json`), so `baotou` finds every record
  with 包头 in any field, as 包头 does.
- Record numbers follow the order listed before exited, kind (brands, institutions,
  regions), higher employment rate first; each posting carries the record's tier.
  Ranking (class, then tier, then record number) and sorting by employment rate need no
  other data; kind and status counts come from number ranges. The other filters and
  facets (prefecture, occupation, focus area, year) and the trainee counts are read from
  attribute blocks, only when a query asks for them.

`search/search.js` (from skillbrands/client/) runs the query; `query_index` below is
its Python mirror, for tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from . import postings
from .model import TIERS, Directory, Region
from .publish import Entry, StagedSite, safe_join
from .workers import in_background
from .postings import EXACT, IN_NAME, OTHER, PREFIX, FIELD_CHARS  # noqa: F401  (re-exported)

#: the index's format; part of the stamp, so a new format is always rebuilt
FORMAT = 2
#: a pinyin spelling covers 2 up to this many characters
PINYIN_CHARS = 4
#: display records per block file, attribute rows per block file (chosen from measurements, see README)
DISPLAY_BLOCK = 8
ATTR_BLOCK = 1024
#: target bytes of one postings shard; the shard count is the next power of two
SHARD_BYTES = 16_000
#: the kinds of record, in number order
KINDS = ("brand", "institution", "region")
#: filters answered from attribute blocks (the others come with the postings)
ATTRS = ("prefecture", "occupation", "focus_area", "year")
NO_TIER = len(TIERS)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")
_WORD = re.compile(r"[a-z0-9]+")
_LETTERS = re.compile(r"[a-z]+")


# ---------------------------------------------------------------- normalisation

@lru_cache(maxsize=1)
def t2s_table() -> Mapping[str, str]:
    """OpenCC's traditional -> simplified *character* table (phrases would break substring
    semantics). A character that is also its own candidate (乾 -> 干 乾) is kept."""
    text = resources.files("opencc_purepy").joinpath("dicts/TSCharacters.txt").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        candidates = targets.split()
        if len(source) == 1 and candidates and source not in candidates and len(candidates[0]) == 1:
            table[source] = candidates[0]
    return table


@lru_cache(maxsize=65536)
def fold(char: str) -> str:
    """One character, normalised: NFKC, casefold, traditional -> simplified; punctuation -> ''."""
    table = t2s_table()
    out = []
    for c in unicodedata.normalize("NFKC", char).casefold():
        if unicodedata.category(c).startswith("P"):
            continue
        out.append(table.get(c, c))
    return "".join(out)


_FOLDED: dict[int, str] = {}
_SEEN: set[str] = set()


def normalise(text: str) -> str:
    """`fold` of every character (a translate table filled as characters are met)."""
    missing = set(text) - _SEEN
    if missing:
        for c in missing:
            _FOLDED[ord(c)] = fold(c)
        _SEEN.update(missing)
    return text.translate(_FOLDED)


@lru_cache(maxsize=1 << 20)
def _field(text: str) -> str:
    return normalise(text)[:FIELD_CHARS]


def terms(query: str) -> list[str]:
    """The query's terms: normalised, split at white space, empty ones dropped."""
    return normalise(query).split()


def is_word_term(term: str) -> bool:
    return _WORD.fullmatch(term) is not None


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Record:
    """One search hit: the page it opens, the fields it is found by, what a result shows."""

    url: str  # relative to the site root: "brands/<id>/"
    kind: str  # one of KINDS
    name: str  # the first field: ranking compares the query with it
    fields: tuple[str, ...]  # the other fields (institution, trade, places, codes, labels …)
    spoken: tuple[str, ...]  # place and trade names: their pinyin spells what ASCII terms find
    tier: int  # 0-3, ties are ranked by it (province first)
    rate: float | None  # latest employment rate: ties after tier, and "sort by employment rate"
    exited: bool
    display: Mapping[str, object]
    attrs: Mapping[str, object]  # ATTRS, and "trainees" for sorting

    def slots(self) -> tuple[str, ...]:
        """The normalised fields, name first, each cut at FIELD_CHARS ('' where empty)."""
        return tuple(_field(f) for f in (self.name, *self.fields))

    def text(self) -> str:
        """Every field on its own line (what a plain scan searches)."""
        return "\n".join(field for field in self.slots() if field)


def _prefecture(directory: Directory, region: Region) -> str | None:
    chain = directory.ancestors(region.code)
    return next((r.code for r in chain if r.level == "prefecture"), None)


def _places(directory: Directory, *regions: Region) -> tuple[str, ...]:
    """The names of the regions and of all above them, each once (a match never spans two)."""
    return tuple(dict.fromkeys(r.name for region in regions for r in directory.ancestors(region.code)))


def brand_records(directory: Directory) -> Iterator[Record]:
    places_of = lru_cache(maxsize=None)(lambda *regions: _places(directory, *regions))
    prefecture_of = lru_cache(maxsize=None)(lambda region: _prefecture(directory, region))
    for brand in directory.brands.values():
        latest = brand.latest
        rate = latest.employment_rate if latest else None
        location = brand.institution.region
        status = "exited" if brand.exited else "listed"
        places = places_of(brand.region, location)
        yield Record(
            url=f"brands/{brand.brand_id}/", kind="brand", name=brand.name,
            fields=(brand.institution.name, brand.occupation_name, *places, brand.occupation_code or "",
                    directory.label("brands", "tier", brand.tier),
                    directory.label("brands", "focus_area", brand.focus_area) if brand.focus_area else "",
                    brand.document_no, "已退出" if brand.exited else ""),
            spoken=(brand.occupation_name, *places), tier=TIERS.index(brand.tier), rate=rate,
            exited=brand.exited,
            display={"institution": brand.institution.name, "occupation": brand.occupation_name,
                     "region": brand.region.name, "tier": brand.tier, "status": status,
                     "employment_rate": None if rate is None else round(rate, 4),
                     "trainees": latest.trainees if latest else None,
                     "year": latest.year if latest else None},
            attrs={"prefecture": prefecture_of(location) or prefecture_of(brand.region),
                   "occupation": brand.occupation_code, "focus_area": brand.focus_area,
                   "year": brand.published_year, "trainees": latest.trainees if latest else None},
        )


def institution_records(directory: Directory) -> Iterator[Record]:
    for institution in directory.institutions.values():
        removed = institution.status == "removed"
        places = _places(directory, institution.region)
        yield Record(
            url=f"institutions/{institution.institution_id}/", kind="institution", name=institution.name,
            fields=(*places, directory.label("institutions", "kind", institution.kind)),
            spoken=places, tier=NO_TIER, rate=None, exited=removed,
            display={"region": institution.region.name, "status": "exited" if removed else "listed"},
            attrs={"prefecture": _prefecture(directory, institution.region)},
        )


def region_records(directory: Directory) -> Iterator[Record]:
    """Regions that have a page: those with brands in their subtree (as render.plan_pages)."""
    with_brands: set[str] = set()
    for brand in directory.brands.values():
        with_brands.update(r.code for r in directory.ancestors(brand.region.code))
    for region in directory.regions.values():
        if region.code not in with_brands:
            continue
        chain = directory.ancestors(region.code)
        places = _places(directory, region)
        yield Record(
            url=f"regions/{region.code}/", kind="region", name=region.name,
            fields=(*places, region.code), spoken=places,
            tier=TIERS.index(region.level) if region.level in TIERS else NO_TIER, rate=None, exited=False,
            display={"region": " ".join(r.name for r in chain), "level": region.level, "status": "listed"},
            attrs={"prefecture": _prefecture(directory, region)},
        )


#: every kind of record, in one place: a later directory (labour brands …) adds its function here
#: (and its kind to KINDS)
RECORD_KINDS: tuple[Callable[[Directory], Iterable[Record]], ...] = (
    brand_records, institution_records, region_records)


def collect_records(directory: Directory,
                    kinds: Sequence[Callable[[Directory], Iterable[Record]]] = RECORD_KINDS) -> list[Record]:
    """Every record, in number order: listed before exited, kind, higher rate first, URL."""
    records = [record for kind in kinds for record in kind(directory)]
    return sorted(records, key=lambda r: (r.exited, KINDS.index(r.kind),
                                          -(r.rate if r.rate is not None else -1.0), r.url))


# ---------------------------------------------------------------- pinyin spellings

@lru_cache(maxsize=262144)
def _pinyin(run: str) -> tuple[str, ...]:
    """The toneless pinyin of each character of a run of Chinese characters ('' if none)."""
    from pypinyin import Style, lazy_pinyin

    full = lazy_pinyin(run, style=Style.NORMAL, errors=lambda chars: [""] * len(chars))
    if len(full) != len(run):  # a character pypinyin groups or drops: read one by one
        full = [(lazy_pinyin(c, errors=lambda x: [""]) or [""])[0] for c in run]
    return tuple(normalise(s) if _LETTERS.fullmatch(normalise(s) or "-") else "" for s in full)


Spelling = tuple[str, tuple[str, ...]]  # (2-4 Chinese characters, their syllables)


def spellings(names: Iterable[str]) -> list[Spelling]:
    """Every window of 2-PINYIN_CHARS characters (from each character on) of the Chinese
    runs of the names, with its pinyin, each once, sorted."""
    found: set[Spelling] = set()
    for name in set(names):
        for match in _HAN.finditer(normalise(name)):
            run = match.group()
            syllables = _pinyin(run)
            for i in range(len(run)):
                window = syllables[i:i + PINYIN_CHARS]
                if "" in window:
                    window = window[:window.index("")]
                if len(window) >= 2:
                    found.add((run[i:i + len(window)], window))
    return sorted(found)


def spelled(entries: Iterable[Spelling], term: str) -> set[str]:
    """The Chinese strings an ASCII term spells: it is their initials, or it begins their
    full pinyin and reaches into the last character. If it spells none, front and back
    nasals count as one (an/ang, en/eng, in/ing, on/ong: `hanggong` -> 焊工)."""
    entries = list(entries)
    return (_spelled(entries, term, lambda s: s)
            or _spelled(entries, term.replace("ng", "n"), lambda s: s[:-1] if s.endswith("ng") else s))


def _spelled(entries: list[Spelling], term: str, sound: Callable[[str], str]) -> set[str]:
    out = set()
    for chars, syllables in entries:
        if "".join(s[0] for s in syllables).startswith(term):
            out.add(chars[:len(term)])
        heard = [sound(s) for s in syllables]
        if len(term) > len(heard[0]) and "".join(heard).startswith(term):
            reached, k = 0, 0
            while reached < len(term):
                reached += len(heard[k])
                k += 1
            out.add(chars[:k])
    return out


# ---------------------------------------------------------------- the files

def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def client() -> bytes:
    return resources.files("skillbrands").joinpath("client/search.js").read_bytes()


def stamp(sources: Iterable[tuple[str, bytes]]) -> bytes:
    """What the index is built from, as one digest: the index format, the code that builds
    and reads it, and the data files the model is made of ((name, bytes) pairs)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}\n".encode())
    for module in ("search.py", "postings.py"):
        h.update(resources.files("skillbrands").joinpath(module).read_bytes())
    h.update(client())
    for name, data in sources:
        h.update(f"\n{name}\n{len(data)}\n".encode())
        h.update(data)
    return f"skillbrands search index {FORMAT} {h.hexdigest()}\n".encode()


STAMP = "search/stamp.txt"


def search_files(directory: Directory, records: list[Record] | None = None) -> Iterator[tuple[str, bytes]]:
    """Every file of search/ but the stamp (see `write_index`)."""
    records = collect_records(directory) if records is None else records
    yield from core_files(directory, records)
    yield from side_files(directory, records)


def core_files(directory: Directory, records: list[Record]) -> Iterator[tuple[str, bytes]]:
    """p/<shard>.bin, meta.json (with the fold table: one request less before the postings) and search.js."""
    fields = [r.slots() for r in records]
    built = postings.build(fields, [r.tier for r in records])
    shards, files = postings.shard_files(built, SHARD_BYTES)
    del built
    for shard, data in files:
        yield f"search/p/{shard}.bin", data
    alphabet = set("".join({field for slots in fields for field in slots}))
    folds = browser_fold(alphabet)
    ranges = []
    for rid, r in enumerate(records):
        if not ranges or ranges[-1][1:] != [r.kind, "exited" if r.exited else "listed"]:
            ranges.append([rid, r.kind, "exited" if r.exited else "listed"])
    yield "search/meta.json", _dumps({
        "format": FORMAT, "records": len(records), "shards": shards, "display_block": DISPLAY_BLOCK,
        "attr_block": ATTR_BLOCK, "fold": folds, "ranges": ranges,
        "first_exited": next((i for i, r in enumerate(records) if r.exited), len(records)),
        "tiers": [*TIERS, None],
        "labels": {"tier": dict(directory.labels[("brands", "tier")]),
                   "status": {"listed": "在目录中", "exited": "已退出"},
                   "kind": {"brand": "品牌", "institution": "培训机构", "region": "地区"}},
    })
    yield "search/search.js", client()


def side_files(directory: Directory, records: list[Record]) -> Iterator[tuple[str, bytes]]:
    """r/<block>.json, f/…, y/<letter>.json: what results show, filter on and spell."""
    for start in range(0, len(records), DISPLAY_BLOCK):
        block = [{"url": r.url, "kind": r.kind, "title": r.name, **r.display}
                 for r in records[start:start + DISPLAY_BLOCK]]
        yield f"search/r/{start // DISPLAY_BLOCK}.json", _dumps(block)
    yield from _attribute_files(directory, records)
    by_letter: dict[str, list[list[str]]] = {}
    for chars, syllables in spellings(s for r in records for s in r.spoken):
        by_letter.setdefault(syllables[0][0], []).append([chars, " ".join(syllables)])
    for letter, entries in sorted(by_letter.items()):
        yield f"search/y/{letter}.json", _dumps(entries)


#: records from which the side files are written by a second process, beside the postings
PARALLEL_FROM = 20_000


def write_index(site: StagedSite, directory: Directory, signed: bytes, jobs: int) -> int:
    """Write the index into the staged site, the stamp last; return the number of files.
    On large sites a forked worker writes the side files while this process builds the
    postings (each half takes about as long)."""
    records = collect_records(directory)
    if len(records) < PARALLEL_FROM:
        count = site.write_all(search_files(directory, records))
    else:
        def side() -> list[Entry]:  # beside this process: its paths are claimed here afterwards
            return [site.store.put(safe_join(site.staging, relpath), relpath, data)
                    for relpath, data in side_files(directory, records)]

        with in_background(side, jobs) as stored:
            count = site.write_all(core_files(directory, records))
        for relpath, _, _ in stored.value:
            site.claim(relpath)
        site.record(stored.value)
        count += len(stored.value)
    site.write(STAMP, signed)
    return count + 1


def _attribute_files(directory: Directory, records: list[Record]) -> Iterator[tuple[str, bytes]]:
    """f/<block>.json: per record [prefecture, occupation, focus area, year] as numbers into
    f/values.json's lists of [value, label] (1 = the first; 0 = none), then trainees (or null)."""
    rows = [[r.attrs.get(name) for name in ATTRS] for r in records]
    values = [[None, *sorted({row[i] for row in rows} - {None}, key=str)] for i in range(len(ATTRS))]
    codes = [{value: code for code, value in enumerate(column)} for column in values]
    for start in range(0, len(records), ATTR_BLOCK):
        block = [[*(codes[i][value] for i, value in enumerate(row)), r.attrs.get("trainees")]
                 for row, r in zip(rows[start:start + ATTR_BLOCK], records[start:start + ATTR_BLOCK])]
        yield f"search/f/{start // ATTR_BLOCK}.json", _dumps(block)
    labels = {"prefecture": lambda code: directory.regions[code].name,
              "occupation": lambda code: directory.occupations[code].name if code in directory.occupations else code,
              "focus_area": lambda value: directory.label("brands", "focus_area", value),
              "year": str}
    yield "search/f/values.json", _dumps({"attrs": list(ATTRS), "values": {
        name: [[value, labels[name](value)] for value in column[1:]] for name, column in zip(ATTRS, values)}})


def browser_fold(alphabet: set[str]) -> dict[str, str]:
    """What the browser needs besides `normalize('NFKC').toLowerCase()` to fold exactly as
    `fold` does, restricted to characters whose result can occur in the indexed text
    (any other character cannot match either way)."""
    out = {}
    for source, target in t2s_table().items():
        if target in alphabet:
            out[source] = fold(source)
    for c in _casefold_differs():
        folded = fold(c)
        if folded and all(x in alphabet for x in folded):
            out.setdefault(c, folded)
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def _casefold_differs() -> tuple[str, ...]:
    """Characters (planes 0-1) whose casefold differs from JavaScript's toLowerCase (ß -> ss …)."""
    found = []
    for point in range(0x20000):
        c = chr(point)
        if 0xD800 <= point <= 0xDFFF:
            continue
        n = unicodedata.normalize("NFKC", c)
        if n.casefold() != n.lower():
            found.append(c)
    return tuple(found)


# ---------------------------------------------------------------- the query, as search.js runs it

class TooShort(ValueError):
    """A term of one character: 请至少输入两个字."""


Match = dict[int, tuple[int, int]]  # record -> (class, tier)


def query_index(load: Callable[[str], bytes], query: str) -> list[tuple[int, int]]:
    """(record, class) of every match, in rank order, reading the files through `load(relpath)`.

    Mirrors search.js: fold the query, split into terms, answer each from its keys, AND them.
    """
    meta = json.loads(load("search/meta.json"))
    wanted = terms(query)
    if not wanted:
        return []
    if any(len(t) < 2 for t in wanted):
        raise TooShort(query)
    found: Match | None = None
    for term in wanted:
        matches = _match_term(load, meta, term)
        found = matches if found is None else {
            rid: (max(cls, matches[rid][0]), tier) for rid, (cls, tier) in found.items() if rid in matches}
        if not found:
            return []
    assert found is not None
    if len(wanted) > 1:
        found = {rid: (max(cls, PREFIX), tier) for rid, (cls, tier) in found.items()}
    first_exited = meta["first_exited"]
    ranked = sorted(found.items(), key=lambda item: (item[0] >= first_exited, item[1][0], item[1][1], item[0]))
    return [(rid, cls) for rid, (cls, _) in ranked]


def _list(load, meta, key: str) -> list[int]:
    return postings.read_shard(load(f"search/p/{postings.fnv1a(key) % meta['shards']}.bin"), key)


def _entries(values: list[int]) -> list[tuple[int, int, int]]:
    """(record, tier, class) of a b or a list."""
    out, rid = [], 0
    for value in values:
        rid += value >> 4
        out.append((rid, (value >> 2) & 3, value & 3))
    return out


def _best(out: Match, rid: int, cls: int, tier: int) -> None:
    if rid not in out or out[rid][0] > cls:
        out[rid] = (cls, tier)


def _match_term(load, meta, term: str) -> Match:
    if not is_word_term(term):
        return _match_chinese(load, meta, term)
    out: Match = {}
    for rid, tier, cls in _entries(_list(load, meta, "a" + term)):
        _best(out, rid, cls, tier)
    if _LETTERS.fullmatch(term):
        try:
            entries = [(c, tuple(s.split())) for c, s in json.loads(load(f"search/y/{term[0]}.json"))]
        except FileNotFoundError:
            entries = []
        for chars in sorted(spelled(entries, term)):
            for rid, (cls, tier) in _match_chinese(load, meta, chars).items():
                _best(out, rid, cls, tier)
    return out


def cover(length: int) -> list[int]:
    """Starts of the bigrams that cover a term of `length` characters: every other one, and
    the last (ABCD: AB, CD; ABCDE: AB, CD, DE). Found at their offsets, they are the term."""
    return sorted({*range(0, length - 1, 2), length - 2})


def _match_chinese(load, meta, term: str) -> Match:
    if len(term) == 2:
        return {rid: (cls, tier) for rid, tier, cls in _entries(_list(load, meta, "b" + term))}
    starts = cover(len(term))
    lists = [_positions(_entries(_list(load, meta, "b" + term[k:k + 2])), _list(load, meta, "q" + term[k:k + 2]))
             for k in starts]
    out: Match = {}
    for rid, (tier, places) in lists[0].items():
        for place in places:
            offset, slot = divmod(place, postings.SLOTS)
            ends = 0
            for k, found in zip(starts[1:], lists[1:]):
                nxt = found.get(rid)
                hit = None if nxt is None else nxt[1].get((offset + k) * postings.SLOTS + slot)
                if hit is None:
                    break
                ends = hit
            else:
                cls = OTHER if slot else EXACT if offset == 0 and ends else PREFIX if offset == 0 else IN_NAME
                _best(out, rid, cls, tier)
    return out


def _positions(entries: list[tuple[int, int, int]], q: list[int]) -> dict[int, tuple[int, dict[int, int]]]:
    """record -> (tier, {offset * SLOTS + slot: ends})."""
    out, at = {}, 0
    for rid, tier, _ in entries:
        count = q[at]
        out[rid] = (tier, {p >> 1: p & 1 for p in q[at + 1:at + 1 + count]})
        at += 1 + count
    return out
