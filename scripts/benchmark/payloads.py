"""The payloads: `orders` (like avro/orders v2) and `1k` (~1 KB of nested JSON).

Events come from a pool of distinct bodies, each with its own order_id, a
fresh dict per event, as a service receives them; the pool is built before a
contender's clock starts.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.settings import ROOT

POOL = 4096
"""Distinct payload bodies; each event is one of them with its own order_id."""
SEED = 20261127
KEY_FIELD = "order_id"

ORDERS_V1 = (ROOT / "avro" / "orders" / "v1.avsc").read_text()
ORDERS_V2 = (ROOT / "avro" / "orders" / "v2.avsc").read_text()
ORDERS_1K = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "io.streamlake.bench",
        "doc": "An order with line items and an address: ~1 KB of JSON.",
        "fields": [
            {"name": "order_id", "type": "string"},
            {"name": "customer_id", "type": "string"},
            {"name": "amount", "type": "double"},
            {"name": "event_time", "type": "string"},
            {"name": "currency", "type": ["null", "string"], "default": None},
            {
                "name": "items",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "LineItem",
                        "fields": [
                            {"name": "sku", "type": "string"},
                            {"name": "quantity", "type": "int"},
                            {"name": "unit_price", "type": "double"},
                            {"name": "description", "type": "string"},
                        ],
                    },
                },
            },
            {
                "name": "shipping_address",
                "type": {
                    "type": "record",
                    "name": "Address",
                    "fields": [
                        {"name": "street", "type": "string"},
                        {"name": "city", "type": "string"},
                        {"name": "postal_code", "type": "string"},
                        {"name": "country", "type": "string"},
                    ],
                },
            },
            {"name": "notes", "type": ["null", "string"], "default": None},
        ],
    },
    indent=2,
)


@dataclass(frozen=True, kw_only=True)
class Payload:
    """A payload: its dataset's name and its schema versions (the last is produced)."""

    dataset: str
    schemas: tuple[str, ...]

    @property
    def schema(self) -> str:
        return self.schemas[-1]

    @property
    def version_label(self) -> str:
        return f"v{len(self.schemas)}"


PAYLOADS: dict[str, Payload] = {
    "orders": Payload(dataset="orders", schemas=(ORDERS_V1, ORDERS_V2)),
    "1k": Payload(dataset="orders1k", schemas=(ORDERS_1K,)),
}
_WORDS = [
    "blue",
    "cotton",
    "shirt",
    "steel",
    "bottle",
    "ceramic",
    "mug",
    "organic",
    "coffee",
    "beans",
    "wireless",
    "charger",
    "notebook",
    "leather",
    "wallet",
    "desk",
    "lamp",
    "running",
    "shoes",
    "travel",
    "adapter",
    "kitchen",
    "scale",
]


def _body(variant: str, rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "",
        "customer_id": f"CUST-{rng.randrange(1_000_000):06d}",
        "amount": round(rng.uniform(1, 2000), 2),
        "event_time": (
            dt.datetime(2026, 11, 27, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(86_400))
        )
        .isoformat()
        .replace("+00:00", "Z"),
        "currency": rng.choice(["EUR", "USD", "GBP", None]),
    }
    if variant == "1k":
        body["items"] = [
            {
                "sku": f"SKU-{rng.randrange(10**6):06d}",
                "quantity": rng.randrange(1, 10),
                "unit_price": round(rng.uniform(1, 300), 2),
                "description": " ".join(rng.choice(_WORDS) for _ in range(9)),
            }
            for _ in range(5)
        ]
        body["shipping_address"] = {
            "street": f"{rng.randrange(1, 999)} {rng.choice(_WORDS).title()} Street",
            "city": rng.choice(["Lisbon", "Berlin", "Toronto", "Osaka", "Nairobi"]),
            "postal_code": f"{rng.randrange(10**5):05d}",
            "country": rng.choice(["PT", "DE", "CA", "JP", "KE"]),
        }
        body["notes"] = " ".join(rng.choice(_WORDS) for _ in range(20))
    return body


def events(variant: str, n: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """`n` valid events: a pool of distinct bodies, each event with its own
    order_id (a fresh dict per event, as a service receives them). The pool is
    built here, before the caller starts its clock."""
    rng = random.Random(seed)
    pool = [_body(variant, rng) for _ in range(POOL)]
    return ({**pool[i % POOL], "order_id": f"ORD-{i:09d}"} for i in range(n))


def write_jsonl(path: Path, variant: str, n: int) -> int:
    """The events as a JSON-lines file; its size in bytes."""
    with path.open("w") as out:
        for event in events(variant, n):
            out.write(json.dumps(event) + "\n")
    return path.stat().st_size
