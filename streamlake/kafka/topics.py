"""Deliberate topic creation: the broker's auto-creation is off.

Each dataset's raw and DLQ topics are created when missing, with the dataset's
partition count, its replication factor (default min(3, live brokers)) and its
min.insync.replicas (default min(2, the replication factor): with acks=all, a
record acknowledged by a replicated topic is on two brokers). Existing topics
are never altered; a layout that differs, or durability below the dataset's
(replication or min.insync.replicas), is logged as a warning at startup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # untyped re-exports
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from streamlake._logging import quiet_repeats
from streamlake.catalog import Dataset
from streamlake.errors import KafkaClusterError

log = quiet_repeats(logging.getLogger(__name__))

_CREATE_TIMEOUT_S = 30.0
_REFUSED = frozenset({KafkaError._AUTHENTICATION, KafkaError._SSL})
_MIN_INSYNC = "min.insync.replicas"


def ensure_topics(
    conf: Mapping[str, Any], datasets: Iterable[Dataset], *, connect_timeout_s: float
) -> list[str]:
    """Create the missing raw and DLQ topics of `datasets`; return those created.
    Brokers that do not answer are waited for up to `connect_timeout_s`."""
    refusals: list[KafkaError] = []
    admin = AdminClient({**conf, "error_cb": refusals.append})  # type: ignore[dict-item]  # stub lacks callbacks
    metadata = _metadata(admin, refusals, connect_timeout_s)
    brokers = len(metadata.brokers)
    wanted = {
        topic: dataset for dataset in datasets for topic in (dataset.raw_topic, dataset.dlq_topic)
    }
    existing = {topic: metadata.topics[topic] for topic in wanted if topic in metadata.topics}
    _warn_about_existing(admin, existing, wanted, brokers)
    missing = []
    for topic, dataset in wanted.items():
        if topic in existing:
            continue
        replication, min_insync = durability(dataset, brokers)
        if replication > brokers:
            raise KafkaClusterError(
                f"Kafka: cannot create topic {topic}: dataset {dataset.name} declares "
                f"replication_factor {replication} but {brokers} broker(s) answer. Start more "
                f"brokers or lower replication_factor in {dataset.path / 'dataset.toml'}",
                code="INVALID_REPLICATION_FACTOR",
                retriable=False,
                dataset=dataset.name,
                topic=topic,
            )
        if min_insync > replication:
            raise KafkaClusterError(
                f"Kafka: cannot create topic {topic}: dataset {dataset.name} declares "
                f"min_insync_replicas {min_insync}, above its replication factor {replication} "
                f"(min(3, {brokers} live brokers)), so no write could be acknowledged. Declare "
                f"replication_factor or lower min_insync_replicas in "
                f"{dataset.path / 'dataset.toml'}",
                code="INVALID_CONFIG",
                retriable=False,
                dataset=dataset.name,
                topic=topic,
            )
        config = {_MIN_INSYNC: str(min_insync)}
        missing.append(NewTopic(topic, dataset.partitions, replication, config=config))
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
        replication, min_insync = durability(wanted[topic], brokers)
        log.info(
            "created topic %s (replication factor %d, min.insync.replicas %d)",
            topic,
            replication,
            min_insync,
        )
        created.append(topic)
    return created


def durability(dataset: Dataset, brokers: int) -> tuple[int, int]:
    """The replication factor and min.insync.replicas `dataset` asks for on a
    cluster of `brokers` live brokers: declared in dataset.toml, else
    min(3, brokers) and min(2, replication factor), so a one-broker dev stack works."""
    replication = dataset.replication_factor or min(3, brokers)
    return replication, dataset.min_insync_replicas or min(2, replication)


def _warn_about_existing(
    admin: AdminClient, existing: Mapping[str, Any], wanted: Mapping[str, Dataset], brokers: int
) -> None:
    """Log, never alter, existing topics whose layout or durability differs from their dataset's."""
    min_insync = _min_insync(admin, list(existing))
    for topic, found in existing.items():
        dataset = wanted[topic]
        replication, wanted_min_insync = durability(dataset, brokers)
        if len(found.partitions) != dataset.partitions:
            log.warning(
                "topic %s exists with %d partitions (catalog says %d); left as it is",
                topic,
                len(found.partitions),
                dataset.partitions,
            )
        replicas = min((len(p.replicas) for p in found.partitions.values()), default=0)
        if replicas < replication:
            log.warning(
                "topic %s exists with replication factor %d, below the %d dataset %s asks for; "
                "left as it is (a broker lost may lose acknowledged records): raise it with "
                "kafka-reassign-partitions",
                topic,
                replicas,
                replication,
                dataset.name,
            )
        if topic in min_insync and min_insync[topic] < wanted_min_insync:
            log.warning(
                "topic %s exists with min.insync.replicas %d, below the %d dataset %s asks for; "
                "left as it is (acks=all then means fewer copies): raise it with "
                "kafka-configs --alter --add-config min.insync.replicas=%d",
                topic,
                min_insync[topic],
                wanted_min_insync,
                dataset.name,
                wanted_min_insync,
            )


def _min_insync(admin: AdminClient, topics: list[str]) -> dict[str, int]:
    """Each topic's min.insync.replicas; a topic whose config cannot be read
    (e.g. no DescribeConfigs permission) is left out, with a note in the log."""
    if not topics:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, topic) for topic in topics]
    found = {}
    for resource, future in admin.describe_configs(resources).items():
        try:
            entries = future.result(timeout=_CREATE_TIMEOUT_S)
            found[resource.name] = int(entries[_MIN_INSYNC].value)
        except (KafkaException, KeyError, ValueError) as exc:
            log.info("could not read %s of topic %s: %s", _MIN_INSYNC, resource.name, exc)
    return found


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
