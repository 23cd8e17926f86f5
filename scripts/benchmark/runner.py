"""One bench run: every selected scenario, round after round, then the report."""

from __future__ import annotations

from benchmark.context import Context, log
from benchmark.report import Report, ScenarioResult
from benchmark.results import Row, summarize
from benchmark.scenarios import SCENARIOS
from benchmark.scenarios.base import Scenario
from benchmark.scenarios.throughput import Throughput


def run(ctx: Context, names: list[str]) -> Report:
    """Round r runs every scenario's round r, so rounds interleave across
    scenarios too; the report holds each subject's medians."""
    scenarios = [SCENARIOS[name](ctx) for name in names]
    skipped = {s.name: reason for s in scenarios if (reason := s.unavailable()) is not None}
    for name, reason in skipped.items():
        log(f"{name}: skipped: {reason}")
    active = [s for s in scenarios if s.name not in skipped]
    rows: dict[str, list[Row]] = {s.name: [] for s in active}
    for rep in range(ctx.sizes.repeat):
        for scenario in active:
            if scenario.max_rounds is None or rep < scenario.max_rounds:
                for row in scenario.round(rep):
                    log_row(scenario.name, row)
                    rows[scenario.name].append(row)
    results = [result(s, rows.get(s.name, []), skipped.get(s.name)) for s in scenarios]
    report = Report(settings=settings(ctx, names), versions=versions(), results=results)
    profile(ctx, active)
    return report


def result(scenario: Scenario, rows: list[Row], skipped: str | None) -> ScenarioResult:
    summaries = summarize(rows)
    scenario.derive(summaries)
    return ScenarioResult(
        name=scenario.name,
        title=scenario.title,
        columns=scenario.columns,
        each=scenario.each,
        notes=scenario.notes() if skipped is None else (),
        summaries=summaries,
        rows=rows,
        skipped=skipped,
    )


def profile(ctx: Context, active: list[Scenario]) -> None:
    if ctx.options.profile is None:
        return
    for scenario in active:
        if isinstance(scenario, Throughput):
            scenario.profile()
            log(f"profile of the bulk path written to {ctx.options.profile}")


def log_row(scenario: str, row: Row) -> None:
    shown = ", ".join(f"{k} {v:,.2f}" for k, v in row.metrics.items())
    counted = "" if row.counted is None else f"  counted {row.counted:,}"
    flag = "" if row.ok else f"  <-- {'FAILED: ' + row.error[:300] if row.error else 'LOST'}"
    log(f"  {scenario} r{row.rep} {row.subject}: {shown}{counted}{flag}")


def settings(ctx: Context, names: list[str]) -> dict[str, object]:
    from dataclasses import asdict

    from benchmark.settings import PARTITIONS, PRODUCER_CONF

    return {
        **asdict(ctx.sizes),
        "scenarios": names,
        "variants": list(ctx.options.variants),
        "contenders": list(ctx.options.contenders),
        "partitions": PARTITIONS,
        "producer_conf": PRODUCER_CONF,
    }


def versions() -> dict[str, str]:
    import confluent_kafka
    import fastavro

    return {
        "confluent-kafka": str(confluent_kafka.__version__),
        "librdkafka": str(confluent_kafka.libversion()[0]),
        "fastavro": str(fastavro.__version__),
    }
