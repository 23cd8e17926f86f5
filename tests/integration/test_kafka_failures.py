"""Kafka failures go back to the caller, never to the DLQ: with the real broker
stopped, a single produce raises and a bulk produce reports every event."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from streamlake import KafkaDeliveryError, Outcome

DATASET = "orders"
TIMEOUT_MS = 3000


def start_kafka(stack, timeout: float = 120) -> None:
    """Start the broker again. The stack is shared: when another test session
    started it meanwhile (its `scripts/stack up`), `start` fails although the
    broker comes up; then wait, bounded, for it to answer."""
    try:
        stack.control("start", "kafka")
    except RuntimeError:
        admin = AdminClient({"bootstrap.servers": stack.bootstrap_servers})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if admin.list_topics(timeout=2).brokers:
                    return
            except KafkaException:
                continue
        raise


def test_close_returns_0_after_successful_produces(make_producer, order):
    producer = make_producer()
    results = list(producer.produce_many(DATASET, [order() for _ in range(200)]))
    producer.produce(DATASET, order())

    assert {r.outcome for r in results} == {Outcome.PRODUCED}
    assert producer.close() == 0


def test_with_the_broker_stopped_events_fail_to_the_caller_and_nothing_is_dead_lettered(
    stack, make_producer, dataset, kafka, order
):
    producer = make_producer(kafka={"message.timeout.ms": str(TIMEOUT_MS)})
    assert producer.produce(DATASET, order("ORD-before")).outcome is Outcome.PRODUCED

    errors: list[KafkaDeliveryError] = []
    stack.control("stop", "kafka")
    try:
        for i in range(3):
            started = time.monotonic()
            with pytest.raises(KafkaDeliveryError) as failed:
                producer.produce(DATASET, order(f"ORD-down-{i}"))
            assert time.monotonic() - started < TIMEOUT_MS / 1000 + 5
            error = failed.value
            errors.append(error)
            assert error.code == "_MSG_TIMED_OUT"
            assert error.dataset == DATASET
            assert error.topic == dataset.raw_topic
            assert error.ingestion_id
            assert "_MSG_TIMED_OUT" in str(error)

        events = [order(f"ORD-bulk-{i}") for i in range(5)]
        results = list(producer.produce_many(DATASET, events))

        assert [r.outcome for r in results] == [Outcome.FAILED] * 5
        for result in results:
            assert isinstance(result.error, KafkaDeliveryError)
            errors.append(result.error)
            assert result.error.code == "_MSG_TIMED_OUT"
            assert result.error.ingestion_id == result.ingestion_id
            assert (result.topic, result.partition, result.offset) == (
                dataset.raw_topic,
                None,
                None,
            )
        assert len({r.ingestion_id for r in results}) == 5
        assert producer.counts == {Outcome.PRODUCED: 1, Outcome.DLQ: 0, Outcome.FAILED: 8}
    finally:
        start_kafka(stack)

    assert kafka.record_count(dataset.dlq_topic) == 0
    (record,) = kafka.read(dataset.raw_topic, 1)
    assert record.key == b"ORD-before"
    assert kafka.record_count(dataset.raw_topic) == 1
    # The same producer works again once the broker is back.
    after = producer.produce(DATASET, order("ORD-after"))
    assert after.outcome is Outcome.PRODUCED
    assert producer.close() == 0
    # A timeout while the broker is down is worth retrying later.
    assert [e.retriable for e in errors] == [True] * 8
    assert all(str(e).endswith(". Retrying later may succeed") for e in errors)
