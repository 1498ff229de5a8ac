// skillbrands search client: a dependency-free ES module, served as search/search.js.
//
//   search(query, {filters = {}, limit, offset = 0, sort = "relevance", facets = false} = {})
//     -> Promise<{query, terms, marks, total, results, facets, complete, labels}>
//
// It reads the index skillbrands/search.py writes beside it (search/), fetching only what a
// query needs: meta.json (with the fold table), one postings shard
// per key, the pinyin spellings of an ASCII term's first letter, and the display blocks of the
// results shown. Attribute blocks (prefecture, occupation, focus area, year, trainees) are
// fetched only for a filter or sort that needs them, for `facets: true`, or when the matches
// span few blocks. The algorithm is the one `query_index` in search.py runs (the tests check both).

const BASE = new URL("./", import.meta.url);
const cache = new Map();
const encoder = new TextEncoder();
export const TOO_SHORT = "请至少输入两个字";
const EXACT = 0, PREFIX = 1, IN_NAME = 2, OTHER = 3;
const SLOTS = 16;
const AUTO_ATTR_BLOCKS = 4;  // facets come without asking when the matches span at most this many blocks
const WORD = /^[a-z0-9]+$/;
const LETTERS = /^[a-z]+$/;
// Python's str.isspace(), so terms split where the index's do
const SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const PUNCT = /\p{P}/u;
const ATTR_FILTERS = ["prefecture", "occupation", "focus_area", "year"];

// at most this many requests at a time (a query for every match may need thousands of blocks)
const PARALLEL = 8;
let running = 0;
const waiting = [];

async function limited(task) {
  if (running >= PARALLEL) await new Promise((resolve) => waiting.push(resolve));
  running++;
  try { return await task(); } finally { running--; waiting.shift()?.(); }
}

function load(path, {binary = false, missing} = {}) {
  if (!cache.has(path)) {
    const url = new URL(path, BASE);
    cache.set(path, limited(async () => {
      const response = await fetch(url);
      if (response.status === 404 && missing !== undefined) return missing;
      if (!response.ok) throw new Error(`${response.status} ${url}`);
      return binary ? gunzip(new Uint8Array(await response.arrayBuffer())) : response.json();
    }).catch((error) => { cache.delete(path); throw error; }));
  }
  return cache.get(path);
}

/** Postings shards are stored gzipped (unless a server already undid that). */
async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function meta() { return load("meta.json"); }

/** One character, folded as the index folds it (NFKC, case, traditional -> simplified, no punctuation). */
function foldChar(c, table) {
  if (Object.hasOwn(table, c)) return table[c];
  let out = "";
  for (const x of c.normalize("NFKC").toLowerCase()) {
    if (PUNCT.test(x)) continue;
    out += Object.hasOwn(table, x) ? table[x] : x;
  }
  return out;
}

/** The normalised text, and for each of its UTF-16 units the index of the source character. */
function normalise(text, table) {
  let out = "";
  const source = [];
  let index = 0;
  for (const c of text) {
    for (const x of foldChar(c, table)) {
      out += x;
      for (let unit = 0; unit < x.length; unit++) source.push(index);
    }
    index += c.length;
  }
  return {text: out, source};
}

function fnv1a(key) {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(key)) { h ^= byte; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

/** The varint list of one key in a shard file: a directory (count, then length, key, size per key), then the lists. */
function readShard(data, key) {
  let at = 0;
  const number = () => {
    let value = 0, scale = 1, byte;
    do { byte = data[at++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80);
    return value;
  };
  const wanted = encoder.encode(key);
  const count = number();
  let found = null, offset = 0;
  for (let k = 0; k < count; k++) {
    const length = number();
    let same = length === wanted.length;
    for (let i = 0; same && i < length; i++) same = data[at + i] === wanted[i];
    at += length;
    const size = number();
    if (same) found = [offset, size];
    offset += size;
  }
  if (found === null) return [];
  const out = [];
  let value = 0, scale = 1;
  for (let i = at + found[0], end = at + found[0] + found[1]; i < end; i++) {
    const byte = data[i];
    value += (byte & 0x7f) * scale;
    if (byte & 0x80) scale *= 128; else { out.push(value); value = 0; scale = 1; }
  }
  return out;
}

async function list(info, key) {
  return readShard(await load(`p/${fnv1a(key) % info.shards}.bin`, {binary: true}), key);
}

function entries(values) {  // [[record, tier, class], …]
  const out = [];
  let rid = 0;
  for (const value of values) {
    rid += Math.floor(value / 16);
    out.push([rid, (value >> 2) & 3, value & 3]);
  }
  return out;
}

function best(out, rid, cls, tier) {
  const known = out.get(rid);
  if (known === undefined || known[0] > cls) out.set(rid, [cls, tier]);
}

function positions(listed, q) {  // record -> [tier, Map(offset * SLOTS + slot -> ends)]
  const out = new Map();
  let at = 0;
  for (const [rid, tier] of listed) {
    const count = q[at];
    const places = new Map();
    for (let i = at + 1; i <= at + count; i++) places.set(Math.floor(q[i] / 2), q[i] & 1);
    out.set(rid, [tier, places]);
    at += 1 + count;
  }
  return out;
}

/** Starts of the bigrams that cover a term: every other one, and the last (see `cover` in search.py). */
function cover(length) {
  const starts = new Set([length - 2]);
  for (let k = 0; k < length - 1; k += 2) starts.add(k);
  return [...starts].sort((a, b) => a - b);
}

async function matchChinese(info, term) {
  const chars = Array.from(term);
  const pair = (k) => chars[k] + chars[k + 1];
  const out = new Map();  // record -> [class, tier]
  if (chars.length === 2) {
    for (const [rid, tier, cls] of entries(await list(info, "b" + term))) out.set(rid, [cls, tier]);
    return out;
  }
  const starts = cover(chars.length);
  const lists = await Promise.all(starts.map(async (k) => {
    const [listed, q] = await Promise.all([list(info, "b" + pair(k)), list(info, "q" + pair(k))]);
    return positions(entries(listed), q);
  }));
  for (const [rid, [tier, places]] of lists[0]) {
    for (const place of places.keys()) {
      const offset = Math.floor(place / SLOTS), slot = place % SLOTS;
      let ends = 0, ok = true;
      for (let i = 1; i < lists.length && ok; i++) {
        const hit = lists[i].get(rid)?.[1].get((offset + starts[i]) * SLOTS + slot);
        if (hit === undefined) ok = false; else ends = hit;
      }
      if (!ok) continue;
      const cls = slot ? OTHER : offset === 0 && ends ? EXACT : offset === 0 ? PREFIX : IN_NAME;
      best(out, rid, cls, tier);
    }
  }
  return out;
}

/** The Chinese strings an ASCII term spells (see `spelled` in search.py): exactly, else with
 * front and back nasals as one (an/ang, en/eng, in/ing, on/ong). */
function spelled(spellings, term) {
  const exact = spelledBy(spellings, term, (s) => s);
  if (exact.size) return [...exact].sort();
  return [...spelledBy(spellings, term.replaceAll("ng", "n"), (s) => (s.endsWith("ng") ? s.slice(0, -1) : s))].sort();
}

function spelledBy(spellings, term, sound) {
  const out = new Set();
  for (const [chars, joined] of spellings) {
    const syllables = joined.split(" ");
    const han = Array.from(chars);
    if (syllables.map((s) => s[0]).join("").startsWith(term)) out.add(han.slice(0, term.length).join(""));
    const heard = syllables.map(sound);
    if (term.length > heard[0].length && heard.join("").startsWith(term)) {
      let reached = 0, k = 0;
      while (reached < term.length) reached += heard[k++].length;
      out.add(han.slice(0, k).join(""));
    }
  }
  return out;
}

async function matchTerm(info, term, marks) {
  if (!WORD.test(term)) { marks.push(term); return matchChinese(info, term); }
  const out = new Map();
  for (const [rid, tier, cls] of entries(await list(info, "a" + term))) best(out, rid, cls, tier);
  marks.push(term);
  if (LETTERS.test(term)) {
    const strings = spelled(await load(`y/${term[0]}.json`, {missing: []}), term);
    marks.push(...strings);
    for (const found of await Promise.all(strings.map((s) => matchChinese(info, s)))) {
      for (const [rid, [cls, tier]] of found) best(out, rid, cls, tier);
    }
  }
  return out;
}

/** Every match as [record, class, tier], best first: listed before exited, class, tier, record number. */
async function rank(info, wanted, marks) {
  let found = null;
  for (const term of wanted) {
    const matches = await matchTerm(info, term, marks);
    if (found === null) found = matches;
    else {
      const both = new Map();
      for (const [rid, [cls, tier]] of found) if (matches.has(rid)) both.set(rid, [Math.max(cls, matches.get(rid)[0]), tier]);
      found = both;
    }
    if (found.size === 0) return [];
  }
  const ranked = [...found].map(([rid, [cls, tier]]) => [rid, wanted.length > 1 ? Math.max(cls, PREFIX) : cls, tier]);
  const exited = (rid) => (rid >= info.first_exited ? 1 : 0);
  return ranked.sort((a, b) => exited(a[0]) - exited(b[0]) || a[1] - b[1] || a[2] - b[2] || a[0] - b[0]);
}

/** [kind, status] of a record, from the number ranges in meta.json. */
function rangeOf(info, rid) {
  let low = 0, high = info.ranges.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (info.ranges[mid][0] <= rid) low = mid; else high = mid - 1;
  }
  return [info.ranges[low][1], info.ranges[low][2]];
}

async function attributes(info, rids) {
  const blocks = [...new Set(rids.map((rid) => Math.floor(rid / info.attr_block)))];
  const [values, ...loaded] = await Promise.all([load("f/values.json"), ...blocks.map((b) => load(`f/${b}.json`))]);
  const byBlock = new Map(blocks.map((b, i) => [b, loaded[i]]));
  const labels = Object.fromEntries(values.attrs.map((name) => [name, Object.fromEntries(values.values[name])]));
  return {labels, of(rid) {
    const row = byBlock.get(Math.floor(rid / info.attr_block))[rid % info.attr_block];
    const out = {trainees: row[values.attrs.length]};
    values.attrs.forEach((name, i) => { out[name] = row[i] ? values.values[name][row[i] - 1][0] : null; });
    return out;
  }};
}

async function display(info, rids) {
  const blocks = [...new Set(rids.map((rid) => Math.floor(rid / info.display_block)))];
  const loaded = new Map(await Promise.all(blocks.map(async (b) => [b, await load(`r/${b}.json`)])));
  return (rid) => loaded.get(Math.floor(rid / info.display_block))[rid % info.display_block];
}

const given = (value) => value !== undefined && value !== null && value !== "";
const allowed = (filter, value) => [].concat(filter).map(String).includes(value === null || value === undefined ? "" : String(value));

/**
 * Search the directory. `filters` narrows by kind, tier, prefecture (code), occupation (code),
 * focus_area, status (listed/exited) and year; a value may be a list (any of them). `sort` is
 * "relevance", "employment_rate" or "trainees". `results` holds every match unless `limit` is given.
 * `facets` counts each filter's values among the matches (with the other filters applied); the
 * prefecture, occupation, focus area and year counts only when `complete` (ask with `facets: true`).
 */
export async function search(query, {filters = {}, limit, offset = 0, sort = "relevance", facets: wantFacets = false} = {}) {
  const info = await meta();
  const text = String(query ?? "");
  const table = info.fold;
  const wanted = normalise(text, table).text.split(SPACE).filter(Boolean);
  const empty = {query, terms: wanted, marks: [], total: 0, results: [], facets: {}, complete: true, labels: info.labels};
  if (wanted.length === 0) return empty;
  if (wanted.some((t) => Array.from(t).length < 2)) return {...empty, tooShort: true, message: TOO_SHORT};
  const marks = [];
  const ranked = await rank(info, wanted, marks);
  if (ranked.length === 0) return {...empty, marks};
  const facts = (rid, tier) => {
    const [kind, status] = rangeOf(info, rid);
    return {kind, status, tier: kind === "brand" ? info.tiers[tier] : null};
  };
  const set = Object.fromEntries(Object.entries(filters).filter(([, value]) => given(value)));
  const attrFiltered = ATTR_FILTERS.some((name) => name in set);
  const blocks = new Set(ranked.map(([rid]) => Math.floor(rid / info.attr_block))).size;
  const complete = wantFacets || attrFiltered || sort === "trainees" || blocks <= AUTO_ATTR_BLOCKS;
  const attrs = complete ? await attributes(info, ranked.map(([rid]) => rid)) : null;
  const rows = ranked.map(([rid, cls, tier]) => ({rid, cls, ...facts(rid, tier), ...(attrs ? attrs.of(rid) : {})}));
  const names = complete ? ["kind", "tier", "status", ...ATTR_FILTERS] : ["kind", "tier", "status"];
  const accepts = (row, skip) => Object.entries(set).every(([name, filter]) => name === skip || allowed(filter, row[name]));
  const counted = {};
  for (const name of names) {
    const counts = {};
    for (const row of rows) {
      if (!given(row[name]) || !accepts(row, name)) continue;
      counts[row[name]] = (counts[row[name]] || 0) + 1;
    }
    counted[name] = counts;
  }
  let kept = rows.filter((row) => accepts(row, null));
  const exited = (row) => (row.status === "exited" ? 1 : 0);
  if (sort === "employment_rate") kept = kept.sort((a, b) => exited(a) - exited(b) || a.rid - b.rid);
  else if (sort === "trainees") kept = kept.sort((a, b) => exited(a) - exited(b) || (b.trainees ?? -1) - (a.trainees ?? -1) || a.rid - b.rid);
  const page = kept.slice(offset, limit === undefined ? undefined : offset + limit);
  const show = await display(info, page.map((row) => row.rid));
  const results = page.map((row) => ({...show(row.rid), rank: row.cls}));
  const labels = attrs ? {...info.labels, ...attrs.labels} : info.labels;
  return {query, terms: wanted, marks: [...new Set(marks)], total: kept.length, results, facets: counted, complete, labels};
}

/** [start, end) ranges of `text` (source indices) where a mark matches, for highlighting. */
export async function highlights(text, marks) {
  const info = await meta();
  const {text: folded, source} = normalise(text, info.fold);
  const ranges = [];
  for (const mark of marks) {
    let from = 0, at;
    while ((at = folded.indexOf(mark, from)) !== -1) {
      const startsWord = !WORD.test(mark) || at === 0 || !/[a-z0-9]/.test(folded[at - 1]);
      if (startsWord) {
        const last = source[at + mark.length - 1];
        const width = text.codePointAt(last) > 0xffff ? 2 : 1;
        ranges.push([source[at], last + width]);
      }
      from = at + 1;
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const r of ranges) {
    if (merged.length && r[0] <= merged[merged.length - 1][1]) merged[merged.length - 1][1] = Math.max(merged[merged.length - 1][1], r[1]);
    else merged.push([...r]);
  }
  return merged;
}
