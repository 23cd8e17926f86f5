"""Every kind of invalid event, produced for real, ends as one JSON record in
the dataset's DLQ topic and as nothing in its raw topic."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid

import fastavro
import pytest

from streamlake import ErrorType, InvalidEventError, Outcome

DATASET = "orders"
RFC3339_MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DLQ_KEYS = {
    "original",
    "original_encoding",
    "original_truncated",
    "original_size_bytes",
    "error",
    "metadata",
    "dataset",
    "topic",
    "failed_at",
}
METADATA = ["dataset", "schema_version", "schema_id", "ingestion_id", "producer_service"]


def dead_letter(producer, dataset, kafka, event, *, version=None):
    """Produce `event`, check the result says DLQ, and return it with the DLQ record."""
    result = producer.produce(DATASET, event, version=version)

    assert result.outcome is Outcome.DLQ
    assert result.topic == dataset.dlq_topic
    assert isinstance(result.error, InvalidEventError)
    assert result.error.dataset == DATASET
    assert result.error.topic == dataset.raw_topic
    assert result.error.ingestion_id == result.ingestion_id
    record = kafka.read_at(dataset.dlq_topic, result.partition, result.offset)
    return result, record


def check_dlq_record(record, result, dataset, *, error_type, message, key, metadata_names):
    """The DLQ record's JSON envelope, its headers (the metadata plus
    error_type) and its key (the original key when one could be extracted)."""
    body = record.json()
    assert set(body) == DLQ_KEYS
    assert set(body["error"]) == {"type", "message", "stacktrace"}
    assert body["error"]["type"] == str(error_type) == str(result.error.error_type)
    assert body["error"]["message"] == message == result.error.message
    assert body["error"]["stacktrace"] is None or isinstance(body["error"]["stacktrace"], str)
    assert body["dataset"] == DATASET
    assert body["topic"] == dataset.raw_topic
    assert RFC3339_MS_UTC.fullmatch(body["failed_at"]), body["failed_at"]
    metadata = body["metadata"]
    assert sorted(metadata) == sorted([*metadata_names, "ingested_at"])
    assert metadata["dataset"] == DATASET
    assert metadata["ingestion_id"] == result.ingestion_id
    assert str(uuid.UUID(metadata["ingestion_id"])) == metadata["ingestion_id"]
    assert metadata["producer_service"] == "ingestion-api"
    assert RFC3339_MS_UTC.fullmatch(metadata["ingested_at"])
    assert metadata["ingested_at"] <= body["failed_at"]
    assert record.headers == {**metadata, "error_type": str(error_type)}
    assert len(record.header_list) == len(metadata) + 1
    assert record.key == key
    return body


def assert_raw_topic_empty(kafka, dataset):
    assert kafka.end_offsets(dataset.raw_topic) == dict.fromkeys(
        range(kafka.partitions(dataset.raw_topic)), 0
    )


def test_text_that_is_not_json_is_dead_lettered_as_invalid_json(producer, dataset, kafka):
    result, record = dead_letter(producer, dataset, kafka, "{nope")

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.INVALID_JSON,
        message="not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        key=None,
        metadata_names=METADATA,
    )
    assert body["original"] == "{nope"
    assert body["original_encoding"] == "text"
    assert body["original_truncated"] is False
    assert body["original_size_bytes"] == 5
    assert "JSONDecodeError" in body["error"]["stacktrace"]
    assert body["metadata"]["schema_version"] == "v2"
    assert body["metadata"]["schema_id"] == str(producer.registrations[1].schema_id)
    assert_raw_topic_empty(kafka, dataset)


@pytest.mark.parametrize(
    ("key_value", "state"), [(None, "missing"), ("", "empty")], ids=["absent", "empty"]
)
def test_an_event_without_its_key_is_dead_lettered_as_missing_field(
    producer, dataset, kafka, order, key_value, state
):
    event = order()
    if key_value is None:
        del event["order_id"]
    else:
        event["order_id"] = key_value

    result, record = dead_letter(producer, dataset, kafka, event)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.MISSING_FIELD,
        message=f"order_id: the key field is {state}; every orders event needs its business id",
        key=None,
        metadata_names=METADATA,
    )
    assert body["original"] == event
    assert body["original_encoding"] == "json"
    assert body["error"]["stacktrace"] is None
    assert_raw_topic_empty(kafka, dataset)


def test_an_event_missing_a_required_field_is_dead_lettered_as_missing_field(
    producer, dataset, kafka, order
):
    event = order("ORD-no-customer")
    del event["customer_id"]

    result, record = dead_letter(producer, dataset, kafka, event)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.MISSING_FIELD,
        message="customer_id: required by orders v2 but missing",
        key=b"ORD-no-customer",
        metadata_names=METADATA,
    )
    assert body["original"] == event
    assert_raw_topic_empty(kafka, dataset)


@pytest.mark.parametrize("as_text", [False, True], ids=["dict", "json-text"])
def test_a_field_of_the_wrong_type_is_dead_lettered_as_schema_validation(
    producer, dataset, kafka, order, as_text
):
    event = order("ORD-lots", amount="lots")

    result, record = dead_letter(producer, dataset, kafka, json.dumps(event) if as_text else event)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.SCHEMA_VALIDATION,
        message="amount: expected double, got string 'lots'",
        key=b"ORD-lots",
        metadata_names=METADATA,
    )
    assert body["original"] == event
    assert body["original_encoding"] == "json"
    assert body["original_size_bytes"] == len(json.dumps(event, ensure_ascii=False).encode())
    assert_raw_topic_empty(kafka, dataset)


def test_an_unknown_field_is_dead_lettered_as_schema_validation(producer, dataset, kafka, order):
    event = order("ORD-coupon", coupon="SAVE10")

    result, record = dead_letter(producer, dataset, kafka, event)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.SCHEMA_VALIDATION,
        message="coupon: not a field of orders v2",
        key=b"ORD-coupon",
        metadata_names=METADATA,
    )
    assert body["original"] == event
    assert_raw_topic_empty(kafka, dataset)


def test_a_json_array_is_dead_lettered_as_schema_validation(producer, dataset, kafka):
    text = '[1, 2, "three"]'

    result, record = dead_letter(producer, dataset, kafka, text)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.SCHEMA_VALIDATION,
        message="expected a JSON object, got array [1, 2, 'three']",
        key=None,
        metadata_names=METADATA,
    )
    # JSON text that parsed is kept as the JSON value it holds.
    assert body["original"] == [1, 2, "three"]
    assert body["original_encoding"] == "json"
    assert_raw_topic_empty(kafka, dataset)


def test_bytes_that_are_not_utf8_are_dead_lettered_as_invalid_json_in_base64(
    producer, dataset, kafka
):
    raw = b'{"order_id": "\xff\xfe"}'

    result, record = dead_letter(producer, dataset, kafka, raw)

    body = record.json()
    assert body["error"]["type"] == "invalid_json"
    assert body["error"]["message"].startswith("not UTF-8 text: ")
    assert body["original_encoding"] == "base64"
    assert body["original"] == base64.b64encode(raw).decode()
    assert body["original_size_bytes"] == len(raw)
    assert record.headers["error_type"] == "invalid_json"
    assert result.error.error_type is ErrorType.INVALID_JSON
    assert_raw_topic_empty(kafka, dataset)


def test_an_unknown_schema_version_is_dead_lettered_with_the_original_key(
    producer, dataset, kafka, order
):
    event = order("ORD-v9")

    result, record = dead_letter(producer, dataset, kafka, event, version=9)

    assert result.schema_version is None
    assert result.schema_id is None
    assert record.json()["original"] == event
    assert_raw_topic_empty(kafka, dataset)
    check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.UNKNOWN_SCHEMA_VERSION,
        message="orders has no schema version v9; the catalog has v1, v2",
        # dlq_producer.py: "its key is the original key when one could be
        # extracted"; this event is a JSON object with its key field.
        key=b"ORD-v9",
        metadata_names=["dataset", "ingestion_id", "producer_service"],
    )


def test_a_record_larger_than_kafka_accepts_is_dead_lettered_with_a_truncated_original(
    producer, dataset, kafka, order
):
    event = order("ORD-huge", customer_id="C" * 2_000_000)
    encoded = io.BytesIO()
    fastavro.schemaless_writer(encoded, fastavro.parse_schema(dict(dataset.latest.schema)), event)
    size = 5 + len(encoded.getvalue())

    result, record = dead_letter(producer, dataset, kafka, event)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=ErrorType.RECORD_TOO_LARGE,
        message=f"the encoded record is {size} bytes, more than the producer's "
        "message.max.bytes allows",
        key=b"ORD-huge",
        metadata_names=METADATA,
    )
    text = json.dumps(event, ensure_ascii=False)
    assert body["original_truncated"] is True
    assert body["original_encoding"] == "text"
    assert body["original"] == text[:65_536]
    assert body["original_size_bytes"] == len(text.encode())
    assert len(record.value) < 1_000_000
    assert_raw_topic_empty(kafka, dataset)


def test_many_invalid_events_each_get_their_own_dlq_record_and_the_raw_topic_none(
    producer, dataset, kafka, order
):
    events = ["{nope", order("ORD-a", amount="lots"), order(""), "[]", order("ORD-b", x=1)]

    results = list(producer.produce_many(DATASET, events))

    assert [r.outcome for r in results] == [Outcome.DLQ] * 5
    assert [r.error.error_type for r in results] == [
        ErrorType.INVALID_JSON,
        ErrorType.SCHEMA_VALIDATION,
        ErrorType.MISSING_FIELD,
        ErrorType.SCHEMA_VALIDATION,
        ErrorType.SCHEMA_VALIDATION,
    ]
    records = {(r.partition, r.offset): r for r in kafka.read(dataset.dlq_topic, 5)}
    originals = [*events[:3], [], events[4]]
    for original, result in zip(originals, results, strict=True):
        body = records[result.partition, result.offset].json()
        assert body["original"] == original
        assert body["metadata"]["ingestion_id"] == result.ingestion_id
        assert body["error"]["type"] == str(result.error.error_type)
    assert producer.counts == {Outcome.PRODUCED: 0, Outcome.DLQ: 5, Outcome.FAILED: 0}
    assert_raw_topic_empty(kafka, dataset)
