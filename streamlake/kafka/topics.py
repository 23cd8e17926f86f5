"""Deliberate topic creation: the broker's auto-creation is off.

Each dataset's raw and DLQ topics are created when missing, with the dataset's
partition count and a replication factor of min(3, brokers). Existing topics
are never altered, even when their layout differs (that is logged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # NewTopic: untyped re-export
    AdminClient,
    NewTopic,
)

from streamlake._logging import quiet_repeats
from streamlake.catalog import Dataset
from streamlake.errors import KafkaClusterError

log = quiet_repeats(logging.getLogger(__name__))

_CREATE_TIMEOUT_S = 30.0
_REFUSED = frozenset({KafkaError._AUTHENTICATION, KafkaError._SSL})


def ensure_topics(
    conf: Mapping[str, Any], datasets: Iterable[Dataset], *, connect_timeout_s: float
) -> list[str]:
    """Create the missing raw and DLQ topics of `datasets`; return those created.
    Brokers that do not answer are waited for up to `connect_timeout_s`."""
    refusals: list[KafkaError] = []
    admin = AdminClient({**conf, "error_cb": refusals.append})  # type: ignore[dict-item]  # stub lacks callbacks
    metadata = _metadata(admin, refusals, connect_timeout_s)
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
    for topic, future in admin.create_topics(missing, operation_timeout=_CREATE_TIMEOUT_S).items():
        try:
            future.result(timeout=_CREATE_TIMEOUT_S)
        except KafkaException as exc:
            # Another instance starting at the same time may have won the race.
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise _kafka_error(f"create topic {topic}", exc, topic=topic) from exc
        log.info("created topic %s (replication factor %d)", topic, replication)
        created.append(topic)
    return created


def _metadata(admin: AdminClient, refusals: list[KafkaError], timeout_s: float) -> Any:
    """The cluster's metadata, failing at once when the brokers refuse our
    credentials instead of waiting out the timeout."""
    deadline = time.monotonic() + timeout_s
    warned = False
    while True:
        try:
            return admin.list_topics(timeout=min(1.0, max(timeout_s, 0.1)))
        except KafkaException as exc:
            admin.poll(0)  # serves error_cb
            refused = next((e for e in refusals if e.code() in _REFUSED or e.fatal()), None)
            if refused is not None:
                raise KafkaClusterError(
                    f"Kafka refused the connection: {refused.str()} ({refused.name()}). Check "
                    "the security settings (-X or STREAMLAKE_KAFKA_*: security.protocol, "
                    "sasl.mechanism, sasl.username, sasl.password, ssl.*)",
                    code=refused.name(),
                    retriable=False,
                ) from exc
            if time.monotonic() > deadline:
                raise _kafka_error(f"list topics within {timeout_s:g}s", exc) from exc
            if not warned:
                reason = refusals[-1].str() if refusals else exc.args[0].str()
                log.warning(
                    "Kafka does not answer yet (%s); retrying for up to %g s", reason, timeout_s
                )
                warned = True


def _kafka_error(what: str, exc: KafkaException, topic: str | None = None) -> KafkaClusterError:
    err = exc.args[0]
    return KafkaClusterError(
        f"Kafka: could not {what}: {err.str()}. Check that the brokers in "
        "STREAMLAKE_BOOTSTRAP_SERVERS / --bootstrap-servers answer (--connect-timeout: how "
        "long to wait) and that this client may create topics",
        code=err.name(),
        retriable=err.retriable(),
        topic=topic,
    )
