"""What the codec tests share: generated Avro schemas and values (hypothesis
strategies), hand-written schemas, and the reference's bytes (`wire`,
`fastavro_bytes`).

Every generated value comes in four forms that must all encode to the same
bytes:

- ``datum``: what fastavro's ``schemaless_writer`` takes, unions tagged with
  fastavro's tuple notation so that fastavro's own branch choice (double over
  float, the record with the most matching fields) never decides;
- ``natural``: the natural JSON (rendered by `to_json`), unions tagged only
  when StreamLake's rule would otherwise see more than one fitting branch;
- ``avro``: Avro's JSON encoding (non-null unions always tagged, bytes as code
  points, logical types in their underlying type);
- ``python``: the Python objects ``encode_object`` takes (aware datetimes,
  dates, times, Decimals, UUIDs, bytes, Enum members) where they can stand.

`might_fit` over-approximates which union branches a natural value (or a
Python object) could fit; a value it cannot make unambiguous even tagged is
`UNREPRESENTABLE` in that form, and the checks of that form leave it out.
"""

from __future__ import annotations

import base64
import enum
import io
import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import fastavro
from hypothesis import strategies as st

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)
INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)
PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "string", "bytes")
LOGICAL = {
    "date": "int",
    "time-millis": "int",
    "time-micros": "long",
    "timestamp-millis": "long",
    "timestamp-micros": "long",
    "local-timestamp-millis": "long",
    "local-timestamp-micros": "long",
    "uuid": "string",
}
UNIT = {"millis": 1_000, "micros": 1}
"""Microseconds per unit of a time or timestamp logical type."""
RESERVED = {*PRIMITIVES, *LOGICAL, "array", "map", "record", "enum", "fixed", "id", "decimal"}
"""Names no field may take and map keys avoid, so no value reads as a union tag."""
NAMESPACES = ("sl.gen", "sl.other", "x.y.z")
MAX_SCHEMA_DEPTH = 3
MAX_VALUE_DEPTH = 4
# Datetimes whose every offset still lies within years 1..9999, where RFC 3339 is defined.
FIRST_INSTANT = datetime(2, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(9998, 12, 31, tzinfo=UTC)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
"""Unicode text JSON can carry (no lone surrogates)."""


class Unrepresentable:
    """A value no natural JSON text states unambiguously (see `might_fit`)."""

    def __repr__(self) -> str:
        return "UNREPRESENTABLE"


UNREPRESENTABLE = Unrepresentable()


@dataclass(frozen=True)
class RawNumber:
    """A JSON number token written exactly as given (decimals, never via a float)."""

    text: str


def to_json(value: Any, *, ensure_ascii: bool = True) -> str:
    """`value` as JSON text; `RawNumber` tokens are written verbatim."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, dict):
        items = (
            f"{json.dumps(k, ensure_ascii=ensure_ascii)}: {to_json(v, ensure_ascii=ensure_ascii)}"
            for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v, ensure_ascii=ensure_ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=False)


def wire(schema_id: int, avro: bytes) -> bytes:
    """The Confluent wire format: magic byte 0, big-endian schema id, Avro binary."""
    return b"\x00" + schema_id.to_bytes(4, "big") + avro


def fastavro_bytes(schema: Any, datum: Any, named_types: Sequence[str] = ()) -> bytes:
    """`datum` as fastavro's schemaless_writer writes it (the reference)."""
    named: dict[str, Any] = {}
    for text in named_types:
        fastavro.parse_schema(json.loads(text), named)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema, named), datum)
    return out.getvalue()


# --- hand-written schemas -------------------------------------------------------------------

ADDRESS = {
    "type": "record",
    "name": "Address",
    "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": ["null", "string"], "default": None},
    ],
}
ITEM = {
    "type": "record",
    "name": "Item",
    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}],
}
KITCHEN = {
    "type": "record",
    "name": "Kitchen",
    "namespace": "test.codec",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "price", "type": "double"},
        {"name": "name", "type": "string"},
        {"name": "flag", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2},
        },
        {
            "name": "created_at",
            "type": {"type": "long", "logicalType": "timestamp-millis"},
        },
        {
            "name": "local_at",
            "type": {"type": "long", "logicalType": "local-timestamp-millis"},
        },
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "items", "type": {"type": "array", "items": ITEM}},
        {"name": "tags", "type": {"type": "map", "values": "int"}},
        {"name": "address", "type": ADDRESS},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
VALID = {  # a valid KITCHEN event in natural JSON
    "id": "k-1",
    "qty": 2,
    "big": 2**40,
    "price": 19.99,
    "name": "kettle",
    "flag": True,
    "blob": "AAEC",
    "digest": "3q2+7w==",
    "status": "NEW",
    "amount": "199.99",
    "created_at": "2026-01-21T10:00:00Z",
    "local_at": "2026-01-21T10:00:00",
    "day": "2026-01-21",
    "at": "10:00:00.250",
    "uid": "0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00",
    "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}],
    "tags": {"k": 1},
    "address": {"street": "1 Main St"},
}
LINKED = {
    "type": "record",
    "name": "Link",
    "fields": [{"name": "id", "type": "string"}, {"name": "next", "type": ["null", "Link"]}],
}


# --- the schema model ------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    """One resolved Avro schema node; references share their definition's node."""

    kind: str
    logical: str | None = None
    name: str | None = None
    """Full name of a named type."""
    size: int = 0
    precision: int = 0
    scale: int = 0
    symbols: tuple[str, ...] = ()
    fields: list[Field] = field(default_factory=list)
    items: Node | None = None
    """Items of an array, values of a map."""
    branches: list[Node] = field(default_factory=list)
    python_enum: type[enum.Enum] | None = None

    @property
    def tag(self) -> str:
        """The name that tags this branch in a union (Avro JSON and natural)."""
        return self.name if self.name else self.kind

    @property
    def plain_number(self) -> bool:
        return self.logical is None and self.kind in ("int", "long", "float", "double")


@dataclass(eq=False)
class Field:
    name: str
    node: Node
    default: Sample | None = None


@dataclass(frozen=True)
class Sample:
    datum: Any
    natural: Any
    avro: Any
    python: Any


@dataclass(frozen=True)
class GeneratedSchema:
    schema: dict[str, Any]
    node: Node
    named_types: tuple[str, ...] = ()
    """JSON texts of named types the schema references but does not define."""


def children(node: Node) -> list[Node]:
    return [f.node for f in node.fields] + node.branches + ([node.items] if node.items else [])


def is_recursive(node: Node) -> bool:
    """Whether some record in `node` contains itself."""

    def reaches(start: Node, target: Node) -> bool:
        seen: set[int] = set()
        pending = children(start)
        while pending:
            current = pending.pop()
            if current is target:
                return True
            if id(current) not in seen:
                seen.add(id(current))
                pending += children(current)
        return False

    seen: set[int] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.kind == "record" and reaches(current, current):
            return True
        pending += children(current)
    return False


def _ints(node: Node) -> tuple[int, int]:
    return INT_RANGE if node.kind == "int" else LONG_RANGE


RICH_OBJECTS_FIT: tuple[tuple[type | tuple[type, ...], tuple[str, ...]], ...] = (
    (
        datetime,
        (
            "timestamp-millis",
            "timestamp-micros",
            "local-timestamp-millis",
            "local-timestamp-micros",
            "string",
        ),
    ),
    (date, ("date", "string")),
    (time, ("time-millis", "time-micros", "string")),
    (Decimal, ("decimal", "float", "double", "int", "long", "string")),
    (UUID, ("uuid", "string", "fixed")),
    ((bytes, bytearray), ("bytes", "fixed", "decimal", "string")),
)
RICH_OBJECTS = (datetime, date, time, Decimal, UUID, bytes, bytearray)


def might_fit(node: Node, value: Any) -> bool:
    """Whether natural `value` could fit `node` untagged: never False when it fits."""
    if value is UNREPRESENTABLE:
        return False
    if isinstance(value, RawNumber):
        if re.fullmatch(r"-?[0-9]+", value.text):
            return might_fit(node, int(value.text))
        return node.kind in ("float", "double") or node.logical == "decimal"
    kind = node.kind
    if kind == "union":
        if value is None:
            return any(b.kind == "null" for b in node.branches)
        if isinstance(value, dict) and len(value) == 1:
            (tag, inner), *_ = value.items()
            if any(b.tag == tag and might_fit(b, inner) for b in node.branches):
                return True
        return any(might_fit(b, value) for b in node.branches)
    if isinstance(value, enum.Enum):
        return might_fit(node, value.value)
    if isinstance(value, RICH_OBJECTS):
        # The Python objects encode_object takes, against what they may stand for.
        return any(
            isinstance(value, types) and (node.logical in kinds or node.kind in kinds)
            for types, kinds in RICH_OBJECTS_FIT
        )
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if node.logical == "decimal":
        return isinstance(value, int | float | str)
    if node.logical is not None and node.logical != "uuid":
        low, high = _ints(node)
        return isinstance(value, str) or (isinstance(value, int) and low <= value <= high)
    if kind in ("int", "long"):
        low, high = _ints(node)
        return isinstance(value, int) and low <= value <= high
    if kind in ("float", "double"):
        return isinstance(value, int | float)
    if kind == "enum":
        return value in node.symbols
    if kind in ("string", "bytes", "fixed"):
        return isinstance(value, str)
    if kind == "array":
        assert node.items is not None
        return isinstance(value, list) and all(might_fit(node.items, v) for v in value)
    if kind == "map":
        assert node.items is not None
        return isinstance(value, dict) and all(might_fit(node.items, v) for v in value.values())
    if kind == "record":
        if not isinstance(value, dict):
            return False
        fields = {f.name: f for f in node.fields}
        return (
            set(value) <= set(fields)
            and all(f.default is not None for name, f in fields.items() if name not in value)
            and all(might_fit(fields[name].node, v) for name, v in value.items())
        )
    raise AssertionError(kind)


def node_of(schema: Any, namespace: str = "", names: dict[str, Node] | None = None) -> Node:
    """The model of a hand-written or catalog schema (of defaults, only null)."""
    names = {} if names is None else names
    if isinstance(schema, list):
        return Node("union", branches=[node_of(b, namespace, names) for b in schema])
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return Node(schema)
        return names[schema if "." in schema else f"{namespace}.{schema}".lstrip(".")]
    kind = schema["type"]
    if kind in ("record", "enum", "fixed"):
        name = schema["name"]
        space = name.rsplit(".", 1)[0] if "." in name else schema.get("namespace", namespace)
        full = f"{space}.{name.rsplit('.', 1)[-1]}".lstrip(".")
        node = Node(
            kind,
            name=full,
            logical=schema.get("logicalType"),
            size=schema.get("size", 0),
            symbols=tuple(schema.get("symbols", ())),
            precision=schema.get("precision", 0),
            scale=schema.get("scale", 0),
        )
        names[full] = node
        for f in schema.get("fields", ()):
            child = Field(f["name"], node_of(f["type"], space, names))
            if "default" in f and f["default"] is None:  # optional: may be left out
                child.default = Sample(None, None, None, None)
            node.fields.append(child)
        return node
    if kind == "array":
        return Node("array", items=node_of(schema["items"], namespace, names))
    if kind == "map":
        return Node("map", items=node_of(schema["values"], namespace, names))
    return Node(
        kind,
        logical=schema.get("logicalType"),
        precision=schema.get("precision", 0),
        scale=schema.get("scale", 0),
    )


# --- values ----------------------------------------------------------------------------------


def two_complement(unscaled: int, size: int | None) -> bytes:
    """A decimal's unscaled value as fastavro writes it: sized by its magnitude
    for bytes (so -128 takes two bytes), sign-extended to `size` for fixed."""
    length = size if size is not None else (abs(unscaled).bit_length() + 8) // 8
    return unscaled.to_bytes(length, "big", signed=True)


def max_precision(size: int) -> int:
    """The most decimal digits a fixed of `size` bytes holds."""
    return len(str(2 ** (8 * size - 1) - 1)) - 1


def rfc3339(instant: datetime, offset_minutes: int, fraction_digits: int) -> str:
    """`instant` in local time at the offset, seconds fraction padded with zeros."""
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = _local_text(local, fraction_digits)
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def _fraction(microseconds: int, digits: int) -> str:
    if digits == 0:
        assert microseconds == 0
        return ""
    text = f"{microseconds:06d}".ljust(digits, "0")
    assert text[digits:].strip("0") == ""
    return "." + text[:digits]


def _needed_digits(microseconds: int) -> int:
    return len(f"{microseconds:06d}".rstrip("0"))


def _local_text(moment: datetime, fraction_digits: int) -> str:
    """`moment`'s wall-clock time, years zero-padded (strftime does not pad them)."""
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}" + _fraction(
        moment.microsecond, fraction_digits
    )


@st.composite
def _timestamp(draw: st.DrawFn, node: Node) -> Sample:
    unit = UNIT[node.logical.rsplit("-", 1)[1]]  # type: ignore[union-attr]
    low = (FIRST_INSTANT - EPOCH) // timedelta(microseconds=unit)
    high = (LAST_INSTANT - EPOCH) // timedelta(microseconds=unit)
    count = draw(st.integers(low, high) | st.integers(-(10**6), 10**6))
    instant = EPOCH + timedelta(microseconds=count * unit)
    digits = draw(st.integers(_needed_digits(instant.microsecond), 9))
    digits = digits if digits or instant.microsecond else draw(st.sampled_from([0, 3, 6, 9]))
    local = node.logical.startswith("local-")  # type: ignore[union-attr]
    if local:
        naive = instant.replace(tzinfo=None)
        text, rich = _local_text(naive, digits), naive
    else:
        offset = draw(st.sampled_from([0, 0, 60, -300, 330, 23 * 60 + 59, -(23 * 60 + 59)]))
        text = rfc3339(instant, offset, digits)
        rich = instant.astimezone(timezone(timedelta(minutes=offset)))
    natural = draw(st.sampled_from([text, count]))
    return Sample(count, natural, count, draw(st.sampled_from([rich, count])))


@st.composite
def _date(draw: st.DrawFn) -> Sample:
    day = draw(st.dates())
    days = (day - EPOCH_DATE).days
    natural = draw(st.sampled_from([f"{day.year:04d}-{day:%m-%d}", days]))
    return Sample(days, natural, days, draw(st.sampled_from([day, days])))


@st.composite
def _time(draw: st.DrawFn, node: Node) -> Sample:
    unit = UNIT[node.logical.rsplit("-", 1)[1]]  # type: ignore[union-attr]
    count = draw(st.integers(0, 86_400_000_000 // unit - 1))
    micros = count * unit
    moment = time(
        micros // 3_600_000_000, micros // 60_000_000 % 60, micros // 1_000_000 % 60, micros % 10**6
    )
    digits = draw(st.integers(_needed_digits(moment.microsecond), 9))
    text = moment.strftime("%H:%M:%S") + _fraction(moment.microsecond, digits)
    natural = draw(st.sampled_from([text, count]))
    return Sample(count, natural, count, draw(st.sampled_from([moment, count])))


@st.composite
def _decimal(draw: st.DrawFn, node: Node) -> Sample:
    limit = 10**node.precision - 1
    unscaled = draw(st.integers(-limit, limit))
    exact = Decimal(unscaled).scaleb(-node.scale)
    size = node.size if node.kind == "fixed" else None
    raw = two_complement(unscaled, size)
    # Any exact spelling of the value: fewer digits than the scale, trailing
    # zeros beyond it, exponent notation; as a JSON number or a string.
    extra_zeros = draw(st.integers(0, 3))
    spellings = [
        f"{exact:f}",
        f"{exact.normalize():f}",
        f"{exact.normalize():e}",
        f"{exact:f}" + ("0" * extra_zeros if "." in f"{exact:f}" else ""),
    ]
    text = draw(st.sampled_from(spellings))
    natural = draw(st.sampled_from([RawNumber(text), text]))
    return Sample(exact, natural, raw.decode("latin-1"), exact)


def _enum_member(node: Node, symbol: str) -> Any:
    """The member of a Python Enum whose value is `symbol` (a member stands for
    its value); members are named apart, as symbols like ``_x_`` are reserved."""
    if node.python_enum is None:
        members = [(f"S{i}", s) for i, s in enumerate(node.symbols)]
        node.python_enum = enum.Enum(node.name.rsplit(".", 1)[-1], members)  # type: ignore[union-attr]
    return node.python_enum(symbol)


@st.composite
def values(draw: st.DrawFn, node: Node, depth: int = 0, *, default: bool = False) -> Sample:
    """A valid value of `node`, in all four forms. A `default` is a schema's
    default value instead: every union takes its first branch."""
    kind, logical = node.kind, node.logical
    if kind == "union":
        return draw(_union_value(node, depth, default=default))
    if logical == "decimal":
        return draw(_decimal(node))
    if logical == "date":
        return draw(_date())
    if logical in ("time-millis", "time-micros"):
        return draw(_time(node))
    if logical is not None and "timestamp" in logical:
        return draw(_timestamp(node))
    if logical == "uuid":
        uuid = draw(st.uuids())
        return Sample(str(uuid), str(uuid), str(uuid), draw(st.sampled_from([uuid, str(uuid)])))
    if kind == "null":
        return Sample(None, None, None, None)
    if kind == "boolean":
        b = draw(st.booleans())
        return Sample(b, b, b, b)
    if kind in ("int", "long"):
        i = draw(st.integers(*_ints(node)))
        return Sample(i, i, i, i)
    if kind in ("float", "double"):
        f = draw(
            st.floats(width=32 if kind == "float" else 64, allow_nan=False, allow_infinity=False)
        )
        natural: Any = f
        if f.is_integer() and abs(f) < 2**53 and str(f) != "-0.0" and draw(st.booleans()):
            natural = int(f)
        return Sample(f, natural, f, f)
    if kind == "string":
        s = draw(TEXT)
        return Sample(s, s, s, s)
    if kind in ("bytes", "fixed"):
        sizes = (node.size, node.size) if kind == "fixed" else (0, 12)
        b = draw(st.binary(min_size=sizes[0], max_size=sizes[1]))
        text = base64.b64encode(b).decode()
        return Sample(b, text, b.decode("latin-1"), b)
    if kind == "enum":
        symbol = draw(st.sampled_from(node.symbols))
        python = draw(st.sampled_from([symbol, _enum_member(node, symbol)]))
        return Sample(symbol, symbol, symbol, python)
    if kind == "record":
        return draw(_record_value(node, depth, default=default))
    assert node.items is not None
    if kind == "array":
        size = 0 if depth >= MAX_VALUE_DEPTH else draw(st.integers(0, 3))
        items = [draw(values(node.items, depth + 1, default=default)) for _ in range(size)]
        return _combine(
            [s.datum for s in items],
            [s.natural for s in items],
            [s.avro for s in items],
            [s.python for s in items],
        )
    if kind == "map":
        keys = (
            [] if depth >= MAX_VALUE_DEPTH else draw(st.lists(map_keys(), max_size=3, unique=True))
        )
        entries = {k: draw(values(node.items, depth + 1, default=default)) for k in keys}
        return _combine(
            {k: s.datum for k, s in entries.items()},
            {k: s.natural for k, s in entries.items()},
            {k: s.avro for k, s in entries.items()},
            {k: s.python for k, s in entries.items()},
        )
    raise AssertionError(kind)


def map_keys() -> st.SearchStrategy[str]:
    """Map keys that never read as a union tag (no type name, no dotted name)."""
    return TEXT.map(
        lambda k: "k" + k if k in RESERVED or "." in k or re.fullmatch(r"N\d+", k) else k
    )


def _combine(datum: Any, natural: Any, avro: Any, python: Any) -> Sample:
    def unrepresentable(container: Any) -> bool:
        items = container.values() if isinstance(container, dict) else container
        return any(v is UNREPRESENTABLE for v in items)

    if unrepresentable(natural):
        natural = UNREPRESENTABLE
    if unrepresentable(python):
        python = UNREPRESENTABLE
    return Sample(datum, natural, avro, python)


@st.composite
def _record_value(draw: st.DrawFn, node: Node, depth: int, *, default: bool) -> Sample:
    datum, natural, avro, python = {}, {}, {}, {}
    for f in node.fields:
        omit = f.default is not None and not default and draw(st.booleans())
        sample = f.default if omit else draw(values(f.node, depth + 1, default=default))
        assert sample is not None
        datum[f.name] = sample.datum
        avro[f.name] = sample.avro
        if not omit:
            natural[f.name] = sample.natural
            python[f.name] = sample.python
    # Field order in the text is free; the codec must not depend on it.
    order = draw(st.permutations(list(natural)))
    natural = {k: natural[k] for k in order}
    python = {k: python[k] for k in order}
    return _combine(datum, natural, avro, python)


@st.composite
def _union_value(draw: st.DrawFn, node: Node, depth: int, *, default: bool) -> Sample:
    nulls = [i for i, b in enumerate(node.branches) if b.kind == "null"]
    if default:
        branch = 0
    elif nulls and depth >= MAX_VALUE_DEPTH:
        branch = nulls[0]
    else:
        branch = draw(st.integers(0, len(node.branches) - 1))
    chosen = node.branches[branch]
    sample = draw(values(chosen, depth + 1, default=default))
    if chosen.kind == "null":
        return sample
    datum = (chosen.tag, sample.datum)
    avro = {chosen.tag: sample.avro}
    natural = _union_form(node, branch, sample.natural)
    return Sample(datum, natural, avro, _union_form(node, branch, sample.python))


def _union_form(node: Node, branch: int, value: Any) -> Any:
    """The untagged `value` when it picks `branch` alone, else the tagged one
    when that is unambiguous, else `UNREPRESENTABLE`."""
    if value is UNREPRESENTABLE:
        return UNREPRESENTABLE
    fitting = [i for i, b in enumerate(node.branches) if might_fit(b, value)]
    if fitting == [branch] or _numeric_rule_picks(node, fitting, branch, value):
        return value
    tagged = {node.branches[branch].tag: value}
    if any(might_fit(b, tagged) for b in node.branches):
        return UNREPRESENTABLE
    return tagged


def _numeric_rule_picks(node: Node, fitting: list[int], branch: int, value: Any) -> bool:
    """Whether the union's numeric tie rule alone settles it for `branch`: an
    integer takes the first int/long branch, a fraction double over float."""
    candidates = [node.branches[i] for i in fitting]
    if not all(b.plain_number for b in candidates):
        return False
    chosen = node.branches[branch]
    if isinstance(value, int) and not isinstance(value, bool):
        integral = [i for i in fitting if node.branches[i].kind in ("int", "long")]
        return bool(integral) and integral[0] == branch
    if isinstance(value, float):
        return {b.kind for b in candidates} <= {"float", "double"} and chosen.kind == "double"
    return False


def default_json(node: Node, datum: Any) -> Any:
    """A schema's ``default`` for `datum`: Avro's JSON encoding, but unions
    untagged (a default is always of the first branch)."""
    if node.kind == "union":
        first = node.branches[0]
        return None if first.kind == "null" else default_json(first, datum[1])
    if node.logical == "decimal":
        unscaled = int(datum.scaleb(node.scale))
        return two_complement(unscaled, node.size if node.kind == "fixed" else None).decode(
            "latin-1"
        )
    if isinstance(datum, bytes):
        return datum.decode("latin-1")
    if node.kind == "record":
        return {f.name: default_json(f.node, datum[f.name]) for f in node.fields}
    if node.kind == "array":
        return [default_json(node.items, v) for v in datum]  # type: ignore[arg-type]
    if node.kind == "map":
        return {k: default_json(node.items, v) for k, v in datum.items()}  # type: ignore[arg-type]
    return datum


# --- schemas ---------------------------------------------------------------------------------


IDENTIFIER = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda n: n not in RESERVED
)
SYMBOL = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,4}", fullmatch=True)


class _SchemaBuilder:
    """Draws one schema: named types defined once and reused by name, records
    that refer to themselves through a nullable union, an array or a map."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.counter = 0
        self.defined: list[tuple[str, str, Node]] = []
        """(full name, namespace, node) of every completed named type."""
        self.open: list[tuple[str, str, Node]] = []
        """Records whose fields are still being drawn."""

    def fresh(self, namespace: str) -> tuple[dict[str, Any], str, str]:
        """Name attributes of a new named type: its own namespace, the one it
        inherits, or a dotted full name."""
        self.counter += 1
        short = f"N{self.counter}"
        how = self.draw(st.sampled_from(["inherit", "own", "dotted"]))
        if how == "inherit":
            return {"name": short}, short, namespace
        own = self.draw(st.sampled_from(NAMESPACES))
        if how == "own":
            return {"name": short, "namespace": own}, short, own
        return {"name": f"{own}.{short}"}, short, own

    def reference(self, full: str, space: str, namespace: str) -> str:
        if space == namespace and self.draw(st.booleans()):
            return full.rsplit(".", 1)[1]
        return full

    def type_(self, namespace: str, depth: int, *, branch: bool = False) -> tuple[Any, Node]:
        """A schema of any kind; a union `branch` is never itself a union."""
        choices = ["primitive", "logical", "enum", "fixed"]
        if self.defined:
            choices.append("reference")
        if depth < MAX_SCHEMA_DEPTH:
            choices += ["record", "array", "map"] + ([] if branch else ["union", "union"])
        choice = self.draw(st.sampled_from(choices))
        if choice == "primitive":
            kind = self.draw(st.sampled_from(PRIMITIVES))
            return self.draw(st.sampled_from([kind, {"type": kind}])), Node(kind)
        if choice == "logical":
            return self.logical(namespace)
        if choice == "reference":
            full, space, node = self.draw(st.sampled_from(self.defined))
            return self.reference(full, space, namespace), node
        if choice == "enum":
            attrs, short, space = self.fresh(namespace)
            symbols = tuple(self.draw(st.lists(SYMBOL, min_size=1, max_size=4, unique=True)))
            node = Node("enum", name=f"{space}.{short}", symbols=symbols)
            self.defined.append((node.name, space, node))  # type: ignore[arg-type]
            return {"type": "enum", **attrs, "symbols": list(symbols)}, node
        if choice == "fixed":
            attrs, short, space = self.fresh(namespace)
            node = Node("fixed", name=f"{space}.{short}", size=self.draw(st.integers(0, 6)))
            self.defined.append((node.name, space, node))  # type: ignore[arg-type]
            return {"type": "fixed", **attrs, "size": node.size}, node
        if choice == "record":
            return self.record(namespace, depth)
        if choice in ("array", "map"):
            items_schema, items = self.container_items(namespace, depth)
            key = "items" if choice == "array" else "values"
            return {"type": choice, key: items_schema}, Node(choice, items=items)
        return self.union(namespace, depth)

    def logical(self, namespace: str) -> tuple[Any, Node]:
        logical = self.draw(st.sampled_from([*LOGICAL, "decimal", "decimal"]))
        if logical != "decimal":
            base = LOGICAL[logical]
            return {"type": base, "logicalType": logical}, Node(base, logical=logical)
        if self.draw(st.booleans()):
            precision = self.draw(st.integers(1, 24))
            scale = self.draw(st.integers(0, precision))
            schema = {"type": "bytes", "logicalType": "decimal", "precision": precision}
            node = Node("bytes", logical="decimal", precision=precision, scale=scale)
        else:
            attrs, short, space = self.fresh(namespace)
            size = self.draw(st.integers(1, 12))
            precision = self.draw(st.integers(1, max_precision(size)))
            scale = self.draw(st.integers(0, precision))
            schema = {
                "type": "fixed",
                **attrs,
                "size": size,
                "logicalType": "decimal",
                "precision": precision,
            }
            node = Node(
                "fixed",
                logical="decimal",
                name=f"{space}.{short}",
                size=size,
                precision=precision,
                scale=scale,
            )
            self.defined.append((node.name, space, node))  # type: ignore[arg-type]
        if scale or self.draw(st.booleans()):
            schema["scale"] = scale
        return schema, node

    def container_items(self, namespace: str, depth: int) -> tuple[Any, Node]:
        if self.open and self.draw(st.integers(0, 3)) == 0:
            full, space, node = self.draw(st.sampled_from(self.open))
            return self.reference(full, space, namespace), node
        return self.type_(namespace, depth + 1)

    def union(self, namespace: str, depth: int) -> tuple[Any, Node]:
        schemas: list[Any] = []
        branches: list[Node] = []
        for _ in range(self.draw(st.integers(1, 4))):
            defined = len(self.defined)
            schema, node = self.type_(namespace, depth + 1, branch=True)
            if node.tag in {b.tag for b in branches}:
                del self.defined[defined:]  # dropped: nothing may refer to what it defined
            else:
                schemas.append(schema)
                branches.append(node)
        if self.open and self.draw(st.booleans()):
            full, space, node = self.draw(st.sampled_from(self.open))
            if node.tag not in {b.tag for b in branches}:
                if "null" not in {b.tag for b in branches}:
                    schemas.append("null")
                    branches.append(Node("null"))
                schemas.append(self.reference(full, space, namespace))
                branches.append(node)
        if self.draw(st.booleans()) and "null" not in {b.tag for b in branches}:
            where = self.draw(st.integers(0, len(branches)))
            schemas.insert(where, "null")
            branches.insert(where, Node("null"))
        return schemas, Node("union", branches=branches)

    def record(self, namespace: str, depth: int, *, key: str | None = None) -> tuple[Any, Node]:
        attrs, short, space = self.fresh(namespace) if key is None else self.top_names()
        node = Node("record", name=f"{space}.{short}")
        self.open.append((node.name, space, node))  # type: ignore[arg-type]
        fields: list[dict[str, Any]] = []
        if key is not None:
            fields.append({"name": "id", "type": key})
            node.fields.append(Field("id", Node(key)))
        names = self.draw(st.lists(IDENTIFIER, max_size=4, unique=True))
        for name in names:
            schema, child = self.type_(space, depth + 1)
            fields.append({"name": name, "type": schema})
            node.fields.append(Field(name, child))
        self.open.pop()
        for schema, f in zip(fields, node.fields, strict=True):
            if f.name != "id" and not self.reaches_open(f.node) and self.draw(st.booleans()):
                f.default = self.draw(values(f.node, MAX_VALUE_DEPTH, default=True))
                schema["default"] = default_json(f.node, f.default.datum)
        self.defined.append((node.name, space, node))  # type: ignore[arg-type]
        return {"type": "record", **attrs, "fields": fields}, node

    def top_names(self) -> tuple[dict[str, Any], str, str]:
        self.counter += 1
        return (
            {"name": f"N{self.counter}", "namespace": NAMESPACES[0]},
            f"N{self.counter}",
            NAMESPACES[0],
        )

    def reaches_open(self, node: Node) -> bool:
        """Whether a value of `node` can hold a record still being drawn: its
        default could not be drawn yet."""
        seen: set[int] = set()
        pending = [node]
        open_nodes = {id(n) for _, _, n in self.open}
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if id(current) in open_nodes:
                return True
            pending += children(current)
        return False


@st.composite
def schemas(draw: st.DrawFn) -> GeneratedSchema:
    """A top-level record with an ``id`` key field (string, int or long)."""
    builder = _SchemaBuilder(draw)
    schema, node = builder.record(
        NAMESPACES[0], 0, key=draw(st.sampled_from(["string", "int", "long"]))
    )
    external = []
    if draw(st.booleans()):
        # Enums and fixed defined in a top-level field move to named_types, as
        # the catalog's shared types do; the field refers to them by full name.
        for f, model in zip(schema["fields"], node.fields, strict=True):
            if isinstance(f["type"], dict) and f["type"]["type"] in ("enum", "fixed"):
                named = {**f["type"], "name": model.node.name}
                named.pop("namespace", None)
                external.append(json.dumps(named))
                f["type"] = model.node.name
    return GeneratedSchema(schema, node, tuple(external))


@dataclass(frozen=True)
class Case:
    schema: GeneratedSchema
    records: list[Sample]


def cases(max_records: int = 4) -> st.SearchStrategy[Case]:
    """A generated schema with a few valid records whose key is never empty."""

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        generated = draw(schemas())
        records = draw(st.lists(values(generated.node), min_size=1, max_size=max_records))
        return Case(generated, [r for r in records if r.datum["id"] != ""])

    return draw_case().filter(lambda case: bool(case.records))


def expected_key(sample: Sample, key_field: str = "id") -> bytes:
    return str(sample.datum[key_field]).encode()


PRINTABLE_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(string.printable, max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
"""Arbitrary JSON-able Python values (floats include NaN and infinities)."""


def _children(node: Node, natural: Any, path: str) -> list[tuple[Any, str, Node, Any]]:
    """(key, path, node, value) of each value inside a record, array or map."""
    if node.kind == "record":
        fields = {f.name: f.node for f in node.fields}
        return [
            (name, f"{path}.{name}" if path else name, fields[name], value)
            for name, value in natural.items()
        ]
    if node.kind == "array":
        return [(i, f"{path}[{i}]", node.items, v) for i, v in enumerate(natural)]
    if node.kind == "map":
        return [
            (k, f"{path}[{json.dumps(k, ensure_ascii=False)}]", node.items, v)
            for k, v in natural.items()
        ]
    return []


def places(node: Node, natural: Any, path: str = "") -> list[tuple[str, Node]]:
    """Every place of a natural value outside unions: its path as the codec
    names it (``items[2].qty``, ``tags["k"]``) and its node."""
    if node.kind == "union":
        return []
    found = [(path, node)]
    for _, child_path, child, value in _children(node, natural, path):
        found += places(child, value, child_path)
    return found


def wrong_value(node: Node) -> Any:
    """A natural value `node` never takes."""
    return "not an array" if node.kind == "array" else [True]


def replaced(node: Node, natural: Any, targets: set[str], path: str = "") -> Any:
    """`natural` with the value at each of the `targets` paths made wrong."""
    if path in targets:
        return wrong_value(node)
    children = _children(node, natural, path)
    if node.kind == "array":
        return [replaced(c, v, targets, p) for _, p, c, v in children]
    if node.kind in ("record", "map"):
        return {k: replaced(c, v, targets, p) for k, p, c, v in children}
    return natural
