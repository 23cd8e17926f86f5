"""The benchmark package's pure parts: medians, targets, the report, the command line.

Nothing here talks to a broker or times anything: these check that the bench
computes and prints what it measured correctly (scripts/benchmark/).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from benchmark import cli, naive, targets
from benchmark.contenders import CONTENDERS, DEFAULT_CONTENDERS
from benchmark.report import Report, ScenarioResult, render
from benchmark.results import Row, summarize
from benchmark.scenarios import DEFAULT_SCENARIOS, SCENARIOS
from benchmark.scenarios.async_tasks import LagMonitor
from benchmark.scenarios.base import RATE, Column
from benchmark.scenarios.http import hey_summary
from benchmark.targets import TARGETS, Target, evaluate

ROOT = Path(__file__).resolve().parents[2]


def rows(subject: str, rates: list[float], **extra: object) -> list[Row]:
    return [
        Row(subject=subject, rep=rep, metrics={"events_per_s": rate}, **extra)  # type: ignore[arg-type]
        for rep, rate in enumerate(rates)
    ]


def test_a_summary_holds_each_metrics_median_and_every_run():
    summary = summarize(rows("naive", [30.0, 10.0, 20.0]))["naive"]

    assert summary.medians == {"events_per_s": 20.0}
    assert summary.each == {"events_per_s": [30.0, 10.0, 20.0]}
    assert summary.runs == 3
    assert summary.ok


def test_a_run_that_lost_records_or_dead_lettered_them_is_not_ok():
    lost = Row(subject="bulk", rep=0, expected=100, counted=99)
    dead_lettered = Row(subject="bulk", rep=0, expected=100, counted=100, dlq_counted=1)
    failed = Row(subject="bulk", rep=0, error="exit 1")

    assert (lost.lost, lost.ok) == (1, False)
    assert not dead_lettered.ok
    assert not failed.ok
    assert Row(subject="bulk", rep=0, expected=100, counted=100, dlq_counted=0).ok


def test_a_ratio_target_divides_the_two_medians_and_compares_with_its_bound():
    target = Target(
        label="bulk vs naive",
        subject="bulk",
        metric="events_per_s",
        per=("naive", "events_per_s"),
        at_least=2.5,
        issue=10,
    )
    metrics = {"bulk": {"events_per_s": 250.0}, "naive": {"events_per_s": 100.0}}

    verdict = evaluate("throughput", target, metrics)

    assert verdict.value == pytest.approx(2.5)
    assert verdict.met is True
    metrics["bulk"]["events_per_s"] = 249.0
    assert evaluate("throughput", target, metrics).met is False


def test_an_absolute_target_at_most_compares_the_median_itself():
    target = Target(label="lag", subject="async", metric="lag_p99_ms", at_most=5.0, issue=11)

    assert evaluate("asyncio", target, {"async": {"lag_p99_ms": 4.9}}).met is True
    assert evaluate("asyncio", target, {"async": {"lag_p99_ms": 5.1}}).met is False


def test_a_target_whose_sides_were_not_measured_is_neither_met_nor_missed():
    target = TARGETS["threads"][0]

    verdict = evaluate("threads", target, {"many threads": {"events_per_s": 10.0}})

    assert verdict.value is None
    assert verdict.met is None


def test_a_target_takes_exactly_one_bound():
    with pytest.raises(ValueError, match="exactly one"):
        Target(label="x", subject="a", metric="m", at_least=1, at_most=2, issue=1)
    with pytest.raises(ValueError, match="exactly one"):
        Target(label="x", subject="a", metric="m", issue=1)


def test_every_target_belongs_to_a_scenario_of_the_table():
    assert set(TARGETS) <= set(SCENARIOS)
    assert {t.issue for ts in TARGETS.values() for t in ts} <= {10, 11, 12}


def test_evaluate_all_leaves_out_scenarios_and_targets_of_which_nothing_ran():
    measured = {"throughput": {"orders/ceiling": {"events_per_s": 100.0}}, "latency": {}}

    verdicts = targets.evaluate_all(measured)

    # Only the orders targets that compare with the ceiling: 1k and latency did not run.
    assert [v.target.label for v in verdicts] == [
        "orders: bulk vs ceiling",
        "orders: codec floor vs ceiling (the bound bulk can reach)",
    ]
    assert all(v.met is None for v in verdicts)


def report_of(*results: ScenarioResult) -> Report:
    return Report(
        settings={"repeat": 3},
        versions={"librdkafka": "2.16.0"},
        results=list(results),
        date="2026-12-01T21:00:00+00:00",
        host={"cpus": 2, "load_avg_at_end": (1.0, 1.0, 1.0), "python": "3.11.7"},
    )


def throughput_result(counted: int) -> ScenarioResult:
    runs = [
        *rows("orders/naive", [100.0, 120.0, 110.0], expected=10, counted=10),
        *rows("orders/streamlake bulk", [300.0, 280.0, 260.0], expected=10, counted=counted),
    ]
    summaries = summarize(runs)
    summaries["orders/streamlake bulk"].medians["x_naive"] = 280.0 / 110.0
    return ScenarioResult(
        name="throughput",
        title="throughput title",
        columns=(RATE, Column("x naive", "x_naive", ".2f", 8)),
        each="events_per_s",
        notes=("a note",),
        summaries=summaries,
        rows=runs,
    )


def test_the_report_shows_each_subjects_median_ratio_runs_and_the_targets():
    text = render(report_of(throughput_result(counted=10)))
    lines = text.splitlines()

    bulk = next(line for line in lines if line.startswith("orders/streamlake bulk"))
    assert bulk.split()[2:6] == ["280", "2.55", "all", "300"]
    assert "a note" in lines
    assert "  met   orders: bulk vs naive >= 2.5x (issue 10): 2.55" in lines
    assert "  n/a   orders: bulk vs ceiling >= 0.6x (issue 10): not measured" in lines
    assert lines[-1] == "every contender's records counted back from its topic"


def test_the_report_flags_lost_records_and_warns_at_the_end():
    report = report_of(throughput_result(counted=9))
    text = render(report)

    assert "LOST 3" in text
    assert not report.all_counted
    assert text.splitlines()[-1].startswith("WARNING")
    assert report.as_dict()["all_events_counted"] is False


def test_a_skipped_scenario_says_why_in_the_report():
    skipped = ScenarioResult(name="http", title="HTTP", skipped="no `serve` command yet")

    text = render(report_of(skipped))

    assert "http: skipped: no `serve` command yet" in text
    assert report_of(skipped).as_dict()["scenarios"]["http"]["skipped"] == "no `serve` command yet"


def test_hey_csv_is_summed_up_into_rate_percentiles_and_non_200_answers():
    header = (
        "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset"
    )
    lines = [header] + [f"0.010,0,0,0,0,0,{200 if i else 503},{i * 0.01:.2f}" for i in range(100)]

    summary = hey_summary("\n".join(lines))

    assert summary["requests"] == 100
    assert summary["ok"] == 99
    assert summary["elapsed_s"] == pytest.approx(1.0)
    assert summary["requests_per_s"] == pytest.approx(100.0)
    assert summary["p99_ms"] == pytest.approx(10.0)


def test_the_naive_producer_is_a_module_that_runs_as_a_script_on_its_own():
    assert naive.NaiveProducer.produce_and_wait
    # -S -I would drop confluent-kafka; -I alone keeps site-packages but not scripts/.
    done = subprocess.run(
        [sys.executable, "-I", naive.__file__, "--help"], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert "--bootstrap" in done.stdout


def test_the_command_line_turns_flags_into_sizes_and_smoke_into_small_ones():
    p = cli.parser()

    chosen = cli.options(p.parse_args(["--smoke", "--events", "7", "--variants", "orders"]), p)

    assert chosen.sizes.events == 7
    assert chosen.sizes.repeat == 1
    assert chosen.variants == ("orders",)
    assert chosen.contenders == DEFAULT_CONTENDERS


def test_an_unknown_scenario_or_contender_is_a_usage_error(capsys):
    p = cli.parser()

    with pytest.raises(SystemExit) as exited:
        cli.scenarios("throughput,nope", p)
    assert exited.value.code == 2
    assert "unknown scenario(s) nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.options(p.parse_args(["--contenders", "ceiling,cavro"]), p)
    assert "unknown contender(s) cavro" in capsys.readouterr().err


def test_the_tables_name_each_scenario_and_contender_once():
    assert all(name == scenario.name for name, scenario in SCENARIOS.items())
    assert set(DEFAULT_SCENARIOS) <= set(SCENARIOS)
    assert set(DEFAULT_CONTENDERS) <= set(CONTENDERS)
    labels = [contender.label for contender in CONTENDERS.values()]
    assert len(labels) == len(set(labels))


def test_scripts_bench_help_lists_the_scenarios():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in SCENARIOS)


def test_the_lag_monitor_reports_its_p99_maximum_and_spikes_above_100_ms():
    monitor = LagMonitor()
    monitor.samples_ms = [0.5] * 98 + [150.0, 101.0]

    lag = monitor.stop()

    assert lag == {"lag_p99_ms": 150.0, "lag_max_ms": 150.0, "lag_spikes": 2.0}


def test_every_target_names_subjects_its_scenario_measures():
    from benchmark.scenarios import async_tasks, http, latency, threads

    measured = {
        "latency": {latency.NAIVE, latency.STREAMLAKE},
        "rss": {"streamlake CLI N", "streamlake CLI 10N", "naive script 10N"},
        "threads": {threads.ONE, threads.MANY},
        "asyncio": {async_tasks.SYNC, async_tasks.ASYNC, async_tasks.OUTAGE},
        "http": {
            http.LIBRARY,
            http.BATCH,
            http.STREAM_N,
            http.STREAM_10N,
            http.CLI_10N,
            http.SINGLE.format(1, ""),
        },
    }
    labels = {contender.label for contender in CONTENDERS.values()}
    measured["throughput"] = {f"{v}/{label}" for v in ("orders", "1k") for label in labels}

    for scenario, targets_of in TARGETS.items():
        for target in targets_of:
            sides = {target.subject} | ({target.per[0]} if target.per else set())
            assert sides <= measured[scenario], (scenario, target.label)


FAKE_WORKER = """
import json, sys
print("ready", flush=True)
assert sys.stdin.readline() == "go\\n"
print(json.dumps({"outcomes": {}, "lag_spikes": 0.0}))
"""


def test_the_broker_is_stopped_between_ready_and_go_and_started_again(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from benchmark.scenarios import async_tasks

    calls: list[str] = []
    script = tmp_path / "worker.py"
    script.write_text(FAKE_WORKER)
    monkeypatch.setattr(async_tasks, "worker_command", lambda *_: [sys.executable, str(script)])
    ctx = SimpleNamespace(options=SimpleNamespace(broker_control=tmp_path))
    scenario = async_tasks.AsyncTasks(ctx)  # type: ignore[arg-type]
    monkeypatch.setattr(scenario, "stack", calls.append)

    result = scenario.run_with_broker_stopped({"outage_s": 1})

    assert result == {"outcomes": {}, "lag_spikes": 0.0}
    assert calls == ["stop", "start"]


def test_a_worker_that_never_gets_ready_leaves_the_broker_alone(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from benchmark.scenarios import async_tasks

    calls: list[str] = []
    monkeypatch.setattr(
        async_tasks, "worker_command", lambda *_: [sys.executable, "-c", "raise SystemExit(3)"]
    )
    ctx = SimpleNamespace(options=SimpleNamespace(broker_control=tmp_path))
    scenario = async_tasks.AsyncTasks(ctx)  # type: ignore[arg-type]
    monkeypatch.setattr(scenario, "stack", calls.append)

    with pytest.raises(RuntimeError, match="did not get ready"):
        scenario.run_with_broker_stopped({"outage_s": 1})
    assert calls == []
