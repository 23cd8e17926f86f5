"""The per-event work: turn an input into a key, an Avro value and headers.

`ValueEncoder` writes the Confluent wire format (magic byte 0, the 4-byte
big-endian schema id, Avro binary) with fastavro's `schemaless_writer` and a
schema parsed once, which is exactly what confluent-kafka's AvroSerializer
does per call minus its per-call overhead; tests/unit/test_encoding.py proves
the bytes identical to AvroSerializer's for the whole catalog and for
generated records. Failures are explained only on the slow path, so valid
events pay for no diagnostics.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import struct
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import fastavro
from fastavro.validation import ValidationError, validate

from streamlake.catalog import SchemaVersion
from streamlake.errors import ErrorType, InvalidEventError


def to_record(event: object) -> dict[str, Any]:
    """The event as a dict: a mapping, JSON text (str or UTF-8 bytes), a
    dataclass, or an object with `model_dump()` / `to_dict()`."""
    if isinstance(event, dict):
        return event
    if isinstance(event, str | bytes | bytearray):
        event = parse_json(event)
    elif dataclasses.is_dataclass(event) and not isinstance(event, type):
        event = dataclasses.asdict(event)
    elif hasattr(event, "model_dump"):
        event = event.model_dump()
    elif hasattr(event, "to_dict"):
        event = event.to_dict()
    if isinstance(event, Mapping):
        return dict(event)
    raise InvalidEventError(
        ErrorType.SCHEMA_VALIDATION,
        f"expected a JSON object, got {_json_type(event)} {_preview(event)}",
    )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str | bytes | bytearray) -> Any:
    """Strict JSON: NaN and Infinity (which Python accepts) are rejected."""
    try:
        # Decode explicitly: json.loads would also guess UTF-16 and UTF-32.
        if isinstance(text, bytes | bytearray):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise InvalidEventError(ErrorType.INVALID_JSON, f"not UTF-8 text: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise InvalidEventError(ErrorType.INVALID_JSON, f"not valid JSON: {exc}") from exc


class ValueEncoder:
    """Validates and encodes records for one registered schema version."""

    def __init__(self, version: SchemaVersion, schema_id: int) -> None:
        self.version = version
        self.schema_id = schema_id
        self._parsed = cast(dict[str, Any], fastavro.parse_schema(dict(version.schema)))
        self._prefix = b"\x00" + schema_id.to_bytes(4, "big")
        fields = version.schema["fields"]
        self._fields = frozenset(f["name"] for f in fields)
        self._required = tuple(f["name"] for f in fields if "default" not in f)
        self._name = str(self._parsed["name"])
        self._nested = _has_nested_records(self._parsed)
        self._fast = compile_writer(self._parsed)

    def encode(self, record: dict[str, Any]) -> bytes:
        if self._fast is not None:
            out = bytearray(self._prefix)
            try:
                self._fast(record, out)
                return bytes(out)
            except Exception:  # not vouched for: the reference path decides and explains
                pass
        # The writer would silently drop unknown fields and coerce wrong types
        # (true -> 1.0 for a double, 1.5 -> 1 for a long): refuse both first.
        if (
            record.keys() <= self._fields
            and validate(record, self._parsed, raise_errors=False)
            and not (self._nested and _unknown_fields(self._parsed, record))
        ):
            buffer = io.BytesIO()
            buffer.write(self._prefix)
            try:
                fastavro.schemaless_writer(buffer, self._parsed, record)
                return buffer.getvalue()
            except Exception as exc:
                raise self.explain(record, exc) from exc
        raise self.explain(record, None)

    def explain(self, record: dict[str, Any], exc: Exception | None) -> InvalidEventError:
        """Why `record` cannot be encoded, naming the field path."""
        where = f"{self.version.dataset} {self.version.label}"
        missing = [name for name in self._required if name not in record]
        if missing:
            return InvalidEventError(
                ErrorType.MISSING_FIELD,
                "; ".join(f"{name}: required by {where} but missing" for name in missing),
            )
        extra = sorted(_field_name(name) for name in record.keys() - self._fields)
        extra += _unknown_fields(self._parsed, record) if self._nested else []
        if extra:
            return InvalidEventError(
                ErrorType.SCHEMA_VALIDATION,
                "; ".join(f"{name}: not a field of {where}" for name in extra),
            )
        try:
            validate(record, self._parsed, raise_errors=True)
        except ValidationError as invalid:
            return InvalidEventError(ErrorType.SCHEMA_VALIDATION, self._describe(invalid))
        except RecursionError:
            return InvalidEventError(ErrorType.SCHEMA_VALIDATION, "nested too deeply to validate")
        return InvalidEventError(ErrorType.SERIALIZATION, f"could not encode for {where}: {exc}")

    def _describe(self, invalid: ValidationError) -> str:
        """`amount: expected double, got string 'lots'`, one clause per field;
        a union's alternatives are folded into one clause."""
        expected: dict[str, list[str]] = {}
        datums: dict[str, Any] = {}
        for error in invalid.errors:
            path = error.field.removeprefix(self._name).lstrip(".") or "(record)"
            expected.setdefault(path, []).append(_schema_name(error.schema))
            datums[path] = error.datum
        return "; ".join(
            f"{path}: expected {' or '.join(dict.fromkeys(kinds))}, "
            f"got {_json_type(datums[path])} {_preview(datums[path])}"
            for path, kinds in expected.items()
        )


# --- the fast path: a writer compiled from the schema, for exact builtin types ---------------


class _NotVouched(Exception):
    """The compiled writer does not vouch for this value; the reference path decides."""


class _Unsupported(Exception):
    """The schema uses something the compiled writer does not handle."""


Writer = Callable[[Any, bytearray], None]

_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_ONE_BYTE = [bytes([n]) for n in range(128)]
_pack_float = struct.Struct("<f").pack
_pack_double = struct.Struct("<d").pack


def _varint(n: int) -> bytes:
    """Avro's variable-length encoding of an already zig-zagged (non-negative) long."""
    if n < 128:
        return _ONE_BYTE[n]
    out = bytearray()
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _w_null(v: Any, out: bytearray) -> None:
    if v is not None:
        raise _NotVouched


def _w_boolean(v: Any, out: bytearray) -> None:
    if v is True:
        out += b"\x01"
    elif v is False:
        out += b"\x00"
    else:
        raise _NotVouched


def _w_int(v: Any, out: bytearray) -> None:
    if type(v) is not int or not _INT_MIN <= v <= _INT_MAX:
        raise _NotVouched
    out += _zigzag(v)


def _w_long(v: Any, out: bytearray) -> None:
    if type(v) is not int or not _LONG_MIN <= v <= _LONG_MAX:
        raise _NotVouched
    out += _zigzag(v)


def _w_float(v: Any, out: bytearray) -> None:
    if type(v) is not float and type(v) is not int:
        raise _NotVouched
    out += _pack_float(v)  # OverflowError beyond float32: the reference decides


def _w_double(v: Any, out: bytearray) -> None:
    if type(v) is not float and type(v) is not int:
        raise _NotVouched
    out += _pack_double(v)


def _w_string(v: Any, out: bytearray) -> None:
    if type(v) is not str:
        raise _NotVouched
    data = v.encode()  # lone surrogates raise: the reference decides
    n = len(data)
    out += _ONE_BYTE[n << 1] if n < 64 else _varint(n << 1)
    out += data


def _w_bytes(v: Any, out: bytearray) -> None:
    if type(v) is not bytes:
        raise _NotVouched
    n = len(v)
    out += _ONE_BYTE[n << 1] if n < 64 else _varint(n << 1)
    out += v


# Which exact Python values each primitive accepts: the same as fastavro's
# validator for values of these exact types (bool is not an int, here as there).
_PRIMITIVES: dict[str, tuple[Callable[[Any], bool], Writer]] = {
    "null": (lambda v: v is None, _w_null),
    "boolean": (lambda v: v is True or v is False, _w_boolean),
    "int": (lambda v: type(v) is int and _INT_MIN <= v <= _INT_MAX, _w_int),
    "long": (lambda v: type(v) is int and _LONG_MIN <= v <= _LONG_MAX, _w_long),
    "float": (lambda v: type(v) is float or type(v) is int, _w_float),
    "double": (lambda v: type(v) is float or type(v) is int, _w_double),
    "string": (lambda v: type(v) is str, _w_string),
    "bytes": (lambda v: type(v) is bytes, _w_bytes),
}


def _compile(schema: Any, named: dict[str, Any], compiling: frozenset[str]) -> Writer:
    """A writer for `schema` that appends exactly what fastavro's writer would,
    or raises _NotVouched for any value it does not handle (the caller then
    uses the reference path)."""
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            return _PRIMITIVES[schema][1]
        if schema in named and schema not in compiling:
            return _compile(named[schema], named, compiling)
        raise _Unsupported(schema)  # unknown, or a recursive type
    if isinstance(schema, list):
        return _compile_union(schema, named, compiling)
    if not isinstance(schema, dict) or "logicalType" in schema:
        raise _Unsupported(schema)
    kind = schema.get("type")
    if kind in _PRIMITIVES:
        return _PRIMITIVES[kind][1]
    if kind == "record":
        return _compile_record(schema, named, compiling | {schema["name"]})
    if kind == "array":
        return _array(_compile(schema["items"], named, compiling))
    if kind == "map":
        return _map(_compile(schema["values"], named, compiling))
    if kind == "enum":
        return _enum(schema["symbols"])
    if kind == "fixed":
        return _fixed(schema["size"])
    raise _Unsupported(kind)


def _compile_record(
    schema: dict[str, Any], named: dict[str, Any], compiling: frozenset[str]
) -> Writer:
    names = frozenset(f["name"] for f in schema["fields"])
    # The reference writes record.get(name, default) for every field.
    fields = tuple(
        (f["name"], f.get("default"), _compile(f["type"], named, compiling))
        for f in schema["fields"]
    )

    def write(v: Any, out: bytearray) -> None:
        # An unknown key is never dropped here: the reference path rejects it.
        if type(v) is not dict or not v.keys() <= names:
            raise _NotVouched
        get = v.get
        for name, default, writer in fields:
            writer(get(name, default), out)

    return write


def _compile_union(schema: list[Any], named: dict[str, Any], compiling: frozenset[str]) -> Writer:
    """fastavro writes the first branch its validator accepts (with two
    exceptions handled by refusing such unions: it prefers a later "double"
    over "float", and a later branch that also takes a dict over a record)."""
    resolved = [named.get(b, b) if isinstance(b, str) else b for b in schema]
    kinds = [r.get("type") if isinstance(r, dict) else r for r in resolved]
    if "float" in kinds and "double" in kinds[kinds.index("float") + 1 :]:
        raise _Unsupported("float before double")
    branches = []
    takes: dict[type, int] = {}
    for index, (branch, kind) in enumerate(zip(resolved, kinds, strict=True)):
        accepts: Callable[[Any], bool]
        if kind in _PRIMITIVES:
            accepts = _PRIMITIVES[kind][0]
        elif kind in ("record", "map", "array"):
            python_type = list if kind == "array" else dict
            takes[python_type] = takes.get(python_type, 0) + 1
            accepts = partial(_is_type, python_type)
        elif kind == "enum":
            accepts = partial(_is_symbol, frozenset(branch["symbols"]))
        elif kind == "fixed":
            accepts = partial(_is_fixed, branch["size"])
        else:
            raise _Unsupported(branch)
        # Compiled from the branch as written: a logical type stays unsupported.
        branches.append((accepts, _varint(index << 1), _compile(schema[index], named, compiling)))
    if any(count > 1 for count in takes.values()):
        raise _Unsupported("two branches take the same container type")
    choices = tuple(branches)

    def write(v: Any, out: bytearray) -> None:
        for accepts, index, writer in choices:
            if accepts(v):
                out += index
                writer(v, out)
                return
        raise _NotVouched

    return write


def _is_type(python_type: type, v: Any) -> bool:
    return type(v) is python_type


def _is_symbol(symbols: frozenset[str], v: Any) -> bool:
    return type(v) is str and v in symbols


def _is_fixed(size: int, v: Any) -> bool:
    return type(v) is bytes and len(v) == size


def _array(item: Writer) -> Writer:
    def write(v: Any, out: bytearray) -> None:
        if type(v) is not list:
            raise _NotVouched
        if v:
            out += _varint(len(v) << 1)
            for x in v:
                item(x, out)
        out += b"\x00"

    return write


def _map(value: Writer) -> Writer:
    def write(v: Any, out: bytearray) -> None:
        if type(v) is not dict:
            raise _NotVouched
        if v:
            out += _varint(len(v) << 1)
            for k, x in v.items():
                _w_string(k, out)
                value(x, out)
        out += b"\x00"

    return write


def _enum(symbols: list[str]) -> Writer:
    index = {symbol: _varint(i << 1) for i, symbol in enumerate(symbols)}

    def write(v: Any, out: bytearray) -> None:
        if type(v) is not str or v not in index:
            raise _NotVouched
        out += index[v]

    return write


def _fixed(size: int) -> Writer:
    def write(v: Any, out: bytearray) -> None:
        if type(v) is not bytes or len(v) != size:
            raise _NotVouched
        out += v

    return write


def compile_writer(parsed: dict[str, Any]) -> Writer | None:
    """The fast writer for a fastavro-parsed schema, or None when it uses
    something only the reference path handles (logical types, recursion)."""
    try:
        return _compile(parsed, parsed.get("__named_schemas", {}), frozenset())
    except (_Unsupported, KeyError, TypeError):
        return None


def _has_nested_records(schema: Any) -> bool:
    return any(_records(field["type"]) for field in schema["fields"])


def _records(schema: Any) -> list[dict[str, Any]]:
    """The record schemas a value of `schema` may directly be (through unions)."""
    if isinstance(schema, list):
        return [r for member in schema for r in _records(member)]
    if isinstance(schema, dict) and schema.get("type") == "record":
        return [schema]
    return []


def _unknown_fields(schema: dict[str, Any], record: dict[str, Any], path: str = "") -> list[str]:
    """Paths of fields below the top level that no nested record declares.

    fastavro's strict mode would catch these, but it also rejects a missing
    field whose default is null, which Avro allows.
    """
    found: list[str] = []
    for field in schema["fields"]:
        value = record.get(field["name"]) if isinstance(record, dict) else None
        found += _unknown_in(field["type"], value, f"{path}{field['name']}")
    return found


def _unknown_in(schema: Any, value: Any, path: str) -> list[str]:
    if isinstance(schema, list):
        # A union: a dict is checked against the record member it fits best.
        candidates = [_unknown_in(r, value, path) for r in _records(schema)]
        return min(candidates, key=len) if candidates and isinstance(value, dict) else []
    if not isinstance(schema, dict):
        return []
    kind = schema.get("type")
    if kind == "record" and isinstance(value, dict):
        names = {f["name"] for f in schema["fields"]}
        own = [f"{path}.{_field_name(k)}" for k in value if k not in names]
        return own + _unknown_fields(schema, value, f"{path}.")
    if kind == "array" and isinstance(value, list):
        return [
            p
            for i, item in enumerate(value)
            for p in _unknown_in(schema["items"], item, f"{path}[{i}]")
        ]
    if kind == "map" and isinstance(value, dict):
        return [
            p
            for k, item in value.items()
            for p in _unknown_in(schema["values"], item, f"{path}{{{k}}}")
        ]
    return []


def _field_name(name: object) -> str:
    text = name if isinstance(name, str) else repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_name(schema: Any) -> str:
    if isinstance(schema, dict):
        return str(schema.get("name") or schema.get("type"))
    if isinstance(schema, list):
        return " or ".join(_schema_name(s) for s in schema)
    return str(schema)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if math.isfinite(value) else "non-finite number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _preview(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Clock:
    """`ingested_at` values: RFC 3339, UTC, millisecond precision. The text is
    cached per millisecond, since bulk runs produce many events per tick."""

    def __init__(self) -> None:
        self._ms: int | None = None
        self._text = b""

    def now(self, time_ns: int) -> bytes:
        ms = time_ns // 1_000_000
        if ms != self._ms:
            stamp = datetime.fromtimestamp(ms / 1000, UTC)
            self._text = (stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z").encode()
            self._ms = ms
        return self._text
