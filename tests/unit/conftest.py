"""Fixtures of the broker-free unit tests: the repo's catalog, confluent-kafka's
mock registry, and IngestionProducers whose librdkafka clients are
`fakes.FakeProducer`s (tests/fakes.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from fakes import FakeProducer, fake_producer, mock_registrations

import streamlake.kafka.producer.delivery as delivery_module
from streamlake.catalog import Catalog, load_catalog
from streamlake.kafka.producer import AsyncIngestionProducer, IngestionProducer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog(ROOT / "avro")


@pytest.fixture
def registry() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})


MakeFakeProducer = Callable[..., Any]


@pytest.fixture
def make_fake_producer(
    monkeypatch: pytest.MonkeyPatch, catalog: Catalog, registry: SchemaRegistryClient
) -> Iterator[MakeFakeProducer]:
    """IngestionProducers on FakeProducers (ProducerConfig fields as keyword
    overrides), every catalog version registered; closed at teardown.
    ``make_fake_producer(AsyncIngestionProducer)`` makes the asyncio one."""
    monkeypatch.setattr(delivery_module, "Producer", FakeProducer)
    registrations = mock_registrations(catalog, registry)
    producers: list[Any] = []

    def make(cls: type[Any] = IngestionProducer, **config: Any) -> Any:
        producer = fake_producer(catalog, registrations, cls=cls, **config)
        producers.append(producer)
        return producer

    yield make
    for producer in producers:
        if isinstance(producer, AsyncIngestionProducer):
            asyncio.run(producer.close(timeout=1))
        else:
            producer.close(timeout=1)
