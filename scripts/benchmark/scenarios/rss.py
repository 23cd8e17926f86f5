"""Memory: the CLI's peak RSS for N and 10N lines, and the rates once startup is amortized."""

from __future__ import annotations

from typing import ClassVar

from benchmark.contenders import cli_command, cli_env, naive_script_command
from benchmark.process import Run
from benchmark.results import Row, Summary
from benchmark.scenarios.base import PEAK_RSS, RATE, Column, Scenario, ratio, set_ratio


class RssScaling(Scenario):
    name = "rss"
    title = "peak RSS and rate vs input size (orders, from a file, process wall time)"
    columns: ClassVar[tuple[Column, ...]] = (
        Column("events", "events", ",.0f", 11),
        PEAK_RSS,
        RATE,
        Column("x naive", "x_naive", ".2f", 8),
    )
    max_rounds = 1

    def round(self, rep: int) -> list[Row]:
        small = self.ctx.sizes.rss_events
        rows = [self.cli(small, "N", rep), self.cli(small * 10, "10N", rep)]
        rows.append(self.naive_script(small * 10, rep))
        return rows

    def cli(self, n: int, label: str, rep: int) -> Row:
        broker = self.ctx.broker
        catalog, raw, dlq = broker.catalog(self.ctx.tmp, "orders", f"cli-{label}", f"r{rep}")
        file = self.ctx.jsonl("orders", n)
        run = Run(cli_command(self.ctx, "orders", catalog, file), env=cli_env(self.ctx))
        row = measured(f"streamlake CLI {label}", rep, n, run)
        row.counted, row.dlq_counted = broker.count(raw), broker.count(dlq)
        return row

    def naive_script(self, n: int, rep: int) -> Row:
        topic = self.ctx.broker.topic("orders", "naive-script-10N", f"r{rep}")
        file = self.ctx.jsonl("orders", n)
        row = measured(
            "naive script 10N", rep, n, Run(naive_script_command(self.ctx, "orders", topic, file))
        )
        row.counted = self.ctx.broker.count(topic)
        return row

    def derive(self, summaries: dict[str, Summary]) -> None:
        subject = "streamlake CLI 10N"
        if subject in summaries:
            vs_naive = ratio(summaries, subject, "naive script 10N", RATE.metric)
            set_ratio(summaries[subject], "x_naive", vs_naive)


def measured(subject: str, rep: int, n: int, run: Run) -> Row:
    """A file contender's Row: N / wall time and its peak RSS, or its error."""
    row = Row(subject=subject, rep=rep, expected=n)
    row.metrics = {"events": n, "peak_rss_mb": run.peak_rss_mb}
    if run.returncode == 0:
        row.metrics["events_per_s"] = n / run.wall_s
    else:
        row.error = f"exit {run.returncode}: {run.stderr[-2000:]}"
    return row
