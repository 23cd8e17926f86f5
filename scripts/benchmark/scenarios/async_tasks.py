"""asyncio: AsyncIngestionProducer under many concurrent `await produce()` tasks.

Beside the sync bulk rate of the same round: the async producer's events/s
with `tasks` concurrent awaits, and the event loop's lag meanwhile (a ticker
that asks to wake every 5 ms and records how late it woke). With
`--broker-control STACK_DIR` also the loop's lag while Kafka is stopped
(scripts/stack stop kafka in that stack dir) and every await runs into the
delivery timeout: the spikes above 100 ms are counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from benchmark import work
from benchmark.context import Context, log
from benchmark.payloads import PAYLOADS, events
from benchmark.process import Spec, run_worker, worker_command
from benchmark.results import Row
from benchmark.scenarios.base import RATE, Column, Scenario, streamlake_row
from benchmark.settings import ROOT
from benchmark.stats import percentile

TICK_S = 0.005
SPIKE_MS = 100.0
SYNC, ASYNC, OUTAGE = "sync bulk", "async produce() tasks", "async, broker stopped"


class LagMonitor:
    """How late the loop runs a task that asks to wake every TICK_S."""

    def __init__(self) -> None:
        self.samples_ms: list[float] = []
        self._running = True

    async def run(self) -> None:
        clock = time.perf_counter
        while self._running:
            before = clock()
            await asyncio.sleep(TICK_S)
            self.samples_ms.append((clock() - before - TICK_S) * 1000)

    def stop(self) -> dict[str, float]:
        self._running = False
        ordered = sorted(self.samples_ms) or [0.0]
        return {
            "lag_p99_ms": percentile(ordered, 99),
            "lag_max_ms": ordered[-1],
            "lag_spikes": float(sum(1 for lag in ordered if lag > SPIKE_MS)),
        }


async def _produce_tasks(spec: Spec) -> dict[str, Any]:
    from streamlake import AsyncIngestionProducer  # type: ignore[attr-defined, unused-ignore]

    dataset = PAYLOADS[spec["variant"]].dataset
    stream = events(spec["variant"], spec["events"])
    outcomes: dict[str, int] = {}
    errors: dict[str, int] = {}
    producer = AsyncIngestionProducer(work.streamlake_config(spec))
    work.streamlake_ready(producer, spec["topic"])
    if spec.get("outage_s"):  # the parent stops Kafka, then says go
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async def one_task() -> None:
        for event in stream:  # tasks take turns at the one shared generator
            try:
                result = await producer.produce(dataset, event)
                outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            except Exception as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    monitor = LagMonitor()
    ticker = asyncio.create_task(monitor.run())
    started = time.perf_counter()
    tasks = [asyncio.create_task(one_task()) for _ in range(spec["tasks"])]
    _, pending = await asyncio.wait(tasks, timeout=spec.get("outage_s"))
    elapsed = time.perf_counter() - started
    lag = monitor.stop()
    await ticker
    for task in pending:
        task.cancel()
    left = await producer.close(timeout=5.0 if spec.get("outage_s") else 30.0)
    return {
        "elapsed_s": elapsed,
        "outcomes": outcomes,
        "errors": errors,
        "pending_tasks": len(pending),
        "not_flushed": left,
        **lag,
    }


def produce_tasks(spec: Spec) -> dict[str, Any]:
    """Worker: the asyncio scenario's one run."""
    return asyncio.run(_produce_tasks(spec))


def async_producer_missing() -> str | None:
    import streamlake

    if not hasattr(streamlake, "AsyncIngestionProducer"):
        return "streamlake has no AsyncIngestionProducer yet (branch engine)"
    return None


class AsyncTasks(Scenario):
    name = "asyncio"
    title = "AsyncIngestionProducer, concurrent `await produce()` tasks, beside sync bulk (orders)"
    columns: ClassVar[tuple[Column, ...]] = (
        RATE,
        Column("lag p99 ms", "lag_p99_ms", ".2f", 10),
        Column("lag max ms", "lag_max_ms", ".1f", 10),
        Column("spikes>100ms", "lag_spikes", ".0f", 12),
    )
    each = "events_per_s"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.control = ctx.options.broker_control

    def unavailable(self) -> str | None:
        return async_producer_missing()

    def round(self, rep: int) -> list[Row]:
        rows = [self.sync_bulk(rep), self.async_tasks(ASYNC, rep)]
        if rep > 0:  # the outage once: a Kafka restart per round costs more than it tells
            return rows
        reason = self.outage_unavailable()
        if reason is None:
            rows.append(self.async_tasks(OUTAGE, rep))
        else:
            log(f"asyncio: no broker-stopped row: {reason}")
        return rows

    def sync_bulk(self, rep: int) -> Row:
        return streamlake_row(self.ctx, SYNC, rep, slug="async-sync", n=self.ctx.sizes.async_events)

    def async_tasks(self, subject: str, rep: int) -> Row:
        broker, sizes = self.ctx.broker, self.ctx.sizes
        outage = subject == OUTAGE
        n = sizes.tasks if outage else sizes.async_events
        slug = "async-outage" if outage else "async"
        catalog, raw, dlq = broker.catalog(self.ctx.tmp, "orders", slug, f"r{rep}")
        spec = self.ctx.spec("orders", raw, n, catalog=str(catalog), tasks=sizes.tasks)
        row = Row(subject=subject, rep=rep)
        try:
            if outage:
                spec["outage_s"] = sizes.outage_s
                row.detail = self.run_with_broker_stopped(spec)
            else:
                row.detail = run_worker(produce_tasks, spec).result()
        except (RuntimeError, subprocess.SubprocessError) as exc:
            row.error = str(exc)
        row.metrics = {k: v for k, v in row.detail.items() if k.startswith("lag_")}
        if not outage and "elapsed_s" in row.detail:
            row.metrics["events_per_s"] = n / row.detail["elapsed_s"]
        if not outage and row.detail.get("errors"):
            row.error = f"awaits failed with the broker up: {row.detail['errors']}"
        # Every event with the broker up; with it stopped, what the tasks were
        # told was produced: in the topic, no more, no less.
        row.expected = row.detail.get("outcomes", {}).get("produced", 0) if outage else n
        row.counted, row.dlq_counted = broker.count(raw), broker.count(dlq)
        return row

    def outage_unavailable(self) -> str | None:
        """Why the broker cannot be stopped for this run, or None."""
        if self.control is None:
            return "pass --broker-control STACK_DIR (a stack of your own, never a shared one)"
        env_file = self.control / "env"
        if not env_file.is_file():
            return f"{env_file} does not exist (is {self.control} a scripts/stack dir?)"
        if f"STREAMLAKE_BOOTSTRAP_SERVERS={self.ctx.bootstrap}" not in env_file.read_text():
            return f"{env_file} is not the stack at {self.ctx.bootstrap}, which this run uses"
        return None

    def run_with_broker_stopped(self, spec: Spec) -> dict[str, Any]:
        """The worker connects, Kafka is stopped, the tasks run, Kafka is started again."""
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                worker_command(produce_tasks, spec),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
            assert proc.stdin is not None and proc.stdout is not None
            stopped = False
            try:
                if proc.stdout.readline().strip() != "ready":
                    raise RuntimeError("the asyncio worker did not get ready")
                self.stack("stop")
                stopped = True
                proc.stdin.write("go\n")
                proc.stdin.flush()
                out, _ = proc.communicate(timeout=spec["outage_s"] + 120)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                if stopped:
                    self.stack("start")
            if proc.returncode != 0:
                err.seek(0)
                raise RuntimeError(f"exit {proc.returncode}: {err.read()[-3000:].decode()}")
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result

    def stack(self, action: str) -> None:
        env = {**os.environ, "STREAMLAKE_STACK_DIR": str(self.control)}
        log(f"asyncio: scripts/stack {action} kafka (STREAMLAKE_STACK_DIR={self.control})")
        stack = Path(ROOT / "scripts" / "stack")
        subprocess.run([sys.executable, str(stack), action, "kafka"], env=env, check=True)

    def notes(self) -> list[str]:
        sizes = self.ctx.sizes
        return [
            f"({sizes.async_events:,} events per run, {sizes.tasks:,} concurrent tasks; lag: how "
            f"late a {TICK_S * 1000:.0f} ms ticker woke; broker stopped: {sizes.tasks:,} awaits "
            f"for up to {sizes.outage_s:.0f} s)"
        ]
