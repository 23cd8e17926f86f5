"""Startup registration against the real registry and broker: idempotent,
topics created as the catalog says, the compatibility level set, a version
rejected by the registry isolated to the DLQ, a dead registry reported within a
bounded time, and no registry call once the producer runs."""

from __future__ import annotations

import json
import logging
import time

import httpx2
import pytest
import requests
from confluent_kafka.admin import NewTopic
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streamlake import (
    ErrorType,
    IngestionProducer,
    KafkaClusterError,
    Outcome,
    ProducerConfig,
    RegistryUnavailableError,
    SchemaRejectedError,
    load_catalog,
    register_catalog,
)

DATASET = "orders"


def ids(registrations):
    return {r.version.version: r.schema_id for r in registrations}


def test_registration_is_idempotent_and_keeps_the_schema_ids(
    producer, make_producer, config, dataset, registry_client
):
    first = producer.registrations
    assert [(r.version.version, r.new, r.error) for r in first] == [
        (1, True, None),
        (2, True, None),
    ]
    assert all(isinstance(r.schema_id, int) for r in first)
    assert {r.subject for r in first} == {dataset.value_subject}

    again = make_producer().registrations
    direct = register_catalog(config, load_catalog(config.schemas_dir))

    for registrations in (again, direct):
        assert ids(registrations) == ids(first)
        assert [(r.new, r.error) for r in registrations] == [(False, None), (False, None)]
    assert registry_client.get_versions(dataset.value_subject) == [1, 2]
    for registration in first:
        registered = registry_client.get_version(
            dataset.value_subject, registration.version.version
        )
        assert registered.schema_id == registration.schema_id
        assert json.loads(registered.schema.schema_str) == dict(registration.version.schema)


def test_startup_creates_both_topics_with_the_datasets_partition_count(
    make_catalog, make_producer, kafka
):
    schemas_dir = make_catalog(partitions=5)
    dataset = load_catalog(schemas_dir)[DATASET]
    assert not {dataset.raw_topic, dataset.dlq_topic} & kafka.topics()

    make_producer(schemas_dir=schemas_dir)

    assert kafka.partitions(dataset.raw_topic) == 5
    assert kafka.partitions(dataset.dlq_topic) == 5


def test_startup_leaves_an_existing_topic_with_another_partition_count_as_it_is(
    make_catalog, make_producer, kafka, order
):
    schemas_dir = make_catalog(partitions=2)
    dataset = load_catalog(schemas_dir)[DATASET]
    futures = kafka.admin.create_topics([NewTopic(dataset.raw_topic, 4, 1)])
    futures[dataset.raw_topic].result(timeout=30)

    producer = make_producer(schemas_dir=schemas_dir)

    assert kafka.partitions(dataset.raw_topic) == 4
    assert kafka.partitions(dataset.dlq_topic) == 2
    results = list(producer.produce_many(DATASET, [order(f"ORD-{i}") for i in range(40)]))
    assert {r.outcome for r in results} == {Outcome.PRODUCED}
    assert {r.partition for r in results} == {0, 1, 2, 3}


def test_startup_creates_topics_replicated_min_3_brokers_with_min_insync_min_2_replicas(
    stack, make_catalog, make_producer, kafka
):
    dataset = load_catalog(make_catalog())[DATASET]
    make_producer(schemas_dir=dataset.path.parent)

    brokers = len(kafka.admin.list_topics(timeout=10).brokers)
    replication = min(3, brokers)
    assert kafka.durability(dataset.raw_topic) == (replication, min(2, replication))
    assert kafka.durability(dataset.dlq_topic) == (replication, min(2, replication))


def test_startup_warns_about_existing_topics_less_durable_than_declared_and_leaves_them(
    make_catalog, make_producer, kafka, caplog
):
    # Declared more than any test stack holds: only the existing topics make it startable.
    schemas_dir = make_catalog(replication_factor=4, min_insync_replicas=3)
    dataset = load_catalog(schemas_dir)[DATASET]
    topics = [dataset.raw_topic, dataset.dlq_topic]
    futures = kafka.admin.create_topics(
        [NewTopic(t, 3, 1, config={"min.insync.replicas": "1"}) for t in topics]
    )
    for future in futures.values():
        future.result(timeout=30)

    with caplog.at_level(logging.WARNING, logger="streamlake.kafka.topics"):
        make_producer(schemas_dir=schemas_dir)

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for topic in topics:
        assert (
            f"topic {topic} exists with replication factor 1, below the 4 dataset orders asks "
            "for; left as it is"
        ) in "\n".join(warnings)
        assert (
            f"topic {topic} exists with min.insync.replicas 1, below the 3 dataset orders asks "
            "for; left as it is"
        ) in "\n".join(warnings)
        assert kafka.durability(topic) == (1, 1)


def test_a_replication_factor_the_cluster_cannot_hold_stops_startup_naming_dataset_toml(
    make_catalog, make_producer, kafka
):
    schemas_dir = make_catalog(replication_factor=9)
    dataset = load_catalog(schemas_dir)[DATASET]

    with pytest.raises(KafkaClusterError) as raised:
        make_producer(schemas_dir=schemas_dir)

    assert raised.value.code == "INVALID_REPLICATION_FACTOR"
    assert raised.value.retriable is False
    assert "declares replication_factor 9 but" in raised.value.message
    assert str(dataset.path / "dataset.toml") in raised.value.message
    assert not {dataset.raw_topic, dataset.dlq_topic} & kafka.topics()


@pytest.mark.parametrize("level", ["BACKWARD", "FULL"])
def test_startup_sets_the_subjects_compatibility_level(
    make_catalog, make_producer, registry_client, level
):
    schemas_dir = make_catalog(compatibility=level)

    producer = make_producer(schemas_dir=schemas_dir)

    subject = producer.catalog[DATASET].value_subject
    assert registry_client.get_compatibility(subject) == level


def test_a_version_made_incompatible_by_someone_else_goes_to_the_dlq_and_the_rest_works(
    make_producer, dataset, registry_client, kafka, order, order_v1
):
    subject = dataset.value_subject
    v1 = dataset.version(1)
    v1_id = registry_client.register_schema(subject, Schema(v1.schema_str, "AVRO"))
    registry_client.set_compatibility(subject, "BACKWARD")
    # Backward compatible with v1, but v2 (currency: null|string) cannot read
    # its records (currency: null|int).
    other = {
        **v1.schema,
        "fields": [
            *v1.schema["fields"],
            {"name": "currency", "type": ["null", "int"], "default": None},
        ],
    }
    registry_client.register_schema(subject, Schema(json.dumps(other), "AVRO"))
    with pytest.raises(SchemaRegistryError) as refused:
        registry_client.register_schema(subject, Schema(dataset.version(2).schema_str, "AVRO"))
    registry_reason = refused.value.error_message
    assert refused.value.http_status_code == 409

    producer = make_producer()

    v1_reg, v2_reg = producer.registrations
    assert (v1_reg.schema_id, v1_reg.new, v1_reg.error) == (v1_id, False, None)
    assert v2_reg.schema_id is None
    assert not v2_reg.usable
    assert isinstance(v2_reg.error, SchemaRejectedError)
    assert registry_reason in v2_reg.error.reason
    assert v2_reg.error.subject == subject
    assert v2_reg.error.version == 2

    rejected = producer.produce(DATASET, order("ORD-v2-rejected"))
    pinned = producer.produce(DATASET, order_v1("ORD-v1-pinned"), version=1)

    assert rejected.outcome is Outcome.DLQ
    assert rejected.error.error_type is ErrorType.INCOMPATIBLE_SCHEMA
    assert registry_reason in rejected.error.message
    assert (rejected.schema_version, rejected.schema_id) == ("v2", None)
    assert pinned.outcome is Outcome.PRODUCED
    assert (pinned.schema_version, pinned.schema_id) == ("v1", v1_id)

    dead = kafka.read_at(dataset.dlq_topic, rejected.partition, rejected.offset)
    body = dead.json()
    assert body["error"]["type"] == "incompatible_schema"
    assert body["error"]["message"] == rejected.error.message
    assert body["original"] == order("ORD-v2-rejected")
    assert body["metadata"]["ingestion_id"] == rejected.ingestion_id
    assert body["metadata"]["schema_version"] == "v2"
    assert "schema_id" not in body["metadata"]
    assert dead.headers["error_type"] == "incompatible_schema"
    (raw,) = kafka.read(dataset.raw_topic, 1)
    assert raw.key == b"ORD-v1-pinned"
    assert raw.value[1:5] == v1_id.to_bytes(4, "big")
    assert raw.headers["schema_version"] == "v1"
    assert kafka.record_count(dataset.raw_topic) == 1
    assert dead.key == b"ORD-v2-rejected"  # the event's key could be extracted


def test_an_unreachable_registry_fails_startup_within_a_bounded_time(stack, schemas_dir):
    url = "http://127.0.0.1:1/apis/ccompat/v7"
    config = ProducerConfig(
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=url,
        schemas_dir=schemas_dir,
        registry_timeout_s=2,
    )
    started = time.monotonic()

    with pytest.raises(RegistryUnavailableError) as unavailable:
        IngestionProducer(config)

    assert time.monotonic() - started < 10
    assert unavailable.value.url == url
    assert url in str(unavailable.value)
    assert unavailable.value.retriable is True


@pytest.fixture
def registry_requests(monkeypatch):
    """Every HTTP request any registry client sends (httpx2 and requests)."""
    sent: list[str] = []
    httpx_send = httpx2.Client.send
    requests_send = requests.Session.send

    def count_httpx(self, request, *args, **kwargs):
        sent.append(f"{request.method} {request.url}")
        return httpx_send(self, request, *args, **kwargs)

    def count_requests(self, request, *args, **kwargs):
        sent.append(f"{request.method} {request.url}")
        return requests_send(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx2.Client, "send", count_httpx)
    monkeypatch.setattr(requests.Session, "send", count_requests)
    return sent


def test_producing_never_calls_the_registry_after_startup(
    registry_requests, make_producer, order, order_v1
):
    producer = make_producer()
    assert registry_requests, "startup talks to the registry: the counter must see it"
    registry_requests.clear()

    results = list(producer.produce_many(DATASET, (order() for _ in range(900))))
    results += list(producer.produce_many(DATASET, (order_v1() for _ in range(50)), version=1))
    results += list(producer.produce_many(DATASET, ["{nope"] * 25 + [order(amount="x")] * 25))

    assert len(results) == 1000
    assert producer.counts == {Outcome.PRODUCED: 950, Outcome.DLQ: 50, Outcome.FAILED: 0}
    assert registry_requests == []
