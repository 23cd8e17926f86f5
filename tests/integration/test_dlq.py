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

from streamlake import ConfigurationError, ErrorType, InvalidEventError, Outcome

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


def dead_letter(producer, dataset, kafka, event):
    """Produce `event`, check the result says DLQ, and return it with the DLQ record."""
    result = producer.produce(DATASET, event)

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


def _without(field):
    def make(order):
        event = order("ORD-no-customer" if field == "customer_id" else None)
        del event[field]
        return event

    return make


LOTS = 'amount: expected double, got "lots"'
# id: (event from `order`, error type, message, key, original kept,
#      original_encoding); `original` None means the event itself.
DEAD_LETTERS = {
    "text-not-json": (
        lambda order: "{nope",
        ErrorType.INVALID_JSON,
        "not valid JSON: key must be a string at line 1 column 2",
        None,
        "{nope",
        "text",
    ),
    "key-absent": (
        _without("order_id"),
        ErrorType.MISSING_FIELD,
        "order_id: missing: the record key is required",
        None,
        None,
        "json",
    ),
    "key-empty": (
        lambda order: order(""),
        ErrorType.MISSING_FIELD,
        "order_id: the record key must not be empty",
        None,
        None,
        "json",
    ),
    "required-field-absent": (
        _without("customer_id"),
        ErrorType.MISSING_FIELD,
        "customer_id: missing: a required field (no default)",
        b"ORD-no-customer",
        None,
        "json",
    ),
    "wrong-type": (
        lambda order: order("ORD-lots", amount="lots"),
        ErrorType.SCHEMA_VALIDATION,
        LOTS,
        b"ORD-lots",
        None,
        "json",
    ),
    "wrong-type-in-json-text": (
        lambda order: json.dumps(order("ORD-lots", amount="lots")),
        ErrorType.SCHEMA_VALIDATION,
        LOTS,
        b"ORD-lots",
        "parsed",  # JSON text that parsed is kept as the JSON value it holds
        "json",
    ),
    "unknown-field": (
        lambda order: order("ORD-coupon", coupon="SAVE10"),
        ErrorType.SCHEMA_VALIDATION,
        "coupon: not a field of io.streamlake.orders.Order",
        b"ORD-coupon",
        None,
        "json",
    ),
    "json-array": (
        lambda order: '[1, 2, "three"]',
        ErrorType.SCHEMA_VALIDATION,
        "expected a JSON object, got array",
        None,
        "parsed",
        "json",
    ),
}


@pytest.mark.parametrize(
    ("make", "error_type", "message", "key", "original", "encoding"),
    list(DEAD_LETTERS.values()),
    ids=list(DEAD_LETTERS),
)
def test_each_kind_of_invalid_event_is_one_dlq_record_and_nothing_raw(
    producer, dataset, kafka, order, make, error_type, message, key, original, encoding
):
    event = make(order)
    kept = json.loads(event) if original == "parsed" else event if original is None else original

    result, record = dead_letter(producer, dataset, kafka, event)

    body = check_dlq_record(
        record,
        result,
        dataset,
        error_type=error_type,
        message=message,
        key=key,
        metadata_names=METADATA,
    )
    assert body["original"] == kept
    assert body["original_encoding"] == encoding
    assert body["original_truncated"] is False
    text = kept if encoding == "text" else json.dumps(kept, ensure_ascii=False)
    assert body["original_size_bytes"] == len(text.encode())
    # The codec's own error is the cause: its traceback says nothing more.
    assert body["error"]["stacktrace"] is None
    assert body["metadata"]["schema_version"] == "v2"
    assert body["metadata"]["schema_id"] == str(producer.registrations[1].schema_id)
    assert_raw_topic_empty(kafka, dataset)


def test_a_version_the_catalog_lacks_is_a_configuration_error_and_nothing_is_sent(
    producer, dataset, kafka, order
):
    # Issue 14: it used to dead-letter every event as unknown_schema_version.
    with pytest.raises(ConfigurationError) as raised:
        producer.produce(dataset.name, order("ORD-v9"), version=9)
    with pytest.raises(ConfigurationError):
        list(producer.produce_many(dataset.name, [order("ORD-v9")], version=9))

    assert raised.value.message == "orders has no schema version v9; the catalog has v1, v2"
    assert producer.counts == {outcome: 0 for outcome in Outcome}
    assert_raw_topic_empty(kafka, dataset)


def test_bytes_that_are_not_utf8_are_dead_lettered_as_invalid_json_in_base64(
    producer, dataset, kafka
):
    raw = b'{"order_id": "\xff\xfe"}'

    result, record = dead_letter(producer, dataset, kafka, raw)

    body = record.json()
    assert body["error"]["type"] == "invalid_json"
    assert body["error"]["message"].startswith("not valid UTF-8: ")
    assert body["original_encoding"] == "base64"
    assert body["original"] == base64.b64encode(raw).decode()
    assert body["original_size_bytes"] == len(raw)
    assert record.headers["error_type"] == "invalid_json"
    assert result.error.error_type is ErrorType.INVALID_JSON
    assert_raw_topic_empty(kafka, dataset)


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
