"""Reading a dead-letter topic from the beginning, for people to inspect.

A throwaway consumer (random group id, no committed offsets) reads every
partition from the start. It only reads: replaying is not the producer's job.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from streamlake.config import ProducerConfig
from streamlake.errors import ConfigurationError, KafkaClusterError


@dataclass(frozen=True, kw_only=True)
class DLQRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        """The JSON value; a record that is not JSON is shown as its text."""
        try:
            parsed = json.loads(self.value)
        except ValueError:
            return {"unparseable": self.value.decode(errors="replace")}
        return parsed if isinstance(parsed, dict) else {"unparseable": parsed}


def read_dlq(
    config: ProducerConfig,
    topic: str,
    *,
    limit: int | None = None,
    follow: bool = False,
    idle_timeout_s: float = 5.0,
) -> Iterator[DLQRecord]:
    """Yield the topic's records from the beginning. Without `follow`, stop
    at the end of every partition (or after `idle_timeout_s` without news)."""
    consumer = Consumer(
        {
            **config.connection_conf(),
            "group.id": f"streamlake-dlq-show-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        }
    )
    try:
        try:
            metadata = consumer.list_topics(topic, timeout=config.connect_timeout_s)
        except KafkaException as exc:
            err = exc.args[0]
            raise KafkaClusterError(
                f"Kafka at {config.bootstrap_servers} did not answer within "
                f"{config.connect_timeout_s:g}s: {err.str()} ({err.name()}). Check that the "
                "brokers run and STREAMLAKE_BOOTSTRAP_SERVERS / --bootstrap-servers names them",
                code=err.name(),
                retriable=True,
                topic=topic,
            ) from exc
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            raise ConfigurationError(
                f"DLQ topic {topic} not found on {config.bootstrap_servers}: has the dataset "
                "been registered (streamlake schemas register)?",
                topic=topic,
            )
        partitions = sorted(described.partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        at_end: set[int] = set()
        seen = 0
        last_news = time.monotonic()
        while limit is None or seen < limit:
            msg = consumer.poll(0.5)
            if msg is None:
                if not follow and time.monotonic() - last_news > idle_timeout_s:
                    return
                continue
            last_news = time.monotonic()
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition() or 0)
                    if not follow and at_end >= set(partitions):
                        return
                    continue
                raise KafkaClusterError(
                    f"reading {topic} failed: {error.str()} ({error.name()})",
                    code=error.name(),
                    retriable=error.retriable(),
                    topic=topic,
                )
            seen += 1
            yield DLQRecord(
                partition=msg.partition() or 0,
                offset=msg.offset() or 0,
                key=msg.key(),
                value=msg.value() or b"",
                headers=_headers(msg),
            )
    finally:
        consumer.close()


def _headers(msg: Message) -> dict[str, str]:
    headers = msg.headers() or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {
        name: value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")
        for name, value in pairs
    }
