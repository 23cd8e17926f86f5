"""The targets, as data: a table keyed by scenario, and their evaluation.

A target compares one median (`subject`'s `metric`) either with a bound
(`at_least` / `at_most`) or, when `per` names another subject's metric of the
same scenario, the ratio of the two medians with that bound. `issue` is where
the target was set. Rows marked `info` are shown beside the targets but are
not claims (e.g. a floor: the bound a path can reach at best).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from benchmark.results import Metrics


@dataclass(frozen=True, kw_only=True)
class Target:
    label: str
    subject: str
    metric: str
    per: tuple[str, str] | None = None
    at_least: float | None = None
    at_most: float | None = None
    issue: int
    info: bool = False

    def __post_init__(self) -> None:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError(f"target {self.label!r}: give exactly one of at_least, at_most")

    @property
    def bound(self) -> str:
        op, value = (">=", self.at_least) if self.at_least is not None else ("<=", self.at_most)
        return f"{op} {value:g}{'x' if self.per else ''}"


@dataclass(frozen=True)
class Verdict:
    scenario: str
    target: Target
    value: float | None
    """The measured median or ratio; None when a side was not measured."""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        if self.target.at_least is not None:
            return self.value >= self.target.at_least
        assert self.target.at_most is not None
        return self.value <= self.target.at_most


def _bulk(variant: str, naive: float, ceiling: float) -> tuple[Target, ...]:
    subject = f"{variant}/streamlake bulk"
    return (
        Target(
            label=f"{variant}: bulk vs naive",
            subject=subject,
            metric="events_per_s",
            per=(f"{variant}/naive", "events_per_s"),
            at_least=naive,
            issue=10,
        ),
        Target(
            label=f"{variant}: bulk vs ceiling",
            subject=subject,
            metric="events_per_s",
            per=(f"{variant}/ceiling", "events_per_s"),
            at_least=ceiling,
            issue=10,
        ),
        Target(
            label=f"{variant}: codec floor vs ceiling (the bound bulk can reach)",
            subject=f"{variant}/codec floor",
            metric="events_per_s",
            per=(f"{variant}/ceiling", "events_per_s"),
            at_least=ceiling,
            issue=10,
            info=True,
        ),
        Target(
            label=f"{variant}: CLI vs naive script",
            subject=f"{variant}/streamlake CLI",
            metric="events_per_s",
            per=(f"{variant}/naive script", "events_per_s"),
            at_least=2.5,
            issue=10,
        ),
    )


TARGETS: dict[str, tuple[Target, ...]] = {
    "throughput": (*_bulk("orders", naive=2.5, ceiling=0.6), *_bulk("1k", naive=3.0, ceiling=0.5)),
    "latency": (
        Target(
            label="single-event p99 vs naive p99",
            subject="streamlake produce()",
            metric="p99_ms",
            per=("naive produce()+flush()", "p99_ms"),
            at_most=1.0,
            issue=10,
        ),
    ),
    "rss": (
        Target(
            label="CLI peak RSS, 10x the events",
            subject="streamlake CLI 10N",
            metric="peak_rss_mb",
            per=("streamlake CLI N", "peak_rss_mb"),
            at_most=1.2,
            issue=10,
        ),
    ),
    "threads": (
        Target(
            label="many threads vs 1 thread, aggregate events/s",
            subject="many threads",
            metric="events_per_s",
            per=("1 thread", "events_per_s"),
            at_least=8.0,
            issue=11,
        ),
        Target(
            label="many threads vs 1 thread, p99 per call",
            subject="many threads",
            metric="p99_ms",
            per=("1 thread", "p99_ms"),
            at_most=5.0,
            issue=11,
        ),
    ),
    "asyncio": (
        Target(
            label="async tasks vs sync bulk, events/s",
            subject="async produce() tasks",
            metric="events_per_s",
            per=("sync bulk", "events_per_s"),
            at_least=0.5,
            issue=11,
        ),
        Target(
            label="event-loop lag p99 while producing (ms)",
            subject="async produce() tasks",
            metric="lag_p99_ms",
            at_most=5.0,
            issue=11,
        ),
        Target(
            label="event-loop lag spikes > 100 ms, broker stopped",
            subject="async, broker stopped",
            metric="lag_spikes",
            at_most=0,
            issue=11,
        ),
    ),
    "http": (
        Target(
            label="batch endpoint vs library bulk, events/s",
            subject="http batch",
            metric="events_per_s",
            per=("library bulk", "events_per_s"),
            at_least=0.6,
            issue=12,
        ),
        Target(
            label="NDJSON stream vs CLI on the same lines, events/s",
            subject="http stream 10N",
            metric="events_per_s",
            per=("streamlake CLI 10N", "events_per_s"),
            at_least=0.7,
            issue=12,
        ),
        Target(
            label="server peak RSS, NDJSON stream of 10x the events",
            subject="http stream 10N",
            metric="server_rss_mb",
            per=("http stream N", "server_rss_mb"),
            at_most=1.2,
            issue=12,
        ),
        Target(
            label="single-event requests/s, 1 worker",
            subject="http single, 1 worker",
            metric="requests_per_s",
            at_least=5000,
            issue=12,
        ),
        Target(
            label="single-event p99 (ms), 1 worker",
            subject="http single, 1 worker",
            metric="p99_ms",
            at_most=50,
            issue=12,
        ),
    ),
}


def evaluate(scenario: str, target: Target, metrics: Metrics) -> Verdict:
    value = _median(metrics, target.subject, target.metric)
    if value is not None and target.per is not None:
        base = _median(metrics, *target.per)
        value = value / base if base else None
    return Verdict(scenario, target, value)


def evaluate_all(measured: Mapping[str, Metrics]) -> list[Verdict]:
    """Every target of every scenario that ran, in the table's order, except
    those of which no side ran at all (a payload or contender not selected)."""
    return [
        evaluate(scenario, target, measured[scenario])
        for scenario, targets in TARGETS.items()
        if scenario in measured
        for target in targets
        if any(subject in measured[scenario] for subject in _subjects(target))
    ]


def _subjects(target: Target) -> tuple[str, ...]:
    return (target.subject,) if target.per is None else (target.subject, target.per[0])


def _median(metrics: Metrics, subject: str, metric: str) -> float | None:
    return metrics.get(subject, {}).get(metric)
