// The search page (search/index.html): reads ?q=…&tier=…, shows results as they arrive.
// Everything from the data is put in the page as text (textContent), never as markup.
import {search, highlights} from "./search.js";

const PAGE = 20;
const FILTERS = ["kind", "tier", "prefecture", "status", "occupation", "focus_area", "year"];
const SHOWN_FACETS = [["kind", "类型"], ["tier", "层级"], ["prefecture", "盟市（地级）"], ["status", "状态"]];

const params = new URLSearchParams(location.search);
const query = params.get("q") || "";
const filters = {};
for (const name of FILTERS) if (params.get(name)) filters[name] = params.get(name);

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

async function item(result, terms, labels) {
  const li = element("li");
  if (result.status === "exited") li.className = "exited";
  const a = element("a");
  a.href = `../${result.url}index.html`;
  a.append(marked(result.title, await highlights(result.title, terms)));
  li.append(a);
  if (result.status === "exited") li.append(" ", element("span", result.kind === "brand" ? "已退出" : "已移出", "badge exited"));
  const facts = [labels.kind[result.kind]];
  if (result.tier) facts.push(labels.tier[result.tier] || result.tier);
  for (const key of ["institution", "occupation", "region"]) if (result[key]) facts.push(result[key]);
  const rate = percent(result.employment_rate);
  if (rate) facts.push(result.year ? `${rate}（${result.year}年）` : rate);
  const line = element("span", undefined, "meta");
  for (const [index, fact] of facts.entries()) {
    if (index) line.append(" · ");
    line.append(marked(fact, await highlights(fact, terms)));
  }
  li.append(line);
  return li;
}

function facets(answer) {
  facetsBox.replaceChildren();
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
    for (const value of values) {
      const label = (answer.labels[name] || {})[value] || value;
      const a = element("a", `${label}（${counts[value]}）`);
      a.href = link({[name]: value});
      if (filters[name] === value) a.setAttribute("aria-current", "true");
      ul.append(wrap(a));
    }
    box.append(ul);
    facetsBox.append(box);
  }
}

function wrap(node) {
  const li = element("li");
  li.append(node);
  return li;
}

async function show(offset) {
  const answer = await search(query, {filters, limit: PAGE, offset});
  if (answer.tooShort) {
    status.textContent = answer.message;
    document.body.dataset.searchDone = "true";
    return;
  }
  if (offset === 0) {
    status.textContent = answer.total ? `找到 ${answer.total} 条结果` : `没有找到包含“${query.trim()}”的结果`;
    facets(answer);
  }
  for (const result of answer.results) list.append(await item(result, answer.terms, answer.labels));
  const shown = offset + answer.results.length;
  more.hidden = shown >= answer.total;
  more.onclick = () => { more.hidden = true; show(shown); };
  document.body.dataset.searchDone = "true";  // for tests: the answer is on the page
}

if (query.trim()) {
  status.textContent = "正在搜索…";
  show(0).catch((error) => {
    status.textContent = `搜索出错：${error.message}`;
    document.body.dataset.searchDone = "error";
  });
} else {
  status.textContent = "请输入要查找的品牌、职业（工种）、地区或培训机构。";
  document.body.dataset.searchDone = "true";
}
