"""Scenarios 1 and 2: the broker killed, or restarted, in the middle of a bulk
produce. Every event is counted: acknowledged and found in the topic, or
returned to the caller as a failure carrying librdkafka's error code."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import fastavro
import pytest
from faulthelpers import DATASET, order
from readback import Topics

from streamlake import Outcome

KILL_AFTER_ACKS = 10_000
"""The broker is killed once this many events were acknowledged..."""
HOLD_AT_EVENT = 50_000
"""...and no event past this one is handed over before the kill completed, so
the kill lands mid-stream whatever the machine's speed."""
WAIT_S = 120.0


def _events(count: int, gate: threading.Event, hold_at: int) -> Iterator[dict[str, Any]]:
    """`count` orders keyed K0..K49, each key's amount increasing with i;
    before event `hold_at`, wait (bounded) for `gate`."""
    for i in range(count):
        if i == hold_at:
            assert gate.wait(WAIT_S), "the broker fault was not injected in time"
        yield order(f"K{i % 50}", amount=float(i))


class _Fault(threading.Thread):
    """Runs stack commands off the produce loop: `first` is set once the first
    one ran (or failed), `done` once all did."""

    def __init__(self, stack: Any, *steps: tuple[str, ...]) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.steps = steps
        self.first = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for step in self.steps:
                self.stack.control(*step)
                self.first.set()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.first.set()
            self.done.set()


@pytest.mark.timeout(300)
def test_broker_killed_mid_stream_every_event_is_acknowledged_and_stored_or_failed_with_a_code(
    stack, make_producer, topics: Topics
):
    sent = 100_000
    producer = make_producer(kafka={"message.timeout.ms": "5000"})
    dataset = producer.catalog[DATASET]
    fault = _Fault(stack, ("stop", "kafka", "--kill"))
    acked: dict[str, tuple[int, int]] = {}
    failed: list[Any] = []
    other: list[Any] = []
    try:
        for result in producer.produce_many(DATASET, _events(sent, fault.first, HOLD_AT_EVENT)):
            if result.outcome is Outcome.PRODUCED:
                acked[result.ingestion_id] = (result.partition, result.offset)
                if len(acked) == KILL_AFTER_ACKS:
                    fault.start()
            elif result.outcome is Outcome.FAILED:
                failed.append(result)
            else:
                other.append(result)
        fault.join(WAIT_S)
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
    stored = {
        r.headers["ingestion_id"]: (r.partition, r.offset)
        for r in topics.read_all(dataset.raw_topic)
    }
    missing = [i for i, where in acked.items() if stored.get(i) != where]
    assert missing == []
    # What the topic holds beyond the acknowledged ones was sent and reported
    # failed (written, but its acknowledgement was lost with the broker).
    unacked_stored = set(stored) - set(acked)
    assert unacked_stored <= {r.ingestion_id for r in failed}
    assert topics.count(dataset.dlq_topic) == 0
    print(
        f"\nkill mid-stream: sent={sent} acknowledged={len(acked)} failed={len(failed)} "
        f"codes={dict(codes)} stored={len(stored)} acknowledged_missing={len(missing)} "
        f"stored_but_failed={len(unacked_stored)} dlq=0"
    )


@pytest.mark.timeout(300)
def test_broker_restarted_within_the_delivery_timeout_loses_duplicates_and_reorders_nothing(
    stack, make_producer, topics: Topics
):
    sent = 100_000
    # Long enough for a clean stop and a start (~15 s here) with margin.
    producer = make_producer(kafka={"message.timeout.ms": "120000"})
    dataset = producer.catalog[DATASET]
    restart = _Fault(stack, ("stop", "kafka"), ("start", "kafka"))
    outcomes: Counter[str] = Counter()
    acked: dict[str, tuple[int, int]] = {}
    try:
        # Events past HOLD_AT_EVENT are queued while the broker is down.
        for result in producer.produce_many(DATASET, _events(sent, restart.first, HOLD_AT_EVENT)):
            outcomes[str(result.outcome)] += 1
            if result.outcome is Outcome.PRODUCED:
                acked[result.ingestion_id] = (result.partition, result.offset)
                if len(acked) == KILL_AFTER_ACKS:
                    restart.start()
        restart.join(WAIT_S)
        assert restart.done.is_set() and restart.error is None, restart.error
    finally:
        stack.control("start", "kafka")
    assert producer.close(timeout=10) == 0

    assert outcomes == {"produced": sent}
    assert len(acked) == sent
    records = topics.read_all(dataset.raw_topic)
    ids = Counter(r.headers["ingestion_id"] for r in records)
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates == 0
    assert len(records) == sent
    assert {r.headers["ingestion_id"]: (r.partition, r.offset) for r in records} == acked
    # Per partition, each key's amounts (its send order) only increase.
    schema = fastavro.parse_schema(dict(dataset.latest.schema))
    last: dict[tuple[int, bytes], float] = {}
    reordered = 0
    for r in records:
        amount = fastavro.schemaless_reader(io.BytesIO(r.value[5:]), schema)["amount"]
        key = (r.partition, r.key or b"")
        if key in last and amount <= last[key]:
            reordered += 1
        last[key] = amount
    assert reordered == 0
    assert topics.count(dataset.dlq_topic) == 0
    print(
        f"\nrestart mid-stream: sent={sent} acknowledged={len(acked)} stored={len(records)} "
        f"duplicates={duplicates} out_of_order={reordered} keys={len(last)}"
    )
