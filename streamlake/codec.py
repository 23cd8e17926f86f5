"""The Avro codec's Python face: one `Codec` per registered schema version.

`Codec.encode(event)` returns the Confluent wire-format value and the record
key, or raises `InvalidEventError` (its `__cause__` is the native
`EncodeError`, whose `key` is the key when it could be read). The work is
done by `streamlake._codec` (Rust, codec/): JSON text is encoded in one
streaming pass; Python objects are walked directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from streamlake._codec import EncodeError, Encoder
from streamlake.errors import ErrorType, InvalidEventError


class SchemaSource(Protocol):
    """What a Codec needs of a catalog schema version."""

    @property
    def schema_str(self) -> str: ...


class Codec:
    """Encodes events for one schema version and its registry id."""

    def __init__(
        self,
        schema: str | SchemaSource,
        schema_id: int,
        *,
        key_field: str,
        json_encoding: str = "natural",
        named_types: Sequence[str] | None = None,
    ) -> None:
        if isinstance(schema, str):
            text, named = schema, ()
        else:
            text, named = schema.schema_str, getattr(schema, "named_types", ())
        self._encoder = Encoder(
            text,
            schema_id,
            key_field=key_field,
            json_encoding=json_encoding,
            named_types=tuple(named if named_types is None else named_types),
        )

    @property
    def schema_id(self) -> int:
        return self._encoder.schema_id

    def encode(self, event: object) -> tuple[bytes, bytes]:
        """(value, key) for JSON text, a mapping, a dataclass or a pydantic model."""
        try:
            if isinstance(event, str | bytes | bytearray):
                return self._encoder.encode_json(event)
            if isinstance(event, Mapping):
                return self._encoder.encode_object(event)
            if isinstance(event, type):
                raise TypeError(f"an event must be an instance, not the class {event.__name__}")
            if dataclasses.is_dataclass(event) and not isinstance(event, type):
                return self._encoder.encode_object(_dataclass_dict(event))
            model_dump = getattr(event, "model_dump", None)
            if callable(model_dump):
                # mode="python" keeps bytes, datetime, Decimal, UUID as objects;
                # mode="json" would turn bytes into text the codec reads as base64.
                return self._encoder.encode_object(model_dump(mode="python"))
        except EncodeError as exc:
            raise InvalidEventError(ErrorType(exc.kind), exc.message) from exc
        raise TypeError(
            "an event must be JSON text (str, bytes), a mapping, a dataclass instance "
            f"or a pydantic model, not {type(event).__name__}"
        )


def _dataclass_dict(value: Any) -> Any:
    """`dataclasses.asdict`, except that a field's `metadata["avro_name"]` is
    its key: generated classes name Avro fields that are Python keywords
    `from_`, `class_`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.metadata.get("avro_name", f.name): _dataclass_dict(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, list | tuple):
        return [_dataclass_dict(v) for v in value]
    if isinstance(value, dict):
        return {k: _dataclass_dict(v) for k, v in value.items()}
    return value
