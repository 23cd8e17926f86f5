"""The run's report: each scenario's medians, the targets, and their rendering."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmark.results import Row, Summary, metrics_of
from benchmark.scenarios.base import Column
from benchmark.targets import Verdict, evaluate_all


@dataclass(kw_only=True)
class ScenarioResult:
    name: str
    title: str
    columns: Sequence[Column] = ()
    each: str | None = None
    notes: Sequence[str] = ()
    summaries: dict[str, Summary] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    skipped: str | None = None
    """Why the scenario did not run, or None."""

    @property
    def all_counted(self) -> bool:
        return all(summary.ok for summary in self.summaries.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "skipped": self.skipped,
            "summary": [summary.as_dict() for summary in self.summaries.values()],
            "runs": [row.as_dict() for row in self.rows],
        }


def host_facts() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@dataclass(kw_only=True)
class Report:
    settings: dict[str, Any]
    versions: dict[str, str]
    results: list[ScenarioResult]
    date: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    host: dict[str, Any] = field(default_factory=host_facts)

    @property
    def verdicts(self) -> list[Verdict]:
        ran = {r.name: metrics_of(r.summaries) for r in self.results if r.skipped is None}
        return evaluate_all(ran)

    @property
    def all_counted(self) -> bool:
        return all(result.all_counted for result in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "host": self.host,
            "versions": self.versions,
            "settings": self.settings,
            "scenarios": {result.name: result.as_dict() for result in self.results},
            "targets": [verdict_dict(v) for v in self.verdicts],
            "all_events_counted": self.all_counted,
        }


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    target = verdict.target
    return {
        "scenario": verdict.scenario,
        "label": target.label,
        "bound": target.bound,
        "issue": target.issue,
        "info": target.info,
        "value": None if verdict.value is None else round(verdict.value, 3),
        "met": verdict.met,
    }


# --- rendering --------------------------------------------------------------------
SUBJECT_WIDTH = 40


def render(report: Report) -> str:
    lines = header(report)
    for result in report.results:
        lines += ["", *scenario_block(result)]
    lines += ["", *targets_block(report.verdicts), "", footer(report)]
    return "\n".join(lines)


def header(report: Report) -> list[str]:
    v, h, s = report.versions, report.host, report.settings
    load = " ".join(f"{x:.2f}" for x in h["load_avg_at_end"])
    return [
        f"StreamLake bench {report.date}  {h['cpus']} cpus  python {h['python']}  "
        + "  ".join(f"{name} {version}" for name, version in v.items()),
        f"median of {s['repeat']} interleaved round(s); load avg at end {load}",
    ]


def scenario_block(result: ScenarioResult) -> list[str]:
    if result.skipped is not None:
        return [f"{result.name}: skipped: {result.skipped}"]
    lines = [result.title, table_header(result.columns, result.each)]
    lines += [table_row(s, result.columns, result.each) for s in result.summaries.values()]
    return [*lines, *result.notes]


def table_header(columns: Iterable[Column], each: str | None) -> str:
    cells = [f"{'':{SUBJECT_WIDTH}}", *(f"{c.header:>{c.width}}" for c in columns)]
    cells.append(f"  {'counted back':13}")
    if each:
        cells.append("each run")
    return " ".join(cells).rstrip()


def table_row(summary: Summary, columns: Iterable[Column], each: str | None) -> str:
    cells = [f"{summary.subject:{SUBJECT_WIDTH}}"]
    cells += [cell(summary.medians.get(c.metric), c) for c in columns]
    cells.append(f"  {counted_back(summary):13}")
    if each:
        cells.append(" ".join(compact(x) for x in summary.each.get(each, [])))
    return " ".join(cells).rstrip()


def cell(value: float | None, column: Column) -> str:
    text = "-" if value is None else format(value, column.fmt)
    return f"{text:>{column.width}}"


def compact(value: float) -> str:
    """A run's value in a few characters (rates in thousands)."""
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.3g}"


def counted_back(summary: Summary) -> str:
    if summary.errors:
        return "FAILED"
    if summary.lost:
        return f"LOST {summary.lost:,}"
    if summary.dlq:
        return f"{summary.dlq:,} IN DLQ"
    return "all" if summary.produces else "-"


def targets_block(verdicts: Sequence[Verdict]) -> list[str]:
    if not verdicts:
        return ["targets: none for the scenarios run"]
    return ["targets (medians of this run)", *(verdict_line(v) for v in verdicts)]


def verdict_line(verdict: Verdict) -> str:
    target = verdict.target
    mark = {True: "met ", False: "MISS", None: "n/a "}[verdict.met]
    value = "not measured" if verdict.value is None else f"{verdict.value:.2f}"
    info = "(info) " if target.info else ""
    return f"  {mark}  {info}{target.label} {target.bound} (issue {target.issue}): {value}"


def footer(report: Report) -> str:
    if report.all_counted:
        return "every contender's records counted back from its topic"
    return "WARNING: some contender lost records, left some in its DLQ, or failed (see above)"
