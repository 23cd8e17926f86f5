"""What every scenario is: rounds of rows, a table's columns, derived ratios."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from benchmark import work
from benchmark.context import Context
from benchmark.process import Worker, run_worker
from benchmark.results import Row, Summary


@dataclass(frozen=True)
class Column:
    """One column of a scenario's table: a metric's median, formatted."""

    header: str
    metric: str
    fmt: str = ",.0f"
    width: int = 10


RATE = Column("events/s", "events_per_s")
PEAK_RSS = Column("peak RSS MB", "peak_rss_mb", ".0f", 11)
P50 = Column("p50 ms", "p50_ms", ".2f", 8)
P99 = Column("p99 ms", "p99_ms", ".2f", 8)


class Scenario:
    """One scenario: `round(rep)` measures each of its subjects once."""

    name: ClassVar[str]
    title: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    each: ClassVar[str | None] = None
    """The metric listed run by run beside the median (None: none)."""
    max_rounds: ClassVar[int | None] = None
    """Rounds at most, whatever --repeat says (None: --repeat)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def unavailable(self) -> str | None:
        """Why this scenario cannot run here (it is then skipped, saying so), or None."""
        return None

    def round(self, rep: int) -> list[Row]:
        raise NotImplementedError

    def derive(self, summaries: dict[str, Summary]) -> None:
        """Add ratio metrics computed from the medians (default: none)."""

    def notes(self) -> list[str]:
        """Lines printed under the table: how to read it."""
        return []


def ratio(summaries: dict[str, Summary], subject: str, base: str, metric: str) -> float | None:
    """`subject`'s median `metric` over `base`'s, or None when either is missing."""
    top = summaries.get(subject)
    bottom = summaries.get(base)
    if top is None or bottom is None:
        return None
    a, b = top.medians.get(metric), bottom.medians.get(metric)
    return a / b if a is not None and b else None


def set_ratio(summary: Summary, name: str, value: float | None) -> None:
    if value is not None:
        summary.medians[name] = value


def streamlake_row(
    ctx: Context,
    subject: str,
    rep: int,
    *,
    slug: str,
    n: int,
    worker: Worker = work.bulk,
    **extra: object,
) -> Row:
    """`worker` (streamlake bulk by default) on `n` orders into a fresh catalog:
    its Row with the rate and the worker's result, counted back."""
    catalog, raw, dlq = ctx.broker.catalog(ctx.tmp, "orders", slug, f"r{rep}")
    run = run_worker(worker, ctx.spec("orders", raw, n, catalog=str(catalog), **extra))
    row = Row(subject=subject, rep=rep, expected=n)
    try:
        row.detail = run.result()
        row.metrics["events_per_s"] = n / row.detail["elapsed_s"]
    except RuntimeError as exc:
        row.error = str(exc)
    row.counted, row.dlq_counted = ctx.broker.count(raw), ctx.broker.count(dlq)
    return row
