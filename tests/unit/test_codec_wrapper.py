"""streamlake.codec.Codec: what it accepts, and how refusals become InvalidEventError.

The encoding rules themselves are the native codec's (codec/tests, and the
oracle tests against fastavro); these tests cover the Python face only.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from streamlake._codec import EncodeError, Encoder
from streamlake.catalog import load_catalog
from streamlake.codec import Codec
from streamlake.errors import ErrorType, InvalidEventError

ROOT = Path(__file__).resolve().parents[2]
ORDER = {
    "order_id": "ORD-1",
    "customer_id": "CUST-42",
    "amount": 12.5,
    "event_time": "2026-01-21T10:00:00Z",
    "currency": "EUR",
}


@pytest.fixture
def codec() -> Codec:
    version = load_catalog(ROOT / "avro")["orders"].latest
    return Codec(version, 7, key_field="order_id")


@dataclasses.dataclass
class Line:
    sku: str
    from_: str = dataclasses.field(metadata={"avro_name": "from"})


@dataclasses.dataclass
class Order:
    order_id: str
    customer_id: str
    amount: float
    event_time: str
    currency: str | None = None


class Model:
    """Stands in for a pydantic model: only model_dump(mode=...) is used."""

    def model_dump(self, *, mode: str) -> dict[str, Any]:
        # "python" keeps bytes as bytes: "json" would make them text.
        assert mode == "python"
        return dict(ORDER)


def test_every_accepted_form_of_an_event_encodes_to_the_same_bytes(codec: Codec) -> None:
    text = json.dumps(ORDER)
    expected = codec.encode(text)
    assert expected[0][:5] == b"\x00\x00\x00\x00\x07"
    assert expected[1] == b"ORD-1"
    for event in (
        text.encode(),
        bytearray(text.encode()),
        ORDER,
        MappingProxyType(ORDER),
        Order(**ORDER),  # type: ignore[arg-type]
        Model(),
    ):
        assert codec.encode(event) == expected, type(event)


def test_a_dataclass_field_named_like_a_python_keyword_keeps_its_avro_name() -> None:
    schema = {
        "type": "record",
        "name": "Line",
        "fields": [{"name": "sku", "type": "string"}, {"name": "from", "type": "string"}],
    }
    codec = Codec(json.dumps(schema), 1, key_field="sku")
    assert codec.encode(Line(sku="A", from_="app")) == codec.encode({"sku": "A", "from": "app"})


@pytest.mark.parametrize("event", [Order, 42, None, [ORDER], object()])
def test_anything_but_an_event_instance_is_a_type_error(codec: Codec, event: object) -> None:
    with pytest.raises(TypeError, match="an event must be"):
        codec.encode(event)


def test_a_refusal_is_an_invalid_event_error_caused_by_the_native_one(codec: Codec) -> None:
    bad = dict(ORDER, amount="lots", extra=1)
    with pytest.raises(InvalidEventError) as caught:
        codec.encode(bad)
    err = caught.value
    assert err.error_type is ErrorType.SCHEMA_VALIDATION
    assert err.message == (
        'amount: expected double, got "lots"; extra: not a field of io.streamlake.orders.Order'
    )
    cause = err.__cause__
    assert isinstance(cause, EncodeError)
    assert cause.key == b"ORD-1"
    assert cause.errors == [
        ("amount", 'expected double, got "lots"'),
        ("extra", "not a field of io.streamlake.orders.Order"),
    ]


@pytest.mark.parametrize(
    ("event", "error_type"),
    [
        ('{"order_id": "ORD-1",', ErrorType.INVALID_JSON),
        (b"\xff", ErrorType.INVALID_JSON),
        ('"hello"', ErrorType.SCHEMA_VALIDATION),
        ({"order_id": "ORD-1"}, ErrorType.MISSING_FIELD),
        (dict(ORDER, order_id=""), ErrorType.MISSING_FIELD),
    ],
)
def test_the_error_type_follows_the_native_kind(
    codec: Codec, event: object, error_type: ErrorType
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        codec.encode(event)
    assert caught.value.error_type is error_type


def test_the_schema_id_is_the_registrys(codec: Codec) -> None:
    assert codec.schema_id == 7


def test_a_bad_schema_or_key_field_is_refused_when_the_encoder_is_built() -> None:
    with pytest.raises(ValueError, match="not a field"):
        Encoder('{"type":"record","name":"R","fields":[]}', 1, key_field="id")
    with pytest.raises(ValueError, match="json_encoding"):
        Encoder(
            '{"type":"record","name":"R","fields":[{"name":"id","type":"string"}]}',
            1,
            key_field="id",
            json_encoding="yaml",
        )
