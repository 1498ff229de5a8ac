"""Search regression queries and their expected results, computed from the data by a plain scan.

Shared by the index test (a Python reader of the written files) and the browser tests
(search.js in Chromium). The expected set of a query is every record that has each term:

- a Chinese term: a substring of one of its fields (normalised);
- an ASCII term: the start of an ASCII run of letters and digits in one of its fields, or
  (letters only) the spelling of a Chinese string of 2-4 characters, taken from a place or
  trade name of any record, that the record contains: the term is that string's initials,
  or begins its full pinyin and reaches into its last character; if the term spells no
  string, with front and back nasals counted as one (an/ang …).

The scan tries every substring of every place and trade name against the term; it uses no
index, no shards and none of the index's pinyin windows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from skillbrands.model import Directory
from skillbrands.search import Record, collect_records, normalise, terms

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")
RUN = re.compile(r"[a-z0-9]+")


def expected_urls(records: list[Record], query: str) -> set[str]:
    """The plain scan: no index, no shards, just the fields of every record."""
    wanted = terms(query)
    names = frozenset(n for r in records for n in r.spoken)
    out = set()
    for record in records:
        fields = [f for f in record.slots() if f]
        if all(_has(fields, term, names) for term in wanted):
            out.add(record.url)
    return out


def _has(fields: list[str], term: str, names: frozenset[str]) -> bool:
    if not RUN.fullmatch(term):
        return any(term in field for field in fields)
    if any(run.startswith(term) for field in fields for run in RUN.findall(field)):
        return True
    return term.isalpha() and any(c in field for c in spelled_by(term, names) for field in fields)


@lru_cache(maxsize=256)
def spelled_by(term: str, names: frozenset[str]) -> frozenset[str]:
    """Exact spellings; if there are none, front and back nasals as one (hanggong -> 焊工)."""
    return (_spelled_by(term, names, lambda s: s)
            or _spelled_by(term.replace("ng", "n"), names, lambda s: s.removesuffix("g") if s.endswith("ng") else s))


def _spelled_by(term: str, names: frozenset[str], sound) -> frozenset[str]:
    from pypinyin import Style, lazy_pinyin

    found = set()
    for name in names:
        for run in HAN.findall(normalise(name)):
            syllables = [normalise(s) for s in lazy_pinyin(run, style=Style.NORMAL)]
            if len(syllables) != len(run):
                continue
            for i in range(len(run)):
                for j in range(i + 2, min(i + 4, len(run)) + 1):
                    spoken = syllables[i:j]
                    if not all(s.isalpha() and s.isascii() for s in spoken):
                        continue
                    initials = "".join(s[0] for s in spoken)
                    heard = [sound(s) for s in spoken]
                    full = "".join(heard)
                    if initials == term or (full.startswith(term) and len(term) > len("".join(heard[:-1]))):
                        found.add(run[i:j])
    return frozenset(found)


def regression_queries(directory: Directory) -> list[str]:
    """At least 40 queries of every kind the public types, picked from the data itself."""
    from opencc_purepy import OpenCC
    from pypinyin import Style, lazy_pinyin

    brands = list(directory.brands.values())
    regions = list(directory.regions.values())
    prefecture = next(r for r in regions if r.level == "prefecture" and next(directory.brands_under(r.code), None))
    county = next(r for r in regions if r.level == "county" and directory.brands_by_region.get(r.code))
    province = next(r for r in regions if r.level == "province")
    brand, other = brands[0], brands[len(brands) // 2]
    institution = brands[-1].institution
    to_traditional = OpenCC("s2t").convert
    queries = [
        # 2- and 4-character words
        "焊工", "养老护理", "中式烹调", "家政", "培训",
        # inner substrings of names
        brand.name[1:3], brand.name[2:6], other.name[len(other.name) // 2:len(other.name) // 2 + 3],
        institution.name[1:3], institution.name[-4:],
        # places at three levels, short forms
        province.name, province.name[:2], prefecture.name, prefecture.name[:2], county.name, county.name[:2],
        "包头", "鄂尔多斯", "锡林郭勒", "钢城", "多伦",
        # institution fragments
        "技工学校", "职业技术", "振达",
        # occupation codes, whole and as a prefix
        brand.occupation_code or "6-18-02-04", (other.occupation_code or "4-10")[:4], "6-18-02-04",
        # document numbers and fragments
        brand.document_no, "〔2023〕22", "2023", "内人社办发",
        # pinyin and initials
        "baotou", "hangong", "eerduosi", "".join(lazy_pinyin(prefecture.name[:2])),
        "bt", "".join(lazy_pinyin(county.name[:2], style=Style.FIRST_LETTER)), "hanggong", "baot", "xilin",
        # traditional characters, full-width forms, case
        "錫林郭勒", "職業", to_traditional(brand.name[:4]), "ＢＡＯＴＯＵ", "BaoTou",
        # several words
        "包头 焊工", "赤峰 养老", f"{prefecture.name[:2]} 培训 {brand.occupation_name[:2]}", "bt 焊工",
        # no result
        "火星基地", "zzzzqx", "焊工 火星",
        # punctuation inside a term
        "焊·工", "“钢城”",
    ]
    return list(dict.fromkeys(q for q in queries if q and all(len(t) >= 2 for t in terms(q))))


def records_of(directory: Directory) -> list[Record]:
    return collect_records(directory)
