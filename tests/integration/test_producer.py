"""What a produced order looks like in Kafka, byte by byte, read back from the
real broker and decoded with the schema the real registry holds for its id."""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import fastavro
import pytest

from streamlake import Outcome

DATASET = "orders"


def decode(record, registry_client) -> tuple[int, dict]:
    """Decode a raw record's Confluent wire format by hand: magic byte, the
    big-endian schema id, then Avro binary written with the schema the
    registry has under that id."""
    value = record.value
    assert value[0] == 0, "magic byte"
    schema_id = int.from_bytes(value[1:5], "big")
    schema = registry_client.get_schema(schema_id)
    assert schema.schema_type == "AVRO"
    parsed = fastavro.parse_schema(json.loads(schema.schema_str))
    body = io.BytesIO(value[5:])
    decoded = fastavro.schemaless_reader(body, parsed, None)
    assert body.tell() == len(value) - 5, "trailing bytes after the Avro record"
    return schema_id, decoded


def java_murmur2(data: bytes) -> int:
    """Kafka's `Utils.murmur2` (Java), as a signed 32-bit int."""
    mask = 0xFFFFFFFF
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(length // 4):
        k = int.from_bytes(data[i * 4 : i * 4 + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length & ~3
    rest = length % 4
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def java_partition(key: bytes, partitions: int) -> int:
    """Java's default partitioner for a keyed record: toPositive(murmur2) % n."""
    return (java_murmur2(key) & 0x7FFFFFFF) % partitions


RFC3339_MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_the_reference_murmur2_matches_kafkas_own_test_vectors():
    # From Kafka's UtilsTest.testMurmur2.
    assert java_murmur2(b"21") == -973932308
    assert java_murmur2(b"foobar") == -790332482
    assert java_murmur2(b"a-little-bit-long-string") == -985981536
    assert java_murmur2(b"a-little-bit-longer-string") == -1486304829
    assert java_murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971
    assert java_murmur2(b"abc") == 479470107


def test_a_produced_order_is_magic_byte_schema_id_and_avro_that_decodes_to_the_input(
    producer, dataset, kafka, registry_client, order
):
    event = order()

    result = producer.produce(DATASET, event)

    assert result.outcome is Outcome.PRODUCED
    assert result.error is None
    assert result.topic == dataset.raw_topic
    (record,) = kafka.read(dataset.raw_topic, 1)
    assert (record.partition, record.offset) == (result.partition, result.offset)
    schema_id, decoded = decode(record, registry_client)
    assert schema_id == result.schema_id
    assert decoded == event
    assert json.loads(registry_client.get_schema(schema_id).schema_str) == dict(
        dataset.latest.schema
    )
    assert record.key == event["order_id"].encode("utf-8")


def test_every_record_carries_the_metadata_headers_with_their_values(
    producer, dataset, kafka, order
):
    before = datetime.now(UTC).replace(microsecond=0)
    result = producer.produce(DATASET, order("ORD-headers-1"))
    after = datetime.now(UTC)

    (record,) = kafka.read(dataset.raw_topic, 1)
    names = [name for name, _ in record.header_list]
    assert sorted(names) == sorted(
        [
            "dataset",
            "schema_version",
            "schema_id",
            "ingestion_id",
            "producer_service",
            "ingested_at",
        ]
    )
    headers = record.headers
    assert headers["dataset"] == DATASET
    assert headers["schema_version"] == "v2"
    assert headers["schema_id"] == str(result.schema_id)
    assert headers["ingestion_id"] == result.ingestion_id
    assert str(uuid.UUID(headers["ingestion_id"])) == headers["ingestion_id"]
    assert headers["producer_service"] == "ingestion-api"
    assert RFC3339_MS_UTC.fullmatch(headers["ingested_at"]), headers["ingested_at"]
    ingested_at = datetime.strptime(headers["ingested_at"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert before <= ingested_at <= after


def test_the_producer_service_header_is_the_configured_one(make_producer, dataset, kafka, order):
    producer = make_producer(producer_service="checkout-gateway")

    result = producer.produce(DATASET, order())

    (record,) = kafka.read(dataset.raw_topic, 1)
    assert record.headers["producer_service"] == "checkout-gateway"
    assert record.headers["ingestion_id"] == result.ingestion_id


def test_a_pinned_version_writes_that_versions_id_and_label_and_the_default_is_the_latest(
    producer, dataset, kafka, registry_client, order, order_v1
):
    subject = dataset.value_subject
    v1_id = registry_client.get_version(subject, 1).schema_id
    v2_id = registry_client.get_version(subject, 2).schema_id
    assert v1_id != v2_id
    assert registry_client.get_latest_version(subject).schema_id == v2_id
    v1_event = order_v1("ORD-pinned-1")
    v2_event = order("ORD-default-2")

    pinned = producer.produce(DATASET, v1_event, version=1)
    default = producer.produce(DATASET, v2_event)

    assert (pinned.outcome, pinned.schema_id, pinned.schema_version) == (
        Outcome.PRODUCED,
        v1_id,
        "v1",
    )
    assert (default.outcome, default.schema_id, default.schema_version) == (
        Outcome.PRODUCED,
        v2_id,
        "v2",
    )
    records = {r.key: r for r in kafka.read(dataset.raw_topic, 2)}
    v1_record, v2_record = records[b"ORD-pinned-1"], records[b"ORD-default-2"]
    assert decode(v1_record, registry_client) == (v1_id, v1_event)
    assert v1_record.headers["schema_version"] == "v1"
    assert v1_record.headers["schema_id"] == str(v1_id)
    assert decode(v2_record, registry_client) == (v2_id, v2_event)
    assert v2_record.headers["schema_version"] == "v2"
    assert v2_record.headers["schema_id"] == str(v2_id)


@dataclass
class OrderEvent:
    order_id: str
    customer_id: str
    amount: float
    event_time: str
    currency: str | None


def test_a_dict_json_text_bytes_and_a_dataclass_all_produce_the_same_record(
    producer, dataset, kafka, registry_client, order
):
    inputs = {
        "ORD-dict": order("ORD-dict"),
        "ORD-text": json.dumps(order("ORD-text")),
        "ORD-bytes": json.dumps(order("ORD-bytes")).encode("utf-8"),
        "ORD-dataclass": OrderEvent(**order("ORD-dataclass")),
    }

    results = {key: producer.produce(DATASET, event) for key, event in inputs.items()}

    assert {key: r.outcome for key, r in results.items()} == dict.fromkeys(inputs, Outcome.PRODUCED)
    records = {r.key.decode(): r for r in kafka.read(dataset.raw_topic, len(inputs))}
    assert set(records) == set(inputs)
    for key, record in records.items():
        assert (record.partition, record.offset) == (results[key].partition, results[key].offset)
        assert decode(record, registry_client)[1] == order(key)


def test_produce_many_returns_results_in_input_order_matching_what_is_consumed(
    producer, dataset, kafka, order
):
    events = [order(f"ORD-many-{i:03d}") for i in range(60)]
    events[17] = order(f"ORD-many-{17:03d}", amount="lots")
    events[42] = '{"order_id": "ORD-many-042"'

    results = list(producer.produce_many(DATASET, events))

    assert len(results) == 60
    expected = [Outcome.DLQ if i in (17, 42) else Outcome.PRODUCED for i in range(60)]
    assert [r.outcome for r in results] == expected
    assert producer.counts == {Outcome.PRODUCED: 58, Outcome.DLQ: 2, Outcome.FAILED: 0}
    consumed = {(r.partition, r.offset): r for r in kafka.read(dataset.raw_topic, 58)}
    assert kafka.record_count(dataset.raw_topic) == 58
    for i, result in enumerate(results):
        if result.outcome is Outcome.DLQ:
            assert result.topic == dataset.dlq_topic
            continue
        record = consumed[result.partition, result.offset]
        assert record.key == f"ORD-many-{i:03d}".encode()
        assert record.headers["ingestion_id"] == result.ingestion_id
    dead = {(r.partition, r.offset): r for r in kafka.read(dataset.dlq_topic, 2)}
    for i in (17, 42):
        record = dead[results[i].partition, results[i].offset]
        assert record.headers["ingestion_id"] == results[i].ingestion_id


def test_the_same_key_always_lands_on_the_same_partition(producer, dataset, kafka, order):
    results = list(producer.produce_many(DATASET, [order("ORD-sticky")] * 20))

    assert {r.outcome for r in results} == {Outcome.PRODUCED}
    assert len({r.partition for r in results}) == 1
    records = kafka.read(dataset.raw_topic, 20)
    assert {r.partition for r in records} == {results[0].partition}


@pytest.mark.parametrize("partitions", [3, 7])
def test_the_partition_of_a_key_is_javas_murmur2_partition(
    make_catalog, make_producer, kafka, partitions, order
):
    schemas_dir = make_catalog(name=f"-p{partitions}", partitions=partitions)
    producer = make_producer(schemas_dir=schemas_dir)
    dataset = producer.catalog[DATASET]
    assert kafka.partitions(dataset.raw_topic) == partitions
    keys = [f"ORD-{i}" for i in range(100)] + ["21", "foobar", "abc", "ORD-ünïcödé-✓"]

    results = list(producer.produce_many(DATASET, [order(key) for key in keys]))

    assert [r.outcome for r in results] == [Outcome.PRODUCED] * len(keys)
    expected = [java_partition(key.encode("utf-8"), partitions) for key in keys]
    assert [r.partition for r in results] == expected
    assert len(set(expected)) == partitions  # the keys exercise every partition
    consumed = {r.key: r.partition for r in kafka.read(dataset.raw_topic, len(keys))}
    assert consumed == {key.encode(): p for key, p in zip(keys, expected, strict=True)}
