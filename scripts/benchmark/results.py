"""What a scenario measures: one Row per subject per round, and their medians.

A subject is one contender in one setting ("orders/streamlake bulk",
"16 threads"). Each round measures every subject of a scenario once, so
rounds interleave; the summary holds each metric's median over the rounds.
A row that produced records says how many it expected and how many were
counted back from its topic: a run that lost any is not ok, whatever its rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmark.stats import median

Metrics = dict[str, dict[str, float]]
"""subject -> metric -> median value: what targets are evaluated on."""


@dataclass(kw_only=True)
class Row:
    subject: str
    rep: int
    metrics: dict[str, float] = field(default_factory=dict)
    expected: int | None = None
    """Records this run should have left in its topic (None: it produces none)."""
    counted: int | None = None
    dlq_counted: int | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        if self.expected is None or self.counted is None:
            return 0
        return self.expected - self.counted

    @property
    def ok(self) -> bool:
        return self.error is None and self.lost == 0 and not self.dlq_counted

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lost": self.lost, "ok": self.ok}


@dataclass(kw_only=True)
class Summary:
    subject: str
    runs: int
    medians: dict[str, float]
    each: dict[str, list[float]]
    lost: int
    dlq: int
    errors: list[str]
    produces: bool
    """Its runs produce records (and so were counted back)."""

    @property
    def ok(self) -> bool:
        return not self.errors and self.lost == 0 and self.dlq == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def summarize(rows: Iterable[Row]) -> dict[str, Summary]:
    """Each subject's medians over its rounds, subjects in order of first appearance."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.subject, []).append(row)
    return {subject: _summary(subject, runs) for subject, runs in grouped.items()}


def _summary(subject: str, runs: list[Row]) -> Summary:
    each: dict[str, list[float]] = {}
    for row in runs:
        for name, value in row.metrics.items():
            each.setdefault(name, []).append(value)
    return Summary(
        subject=subject,
        runs=len(runs),
        medians={name: median(values) for name, values in each.items()},
        each=each,
        lost=sum(row.lost for row in runs),
        dlq=sum(row.dlq_counted or 0 for row in runs),
        errors=[row.error for row in runs if row.error],
        produces=any(row.expected is not None for row in runs),
    )


def metrics_of(summaries: dict[str, Summary]) -> Metrics:
    return {subject: summary.medians for subject, summary in summaries.items()}
