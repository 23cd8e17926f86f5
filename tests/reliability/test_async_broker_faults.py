"""The asyncio producer with the broker stopped under 1,000 awaiting tasks:
every task ends with a result or a `KafkaDeliveryError`, every acknowledged
record is in the topic, and the event loop keeps running throughout (its lag
is measured and bounded loosely: a frozen loop is the bug, not a slow box)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from streamlake import KafkaDeliveryError, Outcome
from tests.readback import Topics
from tests.reliability.faulthelpers import DATASET, order

TASKS = 1_000
LAG_BOUND_S = 1.0
"""Far above any scheduling hiccup of a loaded machine, far below the 30 s
the loop froze for when produce() blocked it."""


class LagProbe:
    """Sleeps 10 ms at a time and records how late each wake-up was."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            self.lags.append(time.monotonic() - started - 0.01)

    def __enter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def summary(self) -> str:
        lags = sorted(self.lags)
        p99 = lags[int(len(lags) * 0.99)] if lags else 0.0
        return (
            f"loop lag over {len(lags)} probes: p99 {p99 * 1e3:.1f} ms, max {lags[-1] * 1e3:.1f} ms"
        )


def _outcomes(results: list[Any]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for result in results:
        name = type(result).__name__ if isinstance(result, BaseException) else str(result.outcome)
        counted[name] = counted.get(name, 0) + 1
    return counted


def test_with_the_broker_down_each_await_fails_after_the_delivery_timeout_and_the_loop_runs(
    stack, make_async_producer, topics: Topics
):
    producer = make_async_producer(kafka={"message.timeout.ms": "3000"})
    dataset = producer.catalog[DATASET]

    async def run() -> tuple[list[Any], float, LagProbe]:
        assert (await producer.produce(DATASET, order("before"))).outcome is Outcome.PRODUCED
        await asyncio.to_thread(stack.control, "stop", "kafka")
        try:
            with LagProbe() as probe:
                started = time.monotonic()
                results = await asyncio.gather(
                    *(producer.produce(DATASET, order(f"down-{i}")) for i in range(TASKS)),
                    return_exceptions=True,
                )
                took = time.monotonic() - started
        finally:
            await asyncio.to_thread(stack.control, "start", "kafka")
        after = await producer.produce(DATASET, order("after"))
        assert after.outcome is Outcome.PRODUCED
        return results, took, probe

    results, took, probe = asyncio.run(run())

    print(f"\nbroker down, {TASKS} awaits: {_outcomes(results)} in {took:.1f}s; {probe.summary()}")
    assert all(isinstance(r, KafkaDeliveryError) for r in results), _outcomes(results)
    assert {r.code for r in results} == {"_MSG_TIMED_OUT"}
    assert all(r.retriable for r in results)
    assert took < 3.0 + 10
    assert max(probe.lags) < LAG_BOUND_S, probe.summary()
    assert producer.counts == {Outcome.PRODUCED: 2, Outcome.DLQ: 0, Outcome.FAILED: TASKS}
    assert topics.count(dataset.dlq_topic) == 0


def test_awaiting_tasks_outlive_a_broker_restart_and_every_one_ends_accounted_for(
    stack, make_async_producer, topics: Topics
):
    producer = make_async_producer(kafka={"message.timeout.ms": "120000"})
    dataset = producer.catalog[DATASET]

    async def run() -> tuple[list[Any], LagProbe]:
        assert (await producer.produce(DATASET, order("warm"))).outcome is Outcome.PRODUCED
        with LagProbe() as probe:
            await asyncio.to_thread(stack.control, "stop", "kafka")
            try:
                tasks = [
                    asyncio.create_task(producer.produce(DATASET, order(f"K{i}", amount=float(i))))
                    for i in range(TASKS)
                ]
                await asyncio.sleep(2)  # awaiting with the broker down
                assert not any(task.done() for task in tasks)
            finally:
                await asyncio.to_thread(stack.control, "start", "kafka")
            results = await asyncio.wait_for(
                asyncio.gather(*tasks, return_exceptions=True), timeout=180
            )
        return results, probe

    results, probe = asyncio.run(run())

    print(f"\nbroker restarted under {TASKS} awaits: {_outcomes(results)}; {probe.summary()}")
    produced = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(e, KafkaDeliveryError) for e in failed), _outcomes(results)
    assert len(produced) + len(failed) == TASKS
    assert producer.counts[Outcome.PRODUCED] == len(produced) + 1
    assert producer.counts[Outcome.FAILED] == len(failed)
    stored = {(r.partition, r.offset): r.key for r in topics.read_all(dataset.raw_topic)}
    for i, result in enumerate(results):
        if not isinstance(result, BaseException):
            assert stored[result.partition, result.offset] == f"K{i}".encode()
    assert max(probe.lags) < LAG_BOUND_S, probe.summary()
