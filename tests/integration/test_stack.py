"""The stack is real: a Kafka broker that keeps acknowledged records across a
restart, and a registry that speaks the Confluent API, enforces compatibility
and keeps every schema id across a restart and across `down` / `up`."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

ORDER_V1 = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "order_id", "type": "string"}, {"name": "amount", "type": "double"}],
}


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(timeout=30)


def produce(bootstrap: str, topic: str, count: int) -> list[tuple[int, int]]:
    """Produce `count` records with acks=all and idempotence; return (partition, offset) acks."""
    acks: list[tuple[int, int]] = []

    def on_delivery(err: KafkaError | None, msg: object) -> None:
        assert err is None, err
        acks.append((msg.partition(), msg.offset()))  # type: ignore[attr-defined]

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(count):
        producer.produce(topic, value=f"value-{i}", key=f"key-{i}", on_delivery=on_delivery)
    assert producer.flush(30) == 0
    return acks


def consume_all(bootstrap: str, topic: str, expected: int) -> list[tuple[str, str]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records: list[tuple[str, str]] = []
    try:
        for _ in range(120):  # bounded: at most ~120 s of 1 s polls
            for msg in consumer.consume(num_messages=1000, timeout=1):
                assert msg.error() is None, msg.error()
                records.append((msg.key().decode(), msg.value().decode()))
            if len(records) >= expected:
                break
    finally:
        consumer.close()
    return records


def test_a_topic_created_with_the_admin_client_round_trips_acknowledged_records(stack, unique):
    topic = unique("stack-roundtrip")
    create_topic(stack.bootstrap_servers, topic)

    acks = produce(stack.bootstrap_servers, topic, 100)

    assert len(acks) == 100
    assert {partition for partition, _ in acks} <= {0, 1, 2}
    records = consume_all(stack.bootstrap_servers, topic, 100)
    assert sorted(records) == sorted((f"key-{i}", f"value-{i}") for i in range(100))


def test_the_broker_does_not_create_topics_on_demand(stack, unique):
    topic = unique("stack-nonexistent")
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers, "message.timeout.ms": 3000})
    errors: list[KafkaError] = []
    producer.produce(topic, b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)

    assert [e.code() for e in errors] in (
        [KafkaError.UNKNOWN_TOPIC_OR_PART],
        [KafkaError._UNKNOWN_TOPIC],
        [KafkaError._MSG_TIMED_OUT],
    )
    topics = AdminClient({"bootstrap.servers": stack.bootstrap_servers}).list_topics(timeout=10)
    assert topic not in topics.topics


def test_the_registry_stores_a_schema_and_returns_it_by_id(stack, unique):
    client = SchemaRegistryClient({"url": stack.schema_registry_url})
    subject = unique("stack-orders") + "-value"

    schema_id = client.register_schema(subject, Schema(json.dumps(ORDER_V1), "AVRO"))

    assert client.register_schema(subject, Schema(json.dumps(ORDER_V1), "AVRO")) == schema_id
    fetched = client.get_schema(schema_id)
    assert fetched.schema_type == "AVRO"
    assert json.loads(fetched.schema_str) == ORDER_V1
    assert client.get_latest_version(subject).version == 1


def test_the_registry_rejects_an_incompatible_version_under_backward(stack, unique):
    client = SchemaRegistryClient({"url": stack.schema_registry_url})
    subject = unique("stack-compat") + "-value"
    client.register_schema(subject, Schema(json.dumps(ORDER_V1), "AVRO"))
    client.set_compatibility(subject, "BACKWARD")
    # A new required field without a default cannot read v1 records.
    breaking = {**ORDER_V1, "fields": [*ORDER_V1["fields"], {"name": "currency", "type": "string"}]}

    with pytest.raises(SchemaRegistryError) as rejected:
        client.register_schema(subject, Schema(json.dumps(breaking), "AVRO"))

    assert rejected.value.http_status_code == 409
    assert client.get_compatibility(subject) == "BACKWARD"
    assert [v for v in client.get_versions(subject)] == [1]


def test_records_acknowledged_before_a_broker_restart_are_all_read_after_it(stack, unique):
    topic = unique("stack-restart")
    create_topic(stack.bootstrap_servers, topic)
    acks = produce(stack.bootstrap_servers, topic, 500)
    assert len(acks) == 500

    stack.control("stop", "kafka")
    stack.control("start", "kafka")

    records = consume_all(stack.bootstrap_servers, topic, 500)
    assert sorted(records) == sorted((f"key-{i}", f"value-{i}") for i in range(500))


def _register_two_subjects(stack, unique) -> dict[str, int]:
    """Two subjects registered: subject -> schema id."""
    client = SchemaRegistryClient({"url": stack.schema_registry_url})
    customer = {**ORDER_V1, "name": "Customer", "fields": [{"name": "id", "type": "string"}]}
    return {
        subject: client.register_schema(subject, Schema(json.dumps(schema), "AVRO"))
        for subject, schema in (
            (unique("stack-durable-orders") + "-value", ORDER_V1),
            (unique("stack-durable-customers") + "-value", customer),
        )
    }


def _assert_registry_still_holds(stack, registered: dict[str, int], unique) -> None:
    # A fresh client: nothing may come from a cache.
    client = SchemaRegistryClient({"url": stack.schema_registry_url})
    for subject, schema_id in registered.items():
        latest = client.get_latest_version(subject)
        assert (latest.version, latest.schema_id) == (1, schema_id)
        assert json.loads(client.get_schema(schema_id).schema_str) == json.loads(
            latest.schema.schema_str
        )
    # A schema registered afterwards gets a new id, never one already handed
    # out: reuse would make old records decode silently with the wrong schema.
    other = {**ORDER_V1, "name": "Payment"}
    new_id = client.register_schema(
        unique("stack-durable-payments") + "-value", Schema(json.dumps(other), "AVRO")
    )
    assert new_id not in registered.values()


@pytest.mark.parametrize("how", [(), ("--kill",)], ids=["clean stop", "SIGKILL"])
def test_the_registry_keeps_every_schema_id_across_a_restart(stack, unique, how):
    registered = _register_two_subjects(stack, unique)

    stack.control("stop", "registry", *how)
    stack.control("start", "registry")

    _assert_registry_still_holds(stack, registered, unique)


def test_the_stack_keeps_every_schema_id_across_down_and_up(stack, unique):
    registered = _register_two_subjects(stack, unique)

    stack.control("down")
    stack.control("up")

    _assert_registry_still_holds(stack, registered, unique)
