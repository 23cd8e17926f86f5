"""Stand-ins for the broker-free unit tests: librdkafka's Producer and a
registered catalog.

`FakeProducer` is librdkafka's Producer as far as the delivery engine uses
it: produce() queues, poll()/flush() acknowledge what is queued, in order,
on whichever thread calls them (the engine's poll thread). Knobs make it
misbehave the way librdkafka does: a full queue (BufferError), a record
larger than message.max.bytes, a failed delivery for chosen keys, and
acknowledgements in reverse order. Every instance is kept in `created`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from streamlake.catalog import Catalog
from streamlake.kafka.producer import IngestionProducer, ProducerConfig
from streamlake.registry import Registration

ROOT = Path(__file__).resolve().parents[1]


class FakeMessage:
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
    """See the module docstring; `records` holds (topic, key, value, headers)."""

    def __init__(self, conf: dict[str, Any]) -> None:
        self.conf = conf
        self.records: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = []
        self.queue_limit: int | None = None
        """Raise BufferError while this many records are unacknowledged."""
        self.max_bytes: int | None = None
        """Refuse larger values with MSG_SIZE_TOO_LARGE, as librdkafka does."""
        self.fail_keys: set[bytes] = set()
        """Report these keys' deliveries as _MSG_TIMED_OUT."""
        self.reverse = False
        """Acknowledge each batch last-first."""
        self.hold = threading.Event()
        """While set, nothing is acknowledged (a slow broker)."""
        self.error_events = 0
        """Error events waiting to be served, which librdkafka's len() counts too."""
        self.buffer_errors = 0
        self._waiting: deque[tuple[str, bytes | None, Any]] = deque()
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
        assert value is not None
        if self.max_bytes is not None and len(value) > self.max_bytes:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        if self.queue_limit is not None and len(self._waiting) >= self.queue_limit:
            self.buffer_errors += 1
            raise BufferError("Local: Queue full")
        self.records.append((topic, key, value, headers))
        self._waiting.append((topic, key, on_delivery))

    def poll(self, timeout: float = 0) -> int:
        if self.hold.is_set() or not self._waiting:
            time.sleep(min(timeout, 0.001))
            return 0
        batch = []
        while self._waiting:
            batch.append(self._waiting.popleft())
        if self.reverse:
            batch.reverse()
        for topic, key, on_delivery in batch:
            if key in self.fail_keys:
                on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), FakeMessage(topic, -1, -1))
            else:
                self._offset += 1
                on_delivery(None, FakeMessage(topic, 0, self._offset))
        return len(batch)

    def flush(self, timeout: float = 0) -> int:
        self.poll(timeout)
        return len(self._waiting)

    def purge(self) -> None:
        while self._waiting:
            topic, _, on_delivery = self._waiting.popleft()
            on_delivery(KafkaError(KafkaError._PURGE_QUEUE), FakeMessage(topic, -1, -1))

    def __len__(self) -> int:
        return len(self._waiting) + self.error_events


def mock_registrations(catalog: Catalog, registry: SchemaRegistryClient) -> list[Registration]:
    """Every version of `catalog` registered with confluent-kafka's mock registry."""
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
    return registrations


def fake_producer(
    catalog: Catalog,
    registrations: list[Registration],
    *,
    cls: type[Any] = IngestionProducer,
    **config: Any,
) -> Any:
    """An IngestionProducer (or `cls`) whose librdkafka clients are
    FakeProducers (patch `streamlake.kafka.producer.delivery.Producer` first)."""
    values: dict[str, Any] = {
        "bootstrap_servers": "127.0.0.1:1",
        "schema_registry_url": "mock://unit",
        **config,
    }
    return cls(ProducerConfig(**values), catalog=catalog, registrations=registrations)


def clients(producer: Any) -> tuple[FakeProducer, FakeProducer]:
    """The raw and the dead-letter FakeProducer of a (sync or asyncio) producer."""
    raw, dlq = producer._engine._clients
    return raw, dlq
