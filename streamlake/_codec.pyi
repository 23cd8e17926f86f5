"""Type stubs of the native Avro codec (the Rust crate in codec/)."""

from collections.abc import Sequence
from typing import Literal

class EncodeError(ValueError):
    """An event the schema refuses; every offending path is in `errors`."""

    kind: Literal["invalid_json", "missing_field", "schema_validation"]
    message: str
    errors: list[tuple[str, str]]
    key: bytes | None

class Encoder:
    """An Avro encoder for one registered schema version."""

    def __init__(
        self,
        schema_json: str,
        schema_id: int,
        *,
        key_field: str,
        json_encoding: Literal["natural", "avro"] | str = "natural",
        named_types: Sequence[str] = (),
    ) -> None: ...
    @property
    def schema_id(self) -> int: ...
    def encode_json(self, data: str | bytes | bytearray) -> tuple[bytes, bytes]: ...
    def encode_object(self, obj: object) -> tuple[bytes, bytes]: ...
