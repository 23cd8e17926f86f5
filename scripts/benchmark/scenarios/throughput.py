"""Throughput: every contender of the table on each payload, rounds interleaved."""

from __future__ import annotations

import io
import pstats
from typing import ClassVar

from benchmark import work
from benchmark.contenders import Contender, selected
from benchmark.context import Context
from benchmark.process import run_worker
from benchmark.results import Row, Summary
from benchmark.scenarios.base import PEAK_RSS, RATE, Column, Scenario, ratio, set_ratio


class Throughput(Scenario):
    name = "throughput"
    title = "throughput: N events per contender, first produce to last ack (files: wall time)"
    columns: ClassVar[tuple[Column, ...]] = (
        RATE,
        Column("x naive", "x_naive", ".2f", 8),
        Column("x ceiling", "x_ceiling", ".2f", 9),
        PEAK_RSS,
    )
    each = "events_per_s"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.contenders: list[Contender] = selected(ctx)

    def round(self, rep: int) -> list[Row]:
        return [
            contender.run(variant, rep)
            for variant in self.ctx.options.variants
            for contender in self.contenders
        ]

    def derive(self, summaries: dict[str, Summary]) -> None:
        for variant in self.ctx.options.variants:
            for contender in self.contenders:
                subject = f"{variant}/{contender.name}"
                if subject not in summaries:
                    continue
                summary = summaries[subject]
                naive = f"{variant}/{contender.naive_subject}"
                vs_naive = ratio(summaries, subject, naive, RATE.metric)
                vs_ceiling = ratio(summaries, subject, f"{variant}/ceiling", RATE.metric)
                set_ratio(summary, "x_naive", vs_naive)
                set_ratio(summary, "x_ceiling", vs_ceiling)

    def notes(self) -> list[str]:
        return ["(naive script and streamlake CLI: N / process wall time; 'x naive' vs the script)"]

    def profile(self) -> str:
        """cProfile of the streamlake bulk path per payload: a separate run, since
        profiling slows Python code down (its rate is not reported)."""
        assert self.ctx.options.profile is not None
        text = ""
        for variant in self.ctx.options.variants:
            catalog, topic, _ = self.ctx.broker.catalog(self.ctx.tmp, variant, "profile")
            stats_file = self.ctx.tmp / f"bulk-{variant}.prof"
            n = self.ctx.sizes.events
            spec = self.ctx.spec(variant, topic, n, profile=str(stats_file), catalog=str(catalog))
            run_worker(work.bulk, spec).result()
            out = io.StringIO()
            pstats.Stats(str(stats_file), stream=out).sort_stats("tottime").print_stats(25)
            text += f"=== cProfile of streamlake bulk, {n:,} {variant} events\n{out.getvalue()}"
        self.ctx.options.profile.write_text(text)
        return text
