"""Micro-benchmarks of the per-event pure-Python work, without a broker.

`IngestionProducer.produce_many` runs with librdkafka's Producer replaced by a
stand-in that keeps what it is given and acknowledges it on poll(), so what
is timed is StreamLake's own work per event: key, ingestion id, headers,
validation, Avro encoding, the result. These are benchmarks, not timed
tests: nothing here fails because a machine is slow. Each one also checks
what was produced, byte for byte, against AvroSerializer (over the
confluent-kafka mock registry), so a fast regression cannot hide a wrong one.

    .venv/bin/pytest tests/unit/test_bench_micro.py                 # runs and reports
    .venv/bin/pytest tests/unit/test_bench_micro.py --benchmark-disable   # checks only

scripts/bench measures the same path against a real broker; docs/benchmarks.md.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import streamlake.kafka.producer.dlq_producer as dlq_module
import streamlake.kafka.producer.producer as producer_module
from streamlake.catalog import Catalog, load_catalog
from streamlake.kafka.producer import IngestionProducer, Outcome, ProducerConfig
from streamlake.registry import Registration

ROOT = Path(__file__).resolve().parents[2]
BATCH = 500
HEADER_NAMES = [
    "dataset",
    "schema_version",
    "schema_id",
    "ingestion_id",
    "producer_service",
    "ingested_at",
]


class _Message:
    __slots__ = ("_offset", "_partition", "_topic")

    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


class FakeProducer:
    """librdkafka's Producer as far as IngestionProducer uses it: produce()
    queues, poll()/flush() acknowledge everything queued, in order."""

    def __init__(self, conf: dict[str, Any]) -> None:
        self.conf = conf
        self.records: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = []
        self._waiting: list[Any] = []
        self._offset = 0

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int = -1,
        on_delivery: Any = None,
        timestamp: int = 0,
        headers: Any = None,
    ) -> None:
        self.records.append((topic, key, value, headers))  # type: ignore[arg-type]
        self._waiting.append((topic, on_delivery))

    def poll(self, timeout: float = 0) -> int:
        waiting, self._waiting = self._waiting, []
        for topic, on_delivery in waiting:
            self._offset += 1
            if on_delivery is not None:
                on_delivery(None, _Message(topic, 0, self._offset))
        return len(waiting)

    def flush(self, timeout: float = 0) -> int:
        self.poll()
        return 0

    def purge(self) -> None:
        self._waiting = []

    def __len__(self) -> int:
        return len(self._waiting)


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog(ROOT / "avro")


@pytest.fixture
def registry() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": "mock://bench-micro"})


@pytest.fixture
def producer(monkeypatch, catalog, registry) -> IngestionProducer:
    monkeypatch.setattr(producer_module, "Producer", FakeProducer)
    monkeypatch.setattr(dlq_module, "Producer", FakeProducer)
    registrations = []
    for dataset in catalog.values():
        for version in dataset.versions:
            schema_id = registry.register_schema(
                dataset.value_subject, Schema(version.schema_str, "AVRO")
            )
            registrations.append(
                Registration(
                    dataset=dataset.name,
                    subject=dataset.value_subject,
                    version=version,
                    schema_id=schema_id,
                    new=True,
                )
            )
    config = ProducerConfig(
        bootstrap_servers="127.0.0.1:1", schema_registry_url="mock://bench-micro"
    )
    return IngestionProducer(config, catalog=catalog, registrations=registrations)


def orders(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "order_id": f"ORD-{i:09d}",
            "customer_id": f"CUST-{i % 9973:06d}",
            "amount": round(1 + (i % 5000) * 0.37, 2),
            "event_time": "2026-11-27T12:00:00Z",
            "currency": ("EUR", "USD", None)[i % 3],
        }
        for i in range(start, start + n)
    ]


def check_produced(
    producer: IngestionProducer,
    registry: SchemaRegistryClient,
    events: list[dict[str, Any]],
    results: list[Any],
) -> None:
    """Every event acknowledged, in order, with the bytes AvroSerializer
    writes, its key and the six headers."""
    fake: FakeProducer = producer._producer  # type: ignore[assignment]
    dataset = producer.catalog["orders"]
    version = dataset.latest
    serializer = AvroSerializer(
        registry,
        version.schema_str,
        conf={
            "auto.register.schemas": False,
            "use.latest.version": False,
            "subject.name.strategy.type": "TOPIC",
        },
    )
    context = SerializationContext(dataset.raw_topic, MessageField.VALUE)
    records = fake.records[-len(events) :]
    assert [r.outcome for r in results] == [Outcome.PRODUCED] * len(events)
    assert len({r.ingestion_id for r in results}) == len(events)
    for event, result, (topic, key, value, headers) in zip(events, results, records, strict=True):
        assert topic == dataset.raw_topic == result.topic
        assert key == event["order_id"].encode()
        assert value == serializer(event, context)
        assert [name for name, _ in headers] == HEADER_NAMES
        values = dict(headers)
        assert values["dataset"] == b"orders"
        assert values["schema_version"] == version.label.encode() == result.schema_version.encode()
        assert values["schema_id"] == str(result.schema_id).encode()
        assert values["ingestion_id"] == result.ingestion_id.encode()
        assert uuid.UUID(result.ingestion_id).version == 4
        assert values["producer_service"] == b"ingestion-api"
        stamp = datetime.strptime(values["ingested_at"].decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
        assert abs(stamp.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds() < 600
        assert result.offset is not None


def test_bulk_from_dicts(benchmark, producer, registry):
    """produce_many of dicts: the library's bulk path, per batch of 500 events."""
    rounds = iter(range(1_000_000))

    def batch() -> tuple[list[dict[str, Any]], list[Any]]:
        events = orders(BATCH, start=next(rounds) * BATCH)
        return events, list(producer.produce_many("orders", events))

    events, results = benchmark(batch)

    check_produced(producer, registry, events, results)


def test_bulk_from_json_lines(benchmark, producer, registry):
    """produce_many of JSON text (what `streamlake produce` hands it): parsing too."""
    rounds = iter(range(1_000_000))

    def batch() -> tuple[list[dict[str, Any]], list[Any]]:
        events = orders(BATCH, start=next(rounds) * BATCH)
        lines = [json.dumps(event).encode() for event in events]
        return events, list(producer.produce_many("orders", lines))

    events, results = benchmark(batch)

    check_produced(producer, registry, events, results)


def test_encode_only(benchmark, producer, registry):
    """Validation and Avro encoding of one orders v2 event."""
    route = producer._routes["orders", None]
    assert route.encoder is not None
    event = orders(1)[0]

    value = benchmark(route.encoder.encode, event)

    serializer = AvroSerializer(
        registry,
        route.dataset.latest.schema_str,
        conf={"auto.register.schemas": False, "subject.name.strategy.type": "TOPIC"},
    )
    assert value == serializer(
        event, SerializationContext(route.dataset.raw_topic, MessageField.VALUE)
    )


def test_invalid_events_still_go_to_the_dlq_in_the_benchmarked_setup(producer):
    """Not a benchmark: the stand-in producer does not hide the DLQ routing."""
    events = [*orders(2), {**orders(1)[0], "amount": "lots"}, {**orders(1)[0], "extra": 1}]

    results = list(producer.produce_many("orders", events))

    assert [r.outcome for r in results] == [Outcome.PRODUCED] * 2 + [Outcome.DLQ] * 2
    dlq: FakeProducer = producer._dlq._producer  # type: ignore[assignment]
    assert [json.loads(value)["error"]["type"] for _, _, value, _ in dlq.records] == [
        "schema_validation",
        "schema_validation",
    ]


def test_each_outcome_is_logged_at_debug_only_when_debug_is_on(producer, caplog):
    """Not a benchmark: the per-event DEBUG log survives being asked for once per batch."""
    events = [*orders(2), {**orders(1)[0], "amount": "lots"}]
    name = producer_module.log.name

    caplog.set_level(logging.INFO, logger=name)
    list(producer.produce_many("orders", events))
    assert [r for r in caplog.records if r.name == name] == []

    caplog.set_level(logging.DEBUG, logger=name)
    results = list(producer.produce_many("orders", events))
    logged = [r.getMessage() for r in caplog.records if r.name == name]
    assert len(logged) == 3
    assert logged[0].startswith(f"ingestion {results[0].ingestion_id} -> raw.orders [")
    assert logged[2].startswith(f"ingestion {results[2].ingestion_id} -> DLQ ")
