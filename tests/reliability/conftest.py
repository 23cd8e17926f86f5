"""Shared builders for the reliability suite: a catalog per test with unique
topics, producers closed at teardown, and topics read back in bounded loops.

Every scenario here stops or starts servers of a stack run by scripts/stack
(`stack.control`), so run this suite against a stack of its own when other
suites share the default one (see docs/reliability.md).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from streamlake import IngestionProducer, ProducerConfig

ROOT = Path(__file__).resolve().parents[2]
ORDERS = ROOT / "avro" / "orders"
DATASET = "orders"


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]


def order(order_id: str, amount: float = 1.0, **fields: Any) -> dict[str, Any]:
    """A valid orders v2 event."""
    return {
        "order_id": order_id,
        "customer_id": "CUST-1",
        "amount": amount,
        "event_time": "2026-01-21T10:00:00Z",
        "currency": "EUR",
        **fields,
    }


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlake_exe() -> str:
    exe = Path(sys.executable).with_name("streamlake")
    assert exe.exists(), f"{exe} missing: install the project (pip install -e .)"
    return str(exe)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a `streamlake` subprocess: no STREAMLAKE_* leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLAKE_")}
    env.update(extra)
    return env


class Topics:
    """Reads topics back for assertions: bounded loops, never sleeping."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.admin = AdminClient({"bootstrap.servers": bootstrap_servers})

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": f"rel-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )

    def exists(self, topic: str) -> bool:
        return topic in self.admin.list_topics(timeout=10).topics

    def partitions(self, topic: str) -> list[int]:
        found = self.admin.list_topics(topic, timeout=10).topics.get(topic)
        assert found is not None and found.error is None, f"topic {topic}: {found}"
        return sorted(found.partitions)

    def end_offsets(self, topic: str, timeout: float = 60.0) -> dict[int, int]:
        """High watermarks; after a broker restart, partitions have no leader
        until log recovery ends, so errors are retried until `timeout`."""
        consumer = self._consumer()
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    return {
                        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                        for p in self.partitions(topic)
                    }
                except KafkaException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)  # leader election after recovery has no event to wait on
        finally:
            consumer.close()

    def count(self, topic: str) -> int:
        return sum(self.end_offsets(topic).values())

    def read_all(self, topic: str, timeout: float = 120.0) -> list[Record]:
        """Every record of `topic` up to its current end offsets, ordered by
        (partition, offset); fails when they do not all arrive in `timeout`."""
        ends = self.end_offsets(topic)
        expected = sum(ends.values())
        consumer = self._consumer()
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        try:
            while len(records) < expected and time.monotonic() < deadline:
                for msg in consumer.consume(num_messages=10_000, timeout=0.5):
                    assert msg.error() is None, msg.error()
                    records.append(
                        Record(
                            partition=msg.partition(),
                            offset=msg.offset(),
                            key=msg.key(),
                            value=msg.value(),
                            headers={k: v.decode() for k, v in msg.headers() or []},
                        )
                    )
        finally:
            consumer.close()
        assert len(records) == expected, f"{topic}: read {len(records)} of {expected} records"
        return sorted(records, key=lambda r: (r.partition, r.offset))


@pytest.fixture
def topics(stack: Any) -> Topics:
    return Topics(stack.bootstrap_servers)


MakeCatalog = Callable[..., Path]


@pytest.fixture
def make_catalog(tmp_path: Path, unique: Callable[[str], str]) -> MakeCatalog:
    """`make_catalog(name="")`: an orders catalog (v1, v2) under tmp_path whose
    raw and DLQ topics are unique to the test."""

    def make(name: str = "") -> Path:
        root = tmp_path / f"catalog{name}"
        folder = root / DATASET
        folder.mkdir(parents=True)
        for version in (1, 2):
            shutil.copy(ORDERS / f"v{version}.avsc", folder / f"v{version}.avsc")
        (folder / "dataset.toml").write_text(
            'key_field = "order_id"\n'
            f'raw_topic = "{unique(f"rel-raw-orders{name}")}"\n'
            f'dlq_topic = "{unique(f"rel-dlq-orders{name}")}"\n',
            encoding="utf-8",
        )
        return root

    return make


MakeProducer = Callable[..., IngestionProducer]


@pytest.fixture
def make_producer(stack: Any, make_catalog: MakeCatalog) -> Iterator[MakeProducer]:
    """IngestionProducers (ProducerConfig fields as keyword overrides) on a
    fresh catalog unless `schemas_dir` is given; closed at teardown."""
    producers: list[IngestionProducer] = []

    def make(**overrides: Any) -> IngestionProducer:
        values: dict[str, Any] = {
            "bootstrap_servers": stack.bootstrap_servers,
            "schema_registry_url": stack.schema_registry_url,
            **overrides,
        }
        values.setdefault("schemas_dir", make_catalog(str(len(producers))))
        producer = IngestionProducer(ProducerConfig(**values))
        producers.append(producer)
        return producer

    yield make
    for producer in producers:
        producer.close(timeout=10)
