// skillbrands search client: a dependency-free ES module.
//
//   search(query, {filters = {}, limit, offset = 0} = {}) -> Promise<{query, total, results, facets, …}>
//
// It reads the index that skillbrands/search.py writes into search/ (beside this
// module's assets/ folder), fetching only the files a query needs: meta.json once,
// one postings shard per key, then the attribute and display blocks of the matches.
// The algorithm is the one `query_index` in search.py runs (the tests check both).

const BASE = new URL("../search/", import.meta.url);
const cache = new Map();
const encoder = new TextEncoder();
export const TOO_SHORT = "请至少输入两个字";
const EXACT = 0, PREFIX = 1, IN_NAME = 2, OTHER = 3;
const WORD = /^[a-z0-9]+$/;
// Python's str.isspace(), so terms split where the index's do
const SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const PUNCT = /\p{P}/u;

function load(path) {
  if (!cache.has(path)) {
    const url = new URL(path, BASE);
    cache.set(path, fetch(url).then((response) => {
      if (!response.ok) throw new Error(`${response.status} ${url}`);
      return response.json();
    }).catch((error) => { cache.delete(path); throw error; }));
  }
  return cache.get(path);
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

/** The normalised text, and for each of its characters the index of the source character. */
export function normalise(text, table) {
  let out = "";
  const source = [];
  let index = 0;
  for (const c of text) {
    for (const x of foldChar(c, table)) {
      out += x;
      for (let unit = 0; unit < x.length; unit++) source.push(index);  // per UTF-16 unit, as indexOf counts
    }
    index += c.length;
  }
  return {text: out, source};
}

export async function terms(query) {
  const {fold} = await meta();
  return normalise(query, fold).text.split(SPACE).filter(Boolean);
}

function fnv1a(key) {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(key)) { h ^= byte; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

async function postings(info, key) {
  const shard = await load(`p/${fnv1a(key) % info.shards}.json`);
  return Object.hasOwn(shard, key) ? shard[key] : [];
}

function decodeBigram(values) {  // record -> position -> value
  const out = new Map();
  let rid = 0;
  for (let i = 0; i < values.length;) {
    rid += values[i];
    const count = values[i + 1];
    const positions = new Map();
    for (const v of values.slice(i + 2, i + 2 + count)) positions.set(Math.floor(v / 3), v);
    out.set(rid, positions);
    i += 2 + count;
  }
  return out;
}

async function matchTerm(info, term) {
  const out = new Map();  // record -> class
  if (WORD.test(term)) {
    let rid = 0;
    for (const value of await postings(info, "a" + term)) {
      rid += value >> 2;
      out.set(rid, value & 3);
    }
    return out;
  }
  const chars = Array.from(term);
  const keys = [];
  for (let i = 0; i + 1 < chars.length; i++) keys.push("b" + chars[i] + chars[i + 1]);
  const lists = (await Promise.all(keys.map((key) => postings(info, key)))).map(decodeBigram);
  for (const [rid, positions] of lists[0]) {
    let best = null;
    for (const value of positions.values()) {
      const start = Math.floor(value / 3);
      let last = value, ok = true;
      for (let k = 1; k < lists.length; k++) {
        const hit = lists[k].get(rid)?.get(start + k);
        if (hit === undefined) { ok = false; break; }
        last = hit;
      }
      if (!ok) continue;
      let cls = OTHER;
      if (value % 3 < 2 && last % 3 < 2) cls = start === 0 && last % 3 === 0 ? EXACT : start === 0 ? PREFIX : IN_NAME;
      best = best === null ? cls : Math.min(best, cls);
    }
    if (best !== null) out.set(rid, best);
  }
  return out;
}

/** Every match as [record, class], best first: listed before exited, then class, then record number. */
async function rank(info, wanted) {
  let found = null;
  for (const term of wanted) {
    const matches = await matchTerm(info, term);
    if (found === null) found = matches;
    else {
      const both = new Map();
      for (const [rid, cls] of found) if (matches.has(rid)) both.set(rid, Math.max(cls, matches.get(rid)));
      found = both;
    }
    if (found.size === 0) return [];
  }
  const ranked = [...found].map(([rid, cls]) => [rid, wanted.length > 1 ? Math.max(cls, PREFIX) : cls]);
  const exited = (rid) => (rid >= info.first_exited ? 1 : 0);
  return ranked.sort((a, b) => exited(a[0]) - exited(b[0]) || a[1] - b[1] || a[0] - b[0]);
}

const FACETS = ["kind", "tier", "prefecture", "status", "occupation", "focus_area", "year"];

function accepts(attrs, names, filters, skip) {
  for (const name of FACETS) {
    if (name === skip || filters[name] === undefined || filters[name] === null || filters[name] === "") continue;
    const allowed = [].concat(filters[name]).map(String);
    const value = attrs[names.indexOf(name)];
    if (!allowed.includes(value === null ? "" : String(value))) return false;
  }
  return true;
}

async function attributes(info, rids) {
  const blocks = [...new Set(rids.map((rid) => Math.floor(rid / info.attr_block)))];
  const loaded = new Map(await Promise.all(blocks.map(async (b) => [b, await load(`f/${b}.json`)])));
  const columns = info.attrs.map((name) => info.values[name]);
  const decoded = new Map();
  return (rid) => {
    if (!decoded.has(rid)) {
      const codes = loaded.get(Math.floor(rid / info.attr_block))[rid % info.attr_block];
      decoded.set(rid, codes.map((code, i) => columns[i][code]));
    }
    return decoded.get(rid);
  };
}

async function display(info, rids) {
  const blocks = [...new Set(rids.map((rid) => Math.floor(rid / info.display_block)))];
  const loaded = new Map(await Promise.all(blocks.map(async (b) => [b, await load(`r/${b}.json`)])));
  return (rid) => loaded.get(Math.floor(rid / info.display_block))[rid % info.display_block];
}

/**
 * Search the directory. `filters` narrows by kind, tier, prefecture (code), occupation (code),
 * focus_area, status (listed/exited) and year; a value may be a list (any of them).
 * `results` holds every match in rank order unless `limit` is given.
 */
export async function search(query, {filters = {}, limit, offset = 0} = {}) {
  const info = await meta();
  const wanted = normalise(String(query ?? ""), info.fold).text.split(SPACE).filter(Boolean);
  const empty = {query, terms: wanted, total: 0, results: [], facets: {}, labels: info.labels};
  if (wanted.length === 0) return empty;
  if (wanted.some((t) => Array.from(t).length < 2)) return {...empty, tooShort: true, message: TOO_SHORT};
  const ranked = await rank(info, wanted);
  if (ranked.length === 0) return empty;
  const attrsOf = await attributes(info, ranked.map(([rid]) => rid));
  const names = info.attrs;
  const facets = {};
  for (const name of FACETS) {
    const counts = {};
    for (const [rid] of ranked) {
      const attrs = attrsOf(rid);
      const value = attrs[names.indexOf(name)];
      if (value === null || !accepts(attrs, names, filters, name)) continue;
      counts[value] = (counts[value] || 0) + 1;
    }
    facets[name] = counts;
  }
  const kept = ranked.filter(([rid]) => accepts(attrsOf(rid), names, filters, null));
  const page = kept.slice(offset, limit === undefined ? undefined : offset + limit);
  const show = await display(info, page.map(([rid]) => rid));
  const results = page.map(([rid, cls]) => ({...show(rid), rank: cls}));
  return {query, terms: wanted, total: kept.length, results, facets, labels: info.labels};
}

/** [start, end) ranges of `text` (source indices) where a term matches, for highlighting. */
export async function highlights(text, wanted) {
  const {fold} = await meta();
  const {text: folded, source} = normalise(text, fold);
  const ranges = [];
  for (const term of wanted) {
    let from = 0, at;
    while ((at = folded.indexOf(term, from)) !== -1) {
      const startsWord = !WORD.test(term) || at === 0 || !/[a-z0-9]/.test(folded[at - 1]);
      const endIndex = at + term.length - 1;
      if (startsWord) {
        const last = source[endIndex];
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
