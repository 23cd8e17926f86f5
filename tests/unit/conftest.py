"""Fixtures of the broker-free unit tests: the repo's catalog, confluent-kafka's
mock registry, IngestionProducers whose librdkafka clients are
`fakes.FakeProducer`s (tests/fakes.py), and the native codec's encoders with
their references (fastavro's schemaless_writer, and AvroSerializer over the
mock registry: only the schema id comes from it)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import streamlake.kafka.producer.delivery as delivery_module
from streamlake._codec import Encoder
from streamlake.catalog import Catalog, Dataset, SchemaVersion, load_catalog
from streamlake.kafka.producer import AsyncIngestionProducer, IngestionProducer
from tests.fakes import FakeProducer, fake_producer, mock_registrations

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


MakeEncoder = Callable[..., Encoder]


@pytest.fixture(scope="session")
def make_encoder() -> MakeEncoder:
    """Compiles an encoder from a schema given as a dict or as JSON text."""

    def make(
        schema: Any,
        schema_id: int = 7,
        *,
        key_field: str = "id",
        json_encoding: str = "natural",
        named_types: Sequence[str] = (),
    ) -> Encoder:
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return Encoder(
            text,
            schema_id,
            key_field=key_field,
            json_encoding=json_encoding,
            named_types=list(named_types),
        )

    return make


@dataclass(frozen=True)
class CatalogVersion:
    """One shipped schema version with the codec's encoders and the reference serializer."""

    dataset: Dataset
    version: SchemaVersion
    schema_id: int
    natural: Encoder
    avro: Encoder
    serializer: AvroSerializer

    @property
    def label(self) -> str:
        return f"{self.dataset.name} {self.version.label}"

    def reference(self, datum: dict[str, Any]) -> bytes:
        context = SerializationContext(self.dataset.raw_topic, MessageField.VALUE)
        return self.serializer(datum, context)


@pytest.fixture(scope="session")
def catalog_versions() -> list[CatalogVersion]:
    """Every version of the catalog in avro/, registered with the mock registry."""
    client = SchemaRegistryClient.new_client({"url": "mock://codec-oracle"})
    result = []
    for dataset in load_catalog(ROOT / "avro").values():
        for version in dataset.versions:
            schema_id = client.register_schema(
                dataset.value_subject, Schema(version.schema_str, "AVRO")
            )
            serializer = AvroSerializer(
                client,
                version.schema_str,
                conf={
                    "auto.register.schemas": False,
                    "use.latest.version": False,
                    "subject.name.strategy.type": "TOPIC",
                },
            )
            encoders = {
                dialect: Encoder(
                    version.schema_str,
                    schema_id,
                    key_field=dataset.key_field,
                    json_encoding=dialect,
                    named_types=list(version.named_types),
                )
                for dialect in ("natural", "avro")
            }
            result.append(
                CatalogVersion(
                    dataset, version, schema_id, encoders["natural"], encoders["avro"], serializer
                )
            )
    return result
