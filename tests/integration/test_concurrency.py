"""One producer shared by threads, and the asyncio producer, on the real stack:
every caller gets the result of its own event, results match what the topics
hold, and counts are exact."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from streamlake import ErrorType, Outcome

DATASET = "orders"
THREADS = 8
PER_THREAD = 250
INVALID_EVERY = 10


def test_threads_sharing_a_producer_each_get_their_own_records_result(
    producer, dataset, kafka, order
):
    results: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            results[t] = [
                producer.produce(
                    DATASET,
                    order(f"T{t}-{i}", amount="lots")
                    if i % INVALID_EVERY == 0
                    else order(f"T{t}-{i}"),
                )
                for i in range(PER_THREAD)
            ]
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    invalid = THREADS * PER_THREAD // INVALID_EVERY
    valid = THREADS * PER_THREAD - invalid
    assert producer.counts == {Outcome.PRODUCED: valid, Outcome.DLQ: invalid, Outcome.FAILED: 0}
    raw = {(r.partition, r.offset): r for r in kafka.read(dataset.raw_topic, valid)}
    dead = {(r.partition, r.offset): r for r in kafka.read(dataset.dlq_topic, invalid)}
    assert len(raw) == valid and len(dead) == invalid
    for t in range(THREADS):
        for i, result in enumerate(results[t]):
            stored = (dead if i % INVALID_EVERY == 0 else raw)[result.partition, result.offset]
            assert stored.headers["ingestion_id"] == result.ingestion_id
            if i % INVALID_EVERY:
                assert result.outcome is Outcome.PRODUCED
                assert stored.key == f"T{t}-{i}".encode()
            else:
                assert result.outcome is Outcome.DLQ
                assert result.error.error_type is ErrorType.SCHEMA_VALIDATION


def test_threads_mixing_produce_and_produce_many_keep_input_order_and_exact_counts(
    producer, dataset, kafka, order
):
    results: dict[int, list[Any]] = {}

    def run(t: int) -> None:
        if t % 2:
            events = [order(f"M{t}-{i}") for i in range(PER_THREAD)]
            results[t] = list(producer.produce_many(DATASET, events))
        else:
            results[t] = [producer.produce(DATASET, order(f"M{t}-{i}")) for i in range(50)]

    workers = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    total = sum(len(r) for r in results.values())
    assert total == 2 * PER_THREAD + 2 * 50
    assert producer.counts == {Outcome.PRODUCED: total, Outcome.DLQ: 0, Outcome.FAILED: 0}
    keys = {(r.partition, r.offset): r.key for r in kafka.read(dataset.raw_topic, total)}
    for t, thread_results in results.items():
        assert [keys[r.partition, r.offset] for r in thread_results] == [
            f"M{t}-{i}".encode() for i in range(len(thread_results))
        ]


def test_async_produce_many_yields_results_in_input_order(
    make_async_producer, dataset, kafka, order
):
    producer = make_async_producer()
    events: list[Any] = [order(f"A-{i:03d}") for i in range(300)]
    events[5] = "{not json"
    events[150] = order("A-150", amount="lots")

    async def run() -> list[Any]:
        async def source():
            for event in events:
                yield event

        return [r async for r in producer.produce_many(DATASET, source(), max_in_flight=64)]

    results = asyncio.run(run())

    assert [r.outcome for r in results] == [
        Outcome.DLQ if i in (5, 150) else Outcome.PRODUCED for i in range(300)
    ]
    keys = {(r.partition, r.offset): r.key for r in kafka.read(dataset.raw_topic, 298)}
    for i, result in enumerate(results):
        if result.outcome is Outcome.PRODUCED:
            assert keys[result.partition, result.offset] == f"A-{i:03d}".encode()
    assert producer.counts == {Outcome.PRODUCED: 298, Outcome.DLQ: 2, Outcome.FAILED: 0}


def test_cancelled_awaits_still_produce_and_are_counted(make_async_producer, dataset, kafka, order):
    producer = make_async_producer()
    tasks_n = 200

    async def run() -> list[Any]:
        tasks = [
            asyncio.create_task(producer.produce(DATASET, order(f"C-{i}"))) for i in range(tasks_n)
        ]
        await asyncio.sleep(0)  # every task runs up to its await: its record is handed over
        for task in tasks[::2]:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(2000):  # the cancelled ones' outcomes arrive on their own
            if sum(producer.counts.values()) == tasks_n:
                break
            await asyncio.sleep(0.01)
        return outcomes

    outcomes = asyncio.run(run())

    cancelled = [o for o in outcomes if isinstance(o, asyncio.CancelledError)]
    assert len(cancelled) == tasks_n // 2
    assert all(o.outcome is Outcome.PRODUCED for o in outcomes[1::2])
    assert producer.counts == {Outcome.PRODUCED: tasks_n, Outcome.DLQ: 0, Outcome.FAILED: 0}
    stored = {r.key for r in kafka.read(dataset.raw_topic, tasks_n)}
    assert stored == {f"C-{i}".encode() for i in range(tasks_n)}


def test_many_concurrent_awaits_each_get_their_own_result(
    make_async_producer, dataset, kafka, order
):
    producer = make_async_producer()

    async def run() -> list[Any]:
        async with producer:
            return await asyncio.gather(
                *(producer.produce(DATASET, order(f"G-{i}")) for i in range(1000))
            )

    results = asyncio.run(run())

    assert len({r.ingestion_id for r in results}) == 1000
    keys = {(r.partition, r.offset): r.key for r in kafka.read(dataset.raw_topic, 1000)}
    assert [keys[r.partition, r.offset] for r in results] == [
        f"G-{i}".encode() for i in range(1000)
    ]
    assert producer.counts[Outcome.PRODUCED] == 1000
