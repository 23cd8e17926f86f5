"""Scenarios 1 and 2: the broker killed, or restarted, in the middle of a bulk
produce. Every event is counted: acknowledged and found in the topic, or
returned to the caller as a failure carrying librdkafka's error code."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from streamlake import Outcome
from tests.readback import Topics
from tests.reliability.faulthelpers import DATASET, GATE_WAIT_S, Fault, audit, keyed_events

KILL_AFTER_ACKS = 10_000
"""The broker is killed once this many events were acknowledged..."""
HOLD_AT_EVENT = 50_000
"""...and no event past this one is handed over before the kill completed, so
the kill lands mid-stream whatever the machine's speed."""


@pytest.mark.timeout(300)
def test_broker_killed_mid_stream_every_event_is_acknowledged_and_stored_or_failed_with_a_code(
    stack, make_producer, topics: Topics
):
    sent = 100_000
    producer = make_producer(kafka={"message.timeout.ms": "5000"})
    dataset = producer.catalog[DATASET]
    fault = Fault(stack, ("stop", "kafka", "--kill"))
    acked: dict[str, tuple[int, int]] = {}
    failed: list[Any] = []
    other: list[Any] = []
    events = keyed_events(sent, fault.wait_first, HOLD_AT_EVENT)
    try:
        for result in producer.produce_many(DATASET, events):
            if result.outcome is Outcome.PRODUCED:
                acked[result.ingestion_id] = (result.partition, result.offset)
                if len(acked) == KILL_AFTER_ACKS:
                    fault.start()
            elif result.outcome is Outcome.FAILED:
                failed.append(result)
            else:
                other.append(result)
        fault.join(GATE_WAIT_S)
        assert fault.error is None, fault.error
    finally:
        stack.control("start", "kafka")
    assert producer.close(timeout=10) == 0

    # Every event ends as exactly one of: acknowledged, failed.
    assert other == []
    assert len(acked) + len(failed) == sent
    assert len(acked) >= KILL_AFTER_ACKS
    assert len(failed) >= sent - HOLD_AT_EVENT
    assert all(r.error is not None and r.error.code for r in failed)
    assert len({r.ingestion_id for r in failed} | set(acked)) == sent
    codes = Counter(r.error.code for r in failed)

    # Zero acknowledged events missing after the restart, each at its offset.
    found = audit(topics.read_all(dataset.raw_topic), acked, dataset.latest.schema)
    assert (found.acknowledged_missing, found.duplicates) == (0, 0)
    # What the topic holds beyond the acknowledged ones was sent and reported
    # failed (written, but its acknowledgement was lost with the broker).
    assert found.stored_unacknowledged <= {r.ingestion_id for r in failed}
    assert topics.count(dataset.dlq_topic) == 0
    print(
        f"\nkill mid-stream: sent={sent} acknowledged={len(acked)} failed={len(failed)} "
        f"codes={dict(codes)} stored={found.stored} acknowledged_missing=0 "
        f"stored_but_failed={len(found.stored_unacknowledged)} dlq=0"
    )


@pytest.mark.timeout(300)
def test_broker_restarted_within_the_delivery_timeout_loses_duplicates_and_reorders_nothing(
    stack, make_producer, topics: Topics
):
    sent = 100_000
    # Long enough for a clean stop and a start (~15 s here) with margin.
    producer = make_producer(kafka={"message.timeout.ms": "120000"})
    dataset = producer.catalog[DATASET]
    restart = Fault(stack, ("stop", "kafka"), ("start", "kafka"))
    outcomes: Counter[str] = Counter()
    acked: dict[str, tuple[int, int]] = {}
    # Events past HOLD_AT_EVENT are queued while the broker is down.
    events = keyed_events(sent, restart.wait_first, HOLD_AT_EVENT)
    try:
        for result in producer.produce_many(DATASET, events):
            outcomes[str(result.outcome)] += 1
            if result.outcome is Outcome.PRODUCED:
                acked[result.ingestion_id] = (result.partition, result.offset)
                if len(acked) == KILL_AFTER_ACKS:
                    restart.start()
        restart.join(GATE_WAIT_S)
        assert restart.done.is_set() and restart.error is None, restart.error
    finally:
        stack.control("start", "kafka")
    assert producer.close(timeout=10) == 0

    assert outcomes == {"produced": sent}
    assert len(acked) == sent
    found = audit(topics.read_all(dataset.raw_topic), acked, dataset.latest.schema)
    assert (found.stored, found.duplicates, found.acknowledged_missing) == (sent, 0, 0)
    assert found.out_of_order == 0
    assert topics.count(dataset.dlq_topic) == 0
    print(
        f"\nrestart mid-stream: sent={sent} acknowledged={len(acked)} stored={found.stored} "
        f"duplicates={found.duplicates} out_of_order={found.out_of_order} keys={found.keys}"
    )
