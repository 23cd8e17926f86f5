"""The command line: `scripts/bench [--scenario ...] [sizes] [--smoke] [--json PATH]`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchmark.contenders import CONTENDERS, DEFAULT_CONTENDERS
from benchmark.context import SMOKE, Context, Options, Sizes
from benchmark.payloads import PAYLOADS
from benchmark.process import worker_main
from benchmark.report import render
from benchmark.runner import run
from benchmark.scenarios import DEFAULT_SCENARIOS, SCENARIOS

SIZE_HELP = {
    "events": "throughput: events per contender",
    "repeat": "interleaved rounds; medians shown",
    "latency_events": "latency: sequential events per path",
    "rss_events": "rss: N (the CLI runs N and 10N lines)",
    "codec_events": "codec: events per path per round",
    "thread_events": "threads: events per run (shared out among the threads)",
    "threads": "threads: the many-threads count",
    "async_events": "asyncio: events per run",
    "tasks": "asyncio: concurrent await produce() tasks",
    "outage_s": "asyncio: seconds the tasks run with the broker stopped",
    "http_batch": "http: orders per batch request",
    "http_batch_requests": "http: batch requests",
    "http_connections": "http: connections for the batch endpoint",
    "http_stream_events": "http: N lines of the NDJSON stream (also run with 10N)",
    "http_requests": "http: single-event requests",
    "http_single_connections": "http: connections for single-event requests",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark StreamLake against the naive path and the ceiling, "
        "scenario by scenario, ratios side by side in one run (docs/benchmarks.md).",
    )
    p.add_argument(
        "--scenario",
        default=",".join(DEFAULT_SCENARIOS),
        help=f"comma-separated, or 'all': {', '.join(SCENARIOS)} (default: %(default)s)",
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes, 1 round: seconds per scenario")
    p.add_argument("--variants", default="orders,1k", help="payloads: orders, 1k")
    p.add_argument(
        "--contenders",
        default=",".join(DEFAULT_CONTENDERS),
        help=f"throughput contenders, of: {', '.join(CONTENDERS)} (default: %(default)s)",
    )
    for field in dataclasses.fields(Sizes):
        flag = "--" + field.name.replace("_", "-")
        kind = float if field.type == "float" else int
        p.add_argument(flag, type=kind, help=f"{SIZE_HELP[field.name]} (default {field.default})")
    p.add_argument("--profile", metavar="PATH", type=Path, help="cProfile the bulk path to PATH")
    p.add_argument("--json", metavar="PATH", type=Path, help="also write the report as JSON")
    p.add_argument("--keep-topics", action="store_true", help="do not delete the bench's topics")
    p.add_argument(
        "--baseline",
        metavar="DIR",
        type=Path,
        help="also run streamlake bulk and CLI with the package in DIR (a checkout's root, "
        "e.g. from `git archive REV streamlake | tar -x -C DIR`), side by side",
    )
    p.add_argument(
        "--broker-control",
        metavar="STACK_DIR",
        type=Path,
        help="asyncio: a scripts/stack dir of YOUR OWN stack (never a shared one): the bench "
        "stops and restarts its Kafka to measure the loop with the broker down",
    )
    p.add_argument(
        "--setup", action="store_true", help="install the HTTP load generator (hey) and exit"
    )
    p.add_argument("--worker", nargs=2, metavar=("FUNCTION", "SPEC"), help=argparse.SUPPRESS)
    return p


def options(args: argparse.Namespace, p: argparse.ArgumentParser) -> Options:
    base = SMOKE if args.smoke else Sizes()
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(Sizes)
        if getattr(args, f.name) is not None
    }
    variants = tuple(v for v in args.variants.split(",") if v)
    contenders = tuple(c for c in args.contenders.split(",") if c)
    for kind, chosen, known in (
        ("variant", variants, PAYLOADS),
        ("contender", contenders, CONTENDERS),
    ):
        unknown = set(chosen) - set(known)
        if unknown:
            p.error(f"unknown {kind}(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    return Options(
        sizes=dataclasses.replace(base, **given),
        variants=variants,
        contenders=contenders,
        baseline=args.baseline,
        profile=args.profile,
        keep_topics=args.keep_topics,
        broker_control=args.broker_control,
    )


def scenarios(text: str, p: argparse.ArgumentParser) -> list[str]:
    names = list(SCENARIOS) if text == "all" else [n for n in text.split(",") if n]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    return names


def setup() -> int:
    """The HTTP scenario's load generator, from Debian's packages (needs root)."""
    missing = [tool for tool in ("hey", "curl") if shutil.which(tool) is None]
    if not missing:
        print("bench setup: hey and curl are installed")
        return 0
    command = ["apt-get", "install", "-y", *missing]
    print(f"bench setup: {' '.join(command)}", file=sys.stderr)
    return subprocess.run(command, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.worker:
        return worker_main(*args.worker)
    if args.setup:
        return setup()
    names = scenarios(args.scenario, p)
    ctx = Context(options(args, p))
    try:
        report = run(ctx, names)
    finally:
        ctx.close()
    text = render(report)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({**report.as_dict(), "table": text}, indent=2) + "\n")
    return 0 if report.all_counted else 1
