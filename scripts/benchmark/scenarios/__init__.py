"""The scenarios, by the name `--scenario` selects them with (one table)."""

from __future__ import annotations

from benchmark.scenarios.async_tasks import AsyncTasks
from benchmark.scenarios.base import Scenario
from benchmark.scenarios.codec import CodecMicro
from benchmark.scenarios.http import Http
from benchmark.scenarios.latency import Latency
from benchmark.scenarios.rss import RssScaling
from benchmark.scenarios.threads import Threads
from benchmark.scenarios.throughput import Throughput

SCENARIOS: dict[str, type[Scenario]] = {
    scenario.name: scenario
    for scenario in (Throughput, Latency, RssScaling, CodecMicro, Threads, AsyncTasks, Http)
}
DEFAULT_SCENARIOS = ("throughput", "latency", "codec")
"""What a bare `scripts/bench` runs; the rest take longer or need more (see --help)."""
