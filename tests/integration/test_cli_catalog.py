"""The catalog as teams use it, through the CLI against the real stack:
shared types registered as schema references, several datasets (event
types) on one raw topic under Confluent's record subject strategies, the
registry probe, and -X reaching every Kafka client the CLI creates.

Shared types and record-named subjects are named after full Avro names, so
each test puts its records in a namespace of its own.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import admin as kafka_admin
from confluent_kafka.schema_registry import SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from streamlake import cli
from streamlake.kafka import dlq_reader, properties, topics
from streamlake.kafka.producer import delivery
from tests.clihelpers import invoke, lines, read_topic, table


@pytest.fixture
def namespace() -> str:
    return f"com.acme.t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def run(stack, tmp_path, monkeypatch):
    """`run(*args)`: streamlake with the stack's flags and ./avro (in tmp_path)."""
    monkeypatch.chdir(tmp_path)

    def run_(*args: str, input: bytes | None = None):
        return invoke(
            [
                *args,
                "--bootstrap-servers",
                stack.bootstrap_servers,
                "--schema-registry-url",
                stack.schema_registry_url,
                "--schemas-dir",
                "avro",
            ],
            input=input,
        )

    return run_


def write_dataset(root: Path, name: str, *versions: dict, **settings: str) -> None:
    folder = root / "avro" / name
    folder.mkdir(parents=True)
    toml = {"key_field": "id", **settings}
    (folder / "dataset.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in toml.items()))
    for number, schema in enumerate(versions, start=1):
        (folder / f"v{number}.avsc").write_text(json.dumps(schema, indent=2))


def write_type(root: Path, schema: dict) -> str:
    folder = root / "avro" / "_types"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{schema['namespace']}.{schema['name']}"
    (folder / f"{name}.avsc").write_text(json.dumps(schema, indent=2))
    return name


def event_record(namespace: str, name: str, *fields: dict) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "namespace": namespace,
        "fields": [{"name": "id", "type": "string"}, *fields],
    }


def registry(stack) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": stack.schema_registry_url})


# --- shared types as schema references ------------------------------------------------------
@pytest.fixture
def shipped(tmp_path, namespace, unique):
    """./avro: a shared Address used by orders and returns (BACKWARD)."""
    address = {
        "type": "record",
        "name": "Address",
        "namespace": f"{namespace}.common",
        "fields": [{"name": "city", "type": "string"}],
    }
    name = write_type(tmp_path, address)
    ship_to = {"name": "ship_to", "type": name}
    for dataset in ("orders", "returns"):
        write_dataset(
            tmp_path,
            dataset,
            event_record(namespace, dataset.title(), ship_to),
            raw_topic=unique(f"it-raw-{dataset}"),
            dlq_topic=unique(f"it-dlq-{dataset}"),
        )
    return {"type": name, "address": address}


def test_a_shared_type_is_registered_first_and_referenced_by_the_versions_using_it(
    run, stack, shipped, tmp_path
):
    # Issue 14: a schema using a shared named type was "not a valid Avro schema".
    name = shipped["type"]

    registered = run("schemas", "register")

    assert registered.exit_code == 0, registered.output
    rows = table(registered.stdout)
    assert rows[0] == ["SUBJECT", "VERSION", "SCHEMA", "ID", "STATUS"]
    assert rows[1][:2] == [name, "shared"]
    assert rows[1][3] == "new"
    assert [row[1:] for row in rows[2:]] == [["v1", row[2], "new"] for row in rows[2:]]
    client = registry(stack)
    orders_subject = rows[2][0]
    held = client.get_version(orders_subject, 1).schema
    assert held.references == [SchemaReference(name, name, 1)]
    assert json.loads(client.get_version(name, 1).schema.schema_str) == shipped["address"]

    event = {"id": "ORD-1", "ship_to": {"city": "Berlin"}}
    produced = run("produce", "orders", "-", input=f"{json.dumps(event)}\n".encode())
    assert produced.exit_code == 0, produced.output
    raw_topic = f"{orders_subject.removesuffix('-value')}"
    (record,) = read_topic(stack.bootstrap_servers, raw_topic, 1)
    # Confluent's own deserializer resolves the reference through the registry.
    decode = AvroDeserializer(client)
    assert decode(record.value, SerializationContext(raw_topic, MessageField.VALUE)) == event

    listed = run("schemas", "list")
    assert listed.exit_code == 0, listed.output
    assert lines(listed.stdout)[:2] == [
        f"{name}: shared type subject={name} used by orders, returns",
        f"  avro/_types/{name}.avsc  registered as version 1, id {rows[1][2]}",
    ]
    assert f"  v1  avro/orders/v1.avsc  uses {name}  registered as version 1, id " in (
        listed.stdout
    )
    checked = run("schemas", "check")
    assert (checked.exit_code, checked.stdout) == (0, "OK: 2 datasets checked, no problems\n")


def test_a_shared_type_using_another_is_registered_after_it_with_its_own_reference(
    run, stack, tmp_path, namespace, unique
):
    country = write_type(
        tmp_path, {"type": "enum", "name": "Country", "namespace": namespace, "symbols": ["FR"]}
    )
    address = write_type(
        tmp_path,
        {
            "type": "record",
            "name": "Address",
            "namespace": namespace,
            "fields": [{"name": "country", "type": country}],
        },
    )
    write_dataset(
        tmp_path,
        "orders",
        event_record(namespace, "Order", {"name": "ship_to", "type": address}),
        raw_topic=unique("it-raw-orders"),
        dlq_topic=unique("it-dlq-orders"),
    )

    registered = run("schemas", "register")
    event = {"id": "ORD-1", "ship_to": {"country": "FR"}}
    produced = run("produce", "orders", "-", input=f"{json.dumps(event)}\n".encode())

    assert registered.exit_code == 0, registered.output
    assert [row[:2] for row in table(registered.stdout)[1:]] == [
        [country, "shared"],
        [address, "shared"],
        [f"{unique('it-raw-orders')}-value", "v1"],
    ]
    client = registry(stack)
    assert client.get_version(address, 1).schema.references == [
        SchemaReference(country, country, 1)
    ]
    assert client.get_version(f"{unique('it-raw-orders')}-value", 1).schema.references == [
        SchemaReference(address, address, 1)
    ]
    assert produced.exit_code == 0, produced.output
    (record,) = read_topic(stack.bootstrap_servers, unique("it-raw-orders"), 1)
    context = SerializationContext(unique("it-raw-orders"), MessageField.VALUE)
    assert AvroDeserializer(client)(record.value, context) == event


def test_a_changed_shared_type_is_checked_against_every_dataset_using_it(
    run, stack, shipped, tmp_path
):
    assert run("schemas", "register").exit_code == 0
    breaking = {**shipped["address"], "fields": [{"name": "city", "type": "string"}]}
    breaking["fields"].append({"name": "zip", "type": "string"})
    write_type(tmp_path, breaking)

    checked = run("schemas", "check")
    dry_run = run("schemas", "register", "--dry-run")
    registered = run("schemas", "register")

    assert checked.exit_code == 1, checked.output
    assert lines(checked.stdout) == [
        f"avro/{dataset}/v1.avsc: BACKWARD: v1 cannot read registered version 1: "
        "field ship_to.zip: has no default and is not in registered version 1"
        for dataset in ("orders", "returns")
    ] + ["2 problems in 2 of 2 datasets"]
    # Apicurio 3.0.9 would accept both (its rule does not resolve references):
    # StreamLake refuses them, in a dry run as for real.
    for result in (dry_run, registered):
        assert result.exit_code == 1, result.output
        assert [row[-1] for row in table(result.stdout)[2:]] == ["REJECTED", "REJECTED"]
        assert lines(result.stderr)[0].startswith(
            "rejected: avro/orders/v1.avsc: StreamLake (the registry does not check through "
            "shared types) rejected "
        )
    assert table(dry_run.stdout)[1][-2:] == ["would", "register"]


# --- several event types on one raw topic ---------------------------------------------------
STRATEGIES = {
    "record": "confluent_kafka.schema_registry.record_subject_name_strategy",
    "topic_record": "confluent_kafka.schema_registry.topic_record_subject_name_strategy",
}


def _strategy(name: str) -> Any:
    import confluent_kafka.schema_registry as sr

    return getattr(sr, STRATEGIES[name].rsplit(".", 1)[1])


def test_datasets_on_one_raw_topic_follow_confluents_subject_strategies(
    run, stack, tmp_path, namespace, unique
):
    topic = unique("it-raw-events")
    amount = {"name": "amount", "type": "double"}
    for dataset, strategy in (("created", "record"), ("cancelled", "topic_record")):
        write_dataset(
            tmp_path,
            dataset,
            event_record(namespace, f"Order{dataset.title()}", amount),
            raw_topic=topic,
            dlq_topic=unique(f"it-dlq-{dataset}"),
            subject_strategy=strategy,
        )
    registered = run("schemas", "register")
    assert registered.exit_code == 0, registered.output
    assert [row[0] for row in table(registered.stdout)[1:]] == [
        f"{topic}-{namespace}.OrderCancelled",
        f"{namespace}.OrderCreated",
    ]

    events = {
        "created": {"id": "ORD-1", "amount": 1.5},
        "cancelled": {"id": "ORD-1", "amount": 0.0},
    }
    for dataset, event in events.items():
        result = run("produce", dataset, "-", input=f"{json.dumps(event)}\n".encode())
        assert result.exit_code == 0, result.output
    client = registry(stack)
    by_dataset = {r.headers["dataset"]: r for r in read_topic(stack.bootstrap_servers, topic, 2)}
    for dataset, strategy in (("created", "record"), ("cancelled", "topic_record")):
        record, event = by_dataset[dataset], events[dataset]
        context = SerializationContext(topic, MessageField.VALUE)
        schema = json.dumps(
            event_record(namespace, f"Order{dataset.title()}", amount), separators=(",", ":")
        )
        # Confluent's serializer, told the same strategy and not to register,
        # finds the schema under the subject it names itself: same bytes.
        serialize = AvroSerializer(
            client,
            schema,
            conf={"auto.register.schemas": False, "subject.name.strategy": _strategy(strategy)},
        )
        assert serialize(event, context) == record.value
        deserialize = AvroDeserializer(client, conf={"subject.name.strategy": _strategy(strategy)})
        assert deserialize(record.value, context) == event
        assert record.headers["schema_version"] == "v1"
        assert record.headers["schema_id"] == str(int.from_bytes(record.value[1:5], "big"))

    listed = run("schemas", "list")
    assert listed.exit_code == 0, listed.output
    assert "DRIFT" not in listed.stdout
    assert "NOT REGISTERED" not in listed.stdout


def test_a_raw_topic_shared_under_the_topic_strategy_fails_the_gate(run, tmp_path, unique):
    # Issue 14: `schemas check` said OK, then register rejected the second dataset.
    topic = unique("it-raw-events")
    for dataset in ("created", "cancelled"):
        write_dataset(tmp_path, dataset, event_record("t", dataset.title()), raw_topic=topic)

    result = run("schemas", "check")

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(
        f"error: avro: datasets cancelled, created share raw_topic '{topic}', but cancelled, "
        'created use(s) subject_strategy "topic"'
    )


# --- the registry probe -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "command", [["schemas", "check"], ["schemas", "list"], ["schemas", "register", "--dry-run"]]
)
def test_a_registry_url_without_the_confluent_api_is_exit_2_naming_it(
    stack, tmp_path, monkeypatch, command
):
    # Issue 14: with the root URL (no /apis/ccompat/v7) check said OK,
    # register --dry-run "would register", list NOT REGISTERED, all exit 0.
    monkeypatch.chdir(tmp_path)
    write_dataset(tmp_path, "orders", event_record("t", "Order"))
    root = stack.schema_registry_url.split("/apis/")[0]

    result = invoke(
        [
            *command,
            "--schemas-dir",
            "avro",
            "--schema-registry-url",
            root,
            "--bootstrap-servers",
            stack.bootstrap_servers,
        ]
    )

    assert (result.exit_code, result.stdout) == (2, "")
    assert lines(result.stderr) == [
        f"error: {root} does not answer the Confluent Schema Registry API: GET {root}/subjects "
        "gave HTTP 404 (application/json), not a JSON list of subjects; a Confluent-API URL is "
        "the registry's base URL, e.g. http://127.0.0.1:8081 for Confluent Schema Registry or "
        "http://127.0.0.1:8080/apis/ccompat/v7 for Apicurio"
    ]


def test_check_offline_skips_the_registry_probe(stack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_dataset(tmp_path, "orders", event_record("t", "Order"))

    result = invoke(
        [
            "schemas",
            "check",
            "--offline",
            "--schemas-dir",
            "avro",
            "--schema-registry-url",
            stack.schema_registry_url.split("/apis/")[0],
        ]
    )

    assert (result.exit_code, result.stdout) == (0, "OK: 1 dataset checked, no problems\n")


# --- -X reaches every client ------------------------------------------------------------------
def test_kafka_properties_reach_every_client_the_cli_creates(run, tmp_path, monkeypatch, unique):
    # Issue 14: dropping every -X property in the parser left the suite green.
    seen: dict[str, list[dict[str, Any]]] = {}

    def recording(kind: str, real: type) -> type:
        class Recording(real):  # type: ignore[misc, valid-type]
            def __init__(self, conf: dict[str, Any], **kwargs: Any) -> None:
                # Both producers come from the delivery engine: the DLQ's
                # client.id says which is which.
                which = "dlq producer" if conf.get("client.id", "").endswith("-dlq") else kind
                seen.setdefault(which, []).append(dict(conf))
                super().__init__(conf, **kwargs)

        return Recording

    for module, name, kind in (
        (delivery, "Producer", "raw producer"),
        (topics, "AdminClient", "admin"),
        (dlq_reader, "Consumer", "consumer"),
        (properties, "Producer", "property check"),
    ):
        monkeypatch.setattr(module, name, recording(kind, getattr(module, name)))
    write_dataset(
        tmp_path,
        "orders",
        event_record("t", "Order"),
        raw_topic=unique("it-raw-orders"),
        dlq_topic=unique("it-dlq-orders"),
    )
    flags = ["-X", "socket.keepalive.enable=true", "-X", "reconnect.backoff.ms=77"]

    for command in (["schemas", "register"], ["produce", "orders", "-"], ["dlq", "show", "orders"]):
        result = run(*command, *flags, input=b'{"id": "A"}\n')
        assert result.exit_code == 0, result.output

    assert set(seen) == {"raw producer", "dlq producer", "admin", "consumer", "property check"}
    for kind, confs in seen.items():
        for conf in confs:
            assert conf["socket.keepalive.enable"] == "true", kind
            assert conf["reconnect.backoff.ms"] == "77", kind
    assert cli.main is not None and kafka_admin is not None
