"""The search index: records from the model -> sharded, deterministic JSON files under search/.

Exact by construction, with no word segmentation:

- Every record has a *normalised text*: its fields, each normalised character by
  character (`fold`: NFKC, case folding, traditional -> simplified with OpenCC's
  character table, punctuation dropped), joined by a line break so no match crosses a
  field.
- A query term that holds any non-ASCII character matches a record iff the term is a
  substring of that text. Every adjacent pair of characters (a bigram) is indexed with
  its positions, so a term of n >= 2 characters is answered by its n-1 bigrams found
  at consecutive positions: no false hit, no miss, at any length.
- A term of ASCII letters and digits matches iff it is the prefix of a *word*: an ASCII
  run of the text (`6-18-02-04` -> `6180204`, `〔2023〕22号` -> `202322`), or the full
  pinyin or the initials of up to `PINYIN_CHARS` consecutive Chinese characters, from
  any character on, of a name, an institution, a trade or a place (`baotou`, `baot`,
  `bt` for 包头). Each prefix of >= 2 characters of a word is a key.
- Keys are sharded by FNV-1a hash, so a query fetches one small file per key; the
  display records and the filter attributes are blocks by record number, fetched
  only for the matches. Record numbers follow the tie order (listed before exited,
  province tier first, higher employment rate first), so ranking needs no extra data.

`search.js` (site_templates/assets/) implements the same query; `query_index` below
is its Python mirror, for tests.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from .model import TIERS, Directory, Region

#: pinyin words: the full pinyin and the initials of up to this many consecutive characters
PINYIN_CHARS = 4
#: display records per block file, filter attributes per block file (chosen from measurements, see README)
DISPLAY_BLOCK = 16
ATTR_BLOCK = 512
#: target raw bytes of one postings shard; the shard count is the next power of two
SHARD_BYTES = 24_000
#: classes of a match, best first (see `rank`): whole name, name prefix, inside the name, other fields
EXACT, PREFIX, IN_NAME, OTHER = range(4)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")
_WORD = re.compile(r"[a-z0-9]+")


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


def normalise(text: str) -> str:
    return "".join(fold(c) for c in text)


def terms(query: str) -> list[str]:
    """The query's terms: normalised, split at white space, empty ones dropped."""
    return normalise(query).split()


def is_word_term(term: str) -> bool:
    return _WORD.fullmatch(term) is not None


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Record:
    """One search hit: the page it opens, the text it is found by, what a result shows."""

    url: str  # relative to the site root: "brands/<id>/"
    kind: str  # brand / institution / region
    name: str  # the first field: ranking compares the query with it
    fields: tuple[str, ...]  # other fields, also found by pinyin (institution, trade, places)
    codes: tuple[str, ...]  # fields found by their text only (codes, labels, document numbers)
    order: tuple  # tie order (smaller first)
    exited: bool
    display: Mapping[str, object]
    attrs: Mapping[str, object]  # filterable values

    def all_fields(self) -> Iterator[tuple[str, bool]]:
        """(normalised field, whether pinyin finds it), name first; empty fields left out."""
        for number, field in enumerate((self.name, *self.fields, *self.codes)):
            if field:
                yield normalise(field), number <= len(self.fields)

    def text(self) -> str:
        """The normalised text that is searched: name first, then each field on its own line."""
        return "\n".join(field for field, _ in self.all_fields())

    def words(self) -> tuple[set[str], set[str]]:
        """(ASCII runs, pinyin words): a term matches a prefix of either."""
        runs: set[str] = set()
        spoken: set[str] = set()
        for field, pinyin in self.all_fields():
            found = _field_words(field, pinyin)
            runs.update(word for word, _ in found[0])
            spoken.update(word for word, _ in found[1])
        return runs, spoken


def _prefecture(directory: Directory, region: Region) -> str | None:
    chain = directory.ancestors(region.code)
    return next((r.code for r in chain if r.level == "prefecture"), None)


def _places(directory: Directory, *regions: Region) -> tuple[str, ...]:
    """The names of the regions and of all above them, each once (a match never spans two)."""
    return tuple(dict.fromkeys(r.name for region in regions for r in directory.ancestors(region.code)))


def brand_records(directory: Directory) -> Iterator[Record]:
    for brand in directory.brands.values():
        latest = brand.latest
        rate = latest.employment_rate if latest else None
        location = brand.institution.region
        status = "exited" if brand.exited else "listed"
        yield Record(
            url=f"brands/{brand.brand_id}/", kind="brand", name=brand.name,
            fields=(brand.institution.name, brand.occupation_name, *_places(directory, brand.region, location)),
            codes=(brand.occupation_code or "", directory.label("brands", "tier", brand.tier),
                   directory.label("brands", "focus_area", brand.focus_area) if brand.focus_area else "",
                   brand.document_no, "已退出" if brand.exited else ""),
            order=(TIERS.index(brand.tier), -(rate if rate is not None else -1.0), 0),
            exited=brand.exited,
            display={"institution": brand.institution.name, "occupation": brand.occupation_name,
                     "region": brand.region.name, "tier": brand.tier, "status": status,
                     "employment_rate": None if rate is None else round(rate, 4),
                     "year": latest.year if latest else None},
            attrs={"tier": brand.tier, "prefecture": _prefecture(directory, location)
                   or _prefecture(directory, brand.region), "status": status,
                   "occupation": brand.occupation_code, "focus_area": brand.focus_area,
                   "year": brand.published_year},
        )


def institution_records(directory: Directory) -> Iterator[Record]:
    for institution in directory.institutions.values():
        removed = institution.status == "removed"
        yield Record(
            url=f"institutions/{institution.institution_id}/", kind="institution", name=institution.name,
            fields=_places(directory, institution.region),
            codes=(directory.label("institutions", "kind", institution.kind),),
            order=(len(TIERS), 0.0, 1), exited=removed,
            display={"region": institution.region.name, "status": "exited" if removed else "listed"},
            attrs={"tier": None, "prefecture": _prefecture(directory, institution.region),
                   "status": "exited" if removed else "listed", "occupation": None, "focus_area": None,
                   "year": None},
        )


def region_records(directory: Directory) -> Iterator[Record]:
    """Regions that have a page: those with brands in their subtree (as render.plan_pages)."""
    with_brands: set[str] = set()
    for brand in directory.brands.values():
        with_brands.update(r.code for r in directory.ancestors(brand.region.code))
    for region in directory.regions.values():
        if region.code not in with_brands:
            continue
        path = " ".join(r.name for r in directory.ancestors(region.code))
        yield Record(
            url=f"regions/{region.code}/", kind="region", name=region.name,
            fields=_places(directory, region), codes=(region.code,),
            order=(TIERS.index(region.level) if region.level in TIERS else len(TIERS), 0.0, 2), exited=False,
            display={"region": path, "level": region.level, "status": "listed"},
            attrs={"tier": None, "prefecture": _prefecture(directory, region), "status": "listed",
                   "occupation": None, "focus_area": None, "year": None},
        )


#: every kind of record, in one place: a later directory (labour brands …) adds its function here
RECORD_KINDS: tuple[Callable[[Directory], Iterable[Record]], ...] = (
    brand_records, institution_records, region_records)


def collect_records(directory: Directory,
                    kinds: Sequence[Callable[[Directory], Iterable[Record]]] = RECORD_KINDS) -> list[Record]:
    """Every record, numbered in tie order: listed before exited, then `order`, then URL."""
    records = [record for kind in kinds for record in kind(directory)]
    return sorted(records, key=lambda r: (r.exited, r.order, r.url))


# ---------------------------------------------------------------- words (pinyin)

@lru_cache(maxsize=262144)
def _pinyin(run: str) -> tuple[str, ...]:
    """The toneless pinyin of each character of a run of Chinese characters ('' if none)."""
    from pypinyin import Style, lazy_pinyin

    full = lazy_pinyin(run, style=Style.NORMAL, errors=lambda chars: [""] * len(chars))
    if len(full) != len(run):  # a character pypinyin groups or drops: read one by one
        full = [(lazy_pinyin(c, errors=lambda x: [""]) or [""])[0] for c in run]
    return tuple(normalise(s) if _WORD.fullmatch(normalise(s) or "-") else "" for s in full)


Words = tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]


@lru_cache(maxsize=262144)
def _field_words(text: str, pinyin: bool) -> Words:
    """((ASCII run, starts the field), …), ((pinyin word, starts the field), …) of a normalised field.

    Pinyin words are the full pinyin and the initials of up to PINYIN_CHARS consecutive
    Chinese characters from each one on (包头市: baotoushi, toushi, shi, bts, ts); their
    prefixes are what a term matches."""
    runs = tuple((m.group(), m.start() == 0) for m in _WORD.finditer(text))
    words: dict[tuple[str, bool], None] = {}
    if pinyin:
        for match in _HAN.finditer(text):
            full = _pinyin(match.group())
            for i in range(len(full)):
                window = full[i:i + PINYIN_CHARS]
                window = window[:window.index("")] if "" in window else window
                if window:
                    begins = match.start() + i == 0
                    words[("".join(window), begins)] = None
                    words[("".join(s[0] for s in window), begins)] = None
    return runs, tuple(words)


# ---------------------------------------------------------------- the index

def fnv1a(key: str) -> int:
    """32-bit FNV-1a of the key's UTF-8 bytes (search.js computes the same)."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


@dataclass(frozen=True)
class Index:
    records: list[Record]
    bigrams: dict[str, dict[int, list[int]]]  # "ab" -> record -> [position*3 + flag]
    prefixes: dict[str, dict[int, int]]  # "bt" -> record -> best class


def _flag(start: int, name_len: int) -> int:
    """0: the bigram is the last of the name; 1: inside the name; 2: another field."""
    if start + 2 == name_len:
        return 0
    return 1 if start + 2 < name_len else 2


def build_index(records: list[Record]) -> Index:
    bigrams: dict[str, dict[int, list[int]]] = {}
    prefixes: dict[str, dict[int, int]] = {}

    def add(key: str, rid: int, cls: int) -> None:
        known = prefixes.setdefault(key, {})
        if known.get(rid, 9) > cls:
            known[rid] = cls

    for rid, record in enumerate(records):
        name = normalise(record.name)
        text = record.text()
        for start in range(len(text) - 1):
            pair = text[start:start + 2]
            if pair[0].isspace() or pair[1].isspace():
                continue
            bigrams.setdefault(pair, {}).setdefault(rid, []).append(start * 3 + _flag(start, len(name)))
        for number, (field, pinyin) in enumerate(record.all_fields()):
            in_name = number == 0 and field == name
            runs, spoken = _field_words(field, pinyin)
            for word, begins in (*runs, *spoken):
                cls = (PREFIX if begins else IN_NAME) if in_name else OTHER
                for end in range(2, len(word) + 1):
                    add(word[:end], rid, cls)
    return Index(records, bigrams, prefixes)


def _encode_bigram(postings: dict[int, list[int]]) -> list[int]:
    """[record delta, count, positions…, record delta, …]"""
    out: list[int] = []
    previous = 0
    for rid in sorted(postings):
        values = postings[rid]
        out += [rid - previous, len(values), *values]
        previous = rid
    return out


def _encode_prefix(postings: dict[int, int]) -> list[int]:
    """[(record delta) * 4 + class, …]"""
    out: list[int] = []
    previous = 0
    for rid in sorted(postings):
        out.append((rid - previous) * 4 + postings[rid])
        previous = rid
    return out


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def search_files(directory: Directory,
                 kinds: Sequence[Callable[[Directory], Iterable[Record]]] = RECORD_KINDS
                 ) -> Iterator[tuple[str, bytes]]:
    """Every file of search/: meta.json, p/<shard>.json, r/<block>.json, f/<block>.json."""
    records = collect_records(directory, kinds)
    index = build_index(records)
    keyed: list[tuple[str, list[int]]] = [("b" + k, _encode_bigram(v)) for k, v in index.bigrams.items()]
    keyed += [("a" + k, _encode_prefix(v)) for k, v in index.prefixes.items()]
    size = sum(len(k) + 4 * len(v) for k, v in keyed)
    shards = 1 << max(0, math.ceil(math.log2(max(1, size / SHARD_BYTES))))
    grouped: dict[int, dict[str, list[int]]] = {}
    for key, value in keyed:
        grouped.setdefault(fnv1a(key) % shards, {})[key] = value
    for shard in range(shards):
        yield f"search/p/{shard}.json", _dumps(grouped.get(shard, {}))
    for start in range(0, len(records), DISPLAY_BLOCK):
        block = [{"url": r.url, "kind": r.kind, "title": r.name, **r.display}
                 for r in records[start:start + DISPLAY_BLOCK]]
        yield f"search/r/{start // DISPLAY_BLOCK}.json", _dumps(block)
    # filter values as numbers into per-attribute value lists (0 = none), so a block stays small
    names = ("kind", "tier", "prefecture", "status", "occupation", "focus_area", "year")
    rows = [(r.kind, *(r.attrs[n] for n in names[1:])) for r in records]
    values = [[None, *sorted({row[i] for row in rows} - {None}, key=str)] for i in range(len(names))]
    codes = [{value: code for code, value in enumerate(column)} for column in values]
    for start in range(0, len(records), ATTR_BLOCK):
        block = [[codes[i][value] for i, value in enumerate(row)] for row in rows[start:start + ATTR_BLOCK]]
        yield f"search/f/{start // ATTR_BLOCK}.json", _dumps(block)
    alphabet = {c for r in records for c in r.text()}
    prefectures = {r.attrs["prefecture"] for r in records}
    yield "search/meta.json", _dumps({
        "version": 1, "records": len(records), "shards": shards, "display_block": DISPLAY_BLOCK,
        "attr_block": ATTR_BLOCK, "attrs": list(names), "values": dict(zip(names, values)),
        "first_exited": next((i for i, r in enumerate(records) if r.exited), len(records)),
        "fold": browser_fold(alphabet),
        "labels": {"tier": dict(directory.labels[("brands", "tier")]),
                   "status": {"listed": "在目录中", "exited": "已退出"},
                   "kind": {"brand": "品牌", "institution": "培训机构", "region": "地区"},
                   "prefecture": {code: directory.regions[code].name for code in sorted(prefectures - {None})}},
    })


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


def query_index(load: Callable[[str], object], query: str) -> list[tuple[int, int]]:
    """(record, class) of every match, in rank order, reading the files through `load(relpath)`.

    Mirrors search.js: fold the query, split into terms, answer each from its keys, AND them.
    """
    meta = load("search/meta.json")
    wanted = terms(query)
    if not wanted:
        return []
    if any(len(t) < 2 for t in wanted):
        raise TooShort(query)
    found: dict[int, int] | None = None
    for term in wanted:
        matches = _match_term(load, meta, term)
        if found is None:
            found = matches
        else:
            found = {rid: max(cls, matches[rid]) for rid, cls in found.items() if rid in matches}
        if not found:
            return []
    assert found is not None
    if len(wanted) > 1:
        found = {rid: max(cls, PREFIX) for rid, cls in found.items()}
    first_exited = meta["first_exited"]  # type: ignore[index]
    return sorted(found.items(), key=lambda item: (item[0] >= first_exited, item[1], item[0]))


def _shard(load: Callable[[str], object], meta, key: str) -> list[int]:
    return load(f"search/p/{fnv1a(key) % meta['shards']}.json").get(key, [])  # type: ignore[union-attr]


def _match_term(load, meta, term: str) -> dict[int, int]:
    if is_word_term(term):
        out: dict[int, int] = {}
        rid = 0
        for value in _shard(load, meta, "a" + term):
            rid += value >> 2
            out[rid] = value & 3
        return out
    lists = [_decode_bigram(_shard(load, meta, "b" + term[i:i + 2])) for i in range(len(term) - 1)]
    out = {}
    for rid, positions in lists[0].items():
        best = None
        for value in positions.values():
            start = value // 3
            cls = OTHER
            ok = True
            last = value
            for k in range(1, len(lists)):
                nxt = lists[k].get(rid)
                hit = None if nxt is None else nxt.get(start + k)
                if hit is None:
                    ok = False
                    break
                last = hit
            if not ok:
                continue
            flag_first, flag_last = value % 3, last % 3
            if flag_first < 2 and flag_last < 2:
                cls = EXACT if start == 0 and flag_last == 0 else PREFIX if start == 0 else IN_NAME
            best = cls if best is None else min(best, cls)
        if best is not None:
            out[rid] = best
    return out


def _decode_bigram(values: list[int]) -> dict[int, dict[int, int]]:
    """record -> position -> encoded value."""
    out: dict[int, dict[int, int]] = {}
    i, rid = 0, 0
    while i < len(values):
        rid += values[i]
        count = values[i + 1]
        out[rid] = {v // 3: v for v in values[i + 2:i + 2 + count]}
        i += 2 + count
    return out
