"""The postings of the search index, built with numpy: every key's list, varint-coded, in
hash shards.

Two kinds of key:

- `b` + two characters (a *bigram*) for every adjacent pair of characters in a field
  (fields never join: a match cannot cross from one field to the next). Its list holds
  one entry per record, `delta * 16 + tier * 4 + class`, where delta is the record number
  minus the previous entry's, tier the record's tie tier (0-3) and class how well the
  bigram *alone* matches (see `search.EXACT` …). Beside it, `q` + the same two
  characters holds, entry by entry, `count, position…` with position
  `(offset * SLOTS + slot) * 2 + ends`: the field (slot) it is in, its offset there, and
  whether it ends the field. Two-character terms read only the `b` list; longer terms
  read both and check that their bigrams sit at consecutive offsets of one field.
- `a` + a prefix (>= 2 characters) of an ASCII run of letters and digits (`6180204`,
  `202322`, `cad`): the same entries as a `b` list, no positions.

Built once per record *field value* rather than per record: a value that many records
share (an institution, a trade, a place) is split into bigrams once, then its
occurrences are repeated for each record holding it (`np.repeat`), sorted by key with a
stable sort (so records stay in order) and cut into entries. At 200,000 brands that is
about 15 million positions, in arrays of 4-byte integers.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

#: fields per record (slot numbers 0-15); slot 0 is the name
SLOTS = 16
#: characters of one field that are indexed (every field in the data is far shorter)
FIELD_CHARS = 1000
#: classes of a match, best first: whole name, name prefix, inside the name, another field
EXACT, PREFIX, IN_NAME, OTHER = range(4)

_RUN = re.compile(r"[a-z0-9]+")
#: Python's str.isspace() characters below U+3001: they separate terms and never join a bigram
_SPACES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)


@dataclass(frozen=True)
class Postings:
    keys: list[str]  # sorted
    blobs: list[bytes]  # the varint-coded list of each key


def build(fields: Sequence[Sequence[str]], tiers: Sequence[int]) -> Postings:
    """The postings of records given as their normalised fields (slot order) and tie tiers."""
    groups: dict[tuple[int, str], int] = {}
    member_gid: list[int] = []
    member_rid: list[int] = []
    for rid, slots in enumerate(fields):
        if len(slots) > SLOTS:
            raise ValueError(f"a search record has {len(slots)} fields; at most {SLOTS}")
        for slot, value in enumerate(slots):
            if value:
                member_gid.append(groups.setdefault((slot, value[:FIELD_CHARS]), len(groups)))
                member_rid.append(rid)
    values = list(groups)
    occ = _occurrences(values)
    return _entries(occ, np.array(member_gid, dtype=np.int64), np.array(member_rid, dtype=np.int64),
                    np.asarray(tiers, dtype=np.int64))


@dataclass(frozen=True)
class _Occurrences:
    group: np.ndarray  # sorted
    key: np.ndarray
    position: np.ndarray  # 0 for `a` keys (they have no q list)
    cls: np.ndarray
    names: list[str]  # key id -> key


def _occurrences(values: list[tuple[int, str]]) -> _Occurrences:
    """Every bigram and ASCII-run prefix of every distinct (slot, value), vectorised."""
    texts = [value for _, value in values]
    slot_of = np.array([slot for slot, _ in values], dtype=np.int64)
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
    chars = np.frombuffer(("\n".join(texts) + "\n").encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    spaced = np.isin(chars, _SPACES)
    at = np.flatnonzero(~spaced[:-1] & ~spaced[1:])  # a bigram starts here
    group = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)[at]
    offset = at - starts[group]
    slot = slot_of[group]
    ends = (offset + 2 == lengths[group]).astype(np.int64)
    position = (offset * SLOTS + slot) * 2 + ends
    cls = np.where(slot == 0, np.where(offset == 0, np.where(ends == 1, EXACT, PREFIX), IN_NAME), OTHER)
    codes, key = np.unique((chars[at] << 21) | chars[at + 1], return_inverse=True)
    names = ["b" + chr(int(c) >> 21) + chr(int(c) & 0x1FFFFF) for c in codes]

    # ASCII runs: few, in Python
    a_group, a_key, a_cls = [], [], []
    a_ids: dict[str, int] = {}
    for gid, (slot_no, text) in enumerate(values):
        if not _RUN.search(text):
            continue
        for match in _RUN.finditer(text):
            run = match.group()
            run_cls = (PREFIX if match.start() == 0 else IN_NAME) if slot_no == 0 else OTHER
            for end in range(2, len(run) + 1):
                a_group.append(gid)
                a_key.append(a_ids.setdefault("a" + run[:end], len(a_ids)))
                a_cls.append(run_cls)
    order = sorted(a_ids, key=a_ids.get)  # type: ignore[arg-type]
    a_key_arr = np.array(a_key, dtype=np.int64) + len(names)
    names += order
    all_group = np.concatenate((group, np.array(a_group, dtype=np.int64)))
    sort = np.argsort(all_group, kind="stable")
    return _Occurrences(
        group=all_group[sort],
        key=np.concatenate((key.astype(np.int64), a_key_arr))[sort],
        position=np.concatenate((position, np.zeros(len(a_group), dtype=np.int64)))[sort],
        cls=np.concatenate((cls, np.array(a_cls, dtype=np.int64)))[sort],
        names=names)


#: bit layout of one row, so a plain sort orders rows by key, record, position:
#: key (20 bits) | record (21 bits) | position (16 bits) | class (2 bits)
_RID_SHIFT, _KEY_SHIFT = 18, 39
MAX_RECORDS, MAX_KEYS = 1 << 21, 1 << 20


#: rows (a key's occurrence in one record field) per pass: bounds the memory (about 100 bytes a row)
ROWS_PER_PASS = 3_000_000


def _entries(occ: _Occurrences, member_gid: np.ndarray, member_rid: np.ndarray, tiers: np.ndarray) -> Postings:
    """The lists of all keys, built a range of keys at a time (ROWS_PER_PASS rows each)."""
    if len(tiers) > MAX_RECORDS or len(occ.names) > MAX_KEYS:
        raise ValueError(f"search index too large: {len(tiers)} records, {len(occ.names)} keys")
    groups = int(member_gid.max()) + 1 if len(member_gid) else 0
    members = np.bincount(member_gid, minlength=groups)
    rows_of_key = np.bincount(occ.key, weights=members[occ.group], minlength=len(occ.names))
    cuts = np.searchsorted(np.cumsum(rows_of_key), np.arange(ROWS_PER_PASS, rows_of_key.sum(), ROWS_PER_PASS))
    bounds = [0, *sorted(set(cuts.tolist()) - {0}), len(occ.names)]
    keys: list[str] = []
    blobs: list[bytes] = []
    for low, high in zip(bounds, bounds[1:]):
        keep = (occ.key >= low) & (occ.key < high)
        part = _Occurrences(occ.group[keep], occ.key[keep], occ.position[keep], occ.cls[keep], occ.names)
        _pass(part, groups, member_gid, member_rid, tiers, keys, blobs)
    order_keys = sorted(range(len(keys)), key=keys.__getitem__)
    return Postings([keys[i] for i in order_keys], [blobs[i] for i in order_keys])


def _pass(occ: _Occurrences, groups: int, member_gid: np.ndarray, member_rid: np.ndarray, tiers: np.ndarray,
          keys: list[str], blobs: list[bytes]) -> None:
    count = np.bincount(occ.group, minlength=groups)
    first = np.concatenate(([0], np.cumsum(count)[:-1])).astype(np.int64)
    code = (occ.key << _KEY_SHIFT) | (occ.position << 2) | occ.cls
    # every occurrence of every member, as one sortable number
    per = count[member_gid]
    total = int(per.sum())
    row_occ = np.repeat(first[member_gid] - (np.cumsum(per) - per), per) + np.arange(total, dtype=np.int64)
    rows = code[row_occ]
    del row_occ
    rows |= np.repeat(member_rid << _RID_SHIFT, per)
    del per
    rows.sort()
    entry_of = rows >> _RID_SHIFT  # key and record
    new = np.ones(total, dtype=bool)
    np.not_equal(entry_of[1:], entry_of[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    entry_key = entry_of[starts] >> (_KEY_SHIFT - _RID_SHIFT)
    entry_rid = entry_of[starts] & (MAX_RECORDS - 1)
    del entry_of
    entry_count = np.diff(np.append(starts, total))
    entry_cls = np.minimum.reduceat(rows & 3, starts) if total else rows & 3
    key_start = np.ones(len(starts), dtype=bool)
    np.not_equal(entry_key[1:], entry_key[:-1], out=key_start[1:])
    previous = np.concatenate(([0], entry_rid[:-1]))
    previous[key_start] = 0
    listed = (entry_rid - previous) * 16 + tiers[entry_rid] * 4 + entry_cls
    del previous, entry_cls

    # q lists: count, positions… per entry (kept for b keys only)
    q = np.empty(total + len(starts), dtype=np.int64)
    q[starts + np.arange(len(starts))] = entry_count
    at = np.arange(total, dtype=np.int64) + np.cumsum(new)
    q[at] = (rows >> 2) & 0xFFFF
    del at, rows, new

    bytes_listed, cut_listed = varints(listed)
    bytes_q, cut_q = varints(q)
    key_ids = entry_key[key_start].tolist()
    entry_bounds = np.append(np.flatnonzero(key_start), len(starts))
    row_bounds = (np.append(starts, total)[entry_bounds] + entry_bounds).tolist()
    listed_bounds = cut_listed[entry_bounds].tolist()
    q_bounds = cut_q[row_bounds].tolist()
    for n, key_id in enumerate(key_ids):
        name = occ.names[key_id]
        keys.append(name)
        blobs.append(bytes_listed[listed_bounds[n]:listed_bounds[n + 1]])
        if name[0] == "b":
            keys.append("q" + name[1:])
            blobs.append(bytes_q[q_bounds[n]:q_bounds[n + 1]])


# ---------------------------------------------------------------- varints and shards

def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """LEB128 (7 bits a byte, high bit = more) of non-negative integers < 2**35, and the
    byte offset where each value starts (one more at the end)."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) and (values.min() < 0 or values.max() >= 1 << 35):
        raise ValueError("varint out of range")
    size = np.ones(len(values), dtype=np.int8)
    for bits in (7, 14, 21, 28):
        size += values >= (1 << bits)
    cut = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(size, out=cut[1:])
    table = np.empty((len(values), 5), dtype=np.uint8)  # byte k of each value, where it has one
    for k in range(5):
        table[:, k] = ((values >> (7 * k)) & 0x7F) | ((size > k + 1) * 0x80)
    return table[np.arange(5) < size[:, None]].tobytes(), cut


def encode_varints(values: Iterable[int]) -> bytes:
    """The same as `varints`, for a few numbers (shard headers)."""
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def decode_varints(data: bytes, start: int = 0, end: int | None = None) -> list[int]:
    out, value, shift = [], 0, 0
    for byte in data[start:end]:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            out.append(value)
            value, shift = 0, 0
    return out


def fnv1a(key: str) -> int:
    """32-bit FNV-1a of the key's UTF-8 bytes (search.js computes the same)."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def shard_files(postings: Postings, shard_bytes: int) -> tuple[int, Iterator[tuple[int, bytes]]]:
    """(number of shards, (shard, file bytes) …). A shard file is gzip (stored compressed, so
    it travels compressed from any server: web servers rarely compress binary files) of
    varints: the number of keys, then per key the UTF-8 length, the key, the list's byte
    length; then the lists."""
    size = sum(len(k.encode("utf-8")) + len(b) + 4 for k, b in zip(postings.keys, postings.blobs))
    shards = 1
    while shards * shard_bytes < size:
        shards *= 2
    members: list[list[int]] = [[] for _ in range(shards)]
    for n, key in enumerate(postings.keys):
        members[fnv1a(key) % shards].append(n)

    def files() -> Iterator[tuple[int, bytes]]:
        for shard, numbers in enumerate(members):
            parts = [encode_varints([len(numbers)])]
            for n in numbers:
                name = postings.keys[n].encode("utf-8")
                parts += [encode_varints([len(name)]), name, encode_varints([len(postings.blobs[n])])]
            parts += [postings.blobs[n] for n in numbers]
            yield shard, gzip.compress(b"".join(parts), compresslevel=6, mtime=0)

    return shards, files()


def read_shard(data: bytes, key: str) -> list[int]:
    """The list of one key in a shard file ([] if absent): what search.js does."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    at = 0

    def number() -> int:
        nonlocal at
        value, shift = 0, 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    wanted = key.encode("utf-8")
    count = number()
    found, offset = None, 0
    for _ in range(count):
        length = number()
        name = data[at:at + length]
        at += length
        size = number()
        if name == wanted:
            found = (offset, size)
        offset += size
    if found is None:
        return []
    return decode_varints(data, at + found[0], at + found[0] + found[1])
