"""Scenario 6: the DLQ topic deleted after the producer started (the broker
does not create topics on demand). Invalid events come back as failures with
librdkafka's code, never dropped; valid events are still produced."""

from __future__ import annotations

import time
from collections import Counter

from streamlake import Outcome
from tests.reliability.faulthelpers import DATASET, order

SENT = 1_000
INVALID_EVERY = 10


def test_with_the_dlq_topic_deleted_invalid_events_fail_with_a_code_and_valid_ones_are_produced(
    make_producer, topics
):
    producer = make_producer(kafka={"message.timeout.ms": "5000"})
    dataset = producer.catalog[DATASET]
    topics.admin.delete_topics([dataset.dlq_topic])[dataset.dlq_topic].result(timeout=30)
    deadline = time.monotonic() + 30
    while topics.exists(dataset.dlq_topic) and time.monotonic() < deadline:
        time.sleep(0.2)  # deletion propagates to metadata asynchronously
    assert not topics.exists(dataset.dlq_topic)

    events = [
        {"order_id": f"X{i}", "amount": "lots"} if i % INVALID_EVERY == 0 else order(f"V{i}")
        for i in range(SENT)
    ]
    results = list(producer.produce_many(DATASET, events))

    outcomes = Counter(str(r.outcome) for r in results)
    failed = [r for r in results if r.outcome is Outcome.FAILED]
    invalid = SENT // INVALID_EVERY
    assert outcomes == {"produced": SENT - invalid, "failed": invalid}
    assert [results.index(r) % INVALID_EVERY for r in failed] == [0] * invalid
    assert all(r.error is not None and r.error.code for r in failed)
    assert all("dead-letter" in r.error.message for r in failed)
    codes = Counter(r.error.code for r in failed)
    assert topics.count(dataset.raw_topic) == SENT - invalid
    assert not topics.exists(dataset.dlq_topic)
    print(
        f"\nDLQ deleted: sent={SENT} produced={outcomes['produced']} "
        f"failed={outcomes['failed']} codes={dict(codes)} dropped=0"
    )
