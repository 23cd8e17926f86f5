"""Fixtures for the producer's integration tests against the real stack.

Every test builds its own catalog in `tmp_path` (the orders schemas of
``avro/orders`` with topics named by `unique`), so tests share the broker and
the registry without sharing a topic or a subject. Records are read back with
throwaway consumers that are assigned every partition from the beginning and
polled in a bounded loop: tests wait for conditions, never for time.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from streamlake import IngestionProducer, ProducerConfig, load_catalog
from streamlake.catalog import Dataset

ROOT = Path(__file__).resolve().parents[2]
ORDERS_SCHEMAS = ROOT / "avro" / "orders"
DATASET = "orders"
READ_TIMEOUT_S = 30.0
_NO_LEADER_YET = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
    KafkaError._ALL_BROKERS_DOWN,
}


@dataclass(frozen=True)
class Record:
    """One consumed record, with its headers as a dict of decoded text."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    header_list: list[tuple[str, bytes]] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {name: value.decode() for name, value in self.header_list}

    def json(self) -> Any:
        return json.loads(self.value)


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


class Kafka:
    """Reads topics back for assertions: bounded, never sleeping."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.admin = AdminClient({"bootstrap.servers": bootstrap_servers})

    def partitions(self, topic: str) -> int:
        metadata = self.admin.list_topics(topic, timeout=10)
        found = metadata.topics.get(topic)
        assert found is not None and found.error is None, f"topic {topic} not found: {found}"
        return len(found.partitions)

    def topics(self) -> set[str]:
        return set(self.admin.list_topics(timeout=10).topics)

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": f"it-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The high watermark of each partition: how many records it ever got."""
        consumer = self._consumer()
        deadline = time.monotonic() + READ_TIMEOUT_S
        try:
            while True:
                try:
                    return {
                        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                        for p in range(self.partitions(topic))
                    }
                except KafkaException as exc:
                    # Right after a broker restart, partitions may have no leader yet.
                    if exc.args[0].code() not in _NO_LEADER_YET or time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)  # poll interval of a bounded wait for a condition
        finally:
            consumer.close()

    def record_count(self, topic: str) -> int:
        return sum(self.end_offsets(topic).values())

    def read(self, topic: str, count: int, timeout: float = READ_TIMEOUT_S) -> list[Record]:
        """The first `count` records of `topic` (all partitions); fails when
        fewer arrive within `timeout`."""
        consumer = self._consumer()
        consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(self.partitions(topic))]
        )
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        try:
            while len(records) < count and time.monotonic() < deadline:
                for msg in consumer.consume(num_messages=count - len(records), timeout=0.5):
                    assert msg.error() is None, msg.error()
                    records.append(
                        Record(
                            topic=msg.topic(),
                            partition=msg.partition(),
                            offset=msg.offset(),
                            key=msg.key(),
                            value=msg.value(),
                            header_list=list(msg.headers() or []),
                        )
                    )
        finally:
            consumer.close()
        assert len(records) == count, f"{topic}: read {len(records)} of {count} records"
        return records

    def read_at(self, topic: str, partition: int, offset: int) -> Record:
        """The record at (`partition`, `offset`) of `topic`."""
        consumer = self._consumer()
        consumer.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + READ_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                assert msg.error() is None, msg.error()
                assert (msg.partition(), msg.offset()) == (partition, offset)
                return Record(
                    topic=msg.topic(),
                    partition=msg.partition(),
                    offset=msg.offset(),
                    key=msg.key(),
                    value=msg.value(),
                    header_list=list(msg.headers() or []),
                )
        finally:
            consumer.close()
        raise AssertionError(f"no record at {topic} [{partition}] @{offset}")


@pytest.fixture
def kafka(stack: Any) -> Kafka:
    return Kafka(stack.bootstrap_servers)


@pytest.fixture
def registry_client(stack: Any) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": stack.schema_registry_url})


MakeCatalog = Callable[..., Path]


@pytest.fixture
def make_catalog(tmp_path: Path, unique: Callable[[str], str]) -> MakeCatalog:
    """Write an orders catalog under tmp_path; its topics are unique to the test.

    `versions` picks which of avro/orders' schema files to copy (1 and 2 by
    default), `name` tells several catalogs of one test apart, and
    `compatibility` / `partitions` go to dataset.toml when given.
    """

    def make(
        *,
        versions: tuple[int, ...] = (1, 2),
        name: str = "",
        compatibility: str | None = None,
        partitions: int | None = None,
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
        if partitions is not None:
            lines.append(f"partitions = {partitions}")
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
