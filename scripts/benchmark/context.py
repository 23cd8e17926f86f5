"""The parent's state for one bench run: options, sizes, the broker, temp files."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.broker import Broker, stack_env
from benchmark.payloads import write_jsonl
from benchmark.process import Spec


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """How much each scenario does; `scripts/bench --smoke` makes all of it small."""

    events: int = 200_000
    repeat: int = 3
    latency_events: int = 10_000
    rss_events: int = 200_000
    codec_events: int = 20_000
    thread_events: int = 16_000
    threads: int = 16
    async_events: int = 100_000
    tasks: int = 1_000
    outage_s: float = 40.0
    http_batch: int = 500
    http_batch_requests: int = 400
    http_connections: int = 8
    http_stream_events: int = 100_000
    http_requests: int = 50_000
    http_single_connections: int = 64


SMOKE = Sizes(
    events=5_000,
    repeat=1,
    latency_events=200,
    rss_events=5_000,
    codec_events=2_000,
    thread_events=1_600,
    async_events=5_000,
    tasks=200,
    outage_s=5.0,
    http_batch_requests=20,
    http_stream_events=5_000,
    http_requests=2_000,
)


@dataclass(frozen=True, kw_only=True)
class Options:
    sizes: Sizes
    variants: tuple[str, ...]
    contenders: tuple[str, ...]
    baseline: Path | None = None
    profile: Path | None = None
    keep_topics: bool = False
    broker_control: Path | None = None
    """A stack dir (scripts/stack) the bench may stop and start Kafka in."""


class Context:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.sizes = options.sizes
        self.bootstrap, self.registry = stack_env()
        self.run_id = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.broker = Broker(self.bootstrap, self.registry, self.run_id)
        self.tmp = Path(tempfile.mkdtemp(prefix="streamlake-bench-"))
        self._files: dict[tuple[str, int], Path] = {}

    def spec(self, variant: str, topic: str, n: int, **extra: Any) -> Spec:
        return {
            "variant": variant,
            "topic": topic,
            "events": n,
            "bootstrap": self.bootstrap,
            "registry": self.registry,
            **extra,
        }

    def jsonl(self, variant: str, n: int) -> Path:
        """`n` events of `variant` as a JSON-lines file, written once per run."""
        path = self._files.get((variant, n))
        if path is None:
            path = self.tmp / f"{variant}-{n}.jsonl"
            size = write_jsonl(path, variant, n)
            log(f"{variant}: {n:,} events, {size / n:.0f} bytes/line JSON in {path.name}")
            self._files[variant, n] = path
        return path

    def streamlake_cli(self) -> list[str]:
        exe = Path(sys.executable).parent / "streamlake"
        if exe.exists():
            return [str(exe)]
        return [sys.executable, "-c", "from streamlake.cli import main; main()"]

    def close(self) -> None:
        self.broker.cleanup(keep_topics=self.options.keep_topics)
        shutil.rmtree(self.tmp, ignore_errors=True)


def log(message: str) -> None:
    """Progress on stderr; the report goes to stdout."""
    print(message, file=sys.stderr, flush=True)
