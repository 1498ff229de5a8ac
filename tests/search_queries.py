"""Search regression queries and their expected results, computed from the data by a plain scan.

Shared by the index test (a Python reader of the written files) and the browser test
(search.js in Chromium). The expected set of a query is every record whose normalised
text contains each term (a term of ASCII letters and digits: begins one of its ASCII runs, or the full pinyin or
the initials of up to 4 consecutive Chinese characters of its name, institution, trade or
places).
"""

from __future__ import annotations

from skillbrands.model import Directory
from skillbrands.search import Record, collect_records, is_word_term, terms


def expected_urls(records: list[Record], query: str) -> set[str]:
    """The plain scan: no index, no shards, just the text of every record."""
    wanted = terms(query)
    out = set()
    for record in records:
        text = record.text()
        runs, spoken = record.words()
        if all(_scan(text, runs, spoken, term) for term in wanted):
            out.add(record.url)
    return out


def _scan(text: str, runs: set[str], spoken: set[str], term: str) -> bool:
    if is_word_term(term):  # a prefix of an ASCII run, or a whole pinyin word
        return any(word.startswith(term) for word in runs | spoken)
    return term in text


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
