// The search page (search/index.html): reads ?q=…&tier=…, shows results as they arrive.
// Everything from the data is put in the page as text (textContent), never as markup.
import {search, highlights} from "../search/search.js";

const PAGE = 20;
const FACET_SHOWN = 8;  // values shown per facet; the rest in a <details>
const FILTERS = ["kind", "tier", "prefecture", "status", "occupation", "focus_area", "year"];
const SHOWN_FACETS = [["kind", "类型"], ["tier", "层级"], ["status", "状态"], ["prefecture", "盟市（地级）"],
  ["occupation", "职业（工种）"], ["focus_area", "重点领域"]];
const SORTS = [["relevance", "相关程度"], ["employment_rate", "就业率"], ["trainees", "培训人数"]];

const params = new URLSearchParams(location.search);
const query = params.get("q") || "";
const filters = {};
for (const name of FILTERS) if (params.get(name)) filters[name] = params.get(name);
const sort = SORTS.some(([name]) => name === params.get("sort")) ? params.get("sort") : "relevance";
const wantFacets = params.get("facets") === "all";

const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const facetsBox = document.getElementById("search-facets");
const more = document.getElementById("search-more");
for (const id of ["search-q", "site-q"]) {
  const input = document.getElementById(id);
  if (input) input.value = query;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function link(changes) {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) next.delete(name); else next.set(name, value);
  }
  return `?${next.toString()}`;
}

function marked(text, ranges) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) fragment.append(text.slice(at, start));
    fragment.append(element("mark", text.slice(start, end)));
    at = end;
  }
  if (at < text.length) fragment.append(text.slice(at));
  return fragment;
}

function percent(rate) {
  return rate === null || rate === undefined ? null : `就业率 ${(rate * 100).toFixed(1)}%`;
}

async function item(result, marks, labels) {
  const li = element("li");
  if (result.status === "exited") li.className = "exited";
  const a = element("a");
  a.href = `../${result.url}index.html`;
  a.append(marked(result.title, await highlights(result.title, marks)));
  li.append(a);
  if (result.status === "exited") li.append(" ", element("span", result.kind === "brand" ? "已退出" : "已移出", "badge exited"));
  const facts = [labels.kind[result.kind]];
  if (result.tier) facts.push(labels.tier[result.tier] || result.tier);
  for (const key of ["institution", "occupation", "region"]) if (result[key]) facts.push(result[key]);
  const rate = percent(result.employment_rate);
  if (rate) facts.push(result.year ? `${rate}（${result.year}年）` : rate);
  if (result.trainees !== null && result.trainees !== undefined) facts.push(`培训 ${result.trainees} 人`);
  const line = element("span", undefined, "meta");
  for (const [index, fact] of facts.entries()) {
    if (index) line.append(" · ");
    line.append(marked(fact, await highlights(fact, marks)));
  }
  li.append(line);
  return li;
}

function sorts() {
  const box = element("nav");
  box.setAttribute("aria-label", "排序");
  box.append(element("strong", "排序"));
  const ul = element("ul");
  for (const [name, title] of SORTS) {
    const a = element("a", title);
    a.href = link({sort: name === "relevance" ? null : name});
    if (sort === name) a.setAttribute("aria-current", "true");
    ul.append(wrap(a));
  }
  box.append(ul);
  return box;
}

function facets(answer) {
  facetsBox.replaceChildren(sorts());
  for (const [name, title] of SHOWN_FACETS) {
    const counts = answer.facets[name] || {};
    const values = Object.keys(counts).sort((a, b) => counts[b] - counts[a] || a.localeCompare(b));
    if (values.length < 2 && !filters[name]) continue;
    const box = element("nav");
    box.setAttribute("aria-label", `按${title}筛选`);
    box.append(element("strong", title));
    const ul = element("ul");
    const all = element("a", "全部");
    all.href = link({[name]: null});
    if (!filters[name]) all.setAttribute("aria-current", "true");
    ul.append(wrap(all));
    const rest = element("ul");
    for (const [index, value] of values.entries()) {
      const label = (answer.labels[name] || {})[value] || value;
      const a = element("a", `${label}（${counts[value]}）`);
      a.href = link({[name]: value, facets: null});
      if (filters[name] === value) a.setAttribute("aria-current", "true");
      (index < FACET_SHOWN || filters[name] === value ? ul : rest).append(wrap(a));
    }
    box.append(ul);
    if (rest.children.length) {  // the long tail folds away, without JavaScript tricks
      const details = element("details");
      details.append(element("summary", `其余 ${rest.children.length} 项`), rest);
      box.append(details);
    }
    facetsBox.append(box);
  }
  if (!answer.complete) {
    const more = element("p");
    const a = element("a", "按盟市、职业（工种）、重点领域统计结果");
    a.href = link({facets: "all"});
    more.append(a, "（结果较多，需多下载一些数据）");
    facetsBox.append(more);
  }
}

function wrap(node) {
  const li = element("li");
  li.append(node);
  return li;
}

// the first results are shown as soon as their few display blocks arrive, the rest of the page after
const FIRST = 6;

async function show(offset, count = PAGE) {
  const answer = await search(query, {filters, limit: count, offset, sort, facets: wantFacets});
  if (answer.tooShort) {
    status.textContent = answer.message;
    document.body.dataset.searchDone = "true";
    return;
  }
  if (offset === 0) {
    status.textContent = answer.total ? `找到 ${answer.total} 条结果` : `没有找到包含“${query.trim()}”的结果`;
    facets(answer);
  }
  for (const result of answer.results) list.append(await item(result, answer.marks, answer.labels));
  const shown = offset + answer.results.length;
  if (offset === 0 && count < PAGE && shown < answer.total) {
    document.body.dataset.searchFirst = "true";  // the first results are on the page
    await show(shown, PAGE - count);
    return;
  }
  more.hidden = shown >= answer.total;
  more.onclick = () => { more.hidden = true; show(shown); };
  document.body.dataset.searchDone = "true";  // for tests: the answer is on the page
}

if (query.trim()) {
  status.textContent = "正在搜索…";
  show(0, FIRST).catch((error) => {
    status.textContent = `搜索出错：${error.message}`;
    document.body.dataset.searchDone = "error";
  });
} else {
  status.textContent = "请输入要查找的品牌、职业（工种）、地区或培训机构。";
  document.body.dataset.searchDone = "true";
}
