"""A real pydantic model through streamlake.codec.Codec.

The face converts models before the native walk; only a real model shows
what that conversion gives for each field type (test_codec_face.py stands a
stub in for one).
"""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pydantic
import pytest

from streamlake.codec import Codec

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


class RichModel(pydantic.BaseModel):
    id: str
    at: datetime
    amount: Decimal
    uid: uuid.UUID
    tier: Tier
    blob: bytes


VALUES = {
    "id": "r-1",
    "at": datetime(2026, 1, 21, 10, tzinfo=UTC),
    "amount": Decimal("199.99"),
    "uid": uuid.UUID("0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00"),
    "tier": Tier.PRO,
}


@pytest.mark.parametrize("blob", [b"abcd", b"\xff\x00"], ids=["text-like bytes", "binary bytes"])
def test_a_pydantic_model_encodes_as_its_values_do(blob):
    codec = Codec(json.dumps(RICH), 5, key_field="id")
    values = {**VALUES, "blob": blob}

    assert codec.encode(RichModel(**values)) == codec.encode(values)
