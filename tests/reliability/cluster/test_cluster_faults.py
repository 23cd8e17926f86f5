"""The cluster scenarios: three KRaft nodes, topics with replication factor 3
and min.insync.replicas 2 (StreamLake's defaults on three brokers), and a
broker killed, two stopped, all restarted in turn, one frozen, or the registry
restarted while events stream. Every event is counted: acknowledged and then
stored exactly once at its acknowledged offset, or returned to the caller as a
failure carrying librdkafka's code; nothing reaches the DLQ."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from streamlake import Outcome
from tests.readback import Topics
from tests.reliability.cluster.clusterhelpers import BROKERS, wait_fully_replicated
from tests.reliability.faulthelpers import (
    DATASET,
    GATE_WAIT_S,
    Audit,
    Fault,
    audit,
    keyed_events,
    order,
)

FAULT_AFTER_ACKS = 10_000
"""The fault is injected once this many events were acknowledged..."""
HOLD_AT_EVENT = 50_000
"""...and no event past this one is handed over before it was, so it lands
mid-stream whatever the machine's speed."""
FREEZE_S = 12.0
"""Longer than the producer's request.timeout.ms (5 s) and the broker session
timeout (9 s), so the frozen node is fenced and its partitions move."""
NOT_ENOUGH_REPLICAS = {"NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "_MSG_TIMED_OUT"}
"""What an event refused for want of in-sync replicas ends as: the broker's
refusal, or (what librdkafka reports, as it retries that refusal) its timeout
after message.timeout.ms."""


class Run:
    """Every result of one produce_many, by outcome."""

    def __init__(self) -> None:
        self.acked: dict[str, tuple[int, int]] = {}
        self.failed: list[Any] = []
        self.other: list[Any] = []
        self.schema_ids: Counter[int | None] = Counter()

    def take(self, results: Iterator[Any], on_ack: Callable[[int], None] = lambda n: None) -> None:
        for result in results:
            self.schema_ids[result.schema_id] += 1
            if result.outcome is Outcome.PRODUCED:
                self.acked[result.ingestion_id] = (result.partition, result.offset)
                on_ack(len(self.acked))
            elif result.outcome is Outcome.FAILED:
                self.failed.append(result)
            else:
                self.other.append(result)

    @property
    def codes(self) -> Counter[str]:
        return Counter(r.error.code for r in self.failed)


def leader_of_busiest_partition(stack: Any, topic: str, acked: dict[str, tuple[int, int]]) -> str:
    """The node (kafka-N) leading the partition with the most acknowledged events."""
    busiest = Counter(partition for partition, _ in acked.values()).most_common(1)[0][0]
    metadata = AdminClient({"bootstrap.servers": stack.bootstrap_servers}).list_topics(topic, 10)
    return f"kafka-{metadata.topics[topic].partitions[busiest].leader}"


def stored_once_in_order(
    topics: Topics, dataset: Any, acked: dict[str, tuple[int, int]], sent: int
) -> Audit:
    """The raw topic holds the `sent` events, each acknowledged one exactly once
    at its acknowledged offset and each key's in send order; the DLQ none."""
    found = audit(topics.read_all(dataset.raw_topic), acked, dataset.latest.schema)
    assert (found.stored, found.duplicates, found.acknowledged_missing) == (sent, 0, 0)
    assert found.out_of_order == 0
    assert topics.count(dataset.dlq_topic) == 0
    return found


@pytest.mark.timeout(300)
def test_the_busiest_partitions_leader_killed_mid_stream_loses_duplicates_and_fails_nothing(
    stack, make_producer, topics: Topics
):
    sent = 100_000
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    # StreamLake's defaults on three brokers, as the brokers report them.
    assert topics.durability(dataset.raw_topic) == (3, 2)
    assert topics.durability(dataset.dlq_topic) == (3, 2)
    run = Run()
    victim: list[str] = []

    def kill() -> None:
        victim.append(leader_of_busiest_partition(stack, dataset.raw_topic, dict(run.acked)))
        stack.control("kill", victim[0])

    fault = Fault(stack, kill)
    started = time.monotonic()
    run.take(
        producer.produce_many(DATASET, keyed_events(sent, fault.wait_first, HOLD_AT_EVENT)),
        lambda n: fault.start() if n == FAULT_AFTER_ACKS else None,
    )
    elapsed = time.monotonic() - started
    fault.join(GATE_WAIT_S)
    assert fault.error is None, fault.error
    assert producer.close(timeout=10) == 0

    # Two replicas stay in sync: a new leader takes over and nothing fails.
    assert (len(run.acked), run.failed, run.other) == (sent, [], [])
    found = stored_once_in_order(topics, dataset, run.acked, sent)
    print(
        f"\nleader {victim[0]} SIGKILLed: sent={sent} acknowledged={len(run.acked)} "
        f"failed=0 stored={found.stored} acknowledged_missing=0 duplicates=0 "
        f"out_of_order=0 keys={found.keys} dlq=0 in {elapsed:.1f}s"
    )


@pytest.mark.timeout(300)
def test_two_of_three_brokers_stopped_fails_every_event_with_a_replica_error_then_resumes(
    stack, make_producer, topics: Topics
):
    batch = 1_000
    timeout_s = 10.0
    producer = make_producer(kafka={"message.timeout.ms": str(int(timeout_s * 1000))})
    dataset = producer.catalog[DATASET]
    before, during, after = Run(), Run(), Run()
    before.take(producer.produce_many(DATASET, (order(f"B{i}") for i in range(batch))))
    assert len(before.acked) == batch

    try:
        stack.control("stop", "kafka-2")
        stack.control("stop", "kafka-3")
        started = time.monotonic()
        during.take(producer.produce_many(DATASET, (order(f"D{i}") for i in range(batch))))
        reported_after = time.monotonic() - started
        refusal = _unretried_produce_error(stack.bootstrap_servers, dataset.raw_topic)
    finally:
        stack.control("start", "kafka")
    wait_fully_replicated(stack.bootstrap_servers)
    after.take(producer.produce_many(DATASET, (order(f"A{i}") for i in range(batch))))
    assert producer.close(timeout=10) == 0

    # One replica left of three, min.insync.replicas 2: every event refused,
    # each reported to the caller within the delivery timeout.
    assert (during.acked, during.other, len(during.failed)) == ({}, [], batch)
    assert set(during.codes) <= NOT_ENOUGH_REPLICAS, during.codes
    # What librdkafka retried until the timeout was the brokers' replica refusal.
    assert refusal == "NOT_ENOUGH_REPLICAS"
    assert all(r.error.retriable for r in during.failed)
    assert reported_after < timeout_s + 5
    # Restarted, the same producer delivers again.
    assert (len(after.acked), after.failed) == (batch, [])
    acked = {**before.acked, **after.acked}
    found = audit(topics.read_all(dataset.raw_topic), acked, dataset.latest.schema)
    assert (found.acknowledged_missing, found.duplicates) == (0, 0)
    assert found.stored_unacknowledged <= {r.ingestion_id for r in during.failed}
    assert topics.count(dataset.dlq_topic) == 0
    print(
        f"\ntwo of three stopped: before={len(before.acked)} acknowledged; during: sent={batch} "
        f"failed={len(during.failed)} codes={dict(during.codes)} reported within "
        f"{reported_after:.1f}s (message.timeout.ms {timeout_s * 1000:.0f}); after restart: "
        f"{len(after.acked)} acknowledged; a client without retries got {refusal}; "
        f"stored={found.stored} acknowledged_missing=0 "
        f"stored_but_failed={len(found.stored_unacknowledged)} dlq=0"
    )


def _unretried_produce_error(bootstrap_servers: str, topic: str) -> str | None:
    """The error a plain acks=all producer that never retries gets for one record."""
    errors: list[Any] = []
    probe = Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "acks": "all",
            "retries": 0,
            "message.timeout.ms": 10_000,
        }
    )
    probe.produce(topic, b"probe", on_delivery=lambda err, _msg: errors.append(err))
    probe.flush(15)
    return errors[0].name() if errors and errors[0] is not None else None


def _paced_events(done: threading.Event, rate: float, cap: int) -> Iterator[dict[str, Any]]:
    """Orders keyed K0..K49 at about `rate` per second until `done` (at most
    `cap`): load for as long as the fault lasts, without millions of records."""
    started = time.monotonic()
    for i in range(cap):
        if done.is_set():
            return
        ahead = i / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)  # pacing the load, not waiting on a condition
        yield order(f"K{i % 50}", amount=float(i))


@pytest.mark.timeout(600)
def test_a_rolling_restart_of_every_broker_under_load_loses_and_duplicates_nothing(
    stack, make_producer, topics: Topics
):
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    run = Run()
    steps: list[Any] = []
    for node in range(1, BROKERS + 1):
        steps += [("stop", f"kafka-{node}"), ("start", f"kafka-{node}")]
        # The next node goes down only once this one is back in every ISR.
        steps.append(lambda: wait_fully_replicated(stack.bootstrap_servers))
    rolling = Fault(stack, *steps)
    started = time.monotonic()
    run.take(
        producer.produce_many(DATASET, _paced_events(rolling.done, rate=1_000, cap=600_000)),
        lambda n: rolling.start() if n == FAULT_AFTER_ACKS // 2 else None,
    )
    elapsed = time.monotonic() - started
    rolling.join(GATE_WAIT_S)
    assert rolling.done.is_set() and rolling.error is None, rolling.error
    assert producer.close(timeout=10) == 0

    sent = len(run.acked) + len(run.failed) + len(run.other)
    assert (run.failed, run.other) == ([], [])
    found = stored_once_in_order(topics, dataset, run.acked, sent)
    print(
        f"\nrolling restart of {BROKERS} brokers: sent={sent} acknowledged={len(run.acked)} "
        f"failed=0 stored={found.stored} lost=0 duplicates=0 out_of_order=0 dlq=0 "
        f"in {elapsed:.1f}s"
    )


@pytest.mark.timeout(300)
def test_a_broker_frozen_past_the_request_timeout_then_resumed_accounts_for_every_event(
    stack, make_producer, topics: Topics
):
    sent = 100_000
    producer = make_producer(kafka={"request.timeout.ms": "5000"})
    dataset = producer.catalog[DATASET]
    run = Run()
    frozen: list[str] = []

    def pause() -> None:
        frozen.append(leader_of_busiest_partition(stack, dataset.raw_topic, dict(run.acked)))
        stack.control("pause", frozen[0])

    def resume() -> None:
        stack.control("resume", frozen[0])

    # The freeze lasting FREEZE_S is the fault itself, not a wait for a condition.
    freeze = Fault(stack, pause, lambda: time.sleep(FREEZE_S), resume)
    try:
        run.take(
            producer.produce_many(DATASET, keyed_events(sent, freeze.wait_first, HOLD_AT_EVENT)),
            lambda n: freeze.start() if n == FAULT_AFTER_ACKS else None,
        )
        freeze.join(GATE_WAIT_S)
        assert freeze.error is None, freeze.error
    finally:
        if frozen:
            stack.control("resume", frozen[0])
    assert producer.close(timeout=10) == 0

    assert run.other == []
    assert len(run.acked) + len(run.failed) == sent
    assert all(r.error is not None and r.error.code for r in run.failed)
    assert len({r.ingestion_id for r in run.failed} | set(run.acked)) == sent
    found = audit(topics.read_all(dataset.raw_topic), run.acked, dataset.latest.schema)
    assert found.acknowledged_missing == 0, found.misplaced
    assert (found.duplicates, found.out_of_order) == (0, 0)
    assert found.stored_unacknowledged <= {r.ingestion_id for r in run.failed}
    assert topics.count(dataset.dlq_topic) == 0
    print(
        f"\n{frozen[0]} SIGSTOPped {FREEZE_S:.0f}s (request.timeout.ms 5000): sent={sent} "
        f"acknowledged={len(run.acked)} failed={len(run.failed)} codes={dict(run.codes)} "
        f"stored={found.stored} acknowledged_missing=0 duplicates=0 out_of_order=0 "
        f"acknowledged_without_offset={found.offsetless} "
        f"stored_but_failed={len(found.stored_unacknowledged)} dlq=0"
    )


@pytest.mark.timeout(420)
def test_the_registry_restarted_mid_stream_producing_goes_on_and_ids_are_the_same_after(
    stack, make_producer, topics: Topics
):
    sent = 20_000
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    run = Run()
    restart = Fault(stack, ("stop", "registry"), ("start", "registry"))
    run.take(
        producer.produce_many(DATASET, keyed_events(sent, restart.wait_done, sent // 2)),
        lambda n: restart.start() if n == 2_000 else None,
    )
    restart.join(GATE_WAIT_S)
    assert restart.error is None, restart.error

    # Every event before, during and after the restart used the id cached at startup...
    assert (len(run.acked), run.failed, run.other) == (sent, [], [])
    (schema_id,) = run.schema_ids
    # ...which the restarted registry still holds for the same schema, and hands
    # to a producer starting now.
    registry = SchemaRegistryClient({"url": stack.schema_registry_url})
    latest = registry.get_latest_version(dataset.value_subject)
    assert latest.schema_id == schema_id
    assert registry.get_schema(schema_id).schema_str == dataset.latest.schema_str
    fresh = make_producer(schemas_dir=dataset.path.parent)
    assert fresh.produce(DATASET, order("AFTER")).schema_id == schema_id
    assert producer.close(timeout=10) == 0
    assert topics.count(dataset.raw_topic) == sent + 1
    print(
        f"\nregistry restarted mid-stream: produced={len(run.acked)} failed=0 "
        f"schema id {schema_id} before, during and after; a new producer got {schema_id}"
    )
