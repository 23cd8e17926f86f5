"""Topics read back for assertions, shared by the integration, reliability and
CLI tests: throwaway consumers with a unique group id, assigned every
partition from the beginning and polled in bounded loops. Tests wait for
conditions, never for time.

Imported as ``tests.readback`` (tests/ is a package).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

READ_TIMEOUT_S = 30.0
"""How long a read waits for the records it expects."""
LEADER_TIMEOUT_S = 60.0
"""How long watermarks are retried: after a broker restart, partitions have no
leader until log recovery ends."""


@dataclass(frozen=True)
class Record:
    """One consumed record; `headers` is a dict of decoded text, `header_list`
    the headers as Kafka holds them (order and duplicates kept)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    header_list: list[tuple[str, bytes]] = field(repr=False)

    @classmethod
    def of(cls, msg: Message) -> Record:
        assert msg.error() is None, msg.error()
        return cls(
            topic=msg.topic(),
            partition=msg.partition(),
            offset=msg.offset(),
            key=msg.key(),
            value=msg.value(),
            header_list=list(msg.headers() or []),
        )

    @property
    def headers(self) -> dict[str, str]:
        return {name: value.decode() for name, value in self.header_list}

    def json(self) -> Any:
        return json.loads(self.value)


class Topics:
    """Reads topics back for assertions: bounded loops, never sleeping on a guess."""

    def __init__(self, bootstrap_servers: str, group_prefix: str = "test") -> None:
        self.bootstrap_servers = bootstrap_servers
        self.group_prefix = group_prefix
        self.admin = AdminClient({"bootstrap.servers": bootstrap_servers})

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": f"{self.group_prefix}-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )

    def topics(self) -> set[str]:
        return set(self.admin.list_topics(timeout=10).topics)

    def exists(self, topic: str) -> bool:
        return topic in self.topics()

    def partition_ids(self, topic: str) -> list[int]:
        found = self.admin.list_topics(topic, timeout=10).topics.get(topic)
        assert found is not None and found.error is None, f"topic {topic} not found: {found}"
        return sorted(found.partitions)

    def partitions(self, topic: str) -> int:
        return len(self.partition_ids(topic))

    def durability(self, topic: str) -> tuple[int, int]:
        """The topic's replication factor (its least replicated partition's)
        and its min.insync.replicas, as the brokers report them."""
        found = self.admin.list_topics(topic, timeout=10).topics[topic]
        replicas = min(len(p.replicas) for p in found.partitions.values())
        resource = ConfigResource(ResourceType.TOPIC, topic)
        config = self.admin.describe_configs([resource])[resource].result(timeout=30)
        return replicas, int(config["min.insync.replicas"].value)

    def end_offsets(self, topic: str, timeout: float = LEADER_TIMEOUT_S) -> dict[int, int]:
        """The high watermark of each partition: how many records it ever got.
        Right after a broker restart, partitions may have no leader yet, so
        errors are retried until `timeout`."""
        consumer = self._consumer()
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    return {
                        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                        for p in self.partition_ids(topic)
                    }
                except KafkaException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)  # leader election after recovery has no event to wait on
        finally:
            consumer.close()

    def count(self, topic: str) -> int:
        return sum(self.end_offsets(topic).values())

    record_count = count

    def read(
        self, topic: str, count: int, timeout: float = READ_TIMEOUT_S, *, exact: bool = False
    ) -> list[Record]:
        """The first `count` records of `topic` (all partitions), ordered by
        (partition, offset); fails when fewer arrive within `timeout`, and with
        `exact` when the topic holds more."""
        consumer = self._consumer()
        consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in self.partition_ids(topic)]
        )
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        try:
            while len(records) < count and time.monotonic() < deadline:
                wanted = min(count - len(records), 10_000)
                records.extend(map(Record.of, consumer.consume(num_messages=wanted, timeout=0.5)))
        finally:
            consumer.close()
        assert len(records) == count, f"{topic}: read {len(records)} of {count} records"
        if exact:
            total = self.count(topic)
            assert total == count, f"{topic} holds {total} records, expected {count}"
        return sorted(records, key=lambda r: (r.partition, r.offset))

    def read_all(self, topic: str, timeout: float = 120.0) -> list[Record]:
        """Every record of `topic` up to its current end offsets, ordered by
        (partition, offset); fails when they do not all arrive in `timeout`."""
        return self.read(topic, self.count(topic), timeout)

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
                record = Record.of(msg)
                assert (record.partition, record.offset) == (partition, offset)
                return record
        finally:
            consumer.close()
        raise AssertionError(f"no record at {topic} [{partition}] @{offset}")
