"""Fixtures for the producer's integration tests against the real stack.

Every test builds its own catalog in `tmp_path` (the orders schemas of
``avro/orders`` with topics named by `unique`), so tests share the broker and
the registry without sharing a topic or a subject. Records are read back by
`kafka`, a `readback.Topics`: bounded loops, never waiting for time.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from readback import Topics

from streamlake import IngestionProducer, ProducerConfig, load_catalog
from streamlake.catalog import Dataset

ROOT = Path(__file__).resolve().parents[2]
ORDERS_SCHEMAS = ROOT / "avro" / "orders"
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


MakeCatalog = Callable[..., Path]


@pytest.fixture
def make_catalog(tmp_path: Path, unique: Callable[[str], str]) -> MakeCatalog:
    """Write an orders catalog under tmp_path; its topics are unique to the test.

    `versions` picks which of avro/orders' schema files to copy (1 and 2 by
    default), `name` tells several catalogs of one test apart, and
    `compatibility` / `partitions` / `replication_factor` /
    `min_insync_replicas` go to dataset.toml when given.
    """

    def make(
        *,
        versions: tuple[int, ...] = (1, 2),
        name: str = "",
        compatibility: str | None = None,
        partitions: int | None = None,
        replication_factor: int | None = None,
        min_insync_replicas: int | None = None,
    ) -> Path:
        root = tmp_path / f"catalog{name}"
        folder = root / DATASET
        folder.mkdir(parents=True)
        for version in versions:
            shutil.copy(ORDERS_SCHEMAS / f"v{version}.avsc", folder / f"v{version}.avsc")
        lines = [
            'key_field = "order_id"',
            f'raw_topic = "{unique(f"it-raw-orders{name}")}"',
            f'dlq_topic = "{unique(f"it-dlq-orders{name}")}"',
        ]
        if compatibility is not None:
            lines.append(f'compatibility = "{compatibility}"')
        counts = {
            "partitions": partitions,
            "replication_factor": replication_factor,
            "min_insync_replicas": min_insync_replicas,
        }
        lines += [f"{key} = {value}" for key, value in counts.items() if value is not None]
        (folder / "dataset.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return root

    return make


@pytest.fixture
def schemas_dir(make_catalog: MakeCatalog) -> Path:
    return make_catalog()


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


MakeProducer = Callable[..., IngestionProducer]


@pytest.fixture
def make_producer(stack: Any, request: pytest.FixtureRequest) -> Iterator[MakeProducer]:
    """IngestionProducers on the test's catalog (ProducerConfig fields as
    keyword overrides, e.g. another `schemas_dir`), all closed at teardown."""
    producers: list[IngestionProducer] = []

    def make(**overrides: Any) -> IngestionProducer:
        values: dict[str, Any] = {
            "bootstrap_servers": stack.bootstrap_servers,
            "schema_registry_url": stack.schema_registry_url,
            **overrides,
        }
        if "schemas_dir" not in values:
            values["schemas_dir"] = request.getfixturevalue("schemas_dir")
        producer = IngestionProducer(ProducerConfig(**values))
        producers.append(producer)
        return producer

    yield make
    for producer in producers:
        producer.close(timeout=10)


@pytest.fixture
def producer(make_producer: MakeProducer) -> IngestionProducer:
    return make_producer()
