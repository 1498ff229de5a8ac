"""Check `datasets/datapackage.json` before anything uses it: every problem an Issue at a JSON path.

The descriptor is edited by hand, so everything the engine relies on is checked
here, against `contract.py` -- the shape of each resource, the columns, types, keys
and settings the engine reads, and every `pattern` (compiled with RE2, which runs in
linear time) -- and the file is refused with all its problems at once, instead of
crashing a later stage. `Issue.field` is the JSON path of the problem, e.g.
`resources[2].schema.fields[3].constraints.pattern`.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import re2
from frictionless import Schema

from . import limits
from .contract import PUBLISHER_FIELDS, SETTINGS, TABLES, TOP_LEVEL, Column, Table
from .issues import Issue, excerpt

PACKAGE_FILE = "datasets/datapackage.json"
#: field types frictionless reads (Table Schema v1)
FIELD_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "date", "time", "datetime",
                         "year", "yearmonth", "duration", "geopoint", "geojson", "any"})
TYPE_NAMES = {str: "文字（带引号的字符串）", int: "整数", bool: "布尔值 true 或 false", list: "列表 [...]", dict: "对象 {...}"}
RESOURCE_PATH = re2.compile(r"[a-z0-9_-]+\.csv")


def too_large(size: int) -> Issue:
    return _issue(None, "datapackage-too-large",
                  f"{PACKAGE_FILE} 有 {limits.size(size)}，超过上限 {limits.size(limits.DESCRIPTOR_BYTES)}，未读取；"
                  "描述文件只应包含表结构和说明，请检查是否误粘贴了数据。")


def parse(data: bytes) -> tuple[Any, list[Issue]]:
    """The JSON value of the descriptor's bytes, or None and why not (size, encoding, syntax, nesting)."""
    if len(data) > limits.DESCRIPTOR_BYTES:
        return None, [too_large(len(data))]
    duplicates: dict[int, list[str]] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(items)
        if len(value) < len(items):
            seen: set[str] = set()
            duplicates[id(value)] = sorted({k for k, _ in items if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
        return value

    def constant(name: str) -> None:
        raise ValueError(f"{name} 不是 JSON 允许的数值")

    try:
        value = json.loads(data.decode("utf-8-sig"), object_pairs_hook=pairs, parse_constant=constant)
    except RecursionError:
        return None, [_too_deep(None)]
    except UnicodeDecodeError as error:
        return None, [_issue(None, "datapackage-invalid", f"{PACKAGE_FILE} 不是 UTF-8 编码（{error.reason}，第 {error.start} 字节）。")]
    except ValueError as error:  # json.JSONDecodeError, NaN, integers too long to read
        return None, [_issue(None, "datapackage-invalid", f"{PACKAGE_FILE} 不是有效的 JSON：{excerpt(error, 200)}")]
    issues = list(_walk(value, duplicates))
    return (None if issues else value), issues


def _walk(value: Any, duplicates: dict[int, list[str]]) -> Iterator[Issue]:
    """Nesting deeper than the limit, and keys given twice in one object (JSON keeps only the last)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > limits.DESCRIPTOR_DEPTH:
            yield _too_deep(path)
            return
        if isinstance(node, dict):
            for key in duplicates.get(id(node), ()):
                yield _issue(_join(path, key), "datapackage-duplicate",
                             f"“{excerpt(key)}”在同一个对象中写了不止一次，JSON 只保留最后一个；请删去多余的一个。")
            stack.extend((child, _join(path, str(key)), depth + 1) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(node))


def _too_deep(path: str | None) -> Issue:
    where = f"在 {path} 处" if path else ""
    return _issue(path or None, "datapackage-too-deep",
                  f"{PACKAGE_FILE} {where}嵌套超过 {limits.DESCRIPTOR_DEPTH} 层（对象和列表一层套一层）；"
                  "描述文件不需要这么深的结构，请检查是否多了成对的括号。")


def check(descriptor: Any) -> list[Issue]:
    """Every problem of a parsed descriptor, checked against what the engine reads (contract.py)."""
    if not isinstance(descriptor, dict):
        return [_issue(None, "datapackage-type", f"{PACKAGE_FILE} 的最外层应是一个对象 {{...}}。")]
    return list(_top_level(descriptor)) + list(_resources(descriptor))


# -- the package ----------------------------------------------------------------------

def _top_level(descriptor: dict[str, Any]) -> Iterator[Issue]:
    for key, kind in TOP_LEVEL.items():
        if key in descriptor and not _is(descriptor[key], kind):
            yield _wrong_type(key, descriptor[key], kind)
    for index, licence in enumerate(_list(descriptor.get("licenses"))):
        where = f"licenses[{index}]"
        if not isinstance(licence, dict):
            yield _wrong_type(where, licence, dict)
            continue
        # no path is fine: the licence is then named without a link (Data Package: name or path)
        yield from _strings(licence, where, required=(), optional=("path", "name", "title"))
        if not isinstance(licence.get("title", licence.get("name")), str):
            yield _issue(where, "datapackage-missing", f"许可 {where} 应有 title（许可名称，如“知识共享 署名 4.0”）或 name。")
    publisher = descriptor.get("publisher")
    if isinstance(publisher, dict):  # the footer: who publishes, and how to reach them
        yield from _strings(publisher, "publisher", required=PUBLISHER_FIELDS[:1], optional=PUBLISHER_FIELDS[1:])
        email = publisher.get("email")
        if isinstance(email, str) and email and not re2.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+", email):
            yield _issue("publisher.email", "datapackage-type", f"publisher.email“{excerpt(email)}”不是电子邮件地址。")
    for index, source in enumerate(_list(descriptor.get("sources"))):
        where = f"sources[{index}]"
        if not isinstance(source, dict):
            yield _wrong_type(where, source, dict)
            continue
        yield from _strings(source, where, required=("title",), optional=("path",))
    settings = descriptor.get("skillbrands", {})
    if isinstance(settings, dict):
        yield from _settings(settings)


def _settings(settings: dict[str, Any]) -> Iterator[Issue]:
    """The `skillbrands` object: each key the engine reads, with its type (contract.SETTINGS)."""
    for key, value in settings.items():
        where = f"skillbrands.{key}"
        setting = SETTINGS.get(key)
        if setting is None:
            known = "、".join(SETTINGS)
            yield _issue(where, "datapackage-setting-unknown",
                         f"设置项“{excerpt(key)}”不是本程序认识的设置，已忽略；认识的设置有：{known}。请检查拼写。", "warning")
        elif not _is(value, setting.kind):
            yield _issue(where, "datapackage-type",
                         f"设置 {where} 是{_describe(value)}，应为{TYPE_NAMES[setting.kind]}：{setting.meaning}。")
        elif setting.minimum is not None and value < setting.minimum:
            yield _issue(where, "datapackage-type",
                         f"设置 {where} 为 {value}，应不小于 {setting.minimum}：{setting.meaning}。")


# -- resources ------------------------------------------------------------------------

def _resources(descriptor: dict[str, Any]) -> Iterator[Issue]:
    resources = descriptor.get("resources")
    if resources is None:
        yield _issue("resources", "datapackage-missing", f"{PACKAGE_FILE} 中没有 resources 列表（每个 CSV 文件一项）。")
        return
    if not isinstance(resources, list) or not resources:
        yield _wrong_type("resources", resources, list)
        return
    names: dict[str, int] = {}  # resource name -> index of its first description
    paths: dict[str, int] = {}
    usable: dict[str, dict[str, Any]] = {}  # name -> schema, for references
    nameless = False
    for index, resource in enumerate(resources):
        where = f"resources[{index}]"
        if not isinstance(resource, dict):
            yield _wrong_type(where, resource, dict)
            nameless = True
            continue
        name = resource.get("name")
        if name is None:
            nameless = True
            yield _issue(f"{where}.name", "datapackage-missing",
                         f"第 {index + 1} 个资源（{_path_of(resource)}）没有 name；每个资源都要有名称，如 \"brands\"。")
        elif not isinstance(name, str):
            nameless = True
            yield _wrong_type(f"{where}.name", name, str)
        elif name in names:
            yield _issue(f"{where}.name", "datapackage-duplicate",
                         f"资源名“{excerpt(name)}”已用于第 {names[name] + 1} 个资源（resources[{names[name]}]）；"
                         "每个资源只能描述一次，请删去重复的一项或改名。")
            continue
        else:
            names[name] = index
        yield from _resource_fields(resource, where, paths, index)
        if isinstance(resource.get("schema"), dict) and isinstance(name, str):
            usable[name] = resource["schema"]
    if not nameless:
        for name, table in TABLES.items():
            if name not in names and not table.optional:
                yield _issue("resources", "datapackage-missing",
                             f"缺少资源“{name}”（datasets/{name}.csv）：网站要用到这张表，请把它的描述加回 resources。")
    for name, schema in usable.items():
        index = names[name]
        where = f"resources[{index}].schema"
        problems = list(_schema(schema, where, name, usable, not nameless))
        yield from problems
        if not any(p.severity == "error" for p in problems):
            yield from _frictionless(schema, where, name)


def _resource_fields(resource: dict[str, Any], where: str, paths: dict[str, int], index: int) -> Iterator[Issue]:
    path = resource.get("path")
    if path is None:
        yield _issue(f"{where}.path", "datapackage-missing",
                     f"资源“{_name_of(resource)}”没有 path；应写 datasets/ 下的文件名，如 \"brands.csv\"。")
    elif not isinstance(path, str):
        yield _wrong_type(f"{where}.path", path, str)
    elif not RESOURCE_PATH.fullmatch(path):
        yield _issue(f"{where}.path", "datapackage-invalid",
                     f"资源“{_name_of(resource)}”的路径“{excerpt(path)}”应为 datasets/ 下的 .csv 文件名"
                     "（小写英文字母、数字、- 和 _，如 brands.csv）。")
    elif path in paths:
        yield _issue(f"{where}.path", "datapackage-duplicate",
                     f"文件 {path} 已由第 {paths[path] + 1} 个资源描述；一个文件只能描述一次。")
    else:
        paths[path] = index
    for flag in ("skillbrands:optional", "skillbrands:allowEmpty"):
        if flag in resource and not isinstance(resource[flag], bool):
            yield _wrong_type(f"{where}.{flag}", resource[flag], bool)
    if "title" in resource and not isinstance(resource["title"], str):
        yield _wrong_type(f"{where}.title", resource["title"], str)
    schema = resource.get("schema")
    if schema is None:
        yield _issue(f"{where}.schema", "datapackage-missing",
                     f"资源“{_name_of(resource)}”没有 schema（表结构：列、类型和约束）。")
    elif not isinstance(schema, dict):
        yield _wrong_type(f"{where}.schema", schema, dict)


def _schema(schema: dict[str, Any], where: str, name: str, usable: dict[str, dict[str, Any]],
            complete: bool) -> Iterator[Issue]:
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        yield (_issue(f"{where}.fields", "datapackage-missing", f"资源“{name}”的表结构没有 fields（列的列表）。")
               if fields is None else _wrong_type(f"{where}.fields", fields, list))
        return
    by_name: dict[str, int] = {}
    for index, spec in enumerate(fields):
        at = f"{where}.fields[{index}]"
        if not isinstance(spec, dict):
            yield _wrong_type(at, spec, dict)
            continue
        column = spec.get("name")
        if not isinstance(column, str):
            yield (_issue(f"{at}.name", "datapackage-missing", f"资源“{name}”的第 {index + 1} 列没有 name（列名）。")
                   if column is None else _wrong_type(f"{at}.name", column, str))
            continue
        if column in by_name:
            yield _issue(f"{at}.name", "datapackage-duplicate",
                         f"资源“{name}”的列名“{excerpt(column)}”与第 {by_name[column] + 1} 列重复；每列只能描述一次。")
            continue
        by_name[column] = index
        yield from _field(spec, at, name)
    table = TABLES.get(name)
    if table is not None:
        yield from _contract_columns(fields, by_name, where, name, table)
    yield from _keys(schema, where, name, by_name, usable, table, complete)


def _field(spec: dict[str, Any], at: str, resource: str) -> Iterator[Issue]:
    column = spec["name"]
    kind = spec.get("type", "string")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        yield _issue(f"{at}.type", "datapackage-type",
                     f"资源“{resource}”的列“{column}”的类型“{excerpt(kind)}”不是支持的类型；"
                     "常用的有 string、integer、number、boolean、date。")
    for key in ("title", "description"):
        if key in spec and not isinstance(spec[key], str):
            yield _wrong_type(f"{at}.{key}", spec[key], str)
    labels = spec.get("enumLabels")
    if labels is not None and (not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values())):
        yield _issue(f"{at}.enumLabels", "datapackage-type",
                     f"资源“{resource}”的列“{column}”的 enumLabels 应是对象，每个取值对应一个中文名称，"
                     "如 {\"county\": \"旗县级\"}。")
    for key in ("trueValues", "falseValues"):
        values = spec.get(key)
        if values is not None and (not isinstance(values, list) or not all(isinstance(v, str) for v in values)):
            yield _issue(f"{at}.{key}", "datapackage-type", f"资源“{resource}”的列“{column}”的 {key} 应是文字的列表，如 [\"是\"]。")
    if "skillbrands:phone" in spec and not isinstance(spec["skillbrands:phone"], bool):
        yield _wrong_type(f"{at}.skillbrands:phone", spec["skillbrands:phone"], bool)
    constraints = spec.get("constraints", {})
    if not isinstance(constraints, dict):
        yield _wrong_type(f"{at}.constraints", constraints, dict)
        return
    yield from _constraints(constraints, f"{at}.constraints", resource, column, kind)


def _constraints(constraints: dict[str, Any], at: str, resource: str, column: str, kind: Any) -> Iterator[Issue]:
    if "required" in constraints and not isinstance(constraints["required"], bool):
        yield _wrong_type(f"{at}.required", constraints["required"], bool)
    for key in ("minLength", "maxLength"):
        if key in constraints and not (_is(constraints[key], int) and constraints[key] >= 0):
            yield _issue(f"{at}.{key}", "datapackage-type", f"资源“{resource}”的列“{column}”的 {key} 应是不小于 0 的整数。")
    if "enum" in constraints and not (isinstance(constraints["enum"], list) and constraints["enum"]):
        yield _issue(f"{at}.enum", "datapackage-type", f"资源“{resource}”的列“{column}”的 enum 应是取值的列表，如 [\"a\", \"b\"]。")
    pattern = constraints.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            yield _wrong_type(f"{at}.pattern", pattern, str)
        else:
            problem = pattern_problem(pattern)
            if problem:
                yield _issue(f"{at}.pattern", "datapackage-pattern",
                             f"资源“{resource}”的列“{column}”的格式（正则表达式）“{excerpt(pattern, 100)}”无法使用：{problem}。"
                             "格式只能用不回溯的正则表达式（不支持 \\1 这样的反向引用和 (?= ) 这样的前后查找）。")
    bounds = [key for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if key in constraints]
    if bounds and isinstance(kind, str) and kind in FIELD_TYPES:
        try:
            field = Schema.from_descriptor({"fields": [{"name": column, "type": kind}]}).fields[0]
            read = field.create_value_reader()
        except Exception:  # the type itself is reported above, or by frictionless later
            return
        for key in bounds:
            if key in field.supported_constraints and (isinstance(constraints[key], bool) or read(constraints[key]) is None):
                yield _issue(f"{at}.{key}", "datapackage-type",
                             f"资源“{resource}”的列“{column}”的 {key} 为 {excerpt(json.dumps(constraints[key], ensure_ascii=False))}，"
                             f"不是 {kind} 类型的值。")


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 cannot compile `pattern` (None if it can)."""
    try:
        compile_pattern(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        return excerpt(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason, 80)
    return None


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A full-match test for a Table Schema `pattern`, in time linear in the cell (RE2)."""
    options = re2.Options()
    options.log_errors = False
    compiled = re2.compile(pattern, options)  # raises re2.error with the reason
    matcher = re2.Set.FullMatchSet(options)
    matcher.Add(compiled.pattern)
    matcher.Compile()
    return lambda value: matcher.Match(value) is not None


def _contract_columns(fields: list[Any], by_name: dict[str, int], where: str, name: str, table: Table) -> Iterator[Issue]:
    """The columns the engine reads: present, of a type it reads, required and enumerated where it relies on it."""
    missing = [column for column in table.columns if column not in by_name]
    if missing:
        yield _issue(f"{where}.fields", "datapackage-missing",
                     f"资源“{name}”缺少网站要用到的列：{'、'.join(missing)}；请把这些列的描述加回 fields。")
    for column, need in table.columns.items():
        if column not in by_name:
            continue
        at = f"{where}.fields[{by_name[column]}]"
        spec = fields[by_name[column]]
        yield from _contract_column(spec, at, name, column, need)


def _contract_column(spec: dict[str, Any], at: str, name: str, column: str, need: Column) -> Iterator[Issue]:
    kind = spec.get("type", "string")
    if kind not in need.types:
        yield _issue(f"{at}.type", "datapackage-type",
                     f"资源“{name}”的列“{column}”类型为“{excerpt(kind)}”，网站按 {' 或 '.join(need.types)} 读取这一列；"
                     f"请改回 \"type\": \"{need.types[-1]}\"。")
    constraints = spec.get("constraints", {})
    if not isinstance(constraints, dict):
        return
    if need.required and constraints.get("required") is not True:
        yield _issue(f"{at}.constraints.required", "datapackage-missing",
                     f"资源“{name}”的列“{column}”必须是必填项（\"required\": true）：网站的每一行都要用到它。")
    if need.enum is not None:
        enum = constraints.get("enum")
        unknown = [v for v in enum if v not in need.enum] if isinstance(enum, list) else None
        if unknown is None or unknown:
            shown = "、".join(excerpt(json.dumps(v, ensure_ascii=False)) for v in unknown) if unknown else ""
            yield _issue(f"{at}.constraints.enum", "datapackage-enum",
                         f"资源“{name}”的列“{column}”只能取网站认识的值：{'、'.join(need.enum)}"
                         + (f"；{shown} 不在其中" if shown else "；请保留 enum 约束") + "。中文名称可以在 enumLabels 中修改。")


def _keys(schema: dict[str, Any], where: str, name: str, by_name: dict[str, int],
          usable: dict[str, dict[str, Any]], table: Table | None, complete: bool) -> Iterator[Issue]:
    key = schema.get("primaryKey")
    if key is not None:
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            yield _issue(f"{where}.primaryKey", "datapackage-type",
                         f"资源“{name}”的 primaryKey 应是列名的列表，如 [\"brand_id\"]。")
            key = None
        else:
            unknown = [(i, k) for i, k in enumerate(key) if k not in by_name]
            for i, k in unknown:
                yield _issue(f"{where}.primaryKey[{i}]", "datapackage-reference",
                             f"资源“{name}”的主键列“{excerpt(k)}”不在本表的列中。")
            if unknown:
                key = None
    if table is not None and (key is not None or "primaryKey" not in schema) and tuple(key or ()) != table.key:
        wanted = json.dumps(list(table.key), ensure_ascii=False)
        yield _issue(f"{where}.primaryKey", "datapackage-key",
                     f"资源“{name}”的主键应为 {wanted}：网站按它查找和链接每一行（现在是 {json.dumps(key, ensure_ascii=False)}）。")
    declared: set[tuple[str, str, str]] = set()
    foreign = schema.get("foreignKeys", [])
    if not isinstance(foreign, list):
        yield _wrong_type(f"{where}.foreignKeys", foreign, list)
        foreign = []
    broken: set[str] = set()  # local columns of foreign keys reported above: not reported again as missing
    for index, fk in enumerate(foreign):
        at = f"{where}.foreignKeys[{index}]"
        problems = list(_foreign_key(fk, at, name, by_name, usable, complete))
        yield from problems
        fields = fk.get("fields") if isinstance(fk, dict) else None
        if problems:
            broken |= {f for f in fields if isinstance(f, str)} if isinstance(fields, list) else set(by_name)
            broken |= _meant(fk, name, table)
        elif _names(fields):
            target = fk["reference"].get("resource") or name
            declared |= {(local, target, remote) for local, remote in zip(fields, fk["reference"]["fields"])}
    if table is not None and isinstance(schema.get("foreignKeys", []), list):
        for local, (target, remote) in table.references.items():
            if local in by_name and local not in broken and (local, target, remote) not in declared:
                yield _issue(f"{where}.foreignKeys", "datapackage-key",
                             f"资源“{name}”缺少外键：列“{local}”应引用“{target}”表的“{remote}”列"
                             f"（{{\"fields\": [\"{local}\"], \"reference\": {{\"resource\": \"{'' if target == name else target}\", "
                             f"\"fields\": [\"{remote}\"]}}}}）；网站按它查找每一行引用的那一行。")


def _meant(fk: Any, name: str, table: Table | None) -> set[str]:
    """The engine's references a broken foreign key still names the target of (it is meant to be that one)."""
    reference = fk.get("reference") if isinstance(fk, dict) else None
    if table is None or not isinstance(reference, dict):
        return set()
    target, remote = reference.get("resource") or name, reference.get("fields")
    remote = remote if isinstance(remote, list) else []
    return {local for local, (res, column) in table.references.items() if res == target and column in remote}


def _foreign_key(fk: Any, at: str, name: str, by_name: dict[str, int],
                 usable: dict[str, dict[str, Any]], complete: bool) -> Iterator[Issue]:
    """One foreign key: its shape, its own columns, the resource and columns it refers to
    (an unknown resource is not reported while some resource has no name: it may be that one)."""
    shape = "应写作 {\"fields\": [\"列名\"], \"reference\": {\"resource\": \"表名\", \"fields\": [\"列名\"]}}"
    if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
        yield _issue(at, "datapackage-type", f"资源“{name}”的外键 {at} {shape}。")
        return
    fields, reference = fk.get("fields"), fk["reference"]
    target, remote = reference.get("resource", ""), reference.get("fields")
    if not _names(fields) or not _names(remote) or not isinstance(target, str) or len(fields) != len(remote):
        yield _issue(at, "datapackage-type", f"资源“{name}”的外键 {at} {shape}，两边的列数相同。")
        return
    for i, local in enumerate(fields):
        if local not in by_name:
            yield _issue(f"{at}.fields[{i}]", "datapackage-reference", f"资源“{name}”的外键列“{excerpt(local)}”不在本表的列中。")
    target_name = target or name
    if target_name not in usable:
        if not complete:
            return
        yield _issue(f"{at}.reference.resource", "datapackage-reference",
                     f"资源“{name}”的外键引用了表“{excerpt(target)}”，但数据包中没有这个资源；"
                     f"已有的资源：{'、'.join(usable)}。")
        return
    columns = {f.get("name") for f in usable[target_name].get("fields", []) if isinstance(f, dict)} \
        if isinstance(usable[target_name].get("fields"), list) else set()
    for i, column in enumerate(remote):
        if column not in columns:
            yield _issue(f"{at}.reference.fields[{i}]", "datapackage-reference",
                         f"资源“{name}”的外键引用了“{target_name}”表的列“{excerpt(column)}”，但那张表没有这一列。")


def _frictionless(schema: dict[str, Any], where: str, name: str) -> Iterator[Issue]:
    """What frictionless itself refuses in a schema our checks passed (its reasons, in English)."""
    try:
        built = Schema.from_descriptor(without_patterns(schema))
        for spec in built.fields:
            spec.create_cell_reader()
    except Exception as error:  # frictionless raises FrictionlessException, and others on odd values
        reasons = [getattr(e, "note", "") for e in getattr(error, "reasons", [])] or [str(error)]
        yield _issue(where, "datapackage-invalid",
                     f"资源“{name}”的表结构不符合 Table Schema 规范：{excerpt('；'.join(map(str, reasons)), 200)}")


def without_patterns(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema frictionless checks: keys and `pattern`s are ours (keys.py, RE2)."""
    fields = []
    for spec in schema["fields"]:
        constraints = spec.get("constraints")
        if isinstance(constraints, dict) and "pattern" in constraints:
            spec = {**spec, "constraints": {k: v for k, v in constraints.items() if k != "pattern"}}
        fields.append(spec)
    return {**{k: v for k, v in schema.items() if k not in ("foreignKeys", "primaryKey")}, "fields": fields}


# -- helpers --------------------------------------------------------------------------

def _issue(field: str | None, code: str, message: str, severity: str = "error") -> Issue:
    return Issue(PACKAGE_FILE, None, field, code, severity, message)  # type: ignore[arg-type]


def _is(value: Any, kind: type) -> bool:
    """JSON types: true is not an integer."""
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _describe(value: Any) -> str:
    shown = excerpt(json.dumps(value, ensure_ascii=False))
    for kind, name in TYPE_NAMES.items():
        if _is(value, kind):
            return f"{name} {shown}"
    return f"{'数字' if isinstance(value, float) else '空值'} {shown}"


def _wrong_type(where: str, value: Any, kind: type) -> Issue:
    return _issue(where, "datapackage-type", f"{where} 是{_describe(value)}，应为{TYPE_NAMES[kind]}。")


def _strings(obj: dict[str, Any], where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> Iterator[Issue]:
    for key in required:
        if key not in obj:
            yield _issue(f"{where}.{key}", "datapackage-missing", f"{where} 缺少 {key}。")
    for key in required + optional:
        if key in obj and not isinstance(obj[key], str):
            yield _wrong_type(f"{where}.{key}", obj[key], str)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _name_of(resource: dict[str, Any]) -> str:
    name = resource.get("name")
    return excerpt(name) if isinstance(name, str) else _path_of(resource)


def _path_of(resource: dict[str, Any]) -> str:
    path = resource.get("path")
    return f"datasets/{excerpt(path)}" if isinstance(path, str) else "没有 path"
