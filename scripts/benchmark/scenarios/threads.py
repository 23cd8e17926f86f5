"""Threads: many threads calling produce() on one IngestionProducer vs one thread."""

from __future__ import annotations

import resource
import threading
import time
from typing import Any, ClassVar

from benchmark import work
from benchmark.payloads import PAYLOADS, events
from benchmark.process import Spec
from benchmark.results import Row
from benchmark.scenarios.base import P50, P99, RATE, Column, Scenario, streamlake_row
from benchmark.stats import latency_ms

ONE, MANY = "1 thread", "many threads"


def threaded(spec: Spec) -> dict[str, Any]:
    """Worker: `threads` threads share one producer, each calling produce() on
    its share of the events, one after the other; aggregate events/s over the
    wall time from the common start to the last thread's end, and each call's
    latency."""
    n, threads = spec["events"], spec["threads"]
    producer = work.streamlake_producer(spec)
    dataset = PAYLOADS[spec["variant"]].dataset
    work.streamlake_ready(producer, spec["topic"])
    stream = list(events(spec["variant"], n))
    shares = [stream[i::threads] for i in range(threads)]
    samples: list[list[int]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def run(share: list[dict[str, Any]], mine: list[int]) -> None:
        clock, produce = time.perf_counter_ns, producer.produce
        start.wait()
        for event in share:
            t0 = clock()
            result = produce(dataset, event)
            mine.append(clock() - t0)
            with lock:
                outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1

    pool = [threading.Thread(target=run, args=pair) for pair in zip(shares, samples, strict=True)]
    for thread in pool:
        thread.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    producer.close()
    calls = [sample for mine in samples for sample in mine]
    # The whole process (callers, poll thread, librdkafka's threads): what
    # the two cores, which the broker shares, pay per event.
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "elapsed_s": elapsed,
        "outcomes": outcomes,
        "cpu_us_per_event": cpu_s / n * 1e6,
        **latency_ms(calls),
    }


class Threads(Scenario):
    name = "threads"
    title = "threads calling produce() on one producer (orders), each call waits for its ack"
    columns: ClassVar[tuple[Column, ...]] = (
        Column("threads", "threads", ".0f", 8),
        RATE,
        P50,
        P99,
        Column("max ms", "max_ms", ".1f", 8),
        Column("CPU us/event", "cpu_us_per_event", ".0f", 12),
    )
    each = "events_per_s"

    def round(self, rep: int) -> list[Row]:
        return [self.measure(ONE, 1, rep), self.measure(MANY, self.ctx.sizes.threads, rep)]

    def measure(self, subject: str, threads: int, rep: int) -> Row:
        n = self.ctx.sizes.thread_events
        row = streamlake_row(
            self.ctx, subject, rep, slug=f"threads-{threads}", n=n, worker=threaded, threads=threads
        )
        row.metrics.update(
            {k: v for k, v in row.detail.items() if k.endswith("_ms") or k.startswith("cpu_")}
        )
        row.metrics["threads"] = threads
        return row

    def notes(self) -> list[str]:
        n, threads = self.ctx.sizes.thread_events, self.ctx.sizes.threads
        return [
            f"({n:,} events per run, shared out among 1 or {threads} threads; CPU: the "
            "producing process's user+system time per event, all its threads)"
        ]
