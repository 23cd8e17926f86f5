"""Deliberate topic creation: the broker's auto-creation is off.

Each dataset's raw and DLQ topics are created when missing, with the dataset's
partition count and a replication factor of min(3, brokers). Existing topics
are never altered, even when their layout differs (that is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # NewTopic: untyped re-export
    AdminClient,
    NewTopic,
)

from streamlake.catalog import Dataset
from streamlake.errors import KafkaDeliveryError

log = logging.getLogger(__name__)

_TIMEOUT_S = 30.0


def ensure_topics(admin: AdminClient, datasets: Iterable[Dataset]) -> list[str]:
    """Create the missing raw and DLQ topics of `datasets`; return those created."""
    try:
        metadata = admin.list_topics(timeout=_TIMEOUT_S)
    except KafkaException as exc:
        raise _kafka_error("list topics", exc) from exc
    replication = min(3, len(metadata.brokers))
    wanted = {
        topic: dataset.partitions
        for dataset in datasets
        for topic in (dataset.raw_topic, dataset.dlq_topic)
    }
    for topic, partitions in wanted.items():
        existing = metadata.topics.get(topic)
        if existing is not None and len(existing.partitions) != partitions:
            log.warning(
                "topic %s exists with %d partitions (catalog says %d); left as it is",
                topic,
                len(existing.partitions),
                partitions,
            )
    missing = [
        NewTopic(topic, partitions, replication)
        for topic, partitions in wanted.items()
        if topic not in metadata.topics
    ]
    if not missing:
        return []
    created = []
    for topic, future in admin.create_topics(missing, operation_timeout=_TIMEOUT_S).items():
        try:
            future.result(timeout=_TIMEOUT_S)
        except KafkaException as exc:
            # Another instance starting at the same time may have won the race.
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise _kafka_error(f"create topic {topic}", exc, topic=topic) from exc
        log.info("created topic %s (replication factor %d)", topic, replication)
        created.append(topic)
    return created


def _kafka_error(what: str, exc: KafkaException, topic: str | None = None) -> KafkaDeliveryError:
    err = exc.args[0]
    return KafkaDeliveryError(
        f"Kafka: could not {what}: {err.str()}. Check that the brokers in "
        "STREAMLAKE_BOOTSTRAP_SERVERS answer and that this client may create topics",
        code=err.name(),
        retriable=err.retriable(),
        topic=topic,
    )
