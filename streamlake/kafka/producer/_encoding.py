"""The per-event work: turn an input into a key, an Avro value and headers.

`ValueEncoder` writes the Confluent wire format (magic byte 0, the 4-byte
big-endian schema id, Avro binary) with fastavro's `schemaless_writer` and a
schema parsed once, which is exactly what confluent-kafka's AvroSerializer
does per call minus its per-call overhead; tests/unit/test_encoding.py proves
the bytes identical to AvroSerializer's for the whole catalog and for
generated records. Unlike AvroSerializer it refuses what the writer would
silently change: wrong types are coerced by the writer, unknown fields
dropped. Failures are explained only on the slow path, so valid events pay
for no diagnostics.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from operator import itemgetter
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


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""Built once: json.loads(text, parse_constant=...) builds a decoder per call (~1.2 us)."""


def parse_json(text: str | bytes | bytearray) -> Any:
    """Strict JSON: NaN and Infinity (which Python accepts) are rejected."""
    try:
        # Decode explicitly: json.loads would also guess UTF-16 and UTF-32.
        if isinstance(text, bytes | bytearray):
            text = text.decode("utf-8")
        if text.startswith("\ufeff"):  # json.loads's own check, which decode() lacks
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except UnicodeDecodeError as exc:
        raise InvalidEventError(ErrorType.INVALID_JSON, f"not UTF-8 text: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise InvalidEventError(ErrorType.INVALID_JSON, f"not valid JSON: {exc}") from exc


class ValueEncoder:
    """Validates and encodes records for one registered schema version."""

    def __init__(self, version: SchemaVersion, schema_id: int) -> None:
        self.version = version
        self.schema_id = schema_id
        named: dict[str, Any] = {}  # the shared types it references, parsed first
        for text in version.named_types:
            fastavro.parse_schema(json.loads(text), named_schemas=named)
        self._parsed = cast(
            dict[str, Any], fastavro.parse_schema(dict(version.schema), named_schemas=named)
        )
        self._prefix = b"\x00" + schema_id.to_bytes(4, "big")
        fields = version.schema["fields"]
        self._fields = frozenset(f["name"] for f in fields)
        self._required = tuple(f["name"] for f in fields if "default" not in f)
        self._name = str(self._parsed["name"])

    def encode(self, record: dict[str, Any]) -> bytes:
        # The writer coerces wrong types (true -> 1.0 for a double, 1.5 -> 1
        # for a long) and, unless told otherwise, drops unknown fields: the
        # validator refuses the former, strict_allow_default the latter, at
        # any depth, while still allowing omitted fields that have a default.
        buffer = io.BytesIO()
        buffer.write(self._prefix)
        try:
            if validate(record, self._parsed, raise_errors=False):
                fastavro.schemaless_writer(buffer, self._parsed, record, strict_allow_default=True)
                return buffer.getvalue()
        except Exception as exc:  # e.g. OverflowError: an int too large for a double
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
        extra += _unknown_fields(self._parsed, record)
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


def _resolve(schema: Any, named: Mapping[str, Any]) -> Any:
    """A reference to a named type (fastavro writes its full name) as its schema."""
    return named[schema] if isinstance(schema, str) and schema in named else schema


def _records(schema: Any, named: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record schemas a value of `schema` may directly be (through unions)."""
    schema = _resolve(schema, named)
    if isinstance(schema, list):
        return [r for member in schema for r in _records(member, named)]
    if isinstance(schema, dict) and schema.get("type") == "record":
        return [schema]
    return []


def _unknown_fields(
    schema: dict[str, Any],
    record: dict[str, Any],
    path: str = "",
    named: Mapping[str, Any] | None = None,
) -> list[str]:
    """Paths of fields below the top level that no nested record declares.

    The writer refuses these without saying where they are; this finds the
    path for the error message, on the slow path only.
    """
    named = schema.get("__named_schemas", {}) if named is None else named
    found: list[str] = []
    for field in schema["fields"]:
        value = record.get(field["name"]) if isinstance(record, dict) else None
        found += _unknown_in(field["type"], value, f"{path}{field['name']}", named)
    return found


def _unknown_in(schema: Any, value: Any, path: str, named: Mapping[str, Any]) -> list[str]:
    schema = _resolve(schema, named)
    if isinstance(schema, list):
        # A union: a dict is checked against the record member it fits best.
        candidates = [_unknown_in(r, value, path, named) for r in _records(schema, named)]
        return min(candidates, key=len) if candidates and isinstance(value, dict) else []
    if not isinstance(schema, dict):
        return []
    kind = schema.get("type")
    if kind == "record" and isinstance(value, dict):
        names = {f["name"] for f in schema["fields"]}
        own = [f"{path}.{_field_name(k)}" for k in value if k not in names]
        return own + _unknown_fields(schema, value, f"{path}.", named)
    if kind == "array" and isinstance(value, list):
        return [
            p
            for i, item in enumerate(value)
            for p in _unknown_in(schema["items"], item, f"{path}[{i}]", named)
        ]
    if kind == "map" and isinstance(value, dict):
        return [
            p
            for k, item in value.items()
            for p in _unknown_in(schema["values"], item, f"{path}{{{k}}}", named)
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
    if isinstance(value, float) and not math.isfinite(value):
        return "non-finite number"
    if isinstance(value, int | float):  # an int may be too large for isfinite()
        return "number"
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


_UUIDS_PER_BATCH = 1024
_uuid_pool: list[str] = []
# A forked child must not hand out the ids its parent already holds.
os.register_at_fork(after_in_child=_uuid_pool.clear)
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))  # byte 6: version nibble 4
_RFC_4122 = bytes((b & 0x3F) | 0x80 for b in range(256))  # byte 8: variant bits 10
_UUID_GROUPS = itemgetter(slice(0, 8), slice(8, 12), slice(12, 16), slice(16, 20), slice(20, 32))


def new_ingestion_id() -> str:
    """A random (version 4) UUID as text, like ``str(uuid.uuid4())``.

    Both take the random bits from os.urandom and set the same version and
    variant bits, leaving 122 random; this draws 1024 ids per urandom call and
    formats them in one pass, ~0.4 us per id instead of uuid4's ~1.9 us.
    """
    try:
        return _uuid_pool.pop()
    except IndexError:
        raw = bytearray(os.urandom(16 * _UUIDS_PER_BATCH))
        raw[6::16] = raw[6::16].translate(_VERSION_4)
        raw[8::16] = raw[8::16].translate(_RFC_4122)
        hexes = raw.hex()
        _uuid_pool.extend(
            "-".join(_UUID_GROUPS(hexes[i : i + 32])) for i in range(0, len(hexes), 32)
        )
        return _uuid_pool.pop()


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
