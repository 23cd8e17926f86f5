"""Single-event latency: produce-and-wait, the naive path beside StreamLake's."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from benchmark import work
from benchmark.payloads import PAYLOADS, events
from benchmark.process import Spec, run_worker
from benchmark.results import Row
from benchmark.scenarios.base import P50, P99, PEAK_RSS, Column, Scenario
from benchmark.stats import latency_ms

WARMUP = 100
NAIVE = "naive produce()+flush()"
STREAMLAKE = "streamlake produce()"


def alternate(spec: Spec) -> dict[str, Any]:
    """Worker: both paths in one process, alternating event by event, so a noisy
    neighbour hits both alike: naive produce()+flush() and streamlake's
    IngestionProducer.produce(), each waiting for the broker's ack. Who goes
    first swaps every event: the second of a pair meets a broker still busy
    with the first's request."""
    n = spec["events"]
    naive = work.naive_producer({**spec, "topic": spec["naive_topic"]})
    producer = work.streamlake_producer(spec)
    dataset = PAYLOADS[spec["variant"]].dataset

    def streamlake_one(event: dict[str, Any]) -> None:
        producer.produce(dataset, event)

    paths: dict[str, Callable[[dict[str, Any]], None]] = {
        NAIVE: naive.produce_and_wait,
        STREAMLAKE: streamlake_one,
    }
    samples: dict[str, list[int]] = {name: [] for name in paths}
    streams = {name: events(spec["variant"], n + WARMUP) for name in paths}
    clock = time.perf_counter_ns
    order = list(paths.items())
    for i in range(n + WARMUP):
        for name, one in order if i % 2 else order[::-1]:
            event = next(streams[name])
            t0 = clock()
            one(event)
            if i >= WARMUP:
                samples[name].append(clock() - t0)
    producer.close()
    return {name: latency_ms(values) for name, values in samples.items()}


class Latency(Scenario):
    name = "latency"
    title = "single-event produce-and-wait, orders, sequential, both paths alternating"
    columns: ClassVar[tuple[Column, ...]] = (
        P50,
        P99,
        Column("p99.9 ms", "p999_ms", ".2f", 8),
        Column("max ms", "max_ms", ".2f", 8),
        PEAK_RSS,
    )
    each = "p99_ms"

    def round(self, rep: int) -> list[Row]:
        broker, n = self.ctx.broker, self.ctx.sizes.latency_events
        naive_topic = broker.topic("orders", "latency-naive", f"r{rep}")
        catalog, topic, dlq = broker.catalog(
            self.ctx.tmp, "orders", "latency-streamlake", f"r{rep}"
        )
        spec = self.ctx.spec("orders", topic, n, catalog=str(catalog), naive_topic=naive_topic)
        run = run_worker(alternate, spec)
        error: str | None = None
        try:
            result = run.result()
        except RuntimeError as exc:
            result, error = {}, str(exc)
        peak_rss_mb = result.get("peak_rss_kib", 0) / 1024 or run.peak_rss_mb
        rows = []
        for subject, where in ((NAIVE, naive_topic), (STREAMLAKE, topic)):
            row = Row(subject=subject, rep=rep, expected=n + WARMUP, error=error)
            row.metrics = {**result.get(subject, {}), "peak_rss_mb": peak_rss_mb}
            row.counted = broker.count(where)
            if subject == STREAMLAKE:
                row.dlq_counted = broker.count(dlq)
            rows.append(row)
        return rows

    def notes(self) -> list[str]:
        n = self.ctx.sizes.latency_events
        return [f"({n:,} events per path per round, after {WARMUP} warm-up; RSS: both paths)"]
