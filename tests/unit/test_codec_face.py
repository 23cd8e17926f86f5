"""streamlake.codec.Codec: the codec's Python face.

It takes JSON text, mappings, dataclass instances and pydantic models, and
turns every EncodeError into an InvalidEventError of the matching type; an
event of any other kind is a TypeError.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest

from streamlake._codec import EncodeError
from streamlake.catalog import load_catalog
from streamlake.codec import Codec
from streamlake.errors import ErrorType, InvalidEventError

ROOT = Path(__file__).resolve().parents[2]
ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "amount": 42.5,
    "event_time": "2026-01-21T10:00:00Z",
    "currency": "EUR",
}
RICH = {
    "type": "record",
    "name": "Rich",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
        },
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "tier", "type": {"type": "enum", "name": "Tier", "symbols": ["FREE", "PRO"]}},
        {"name": "blob", "type": "bytes"},
    ],
}


class Tier(enum.Enum):
    FREE = "FREE"
    PRO = "PRO"


@dataclasses.dataclass
class Order:
    order_id: str
    customer_id: str
    amount: float
    event_time: str
    currency: str | None


class RichModel(pydantic.BaseModel):
    id: str
    at: datetime
    amount: Decimal
    uid: uuid.UUID
    tier: Tier
    blob: bytes


RICH_VALUES = {
    "id": "r-1",
    "at": datetime(2026, 1, 21, 10, tzinfo=UTC),
    "amount": Decimal("199.99"),
    "uid": uuid.UUID("0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00"),
    "tier": Tier.PRO,
    "blob": b"abcd",
}


@pytest.fixture(scope="module")
def orders() -> Codec:
    dataset = load_catalog(ROOT / "avro")["orders"]
    return Codec(dataset.latest, 5, key_field=dataset.key_field)


@pytest.mark.parametrize(
    "event",
    [ORDER, Order(**ORDER), json.dumps(ORDER), json.dumps(ORDER).encode()],
    ids=["mapping", "dataclass", "str", "bytes"],
)
def test_every_kind_of_event_encodes_to_the_same_record(orders, event):
    value, key = orders.encode(event)

    assert (value, key) == orders.encode(ORDER)
    assert value[:5] == b"\x00\x00\x00\x00\x05"
    assert key == b"o-1"


@pytest.mark.parametrize("blob", [b"abcd", b"\xff\x00"], ids=["text-like bytes", "binary bytes"])
def test_a_pydantic_model_encodes_as_its_values_do(blob):
    codec = Codec(json.dumps(RICH), 5, key_field="id")
    values = {**RICH_VALUES, "blob": blob}

    assert codec.encode(RichModel(**values)) == codec.encode(values)


@pytest.mark.parametrize(
    ("event", "error_type"),
    [
        ('{"order_id": "o-1"', ErrorType.INVALID_JSON),
        ({**ORDER, "order_id": ""}, ErrorType.MISSING_FIELD),
        ({**ORDER, "amount": "many"}, ErrorType.SCHEMA_VALIDATION),
        ('"hello"', ErrorType.SCHEMA_VALIDATION),
    ],
)
def test_a_refused_event_is_an_invalid_event_error_of_its_type(orders, event, error_type):
    with pytest.raises(InvalidEventError) as caught:
        orders.encode(event)

    assert caught.value.error_type is error_type
    assert isinstance(caught.value.__cause__, EncodeError)
    assert str(caught.value) == caught.value.__cause__.message


def test_the_native_error_keeps_the_key_for_the_dead_letter_record(orders):
    with pytest.raises(InvalidEventError) as caught:
        orders.encode({**ORDER, "amount": "many"})

    assert caught.value.__cause__.key == b"o-1"


@pytest.mark.parametrize("event", [[ORDER], 3, None, Order, object()])
def test_an_event_that_is_no_mapping_text_dataclass_or_model_is_a_type_error(orders, event):
    with pytest.raises(TypeError, match="an event must be"):
        orders.encode(event)
