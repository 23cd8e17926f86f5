"""Typed events: one Python module of dataclasses generated from the catalog.

``streamlake schemas codegen`` writes it; ``--check`` is the CI gate that fails
when avro/ changed but the module did not. What is generated, and how it is
named:

- **One class per dataset version**, named from the dataset and the version:
  ``orders`` v2 -> ``OrdersV2``, ``click-stream.web`` v1 -> ``ClickStreamWebV1``
  (the dataset name split at ``.``, ``_`` and ``-``, each part capitalized; a
  name starting with a digit is prefixed ``Dataset``). It carries the
  `streamlake.typed_events` protocol: ``__streamlake_dataset__ = "orders"``,
  ``__streamlake_version__ = 2``. A reference to the top-level record inside
  its own schema (a recursive type) is that class.
- **One class per named record and one `StrEnum` per enum**, named by the
  Avro short name (``Address``). Two different full names with one short
  name, or a short name taken by a version class or by the module's imports,
  get the full name instead (``com.acme.Address`` -> ``ComAcmeAddress``).
  The same full name with the same definition in several versions (inline or
  a shared ``avro/_types`` file) is one class; a different definition under
  the same full name is another class, named after the first dataset version
  that has it (``AddressOrdersV3``); the first definition met (datasets by
  name, versions in order) keeps the plain name, so adding versions never
  renames an existing class.
- **Field types**: null -> None, boolean -> bool, int/long -> int,
  float/double -> float, string -> str, bytes/fixed -> bytes, array ->
  ``list[T]``, map -> ``dict[str, T]``, a union -> ``A | B | None``;
  date -> `date`, time-millis/-micros -> `time`, timestamp-millis/-micros ->
  a timezone-aware `datetime`, local-timestamp-millis/-micros -> a naive
  `datetime`, decimal -> `Decimal`, uuid -> `UUID`; any other logical type is
  its underlying type.
- **Defaults** from the schema (a union's from its first branch), mutable ones
  through ``field(default_factory=...)``; classes are ``kw_only`` so fields
  keep the schema's order whatever their defaults.
- **Python names**: a field or symbol that is a Python keyword gets a trailing
  underscore (``from`` -> ``from_``, with the Avro name in the field's
  metadata for `streamlake.typed_events.event_dict`); a type whose name a
  field shadows is referred to through a private alias (``_date = date``).

The output is deterministic (classes sorted: enums, named records, version
classes) and, when ruff is installed, formatted by ``ruff format`` with its
defaults. `stale` compares modules by their syntax tree, so reformatting the
generated file with another line length does not make it stale.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import json
import keyword
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from streamlake.catalog import Catalog, SchemaVersion
from streamlake.errors import CatalogError
from streamlake.typed_events import AVRO_NAME

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("streamlake_events.py")
"""Where ``streamlake schemas codegen`` writes without ``--out``."""

_PRIMITIVES = {
    "null": "None",
    "boolean": "bool",
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "string": "str",
}
_NAMED = ("record", "error", "enum", "fixed")
_CONTAINERS = ("array", "map")
# (logicalType, underlying type) -> the Python type and the module it comes from.
_LOGICAL = {
    ("date", "int"): "date",
    ("time-millis", "int"): "time",
    ("time-micros", "long"): "time",
    ("timestamp-millis", "long"): "datetime",
    ("timestamp-micros", "long"): "datetime",
    ("local-timestamp-millis", "long"): "datetime",
    ("local-timestamp-micros", "long"): "datetime",
    ("decimal", "bytes"): "Decimal",
    ("decimal", "fixed"): "Decimal",
    ("uuid", "string"): "UUID",
    ("uuid", "fixed"): "UUID",
}
_IMPORTS = {
    "dataclass": "dataclasses",
    "field": "dataclasses",
    "UTC": "datetime",
    "date": "datetime",
    "datetime": "datetime",
    "time": "datetime",
    "Decimal": "decimal",
    "StrEnum": "enum",
    "ClassVar": "typing",
    "UUID": "uuid",
}
_BUILTINS = {"None", "bool", "int", "float", "bytes", "str", "list", "dict"}
# Field names Python cannot alias away: the class attributes' annotation.
_RESERVED_FIELDS = {"ClassVar"}
_STRENUM_RESERVED = set(dir(StrEnum)) | {"mro"}
_EPOCH = dt.datetime(1970, 1, 1)
_DECORATOR = "@dataclass(frozen=True, slots=True, kw_only=True)"
_DOC_WIDTH = 88
_DIFF_LINES = 8


class _BadDefault(ValueError):
    """A schema default that does not fit its type."""


def generate(catalog: Catalog) -> str:
    """The Python module for every dataset version of `catalog`."""
    sources = [
        version
        for name in sorted(catalog)
        for version in sorted(catalog[name].versions, key=lambda v: v.version)
    ]
    return _format(_Module(sources).render())


def stale(path: Path, fresh: str) -> list[str]:
    """What differs between the module at `path` and `fresh`, a line per
    class and the lines that differ (empty when current). Formatting and
    comments do not count. OSError when `path` cannot be read."""
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [f"{path} does not exist"]
    except UnicodeDecodeError:
        return [f"{path} is not UTF-8 text"]
    try:
        old = _classes(ast.parse(current))
    except SyntaxError as exc:
        return [f"{path} is not valid Python ({exc.msg}, line {exc.lineno})"]
    new = _classes(ast.parse(fresh))
    if old == new:
        return []
    lines = []
    for name in sorted(set(old) | set(new), key=lambda n: (n == "", n not in new, n)):
        label = "the module header" if name == "" else name
        if name not in old:
            lines.append(f"+ {label}: missing from {path}")
        elif name not in new:
            lines.append(f"- {label}: no longer generated from the catalog")
        elif old[name] != new[name]:
            diff = [
                f"    {line}"
                for line in difflib.unified_diff(
                    old[name].splitlines(), new[name].splitlines(), lineterm="", n=0
                )
                if line[:1] in "+-" and line[:3] not in ("---", "+++")
            ]
            more = [f"    ... {len(diff) - _DIFF_LINES} more"] if len(diff) > _DIFF_LINES else []
            lines += [f"~ {label}: differs", *diff[:_DIFF_LINES], *more]
    return lines


def _classes(module: ast.Module) -> dict[str, str]:
    """Each top-level class's normalized source by name; the rest under ""."""
    out: dict[str, str] = {}
    rest = []
    for node in module.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = ast.unparse(node)
        else:
            rest.append(ast.unparse(node))
    out[""] = "\n".join(rest)
    return out


def _format(source: str) -> str:
    """`source` through ``ruff format`` (its defaults, not the project's
    settings, so every checkout formats alike), or as is without ruff."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    ruff = shutil.which("ruff", path=search)
    if ruff is None:
        log.warning("ruff not found: the generated module is written unformatted")
        return source
    done = subprocess.run(
        [ruff, "format", "--isolated", "--target-version", "py311", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ruff could not format the generated module: {done.stderr}")
    return done.stdout


# --- reading one schema version ------------------------------------------------
@dataclass(frozen=True)
class _Def:
    """A named type as defined in one schema version."""

    fullname: str
    schema: dict[str, Any]
    namespace: str
    """The namespace names inside its definition are resolved in."""


def _full_name(schema: dict[str, Any], namespace: str) -> tuple[str, str]:
    """``(full name, own namespace)`` of a named type's definition."""
    name = str(schema["name"])
    if "." in name:
        return name, name.rpartition(".")[0]
    own = schema.get("namespace", namespace) or ""
    return (f"{own}.{name}" if own else name), own


class _Scope:
    """One dataset version: its named types (shared ones first) by full name."""

    def __init__(self, version: SchemaVersion, class_name: str) -> None:
        self.version = version
        self.class_name = class_name
        self.defs: dict[str, _Def] = {}
        for text in getattr(version, "named_types", ()):
            self._collect(json.loads(text), "")
        self._collect(dict(version.schema), "")
        self.top = _full_name(dict(version.schema), "")[0]

    def fail(self, message: str) -> CatalogError:
        return CatalogError(message, path=self.version.path, dataset=self.version.dataset)

    def _collect(self, schema: Any, namespace: str) -> None:
        if isinstance(schema, list):
            for member in schema:
                self._collect(member, namespace)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in _NAMED:
                fullname, own = _full_name(schema, namespace)
                self.defs.setdefault(fullname, _Def(fullname, schema, own))
                for f in schema.get("fields", ()) if kind in ("record", "error") else ():
                    self._collect(f["type"], own)
            elif kind == "array":
                self._collect(schema["items"], namespace)
            elif kind == "map":
                self._collect(schema["values"], namespace)
            elif isinstance(kind, dict | list):
                self._collect(kind, namespace)

    def resolve(self, name: str, namespace: str) -> _Def:
        for candidate in (f"{namespace}.{name}" if namespace else name, name):
            if candidate in self.defs:
                return self.defs[candidate]
        raise self.fail(f"unknown type {name!r}")

    def named(self, schema: Any, namespace: str) -> _Def | None:
        """The named type `schema` defines or refers to, if it does."""
        schema = _unwrap(schema)
        if isinstance(schema, dict):
            if schema.get("type") in _NAMED:
                return self.defs[_full_name(schema, namespace)[0]]
            schema = schema.get("type")  # {"type": "com.acme.Address"} is a reference
        if isinstance(schema, str) and schema not in _PRIMITIVES and schema not in _CONTAINERS:
            return self.resolve(schema, namespace)
        return None

    def key(self, fullname: str) -> str:
        """A named type's identity: its definition with every named type it
        uses expanded once, so equal keys mean one Python class."""
        return json.dumps(self._expand_def(self.defs[fullname], set()), sort_keys=True)

    def _expand(self, schema: Any, namespace: str, seen: set[str]) -> Any:
        schema = _unwrap(schema)
        if isinstance(schema, list):
            return [self._expand(member, namespace, seen) for member in schema]
        named = self.named(schema, namespace)
        if named is not None:
            return self._expand_def(named, seen)
        if isinstance(schema, str):
            return schema
        kind = schema["type"]
        if kind == "array":
            return {"type": kind, "items": self._expand(schema["items"], namespace, seen)}
        if kind == "map":
            return {"type": kind, "values": self._expand(schema["values"], namespace, seen)}
        return {k: schema[k] for k in ("type", "logicalType", "precision", "scale") if k in schema}

    def _expand_def(self, d: _Def, seen: set[str]) -> Any:
        if d.fullname == self.top:
            # A nested type that refers back to the version's own record
            # belongs to that version's class.
            return {"version-class": self.class_name}
        if d.fullname in seen:
            return d.fullname
        seen.add(d.fullname)
        s = d.schema
        out: dict[str, Any] = {"type": s["type"], "name": d.fullname}
        if s["type"] in ("record", "error"):
            out["fields"] = [
                {"name": f["name"], "type": self._expand(f["type"], d.namespace, seen)}
                | ({"default": f["default"]} if "default" in f else {})
                for f in s["fields"]
            ]
        else:
            out |= {
                k: s[k] for k in ("symbols", "size", "logicalType", "precision", "scale") if k in s
            }
        return out


# --- the module --------------------------------------------------------------
def _camel(parts: Sequence[str]) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def version_class_name(dataset: str, version: int) -> str:
    """``orders``, 2 -> ``OrdersV2``."""
    base = _camel(re.split(r"[._-]+", dataset))
    return f"{'Dataset' if base[:1].isdigit() else ''}{base}V{version}"


def _identifier(name: str) -> str:
    """An Avro name usable as a Python identifier: keywords get a trailing
    underscore, a leading double underscore (name mangling) becomes one."""
    if name.startswith("__"):
        name = "_" + name.lstrip("_")
    return f"{name}_" if keyword.iskeyword(name) else name


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


@dataclass
class _Class:
    """A class to emit: a named record or enum, or a dataset version."""

    name: str
    scope: _Scope
    definition: _Def
    version: SchemaVersion | None = None
    """Set for the class of a dataset version."""


class _Module:
    """Every class of the module, named, and what rendering them needs."""

    def __init__(self, sources: Sequence[SchemaVersion]) -> None:
        self.scopes = [_Scope(v, version_class_name(v.dataset, v.version)) for v in sources]
        self.classes: list[_Class] = []
        # (scope index, full name) -> class name, for every named record and enum.
        self.names: dict[tuple[int, str], str] = {}
        self.used: set[str] = set()
        self.aliases: dict[str, str] = {}
        taken = set(_IMPORTS) | _BUILTINS
        for scope in self.scopes:
            scope.class_name = _unique(scope.class_name, taken)
        # Every distinct definition per full name, in first-appearance order.
        variants: dict[str, dict[str, tuple[int, _Def]]] = {}
        for i, scope in enumerate(self.scopes):
            for fullname, d in scope.defs.items():
                if fullname != scope.top and d.schema["type"] != "fixed":
                    variants.setdefault(fullname, {}).setdefault(scope.key(fullname), (i, d))
        short = [_identifier(f.rpartition(".")[2]) for f in variants]
        for fullname in sorted(variants):
            base = _identifier(fullname.rpartition(".")[2])
            if short.count(base) > 1 or base in taken:
                base = _identifier(_camel(fullname.split(".")))
            for n, (key, (i, d)) in enumerate(variants[fullname].items()):
                name = _unique(base if n == 0 else base + self.scopes[i].class_name, taken)
                self.classes.append(_Class(name, self.scopes[i], d))
                for j, scope in enumerate(self.scopes):
                    shared = fullname in scope.defs and fullname != scope.top
                    if shared and scope.key(fullname) == key:
                        self.names[j, fullname] = name
        for scope in self.scopes:
            self.classes.append(
                _Class(scope.class_name, scope, scope.defs[scope.top], version=scope.version)
            )
        fields = {
            str(f["name"])
            for c in self.classes
            if c.definition.schema["type"] in ("record", "error")
            for f in c.definition.schema["fields"]
        }
        self.reserved = taken | fields | {_identifier(f) for f in fields}

    def class_of(self, scope: _Scope, d: _Def) -> str:
        if d.fullname == scope.top:
            return scope.class_name
        return self.names[self.scopes.index(scope), d.fullname]

    def alias(self, name: str) -> str:
        if name not in self.aliases:
            self.aliases[name] = _unique("_" + name, self.reserved)
        return self.aliases[name]

    def render(self) -> str:
        enums = sorted(
            (c for c in self.classes if c.definition.schema["type"] == "enum"), key=_by_name
        )
        records = sorted(
            (
                c
                for c in self.classes
                if c.version is None and c.definition.schema["type"] != "enum"
            ),
            key=_by_name,
        )
        versions = [c for c in self.classes if c.version is not None]
        enum_names = {c.name for c in enums}
        enum_code = [self._enum(c) for c in enums]
        record_code = [self._record(c) for c in [*records, *versions]]
        imported = sorted(n for n in self.used if n in _IMPORTS)
        modules: dict[str, list[str]] = {}
        for name in imported:
            modules.setdefault(_IMPORTS[name], []).append(name)
        parts = [
            _HEADER,
            "from __future__ import annotations\n\n"
            + "\n".join(
                f"from {m} import {', '.join(sorted(names, key=_import_order))}"
                for m, names in sorted(modules.items())
            ),
        ]
        # isort: one blank line between the imports and what follows them.
        parts[-1] = "\n\n".join(
            [parts[-1], *self._aliases(lambda n: n in _IMPORTS or n in _BUILTINS)]
        )
        parts += enum_code
        parts += self._aliases(lambda n: n in enum_names)
        parts += record_code
        parts += self._aliases(
            lambda n: n not in _IMPORTS and n not in _BUILTINS and n not in enum_names
        )
        names = sorted(c.name for c in self.classes)
        parts.append("__all__ = [" + ", ".join(json.dumps(n) for n in names) + "]")
        return "\n\n\n".join(p for p in parts if p) + "\n"

    def _aliases(self, which: Callable[[str], bool]) -> list[str]:
        lines = [f"{a} = {n}" for n, a in sorted(self.aliases.items()) if which(n)]
        return ["\n".join(lines)] if lines else []

    def _enum(self, c: _Class) -> str:
        self.used.add("StrEnum")
        body = _docstring(c.definition.schema.get("doc"), c.definition.fullname)
        if body:
            body.append("")
        for symbol, member in _enum_members(c.definition.schema["symbols"]).items():
            body.append(f"{member} = {json.dumps(symbol)}")
        return f"class {c.name}(StrEnum):\n" + textwrap.indent("\n".join(body), "    ")

    def _record(self, c: _Class) -> str:
        self.used.add("dataclass")
        schema = c.definition.schema
        scope = c.scope
        title = c.definition.fullname
        if c.version is not None:
            title = f"{c.version.dataset} v{c.version.version}: {title}"
        taken = set(_RESERVED_FIELDS)
        py_names = [_unique(_identifier(str(f["name"])), taken) for f in schema["fields"]]
        ctx = _Names(self, set(py_names))
        doc = _docstring(schema.get("doc"), title)
        head = [*doc, ""] if doc else []
        if c.version is not None:
            self.used.add("ClassVar")
            head += [
                f"__streamlake_dataset__: ClassVar[{ctx.ref('str')}] = "
                + json.dumps(c.version.dataset),
                f"__streamlake_version__: ClassVar[{ctx.ref('int')}] = {c.version.version}",
                "",
            ]
        body = []
        for f, py in zip(schema["fields"], py_names, strict=True):
            annotation = self._annotation(scope, f["type"], c.definition.namespace, ctx)
            default, factory = None, False
            if "default" in f:
                try:
                    default, factory = self._default(
                        scope, f["type"], c.definition.namespace, f["default"], ctx
                    )
                except _BadDefault as exc:
                    raise scope.fail(
                        f"{title}.{f['name']}: default {json.dumps(f['default'])} {exc}"
                    ) from None
            line = f"{py}: {annotation}"
            if py != f["name"] or factory:
                args = [f"default_factory={default}" if factory else f"default={default}"]
                if default is None:
                    args = []
                if py != f["name"]:
                    args.append(f"metadata={{{json.dumps(AVRO_NAME)}: {json.dumps(f['name'])}}}")
                line += f" = {ctx.ref('field')}({', '.join(args)})"
            elif default is not None and _is_call(default):
                # A call as a plain default reads as evaluated per instance (RUF009).
                line += f" = {ctx.ref('field')}(default={default})"
            elif default is not None:
                line += f" = {default}"
            body.append(line)
            body += _docstring(f.get("doc"), None)
        lines = head + body
        while lines and lines[-1] == "":
            lines.pop()
        return f"{_DECORATOR}\nclass {c.name}:\n" + textwrap.indent(
            "\n".join(lines or ["pass"]), "    "
        )

    # --- types ---------------------------------------------------------------
    def _annotation(self, scope: _Scope, schema: Any, namespace: str, ctx: _Names) -> str:
        schema = _unwrap(schema)
        if isinstance(schema, list):
            members = list(
                dict.fromkeys(self._annotation(scope, m, namespace, ctx) for m in schema)
            )
            members.sort(key=lambda m: m == "None")
            return " | ".join(members)
        py = self._python_type(scope, schema, namespace)
        if py == "list":
            items = self._annotation(scope, schema["items"], namespace, ctx)
            return f"{ctx.ref('list')}[{items}]"
        if py == "dict":
            values = self._annotation(scope, schema["values"], namespace, ctx)
            return f"{ctx.ref('dict')}[{ctx.ref('str')}, {values}]"
        return py if py == "None" else ctx.ref(py)

    def _python_type(self, scope: _Scope, schema: Any, namespace: str) -> str:
        """The bare Python type of a non-union schema: a class name, a
        primitive, a logical type's class, or "list"/"dict"."""
        schema = _unwrap(schema)
        named = scope.named(schema, namespace)
        if named is not None:
            s = named.schema
            if s["type"] == "fixed":
                return (
                    _LOGICAL.get((str(s.get("logicalType")), "fixed"), "bytes")
                    if _valid_logical(s)
                    else "bytes"
                )
            return self.class_of(scope, named)
        if isinstance(schema, str):
            return _PRIMITIVES[schema]
        kind = schema["type"]
        if kind in ("array", "map"):
            return "list" if kind == "array" else "dict"
        logical = _LOGICAL.get((schema.get("logicalType"), kind))
        return logical if logical and _valid_logical(schema) else _PRIMITIVES[kind]

    def _default(
        self, scope: _Scope, schema: Any, namespace: str, value: Any, ctx: _Names
    ) -> tuple[str, bool]:
        """The Python expression of an Avro default, and whether it is mutable
        (then a ``default_factory``)."""
        schema = _unwrap(schema)
        if isinstance(schema, list):
            schema = self._branch(scope, schema, namespace, value, ctx)
        expr = self._value(scope, schema, namespace, value, ctx)
        py = self._python_type(scope, schema, namespace)
        named = scope.named(schema, namespace)
        mutable = py in ("list", "dict") or (
            named is not None and named.schema["type"] in ("record", "error")
        )
        if not mutable:
            return expr, False
        if expr in ("[]", "{}"):
            return ctx.ref("list" if expr == "[]" else "dict"), True
        return f"lambda: {expr}", True

    def _branch(
        self, scope: _Scope, union: list[Any], namespace: str, value: Any, ctx: _Names
    ) -> Any:
        """The member of `union` a default is for: the first (the spec's rule,
        which the codec enforces too)."""
        if not union:
            raise _BadDefault("is for an empty union")
        try:
            self._value(scope, union[0], namespace, value, ctx)
        except _BadDefault as exc:
            raise _BadDefault(f"{exc}: a union's default is for its first branch") from None
        return union[0]

    def _value(self, scope: _Scope, schema: Any, namespace: str, value: Any, ctx: _Names) -> str:
        """`value` (Avro's JSON form) as a Python expression of `schema`'s type."""
        schema = _unwrap(schema)
        if isinstance(schema, list):
            schema = self._branch(scope, schema, namespace, value, ctx)
        py = self._python_type(scope, schema, namespace)
        named = scope.named(schema, namespace)
        s = (
            named.schema
            if named is not None
            else schema
            if isinstance(schema, dict)
            else {"type": schema}
        )
        kind = s["type"]
        if py == "None":
            _expect(value is None, "null")
            return "None"
        if py == "bool":
            _expect(isinstance(value, bool), "a boolean")
            return repr(value)
        if kind in ("int", "long") and py == "int":
            _expect(isinstance(value, int) and not isinstance(value, bool), "an integer")
            return repr(value)
        if py == "float":
            _expect(isinstance(value, int | float) and not isinstance(value, bool), "a number")
            number = float(value)
            return repr(number) if math.isfinite(number) else f'{ctx.ref("float")}("{number}")'
        if py == "str":
            _expect(isinstance(value, str), "a string")
            return json.dumps(value, ensure_ascii=False)
        if py == "list":
            _expect(isinstance(value, list), "an array")
            return (
                "["
                + ", ".join(self._value(scope, s["items"], namespace, v, ctx) for v in value)
                + "]"
            )
        if py == "dict":
            _expect(isinstance(value, dict), "an object")
            items = (
                f"{json.dumps(k)}: {self._value(scope, s['values'], namespace, v, ctx)}"
                for k, v in value.items()
            )
            return "{" + ", ".join(items) + "}"
        if named is not None and kind == "enum":
            _expect(value in s["symbols"], f"one of {s['symbols']}")
            member = _enum_members(s["symbols"])[value]
            return f"{ctx.ref(py)}.{member}"
        if named is not None and kind in ("record", "error"):
            return self._record_value(scope, named, value, ctx, py)
        if py in ("date", "time", "datetime"):
            _expect(isinstance(value, int) and not isinstance(value, bool), "an integer")
            return _temporal(s["logicalType"], value, ctx)
        raw = _bytes_of(value, s)
        if py == "bytes":
            return repr(raw)
        if py == "Decimal":
            unscaled = Decimal(int.from_bytes(raw, "big", signed=True))
            return f'{ctx.ref("Decimal")}("{unscaled.scaleb(-int(s.get("scale", 0)))}")'
        # uuid: text in a string, 16 bytes in a fixed.
        try:
            parsed = uuid.UUID(value) if kind == "string" else uuid.UUID(bytes=raw)
        except ValueError:
            raise _BadDefault("is not a UUID") from None
        return f'{ctx.ref("UUID")}("{parsed}")'

    def _record_value(self, scope: _Scope, named: _Def, value: Any, ctx: _Names, py: str) -> str:
        _expect(isinstance(value, dict), "an object")
        fields = {str(f["name"]): f for f in named.schema["fields"]}
        unknown = set(value) - set(fields)
        _expect(not unknown, f"the fields of {named.fullname} (not {sorted(unknown)})")
        taken = set(_RESERVED_FIELDS)
        py_names = {n: _unique(_identifier(n), taken) for n in fields}
        args = []
        for name, f in fields.items():
            if name in value:
                arg = self._value(scope, f["type"], named.namespace, value[name], ctx)
                args.append(f"{py_names[name]}={arg}")
            else:
                _expect("default" in f, f"a value for {name} (it has no default)")
        return f"{ctx.ref(py)}({', '.join(args)})"


@dataclass
class _Names:
    """How one class body refers to a module-level name: through an alias
    when one of its fields shadows that name."""

    module: _Module
    fields: set[str]

    def ref(self, name: str) -> str:
        self.module.used.add(name)
        return self.module.alias(name) if name in self.fields else name


def _by_name(c: _Class) -> str:
    return c.name


def _is_call(expression: str) -> bool:
    return isinstance(ast.parse(expression, mode="eval").body, ast.Call)


def _import_order(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def _is_plain_member(symbol: str) -> bool:
    return not (keyword.iskeyword(symbol) or symbol in _STRENUM_RESERVED or symbol.startswith("_"))


def _enum_members(symbols: Sequence[str]) -> dict[str, str]:
    taken: set[str] = set()
    return {
        s: _unique(s if _is_plain_member(s) else (s.lstrip("_") or "S") + "_", taken)
        for s in symbols
    }


def _valid_logical(schema: dict[str, Any]) -> bool:
    """Whether a logical type is well-formed; the spec says to ignore it
    (use the underlying type) otherwise."""
    logical = schema.get("logicalType")
    if logical == "decimal":
        precision, scale = schema.get("precision"), schema.get("scale", 0)
        return (
            type(precision) is int
            and type(scale) is int
            and precision > 0
            and 0 <= scale <= precision
        )
    if logical == "uuid" and schema["type"] == "fixed":
        return schema.get("size") == 16
    return True


def _unwrap(schema: Any) -> Any:
    """The schema inside ``{"type": {...}}`` or ``{"type": [...]}``."""
    while isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
        schema = schema["type"]
    return schema


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise _BadDefault(f"is not {what}")


def _bytes_of(value: Any, schema: dict[str, Any]) -> bytes:
    """Avro's JSON form of bytes and fixed: code points U+0000 to U+00FF."""
    _expect(isinstance(value, str) and all(ord(ch) < 256 for ch in value), "bytes")
    raw: bytes = value.encode("latin-1")
    if schema["type"] == "fixed":
        _expect(len(raw) == schema["size"], f"exactly {schema['size']} bytes")
    return raw


def _temporal(logical: str, value: int, ctx: _Names) -> str:
    if logical == "date":
        d = dt.date(1970, 1, 1) + dt.timedelta(days=value)
        return f"{ctx.ref('date')}({d.year}, {d.month}, {d.day})"
    micros = value * 1000 if logical.endswith("millis") else value
    if logical.startswith("time-"):
        _expect(0 <= micros < 86_400_000_000, "a time of day")
        t = (_EPOCH + dt.timedelta(microseconds=micros)).time()
        parts = [t.hour, t.minute, t.second, t.microsecond]
        return f"{ctx.ref('time')}({', '.join(map(str, _trimmed(parts, 1)))})"
    try:
        stamp = _EPOCH + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise _BadDefault("is out of datetime's range") from None
    parts = [
        stamp.year,
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
        stamp.microsecond,
    ]
    args = [str(p) for p in _trimmed(parts, 3)]
    if logical.startswith("timestamp-"):
        args.append(f"tzinfo={ctx.ref('UTC')}")
    return f"{ctx.ref('datetime')}({', '.join(args)})"


def _trimmed(parts: list[int], keep: int) -> list[int]:
    """`parts` without trailing zeros beyond the first `keep`."""
    while len(parts) > keep and parts[-1] == 0:
        parts.pop()
    return parts


def _docstring(doc: Any, title: str | None) -> list[str]:
    """A docstring's lines: `title`, then the schema's doc wrapped below it."""
    paragraphs = [
        textwrap.wrap(
            _escape(text), _DOC_WIDTH - 4 - 6, break_long_words=False, break_on_hyphens=False
        )
        for text in (title and f"{title}.", isinstance(doc, str) and " ".join(doc.split()))
        if text
    ]
    if not paragraphs:
        return []
    if len(paragraphs) == 1 and len(paragraphs[0]) == 1:
        return [f'"""{paragraphs[0][0]}"""']
    lines = paragraphs[0] + [line for p in paragraphs[1:] for line in ("", *p)]
    return [f'"""{lines[0]}', *lines[1:], '"""']


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text[:-1] + '\\"' if text.endswith('"') else text


_HEADER = '''\
"""Typed StreamLake events, generated from the schema catalog: do not edit.

Regenerate with ``streamlake schemas codegen``; CI runs ``streamlake schemas
codegen --check``, which fails while this file and avro/ disagree.

One frozen dataclass per dataset version (``OrdersV2`` is dataset ``orders``,
version 2), one per named record and one StrEnum per enum. A version class
carries the typed-event protocol (``streamlake.typed_events.TypedEvent``)::

    __streamlake_dataset__: ClassVar[str]  # "orders"
    __streamlake_version__: ClassVar[int]  # 2

so a producer takes ``produce(OrdersV2(...))`` without a dataset argument.
timestamp-* fields take timezone-aware datetimes, local-timestamp-* naive ones.
A field renamed for Python (a keyword: ``from`` -> ``from_``) keeps its Avro
name in its metadata; ``streamlake.typed_events.event_dict`` uses it.
"""'''
