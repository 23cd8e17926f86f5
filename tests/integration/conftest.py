"""Fixtures for the producer's integration tests against the real stack.

Every test builds its own catalog in `tmp_path` (tests/conftest.py's
`make_catalog`: the orders schemas of ``avro/orders`` with topics named by
`unique`), so tests share the broker and the registry without sharing a topic
or a subject. Records are read back by
`kafka`, a `readback.Topics`: bounded loops, never waiting for time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from streamlake import IngestionProducer, ProducerConfig, load_catalog
from streamlake.catalog import Dataset
from tests.readback import Topics

DATASET = "orders"


def _order(order_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid orders v2 event (fields override the defaults)."""
    event: dict[str, Any] = {
        "order_id": f"ORD-{uuid.uuid4().hex[:12]}" if order_id is None else order_id,
        "customer_id": "CUST-42",
        "amount": 199.99,
        "event_time": "2026-01-21T10:00:00Z",
        "currency": "EUR",
    }
    event.update(fields)
    return event


def _order_v1(order_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid orders v1 event: v2's fields without `currency`."""
    event = _order(order_id, **fields)
    del event["currency"]
    return event


@pytest.fixture
def order() -> Callable[..., dict[str, Any]]:
    """`order(order_id=None, **fields)`: a valid orders v2 event."""
    return _order


@pytest.fixture
def order_v1() -> Callable[..., dict[str, Any]]:
    """`order_v1(order_id=None, **fields)`: a valid orders v1 event."""
    return _order_v1


@pytest.fixture
def kafka(stack: Any) -> Topics:
    return Topics(stack.bootstrap_servers, group_prefix="it")


@pytest.fixture
def registry_client(stack: Any) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": stack.schema_registry_url})


@pytest.fixture
def dataset(schemas_dir: Path) -> Dataset:
    return load_catalog(schemas_dir)[DATASET]


@pytest.fixture
def config(stack: Any, schemas_dir: Path) -> ProducerConfig:
    return ProducerConfig(
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=stack.schema_registry_url,
        schemas_dir=schemas_dir,
    )


@pytest.fixture
def producer(make_producer: Callable[..., IngestionProducer]) -> IngestionProducer:
    return make_producer()
