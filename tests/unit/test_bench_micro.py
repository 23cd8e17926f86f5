"""Micro-benchmarks of the per-event pure-Python work, without a broker.

`IngestionProducer.produce_many` runs with librdkafka's Producer replaced by
tests/fakes.py's stand-in that keeps what it is given and acknowledges it on
the delivery engine's poll(), so what
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
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import streamlake.kafka.producer.delivery as delivery_module
from streamlake.kafka.producer import IngestionProducer, Outcome
from tests.fakes import clients

BATCH = 500
HEADER_NAMES = [
    "dataset",
    "schema_version",
    "schema_id",
    "ingestion_id",
    "producer_service",
    "ingested_at",
]


@pytest.fixture
def producer(make_fake_producer) -> IngestionProducer:
    return make_fake_producer(schema_registry_url="mock://bench-micro")


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
    fake, _ = clients(producer)
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
    route = producer._route_for("orders", None, None)
    event = orders(1)[0]

    value, _ = benchmark(route.encoder.encode, event)

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
    _, dlq = clients(producer)
    assert [json.loads(value)["error"]["type"] for _, _, value, _ in dlq.records] == [
        "schema_validation",
        "schema_validation",
    ]


def test_each_outcome_is_logged_at_debug_only_when_debug_is_on(producer, caplog):
    """Not a benchmark: the per-event DEBUG log survives being asked for once per batch."""
    events = [*orders(2), {**orders(1)[0], "amount": "lots"}]
    name = delivery_module.log.name

    caplog.set_level(logging.INFO, logger=name)
    list(producer.produce_many("orders", events))
    assert [r for r in caplog.records if r.name == name] == []

    caplog.set_level(logging.DEBUG, logger=name)
    results = list(producer.produce_many("orders", events))
    logged = [r.getMessage() for r in caplog.records if r.name == name]
    assert len(logged) == 3
    assert logged[0].startswith(f"ingestion {results[0].ingestion_id} -> raw.orders [")
    assert logged[2].startswith(f"ingestion {results[2].ingestion_id} -> DLQ ")
